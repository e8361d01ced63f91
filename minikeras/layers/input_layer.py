"""Input and InputLayer: declare the shape of the data a model receives."""

import numpy as np

from minikeras.layers.layer import Layer, accept_keras_options, dtype_from_config
from minikeras.layers.node import KerasTensor, Node


class InputLayer(Layer):
    """The entry of a model: it holds the input shape and passes data through unchanged."""

    def __init__(
        self,
        shape=None,
        batch_size=None,
        dtype=None,
        sparse=None,
        batch_shape=None,
        name=None,
        input_tensor=None,
        **kwargs,
    ):
        # Keras 2 spelling, still found in saved configs
        batch_shape = batch_shape or kwargs.pop("batch_input_shape", None)
        kwargs.pop("input_shape", None)
        super().__init__(dtype=dtype, name=name, **kwargs)
        if shape is None and batch_shape is None:
            raise ValueError("You must pass a `shape` argument.")
        if batch_shape is None:
            shape = (shape,) if isinstance(shape, (int, np.integer)) else tuple(shape)
            batch_shape = (batch_size,) + shape
        self.batch_shape = tuple(batch_shape)
        self.sparse = bool(sparse)
        # the tensor Input() returns (`self.output`), made by node 0 of this layer, which has no
        # inputs
        Node(self, inputs=[], outputs=[KerasTensor(self.batch_shape, self.dtype, self.name)])
        self.build(self.batch_shape)

    def call(self, x, training=False):
        return x

    def backward(self, dy):
        self.grads = []
        return dy

    has_build_config = False  # Keras saves none for an InputLayer

    def get_config(self):
        # Keras 3.15's keys; the dtype is a plain name here, not a DTypePolicy
        return {
            "batch_shape": tuple(self.batch_shape),
            "dtype": self.dtype,
            "sparse": self.sparse,
            "ragged": False,
            "name": self.name,
            "optional": False,
        }

    @classmethod
    def from_config(cls, config_):
        config_ = accept_keras_options(cls, config_)
        if "dtype" in config_:
            config_["dtype"] = dtype_from_config(config_["dtype"])
        return cls(**config_)


def Input(
    shape=None, batch_size=None, dtype=None, sparse=None, batch_shape=None, name=None, tensor=None
):
    """A symbolic input of `shape` (without the batch axis): the first thing a model is given.

    >>> from minikeras.layers import Input
    >>> Input(shape=(784,)).shape
    (None, 784)
    """
    layer = InputLayer(
        shape=shape,
        batch_size=batch_size,
        dtype=dtype,
        sparse=sparse,
        batch_shape=batch_shape,
        name=name,
        input_tensor=tensor,
    )
    return layer.output
