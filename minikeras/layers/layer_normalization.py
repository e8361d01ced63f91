"""LayerNormalization: normalize each sample over its own features (the `axis` entries)."""

import math
import warnings

import numpy as np

from minikeras import constraints, initializers, regularizers
from minikeras.layers.layer import Layer


class LayerNormalization(Layer):
    """y = γ·(x − mean)/√(variance + ε) + β, mean and (biased) variance over `axis` of each
    sample; γ and β have the shape of those axes. Training and inference compute the same.

    `rms_scaling=True` (deprecated in Keras 3.15, which warns) is Keras's y = γ·x/√(variance + ε),
    without β: it divides by the variance's root, not the root mean square.

    >>> import numpy as np
    >>> from minikeras.layers import LayerNormalization
    >>> y = LayerNormalization()(np.array([[1.0, 3.0]]))
    >>> np.round(y.astype(float), 4).tolist()   # ±1/√(1 + 0.001)
    [[-0.9995, 0.9995]]
    """

    supports_masking = True

    def __init__(
        self,
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
        rms_scaling = kwargs.pop("rms_scaling", False)
        if rms_scaling:
            warnings.warn(
                "You passed `rms_scaling=True`, which is deprecated. This argument incorrectly "
                "scales the input by the variance, not the root mean square. To correctly use "
                "RMS Normalization, please use `keras.layers.RMSNormalization` instead.",
                stacklevel=2,
            )
        super().__init__(**kwargs)
        if isinstance(axis, (list, tuple)):
            self.axis = list(axis)
        elif isinstance(axis, int):
            self.axis = axis
        else:
            raise TypeError(
                "Expected an int or a list/tuple of ints for the argument 'axis', but "
                f"received: {axis!r}"
            )
        self.epsilon = epsilon
        self.center = center
        self.scale = scale
        self.rms_scaling = rms_scaling
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)
        self.beta_regularizer = regularizers.get(beta_regularizer)
        self.gamma_regularizer = regularizers.get(gamma_regularizer)
        self.beta_constraint = constraints.get(beta_constraint)
        self.gamma_constraint = constraints.get(gamma_constraint)
        self.input_gradient_needed = True
        if self._input_shape_arg is not None:
            self.build((None,) + self._input_shape_arg)

    @property
    def gamma(self):
        return self.weights[0] if (self.scale or self.rms_scaling) else None

    @property
    def beta(self):
        if self.center and not self.rms_scaling:
            return self.weights[-1]
        return None

    def fixed_axes(self):
        """The normalized axes, which gamma and beta span."""
        return tuple(self.axis) if isinstance(self.axis, (list, tuple)) else (self.axis,)

    def build(self, input_shape):
        self.compute_output_shape(input_shape)
        # Keras stores the axes sorted, as a list, once built (so does the config)
        self.axis = sorted(self.axis) if isinstance(self.axis, list) else [self.axis]
        shape = tuple(input_shape[a] for a in self.axis)
        if self.scale or self.rms_scaling:
            self.add_weight(
                shape,
                self.gamma_initializer,
                name="gamma",
                regularizer=self.gamma_regularizer,
                constraint=self.gamma_constraint,
            )
        if self.center and not self.rms_scaling:
            self.add_weight(
                shape,
                self.beta_initializer,
                name="beta",
                regularizer=self.beta_regularizer,
                constraint=self.beta_constraint,
            )
        super().build(input_shape)

    def compute_output_shape(self, input_shape):
        for axis in self.axis if isinstance(self.axis, list) else [self.axis]:
            if axis >= len(input_shape) or axis < -len(input_shape):
                raise ValueError(
                    f"Axis {axis} is out of bounds for input shape {tuple(input_shape)}. "
                    f"Received: axis={self.axis}"
                )
        return tuple(input_shape)

    def compute_mask(self, inputs, mask=None):
        return mask

    def check_input_shape(self, shape):
        """Only the normalized axes must keep their built sizes: Keras gives this layer no
        InputSpec, so built for (2, 2, 2) it normalizes (1000, 2, 2, 2) too."""
        self.compute_output_shape(shape)  # the axes are in bounds
        for axis in self.axis:
            expected = self.input_shape[axis]
            if expected is not None and shape[axis] != expected:
                raise ValueError(
                    f'Input 0 of layer "{self.name}" is incompatible with the layer: expected '
                    f"axis {axis} of input shape to have value {expected}, but received input "
                    f"with shape {tuple(shape)}"
                )

    def _rows(self, x):
        """x as (rows, features): the normalized axes moved last (in order) and flattened."""
        ndim = x.ndim
        # increasing positions: γ's values fill the normalized axes in that order, as Keras's
        # reshape of γ to the broadcast shape does
        axes = sorted(a % ndim for a in self.axis)
        self.order = [a for a in range(ndim) if a not in axes] + axes
        moved = np.transpose(x, self.order)
        self.moved_shape = moved.shape
        return np.ascontiguousarray(moved).reshape(-1, math.prod(moved.shape[ndim - len(axes) :]))

    def _unrows(self, a):
        return np.ascontiguousarray(
            np.transpose(a.reshape(self.moved_shape), np.argsort(self.order))
        )

    def call(self, x, training=False, mask=None):
        """Per row (one sample's normalized features), n features:
        mean = Σx/n;  variance = Σ(x − mean)²/n;  σ = √(variance + ε)
        x̂ = (x − mean)/σ;   y = γ·x̂ + β        (rms_scaling: y = γ·x/σ)
        """
        rows = self._rows(x)
        dtype = rows.dtype.type
        mean = rows.mean(axis=1, keepdims=True)  # (rows, 1)
        variance = np.square(rows - mean).mean(axis=1, keepdims=True)
        self.inv_std = 1 / np.sqrt(variance + dtype(self.epsilon))  # (rows, 1)
        gamma = None if self.gamma is None else self.gamma.reshape(-1)
        beta = None if self.beta is None else self.beta.reshape(-1)
        self.rows_x = rows
        if self.rms_scaling:
            self.xhat = rows * self.inv_std
            self.centred = rows - mean
            y = self.xhat * gamma
        else:
            self.xhat = (rows - mean) * self.inv_std
            # Keras's order: inv = rsqrt(variance + ε)·γ;  y = x·inv + (β − mean·inv)
            inv = self.inv_std if gamma is None else self.inv_std * gamma
            y = rows * inv + (-mean * inv if beta is None else beta - mean * inv)
        return self._unrows(y)

    def backward(self, dy, mask=None):
        """With g = γ·dy, per row of n features (means over the row):
        dx = (g − mean(g) − x̂·mean(g·x̂))/σ;   dγ = Σ dy·x̂;   dβ = Σ dy   (sums over rows)
        rms_scaling (y = γ·x/σ, σ² = variance + ε):  dx = g/σ − (x − mean)·mean(g·x)/σ³
        """
        dy = self._rows(dy)
        g = dy if self.gamma is None else dy * self.gamma.reshape(-1)
        if self.rms_scaling:
            dx = g * self.inv_std - self.centred * (
                np.mean(g * self.rows_x, axis=1, keepdims=True) * self.inv_std**3
            )
        else:
            dx = self.inv_std * (
                g
                - g.mean(axis=1, keepdims=True)
                - self.xhat * np.mean(g * self.xhat, axis=1, keepdims=True)
            )
        grads = []
        if self.gamma is not None:
            grads.append(np.sum(dy * self.xhat, axis=0).reshape(self.gamma.shape))
        if self.beta is not None:
            grads.append(np.sum(dy, axis=0).reshape(self.beta.shape))
        self.grads = grads if self.trainable else []
        return self._unrows(dx) if self.input_gradient_needed else None

    def get_config(self):
        return {
            **super().get_config(),
            "axis": self.axis,
            "epsilon": self.epsilon,
            "center": self.center,
            "scale": self.scale,
            "rms_scaling": self.rms_scaling,
            "beta_initializer": initializers.serialize(self.beta_initializer),
            "gamma_initializer": initializers.serialize(self.gamma_initializer),
            "beta_regularizer": regularizers.serialize(self.beta_regularizer),
            "gamma_regularizer": regularizers.serialize(self.gamma_regularizer),
            "beta_constraint": constraints.serialize(self.beta_constraint),
            "gamma_constraint": constraints.serialize(self.gamma_constraint),
        }
