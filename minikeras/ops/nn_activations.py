"""More activations of Keras's nn group (celu, glu, the shrink functions, sparse_plus,
squareplus, sparsemax, ...), RMS and layer normalization, and psnr. (nn.py re-exports them.)

Each is written with the ops of numpy.py, as Keras's NumPy backend writes it, so that the
tape differentiates it through the VJPs of those ops.

>>> import numpy as np
>>> from minikeras import ops
>>> ops.hard_tanh(np.array([-2.0, 0.5, 3.0]))
array([-1. ,  0.5,  1. ])
"""

import warnings

import numpy as np

from minikeras.autodiff import unwrap
from minikeras.ops import numpy as onp
from minikeras.ops import shapes
from minikeras.ops.core import cast, convert_to_tensor
from minikeras.ops.symbolic import symbolic_op


def _const(value, x):
    """A Python number in x's dtype (Keras's backend makes its constants so)."""
    return np.asarray(value, dtype=unwrap(x).dtype)


@symbolic_op
def celu(x, alpha=1.0):
    """max(x, 0) + α·(e^(min(x, 0)/α) − 1)."""
    x = convert_to_tensor(x)
    negative_part = onp.expm1(onp.divide(onp.minimum(x, _const(0, x)), _const(alpha, x)))
    return onp.add(onp.maximum(x, _const(0, x)), onp.multiply(_const(alpha, x), negative_part))


@symbolic_op
def glu(x, axis=-1):
    """a·sigmoid(b), a and b the two halves of x along `axis`."""
    from minikeras.ops.nn import sigmoid

    x = convert_to_tensor(x)
    shape = np.shape(unwrap(x))
    if shape[axis] % 2 != 0:
        raise ValueError(
            f"axis size must be divisible by 2. Received: x.shape={shape} with axis={axis}"
        )
    a, b = onp.split(x, 2, axis=axis)
    return onp.multiply(a, sigmoid(b))


@symbolic_op
def hard_tanh(x):
    """x clipped to [−1, 1]."""
    x = convert_to_tensor(x)
    return onp.clip(x, -1.0, 1.0)


@symbolic_op
def hard_shrink(x, threshold=0.5):
    """x where |x| > threshold, else 0."""
    x = convert_to_tensor(x)
    keep = onp.greater(onp.absolute(x), _const(threshold, x))
    return onp.where(keep, x, _const(0, x))


@symbolic_op
def soft_shrink(x, threshold=0.5):
    """x − threshold above it, x + threshold below −threshold, 0 between."""
    x = convert_to_tensor(x)
    t = _const(threshold, x)
    shrunk = onp.where(onp.less(x, -t), onp.add(x, t), _const(0, x))
    return onp.where(onp.greater(x, t), onp.subtract(x, t), shrunk)


@symbolic_op
def tanh_shrink(x):
    """x − tanh x."""
    x = convert_to_tensor(x)
    return onp.subtract(x, onp.tanh(x))


@symbolic_op
def threshold(x, threshold, default_value):
    """x where x > threshold, else default_value."""
    x = convert_to_tensor(x)
    return onp.where(onp.greater(x, threshold), x, _const(default_value, x))


@symbolic_op
def squareplus(x, b=4):
    """(x + √(x² + b)) / 2."""
    x = convert_to_tensor(x)
    root = onp.sqrt(onp.add(onp.square(x), _const(b, x)))
    return onp.divide(onp.add(x, root), _const(2, x))


@symbolic_op
def sparse_plus(x):
    """0 for x ≤ −1, (x + 1)²/4 for −1 < x < 1, x for x ≥ 1."""
    x = convert_to_tensor(x)
    middle = onp.multiply(_const(0.25, x), onp.square(onp.add(x, _const(1, x))))
    upper = onp.where(onp.less(x, _const(1, x)), middle, x)
    return onp.where(onp.less_equal(x, _const(-1, x)), _const(0, x), upper)


@symbolic_op
def sparse_sigmoid(x):
    """0 for x ≤ −1, (x + 1)/2 between, 1 for x ≥ 1."""
    x = convert_to_tensor(x)
    middle = onp.multiply(_const(0.5, x), onp.add(x, _const(1, x)))
    upper = onp.where(onp.greater_equal(x, _const(1, x)), _const(1, x), middle)
    return onp.where(onp.less_equal(x, _const(-1, x)), _const(0, x), upper)


@symbolic_op
def sparsemax(x, axis=-1):
    """The Euclidean projection of x onto the probability simplex along `axis`: max(x − τ, 0),
    τ chosen so that the entries sum to 1 (Martins & Astudillo, 2016)."""
    x = convert_to_tensor(x)
    z = onp.flip(onp.sort(x, axis=axis), axis=axis)  # largest first
    k = np.arange(1, np.shape(unwrap(x))[axis] + 1, dtype=unwrap(x).dtype)
    shape = [1] * np.ndim(unwrap(x))
    shape[axis] = -1
    k = k.reshape(shape)
    cumulative = onp.cumsum(z, axis=axis)
    support = onp.greater(onp.add(1, onp.multiply(k, z)), cumulative)  # entries kept
    count = onp.sum(cast(support, unwrap(x).dtype), axis=axis, keepdims=True)
    total = onp.sum(onp.where(support, z, _const(0, x)), axis=axis, keepdims=True)
    tau = onp.divide(onp.subtract(total, 1), count)
    return onp.maximum(onp.subtract(x, tau), _const(0, x))


@symbolic_op(shape=shapes.like_first)
def rms_normalization(x, scale=1, axis=-1, epsilon=None):
    """x / √(mean(x²) + ε) along `axis`, times `scale`."""
    from minikeras import config

    x = onp._float(x)
    epsilon = config.epsilon() if epsilon is None else epsilon
    mean_square = onp.mean(onp.square(x), axis=axis, keepdims=True)
    normalized = onp.divide(x, onp.sqrt(onp.add(mean_square, _const(epsilon, x))))
    return cast(onp.multiply(normalized, scale), x.dtype)  # x's dtype, whatever scale's


@symbolic_op(shape=shapes.like_first)
def layer_normalization(x, gamma=None, beta=None, axis=-1, epsilon=None, **kwargs):
    """(x − mean) / √(var + ε) along `axis`, times gamma, plus beta. (Keras's deprecated
    `rms_scaling=True`: x / √(var + ε) times gamma, no mean, no beta.)"""
    from minikeras import config

    rms_scaling = kwargs.pop("rms_scaling", False)
    if rms_scaling:
        warnings.warn(  # Keras's warning
            "You passed `rms_scaling=True`, which is deprecated. This argument incorrectly "
            "scales the input by the variance, not the root mean square. To correctly use RMS "
            "Normalization, please use `keras.ops.rms_normalization` / "
            "`keras.ops.nn.rms_normalization` instead.",
            stacklevel=2,
        )
    x = onp._float(x)
    epsilon = config.epsilon() if epsilon is None else epsilon
    if rms_scaling:
        variance = onp.var(x, axis=axis, keepdims=True)
        out = onp.divide(x, onp.sqrt(onp.add(variance, _const(epsilon, x))))
        return cast(out if gamma is None else onp.multiply(out, gamma), x.dtype)
    mean = onp.mean(x, axis=axis, keepdims=True)
    variance = onp.var(x, axis=axis, keepdims=True)
    out = onp.divide(onp.subtract(x, mean), onp.sqrt(onp.add(variance, _const(epsilon, x))))
    if gamma is not None:
        out = onp.multiply(out, gamma)
    if beta is not None:
        out = onp.add(out, beta)
    return cast(out, x.dtype)  # x's dtype, whatever gamma's and beta's


@symbolic_op(shape=shapes.scalar)
def psnr(x1, x2, max_val):
    """The peak signal-to-noise ratio, 20·log₁₀(max_val) − 10·log₁₀(mean((x1 − x2)²))."""
    x1, x2 = onp._promote(x1, x2)
    shape1, shape2 = np.shape(unwrap(x1)), np.shape(unwrap(x2))
    if shape1 != shape2:
        raise ValueError(f"Input shapes {shape1} and {shape2} must match for PSNR calculation. ")
    mse = onp.mean(onp.square(onp.subtract(x1, x2)))
    return onp.subtract(
        onp.multiply(20.0, onp.log10(_const(max_val, x1))), onp.multiply(10.0, onp.log10(mse))
    )
