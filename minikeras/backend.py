"""Keras's `keras.backend`: the global settings and the dtype helpers, for minikeras's one backend.

`backend()` returns "numpy": every tensor minikeras hands out is a NumPy array (a `Variable` is
an ndarray too), and code written for Keras asks this name to know which array type to expect
(Keras's own tests do: "numpy" is Keras's NumPy backend, whose tensors are ndarrays too).
Unlike Keras's NumPy backend, minikeras trains: gradients are written by hand beside each
layer, or recorded by `minikeras.GradientTape`.

>>> from minikeras import backend
>>> backend.backend(), backend.floatx(), backend.standardize_dtype(int)
('numpy', 'float32', 'int32')
>>> backend.result_type("int32", "float16")
'float16'
"""

import contextlib
import weakref

import numpy as np

from minikeras import config
from minikeras.autodiff import Variable
from minikeras.layers.conv_transpose import (
    compute_conv_transpose_output_shape,
    compute_conv_transpose_padding_args_for_jax,
)
from minikeras.layers.name_scope import current_path, name_scope
from minikeras.layers.node import KerasTensor
from minikeras.ops import (
    convert_to_numpy,
    convert_to_tensor,
    image,  # noqa: F401 (Keras's `backend.image`: the image ops)
    is_tensor,
    shape,
)
from minikeras.ops import dtypes as _dtypes
from minikeras.ops.symbolic import has_symbolic, output_spec
from minikeras.utils.naming import clear_session as _clear_names
from minikeras.utils.naming import get_uid

backend = config.backend
floatx = config.floatx
set_floatx = config.set_floatx
epsilon = config.epsilon
set_epsilon = config.set_epsilon
image_data_format = config.image_data_format
set_image_data_format = config.set_image_data_format
enable_flash_attention = config.enable_flash_attention
disable_flash_attention = config.disable_flash_attention
is_flash_attention_enabled = config.is_flash_attention_enabled

# The dtype names Keras knows (keras/src/backend/common/dtypes.py): a name outside them is a
# ValueError, as in Keras, whatever NumPy would make of it.
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
# Keras's groups of those names (its tests build their dtype lists from them)
BOOL_TYPES = ("bool",)
INT_TYPES = ("uint8", "uint16", "uint32", "uint64", "int8", "int16", "int32", "int64")
FLOAT_TYPES = ("bfloat16", "float16", "float32", "float64")
WEAK_TYPES = ("int", "float")
COMPLEX_TYPES = ("complex64", "complex128")
FLOAT8_TYPES = ("float8_e4m3fn", "float8_e5m2")
# Python's types, as Keras's NumPy backend maps them (its TensorFlow backend says int64 for int)
_PYTHON_DTYPES = {bool: "bool", int: "int32", float: "float32", str: "string", "int": "int32"}

SUPPORTS_SPARSE_TENSORS = False
SUPPORTS_RAGGED_TENSORS = False


def clear_session(free_memory=True):
    """Forget every layer name handed out (the next Dense is 'dense' again), as Keras's
    `clear_session`; `free_memory` runs Python's garbage collector, as Keras's does."""
    _clear_names()
    if free_memory:
        import gc

        gc.collect()


def standardize_dtype(dtype):
    """The dtype's Keras name ("float32") from a name, a NumPy dtype or type, or a Python type;
    None is `floatx()`. ValueError "Invalid dtype: ..." for anything else, as Keras."""
    if dtype is None:
        return config.floatx()
    if isinstance(dtype, str) or dtype in _PYTHON_DTYPES:
        name = _PYTHON_DTYPES.get(dtype, dtype)
    else:
        name = getattr(dtype, "name", None) or getattr(dtype, "__name__", None)
        if name is None:
            try:
                name = _dtypes.dtype_name(dtype)
            except TypeError:
                name = str(dtype)
        name = {"str_": "string", "bool_": "bool"}.get(name, name)
    if name not in ALLOWED_DTYPES:
        raise ValueError(f"Invalid dtype: {name}")
    config.learn_ml_dtypes(name)  # (NumPy's name for it from here on)
    return name


def is_float_dtype(dtype):
    dtype = standardize_dtype(dtype)
    return dtype.startswith("float") or dtype.startswith("bfloat")


def is_int_dtype(dtype):
    dtype = standardize_dtype(dtype)
    return dtype.startswith("int") or dtype.startswith("uint")


def result_type(*dtypes):
    """The dtype Keras gives an op on operands of these dtypes (JAX's promotion lattice, not
    NumPy's: int32 with float32 is float32). Python types are weak (`float` takes the others')."""
    return _dtypes.result_type(*(_dtypes_node(d) for d in dtypes))


def _dtypes_node(dtype):
    if dtype in (int, float, bool) or not isinstance(dtype, str):
        return dtype
    return np.dtype(standardize_dtype(dtype))


def standardize_shape(shape):
    """A tuple of ints and Nones, as Keras checks a shape: ValueError for a negative, float or
    string dimension, or for something that is not a sequence."""
    if shape is None:
        raise ValueError("Undefined shapes are not supported.")
    if not hasattr(shape, "__iter__"):
        raise ValueError(f"Cannot convert '{shape}' to a shape.")
    result = []
    for d in shape:
        if d is None:
            result.append(None)
            continue
        if isinstance(d, (str, float)):
            raise ValueError(
                f"Cannot convert '{shape}' to a shape. "
                f"Found invalid dimension '{d}' of type '{type(d)}'. "
            )
        d = int(d)
        if d < 0:
            raise ValueError(
                f"Cannot convert '{shape}' to a shape. Negative dimensions are not allowed."
            )
        result.append(d)
    return tuple(result)


def compute_output_spec(fn, *args, **kwargs):
    """What `fn` returns for the KerasTensors among its arguments, as KerasTensors: ops and
    layers called on KerasTensors compute nothing and return KerasTensors, so `fn` is simply
    called; a function that computes with NumPy itself is run on stand-in arrays instead
    (unknown axes 83, then 89, as Keras's NumPy backend runs it: ops/symbolic.py).

    >>> from minikeras import layers
    >>> compute_output_spec(layers.Reshape((-1, 8)), KerasTensor((None, 6, 4))).shape
    (None, 3, 8)
    """
    try:
        return fn(*args, **kwargs)
    except (TypeError, ValueError):
        if not has_symbolic((args, kwargs)):
            raise
    tensors = [x for x in (*args, *kwargs.values()) if isinstance(x, KerasTensor)]

    def run(arrays):
        given = iter(arrays)

        def fill(x):
            return next(given) if isinstance(x, KerasTensor) else x

        return fn(*map(fill, args), **{k: fill(v) for k, v in kwargs.items()})

    specs, several = output_spec(run, tensors)
    outputs = [KerasTensor(shape, dtype=dtype) for shape, dtype in specs]
    return several(outputs) if several else outputs[0]


def is_keras_tensor(x):
    """Whether `x` is a symbolic tensor (`Input(shape=...)` and what layers make of it)."""
    return isinstance(x, KerasTensor)


# masks of arrays that cannot hold an attribute (plain ndarrays), by id, each entry dropped when
# its array is garbage-collected (Keras keeps such a table for tensors without attributes too)
_MASKS_BY_ID = {}


def get_keras_mask(x):
    """The mask attached to `x` (a KerasTensor's or Tensor's `_keras_mask`, or an array's entry
    in the table `set_keras_mask` keeps), or None."""
    mask = getattr(x, "_keras_mask", None)
    if mask is None and isinstance(x, np.ndarray):
        mask = _MASKS_BY_ID.get(id(x))
    return mask


def set_keras_mask(x, mask):
    """Attach `mask` to `x` (None removes it). A plain NumPy array cannot hold an attribute: its
    mask is kept in a table by the array's id, for as long as the array lives."""
    if isinstance(x, np.ndarray) and not isinstance(x, Variable):
        key = id(x)
        if mask is None:
            _MASKS_BY_ID.pop(key, None)
            return
        if key not in _MASKS_BY_ID:
            weakref.finalize(x, _MASKS_BY_ID.pop, key, None)
        _MASKS_BY_ID[key] = mask
        return
    x._keras_mask = mask


__all__ = [
    "ALLOWED_DTYPES",
    "KerasTensor",
    "SUPPORTS_RAGGED_TENSORS",
    "SUPPORTS_SPARSE_TENSORS",
    "Variable",
    "backend",
    "clear_session",
    "compute_output_spec",
    "compute_conv_transpose_output_shape",
    "compute_conv_transpose_padding_args_for_jax",
    "convert_to_numpy",
    "current_path",
    "convert_to_tensor",
    "disable_flash_attention",
    "enable_flash_attention",
    "epsilon",
    "is_flash_attention_enabled",
    "floatx",
    "get_keras_mask",
    "get_uid",
    "image_data_format",
    "is_float_dtype",
    "is_int_dtype",
    "is_keras_tensor",
    "name_scope",
    "is_tensor",
    "result_type",
    "set_epsilon",
    "set_floatx",
    "set_image_data_format",
    "set_keras_mask",
    "shape",
    "random_seed_dtype",
    "standardize_data_format",
    "standardize_dtype",
    "standardize_shape",
    "in_symbolic_scope",
]


def random_seed_dtype():
    """The dtype of a seed (`SeedGenerator.state`, `draw_seed`): int64, TensorFlow's, whose
    seeds minikeras keeps so that its draws follow the same integers."""
    from minikeras.random.seed_generator import SEED_DTYPE  # (random imports this module)

    return SEED_DTYPE


def standardize_data_format(data_format):
    """ "channels_last" or "channels_first": `data_format` lowercased, or the global
    `image_data_format()` for None; a ValueError for anything else."""
    from minikeras.layers.reshaping import standardize_data_format as standardize

    return standardize(data_format)


def in_symbolic_scope():
    """Keras's test of whether a step is being traced on symbolic tensors: minikeras runs each
    step on arrays, never traced, so never."""
    return False


@contextlib.contextmanager
def device(device_name):
    """Keras's `keras.device(name)` scope: minikeras computes on the CPU only, so any name
    runs there (Keras's NumPy backend does the same)."""
    yield


def __getattr__(name):
    """`NumpyTrainer`, the trainer of minikeras's one backend, as Keras names each backend's
    (`keras.src.backend.numpy.trainer.NumpyTrainer`), `random` and `numpy` (the ops of
    `minikeras.ops.numpy`, as Keras's `backend.numpy.zeros`): each imported on demand, since
    each imports this module itself."""
    if name == "NumpyTrainer":
        from minikeras.trainers.trainer import Trainer

        return Trainer
    if name == "random":
        from minikeras import random

        return random
    if name == "numpy":  # Keras's `backend.numpy`: the backend's NumPy-like ops (zeros, ...)
        from minikeras.ops import numpy

        return numpy
    raise AttributeError(f"module 'minikeras.backend' has no attribute '{name}'")
