"""The vector–Jacobian products of every differentiable op, in one table.

`VJPS[name](g, ans, *args, **static)` takes `g` = dL/d(ans), the op's result `ans`, its array
arguments and its static arguments, and returns dL/d(arg) for each argument (None where there
is none: indices, integer inputs). For a list argument (concatenate's), it returns a list.

Two things are left to the tape, so that each entry stays one line: undoing broadcasting (an
entry may return a gradient of the broadcast shape; the tape sums it down with `unbroadcast`)
and casting to the argument's dtype. An op missing from the table is not differentiable (its
result is not traced), as `argmax` or `floor` in TensorFlow.

Naming: x, y are the arguments, `ans` the result, `g` the incoming gradient.
"""

import math

import numpy as np

from minikeras.autodiff import special


# ---------------------------------------------------------------- helpers for the longer entries
def _axes(axis, ndim):
    if axis is None:
        return tuple(range(ndim))
    axis = (axis,) if np.isscalar(axis) else tuple(axis)
    return tuple(a % ndim for a in axis) if ndim else ()


def _keep(g, x, axis, keepdims):
    """A reduction's gradient `g` with the reduced axes put back (size 1), ready to broadcast."""
    return g if keepdims else np.expand_dims(g, _axes(axis, x.ndim))


def _sum_vjp(g, ans, x, axis=None, keepdims=False, **_):
    # every entry of x contributes once to the sum: the gradient is g, broadcast back
    return (np.broadcast_to(_keep(g, x, axis, keepdims), x.shape),)


def _mean_vjp(g, ans, x, axis=None, keepdims=False, **_):
    count = math.prod(x.shape[a] for a in _axes(axis, x.ndim))
    return (np.broadcast_to(_keep(g, x, axis, keepdims), x.shape) / count,)


def _extremum_vjp(g, ans, x, axis=None, keepdims=False, **_):
    # TensorFlow's rule: the gradient goes to the entries equal to the extremum, shared equally
    # among ties
    hit = x == _keep(ans, x, axis, keepdims)
    return (_keep(g, x, axis, keepdims) * hit / hit.sum(axis=_axes(axis, x.ndim), keepdims=True),)


def _prod_vjp(g, ans, x, axis=None, keepdims=False, **_):
    # d(Π x)/dxᵢ = Π_{j≠i} xⱼ = ans / xᵢ (not defined where xᵢ = 0: TensorFlow's is, ours not)
    return (_keep(g * ans, x, axis, keepdims) / x,)


def _cumulative(g, axis, op):
    """op (cumsum) of g running from the end of `axis` back to its start."""
    return np.flip(op(np.flip(g, axis), axis=axis), axis)


def _cumsum_vjp(g, ans, x, axis=None, **_):
    # ansᵢ = Σ_{j≤i} xⱼ, so dL/dxⱼ = Σ_{i≥j} gᵢ: a cumulative sum from the end
    if axis is None:
        return (_cumulative(g, 0, np.cumsum).reshape(x.shape),)
    return (_cumulative(g, axis, np.cumsum),)


def _cumprod_vjp(g, ans, x, axis=None, **_):
    # ansᵢ = Π_{j≤i} xⱼ, so dL/dxⱼ = Σ_{i≥j} gᵢ·ansᵢ / xⱼ (TensorFlow's formula, x ≠ 0)
    if axis is None:
        return ((_cumulative(g * ans, 0, np.cumsum) / x.ravel()).reshape(x.shape),)
    return (_cumulative(g * ans, axis, np.cumsum) / x,)


def _matmul_vjp(g, ans, x, y):
    """ans = x @ y: dx = g @ yᵀ, dy = xᵀ @ g, with 1-d operands as a row (x) or a column (y)."""
    x2 = x[None, :] if x.ndim == 1 else x  # (k,) -> (1, k)
    y2 = y[:, None] if y.ndim == 1 else y  # (k,) -> (k, 1)
    g2 = g.reshape(g.shape[:-1] + (1,) + g.shape[-1:]) if x.ndim == 1 else g  # put back x's row
    g2 = g2[..., None] if y.ndim == 1 else g2  # ... and y's column
    dx = g2 @ np.swapaxes(y2, -1, -2)  # (..., m, n) @ (..., n, k) -> (..., m, k)
    dy = np.swapaxes(x2, -1, -2) @ g2  # (..., k, m) @ (..., m, n) -> (..., k, n)
    if x.ndim == 1:
        dx = dx[..., 0, :]
    if y.ndim == 1:
        dy = dy[..., 0]
    return _sum_leading(dx, x.ndim), _sum_leading(dy, y.ndim)


def _sum_leading(grad, ndim):
    # batch axes the other operand brought (a 1-d operand used against a stack of matrices)
    return grad.sum(axis=tuple(range(grad.ndim - ndim))) if grad.ndim > ndim else grad


def _tensordot_axes(x, y, axes):
    if isinstance(axes, (int, np.integer)):
        return list(range(x.ndim - axes, x.ndim)), list(range(axes))
    ax_x, ax_y = axes
    ax_x = [a % x.ndim for a in np.atleast_1d(ax_x)]
    ax_y = [a % y.ndim for a in np.atleast_1d(ax_y)]
    return ax_x, ax_y


def _tensordot_vjp(g, ans, x, y, axes=2):
    """ans = Σ over the paired axes of x·y, its axes: x's free axes, then y's free axes.
    dx = g contracted with y over y's free axes, then x's axes put back in x's order."""
    ax_x, ax_y = _tensordot_axes(x, y, axes)
    free_x = [a for a in range(x.ndim) if a not in ax_x]
    free_y = [a for a in range(y.ndim) if a not in ax_y]
    n_fx = len(free_x)
    g_y = list(range(n_fx, g.ndim))  # g's axes that are y's free axes
    dx = np.tensordot(g, y, axes=(g_y, free_y))  # axes: free_x, then y's contracted (sorted)
    order_x = free_x + [ax_x[ax_y.index(a)] for a in sorted(ax_y)]
    dx = np.transpose(dx, np.argsort(order_x))
    dy = np.tensordot(x, g, axes=(free_x, list(range(n_fx))))  # x's contracted (sorted), free_y
    order_y = [ax_y[ax_x.index(a)] for a in sorted(ax_x)] + free_y
    dy = np.transpose(dy, np.argsort(order_y))
    return dx, dy


def _einsum_vjp(g, ans, *operands, subscripts):
    """dL/d(operand i) = einsum of g with all the other operands, into operand i's indices.
    An index only operand i has (summed over in the forward) comes from a ones array of its
    shape. Not for repeated indices within one operand (diagonals)."""
    inputs, output = special.einsum_explicit(subscripts, [op.shape for op in operands])
    grads = []
    for i, operand in enumerate(operands):
        if len(set(inputs[i])) != len(inputs[i]):
            raise NotImplementedError(f"einsum gradient of a diagonal ({subscripts!r})")
        others = [inputs[j] for j in range(len(operands)) if j != i]
        spec = ",".join([output, *others, inputs[i]]) + "->" + inputs[i]
        rest = [operands[j] for j in range(len(operands)) if j != i]
        grads.append(np.einsum(spec, g, *rest, np.ones(operand.shape, g.dtype)))
    return tuple(grads)


def _split_vjp(g, ans, x, indices_or_sections=None, axis=0):
    return (np.concatenate(g, axis=axis),)


def _concatenate_vjp(g, ans, xs, axis=0):
    if axis is None:
        sizes = np.cumsum([x.size for x in xs])[:-1]
        return ([part.reshape(x.shape) for part, x in zip(np.split(g, sizes), xs)],)
    sizes = np.cumsum([x.shape[axis] for x in xs])[:-1]
    return (np.split(g, sizes, axis=axis),)


def _tile_vjp(g, ans, x, reps):
    """ans repeats x `repeats` times along each axis: add up the copies. g is reshaped to
    (r₀, n₀, r₁, n₁, ...) and summed over the r's."""
    reps = (1,) * (g.ndim - len(reps)) + tuple(reps)
    shape = (1,) * (g.ndim - x.ndim) + x.shape
    pairs = [size for r, n in zip(reps, shape) for size in (r, n)]
    return (g.reshape(pairs).sum(axis=tuple(range(0, len(pairs), 2))).reshape(x.shape),)


def _repeat_vjp(g, ans, x, repeats, axis=None):
    """Each entry of x appears `repeats` times in a row: add its copies."""
    if axis is None:
        return (_repeat_vjp(g, ans, x.ravel(), repeats, axis=0)[0].reshape(x.shape),)
    counts = np.broadcast_to(repeats, (x.shape[axis],))
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.intp)
    grad = np.add.reduceat(g, starts, axis=axis) if g.shape[axis] else np.zeros(x.shape, g.dtype)
    empty = counts == 0  # reduceat gives the next entry for an empty group: zero it
    if empty.any():
        index = [slice(None)] * x.ndim
        index[axis] = empty
        grad[tuple(index)] = 0
    return (grad,)


def _scatter_into(shape, dtype, index, g):
    """zeros(shape) with g added at `index` (repeated indices add up: np.add.at)."""
    out = np.zeros(shape, dtype)
    np.add.at(out, index, g)
    return out


def _take_vjp(g, ans, x, indices, axis=None):
    if axis is None:
        return _scatter_into(x.size, g.dtype, indices, g).reshape(x.shape), None
    index = (slice(None),) * (axis % x.ndim) + (indices,)
    return _scatter_into(x.shape, g.dtype, index, g), None


def _take_along_axis_vjp(g, ans, x, indices, axis=None):
    if axis is None:
        return _scatter_into(x.size, g.dtype, indices, g).reshape(x.shape), None
    axis %= x.ndim
    shape = np.broadcast_shapes(indices.shape[:axis] + (1,) + indices.shape[axis + 1 :], g.shape)
    index = list(np.indices(shape, sparse=True))
    index[axis] = np.broadcast_to(indices, shape)
    return _scatter_into(x.shape, g.dtype, tuple(index), g), None


def _sort_vjp(g, ans, x, axis=-1):
    order = np.argsort(x, axis=axis, kind="stable")  # where each sorted entry came from
    out = np.zeros(x.shape, g.dtype)
    np.put_along_axis(out, order, g, axis=axis)
    return (out,)


def _top_k_vjp(g, ans, x, k=1, sorted=True):
    values_grad, indices = g[0], ans[1]
    shape = indices.shape
    index = list(np.indices(shape, sparse=True))
    index[-1] = indices
    return (_scatter_into(x.shape, values_grad.dtype, tuple(index), values_grad),)


def _diag_vjp(g, ans, x, k=0):
    if x.ndim == 1:  # ans is the matrix with x on its k-th diagonal
        return (np.diagonal(g, k).copy(),)
    out = np.zeros(x.shape, g.dtype)  # ans is x's k-th diagonal
    rows = np.arange(len(ans)) + max(-k, 0)
    out[rows, rows + k] = g
    return (out,)


def _pad_vjp(g, ans, x, pad_width, mode="constant", constant_values=None):
    if mode != "constant":
        raise NotImplementedError(f"the gradient of pad(mode={mode!r})")
    widths = np.broadcast_to(np.asarray(pad_width, dtype=np.intp).reshape(-1, 2), (x.ndim, 2))
    return (g[tuple(slice(lo, lo + n) for (lo, _), n in zip(widths, x.shape))],)


def _slice_index(start_indices, shape):
    return tuple(slice(int(s), int(s) + int(n)) for s, n in zip(start_indices, shape))


def _slice_update_vjp(g, ans, x, updates, start_indices):
    index = _slice_index(start_indices, updates.shape)
    dx = g.copy()
    dx[index] = 0  # these entries were overwritten: x no longer reaches the result there
    return dx, g[index]


def _scatter_update_vjp(g, ans, x, indices, updates):
    index = tuple(np.asarray(indices).T)
    dx = g.copy()
    dx[index] = 0
    return dx, None, g[index]


def _log_softmax_vjp(g, ans, x, axis=-1):
    # ans = x − logsumexp(x): dx = g − softmax(x)·Σ g
    return (g - np.exp(ans) * np.sum(g, axis=axis, keepdims=True),)


def _softmax_vjp(g, ans, x, axis=-1):
    # the Jacobian diag(s) − s·sᵀ applied to g: s ⊙ (g − Σ g·s)
    return (ans * (g - np.sum(g * ans, axis=axis, keepdims=True)),)


def _softmax_xent_vjp(g, ans, labels, logits, axis=-1):
    """ans = −Σ labels·log softmax(logits). TensorFlow's gradient, which this matches: w.r.t. the
    logits softmax − labels (not softmax·Σlabels − labels when a row of labels does not sum to
    1), w.r.t. the labels −log softmax."""
    log_p = logits - special.logsumexp(logits, axis=axis, keepdims=True)
    g = np.expand_dims(g, axis)
    return -g * log_p, g * (np.exp(log_p) - labels)


def _sparse_softmax_xent_vjp(g, ans, labels, logits):
    p = np.exp(logits - special.logsumexp(logits, axis=-1, keepdims=True))
    p[tuple(np.indices(labels.shape)) + (labels,)] -= 1  # softmax − one_hot(labels)
    return None, g[..., None] * p


def _gelu_vjp(g, ans, x, approximate=True):
    k, s = special.GELU_CUBIC, special.GELU_SQRT_HALF
    if approximate:  # ans = ½x(1 + tanh u), u = c(x + kx³), c = √(2/π)
        c = math.sqrt(2 / math.pi)
        t = np.tanh(c * (x + k * x**3))
        return (g * (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * c * (1 + 3 * k * x * x)),)
    # ans = ½x·erfc(−sx), s = 1/√2: ½erfc(−sx) + x·s·e^(−s²x²)/√π
    return (g * (0.5 * special.erfc(-s * x) + x * s * np.exp(-s * s * x * x) / math.sqrt(math.pi)),)


def _where(condition, g):
    return np.where(condition, g, np.zeros((), g.dtype))


def _nonzero(x):
    """x with its zeros replaced by ones: a divisor where the zero case is handled apart."""
    return np.where(x != 0, x, np.ones((), x.dtype))


def _t(a):
    """The transpose of each matrix of a stack."""
    return np.swapaxes(a, -1, -2)


def _inv_vjp(g, ans, a):
    # d(A⁻¹) = −A⁻¹·dA·A⁻¹, so dL/dA = −A⁻ᵀ·g·A⁻ᵀ
    return (-_t(ans) @ g @ _t(ans),)


def _det_vjp(g, ans, a):
    # d det A / dA = det A · A⁻ᵀ
    return ((g * ans)[..., None, None] * _t(np.linalg.inv(a)),)


def _solve_vjp(g, ans, a, b):
    """x = A⁻¹b: db = A⁻ᵀ·g, dA = −db·xᵀ (b and x a vector or matrices)."""
    vector = b.ndim == a.ndim - 1
    g2, x2 = (g[..., None], ans[..., None]) if vector else (g, ans)
    db = np.linalg.solve(_t(a), g2)  # (..., n, n) \ (..., n, k) -> (..., n, k)
    da = -db @ _t(x2)  # (..., n, k) @ (..., k, n) -> (..., n, n)
    return da, db[..., 0] if vector else db


SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


# ---------------------------------------------------------------- the table
VJPS = {
    # arithmetic (broadcasting is undone by the tape)
    "add": lambda g, ans, x, y: (g, g),
    "subtract": lambda g, ans, x, y: (g, -g),
    "multiply": lambda g, ans, x, y: (g * y, g * x),
    "divide": lambda g, ans, x, y: (g / y, -g * ans / y),
    "mod": lambda g, ans, x, y: (g, -g * np.floor_divide(x, y)),
    "power": lambda g, ans, x, y: (
        g * y * np.power(x, y - 1),
        _where(x > 0, g * ans * np.log(np.where(x > 0, x, 1))),  # TensorFlow: 0 where x ≤ 0
    ),
    "negative": lambda g, ans, x: (-g,),
    "absolute": lambda g, ans, x: (g * np.sign(x),),
    "square": lambda g, ans, x: (2 * g * x,),
    "sqrt": lambda g, ans, x: (g / (2 * ans),),
    "rsqrt": lambda g, ans, x: (-0.5 * g * ans**3,),
    "reciprocal": lambda g, ans, x: (-g * ans * ans,),
    "sign": lambda g, ans, x: (np.zeros_like(g),),  # TensorFlow: zero, not None
    "maximum": lambda g, ans, x, y: (_where(x >= y, g), _where(x < y, g)),  # ties go to x
    "minimum": lambda g, ans, x, y: (_where(x <= y, g), _where(x > y, g)),
    "clip": lambda g, ans, x, lo, hi: (
        _where((x >= lo) & (x <= hi), g),
        _where(x < lo, g),
        _where(x > hi, g),
    ),
    "where": lambda g, ans, c, x, y: (None, _where(c, g), _where(~c, g)),
    # exponentials and logarithms
    "exp": lambda g, ans, x: (g * ans,),
    "expm1": lambda g, ans, x: (g * (ans + 1),),
    "log": lambda g, ans, x: (g / x,),
    "log1p": lambda g, ans, x: (g / (1 + x),),
    "log2": lambda g, ans, x: (g / (x * math.log(2)),),
    "log10": lambda g, ans, x: (g / (x * math.log(10)),),
    "logsumexp": lambda g, ans, x, axis=None, keepdims=False: (
        _keep(g, x, axis, keepdims) * np.exp(x - _keep(ans, x, axis, keepdims)),
    ),
    "erf": lambda g, ans, x: (g * 2 / math.sqrt(math.pi) * np.exp(-x * x),),
    # trigonometric and hyperbolic
    "sin": lambda g, ans, x: (g * np.cos(x),),
    "cos": lambda g, ans, x: (-g * np.sin(x),),
    "tan": lambda g, ans, x: (g * (1 + ans * ans),),
    "tanh": lambda g, ans, x: (g * (1 - ans * ans),),
    "sinh": lambda g, ans, x: (g * np.cosh(x),),
    "cosh": lambda g, ans, x: (g * np.sinh(x),),
    "arctan": lambda g, ans, x: (g / (1 + x * x),),
    "arcsin": lambda g, ans, x: (g / np.sqrt(1 - x * x),),
    "arccos": lambda g, ans, x: (-g / np.sqrt(1 - x * x),),
    "erfc": lambda g, ans, x: (-g * 2 / math.sqrt(math.pi) * np.exp(-x * x),),
    "arcsinh": lambda g, ans, x: (g / np.sqrt(x * x + 1),),
    "arccosh": lambda g, ans, x: (g / np.sqrt(x * x - 1),),
    "arctanh": lambda g, ans, x: (g / (1 - x * x),),
    "cbrt": lambda g, ans, x: (g / (3 * ans * ans),),  # d∛x = 1/(3·∛x²)
    "exp2": lambda g, ans, x: (g * ans * math.log(2),),
    # sinc x = sin(πx)/(πx): its derivative (cos(πx) − sinc x)/x, and 0 at x = 0
    "sinc": lambda g, ans, x: (g * _where(x != 0, (np.cos(np.pi * x) - ans) / _nonzero(x)),),
    # arctan2(y, x) = the angle of (x, y): d/dy = x/(x² + y²), d/dx = −y/(x² + y²)
    "arctan2": lambda g, ans, y, x: (g * x / (x * x + y * y), -g * y / (x * x + y * y)),
    "hypot": lambda g, ans, x, y: (g * x / ans, g * y / ans),
    # d ln(eˣ + eʸ)/dx = eˣ/(eˣ + eʸ) = e^(x − ans)
    "logaddexp": lambda g, ans, x, y: (g * np.exp(x - ans), g * np.exp(y - ans)),
    "logaddexp2": lambda g, ans, x, y: (g * np.exp2(x - ans), g * np.exp2(y - ans)),
    # products
    "matmul": _matmul_vjp,
    # linear algebra
    "inv": _inv_vjp,
    "det": _det_vjp,
    "solve": _solve_vjp,
    "tensordot": _tensordot_vjp,
    "einsum": _einsum_vjp,
    # reductions
    "sum": _sum_vjp,
    "mean": _mean_vjp,
    "max": _extremum_vjp,
    "min": _extremum_vjp,
    "prod": _prod_vjp,
    "cumsum": _cumsum_vjp,
    "cumprod": _cumprod_vjp,
    # shapes: the gradient goes back to where each entry came from
    "cast": lambda g, ans, x, dtype=None: (g,),
    "reshape": lambda g, ans, x, **_: (g.reshape(x.shape),),
    "transpose": lambda g, ans, x, axes=None: (
        np.transpose(g, None if axes is None else np.argsort(axes)),
    ),
    "broadcast_to": lambda g, ans, x, shape: (g,),
    "concatenate": _concatenate_vjp,
    "stack": lambda g, ans, xs, axis=0: ([np.take(g, i, axis=axis) for i in range(len(xs))],),
    "unstack": lambda g, ans, x, num=None, axis=0: (np.stack(g, axis=axis),),
    "split": _split_vjp,
    "tile": _tile_vjp,
    "repeat": _repeat_vjp,
    "flip": lambda g, ans, x, axis=None: (np.flip(g, axis),),
    "roll": lambda g, ans, x, shift, axis=None: (np.roll(g, np.negative(shift), axis),),
    "get_item": lambda g, ans, x, index: (_scatter_into(x.shape, g.dtype, index, g),),
    "take": _take_vjp,
    "take_along_axis": _take_along_axis_vjp,
    "pad": _pad_vjp,
    "slice": lambda g, ans, x, start_indices, shape: (
        _scatter_into(x.shape, g.dtype, _slice_index(start_indices, shape), g),
    ),
    "slice_update": _slice_update_vjp,
    "scatter": lambda g, ans, indices, values, shape: (None, g[tuple(np.asarray(indices).T)]),
    "scatter_update": _scatter_update_vjp,
    # with reduction="add", x and updates both reach the result: x everywhere, each update
    # at its index
    "scatter_update_add": lambda g, ans, x, indices, updates, reduction: (
        g,
        None,
        g[tuple(np.asarray(indices).T)],
    ),
    "segment_sum": lambda g, ans, data, ids, num_segments=None, sorted=False: (g[ids], None),
    "tril": lambda g, ans, x, k=0: (np.tril(g, k),),
    "triu": lambda g, ans, x, k=0: (np.triu(g, k),),
    "diag": _diag_vjp,
    "sort": _sort_vjp,
    "top_k": _top_k_vjp,
    "nan_to_num": lambda g, ans, x, **_: (_where(np.isfinite(x), g),),
    # activations (minikeras.ops.nn)
    "relu": lambda g, ans, x: (_where(x > 0, g),),
    "relu6": lambda g, ans, x: (_where((x > 0) & (x < 6), g),),
    "sigmoid": lambda g, ans, x: (g * ans * (1 - ans),),
    "softplus": lambda g, ans, x: (g * special.sigmoid(x),),
    "softsign": lambda g, ans, x: (g / (1 + np.abs(x)) ** 2,),
    "silu": lambda g, ans, x: (g * special.sigmoid(x) * (1 + x * (1 - special.sigmoid(x))),),
    "elu": lambda g, ans, x, alpha=1.0: (g * np.where(x > 0, 1, ans + alpha),),
    "selu": lambda g, ans, x: (g * np.where(x > 0, SELU_SCALE, ans + SELU_SCALE * SELU_ALPHA),),
    "leaky_relu": lambda g, ans, x, negative_slope=0.2: (g * np.where(x > 0, 1, negative_slope),),
    "gelu": _gelu_vjp,
    "softmax": _softmax_vjp,
    "log_softmax": _log_softmax_vjp,
    "softmax_cross_entropy_with_logits": _softmax_xent_vjp,
    "sparse_softmax_cross_entropy_with_logits": _sparse_softmax_xent_vjp,
}
