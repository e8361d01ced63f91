"""RMSNormalization: divide by the root mean square along `axis`, then scale, as Keras 3's.

    r = 1/√(mean(x²) + ε)   over the axes (n entries);   y = x·r·scale

(no centring, unlike LayerNormalization). Backward, with g = dy·scale:

    dx = g·r − x·r³·mean(g·x)
    dscale = Σ dy·x·r      over every axis scale broadcasts along
"""

import numpy as np

from minikeras.layers.layer import Layer


class RMSNormalization(Layer):
    """Root-mean-square normalization with a learned `scale` (ones at first).

    >>> import numpy as np
    >>> from minikeras.layers import RMSNormalization
    >>> y = RMSNormalization()(np.array([[3.0, 4.0]]))   # rms = √12.5
    >>> np.round(y.astype(float), 4).tolist()
    [[0.8485, 1.1314]]
    """

    def __init__(self, axis=-1, epsilon=1e-6, **kwargs):
        super().__init__(**kwargs)
        self.axis = axis
        self.epsilon = epsilon
        self.scale = None

    def fixed_axes(self):
        """The normalized axes, which the scale spans."""
        return tuple(self.axis) if isinstance(self.axis, (list, tuple)) else (self.axis,)

    def build(self, input_shape):
        # Keras keeps the axes sorted, as a list, once built (its config says so after)
        if isinstance(self.axis, (list, tuple)):
            self.axis = sorted(self.axis)
            shape = tuple(input_shape[a] for a in self.axis)
        else:
            shape = (input_shape[self.axis],)
            self.axis = [self.axis]
        self.scale = self.add_weight(shape, "ones", name="scale")
        super().build(input_shape)

    def check_input_shape(self, shape):
        """No check, as Keras's layer sets no InputSpec: built for (2, 2, 2), it normalizes a
        (1000, 2, 2, 2) input along its last axis too."""

    def compute_output_shape(self, input_shape):
        for axis in self.axis if isinstance(self.axis, list) else [self.axis]:
            if axis >= len(input_shape) or axis < -len(input_shape):
                raise ValueError(
                    f"Axis {axis} is out of bounds for input shape {tuple(input_shape)}. "
                    f"Received: axis={self.axis}"
                )
        return tuple(input_shape)

    def call(self, x, training=False):
        """r = 1/√(mean(x²) + ε);  y = x·r·scale (scale broadcast from the right, as Keras)"""
        axes = tuple(self.axis)
        dtype = x.dtype.type
        self.x = x
        self.r = 1 / np.sqrt(np.mean(np.square(x), axis=axes, keepdims=True) + dtype(self.epsilon))
        return x * self.r * self.scale.value

    def backward(self, dy):
        """g = dy·scale;  dx = g·r − x·r³·mean(g·x);  dscale = Σ dy·x·r"""
        axes = tuple(self.axis)
        g = dy * self.scale.value
        dx = g * self.r - self.x * self.r**3 * np.mean(g * self.x, axis=axes, keepdims=True)
        self.grads = (
            [_sum_to_shape(dy * self.x * self.r, self.scale.shape)] if self.trainable else []
        )
        return dx if self.input_gradient_needed else None

    def get_config(self):
        return {**super().get_config(), "axis": self.axis, "epsilon": self.epsilon}


def _sum_to_shape(g, shape):
    """Σ g over the leading axes that `shape` (aligned to g's last axes) does not have."""
    return g.sum(axis=tuple(range(g.ndim - len(shape)))).reshape(shape)
