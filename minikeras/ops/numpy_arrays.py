"""More array ops of Keras's numpy group: stacking and splitting, axes, diagonals, statistics
(median, quantile, average, the NaN-ignoring reductions), searching and counting, windows.
(numpy.py re-exports them.)

The ones a gradient flows through are written with the ops of numpy.py and core.py, so that
the tape differentiates them through the VJPs of those ops.

>>> import numpy as np
>>> from minikeras import ops
>>> ops.vstack([np.array([1.0, 2.0]), np.array([3.0, 4.0])])
array([[1., 2.],
       [3., 4.]])
"""

import builtins

import numpy as np

from minikeras import config
from minikeras.autodiff import unwrap
from minikeras.ops import numpy as onp
from minikeras.ops import shapes
from minikeras.ops.core import cast, convert_to_tensor, get_item
from minikeras.ops.dtypes import float_keeping_64_bits, result_type, standardize_dtype
from minikeras.ops.symbolic import symbolic_op


def _plain(x):
    return unwrap(convert_to_tensor(x))


def _ndim(x):
    return np.ndim(unwrap(x))


# ---------------------------------------------------------------- joining and splitting
@symbolic_op(shape=shapes.append)
def append(x1, x2, axis=None):
    """x2 joined after x1 along `axis` (both flattened when None)."""
    x1, x2 = onp._promote(x1, x2)
    if axis is None:
        return onp.concatenate([onp.ravel(x1), onp.ravel(x2)], axis=0)
    return onp.concatenate([x1, x2], axis=axis)


@symbolic_op(shape=shapes.hstack)
def hstack(xs):
    """The arrays joined along axis 1 (axis 0 for 1-d ones)."""
    xs = onp._promote(*xs)
    return onp.concatenate(xs, axis=0 if _ndim(xs[0]) == 1 else 1)


@symbolic_op(shape=shapes.vstack)
def vstack(xs):
    """The arrays joined along axis 0 (1-d ones as rows)."""
    xs = [onp.reshape(x, (1, -1)) if _ndim(x) == 1 else x for x in onp._promote(*xs)]
    return onp.concatenate(xs, axis=0)


@symbolic_op(shape=shapes.dstack)
def dstack(xs):
    """The arrays joined along axis 2 (made 3-d first, as np.dstack)."""
    xs = onp._promote(*xs)
    shaped = []
    for x in xs:
        shape = np.shape(unwrap(x))
        if len(shape) < 3:
            shape = {0: (1, 1, 1), 1: (1, shape[0], 1), 2: shape + (1,)}[len(shape)]
            x = onp.reshape(x, shape)
        shaped.append(x)
    return onp.concatenate(shaped, axis=2)


@symbolic_op(shape=shapes.array_split)
def array_split(x, indices_or_sections, axis=0):
    """x cut along `axis` into `indices_or_sections` parts (the first ones one longer when
    the length does not divide), or at those indices."""
    x = convert_to_tensor(x)
    size = np.shape(unwrap(x))[axis]
    if isinstance(indices_or_sections, int):
        n = indices_or_sections
        lengths = [size // n + (1 if i < size % n else 0) for i in range(n)]
        indices_or_sections = np.cumsum(lengths)[:-1].tolist()
    return onp.split(x, indices_or_sections, axis=axis)


@symbolic_op(shape=shapes.hsplit)
def hsplit(x, indices_or_sections):
    """x split along axis 1 (axis 0 for a 1-d x)."""
    return onp.split(x, indices_or_sections, axis=0 if _ndim(x) == 1 else 1)


@symbolic_op(shape=shapes.vsplit)
def vsplit(x, indices_or_sections):
    """x split along axis 0."""
    return onp.split(x, indices_or_sections, axis=0)


@symbolic_op(shape=shapes.dsplit)
def dsplit(x, indices_or_sections):
    """x split along axis 2."""
    return onp.split(x, indices_or_sections, axis=2)


# ---------------------------------------------------------------- axes and diagonals
@symbolic_op(shape=shapes.moveaxis)
def moveaxis(x, source, destination):
    """x with the axes `source` moved to `destination`, the others in their order."""
    ndim = _ndim(x)
    source = [a % ndim for a in np.atleast_1d(source).tolist()]
    destination = [a % ndim for a in np.atleast_1d(destination).tolist()]
    order = [a for a in range(ndim) if a not in source]
    for dest, src in sorted(zip(destination, source)):
        order.insert(dest, src)
    return onp.transpose(x, order)


@symbolic_op(shape=shapes.swapaxes)
def swapaxes(x, axis1, axis2):
    """x with two axes exchanged."""
    order = list(range(_ndim(x)))
    order[axis1], order[axis2] = order[axis2], order[axis1]
    return onp.transpose(x, order)


@symbolic_op
def fliplr(x):
    """x with axis 1 reversed."""
    return onp.flip(x, axis=1)


@symbolic_op
def flipud(x):
    """x with axis 0 reversed."""
    return onp.flip(x, axis=0)


@symbolic_op
def rot90(array, k=1, axes=(0, 1)):
    """`array` rotated by k quarter turns in the plane of `axes` (from the first toward the
    second)."""
    x = convert_to_tensor(array)
    if _ndim(x) < 2:
        raise ValueError(
            f"Input array must have at least 2 dimensions. Received: array.ndim={_ndim(x)}"
        )
    axes = tuple(axes)
    if len(axes) != 2 or axes[0] % _ndim(x) == axes[1] % _ndim(x):
        raise ValueError(f"Invalid axes: {axes}. Axes must be a tuple of two different dimensions.")
    for _ in range(k % 4):
        x = onp.flip(swapaxes(x, axes[0], axes[1]), axis=axes[0])
    return x


@symbolic_op(shape=shapes.diagonal)
def diagonal(x, offset=0, axis1=0, axis2=1):
    """The `offset`-th diagonal of the matrices in the plane of axis1 and axis2 (as the last
    axis of the result)."""
    x = convert_to_tensor(x)
    shape = np.shape(unwrap(x))
    rows = np.arange(shape[axis1])
    cols = rows + offset
    keep = (cols >= 0) & (cols < shape[axis2])
    rows, cols = rows[keep], cols[keep]
    moved = moveaxis(x, [axis1, axis2], [-2, -1])
    return get_item(moved, (Ellipsis, rows, cols))


@symbolic_op(shape=shapes.trace)
def trace(x, offset=0, axis1=0, axis2=1):
    """Σ of the `offset`-th diagonal (in the plane of axis1 and axis2)."""
    x = convert_to_tensor(x)
    out = onp.sum(diagonal(x, offset=offset, axis1=axis1, axis2=axis2), axis=-1)
    # Keras sums small integers in int32 (as sum); bool too
    return out


@symbolic_op
def diagflat(x, k=0):
    """The matrix with x flattened on its k-th diagonal."""
    return onp.diag(onp.ravel(x), k=k)


@symbolic_op
def tri(N, M=None, k=0, dtype=None):
    """The N×M matrix with ones at and below the k-th diagonal."""
    return np.tri(N, M, k, dtype=standardize_dtype(dtype))


@symbolic_op(shape=shapes.difference)
def diff(a, n=1, axis=-1):
    """The n-th difference along `axis`: a[1:] − a[:-1], n times."""
    x = convert_to_tensor(a)
    for _ in range(n):
        size = np.shape(unwrap(x))[axis]
        head = [builtins.slice(None)] * _ndim(x)
        tail = list(head)
        head[axis], tail[axis] = builtins.slice(1, size), builtins.slice(0, size - 1)
        after, before = get_item(x, tuple(head)), get_item(x, tuple(tail))
        # booleans differ where they change (Keras's TensorFlow backend: not_equal)
        x = onp.not_equal(after, before) if x.dtype == bool else onp.subtract(after, before)
    return x


# ---------------------------------------------------------------- products
@symbolic_op
def vdot(x1, x2):
    """Σ x1·x2 over the flattened arrays, in the operands' common dtype (as Keras: the sum
    alone would widen small integers)."""
    dtype = result_type(onp._dtype_of(x1), onp._dtype_of(x2))
    return cast(onp.sum(onp.multiply(onp.ravel(x1), onp.ravel(x2))), dtype)


@symbolic_op(shape=shapes.inner)
def inner(x1, x2):
    """Σ over the last axes of x1·x2 (a product with a scalar for a 0-d operand)."""
    if _ndim(x1) == 0 or _ndim(x2) == 0:
        return onp.multiply(x1, x2)
    return onp.tensordot(x1, x2, axes=([-1], [-1]))


@symbolic_op
def kron(x1, x2):
    """The Kronecker product: each entry of x1 times the whole of x2."""
    x1, x2 = onp._promote(x1, x2)
    return np.kron(unwrap(x1), unwrap(x2))


@symbolic_op(shape=shapes.cross)
def cross(x1, x2, axisa=-1, axisb=-1, axisc=-1, axis=None):
    """The cross product of vectors of 2 or 3 entries."""
    x1, x2 = onp._promote(x1, x2)
    if axis is not None:
        axisa = axisb = axisc = axis
    return np.cross(unwrap(x1), unwrap(x2), axisa=axisa, axisb=axisb, axisc=axisc)


# ---------------------------------------------------------------- statistics
@symbolic_op
def average(x, axis=None, weights=None):
    """The mean of x along `axis`, weighted by `weights` (1-d along `axis`, or x's shape)."""
    x = convert_to_tensor(x)
    if weights is None:
        return onp.mean(x, axis=axis)
    dtype = result_type(onp._dtype_of(x), onp._dtype_of(weights), float)
    x, weights = onp._promote(x, weights, dtype=dtype)
    if _ndim(weights) == 1 and _ndim(x) > 1 and axis is not None:
        shape = [1] * _ndim(x)
        shape[axis] = -1
        weights = onp.reshape(weights, shape)
    total = onp.sum(onp.multiply(x, weights), axis=axis)
    return onp.divide(total, onp.sum(onp.multiply(onp.ones_like(x), weights), axis=axis))


def _float_array(x):
    x = _plain(x)
    dtype = standardize_dtype(x.dtype)
    if dtype == "bool" or "int" in dtype:
        return x.astype(config.floatx())
    return x


@symbolic_op
def median(x, axis=None, keepdims=False):
    """The middle value along `axis` (the mean of the two middle ones for an even count)."""
    return np.asarray(np.median(_float_array(x), axis=onp._axis(axis), keepdims=keepdims))


@symbolic_op
def quantile(x, q, axis=None, method="linear", keepdims=False):
    """The q-th quantiles (q in [0, 1]) of x along `axis`."""
    x = _float_array(x)
    out = np.quantile(x, _plain(q), axis=onp._axis(axis), method=method, keepdims=keepdims)
    return np.asarray(out).astype(x.dtype)


@symbolic_op
def percentile(x, q, axis=None, method="linear", keepdims=False):
    """The q-th percentiles (q in [0, 100]) of x along `axis`."""
    x = _float_array(x)
    out = np.percentile(x, _plain(q), axis=onp._axis(axis), method=method, keepdims=keepdims)
    return np.asarray(out).astype(x.dtype)


@symbolic_op
def ptp(x, axis=None, keepdims=False):
    """max − min along `axis`."""
    return onp.subtract(
        onp.max(x, axis=axis, keepdims=keepdims), onp.min(x, axis=axis, keepdims=keepdims)
    )


@symbolic_op
def corrcoef(x):
    """The correlation coefficients of the rows of x, in x's float type (NumPy's are float64)."""
    x = _plain(x)
    dtype = float_keeping_64_bits(x.dtype)  # (int64 gives float64, as on TensorFlow)
    return np.asarray(np.corrcoef(x.astype("float64"))).astype(dtype)


@symbolic_op
def correlate(x1, x2, mode="valid"):
    """The cross-correlation of two 1-d arrays."""
    # Keras (TensorFlow) correlates integers in float32, int64 in float64
    dtype = float_keeping_64_bits(result_type(onp._dtype_of(x1), onp._dtype_of(x2)))
    compute = "float32" if dtype == "bfloat16" else dtype  # (NumPy has no bfloat16 product)
    out = np.correlate(_plain(x1).astype(compute), _plain(x2).astype(compute), mode=mode)
    return out.astype(dtype)


@symbolic_op
def trapezoid(y, x=None, dx=1.0, axis=-1):
    """∫ y dx by the trapezoidal rule along `axis`."""
    y = _float_array(y)
    out = np.trapezoid(y, None if x is None else _plain(x), dx=dx, axis=axis)
    return np.asarray(out).astype(y.dtype)  # (NumPy computes bfloat16 in float32)


# the NaN-ignoring reductions: NumPy's, on arrays (no gradient)
def _nan_reduction(name, reduce, floats=False):
    def op(x, axis=None, keepdims=False):
        x = _float_array(x) if floats else _plain(x)
        out = np.asarray(reduce(x, axis=onp._axis(axis), keepdims=keepdims))
        # Keras's dtype: a sum or product of small integers in 32 bits (as `sum`), NumPy's
        # 64 bits otherwise; the others keep x's
        dtype = onp._sum_dtype(x) if reduce in (np.nansum, np.nanprod) else x.dtype
        return out.astype(dtype)

    op.__name__ = op.__qualname__ = name
    op.__doc__ = f"np.{name}: {reduce.__doc__.strip().splitlines()[0]}"
    return symbolic_op(op)


nansum = _nan_reduction("nansum", np.nansum)
nanprod = _nan_reduction("nanprod", np.nanprod)
nanmax = _nan_reduction("nanmax", np.nanmax)
nanmin = _nan_reduction("nanmin", np.nanmin)
nanmean = _nan_reduction("nanmean", np.nanmean, floats=True)
nanvar = _nan_reduction("nanvar", np.nanvar, floats=True)
nanstd = _nan_reduction("nanstd", np.nanstd, floats=True)
nanmedian = _nan_reduction("nanmedian", np.nanmedian, floats=True)


@symbolic_op
def nanargmax(x, axis=None, keepdims=False):
    """The index of the largest non-NaN entry along `axis`, int32."""
    return np.asarray(np.nanargmax(_plain(x), axis=axis, keepdims=keepdims)).astype("int32")


@symbolic_op
def nanargmin(x, axis=None, keepdims=False):
    """The index of the smallest non-NaN entry along `axis`, int32."""
    return np.asarray(np.nanargmin(_plain(x), axis=axis, keepdims=keepdims)).astype("int32")


@symbolic_op(shape=shapes.cumulative)
def nancumsum(x, axis=None, dtype=None):
    """Running sums along `axis`, NaN counted as 0."""
    x = _plain(x)
    dtype = standardize_dtype(dtype) if dtype else ("int32" if x.dtype == bool else x.dtype)
    return np.nancumsum(x, axis=axis, dtype=dtype)  # (as cumsum: NumPy's would widen integers)


@symbolic_op(shape=shapes.cumulative)
def nancumprod(x, axis=None, dtype=None):
    """Running products along `axis`, NaN counted as 1."""
    x = _plain(x)
    dtype = standardize_dtype(dtype) if dtype else ("int32" if x.dtype == bool else x.dtype)
    return np.nancumprod(x, axis=axis, dtype=dtype)  # (as cumsum: NumPy's would widen integers)


@symbolic_op
def nanquantile(x, q, axis=None, method="linear", keepdims=False):
    """quantile, ignoring NaN."""
    x = _float_array(x)
    out = np.nanquantile(x, _plain(q), axis=onp._axis(axis), method=method, keepdims=keepdims)
    return np.asarray(out).astype(x.dtype)


@symbolic_op
def nanpercentile(x, q, axis=None, method="linear", keepdims=False):
    """percentile, ignoring NaN."""
    x = _float_array(x)
    out = np.nanpercentile(x, _plain(q), axis=onp._axis(axis), method=method, keepdims=keepdims)
    return np.asarray(out).astype(x.dtype)


# ---------------------------------------------------------------- searching and counting
@symbolic_op
def nonzero(x):
    """The indices of the non-zero entries, one int32 array per axis."""
    return tuple(i.astype("int32") for i in np.nonzero(_plain(x)))


@symbolic_op(shape=shapes.unravel_index)
def unravel_index(indices, shape):
    """The coordinates, in an array of `shape`, of flat `indices`."""
    indices = _plain(indices)
    return tuple(np.asarray(a).astype(indices.dtype) for a in np.unravel_index(indices, shape))


@symbolic_op
def searchsorted(sorted_sequence, values, side="left"):
    """Where each of `values` would go in the 1-d `sorted_sequence` to keep it sorted."""
    sequence = _plain(sorted_sequence)
    if sequence.ndim != 1:
        raise ValueError(
            "`searchsorted` only supports 1-D sorted sequences. You can use "
            "`keras.ops.vectorized_map` "
            f"to extend it to N-D sequences. Received: sorted_sequence.shape={sequence.shape}"
        )
    return np.searchsorted(sequence, _plain(values), side=side).astype("int32")


@symbolic_op
def digitize(x, bins):
    """The index of the bin of each entry of x, int32."""
    return np.digitize(_plain(x), _plain(bins)).astype("int32")


@symbolic_op
def bincount(x, weights=None, minlength=0, sparse=False):
    """How often each value 0, 1, ... appears along x's last axis (weighted sums with
    `weights`); a 2-d x counts row by row."""
    x = _plain(x)
    if x.dtype.kind not in "iu":  # Keras counts the integer parts of other types
        x = x.astype("int32")
    if np.any(x < 0):
        raise ValueError(f"Input `x` must not contain negative values. Received: x={x}")
    w = None if weights is None else _plain(weights)
    dtype = "int32" if w is None else standardize_dtype(result_type(x.dtype, w.dtype))
    length = builtins.max(minlength, int(x.max()) + 1 if x.size else 0)
    if x.ndim == 1:
        return np.bincount(x, w, minlength=length).astype(dtype)
    rows = [np.bincount(r, None if w is None else wr, minlength=length) for r, wr in
            zip(x, [None] * len(x) if w is None else w)]  # fmt: skip
    return np.stack(rows).astype(dtype)


@symbolic_op
def isin(x1, x2, assume_unique=False, invert=False):
    """Whether each entry of x1 is among those of x2."""
    return np.isin(_plain(x1), _plain(x2), assume_unique=assume_unique, invert=invert)


@symbolic_op
def select(condlist, choicelist, default=0):
    """The entry of the first choice whose condition holds, else `default`."""
    if len(condlist) != len(choicelist):
        raise ValueError(
            "condlist and choicelist must have the same length. Received: "
            f"len(condlist)={len(condlist)}, len(choicelist)={len(choicelist)}"
        )
    choices = onp._promote(*choicelist)
    out = onp._promote(default, choices[0])[0]
    for condition, choice in reversed(list(zip(condlist, choices))):
        out = onp.where(condition, choice, out)
    return out


@symbolic_op(shape=shapes.partition)
def argpartition(x, kth, axis=-1):
    """The indices that put the kth entry in its sorted place, smaller ones before it."""
    return np.argpartition(_plain(x), kth, axis=axis).astype("int32")


@symbolic_op
def unique(x, sorted=True, return_inverse=False, return_counts=False, axis=None, size=None,
           fill_value=None):  # fmt: skip
    """The distinct entries of x, sorted (with the index of each entry's value and the
    counts, when asked)."""
    values, inverse, counts = np.unique(
        _plain(x), return_inverse=True, return_counts=True, axis=axis
    )
    if size is not None:  # padded (or cut) to `size` entries, as JAX's static-shape unique
        pad = size - len(values)
        fill = values.min() if fill_value is None and len(values) else fill_value or 0
        values = np.concatenate([values, np.full(builtins.max(pad, 0), fill, values.dtype)])[:size]
        counts = np.concatenate([counts, np.zeros(builtins.max(pad, 0), counts.dtype)])[:size]
    out = [values]
    if return_inverse:
        out.append(inverse.reshape(np.shape(_plain(x))).astype("int32"))
    if return_counts:
        out.append(counts.astype("int32"))
    return out[0] if len(out) == 1 else tuple(out)


@symbolic_op
def histogram(x, bins=10, range=None):
    """The counts of x's entries in `bins` equal bins over `range`, and the bin edges."""
    x = _plain(x)
    if x.ndim != 1:
        raise ValueError(f"Input tensor must be 1-dimensional. Received: input.shape={x.shape}")
    counts, edges = np.histogram(x, bins=bins, range=range)
    return counts.astype("int32"), edges.astype(x.dtype)


# ---------------------------------------------------------------- creation
@symbolic_op
def copy(x):
    """A copy of x."""
    return np.array(_plain(x))


def empty(shape, dtype=None):
    """An array of `shape` (zeros: NumPy's garbage would make results depend on memory)."""
    return np.zeros(shape, dtype=standardize_dtype(dtype))


@symbolic_op
def empty_like(x, dtype=None):
    """An array of x's shape."""
    return np.zeros_like(_plain(x), dtype=dtype and standardize_dtype(dtype))


def array(x, dtype=None):
    """`x` as an array (Keras's dtype rules for Python values)."""
    return convert_to_tensor(x, dtype=dtype)


@symbolic_op
def view(x, dtype=None):
    """x's memory read as `dtype`."""
    x = _plain(x)
    return x.view(standardize_dtype(dtype)) if dtype is not None else x.view()


@symbolic_op(shape=shapes.spaced)
def logspace(start, stop, num=50, endpoint=True, base=10, dtype=None, axis=0):
    """base ** linspace(start, stop, num)."""
    exponents = np.linspace(_plain(start), _plain(stop), num, endpoint=endpoint, axis=axis)
    return np.power(base, exponents).astype(standardize_dtype(dtype))


@symbolic_op(shape=shapes.spaced)
def geomspace(start, stop, num=50, endpoint=True, dtype=None, axis=0):
    """`num` numbers from start to stop, evenly spaced on a log scale."""
    out = np.geomspace(_plain(start), _plain(stop), num, endpoint=endpoint, axis=axis)
    return out.astype(standardize_dtype(dtype))


@symbolic_op
def vander(x, N=None, increasing=False):
    """The Vandermonde matrix of x: columns x^(N−1), ..., x, 1 (reversed when increasing)."""
    x = _plain(x)
    if x.ndim != 1:
        raise ValueError(f"x must be a one-dimensional array. Received: x.ndim={x.ndim}")
    # in x's dtype, as Keras (NumPy's powers of integers are int64)
    compute = "float32" if x.dtype.kind not in "iuf" or x.dtype.itemsize < 4 else x.dtype
    return np.vander(x.astype(compute), N, increasing=increasing).astype(x.dtype)


# the window functions, floatx: NumPy's formulas
def _window(name, make):
    def op(x):
        return make(int(_plain(x))).astype(config.floatx())

    op.__name__ = op.__qualname__ = name
    op.__doc__ = f"The {name} window of x points."
    return op


bartlett = _window("bartlett", np.bartlett)
blackman = _window("blackman", np.blackman)
hamming = _window("hamming", np.hamming)
hanning = _window("hanning", np.hanning)


def kaiser(x, beta):
    """The Kaiser window of x points, of shape parameter beta."""
    return np.kaiser(int(_plain(x)), float(_plain(beta))).astype(config.floatx())


@symbolic_op
def i0(x):
    """The modified Bessel function of the first kind, of order 0."""
    x = _float_array(x)
    return np.i0(x).astype(x.dtype)
