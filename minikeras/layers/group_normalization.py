"""GroupNormalization: normalize each sample over groups of channels, as Keras 3's.

The channels (`axis`) are split into `groups` groups of C/G channels; each sample's group is
normalized over its channels and every other non-batch axis (n entries), then scaled and
shifted per channel:

    x̂ = (x − mean)/σ,  σ = √(variance + ε)    mean, (biased) variance over the group
    y = γ_c·x̂ + β_c

groups=1 is layer normalization over every axis; groups=-1 (one channel per group) instance
normalization. Backward, per group (means over its n entries), with g = γ·dy:

    dx = (g − mean(g) − x̂·mean(g·x̂))/σ
    dγ_c = Σ dy·x̂,  dβ_c = Σ dy      over the batch and every axis but the channels'
"""

import numpy as np

from minikeras import constraints, initializers, regularizers
from minikeras.layers.layer import Layer


class GroupNormalization(Layer):
    """Group normalization: statistics per sample and per group of `axis` channels.

    >>> import numpy as np
    >>> from minikeras.layers import GroupNormalization
    >>> y = GroupNormalization(groups=2)(np.array([[1.0, 3.0, 0.0, 4.0]]))
    >>> np.round(y.astype(float), 3).tolist()   # ±1/√(1 + 0.001), ±2/√(4 + 0.001)
    [[-1.0, 1.0, -1.0, 1.0]]
    """

    supports_masking = True  # a mask passes through, as Keras's

    def __init__(
        self,
        groups=32,
        axis=-1,
        epsilon=1e-3,
        center=True,
        scale=True,
        beta_initializer="zeros",
        gamma_initializer="ones",
        beta_regularizer=None,
        gamma_regularizer=None,
        beta_constraint=None,
        gamma_constraint=None,
        **kwargs,
    ):
        if not isinstance(groups, int) or (groups <= 0 and groups != -1):
            raise ValueError(
                "Received an invalid value for argument `groups`, expected a positive integer "
                f"(or `-1` for instance normalization). Received: groups={groups}"
            )
        super().__init__(**kwargs)
        self.groups = groups
        self.axis = axis
        self.epsilon = epsilon
        self.center = center
        self.scale = scale
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)
        self.beta_regularizer = regularizers.get(beta_regularizer)
        self.gamma_regularizer = regularizers.get(gamma_regularizer)
        self.beta_constraint = constraints.get(beta_constraint)
        self.gamma_constraint = constraints.get(gamma_constraint)
        self.gamma = self.beta = None
        if self._input_shape_arg is not None:
            self.build((None,) + self._input_shape_arg)

    def fixed_axes(self):
        """The channel axis, as Keras's InputSpec(axes={axis: ...})."""
        return (self.axis,)

    def build(self, input_shape):
        dim = input_shape[self.axis]
        if dim is None:
            raise ValueError(
                f"Axis {self.axis} of input tensor should have a defined dimension but the "
                f"layer received an input with shape {tuple(input_shape)}."
            )
        if self.groups == -1:  # Keras keeps the resolved count (its config says so after)
            self.groups = dim
        if dim < self.groups:
            raise ValueError(
                f"Number of groups ({self.groups}) cannot be more than the number of channels "
                f"({dim})."
            )
        if dim % self.groups != 0:
            raise ValueError(
                f"Number of groups ({self.groups}) must be a multiple of the number of "
                f"channels ({dim})."  # (sic: Keras's words)
            )
        if self.scale:
            self.gamma = self.add_weight(
                (dim,),
                self.gamma_initializer,
                name="gamma",
                regularizer=self.gamma_regularizer,
                constraint=self.gamma_constraint,
            )
        if self.center:
            self.beta = self.add_weight(
                (dim,),
                self.beta_initializer,
                name="beta",
                regularizer=self.beta_regularizer,
                constraint=self.beta_constraint,
            )
        super().build(input_shape)

    def compute_output_shape(self, input_shape):
        if not -len(input_shape) <= self.axis < len(input_shape):
            raise ValueError(
                f"Axis {self.axis} is out of bounds for input shape {tuple(input_shape)}. "
                f"Received: axis={self.axis}"
            )
        return tuple(input_shape)

    def _grouped(self, a):
        """a as (batch, n_other, groups, C/G): the channels moved last and split in groups."""
        moved = np.moveaxis(a, self.axis, -1)
        self.moved_shape = moved.shape
        channels = moved.shape[-1]
        return np.ascontiguousarray(moved).reshape(
            moved.shape[0], -1, self.groups, channels // self.groups
        )

    def _ungrouped(self, a):
        return np.ascontiguousarray(np.moveaxis(a.reshape(self.moved_shape), -1, self.axis))

    def call(self, x, training=False):
        """x̂ = (x − mean)/σ per (sample, group);  y = γ·x̂ + β per channel."""
        grouped = self._grouped(x)
        dtype = grouped.dtype.type
        mean = grouped.mean(axis=(1, 3), keepdims=True)  # (batch, 1, groups, 1)
        variance = np.square(grouped - mean).mean(axis=(1, 3), keepdims=True)
        self.inv_std = 1 / np.sqrt(variance + dtype(self.epsilon))
        self.xhat = (grouped - mean) * self.inv_std
        # Keras's order: inv = rsqrt(variance + ε)·γ;  y = x·inv + (β − mean·inv)
        inv = self.inv_std if self.gamma is None else self.inv_std * self._per_channel(self.gamma)
        shift = -mean * inv
        if self.beta is not None:
            shift = shift + self._per_channel(self.beta)
        return self._ungrouped(grouped * inv + shift)

    def _per_channel(self, weight):
        """A (C,) weight shaped (1, 1, groups, C/G), to broadcast against the grouped input."""
        return np.asarray(weight).reshape(1, 1, self.groups, -1)

    def backward(self, dy):
        """dx = (g − mean(g) − x̂·mean(g·x̂))/σ per group, g = γ·dy; dγ = Σ dy·x̂; dβ = Σ dy."""
        dy = self._grouped(dy)
        g = dy if self.gamma is None else dy * self._per_channel(self.gamma)
        dx = self.inv_std * (
            g
            - g.mean(axis=(1, 3), keepdims=True)
            - self.xhat * np.mean(g * self.xhat, axis=(1, 3), keepdims=True)
        )
        grads = []
        if self.gamma is not None:
            grads.append(np.sum(dy * self.xhat, axis=(0, 1)).reshape(self.gamma.shape))
        if self.beta is not None:
            grads.append(np.sum(dy, axis=(0, 1)).reshape(self.beta.shape))
        self.grads = grads if self.trainable else []
        return self._ungrouped(dx) if self.input_gradient_needed else None

    def get_config(self):
        return {
            **super().get_config(),
            "groups": self.groups,
            "axis": self.axis,
            "epsilon": self.epsilon,
            "center": self.center,
            "scale": self.scale,
            "beta_initializer": initializers.serialize(self.beta_initializer),
            "gamma_initializer": initializers.serialize(self.gamma_initializer),
            "beta_regularizer": regularizers.serialize(self.beta_regularizer),
            "gamma_regularizer": regularizers.serialize(self.gamma_regularizer),
            "beta_constraint": constraints.serialize(self.beta_constraint),
            "gamma_constraint": constraints.serialize(self.gamma_constraint),
        }
