"""Linear-algebra ops (Keras's `keras.ops.linalg`): norm, inv, det, solve, the factorisations
(Cholesky, LU, QR, SVD, eigen), least squares, pseudo-inverse; slogdet (keras.ops.slogdet).

>>> import numpy as np
>>> from minikeras import ops
>>> ops.norm(np.array([3.0, 4.0]))
array(5.)
"""

import numpy as np

from minikeras import tree
from minikeras.autodiff import primitive, unwrap
from minikeras.autodiff.jvp import jvp as autodiff_jvp
from minikeras.ops import numpy as onp
from minikeras.ops.core_operations import Operation
from minikeras.ops.numpy import _float
from minikeras.ops.op_classes import operation_class, operation_classes
from minikeras.ops.symbolic import has_symbolic, symbolic_op


@symbolic_op
def norm(x, ord=None, axis=None, keepdims=False):
    """The vector or matrix norm of x, as np.linalg.norm, written with ops so that the tape
    differentiates it (matrix 2-, −2- and nuclear norms need an SVD: computed, not traced)."""
    x = _float(x)
    ndim = np.ndim(unwrap(x))
    if axis is None and ord is None:
        return onp.sqrt(onp.sum(onp.square(x), axis=tuple(range(ndim)), keepdims=keepdims))
    if axis is None:
        axis = tuple(range(ndim))
    axis = (axis,) if isinstance(axis, int) else tuple(axis)
    if not all(-ndim <= a < ndim for a in axis):
        raise ValueError(f"Invalid axis {axis} for `norm` of an input of rank {ndim}.")
    if len(axis) == 1:
        return _vector_norm(x, ord, axis[0], keepdims)
    if len(axis) != 2:
        raise ValueError(f"Invalid axis {axis} for `norm`: one or two axes.")
    return _matrix_norm(x, ord, axis, keepdims)


def _vector_norm(x, ord, axis, keepdims):
    a = onp.absolute(x)
    if ord is None or ord == 2:
        return onp.sqrt(onp.sum(onp.square(x), axis=axis, keepdims=keepdims))
    if ord == np.inf:
        return onp.max(a, axis=axis, keepdims=keepdims)
    if ord == -np.inf:
        return onp.min(a, axis=axis, keepdims=keepdims)
    if ord == 0:
        nonzero = onp.not_equal(x, 0).astype(np.asarray(unwrap(x)).dtype)
        return onp.sum(nonzero, axis=axis, keepdims=keepdims)
    if ord == 1:
        return onp.sum(a, axis=axis, keepdims=keepdims)
    if isinstance(ord, str):
        raise ValueError(f"Invalid `ord` argument for vector norm. Received: ord={ord}")
    return onp.power(onp.sum(onp.power(a, ord), axis=axis, keepdims=keepdims), 1.0 / ord)


def _matrix_norm(x, ord, axis, keepdims):
    rows, cols = (a % np.ndim(unwrap(x)) for a in axis)
    a = onp.absolute(x)

    def _reduce(reduce, first, second):
        out = reduce(onp.sum(a, axis=first, keepdims=True), axis=second, keepdims=True)
        return out if keepdims else onp.squeeze(out, axis=(rows, cols))

    if ord is None or ord == "fro":
        return onp.sqrt(onp.sum(onp.square(x), axis=(rows, cols), keepdims=keepdims))
    if ord == 1:
        return _reduce(onp.max, rows, cols)
    if ord == -1:
        return _reduce(onp.min, rows, cols)
    if ord == np.inf:
        return _reduce(onp.max, cols, rows)
    if ord == -np.inf:
        return _reduce(onp.min, cols, rows)
    if ord in (2, -2, "nuc"):
        value = np.linalg.norm(unwrap(x), ord=ord, axis=(rows, cols), keepdims=keepdims)
        return np.asarray(value)
    raise ValueError(f"Invalid `ord` argument for matrix norm. Received: ord={ord}")


# ---------------------------------------------------------------- checks (Keras's messages)
def _matrices(*arrays, square=False):
    """The arguments as float arrays (integers become floatx); raise Keras's ValueError for
    one of rank below 2, or not square when `square`."""
    out = []
    for a in arrays:
        a = _float(a)
        shape = np.shape(unwrap(a))
        if len(shape) < 2:
            raise ValueError(
                f"Expected input to have rank >= 2. Received input with shape {shape}."
            )
        if square and shape[-1] != shape[-2]:
            raise ValueError(
                f"Expected a square matrix. Received non-square input with shape {shape}"
            )
        out.append(a)
    return out if len(out) > 1 else out[0]


def _solve_shapes(a, b):
    sa, sb = np.shape(unwrap(a)), np.shape(unwrap(b))
    if len(sa) == len(sb) and sa[-2] != sb[-2]:
        raise ValueError(
            "Incompatible shapes between `a` and `b`. Expected `a.shape[-2] == b.shape[-2]`. "
            f"Received: a.shape={sa}, b.shape={sb}"
        )
    if len(sa) == len(sb) + 1 and sa[-1] != sb[-1]:
        raise ValueError(
            "Incompatible shapes between `a` and `b`. Expected `a.shape[-1] == b.shape[-1]`. "
            f"Received: a.shape={sa}, b.shape={sb}"
        )


def _plain(x):
    return unwrap(x)


# ---------------------------------------------------------------- differentiable
@symbolic_op
def inv(x):
    """The inverse matrix x⁻¹ (of each matrix of a stack)."""
    return primitive("inv", np.linalg.inv, _matrices(x, square=True))


@symbolic_op
def det(x):
    """The determinant of each matrix."""
    return primitive("det", np.linalg.det, _matrices(x, square=True))


@symbolic_op
def slogdet(x):
    """(sign, log |det x|) of each matrix: the determinant without its overflow (keras.ops.slogdet).
    The gradient reaches x through log |det x| only: d log |det A| / dA = A⁻ᵀ."""
    return primitive("slogdet", _slogdet, _matrices(x, square=True))


def _slogdet(x):
    sign, logabsdet = np.linalg.slogdet(x)
    return sign.astype(x.dtype), logabsdet.astype(x.dtype)


@symbolic_op
def solve(a, b):
    """The x with a·x = b (a square; b a vector or matrices)."""
    a = _matrices(a, square=True)
    b = onp._promote(_float(b), a)[0]
    _solve_shapes(a, b)
    return primitive("solve", _solve, a, b)


def _solve(a, b):
    if b.ndim == a.ndim - 1:  # a stack of vectors: NumPy 2 wants them as columns
        return np.linalg.solve(a, b[..., None])[..., 0]
    return np.linalg.solve(a, b)


# ---------------------------------------------------------------- no gradient
@symbolic_op
def cholesky(x, upper=False):
    """The triangular L with L·Lᵀ = x (Uᵀ·U with `upper`), x symmetric positive definite."""
    x = _plain(_matrices(x, square=True))
    try:
        lower = np.linalg.cholesky(x)
    except np.linalg.LinAlgError as error:
        raise ValueError(f"Cholesky decomposition failed: {error}") from None
    return np.swapaxes(lower, -1, -2) if upper else lower


@symbolic_op
def cholesky_inverse(x, upper=False):
    """The inverse of the matrix whose Cholesky factor is x."""
    factor = _plain(_matrices(x, square=True))
    inverse = np.linalg.inv(factor)
    t = np.swapaxes(inverse, -1, -2)
    return inverse @ t if upper else t @ inverse


@symbolic_op
def eig(x):
    """The eigenvalues and eigenvectors of each (square) matrix."""
    w, v = np.linalg.eig(_plain(_matrices(x, square=True)))
    return w, v


@symbolic_op
def eigh(x):
    """The eigenvalues (ascending) and eigenvectors of each symmetric matrix."""
    w, v = np.linalg.eigh(_plain(_matrices(x, square=True)))
    return w, v


@symbolic_op
def lu_factor(x):
    """The LU factorisation with partial pivoting, as scipy.linalg.lu_factor: L and U in one
    matrix (L's unit diagonal left out), and the row swapped with each row (int32)."""
    x = _plain(_matrices(x))
    if x.ndim == 2:
        return _lu_factor(x)
    results = [_lu_factor(m) for m in x.reshape((-1,) + x.shape[-2:])]
    lu = np.stack([r[0] for r in results]).reshape(x.shape)
    pivots = np.stack([r[1] for r in results]).reshape(x.shape[:-2] + (-1,))
    return lu, pivots


def _lu_factor(a):
    lu = np.array(a, copy=True)
    m, n = lu.shape
    pivots = np.zeros(min(m, n), dtype="int32")
    for k in range(min(m, n)):
        p = k + int(np.argmax(np.abs(lu[k:, k])))  # the largest pivot: stable elimination
        pivots[k] = p
        if p != k:
            lu[[k, p]] = lu[[p, k]]
        if lu[k, k] != 0:
            lu[k + 1 :, k] /= lu[k, k]
            lu[k + 1 :, k + 1 :] -= np.outer(lu[k + 1 :, k], lu[k, k + 1 :])
    return lu, pivots


@symbolic_op
def qr(x, mode="reduced"):
    """Q (orthonormal columns) and R (upper triangular) with Q·R = x."""
    _check_qr_mode(mode)
    q, r = np.linalg.qr(_plain(_matrices(x)), mode=mode)
    return q, r


def _check_qr_mode(mode):
    if mode not in {"reduced", "complete"}:
        raise ValueError(
            "`mode` argument value not supported. Expected one of {'reduced', 'complete'}. "
            f"Received: mode={mode}"
        )


@symbolic_op
def solve_triangular(a, b, lower=False):
    """The x with a·x = b, reading only a's lower (or upper) triangle."""
    a = _matrices(a)
    b = onp._promote(_float(b), a)[0]
    _solve_shapes(a, b)
    a = np.tril(_plain(a)) if lower else np.triu(_plain(a))
    return _solve(a, _plain(b))


@symbolic_op
def svd(x, full_matrices=True, compute_uv=True):
    """U, S, Vᴴ with x = U·diag(S)·Vᴴ (only S without `compute_uv`)."""
    out = np.linalg.svd(_plain(_matrices(x)), full_matrices=full_matrices, compute_uv=compute_uv)
    return tuple(out) if compute_uv else out


@symbolic_op
def lstsq(a, b, rcond=None):
    """The x minimising ‖a·x − b‖₂."""
    a = _plain(_matrices(a))
    b = _plain(onp._promote(_float(b), a)[0])
    if b.ndim not in (1, 2) or a.ndim != 2 or a.shape[0] != b.shape[0]:
        raise ValueError(
            "Incompatible shapes between `a` and `b`: `a` must be 2-d and `b` 1-d or 2-d, with "
            f"as many rows. Received: a.shape={a.shape}, b.shape={b.shape}"
        )
    return np.linalg.lstsq(a, b, rcond=rcond)[0]


@symbolic_op
def matrix_rank(x, tol=None):
    """The number of singular values of x above `tol`, int32."""
    return np.asarray(np.linalg.matrix_rank(_plain(_matrices(x)), tol=tol)).astype("int32")


@symbolic_op
def pinv(x, rcond=None):
    """The Moore–Penrose pseudo-inverse of each matrix."""
    x = _plain(_matrices(x))
    return np.linalg.pinv(x) if rcond is None else np.linalg.pinv(x, rcond=rcond)


# Keras's Operation classes (`Qr(mode="reduced")(x)`), made from the ops
globals().update(operation_classes(globals(), __name__))


class Qr(operation_class("Qr", qr)):
    """Keras's Qr Operation: its mode is checked when it is made, and its spec wants a
    matrix whose last two axes are known (as Keras's)."""

    def __init__(self, mode="reduced", *, name=None):
        _check_qr_mode(mode)
        super().__init__(mode, name=name)

    def compute_output_spec(self, x):
        shape = tuple(np.shape(x) if not hasattr(x, "shape") else x.shape)
        if len(shape) < 2:
            raise ValueError(f"Input should have rank >= 2. Received: input.shape = {shape}")
        if None in shape[-2:]:
            raise ValueError(
                "Input should have its last 2 dimensions fully-defined. "
                f"Received: input.shape = {shape}"
            )
        return super().compute_output_spec(x)


class JVP(Operation):
    """Keras's JVP Operation: `jvp` on arrays; on KerasTensors, a node whose outputs have the
    shapes and dtypes of `fun`'s (the tangents out are shaped as the outputs)."""

    def __init__(self, has_aux=False, *, name=None):
        super().__init__(name=name)
        self.has_aux = has_aux

    def call(self, fun, primals, tangents):
        return autodiff_jvp(fun, primals, tangents, has_aux=self.has_aux)

    def compute_output_spec(self, fun, primals, tangents):
        from minikeras.layers.node import KerasTensor  # (layers import ops)

        result = fun(*primals)  # on the KerasTensors: only shapes and dtypes come out

        def spec(structure):
            return tree.map_structure(lambda t: KerasTensor(t.shape, dtype=t.dtype), structure)

        output, aux = result if self.has_aux else (result, None)
        if self.has_aux:
            return spec(output), spec(output), spec(aux)
        return spec(output), spec(output)


def jvp(fun, primals, tangents, has_aux=False):
    """(fun(*primals), J·tangents), and fun's auxiliary output with `has_aux`: the
    Jacobian–vector product of minikeras.autodiff.jvp; on KerasTensors, their specs."""
    if has_symbolic((primals, tangents)):
        return JVP(has_aux)(fun, primals, tangents)
    return autodiff_jvp(fun, primals, tangents, has_aux=has_aux)
