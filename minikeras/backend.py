"""`keras.backend`: the global settings and dtype helpers Keras 3 still exports there (most
live in `minikeras.config` too).

>>> from minikeras import backend
>>> backend.floatx(), backend.epsilon(), backend.standardize_dtype(float)
('float32', 1e-07, 'float32')
"""

from minikeras.config import (
    backend,
    epsilon,
    floatx,
    image_data_format,
    set_epsilon,
    set_floatx,
    set_image_data_format,
)
from minikeras.layers.node import KerasTensor
from minikeras.utils.naming import clear_session, get_uid

# The dtype names Keras accepts (keras/src/backend/common/dtypes.py ALLOWED_DTYPES)
ALLOWED_DTYPES = (
    "float16",
    "float32",
    "float64",
    "uint8",
    "uint16",
    "uint32",
    "uint64",
    "int8",
    "int16",
    "int32",
    "int64",
    "bfloat16",
    "bool",
    "string",
    "float8_e4m3fn",
    "float8_e5m2",
    "complex64",
    "complex128",
)
# Python's types as Keras names them on its TensorFlow backend (int is int64 there)
PYTHON_DTYPES = {bool: "bool", int: "int64", "int": "int64", float: "float32", str: "string"}
PYTHON_DTYPES[complex] = "complex128"


def standardize_dtype(dtype) -> str:
    """A dtype's Keras name: None is `floatx()`, Python's `float` is 'float32', a NumPy dtype
    or type its name; ValueError for a name Keras does not know."""
    if dtype is None:
        return floatx()
    dtype = PYTHON_DTYPES.get(dtype, dtype)
    if hasattr(dtype, "name"):  # np.dtype("float32")
        dtype = dtype.name
    elif hasattr(dtype, "__name__"):  # np.float32
        dtype = dtype.__name__
    if dtype not in ALLOWED_DTYPES:
        raise ValueError(f"Invalid dtype: {dtype}")
    return dtype


def is_float_dtype(dtype) -> bool:
    dtype = standardize_dtype(dtype)
    return dtype.startswith("float") or dtype.startswith("bfloat")


def is_int_dtype(dtype) -> bool:
    dtype = standardize_dtype(dtype)
    return dtype.startswith("int") or dtype.startswith("uint")


def is_keras_tensor(x) -> bool:
    """Whether `x` is a symbolic tensor of a functional model (`Input(...)` or a layer's output
    on one), not an array of numbers."""
    return isinstance(x, KerasTensor)


__all__ = [
    "backend",
    "clear_session",
    "epsilon",
    "floatx",
    "get_uid",
    "image_data_format",
    "is_float_dtype",
    "is_int_dtype",
    "is_keras_tensor",
    "set_epsilon",
    "set_floatx",
    "set_image_data_format",
    "standardize_dtype",
]
