"""Input and InputLayer: declare the shape of the data a model receives."""

import warnings

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
        ragged=None,
        optional=False,
        **kwargs,
    ):
        # Keras 2 spellings, still found in saved configs
        if "input_shape" in kwargs:
            warnings.warn(
                "Argument `input_shape` is deprecated. Use `shape` instead.", stacklevel=2
            )
            shape = kwargs.pop("input_shape")
        batch_shape = kwargs.pop("batch_input_shape", None) or batch_shape
        is_text = dtype in ("string", str)  # text for the lookup layers: no NumPy dtype name
        super().__init__(dtype=None if is_text else dtype, name=name, **kwargs)
        if is_text:
            self._dtype = "string"
        if input_tensor is not None:
            batch_shape = _check_input_tensor(input_tensor, shape, batch_size, batch_shape, dtype)
            self._dtype = input_tensor.dtype
        else:  # Keras's checks, in its order and words
            if shape is not None and batch_shape is not None:
                raise ValueError("You cannot pass both `shape` and `batch_shape` at the same time.")
            if batch_size is not None and batch_shape is not None:
                raise ValueError(
                    "You cannot pass both `batch_size` and `batch_shape` at the same time."
                )
            if shape is None and batch_shape is None:
                raise ValueError("You must pass a `shape` argument.")
            if batch_shape is None:
                shape = (shape,) if isinstance(shape, (int, np.integer)) else tuple(shape)
                batch_shape = (batch_size,) + shape
        for flag, value in (("sparse", sparse), ("ragged", ragged)):
            if value:  # as Keras's NumPy backend: minikeras's arrays are dense NumPy arrays
                raise ValueError(f"`{flag}=True` is not supported with the numpy backend")
        self.batch_shape = tuple(batch_shape)
        self.sparse = self.ragged = False
        # an optional input may be given None: the layers reading it receive None
        self.optional = bool(optional)
        # the tensor Input() returns (`self.output`), made by node 0 of this layer, which has no
        # inputs
        tensor = input_tensor or KerasTensor(self.batch_shape, self.dtype, name=self.name)
        Node(self, inputs=[], outputs=[tensor])
        self.build(self.batch_shape)

    def fixed_axes(self):
        """Every axis of the declared shape (an axis given as None takes any size), as
        Keras's functional model checks its inputs against their `Input` shapes."""
        return tuple(range(1 - len(self.input_shape), 0))

    def call(self, x=None, training=False):
        return x  # Keras's InputLayer.call() takes nothing and returns None

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
            "ragged": self.ragged,
            "name": self.name,
            "optional": self.optional,
        }

    @classmethod
    def from_config(cls, config_):
        config_ = accept_keras_options(cls, config_)
        if "dtype" in config_:
            config_["dtype"] = _input_dtype_from_config(config_["dtype"])
        return cls(**config_)


def _input_dtype_from_config(value):
    """An Input's dtype in a config: text and integers too (ids for a lookup or an Embedding),
    besides the float types of the layers with weights."""
    name = value.get("config", {}).get("name") if isinstance(value, dict) else value
    if name == "string" or name in INTEGER_DTYPES:
        return name
    return dtype_from_config(value)


INTEGER_DTYPES = ("int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64", "bool")


def _check_input_tensor(tensor, shape, batch_size, batch_shape, dtype):
    """The batch shape an `input_tensor` gives, after Keras's checks that the other
    arguments agree with it."""
    if not isinstance(tensor, KerasTensor):
        raise ValueError(
            "Argument `input_tensor` must be a KerasTensor. "
            f"Received invalid type: input_tensor={tensor} (of type {type(tensor)})"
        )
    conflicts = (
        ("batch_size", batch_size is not None and tensor.shape[:1] != (batch_size,)),
        ("shape", shape is not None and tuple(shape) != tensor.shape[1:]),
        ("batch_shape", batch_shape is not None and tuple(batch_shape) != tensor.shape),
        ("dtype", dtype is not None and tensor.dtype != dtype),
    )
    for argument, conflict in conflicts:
        if conflict:
            raise ValueError(
                "When providing the `input_tensor` argument, you cannot provide an "
                f"incompatible `{argument}` argument."
            )
    return tensor.shape


def Input(
    shape=None,
    batch_size=None,
    dtype=None,
    sparse=None,
    batch_shape=None,
    name=None,
    tensor=None,
    optional=False,
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
        optional=optional,
    )
    return layer.output
