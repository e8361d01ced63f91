"""NumPy called on a Tensor (or, while a tape records, on a Variable) runs the `minikeras.ops`
function of the same name, so `np.exp(t)` and `ndarray + t` are recorded like `ops.exp(t)`.

NumPy functions with no ops twin run on the plain arrays; while a tape traces a Tensor among
their arguments, a float result (which would silently carry no gradient) raises a TypeError.
"""

import numpy as np

from minikeras.autodiff import unwrap
from minikeras.autodiff.recording import RECORDING
from minikeras.autodiff.tensor import Tensor

# ufuncs whose ops function has another name
_UFUNC_NAMES = {
    "true_divide": "divide",
    "remainder": "mod",
    "fmod": None,
    "rint": "round",
    "fabs": "absolute",
    "conjugate": None,
}
_REDUCE = {"add": "sum", "multiply": "prod", "maximum": "max", "minimum": "min"}
_ACCUMULATE = {"add": "cumsum", "multiply": "cumprod"}
_FUNCTION_NAMES = {"amax": "max", "amin": "min", "around": "round", "round_": "round"}
_KEYWORDS = {"a": "x", "a_min": "x_min", "a_max": "x_max", "shape": "newshape"}


def _ops():
    from minikeras import ops

    return ops


def ufunc_to_op(ufunc, method, inputs, kwargs):
    """np.<ufunc>(...) with a Tensor or Variable among `inputs`, as the ops function."""
    ops = _ops()
    if kwargs.get("out") is not None or kwargs.get("where", True) is not True:
        return _plain_ufunc(ufunc, method, inputs, kwargs)  # in place: not recorded
    name = _UFUNC_NAMES.get(ufunc.__name__, ufunc.__name__)
    kwargs = {k: v for k, v in kwargs.items() if not (k in ("out", "dtype") and v is None)}
    if method == "__call__" and name and hasattr(ops, name) and not kwargs:
        return getattr(ops, name)(*inputs)
    if method == "reduce" and ufunc.__name__ in _REDUCE:
        x = inputs[0]
        return getattr(ops, _REDUCE[ufunc.__name__])(
            x, axis=kwargs.get("axis", 0), keepdims=kwargs.get("keepdims", False)
        )
    if method == "accumulate" and ufunc.__name__ in _ACCUMULATE:
        return getattr(ops, _ACCUMULATE[ufunc.__name__])(inputs[0], axis=kwargs.get("axis", 0))
    return _checked(
        f"np.{ufunc.__name__}.{method}", inputs, _plain_ufunc(ufunc, method, inputs, kwargs)
    )


def _plain_ufunc(ufunc, method, inputs, kwargs):
    out = kwargs.get("out")
    if out is not None:
        kwargs = dict(kwargs, out=tuple(unwrap(o) for o in out))
    result = getattr(ufunc, method)(*(unwrap(x) for x in inputs), **kwargs)
    return (out[0] if len(out) == 1 else out) if out is not None else result


def function_to_op(func, args, kwargs):
    """np.<function>(...) with a Tensor or Variable among `args`, as the ops function."""
    ops = _ops()
    name = _FUNCTION_NAMES.get(func.__name__, func.__name__)
    if hasattr(ops, name) and callable(getattr(ops, name)):
        if "dtype" in kwargs and _same_dtype(kwargs["dtype"], args):
            # np.sum(t, dtype=t.dtype) is np.sum(t) (a regularizer's sum keeps its dtype so)
            kwargs = {k: v for k, v in kwargs.items() if k != "dtype"}
        kwargs = {_KEYWORDS.get(k, k): v for k, v in kwargs.items()}
        return getattr(ops, name)(*args, **kwargs)
    result = func(*_unwrap_nested(args), **_unwrap_nested(kwargs))
    return _checked(f"np.{func.__name__}", args, result)


def _same_dtype(dtype, args):
    first = args[0] if args else None
    if not isinstance(first, (Tensor, np.ndarray)):
        return False
    return dtype is None or np.dtype(dtype) == unwrap(first).dtype


def _unwrap_nested(value):
    if isinstance(value, dict):
        return {k: _unwrap_nested(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_unwrap_nested(v) for v in value)
    return unwrap(value) if isinstance(value, Tensor) or isinstance(value, np.ndarray) else value


def _traced(items):
    """Whether a traced Tensor is among `items` (a Variable is an ndarray: NumPy functions on
    it compute plainly, as on any array)."""
    flat = []
    for item in items:
        flat.extend(item if isinstance(item, (list, tuple)) else [item])
    return any(
        isinstance(item, Tensor) and id(item) in tape._traced for tape in RECORDING for item in flat
    )


def _checked(what, args, result):
    """`result`, unless it is a float array a recording tape would miss the gradient of."""
    if RECORDING and _traced(args) and np.asarray(result).dtype.kind in "fc":
        raise TypeError(
            f"{what} is not recorded by the GradientTape (minikeras.ops has no such op): "
            "use minikeras.ops, or ops.stop_gradient(x) first for a value without gradient"
        )
    return result
