"""Rescaling: y = x·scale + offset (e.g. pixel values from [0, 255] to [0, 1])."""

import numpy as np

from minikeras.layers.layer import Layer


class Rescaling(Layer):
    """y = x·scale + offset; scale and offset are numbers or lists broadcast on the last axes.

    >>> import numpy as np
    >>> from minikeras.layers import Rescaling
    >>> Rescaling(1 / 127.5, offset=-1)(np.array([[0.0, 255.0]])).tolist()
    [[-1.0, 1.0]]
    """

    def __init__(self, scale, offset=0.0, **kwargs):
        super().__init__(**kwargs)
        self.scale = scale
        self.offset = offset
        if self._input_shape_arg is not None:
            self.build((None,) + self._input_shape_arg)

    def call(self, x, training=False):
        scale = np.asarray(self.scale, dtype=x.dtype)
        return x * scale + np.asarray(self.offset, dtype=x.dtype)

    def backward(self, dy):
        """dx = dy·scale"""
        self.grads = []
        return dy * np.asarray(self.scale, dtype=dy.dtype)

    def get_config(self):
        return {**super().get_config(), "scale": self.scale, "offset": self.offset}
