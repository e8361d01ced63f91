"""Linear-algebra ops (Keras's `keras.ops.linalg`): norm.

>>> import numpy as np
>>> from minikeras import ops
>>> ops.norm(np.array([3.0, 4.0]))
array(5.)
"""

import numpy as np

from minikeras.autodiff import unwrap
from minikeras.ops import numpy as onp
from minikeras.ops.numpy import _float
from minikeras.ops.symbolic import symbolic_op


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
