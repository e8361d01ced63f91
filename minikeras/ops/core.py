"""Core ops (Keras's `keras.ops` core group): conversion, casting, shapes, control flow, scatter.

>>> import numpy as np
>>> from minikeras import ops
>>> ops.cast(np.array([1.7, -1.2]), "int32")
array([ 1, -1], dtype=int32)
"""

import builtins
import inspect

import numpy as np

from minikeras import config
from minikeras.autodiff import Tensor, Variable, primitive, unwrap
from minikeras.autodiff.foreign import is_foreign
from minikeras.autodiff.primitive import is_symbolic
from minikeras.ops.dtypes import dtype_name, standardize_dtype
from minikeras.ops.symbolic import symbolic_op


# ---------------------------------------------------------------- conversion
def convert_to_tensor(x, dtype=None, sparse=None, ragged=None):
    """`x` as an array, Keras's way: Python floats become floatx (float32), Python ints int32;
    arrays, Tensors and Variables keep their dtype (cast when `dtype` is given)."""
    if is_symbolic([x]):
        spec = ConvertToTensor(dtype, sparse, ragged).compute_output_spec(x)
        if (spec.dtype, spec.sparse, spec.ragged) == (x.dtype, x.sparse, x.ragged):
            return x
        return _node(convert_to_tensor, spec, x, dtype=dtype, sparse=sparse, ragged=ragged)
    if isinstance(x, (Tensor, np.ndarray)):
        return x if dtype is None else cast(x, dtype)
    if is_foreign(x):  # a tf.Tensor keeps its dtype, as in Keras; one a tape watches (by
        # identity, as a plain array) is converted on the tape, so its gradient reaches it
        return primitive("cast", np.asarray, x, dtype=standardize_dtype(dtype) if dtype else None)
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
    if is_symbolic([x]):
        raise ValueError(
            "A KerasTensor is symbolic: it's a placeholder for a shape and a dtype, with no "
            f"values to convert to NumPy. Received: {x}"
        )
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
    if np.dtype(dtype).kind in "iu":
        info = np.iinfo(dtype)
    elif np.dtype(dtype).kind == "f":
        info = np.finfo(dtype)
    else:  # bfloat16 and float8, NumPy dtypes from ml_dtypes, which gives their ranges too
        import ml_dtypes

        info = ml_dtypes.finfo(dtype)
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


def unstack(x, num=None, axis=0):
    """The slices of `x` along `axis`, as a list (`num` of them: on a KerasTensor whose axis
    is unknown, `num` must be given)."""
    if is_symbolic([x]):
        return _node(unstack, Unstack(num, axis).compute_output_spec(x), x, num=num, axis=axis)
    return list(primitive("unstack", _unstack, x, num=num, axis=axis))


def _unstack(x, num=None, axis=0):
    return tuple(np.moveaxis(x, axis, 0))


# ---------------------------------------------------------------- slices and scatters
def slice(inputs, start_indices, shape):
    """inputs[start₀ : start₀ + shape₀, start₁ : ...]; a size of -1 runs to the end of its
    axis (TensorFlow's `tf.slice`)."""
    if is_symbolic([inputs, start_indices]):
        spec = Slice(shape).compute_output_spec(inputs, start_indices)
        return _node(slice, spec, inputs, start_indices, shape=shape)
    check_slice(np.shape(unwrap(inputs)), start_indices, shape)
    start_indices = [int(i) for i in np.asarray(unwrap(start_indices)).reshape(-1)]
    sizes = [
        dim - start if n == -1 else int(n)
        for dim, start, n in zip(np.shape(unwrap(inputs)), start_indices, _ints(shape))
    ]
    return primitive("slice", _slice, inputs, start_indices=start_indices, shape=sizes)


def check_slice(input_shape, start_indices, shape):
    """Raise Keras's ValueError unless `inputs`, `start_indices` and `shape` have one entry
    per axis."""
    if len(_ints(shape)) != len(input_shape):
        raise ValueError(
            "The number of dimensions in `inputs` must match the number of dimensions in "
            f"`shape`. Received inputs.shape={tuple(input_shape)} and shape={shape}"
        )
    if hasattr(start_indices, "__len__") and len(start_indices) != len(input_shape):
        raise ValueError(
            "The number of dimensions in `start_indices` must match the number of "
            f"dimensions in `inputs`. Received start_indices={start_indices} and "
            f"inputs.shape={tuple(input_shape)}"
        )


def _ints(shape):
    return [int(n) for n in np.asarray(unwrap(shape)).reshape(-1)]


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


def scatter(indices, values, shape):
    """zeros(shape) with `values` added at `indices` (rows of coordinates); repeated indices add."""
    if is_symbolic([indices, values]):
        spec = Scatter(shape).compute_output_spec(indices, values)
        return _node(scatter, spec, indices, values, shape=shape)
    return primitive("scatter", _scatter, indices, values, shape=tuple(shape))


def _scatter(indices, values, shape):
    values = np.asarray(values)
    out = np.zeros(tuple(shape), values.dtype)
    np.add.at(out, tuple(np.asarray(indices).T), values)
    return out


def scatter_update(inputs, indices, updates, reduction=None):
    """`inputs` with `updates` written at `indices` (rows of coordinates); with a `reduction`
    ("add", "max", "min", "mul"), combined with what is there, repeated indices in turn.

    Differentiable without a reduction and with "add" (TensorFlow's other reductions have
    gradients too; minikeras's do not)."""
    if is_symbolic([inputs, indices, updates]):
        spec = ScatterUpdate(reduction).compute_output_spec(inputs, indices, updates)
        return _node(scatter_update, spec, inputs, indices, updates, reduction=reduction)
    if reduction is None:
        return primitive("scatter_update", _scatter_update, inputs, indices, updates)
    if reduction not in _REDUCTIONS:
        raise ValueError(
            f"Unsupported reduction: {reduction}. Expected one of {sorted(_REDUCTIONS)} or None"
        )
    return primitive(
        f"scatter_update_{reduction}",
        _scatter_reduce,
        inputs,
        indices,
        updates,
        reduction=reduction,
    )


def _scatter_update(x, indices, updates):
    out = np.array(x)
    out[tuple(np.asarray(indices).T)] = updates
    return out


_REDUCTIONS = {"add": np.add, "max": np.maximum, "min": np.minimum, "mul": np.multiply}


def _scatter_reduce(x, indices, updates, reduction):
    out = np.array(x)
    _REDUCTIONS[reduction].at(out, tuple(np.asarray(indices).T), updates)
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


# ---------------------------------------------------------------- nodes with a known output
def _node(function, spec, *args, **options):
    """One graph node for `function(*args, **options)` on KerasTensors, its output `spec` given
    by the Operation's `compute_output_spec` (Keras's shape rule) rather than by running the
    function on stand-ins."""
    from minikeras.layers.op_layer import call_op_symbolic  # (layers import ops)

    signature = inspect.signature(function)
    return call_op_symbolic(function.__name__, function, signature, args, options, spec=spec)


# Control flow and Keras's Operation classes live in their own modules; they are core ops in
# Keras (`keras.ops.core.scan`, `keras.ops.core.Scan`), so they are found here too (and
# `vectorize`, a numpy op in Keras, beside `vectorized_map`)
from minikeras.autodiff.custom_gradient import custom_gradient  # noqa: E402, F401
from minikeras.autodiff.jvp import jvp  # noqa: E402, F401
from minikeras.ops.control_flow import (  # noqa: E402, F401
    associative_scan,
    cond,
    fori_loop,
    map,
    scan,
    switch,
    vectorize,
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
