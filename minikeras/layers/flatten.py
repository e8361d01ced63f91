"""Flatten: (batch, d1, d2, ...) → (batch, d1·d2·...)."""

import math

from minikeras.layers.layer import Layer


class Flatten(Layer):
    """Reshape each sample to one axis; the batch axis stays.

    >>> import numpy as np
    >>> from minikeras.layers import Flatten
    >>> Flatten()(np.zeros((2, 3, 4))).shape
    (2, 12)
    """

    def __init__(self, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = data_format
        if self._input_shape_arg is not None:
            self.build((None,) + self._input_shape_arg)

    def compute_output_shape(self, input_shape):
        rest = input_shape[1:]
        size = None if any(d is None for d in rest) else math.prod(rest)
        return (input_shape[0], size)

    def call(self, x, training=False):
        self.x_shape = x.shape
        return x.reshape(x.shape[0], -1)

    def backward(self, dy):
        """dx = dy reshaped back to the input's shape"""
        self.grads = []
        return dy.reshape(self.x_shape)

    def get_config(self):
        # Keras saves the resolved default, "channels_last"
        return {**super().get_config(), "data_format": self.data_format or "channels_last"}
