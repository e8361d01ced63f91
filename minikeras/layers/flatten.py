"""Flatten: (batch, d1, d2, ...) → (batch, d1·d2·...)."""

import math

import numpy as np

from minikeras.layers.layer import Layer
from minikeras.layers.reshaping import standardize_data_format


class Flatten(Layer):
    """Reshape each sample to one axis; the batch axis stays.

    >>> import numpy as np
    >>> from minikeras.layers import Flatten
    >>> Flatten()(np.zeros((2, 3, 4))).shape
    (2, 12)
    """

    keeps_integer_inputs = True  # values only moved about: uint8 stays uint8, as in Keras

    def __init__(self, data_format=None, **kwargs):
        data_format = standardize_data_format(data_format)
        super().__init__(**kwargs)
        self.data_format = data_format
        if self._input_shape_arg is not None:
            self.build((None,) + self._input_shape_arg)

    def compute_output_shape(self, input_shape):
        rest = input_shape[1:]
        size = None if any(d is None for d in rest) else math.prod(rest)
        return (input_shape[0], size)

    def check_input_shape(self, shape):
        """Any input of rank 1 or more, whatever its sizes: Keras's Flatten checks only
        `InputSpec(min_ndim=1)`, so a model without an Input flattens batches of (5, 7) and
        then (7, 5)."""
        if len(shape) < 1:
            raise ValueError(
                f'Input 0 of layer "{self.name}" is incompatible with the layer: expected '
                f"min_ndim=1, found ndim=0. Full shape received: {tuple(shape)}"
            )

    def call(self, x, training=False):
        self.x_shape = x.shape
        # channels_first: (batch, c, ...) is flattened in the channels-last order, as Keras
        # does, so that weights after it mean the same in either layout
        self.moved = self.data_format == "channels_first" and x.ndim > 2
        if self.moved:
            x = np.moveaxis(x, 1, -1)
            self.moved_shape = x.shape
        return np.reshape(x, (x.shape[0], -1))

    def backward(self, dy):
        """dx = dy reshaped back to the input's shape (channels moved back first)"""
        self.grads = []
        if self.moved:
            return np.ascontiguousarray(np.moveaxis(dy.reshape(self.moved_shape), -1, 1))
        return dy.reshape(self.x_shape)

    def get_config(self):
        # Keras saves the resolved default, "channels_last"
        return {**super().get_config(), "data_format": self.data_format}
