"""NumPy-like ops (Keras's `keras.ops` numpy group): arithmetic, math, reductions, shapes.

Each op converts its arguments Keras's way (dtype promotion of `dtypes.result_type`: int32 +
float32 is float32, a Python scalar takes the array's type), then hands the NumPy function to
`primitive`, which records it when a GradientTape traces an argument.

>>> import numpy as np
>>> from minikeras import ops
>>> ops.add(np.array([1, 2], dtype="int32"), np.array([0.5, 0.5], dtype="float32"))
array([1.5, 2.5], dtype=float32)
"""

import builtins

import numpy as np

from minikeras import config
from minikeras.autodiff import primitive, unwrap
from minikeras.ops import shapes
from minikeras.ops.core import cast, convert_to_tensor
from minikeras.ops.dtypes import is_int_or_bool, result_type, standardize_dtype
from minikeras.ops.op_classes import operation_classes
from minikeras.ops.shapes import broadcast_shapes, broadcasting, shape_equal  # noqa: F401
from minikeras.ops.symbolic import symbolic_op


# ---------------------------------------------------------------- argument handling
def _dtype_of(x):
    """What result_type reads: the dtype of an array, or the Python scalar (a weak type)."""
    if isinstance(x, (bool, int, float)) and not isinstance(x, np.generic):
        return x
    return convert_to_tensor(x).dtype


def _to(x, dtype):
    """`x` as an array of `dtype` (a cast, recorded, for Tensors). A Python scalar is made
    in `dtype` directly: 0.7 through float32 first would be 0.69999999 in float64."""
    if isinstance(x, (bool, int, float)):
        return np.asarray(x, dtype=dtype)
    return cast(convert_to_tensor(x), dtype)


def _promote(*xs, dtype=None):
    """The arguments, converted to their common Keras dtype (or to `dtype`)."""
    dtype = dtype or result_type(*(_dtype_of(x) for x in xs))
    return [_to(x, dtype) for x in xs]


def _check_broadcast(name, *xs):
    """Keras's numpy backend lets NumPy's error through; this names both shapes."""
    # arrays by now (after _promote), or symbolic tensors, whose None axes fit any size
    shapes = [tuple(1 if d is None else d for d in x.shape) for x in xs]
    if builtins.all(shape == shapes[0] for shape in shapes):  # (`all` here is ops.all)
        return
    try:
        np.broadcast_shapes(*shapes)
    except ValueError:
        raise ValueError(
            f"Cannot broadcast the arguments of `{name}` together: shapes "
            + " and ".join(str(s) for s in shapes)
        ) from None


def _binary(name, forward, x1, x2, dtype=None):
    x1, x2 = _promote(x1, x2, dtype=dtype)
    _check_broadcast(name, x1, x2)
    return primitive(name, forward, x1, x2)


def _float(x):
    """An integer or boolean argument of a float op becomes floatx, as Keras casts it."""
    x = convert_to_tensor(x)
    return cast(x, config.floatx()) if is_int_or_bool(x.dtype) else x


def _axis(axis):
    return tuple(axis) if isinstance(axis, list) else axis


# ---------------------------------------------------------------- arithmetic
@symbolic_op(shape=broadcasting)
def add(x1, x2):
    """x1 + x2, elementwise (broadcasting)."""
    return _binary("add", np.add, x1, x2)


@symbolic_op(shape=broadcasting)
def subtract(x1, x2):
    """x1 − x2."""
    return _binary("subtract", np.subtract, x1, x2)


@symbolic_op(shape=broadcasting)
def multiply(x1, x2):
    """x1 · x2, elementwise."""
    return _binary("multiply", np.multiply, x1, x2)


@symbolic_op(shape=broadcasting)
def divide(x1, x2):
    """x1 / x2 (integers divide to floatx, as Keras)."""
    dtype = result_type(_dtype_of(x1), _dtype_of(x2), float)
    return _binary("divide", np.true_divide, x1, x2, dtype=dtype)


true_divide = divide


@symbolic_op(shape=broadcasting)
def floor_divide(x1, x2):
    """⌊x1 / x2⌋ (no gradient, as TensorFlow's)."""
    return _binary("floor_divide", np.floor_divide, x1, x2)


@symbolic_op(shape=broadcasting)
def mod(x1, x2):
    """x1 mod x2, with the sign of x2 (Python's %)."""
    dtype = result_type(_dtype_of(x1), _dtype_of(x2))
    return _binary("mod", np.mod, x1, x2, dtype="int32" if dtype == "bool" else dtype)


@symbolic_op(shape=broadcasting)
def power(x1, x2):
    """x1 ** x2."""
    return _binary("power", np.power, x1, x2)


@symbolic_op(shape=broadcasting)
def maximum(x1, x2):
    """The larger of x1 and x2, elementwise."""
    return _binary("maximum", np.maximum, x1, x2)


@symbolic_op(shape=broadcasting)
def minimum(x1, x2):
    """The smaller of x1 and x2, elementwise."""
    return _binary("minimum", np.minimum, x1, x2)


@symbolic_op
def negative(x):
    """−x."""
    return primitive("negative", np.negative, convert_to_tensor(x))


@symbolic_op
def absolute(x):
    """|x|."""
    x = convert_to_tensor(x)
    return x if x.dtype == bool else primitive("absolute", np.absolute, x)


abs = absolute


@symbolic_op
def square(x):
    """x²."""
    x = convert_to_tensor(x)
    return primitive("square", np.square, cast(x, "int32") if x.dtype == bool else x)


@symbolic_op
def sign(x):
    """−1, 0 or 1 by the sign of x."""
    return primitive("sign", np.sign, convert_to_tensor(x))


@symbolic_op
def reciprocal(x):
    """1 / x."""
    return primitive("reciprocal", np.reciprocal, _float(x))


@symbolic_op(shape=broadcasting)
def clip(x, x_min, x_max):
    """x limited to [x_min, x_max]; keeps x's dtype (booleans become int32, as Keras)."""
    x = convert_to_tensor(x)
    x = cast(x, "int32") if x.dtype == bool else x
    return primitive("clip", _clip, x, _to(x_min, x.dtype), _to(x_max, x.dtype))


def _clip(x, x_min, x_max):
    return np.clip(x, x_min, x_max).astype(x.dtype, copy=False)  # (bfloat16 comes back float32)


@symbolic_op
def round(x, decimals=0):
    """x rounded to `decimals` places, halves to even (no gradient)."""
    return primitive("round", np.round, convert_to_tensor(x), decimals=decimals)


@symbolic_op
def floor(x):
    """⌊x⌋ (no gradient)."""
    return primitive("floor", np.floor, _float(x))


@symbolic_op
def ceil(x):
    """⌈x⌉ (no gradient)."""
    return primitive("ceil", np.ceil, _float(x))


@symbolic_op(shape=broadcasting)
def where(condition, x1=None, x2=None):
    """x1 where `condition`, else x2; with only `condition`, the indices where it holds."""
    if x1 is None and x2 is None:
        return tuple(np.nonzero(unwrap(condition)))
    if x1 is None or x2 is None:
        raise ValueError(
            "`x1` and `x2` either both should be `None` or both should have non-None value."
        )
    x1, x2 = _promote(x1, x2)
    condition = cast(convert_to_tensor(condition), "bool")
    _check_broadcast("where", condition, x1, x2)
    return primitive("where", np.where, condition, x1, x2)


# ---------------------------------------------------------------- exponentials, trigonometry
def _unary(name, forward):
    def op(x):
        return primitive(name, forward, _float(x))

    op.__name__ = op.__qualname__ = name
    return symbolic_op(op)


exp = _unary("exp", np.exp)
expm1 = _unary("expm1", np.expm1)
log = _unary("log", np.log)
log1p = _unary("log1p", np.log1p)
log2 = _unary("log2", np.log2)
log10 = _unary("log10", np.log10)
sqrt = _unary("sqrt", np.sqrt)
sin = _unary("sin", np.sin)
cos = _unary("cos", np.cos)
tan = _unary("tan", np.tan)
tanh = _unary("tanh", np.tanh)
sinh = _unary("sinh", np.sinh)
cosh = _unary("cosh", np.cosh)
arctan = _unary("arctan", np.arctan)
arcsin = _unary("arcsin", np.arcsin)
arccos = _unary("arccos", np.arccos)
for _op, _doc in [
    (exp, "eˣ"), (expm1, "eˣ − 1, accurate near 0"), (log, "ln x"), (log1p, "ln(1 + x)"),
    (log2, "log₂ x"), (log10, "log₁₀ x"), (sqrt, "√x"), (sin, "sin x"), (cos, "cos x"),
    (tan, "tan x"), (tanh, "tanh x"), (sinh, "sinh x"), (cosh, "cosh x"), (arctan, "arctan x"),
    (arcsin, "arcsin x"), (arccos, "arccos x"),
]:  # fmt: skip
    _op.__doc__ = f"{_doc}, elementwise (integers become floatx first)."


# ---------------------------------------------------------------- products
@symbolic_op(shape=shapes.matmul)
def matmul(x1, x2):
    """The matrix product x1 @ x2 (stacks of matrices broadcast; 1-d operands as NumPy)."""
    x1, x2 = _promote(*_int8_products_in_int32(x1, x2))
    s1, s2 = np.shape(unwrap(x1)), np.shape(unwrap(x2))
    if not s1 or not s2:
        raise ValueError(f"`matmul` needs arrays of rank 1 or more: x1.shape={s1}, x2.shape={s2}")
    if s1[-1] != s2[-2 if len(s2) > 1 else 0]:  # Keras's message (its symbolic shape check)
        raise ValueError(
            "Inner dimensions (`x1.shape[-1]` and `x2.shape[-2]`) must be equal, but received "
            f"`x1.shape={s1}` and `x2.shape={s2}`."
        )
    return primitive("matmul", _product(np.matmul), x1, x2)


def _int8_products_in_int32(*operands):
    """int8 operands, all of them, made int32: Keras's matmul and einsum give int32 for them
    on TensorFlow (int8 · int8 accumulated in int32); any other mix keeps the common type."""
    operands = [convert_to_tensor(o) for o in operands]
    if builtins.all(o.dtype == np.int8 for o in operands):
        return [cast(o, "int32") for o in operands]
    return operands


def _product(forward):
    """A product (matmul, einsum) in its operands' dtype: NumPy gives float32 for bfloat16."""

    def product(*operands, **static):
        dtype = operands[0].dtype
        return np.asarray(forward(*operands, **static)).astype(dtype, copy=False)

    product.__name__ = forward.__name__
    return product


@symbolic_op(shape=shapes.dot)
def dot(x1, x2):
    """Keras's dot: a product with a scalar, matmul for 1-d and 2-d operands, else the sum over
    x1's last axis and x2's second to last."""
    x1, x2 = _promote(x1, x2)
    if np.ndim(unwrap(x1)) == 0 or np.ndim(unwrap(x2)) == 0:
        return multiply(x1, x2)
    if np.ndim(unwrap(x2)) <= 2:
        return cast(matmul(x1, x2), x1.dtype)  # (int8 stays int8 here, as in Keras's dot)
    return tensordot(x1, x2, axes=([-1], [-2]))


@symbolic_op(shape=shapes.tensordot)
def tensordot(x1, x2, axes=2):
    """Σ over the paired `axes` of x1·x2 (an int n pairs x1's last n with x2's first n)."""
    x1, x2 = _promote(x1, x2)
    axes = axes if isinstance(axes, int) else tuple(tuple(np.atleast_1d(a).tolist()) for a in axes)
    return primitive("tensordot", np.tensordot, x1, x2, axes=axes)


@symbolic_op(shape=shapes.einsum)
def einsum(subscripts, *operands, **kwargs):
    """Einstein summation, as np.einsum."""
    operands = _promote(*_int8_products_in_int32(*operands))
    return primitive("einsum", _product(_einsum), *operands, subscripts=subscripts)


def _einsum(*operands, subscripts):
    if operands[0].dtype.kind not in "biuf":  # bfloat16: NumPy's einsum has no loop for it
        return np.einsum(subscripts, *[o.astype("float32") for o in operands])
    return np.einsum(subscripts, *operands)


@symbolic_op
def outer(x1, x2):
    """x1ᵢ·x2ⱼ for every i, j (both flattened)."""
    return multiply(reshape(x1, (-1, 1)), reshape(x2, (1, -1)))


# ---------------------------------------------------------------- reductions
def _sum_dtype(x):
    # Keras (following JAX) sums small integers and booleans in 32 bits
    name = standardize_dtype(x.dtype)
    return {
        "bool": "int32",
        "int8": "int32",
        "int16": "int32",
        "uint8": "uint32",
        "uint16": "uint32",
    }.get(name, name)


def _same_dtype(reduce):
    """np.sum and its kin, in the dtype of their input (NumPy widens int32 to int64)."""

    def forward(x, **static):
        return reduce(x, dtype=x.dtype, **static)

    forward.__name__ = reduce.__name__
    return forward


@symbolic_op
def sum(x, axis=None, keepdims=False):
    """Σ x along `axis` (all axes when None)."""
    x = convert_to_tensor(x)
    x = cast(x, _sum_dtype(x))
    return primitive("sum", _same_dtype(np.sum), x, axis=_axis(axis), keepdims=keepdims)


@symbolic_op
def prod(x, axis=None, keepdims=False, dtype=None):
    """Π x along `axis`."""
    x = convert_to_tensor(x)
    x = cast(x, dtype or _sum_dtype(x))
    return primitive("prod", _same_dtype(np.prod), x, axis=_axis(axis), keepdims=keepdims)


@symbolic_op
def mean(x, axis=None, keepdims=False):
    """The mean of x along `axis` (integers average in float32, as Keras)."""
    x = convert_to_tensor(x)
    if is_int_or_bool(x.dtype):
        x = cast(x, result_type(x.dtype, np.dtype("float32")))
    return primitive("mean", np.mean, x, axis=_axis(axis), keepdims=keepdims)


def _extremum(name, forward, x, axis, keepdims, initial):
    x = convert_to_tensor(x)
    if x.size == 0 and initial is None:
        raise ValueError(f"Cannot compute the {name} of an empty tensor.")
    static = {"axis": _axis(axis), "keepdims": keepdims}
    if initial is not None:
        static["initial"] = initial
    return primitive(name, forward, x, **static)


@symbolic_op
def max(x, axis=None, keepdims=False, initial=None):
    """The largest entry of x along `axis` (ties share the gradient, as TensorFlow)."""
    return _extremum("max", np.max, x, axis, keepdims, initial)


@symbolic_op
def min(x, axis=None, keepdims=False, initial=None):
    """The smallest entry of x along `axis`."""
    return _extremum("min", np.min, x, axis, keepdims, initial)


amax, amin = max, min


@symbolic_op
def var(x, axis=None, keepdims=False):
    """The variance of x along `axis`: mean((x − mean x)²)."""
    x = convert_to_tensor(x)
    if is_int_or_bool(x.dtype):
        x = cast(x, result_type(x.dtype, float))
    centred = subtract(x, mean(x, axis=axis, keepdims=True))
    return mean(square(centred), axis=axis, keepdims=keepdims)


@symbolic_op
def std(x, axis=None, keepdims=False):
    """The standard deviation of x along `axis`: √var."""
    return sqrt(var(x, axis=axis, keepdims=keepdims))


@symbolic_op
def argmax(x, axis=None, keepdims=False):
    """The index of the largest entry along `axis` (of the flattened x when None), int32."""
    x = unwrap(convert_to_tensor(x))
    return np.asarray(np.argmax(x, axis=axis, keepdims=keepdims)).astype("int32")


@symbolic_op
def argmin(x, axis=None, keepdims=False):
    """The index of the smallest entry along `axis`, int32."""
    x = unwrap(convert_to_tensor(x))
    return np.asarray(np.argmin(x, axis=axis, keepdims=keepdims)).astype("int32")


@symbolic_op
def any(x, axis=None, keepdims=False):
    """Whether any entry along `axis` is true."""
    return np.asarray(np.any(unwrap(convert_to_tensor(x)), axis=_axis(axis), keepdims=keepdims))


@symbolic_op
def all(x, axis=None, keepdims=False):
    """Whether every entry along `axis` is true."""
    return np.asarray(np.all(unwrap(convert_to_tensor(x)), axis=_axis(axis), keepdims=keepdims))


@symbolic_op
def cumsum(x, axis=None, dtype=None):
    """Running sums along `axis` (of the flattened x when None); keeps x's dtype, as Keras."""
    x = convert_to_tensor(x)
    x = cast(x, dtype or ("int32" if x.dtype == bool else x.dtype))
    return primitive("cumsum", _same_dtype(np.cumsum), x, axis=axis)


@symbolic_op
def cumprod(x, axis=None, dtype=None):
    """Running products along `axis`."""
    x = convert_to_tensor(x)
    x = cast(x, dtype or ("int32" if x.dtype == bool else x.dtype))
    return primitive("cumprod", _same_dtype(np.cumprod), x, axis=axis)


@symbolic_op
def count_nonzero(x, axis=None):
    """How many entries along `axis` are not zero, int32."""
    return np.asarray(np.count_nonzero(unwrap(convert_to_tensor(x)), axis=_axis(axis))).astype(
        "int32"
    )


# ---------------------------------------------------------------- shapes
@symbolic_op(shape=shapes.reshape)
def reshape(x, newshape):
    """x with the shape `newshape` (one -1 is inferred)."""
    newshape = (newshape,) if isinstance(newshape, int) else tuple(int(n) for n in newshape)
    return primitive("reshape", np.reshape, convert_to_tensor(x), shape=newshape)


@symbolic_op
def transpose(x, axes=None):
    """x with its axes permuted (reversed when `axes` is None)."""
    axes = None if axes is None else tuple(axes)
    return primitive("transpose", np.transpose, convert_to_tensor(x), axes=axes)


@symbolic_op
def expand_dims(x, axis):
    """x with new axes of size 1 at `axis` (an int or a tuple)."""
    x = convert_to_tensor(x)
    return reshape(x, np.expand_dims(np.empty(x.shape, dtype=bool), _axis(axis)).shape)


@symbolic_op
def squeeze(x, axis=None):
    """x without its axes of size 1 (only those of `axis` when given)."""
    x = convert_to_tensor(x)
    return reshape(x, np.squeeze(np.empty(x.shape, dtype=bool), _axis(axis)).shape)


@symbolic_op
def ravel(x):
    """x flattened."""
    return reshape(x, (-1,))


@symbolic_op(shape=shapes.concatenate)
def concatenate(xs, axis=0):
    """The arrays of `xs` joined along `axis`."""
    xs = _promote(*xs)
    return primitive("concatenate", np.concatenate, xs, axis=axis)


@symbolic_op(shape=shapes.stack)
def stack(x, axis=0):
    """The arrays of `x` stacked along a new axis."""
    x = _promote(*x)
    return primitive("stack", np.stack, x, axis=axis)


@symbolic_op(shape=shapes.split)
def split(x, indices_or_sections, axis=0):
    """x cut along `axis` into `indices_or_sections` equal parts, or at those indices."""
    return list(
        primitive(
            "split",
            _split,
            convert_to_tensor(x),
            indices_or_sections=indices_or_sections,
            axis=axis,
        )
    )


def _split(x, indices_or_sections, axis=0):
    return tuple(np.split(x, indices_or_sections, axis=axis))


@symbolic_op(shape=shapes.tile)
def tile(x, repeats):
    """x repeated `repeats` times along each axis."""
    repeats = tuple(np.atleast_1d(unwrap(repeats)).tolist())
    return primitive("tile", np.tile, convert_to_tensor(x), reps=repeats)


@symbolic_op(shape=shapes.repeat)
def repeat(x, repeats, axis=None):
    """Each entry of x repeated `repeats` times along `axis` (x flattened when None)."""
    repeats = unwrap(repeats)
    repeats = repeats if np.ndim(repeats) == 0 else np.asarray(repeats)
    return primitive("repeat", np.repeat, convert_to_tensor(x), repeats=repeats, axis=axis)


@symbolic_op(shape=shapes.broadcast_to)
def broadcast_to(x, shape):
    """x broadcast to `shape` (a copy, as Keras's: writable)."""
    return primitive("broadcast_to", _broadcast_to, convert_to_tensor(x), shape=tuple(shape))


def _broadcast_to(x, shape):
    return np.array(np.broadcast_to(x, shape))


@symbolic_op
def flip(x, axis=None):
    """x with the order of entries reversed along `axis` (all axes when None)."""
    return primitive("flip", np.flip, convert_to_tensor(x), axis=_axis(axis))


@symbolic_op
def roll(x, shift, axis=None):
    """x shifted by `shift` along `axis`, entries leaving one end coming back at the other."""
    return primitive("roll", np.roll, convert_to_tensor(x), shift=shift, axis=_axis(axis))


@symbolic_op(shape=shapes.take)
def take(x, indices, axis=None):
    """The entries of x at `indices` along `axis` (of the flattened x when None)."""
    indices = np.asarray(unwrap(indices))
    return primitive("take", np.take, convert_to_tensor(x), indices, axis=axis)


@symbolic_op(shape=shapes.take_along_axis)
def take_along_axis(x, indices, axis=None):
    """x's entries picked by `indices` along `axis` (same rank as x)."""
    indices = np.asarray(unwrap(indices))
    return primitive(
        "take_along_axis", np.take_along_axis, convert_to_tensor(x), indices, axis=axis
    )


@symbolic_op(shape=shapes.pad)
def pad(x, pad_width, mode="constant", constant_values=None):
    """x padded with `pad_width` = ((before, after), ...) entries per axis."""
    static = {"mode": mode}
    if constant_values is not None:
        if mode != "constant":
            raise ValueError(
                "Argument `constant_values` can only be provided when `mode == 'constant'`. "
                f"Received: mode={mode}"
            )
        static["constant_values"] = constant_values
    x = convert_to_tensor(x)
    # as NumPy: one width for every side, one (before, after) pair for every axis, or a pair
    # per axis
    widths = np.asarray(pad_width, dtype=int)
    widths = np.broadcast_to(widths.reshape(-1, 2) if widths.ndim else widths, (np.ndim(x), 2))
    pad_width = tuple(map(tuple, widths.tolist()))
    return primitive("pad", np.pad, x, pad_width=pad_width, **static)


@symbolic_op
def tril(x, k=0):
    """x with the entries above the k-th diagonal zeroed."""
    return primitive("tril", np.tril, convert_to_tensor(x), k=k)


@symbolic_op
def triu(x, k=0):
    """x with the entries below the k-th diagonal zeroed."""
    return primitive("triu", np.triu, convert_to_tensor(x), k=k)


@symbolic_op(shape=shapes.diag)
def diag(x, k=0):
    """The k-th diagonal of a matrix, or the matrix with the vector x on its k-th diagonal."""
    return primitive("diag", np.diag, convert_to_tensor(x), k=k)


@symbolic_op
def sort(x, axis=-1):
    """x sorted along `axis`."""
    return primitive("sort", np.sort, convert_to_tensor(x), axis=axis)


@symbolic_op
def argsort(x, axis=-1):
    """The indices that sort x along `axis`, int32."""
    return np.argsort(unwrap(convert_to_tensor(x)), axis=axis, kind="stable").astype("int32")


@symbolic_op
def meshgrid(*x, indexing="xy"):
    """Coordinate grids from 1-d arrays, as np.meshgrid (each a broadcast of one input)."""
    if indexing not in ("xy", "ij"):
        raise ValueError(
            f"Valid values for argument `indexing` are 'xy' and 'ij'. Received: indexing={indexing}"
        )
    sizes = [int(np.size(unwrap(v))) for v in x]
    shape = list(sizes)
    if indexing == "xy" and len(x) > 1:
        shape[0], shape[1] = shape[1], shape[0]
    grids = []
    for i, v in enumerate(x):
        axis = {0: 1, 1: 0}.get(i, i) if indexing == "xy" and len(x) > 1 else i
        along = [1] * len(x)
        along[axis] = sizes[i]
        grids.append(broadcast_to(reshape(v, along), shape))
    return grids


@symbolic_op
def nan_to_num(x, nan=0.0, posinf=None, neginf=None):
    """x with NaN and ±inf replaced by finite numbers."""
    return primitive(
        "nan_to_num", np.nan_to_num, convert_to_tensor(x), nan=nan, posinf=posinf, neginf=neginf
    )


# ---------------------------------------------------------------- comparisons and logic
def _compare(forward, x1, x2):
    x1, x2 = _promote(x1, x2)
    _check_broadcast(forward.__name__, x1, x2)
    return forward(unwrap(x1), unwrap(x2))


@symbolic_op(shape=broadcasting)
def equal(x1, x2):
    """x1 == x2, elementwise (bool)."""
    return _compare(np.equal, x1, x2)


@symbolic_op(shape=broadcasting)
def not_equal(x1, x2):
    """x1 != x2."""
    return _compare(np.not_equal, x1, x2)


@symbolic_op(shape=broadcasting)
def less(x1, x2):
    """x1 < x2."""
    return _compare(np.less, x1, x2)


@symbolic_op(shape=broadcasting)
def less_equal(x1, x2):
    """x1 ≤ x2."""
    return _compare(np.less_equal, x1, x2)


@symbolic_op(shape=broadcasting)
def greater(x1, x2):
    """x1 > x2."""
    return _compare(np.greater, x1, x2)


@symbolic_op(shape=broadcasting)
def greater_equal(x1, x2):
    """x1 ≥ x2."""
    return _compare(np.greater_equal, x1, x2)


@symbolic_op(shape=broadcasting)
def logical_and(x1, x2):
    """x1 and x2, elementwise."""
    return np.logical_and(unwrap(convert_to_tensor(x1)), unwrap(convert_to_tensor(x2)))


@symbolic_op(shape=broadcasting)
def logical_or(x1, x2):
    """x1 or x2, elementwise."""
    return np.logical_or(unwrap(convert_to_tensor(x1)), unwrap(convert_to_tensor(x2)))


@symbolic_op
def logical_not(x):
    """not x, elementwise."""
    return np.logical_not(unwrap(convert_to_tensor(x)))


@symbolic_op
def isnan(x):
    """Whether each entry is NaN."""
    return np.isnan(unwrap(convert_to_tensor(x)))


@symbolic_op
def isinf(x):
    """Whether each entry is ±inf."""
    return np.isinf(unwrap(convert_to_tensor(x)))


@symbolic_op
def isfinite(x):
    """Whether each entry is finite."""
    return np.isfinite(unwrap(convert_to_tensor(x)))


# ---------------------------------------------------------------- shape queries
def ndim(x):
    """The number of axes of x."""
    return np.ndim(unwrap(x))


def size(x):
    """The number of entries of x."""
    return int(np.size(unwrap(x)))


# ---------------------------------------------------------------- creation (nothing to trace)
def _creation_dtype(dtype):
    return standardize_dtype(dtype)


def zeros(shape, dtype=None):
    """An array of zeros (floatx unless `dtype`)."""
    return np.zeros(shape, dtype=_creation_dtype(dtype))


def ones(shape, dtype=None):
    """An array of ones (floatx unless `dtype`)."""
    return np.ones(shape, dtype=_creation_dtype(dtype))


def full(shape, fill_value, dtype=None):
    """An array of `fill_value`, floatx unless `dtype` (an int fill value too, as Keras)."""
    return np.full(shape, unwrap(fill_value), dtype=standardize_dtype(dtype))


@symbolic_op
def zeros_like(x, dtype=None):
    """Zeros of x's shape (and dtype unless `dtype`)."""
    return np.zeros_like(unwrap(convert_to_tensor(x)), dtype=dtype and standardize_dtype(dtype))


@symbolic_op
def ones_like(x, dtype=None):
    """Ones of x's shape."""
    return np.ones_like(unwrap(convert_to_tensor(x)), dtype=dtype and standardize_dtype(dtype))


@symbolic_op
def full_like(x, fill_value, dtype=None):
    """`fill_value` in x's shape."""
    return np.full_like(
        unwrap(convert_to_tensor(x)), unwrap(fill_value), dtype=dtype and standardize_dtype(dtype)
    )


def arange(start, stop=None, step=None, dtype=None):
    """start, start + step, ... below stop (int32 for ints, floatx for floats, as Keras)."""
    if stop is None:
        start, stop = 0, start
    step = 1 if step is None else step
    dtype = dtype or result_type(*(_dtype_of(v) for v in (start, stop, step)))
    return np.arange(start, stop, step, dtype=standardize_dtype(dtype))


@symbolic_op(shape=shapes.spaced)
def linspace(start, stop, num=50, endpoint=True, retstep=False, dtype=None, axis=0):
    """`num` evenly spaced numbers from start to stop (floatx unless `dtype`)."""
    out = np.linspace(
        unwrap(start), unwrap(stop), num, endpoint=endpoint, retstep=retstep, axis=axis
    )
    dtype = standardize_dtype(dtype)
    if retstep:
        return out[0].astype(dtype), out[1]
    return out.astype(dtype)


def eye(N, M=None, k=0, dtype=None):
    """The N×M matrix with ones on its k-th diagonal."""
    return np.eye(N, M, k, dtype=_creation_dtype(dtype))


def identity(n, dtype=None):
    """The n×n identity matrix."""
    return np.identity(n, dtype=_creation_dtype(dtype))


# ---------------------------------------------------------------- the rest of Keras's numpy group
# (written in files of their own, with the helpers above; imported last for that reason)
from minikeras.ops.numpy_arrays import (  # noqa: E402, F401
    append,
    argpartition,
    array,
    array_split,
    average,
    bartlett,
    bincount,
    blackman,
    copy,
    corrcoef,
    correlate,
    cross,
    diagflat,
    diagonal,
    diff,
    digitize,
    dsplit,
    dstack,
    empty,
    empty_like,
    fliplr,
    flipud,
    geomspace,
    hamming,
    hanning,
    histogram,
    hsplit,
    hstack,
    i0,
    inner,
    isin,
    kaiser,
    kron,
    logspace,
    median,
    moveaxis,
    nanargmax,
    nanargmin,
    nancumprod,
    nancumsum,
    nanmax,
    nanmean,
    nanmedian,
    nanmin,
    nanpercentile,
    nanprod,
    nanquantile,
    nanstd,
    nansum,
    nanvar,
    nonzero,
    percentile,
    ptp,
    quantile,
    rot90,
    searchsorted,
    select,
    swapaxes,
    trace,
    trapezoid,
    tri,
    unique,
    unravel_index,
    vander,
    vdot,
    view,
    vsplit,
    vstack,
)
from minikeras.ops.numpy_elementwise import (  # noqa: E402, F401
    allclose,
    angle,
    arccosh,
    arcsinh,
    arctan2,
    arctanh,
    bitwise_and,
    bitwise_invert,
    bitwise_left_shift,
    bitwise_not,
    bitwise_or,
    bitwise_right_shift,
    bitwise_xor,
    cbrt,
    conj,
    conjugate,
    deg2rad,
    divide_no_nan,
    exp2,
    fabs,
    fmax,
    fmin,
    fmod,
    gcd,
    heaviside,
    hypot,
    imag,
    isclose,
    isneginf,
    isposinf,
    isreal,
    lcm,
    ldexp,
    left_shift,
    logaddexp,
    logaddexp2,
    logical_xor,
    nextafter,
    rad2deg,
    real,
    right_shift,
    signbit,
    sinc,
    trunc,
)


class Arange:
    """Keras's Arange Operation: its dtype when made, start, stop and step when called."""

    def __init__(self, dtype=None, *, name=None):
        self.dtype, self.name = dtype, name

    def __call__(self, start, stop=None, step=None):
        return arange(start, stop, step, dtype=self.dtype)

    call = symbolic_call = __call__


class Full:
    """Keras's Full Operation: its shape and dtype when made, the fill value when called."""

    def __init__(self, shape, dtype=None, *, name=None):
        self.shape, self.dtype, self.name = shape, dtype, name

    def __call__(self, fill_value):
        return full(self.shape, fill_value, dtype=self.dtype)

    call = symbolic_call = __call__


# Keras's Operation classes (`Add()(x, y)`, `Pad(pad_width=1)(x)`), one for each op above that
# becomes a graph node, made from the op (ops/op_classes.py)
globals().update(operation_classes(globals(), __name__))
