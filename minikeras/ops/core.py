"""Core ops (Keras's `keras.ops` core group): conversion, casting, shapes, control flow, scatter.

>>> import numpy as np
>>> from minikeras import ops
>>> ops.cast(np.array([1.7, -1.2]), "int32")
array([ 1, -1], dtype=int32)
"""

import builtins

import numpy as np

from minikeras import config
from minikeras.autodiff import Tensor, Variable, primitive, unwrap
from minikeras.autodiff.primitive import is_symbolic
from minikeras.ops.dtypes import dtype_name, standardize_dtype
from minikeras.ops.symbolic import symbolic_op


# ---------------------------------------------------------------- conversion
def convert_to_tensor(x, dtype=None, sparse=None, ragged=None):
    """`x` as an array, Keras's way: Python floats become floatx (float32), Python ints int32;
    arrays, Tensors and Variables keep their dtype (cast when `dtype` is given)."""
    if isinstance(x, (Tensor, np.ndarray)) or is_symbolic([x]):
        return x if dtype is None else cast(x, dtype)
    if dtype is None:
        dtype = _python_dtype(x)
    return np.asarray(unwrap(x), dtype=standardize_dtype(dtype) if dtype else None)


def _python_dtype(x):
    """Keras's dtype for a Python value (nested lists too); None for NumPy's own."""
    if isinstance(x, np.generic):
        return None
    if isinstance(x, (list, tuple)):
        if any(isinstance(item, Tensor) for item in x):  # [Tensor, ...]: NumPy's rule
            return None
        kinds = {np.asarray(unwrap(x)).dtype.kind} if len(x) else {"f"}
    else:
        kinds = {np.asarray(x).dtype.kind}
    if kinds == {"b"}:
        return "bool"
    if kinds <= {"i", "u"}:
        return "int32"
    if kinds == {"f"}:
        return config.floatx()
    return None


def convert_to_numpy(x):
    """A plain NumPy array of `x` (a Tensor's, a Variable's value)."""
    return np.array(unwrap(x))


def is_tensor(x):
    """Whether `x` is a tensor of this backend: an ndarray or a Tensor (not a Python list)."""
    return isinstance(x, (Tensor, np.ndarray))


@symbolic_op
def cast(x, dtype):
    """`x` as `dtype`; the gradient passes through (to a float `x`)."""
    dtype = standardize_dtype(dtype)
    if (isinstance(x, (Tensor, np.ndarray)) or is_symbolic([x])) and dtype_name(x.dtype) == dtype:
        return x
    return primitive("cast", _astype, x, dtype=dtype)


def _astype(x, dtype):
    return np.asarray(x).astype(dtype)


@symbolic_op
def saturate_cast(x, dtype):
    """`x` as `dtype`, values beyond `dtype`'s range first clipped to its bounds (a plain cast
    would wrap 300 around to 44 in uint8). The gradient passes through, as cast's."""
    dtype = standardize_dtype(dtype)
    x = convert_to_tensor(x)
    source = dtype_name(x.dtype)
    if "bool" in (source, dtype):
        return cast(x, dtype)
    low, high = _range(dtype)
    # the bounds as the source type holds them, moved inward where rounding pushed them out
    # (int64's max is 2⁶³ in float32, beyond it)
    src_low, src_high = _range(source)
    low = np.asarray(builtins.max(low, src_low)).astype(source)
    high = np.asarray(builtins.min(high, src_high)).astype(source)
    # (.item(): Python compares a float with an int exactly, NumPy rounds the int first)
    if low.item() < _range(dtype)[0]:
        low = np.nextafter(low, np.zeros((), source))
    if high.item() > _range(dtype)[1]:
        high = np.nextafter(high, np.zeros((), source))
    clipped = primitive("clip", np.clip, x, low, high)
    return cast(clipped, dtype)


def _range(dtype):
    """The smallest and largest numbers of a dtype."""
    info = np.iinfo(dtype) if np.dtype(dtype).kind in "iu" else np.finfo(dtype)
    return info.min, info.max


def dtype(x):
    """The dtype of `x` as Keras names it ("float32")."""
    return standardize_dtype(convert_to_tensor(x).dtype)


def shape(x):
    """The shape of `x`, a tuple of ints."""
    return tuple(np.shape(unwrap(x)))


@symbolic_op
def stop_gradient(variable):
    """`variable`'s value, through which no gradient flows (a plain array)."""
    return np.array(unwrap(variable))


@symbolic_op
def unstack(x, num=None, axis=0):
    """The slices of `x` along `axis`, as a list."""
    return list(primitive("unstack", _unstack, x, num=num, axis=axis))


def _unstack(x, num=None, axis=0):
    return tuple(np.moveaxis(x, axis, 0))


# ---------------------------------------------------------------- slices and scatters
@symbolic_op
def slice(inputs, start_indices, shape):
    """inputs[start₀ : start₀ + shape₀, start₁ : ...]."""
    return primitive("slice", _slice, inputs, start_indices=start_indices, shape=shape)


def _slice(x, start_indices, shape):
    return x[tuple(builtins.slice(int(s), int(s) + int(n)) for s, n in zip(start_indices, shape))]


@symbolic_op
def slice_update(inputs, start_indices, updates):
    """`inputs` with `updates` written at `start_indices` (a new array)."""
    updates = cast(updates, inputs.dtype) if hasattr(inputs, "dtype") else updates
    return primitive("slice_update", _slice_update, inputs, updates, start_indices=start_indices)


def _slice_update(x, updates, start_indices):
    out = np.array(x)
    index = tuple(builtins.slice(int(s), int(s) + n) for s, n in zip(start_indices, updates.shape))
    out[index] = updates
    return out


@symbolic_op
def scatter(indices, values, shape):
    """zeros(shape) with `values` added at `indices` (rows of coordinates); repeated indices add."""
    return primitive("scatter", _scatter, indices, values, shape=tuple(shape))


def _scatter(indices, values, shape):
    values = np.asarray(values)
    out = np.zeros(tuple(shape), values.dtype)
    np.add.at(out, tuple(np.asarray(indices).T), values)
    return out


@symbolic_op
def scatter_update(inputs, indices, updates, reduction=None):
    """`inputs` with `updates` written at `indices` (rows of coordinates)."""
    if reduction is not None:
        raise NotImplementedError("scatter_update(reduction=...) is not supported")
    return primitive("scatter_update", _scatter_update, inputs, indices, updates)


def _scatter_update(x, indices, updates):
    out = np.array(x)
    out[tuple(np.asarray(indices).T)] = updates
    return out


@symbolic_op
def get_item(x, key):
    """x[key], for any NumPy index (Tensors inside the index are read as arrays)."""
    if isinstance(key, tuple):
        key = tuple(unwrap(k) if isinstance(k, (Tensor, Variable)) else k for k in key)
    elif isinstance(key, (Tensor, Variable)):
        key = unwrap(key)
    return primitive("get_item", _get_item, x, index=key)


def _get_item(x, index):
    return x[index]


# Control flow and Keras's Operation classes live in their own modules; they are core ops in
# Keras (`keras.ops.core.scan`, `keras.ops.core.Scan`), so they are found here too
from minikeras.autodiff.custom_gradient import custom_gradient  # noqa: E402, F401
from minikeras.ops.control_flow import (  # noqa: E402, F401
    associative_scan,
    cond,
    fori_loop,
    map,
    scan,
    switch,
    vectorized_map,
    while_loop,
)
from minikeras.ops.core_operations import (  # noqa: E402, F401
    AssociativeScan,
    Cast,
    Cond,
    ConvertToTensor,
    ForiLoop,
    Map,
    Operation,
    SaturateCast,
    Scan,
    Scatter,
    ScatterUpdate,
    Slice,
    SliceUpdate,
    StopGradient,
    Switch,
    Unstack,
    VectorizedMap,
    WhileLoop,
)
