"""Keras's dtype rules for ops: which dtype `int32 + float32` or `float16 * 2.0` gives.

Keras promotes types on JAX's lattice, not NumPy's: int32 + float32 is float32 (NumPy says
float64), and a Python scalar is "weak" — it takes the other operand's type (float16 * 2.0 is
float16), falling back to floatx (float32) or int32 when every operand is a Python scalar.
64-bit types are kept (as on Keras's TensorFlow backend, which minikeras is checked against).

>>> import numpy as np
>>> from minikeras.ops.dtypes import result_type
>>> result_type(np.dtype("int32"), np.dtype("float32")), result_type(np.dtype("float16"), float)
('float32', 'float16')
"""

import functools

import numpy as np

from minikeras import config

# Each type and the types just above it; a type promotes to the least type above all operands.
# "int" and "float" are the weak types of Python scalars.
_ABOVE = {
    "bool": ["int"],
    "int": ["uint8", "int8"],
    "uint8": ["int16", "uint16"],
    "uint16": ["int32", "uint32"],
    "uint32": ["int64", "uint64"],
    "uint64": ["float"],
    "int8": ["int16"],
    "int16": ["int32"],
    "int32": ["int64"],
    "int64": ["float"],
    "float": ["bfloat16", "float16"],
    "bfloat16": ["float32"],
    "float16": ["float32"],
    "float32": ["float64"],
    "float64": [],
}


@functools.cache
def _upper_bounds(node):
    """Every type `node` promotes to, itself included."""
    return frozenset({node}).union(*(_upper_bounds(up) for up in _ABOVE[node]))


@functools.cache
def _least_upper_bound(nodes):
    common = frozenset.intersection(*(_upper_bounds(n) for n in nodes))
    return next(c for c in common if common <= _upper_bounds(c))


@functools.cache
def dtype_name(dtype):
    """The name of a dtype ("float32") from np.float32, np.dtype("float32") or "float32"; cached:
    NumPy's own naming is slow, and every op asks."""
    return config.numpy_dtype(dtype).name


def _node(value):
    """The lattice node of a dtype, a Python scalar type, or a value (a Python scalar: weak)."""
    if value is bool or isinstance(value, bool):
        return "bool"
    if value is int or (isinstance(value, int) and not isinstance(value, np.integer)):
        return "int"
    if value is float or (isinstance(value, float) and not isinstance(value, np.floating)):
        return "float"
    return dtype_name(getattr(value, "dtype", value))


def result_type(*values):
    """The dtype name Keras gives an op on `values` (dtypes, arrays, Tensors, Python scalars)."""
    if not values:
        return config.floatx()
    first = values[0]
    if isinstance(first, np.dtype) and all(v is first for v in values):
        return dtype_name(first)  # the common case: one dtype throughout
    out = _least_upper_bound(frozenset(_node(v) for v in values))
    # a weak type left at the end (only Python scalars, or uint64 with a float) takes floatx's
    # precision, as Keras: int32 and float32 by default
    precision = config.floatx()[-2:]
    return {"int": f"int{precision}", "float": f"float{precision}"}.get(out, out)


def float_keeping_64_bits(dtype):
    """The float type a few of Keras's ops (cbrt, hypot, deg2rad, correlate) compute `dtype`
    in on TensorFlow: float64 for int64, floatx for bool and smaller integers, a float type
    itself (where most float ops give int64 floatx: `result_type(int64, float)`)."""
    name = standardize_dtype(dtype)
    if name == "int64":
        return "float64"
    return name if name in ("bfloat16", "float16", "float32", "float64") else config.floatx()


def is_float(dtype):
    return np.dtype(dtype).kind == "f"


def is_int_or_bool(dtype):
    return np.dtype(dtype).kind in "biu"


def standardize_dtype(dtype):
    """A dtype name ("float32") from a name, a NumPy dtype, or a Python type."""
    if dtype is None or dtype is float:
        return config.floatx()
    if dtype is int:
        return "int32"
    if dtype is bool:
        return "bool"
    return dtype_name(dtype)
