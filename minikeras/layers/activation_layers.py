"""Activation layers with arguments of their own: ReLU, LeakyReLU, PReLU, ELU, Softmax.

Each is `y = f(x)` elementwise (Softmax: along an axis) with its derivative in `backward`;
PReLU's slope `alpha` is a trainable weight. Keras keeps them in keras/src/layers/activations/.
"""

import warnings

import numpy as np

from minikeras import constraints, initializers, regularizers
from minikeras.layers.layer import Layer


class _ElementwiseLayer(Layer):
    """A layer without weights that keeps its input's shape (Keras builds these at once)."""

    has_build_config = False  # no weights: Keras builds it at once and saves no build_config
    builds_at_init = True
    supports_masking = True

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        if self._input_shape_arg is not None:
            self.build((None,) + self._input_shape_arg)

    def compute_mask(self, inputs, mask=None):
        return mask

    def check_input_shape(self, shape):
        """Any shape, whatever the first call's: Keras gives these layers no InputSpec."""


class ReLU(_ElementwiseLayer):
    """y = min(x, max_value) where x > threshold, else negative_slope·(x − threshold).

    >>> import numpy as np
    >>> from minikeras.layers import ReLU
    >>> ReLU(max_value=1.0, negative_slope=0.1)(np.array([[-2.0, 0.5, 3.0]])).tolist()
    [[-0.20000000298023224, 0.5, 1.0]]
    """

    def __init__(self, max_value=None, negative_slope=0.0, threshold=0.0, **kwargs):
        super().__init__(**kwargs)
        if max_value is not None and max_value < 0.0:
            raise ValueError(
                "max_value of a ReLU layer cannot be a negative value. "
                f"Received: max_value={max_value}"
            )
        if negative_slope is None or negative_slope < 0.0:
            raise ValueError(
                "negative_slope of a ReLU layer cannot be None or a negative value. "
                f"Received: negative_slope={negative_slope}"
            )
        if threshold is None or threshold < 0.0:
            raise ValueError(
                "threshold of a ReLU layer cannot be None or a negative value. "
                f"Received: threshold={threshold}"
            )
        self.max_value = max_value
        self.negative_slope = negative_slope
        self.threshold = threshold

    def call(self, x, training=False, mask=None):
        """Keras's order (activations.ReLU.static_call): the part above the threshold, clipped
        to max_value, minus negative_slope·max(threshold − x, 0)."""
        dtype = x.dtype.type
        self.x = x
        if self._is_leaky:
            return np.where(x > 0, x, x * dtype(self._slope))
        y = np.where(x > dtype(self.threshold), x, dtype(0))
        if self.max_value is not None:
            y = np.minimum(y, dtype(self.max_value))
        if self.negative_slope != 0:
            y = y - dtype(self.negative_slope) * np.maximum(dtype(self.threshold) - x, dtype(0))
        return y

    @property
    def _is_leaky(self):
        # Keras hands this case to tf.nn.leaky_relu, whose slope is a float32 attribute
        return self.negative_slope != 0 and self.max_value is None and self.threshold == 0

    @property
    def _slope(self):
        return np.float32(self.negative_slope) if self._is_leaky else self.negative_slope

    def backward(self, dy, mask=None):
        """dx = dy·[threshold < x < max_value] + negative_slope·dy·[x < threshold]"""
        self.grads = []
        dtype = self.x.dtype.type
        passes = self.x > dtype(self.threshold)
        if self.max_value is not None:
            passes &= self.x < dtype(self.max_value)
        slope = np.where(passes, dtype(1), dtype(0))
        if self.negative_slope != 0:
            slope = slope + dtype(self._slope) * (self.x < dtype(self.threshold))
        return dy * slope

    def get_config(self):
        return {
            **super().get_config(),
            "max_value": self.max_value,
            "negative_slope": self.negative_slope,
            "threshold": self.threshold,
        }


class LeakyReLU(_ElementwiseLayer):
    """y = x for x ≥ 0, negative_slope·x below (Keras 3's default slope: 0.3).

    >>> import numpy as np
    >>> from minikeras.layers import LeakyReLU
    >>> LeakyReLU(negative_slope=0.5)(np.array([[-2.0, 3.0]])).tolist()
    [[-1.0, 3.0]]
    """

    def __init__(self, negative_slope=0.3, **kwargs):
        if "alpha" in kwargs:  # Keras 2's name, still taken by Keras 3 with a warning
            negative_slope = kwargs.pop("alpha")
            warnings.warn(
                "Argument `alpha` is deprecated. Use `negative_slope` instead.", stacklevel=2
            )
        super().__init__(**kwargs)
        if negative_slope is None or negative_slope < 0:
            raise ValueError(
                "The negative_slope value of a Leaky ReLU layer cannot be None or negative "
                f"value. Expected a float. Received: negative_slope={negative_slope}"
            )
        self.negative_slope = negative_slope

    def call(self, x, training=False, mask=None):
        # Keras calls tf.nn.leaky_relu, whose slope is a float32 attribute: 0.3 is float32(0.3)
        # even in float64 (matched here, so float64 results agree to the last bit)
        self.x = x
        return np.where(x > 0, x, x * x.dtype.type(np.float32(self.negative_slope)))

    def backward(self, dy, mask=None):
        """dx = dy for x > 0, negative_slope·dy otherwise"""
        self.grads = []
        dtype = self.x.dtype.type
        slope = dtype(np.float32(self.negative_slope))
        return dy * np.where(self.x > 0, dtype(1), slope)

    def get_config(self):
        return {**super().get_config(), "negative_slope": self.negative_slope}


class ELU(_ElementwiseLayer):
    """y = x for x > 0, alpha·(eˣ − 1) otherwise.

    >>> import numpy as np
    >>> from minikeras.layers import ELU
    >>> ELU(alpha=2.0)(np.array([[0.0, 3.0]])).tolist()
    [[0.0, 3.0]]
    """

    def __init__(self, alpha=1.0, **kwargs):
        super().__init__(**kwargs)
        self.alpha = alpha

    def call(self, x, training=False, mask=None):
        self.x = x
        negative = x.dtype.type(self.alpha) * np.expm1(np.minimum(x, 0))
        return np.where(x > 0, x, negative)

    def backward(self, dy, mask=None):
        """dx = dy for x > 0, alpha·eˣ·dy otherwise"""
        self.grads = []
        slope = np.where(
            self.x > 0, 1, self.x.dtype.type(self.alpha) * np.exp(np.minimum(self.x, 0))
        )
        return dy * slope.astype(self.x.dtype)

    def get_config(self):
        return {**super().get_config(), "alpha": self.alpha}


class PReLU(Layer):
    """y = x for x > 0, alpha·x otherwise, with a trainable alpha of the input's feature shape
    (axes listed in `shared_axes` share one alpha: size 1 there).

    >>> import numpy as np
    >>> from minikeras.layers import PReLU
    >>> layer = PReLU(alpha_initializer="ones")
    >>> layer(np.array([[-2.0, 3.0]])).tolist(), layer.alpha.shape
    ([[-2.0, 3.0]], (2,))
    """

    supports_masking = True

    def __init__(
        self,
        alpha_initializer="Zeros",
        alpha_regularizer=None,
        alpha_constraint=None,
        shared_axes=None,
        **kwargs,
    ):
        alpha_regularizer = regularizers.get(alpha_regularizer)
        alpha_constraint = constraints.get(alpha_constraint)
        super().__init__(**kwargs)
        self.alpha_initializer = initializers.get(alpha_initializer)
        self.alpha_regularizer, self.alpha_constraint = alpha_regularizer, alpha_constraint
        if shared_axes is None:
            self.shared_axes = None
        elif not isinstance(shared_axes, (list, tuple)):
            self.shared_axes = [shared_axes]
        else:
            self.shared_axes = list(shared_axes)
        self.input_gradient_needed = True
        if self._input_shape_arg is not None:
            self.build((None,) + self._input_shape_arg)

    @property
    def alpha(self):
        return self.weights[0]

    def fixed_axes(self):
        """Every axis alpha spans (all but the batch and the shared ones), as Keras's
        InputSpec(axes=...) for PReLU."""
        ndim = len(self.input_shape)
        shared = {a % ndim for a in self.shared_axes or ()}
        return tuple(a for a in range(1, ndim) if a not in shared)

    def build(self, input_shape):
        shape = list(input_shape[1:])
        for axis in self.shared_axes or ():
            shape[axis - 1] = 1
        self.add_weight(
            tuple(shape),
            self.alpha_initializer,
            name="alpha",
            regularizer=self.alpha_regularizer,
            constraint=self.alpha_constraint,
        )
        super().build(input_shape)

    def compute_mask(self, inputs, mask=None):
        return mask

    def call(self, x, training=False, mask=None):
        """y = relu(x) − alpha·relu(−x)   (alpha broadcast over the batch and shared axes)"""
        self.x = x
        return np.maximum(x, 0) - self.alpha * np.maximum(-x, 0)

    def backward(self, dy, mask=None):
        """dx = dy for x > 0, alpha·dy otherwise;
        dalpha = Σ dy·min(x, 0) over the batch axis and the shared axes (alpha's shape)"""
        summed = (0,) + tuple(self.shared_axes or ())
        dalpha = np.sum(dy * np.minimum(self.x, 0), axis=summed, keepdims=True)[0]
        self.grads = [dalpha.astype(self.dtype)] if self.trainable else []
        if not self.input_gradient_needed:
            return None
        return dy * np.where(self.x > 0, self.x.dtype.type(1), self.alpha)

    def get_config(self):
        return {
            **super().get_config(),
            "alpha_initializer": initializers.serialize(self.alpha_initializer),
            "alpha_regularizer": regularizers.serialize(self.alpha_regularizer),
            "alpha_constraint": constraints.serialize(self.alpha_constraint),
            "shared_axes": self.shared_axes,
        }


class Softmax(_ElementwiseLayer):
    """y = e^x / Σ e^x along `axis` (an int, or a list of axes normalized together).

    Like Keras, a one-axis Softmax remembers its logits: as the model's output layer with a
    categorical crossentropy, `fit` computes the loss from them (`output_activation`, `logits`,
    `backward_logits`), exactly as after Dense(activation="softmax").

    >>> import numpy as np
    >>> from minikeras.layers import Softmax
    >>> Softmax()(np.array([[0.0, 0.0]])).tolist()
    [[0.5, 0.5]]
    """

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        self.axis = axis

    @property
    def _axes(self):
        return tuple(self.axis) if isinstance(self.axis, (list, tuple)) else (self.axis,)

    @property
    def output_activation(self):
        # Keras's activations.softmax sets `_keras_logits` for one axis; its crossentropy then
        # works from those logits along the last axis, whatever `axis` was (checked in Keras)
        return "softmax" if len(self._axes) == 1 else None

    def call(self, x, mask=None, training=False):  # Keras's order: layer(x, mask) passes a mask
        """y = exp(x − max) / Σ exp(x − max) over the axes; masked entries give 0 (Keras
        replaces them by a large negative number before, and by 0 after)."""
        if mask is not None:  # checked before anything is kept
            mask = np.asarray(mask)
            _check_mask_broadcasts(mask.shape, x.shape)
        self.x = x
        if mask is not None:
            keep = mask if mask.dtype == bool else mask > 0.5
            x = np.where(keep, x, x.dtype.type(-1e9))
        shifted = x - np.max(x, axis=self._axes, keepdims=True)
        e = np.exp(shifted)
        y = e / np.sum(e, axis=self._axes, keepdims=True)
        if mask is not None:
            y = np.where(keep, y, x.dtype.type(0))
        self.y = y
        return y

    @property
    def logits(self):
        """The input of the last call (Keras's `_keras_logits`)."""
        return self.x

    def backward(self, dy, mask=None):
        """dx = y ⊙ (dy − Σ dy·y) over the axes (the softmax Jacobian applied to dy); masked
        entries have y = 0, so they get dx = 0 and their dy counts for nothing."""
        self.grads = []
        return self.y * (dy - np.sum(dy * self.y, axis=self._axes, keepdims=True))

    def backward_logits(self, dz):
        """The gradient already at the logits passes straight through."""
        self.grads = []
        return dz

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}


def _check_mask_broadcasts(mask_shape, shape):
    """Keras's Softmax checks: the mask has no more axes than the input, and each of its axes
    (aligned from the last) is 1 or the input's."""
    if len(mask_shape) > len(shape):
        raise ValueError(
            "The `mask` must be broadcastable to `inputs` and must not have more dimensions. "
            f"Received: inputs.shape={shape}, mask.shape={mask_shape}"
        )
    for m, n in zip(mask_shape[::-1], shape[::-1]):
        if m != 1 and m != n:
            raise ValueError(
                "The `mask` must be broadcastable to `inputs`. Each mask dimension must be 1 or "
                f"match the corresponding input dimension. Received: inputs.shape={shape}, "
                f"mask.shape={mask_shape}"
            )
