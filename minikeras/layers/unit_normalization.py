"""UnitNormalization: scale each sample to unit L2 norm along `axis`, as Keras 3's.

    s = Σ x² over the axes;   r = min(1/√s, 1/ε), ε = 1e-12;   y = x·r

Backward (where 1/√s is below the cap; where capped, y = x/ε and dx = dy/ε):

    dx = r·dy − x·r³·Σ(dy·x)      = r·(dy − y·Σ(dy·y))
"""

import numpy as np

from minikeras.layers.layer import Layer

EPSILON = 1e-12  # Keras's ops.normalize epsilon for this layer


class UnitNormalization(Layer):
    """Divide each sample by its L2 norm along `axis` (an int or a list of ints).

    >>> import numpy as np
    >>> from minikeras.layers import UnitNormalization
    >>> UnitNormalization()(np.array([[3.0, 4.0]])).tolist()
    [[0.6000000238418579, 0.800000011920929]]
    """

    has_build_config = False  # no weights: Keras builds it at once and saves no build_config
    builds_at_init = True
    supports_masking = True

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        if isinstance(axis, (list, tuple)):
            self.axis = list(axis)
        elif isinstance(axis, int):
            self.axis = axis
        else:
            raise TypeError(
                "Invalid value for `axis` argument: expected an int or a list/tuple of ints. "
                f"Received: axis={axis}"
            )

    def _axes(self):
        return tuple(self.axis) if isinstance(self.axis, list) else self.axis

    def compute_output_shape(self, input_shape):
        for axis in self.axis if isinstance(self.axis, list) else [self.axis]:
            if axis >= len(input_shape) or axis < -len(input_shape):
                raise ValueError(
                    f"Axis {self.axis} is out of bounds for input shape {tuple(input_shape)}."
                )
        return tuple(input_shape)

    def call(self, x, training=False):
        """y = x·min(1/√Σx², 1/ε)"""
        dtype = x.dtype.type
        square_sum = np.sum(np.square(x), axis=self._axes(), keepdims=True)
        with np.errstate(divide="ignore"):  # an all-zero row: 1/0 = inf, then the cap
            inverse = 1 / np.sqrt(square_sum)
        self.capped = inverse >= dtype(1 / EPSILON)
        self.r = np.minimum(inverse, dtype(1 / EPSILON))
        self.y = x * self.r
        return self.y

    def backward(self, dy):
        """dx = r·(dy − y·Σ(dy·y)); dy/ε where the cap applies"""
        self.grads = []
        along = np.sum(dy * self.y, axis=self._axes(), keepdims=True)
        dx = self.r * np.where(self.capped, dy, dy - self.y * along)
        return dx

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}
