"""Shape rules of ops on symbolic tensors, where running the op on stand-ins gets them wrong.

A KerasTensor's unknown axis (None) stands for any size. Run on stand-in arrays (ops/symbolic.py),
an unknown axis takes one size, which is wrong where it meets a known axis: Keras (on TensorFlow)
gives `ops.add` of shapes (None, 3) and (2, None) the shape (2, 3), since the first unknown axis
must be 2 (or 1) to broadcast, and the second must be 3. A rule here is called with the op's own
arguments, KerasTensors in place of arrays, and returns the output's shape; one rule serves a
family of ops (every broadcasting op shares `broadcasting`).

>>> from minikeras.backend import KerasTensor
>>> broadcast_shapes((None, 3), (2, None))
[2, 3]
>>> broadcasting(KerasTensor((None, 1)), KerasTensor((4,)))
(None, 4)
"""

import numpy as np


def shape_of(x):
    """The shape of a KerasTensor (None for an unknown axis), an array or a Python number."""
    shape = getattr(x, "shape", None)
    return tuple(shape) if shape is not None else np.shape(x)


def broadcast_shapes(shape1, shape2):
    """The shape (a list, as Keras's `ops.numpy.broadcast_shapes`) two shapes broadcast to."""
    return list(broadcast(shape1, shape2))


def shape_equal(shape1, shape2, axis=None, allow_none=True):
    """Whether two shapes are equal, leaving out the axes `axis` (an int or several); with
    `allow_none`, an unknown size (None) equals any size (Keras's `ops.numpy.shape_equal`)."""
    if len(shape1) != len(shape2):
        return False
    ignored = set() if axis is None else {a % len(shape1) for a in np.atleast_1d(axis).tolist()}
    for i, (a, b) in enumerate(zip(shape1, shape2)):
        if i in ignored or (allow_none and (a is None or b is None)):
            continue
        if a != b:
            return False
    return True


def broadcast(*shapes):
    """The shape the `shapes` broadcast to, an unknown axis (None) fitting any size: beside a
    known size n it is n (or 1, which broadcasts to n), beside 1 or None it stays unknown."""
    ndim = max((len(s) for s in shapes), default=0)
    out = [1] * ndim
    for shape in shapes:
        padded = (1,) * (ndim - len(shape)) + tuple(shape)
        for i, (a, b) in enumerate(zip(out, padded)):
            if a == 1:
                out[i] = b
            elif b == 1 or b is None or b == a:
                continue
            elif a is None:
                out[i] = b
            else:
                raise ValueError(
                    f"Cannot broadcast shape, the failure dim has value {a}, which cannot be "
                    f"broadcasted to {b}. Input shapes are: "
                    + " and ".join(str(list(s)) for s in shapes)
                    + "."
                )
    return tuple(out)


def broadcasting(*args, **kwargs):
    """Elementwise ops (add, where, clip, ...): the broadcast shape of every argument, a
    number or an option (a tolerance, a flag) counting as a scalar, which changes nothing."""
    shapes = [shape_of(x) for x in (*args, *kwargs.values()) if _is_value(x)]
    return broadcast(*shapes)


def _is_value(x):
    return hasattr(x, "shape") or isinstance(x, (bool, int, float, complex, np.generic))


def _merge(a, b, what):
    """One axis that two arguments must agree on: a known size wins over None."""
    if a is None or b is None or a == b:
        return b if a is None else a
    raise ValueError(f"{what}: {a} and {b} differ")


def _canonical(axis, ndim):
    if not -ndim <= axis < ndim:
        raise ValueError(f"axis {axis} is out of bounds for a tensor of rank {ndim}")
    return axis % ndim


def _total(shape):
    """The number of elements, None if an axis is unknown."""
    return None if None in shape else int(np.prod(shape, dtype=np.int64))


# ---------------------------------------------------------------- products
def matmul(x1, x2):
    """matmul: the batch axes broadcast, (…, n, k) @ (…, k, m) is (…, n, m); a vector
    argument gains an axis that leaves the result again."""
    s1, s2 = shape_of(x1), shape_of(x2)
    if not s1 or not s2:
        raise ValueError(f"matmul takes no scalars: shapes {s1} and {s2}")
    a = (1,) + s1 if len(s1) == 1 else s1
    b = s2 + (1,) if len(s2) == 1 else s2
    _merge(a[-1], b[-2], f"matmul: the inner axes of shapes {s1} and {s2}")
    rows = () if len(s1) == 1 else (a[-2],)
    cols = () if len(s2) == 1 else (b[-1],)
    return broadcast(a[:-2], b[:-2]) + rows + cols


def dot(x1, x2):
    """dot: a scalar scales; otherwise the last axis of x1 meets the last (a vector) or the
    second-last axis of x2: x1[:-1] + x2[:-2] + x2[-1:]."""
    s1, s2 = shape_of(x1), shape_of(x2)
    if not s1 or not s2:
        return broadcast(s1, s2)
    inner = s2[0] if len(s2) == 1 else s2[-2]
    _merge(s1[-1], inner, f"dot: the contracted axes of shapes {s1} and {s2}")
    return s1[:-1] + s2[:-2] + s2[-1:] if len(s2) > 1 else s1[:-1]


def inner(x1, x2):
    """inner: the last axes meet: x1[:-1] + x2[:-1] (a scalar scales the other)."""
    s1, s2 = shape_of(x1), shape_of(x2)
    if not s1 or not s2:
        return s1 or s2
    if None not in (s1[-1], s2[-1]) and s1[-1] != s2[-1]:
        raise ValueError(
            f"`inner` needs the last dimension of both arguments to match: shapes {s1} and {s2}"
        )
    return s1[:-1] + s2[:-1]


def tensordot(x1, x2, axes=2):
    """tensordot: the axes summed over leave; x1's other axes, then x2's, remain."""
    s1, s2 = shape_of(x1), shape_of(x2)
    if isinstance(axes, int):
        a1, a2 = list(range(len(s1) - axes, len(s1))), list(range(axes))
    else:
        a1, a2 = ([a] if isinstance(a, int) else list(a) for a in axes)
    # (the summed axes' sizes are not compared: Keras's spec compares none, and TensorFlow
    # raises when the graph runs)
    a1 = [_canonical(a, len(s1)) for a in a1]
    a2 = [_canonical(a, len(s2)) for a in a2]
    keep1 = tuple(d for i, d in enumerate(s1) if i not in a1)
    return keep1 + tuple(d for j, d in enumerate(s2) if j not in a2)


def einsum(subscripts, *operands, **kwargs):
    """einsum: each letter's size from the operands that have it (a known size over None or
    1), the axes under `...` broadcast; the output's letters as written after `->`, or the
    letters seen once, in alphabetical order."""
    subscripts = subscripts.replace(" ", "")
    inputs, _, output = subscripts.partition("->")
    sizes, ellipsis = {}, ()
    for term, x in zip(inputs.split(","), operands):
        shape = shape_of(x)
        n_named = len(term.replace("...", ""))
        if "..." in term:
            before, after = term.split("...")
            ellipsis = broadcast(ellipsis, shape[len(before) : len(shape) - len(after)])
            letters = list(before) + [None] * (len(shape) - n_named) + list(after)
        elif len(term) != len(shape):
            raise ValueError(
                f"einsum: the subscripts {term!r} name {len(term)} axes; the operand has "
                f"shape {shape}"
            )
        else:
            letters = list(term)
        for letter, d in zip(letters, shape):
            if letter is not None and sizes.get(letter) in (None, 1):
                sizes[letter] = d  # Keras checks no further: "ii" of a (2, 3) matrix is ()
    if "->" not in subscripts:
        letters = inputs.replace(",", "").replace("...", "")
        output = ("..." if "..." in inputs else "") + "".join(
            sorted(c for c in set(letters) if letters.count(c) == 1)
        )
    before, _, after = output.partition("...")
    if "..." not in output:
        return tuple(sizes[c] for c in output)
    return tuple(sizes[c] for c in before) + ellipsis + tuple(sizes[c] for c in after)


# ---------------------------------------------------------------- joining and splitting
def concatenate(xs, axis=0):
    """concatenate: every axis but `axis` agrees (None fits any); `axis` adds up, None if
    any part's is unknown."""
    if axis is None:
        raise ValueError("`concatenate` of symbolic tensors needs an axis; it received None")
    shapes = [shape_of(x) for x in xs]
    ndim = len(shapes[0])
    if any(len(s) != ndim for s in shapes):
        raise ValueError(f"`concatenate` needs tensors of one rank: shapes {shapes}")
    axis = _canonical(axis, ndim)
    out = list(shapes[0])
    for shape in shapes[1:]:
        for i, d in enumerate(shape):
            if i == axis:
                out[i] = None if out[i] is None or d is None else out[i] + d
            else:
                out[i] = _merge(out[i], d, f"`concatenate` along axis {axis}: shapes {shapes}")
    return tuple(out)


def stack(x, axis=0):
    """stack: the shapes agree; a new axis of their number appears at `axis`."""
    shapes = [shape_of(item) for item in x]
    out = shapes[0]
    for shape in shapes[1:]:
        if len(shape) != len(out):
            raise ValueError(f"`stack` needs tensors of one shape: shapes {shapes}")
        out = tuple(_merge(a, b, f"`stack`: shapes {shapes}") for a, b in zip(out, shape))
    axis = _canonical(axis, len(out) + 1)
    return out[:axis] + (len(shapes),) + out[axis:]


def hstack(xs):
    """hstack: concatenate along axis 1 (axis 0 for vectors)."""
    return concatenate(xs, axis=0 if len(shape_of(xs[0])) == 1 else 1)


def vstack(xs):
    """vstack: vectors become rows, then concatenate along axis 0."""
    return concatenate([_at_least(shape_of(x), 2) for x in xs], axis=0)


def dstack(xs):
    """dstack: vectors become (1, n, 1), matrices (r, c, 1), then concatenate along axis 2."""
    return concatenate([_at_least(shape_of(x), 3) for x in xs], axis=2)


def _at_least(shape, ndim):
    """The shape as NumPy's atleast_2d/atleast_3d make it (a KerasTensor-like holder)."""
    if len(shape) == 0:
        shape = (1,)
    if len(shape) == 1:
        shape = (1,) + shape
    if len(shape) == 2 and ndim == 3:
        shape = shape + (1,)
    return _Shaped(shape)


class _Shaped:
    def __init__(self, shape):
        self.shape = tuple(shape)


def append(x1, x2, axis=None):
    """append: both flattened and joined (None), or concatenated along `axis`."""
    if axis is not None:
        return concatenate([x1, x2], axis=axis)
    n1, n2 = _total(shape_of(x1)), _total(shape_of(x2))
    return (None if n1 is None or n2 is None else n1 + n2,)


def split(x, indices_or_sections, axis=0):
    """split: `n` equal parts of the axis (its size must divide; unknown, each part is
    unknown), or the parts between the given indices (the last unknown with the axis)."""
    shape = shape_of(x)
    axis = _canonical(axis, len(shape))
    size = shape[axis]
    if isinstance(indices_or_sections, (int, np.integer)):
        n = int(indices_or_sections)
        if size is not None and size % n:
            raise ValueError(
                f"`split` of an axis of size {size} into {n} equal sections is impossible"
            )
        parts = [None if size is None else size // n] * n
    else:
        parts = _between(list(indices_or_sections), size)
    return [shape[:axis] + (p,) + shape[axis + 1 :] for p in parts]


def array_split(x, indices_or_sections, axis=0):
    """array_split: as split, the first `size % n` sections one longer where n does not
    divide the axis."""
    shape = shape_of(x)
    axis = _canonical(axis, len(shape))
    size = shape[axis]
    if not isinstance(indices_or_sections, (int, np.integer)):
        return split(x, indices_or_sections, axis)
    n = int(indices_or_sections)
    if size is None:
        parts = [None] * n
    else:
        parts = [size // n + (i < size % n) for i in range(n)]
    return [shape[:axis] + (p,) + shape[axis + 1 :] for p in parts]


def _between(indices, size):
    """The lengths between consecutive split indices (clipped to the axis, as NumPy)."""
    bounds = [0] + indices + [size]
    if size is not None:
        bounds = [min(b, size) for b in bounds]
    return [None if b is None or a is None else max(0, b - a) for a, b in zip(bounds, bounds[1:])]


def hsplit(x, indices_or_sections):
    """hsplit: split along axis 1 (axis 0 for vectors)."""
    return split(x, indices_or_sections, axis=0 if len(shape_of(x)) == 1 else 1)


def vsplit(x, indices_or_sections):
    """vsplit: split along axis 0."""
    return split(x, indices_or_sections, axis=0)


def dsplit(x, indices_or_sections):
    """dsplit: split along axis 2."""
    return split(x, indices_or_sections, axis=2)


# ---------------------------------------------------------------- reshaping and repeating
def reshape(x, newshape):
    """reshape: the new shape as given; its -1 is the size left over, unknown when an axis
    of x is."""
    newshape = (newshape,) if isinstance(newshape, (int, np.integer)) else tuple(newshape)
    total = _total(shape_of(x))
    if -1 not in newshape:
        if total is not None and None not in newshape and _total(newshape) != total:
            raise ValueError(f"cannot reshape a tensor of shape {shape_of(x)} into {newshape}")
        return newshape
    known = [d for d in newshape if d != -1]
    rest = None if total is None or None in known else total // max(_total(known), 1)
    return tuple(rest if d == -1 else d for d in newshape)


def broadcast_to(x, shape):
    """broadcast_to: `shape`, where x's axes (aligned at the right) are 1, None or equal."""
    shape = (shape,) if isinstance(shape, (int, np.integer)) else tuple(shape)
    source = shape_of(x)
    if len(source) > len(shape) or any(
        d not in (1, None, t) and t is not None for d, t in zip(source[::-1], shape[::-1])
    ):
        raise ValueError(f"Cannot broadcast a tensor of shape {source} to shape {shape}")
    return shape


def repeat(x, repeats, axis=None):
    """repeat: the axis (all of x flattened, for None) times `repeats`, or the sum of a
    list of repeats, one per element; unknown when the axis is."""
    shape = shape_of(x)
    if axis is None:
        shape, axis = (_total(shape),), 0
    axis = _canonical(axis, len(shape))
    size = shape[axis]
    if isinstance(repeats, (int, np.integer)) or np.ndim(repeats) == 0:
        new = None if size is None else size * int(repeats)
    else:
        repeats = list(np.ravel(repeats))
        if len(repeats) == 1:
            new = None if size is None else size * int(repeats[0])
        elif size is not None and len(repeats) != size:
            raise ValueError(
                f"`repeat` needs one repeat count per element along axis {axis}: "
                f"{len(repeats)} counts for size {size}"
            )
        else:
            new = None if size is None else int(sum(repeats))
    return shape[:axis] + (new,) + shape[axis + 1 :]


def tile(x, repeats):
    """tile: each axis times its repeat count (the shorter of the two padded with 1s)."""
    shape = shape_of(x)
    repeats = (repeats,) if isinstance(repeats, (int, np.integer)) else tuple(repeats)
    n = max(len(shape), len(repeats))
    shape = (1,) * (n - len(shape)) + shape
    repeats = (1,) * (n - len(repeats)) + repeats
    return tuple(None if d is None else d * r for d, r in zip(shape, repeats))


def pad(x, pad_width, mode="constant", constant_values=None):
    """pad: each axis grows by its (before, after) widths; an unknown axis stays unknown."""
    shape = shape_of(x)
    widths = np.asarray(pad_width, dtype=np.int64)
    try:
        widths = np.broadcast_to(widths.reshape(-1, 2) if widths.ndim else widths, (len(shape), 2))
    except ValueError:
        raise ValueError(
            f"`pad` needs one (before, after) pair per axis of the tensor of shape {shape}: "
            f"received pad_width={pad_width}"
        ) from None
    return tuple(None if d is None else d + int(a + b) for d, (a, b) in zip(shape, widths))


# ---------------------------------------------------------------- indexing
def take(x, indices, axis=None):
    """take: the indices' shape in place of the axis (of x flattened, for None)."""
    shape, where = shape_of(x), shape_of(indices)
    if axis is None:
        return where
    axis = _canonical(axis, len(shape))
    return shape[:axis] + where + shape[axis + 1 :]


def take_along_axis(x, indices, axis=None):
    """take_along_axis: the other axes of x and the indices broadcast; along `axis` the
    indices' length."""
    shape, where = shape_of(x), shape_of(indices)
    if axis is None:
        return where
    if len(shape) != len(where):
        raise ValueError(
            f"`take_along_axis` needs x and indices of one rank: shapes {shape} and {where}"
        )
    axis = _canonical(axis, len(shape))
    out = broadcast(
        shape[:axis] + (1,) + shape[axis + 1 :], where[:axis] + (1,) + where[axis + 1 :]
    )
    return out[:axis] + (where[axis],) + out[axis + 1 :]


# ---------------------------------------------------------------- diagonals
def diag(x, k=0):
    """diag: a vector of n becomes an (n + |k|)-square matrix; a matrix gives its k-th
    diagonal, unknown when an axis is."""
    shape = shape_of(x)
    if len(shape) == 1:
        n = None if shape[0] is None else shape[0] + abs(k)
        return (n, n)
    if len(shape) == 2:
        return (_diagonal_length(shape[0], shape[1], k),)
    raise ValueError(f"`diag` takes a vector or a matrix; it received shape {shape}")


def diagonal(x, offset=0, axis1=0, axis2=1):
    """diagonal: axes axis1 and axis2 leave; the diagonal's length comes last."""
    shape = shape_of(x)
    if len(shape) < 2:
        raise ValueError(f"`diagonal` needs at least 2 axes; it received shape {shape}")
    a1, a2 = _canonical(axis1, len(shape)), _canonical(axis2, len(shape))
    rest = tuple(d for i, d in enumerate(shape) if i not in (a1, a2))
    return rest + (_diagonal_length(shape[a1], shape[a2], offset),)


def trace(x, offset=0, axis1=0, axis2=1):
    """trace: axes axis1 and axis2 leave (summed along their diagonal)."""
    shape = shape_of(x)
    a1, a2 = _canonical(axis1, len(shape)), _canonical(axis2, len(shape))
    if a1 == a2:
        raise ValueError(f"`trace` needs two different axes; it received {axis1} and {axis2}")
    return tuple(d for i, d in enumerate(shape) if i not in (a1, a2))


def _diagonal_length(rows, cols, k):
    if rows is None or cols is None:
        return None
    return max(0, min(rows, cols - k) if k >= 0 else min(rows + k, cols))


# ---------------------------------------------------------------- the rest
def scalar(*args, **kwargs):
    """Ops that answer with one value (allclose): shape ()."""
    return ()


def cumulative(x, axis=None, dtype=None):
    """Running sums and products: x's shape along an axis (a tuple of one axis, or none,
    as Keras takes it), x flattened for None."""
    shape = shape_of(x)
    return (_total(shape),) if axis is None else shape


def partition(x, kth, axis=-1):
    """argpartition: x's shape; one kth, as Keras's TensorFlow backend takes only one."""
    if not isinstance(kth, (int, np.integer)):
        raise ValueError(f"`argpartition` takes one integer `kth`; it received {kth}")
    return shape_of(x)


def cross(x1, x2, axisa=-1, axisb=-1, axisc=-1, axis=None):
    """cross: the vectors' axes (2 or 3 entries) leave, the others broadcast; the product's
    axis of 3 entries comes at `axisc`, none when both vectors have 2."""
    if axis is not None:
        axisa = axisb = axisc = axis
    s1, s2 = shape_of(x1), shape_of(x2)
    if not s1 or not s2:
        raise ValueError(f"`cross` needs vectors; it received shapes {s1} and {s2}")
    a, b = _canonical(axisa, len(s1)), _canonical(axisb, len(s2))
    for shape, i in ((s1, a), (s2, b)):
        if shape[i] not in (2, 3, None):
            raise ValueError(
                f"`cross` needs vectors of 2 or 3 entries: shapes {s1} and {s2} along axes "
                f"{axisa} and {axisb}"
            )
    rest = broadcast(s1[:a] + s1[a + 1 :], s2[:b] + s2[b + 1 :])
    if s1[a] == 2 and s2[b] == 2:
        return rest
    c = _canonical(axisc, len(rest) + 1)
    return rest[:c] + (3,) + rest[c:]


def segments(data, segment_ids, num_segments=None, sorted=False):
    """The segment reductions: num_segments rows (unknown when not given: the ids' values
    decide) of data's other axes. The ids' length is not checked against data's (Keras's spec
    does not: the call on arrays does)."""
    return (num_segments,) + tuple(shape_of(data)[1:])


def like_first(*args, **kwargs):
    """Ops whose output has their first argument's shape (polar, attention, normalizations),
    the others not checked against it, as Keras's spec (the call on arrays checks them).
    (Rules are called with the op's own parameter names: `query`, `abs_`, `x`.)"""
    return shape_of((*args, *kwargs.values())[0])


def per_example(*args, **kwargs):
    """Ops that give one value per example (ctc_loss): the first axis of the first argument."""
    return like_first(*args, **kwargs)[:1]


def elementwise(x, *args, **kwargs):
    """Ops of one tensor that keep its shape (bitwise_invert): x's shape."""
    return shape_of(x)


def unravel_index(indices, shape):
    """unravel_index: one array of the indices' shape per axis of `shape`."""
    return [shape_of(indices)] * len(shape)


def difference(a, n=1, axis=-1):
    """diff: the axis shorter by n (unknown stays unknown)."""
    shape = list(shape_of(a))
    axis = _canonical(axis, len(shape))
    shape[axis] = None if shape[axis] is None else max(shape[axis] - n, 0)
    return tuple(shape)


def spaced(start, stop, num=50, *args, axis=0, **kwargs):
    """linspace, logspace, geomspace: start and stop broadcast; `num` values along `axis`."""
    shape = broadcast(shape_of(start), shape_of(stop))
    axis = _canonical(axis, len(shape) + 1)
    return shape[:axis] + (num,) + shape[axis:]


def swapaxes(x, axis1, axis2):
    """swapaxes: the two axes trade places."""
    shape = list(shape_of(x))
    a, b = _canonical(axis1, len(shape)), _canonical(axis2, len(shape))
    shape[a], shape[b] = shape[b], shape[a]
    return tuple(shape)


def moveaxis(x, source, destination):
    """moveaxis: each source axis moves to its destination, the others keep their order."""
    shape = shape_of(x)
    source = [source] if isinstance(source, int) else list(source)
    destination = [destination] if isinstance(destination, int) else list(destination)
    source = [_canonical(a, len(shape)) for a in source]
    destination = [_canonical(a, len(shape)) for a in destination]
    order = [i for i in range(len(shape)) if i not in source]
    for dest, src in sorted(zip(destination, source)):
        order.insert(dest, src)
    return tuple(shape[i] for i in order)
