"""minikeras.ops against keras.ops (TensorFlow backend): every op's forward, and every
differentiable op's vector–Jacobian product against tf.GradientTape's.

Each row of OPS is one call, written once as `fn(ops, *arrays)` and run with `ops` = keras.ops
and with `ops` = minikeras.ops on the same arrays (hypothesis draws the values, a few examples
per op). Values are drawn inside each op's domain (positive for log, |x| < 1 for arcsin, away
from the kinks of relu-like ops, where the two sides of a central difference, or of a tie,
disagree by design).

Tolerances. A component is compared normwise: max|a − b| / max(‖a‖∞, ‖b‖∞).
- float64, 1e-10: both sides round at 1.1e-16; these are one or two elementwise operations or
  short sums (≤ 24 terms), so they agree to a few ulps (measured worst below 1e-14); 1e-10
  still catches any formula difference (a float32 constant in a float64 formula is 1e-8 off).
- float32 forward, 1e-5: 6e-8 per rounding; TensorFlow's kernels may order sums and use other
  polynomial approximations of exp, log, tanh, erf (a few ulps each, ≲ 1e-6 together); 1e-5
  leaves an order of magnitude.
- gradients are checked in float64 only (the VJP formulas are what is being tested; float32
  adds nothing but rounding).
"""

import os

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from minikeras import ops as mops
from minikeras.autodiff import GradientTape, Tensor

EXAMPLES = 30 if os.environ.get("HYPOTHESIS_PROFILE") == "thorough" else 3

A23, A3, A13, A21, A234, A4, A33 = (2, 3), (3,), (1, 3), (2, 1), (2, 3, 4), (4,), (3, 3)
I32 = np.array([[0, 2], [1, 1], [2, 0]])  # indices into 3 entries


def arr(shape, low=-2.0, high=2.0, gap=0.0):
    """(shape, low, high, gap): values uniform in [low, high], at least `gap` from 0."""
    return (shape, low, high, gap)


POS = dict(low=0.2, high=3.0)
UNIT = dict(low=-0.9, high=0.9)
OFF = dict(gap=0.05)

# name, fn(ops, *xs), argument specs, differentiable
OPS = [
    # arithmetic, with broadcasting
    ("add", lambda o, x, y: o.add(x, y), [arr(A23), arr(A3)], True),
    ("subtract", lambda o, x, y: o.subtract(x, y), [arr(A21), arr(A13)], True),
    ("multiply", lambda o, x, y: o.multiply(x, y), [arr(A23), arr(A21)], True),
    ("divide", lambda o, x, y: o.divide(x, y), [arr(A23), arr(A3, **POS)], True),
    ("true_divide", lambda o, x, y: o.true_divide(x, y), [arr(A3), arr(A23, **POS)], True),
    ("floor_divide", lambda o, x, y: o.floor_divide(x, y), [arr(A23), arr(A3, **POS)], False),
    ("mod", lambda o, x, y: o.mod(x, y), [arr(A23), arr(A3, **POS)], True),
    ("power", lambda o, x, y: o.power(x, y), [arr(A23, **POS), arr(A3)], True),
    ("power scalar", lambda o, x: o.power(x, 3), [arr(A23)], True),
    ("negative", lambda o, x: o.negative(x), [arr(A23)], True),
    ("abs", lambda o, x: o.abs(x), [arr(A23, **OFF)], True),
    ("absolute", lambda o, x: o.absolute(x), [arr(A23, **OFF)], True),
    ("square", lambda o, x: o.square(x), [arr(A23)], True),
    ("sqrt", lambda o, x: o.sqrt(x), [arr(A23, **POS)], True),
    ("rsqrt", lambda o, x: o.rsqrt(x), [arr(A23, **POS)], True),
    ("exp", lambda o, x: o.exp(x), [arr(A23)], True),
    ("expm1", lambda o, x: o.expm1(x), [arr(A23)], True),
    ("log", lambda o, x: o.log(x), [arr(A23, **POS)], True),
    ("log1p", lambda o, x: o.log1p(x), [arr(A23, **POS)], True),
    ("log2", lambda o, x: o.log2(x), [arr(A23, **POS)], True),
    ("log10", lambda o, x: o.log10(x), [arr(A23, **POS)], True),
    ("sign", lambda o, x: o.sign(x), [arr(A23, **OFF)], True),
    ("sin", lambda o, x: o.sin(x), [arr(A23)], True),
    ("cos", lambda o, x: o.cos(x), [arr(A23)], True),
    ("tan", lambda o, x: o.tan(x), [arr(A23, low=-1.2, high=1.2)], True),
    ("tanh", lambda o, x: o.tanh(x), [arr(A23)], True),
    ("sinh", lambda o, x: o.sinh(x), [arr(A23)], True),
    ("cosh", lambda o, x: o.cosh(x), [arr(A23)], True),
    ("arctan", lambda o, x: o.arctan(x), [arr(A23)], True),
    ("arcsin", lambda o, x: o.arcsin(x), [arr(A23, **UNIT)], True),
    ("arccos", lambda o, x: o.arccos(x), [arr(A23, **UNIT)], True),
    ("maximum", lambda o, x, y: o.maximum(x, y), [arr(A23), arr(A3)], True),
    ("minimum", lambda o, x, y: o.minimum(x, y), [arr(A23), arr(A3)], True),
    ("clip", lambda o, x: o.clip(x, -0.5, 0.7), [arr(A23)], True),
    ("round", lambda o, x: o.round(x), [arr(A23)], False),
    ("floor", lambda o, x: o.floor(x), [arr(A23)], False),
    ("ceil", lambda o, x: o.ceil(x), [arr(A23)], False),
    ("reciprocal", lambda o, x: o.reciprocal(x), [arr(A23, **POS)], True),
    ("erf", lambda o, x: o.erf(x), [arr(A23)], True),
    ("where", lambda o, x, y: o.where(o.greater(x, 0), x, y), [arr(A23, **OFF), arr(A3)], True),
    # products
    ("matmul", lambda o, x, y: o.matmul(x, y), [arr(A23), arr((3, 4))], True),
    ("matmul batch", lambda o, x, y: o.matmul(x, y), [arr(A234), arr((4, 2))], True),
    ("matmul vector", lambda o, x, y: o.matmul(x, y), [arr(A3), arr((2, 3, 4))], True),
    ("matmul matrix-vector", lambda o, x, y: o.matmul(x, y), [arr(A23), arr(A3)], True),
    ("dot", lambda o, x, y: o.dot(x, y), [arr(A23), arr((3, 2))], True),
    ("dot 3d", lambda o, x, y: o.dot(x, y), [arr(A23), arr((2, 3, 4))], True),
    ("tensordot", lambda o, x, y: o.tensordot(x, y, axes=2), [arr(A234), arr((3, 4, 2))], True),
    (
        "tensordot axes",
        lambda o, x, y: o.tensordot(x, y, axes=([0, 2], [2, 0])),
        [arr(A234), arr((4, 5, 2))],
        True,
    ),
    ("einsum", lambda o, x, y: o.einsum("ij,jk->ik", x, y), [arr(A23), arr((3, 4))], True),
    ("einsum batch", lambda o, x, y: o.einsum("bij,bj->bi", x, y), [arr(A234), arr((2, 4))], True),
    ("einsum sum", lambda o, x, y: o.einsum("ij,k->i", x, y), [arr(A23), arr(A4)], True),
    ("einsum ellipsis", lambda o, x, y: o.einsum("...ij,jk", x, y), [arr(A234), arr((4, 2))], True),
    ("outer", lambda o, x, y: o.outer(x, y), [arr(A3), arr(A4)], True),
    ("logsumexp", lambda o, x: o.logsumexp(x, axis=1), [arr(A234)], True),
    ("logsumexp all", lambda o, x: o.logsumexp(x), [arr(A23)], True),
    # reductions
    ("sum", lambda o, x: o.sum(x), [arr(A234)], True),
    ("sum axis", lambda o, x: o.sum(x, axis=(0, 2), keepdims=True), [arr(A234)], True),
    ("mean", lambda o, x: o.mean(x, axis=-1), [arr(A234)], True),
    ("max", lambda o, x: o.max(x, axis=1), [arr(A234)], True),
    ("min", lambda o, x: o.min(x, axis=0, keepdims=True), [arr(A234)], True),
    ("max ties", lambda o, x: o.max(o.concatenate([x, x], axis=1), axis=1), [arr(A23)], True),
    ("prod", lambda o, x: o.prod(x, axis=1), [arr(A234, **OFF)], True),
    ("std", lambda o, x: o.std(x, axis=1), [arr(A234, **OFF)], True),
    ("var", lambda o, x: o.var(x), [arr(A234, **OFF)], True),
    ("argmax", lambda o, x: o.argmax(x, axis=1), [arr(A234)], False),
    ("argmin", lambda o, x: o.argmin(x), [arr(A234)], False),
    ("any", lambda o, x: o.any(o.greater(x, 1.5), axis=0), [arr(A23)], False),
    ("all", lambda o, x: o.all(o.greater(x, -1.5), axis=1), [arr(A23)], False),
    ("cumsum", lambda o, x: o.cumsum(x, axis=1), [arr(A234)], True),
    ("cumsum flat", lambda o, x: o.cumsum(x), [arr(A23)], True),
    ("cumprod", lambda o, x: o.cumprod(x, axis=0), [arr(A234, **OFF)], True),
    ("norm", lambda o, x: o.norm(x), [arr(A23, **OFF)], True),
    ("norm axis", lambda o, x: o.norm(x, axis=1), [arr(A234, **OFF)], True),
    ("norm ord 1", lambda o, x: o.norm(x, ord=1, axis=0), [arr(A23, **OFF)], True),
    ("norm inf", lambda o, x: o.norm(x, ord=np.inf, axis=-1), [arr(A23, **OFF)], True),
    ("norm fro", lambda o, x: o.norm(x, ord="fro", axis=(0, 1)), [arr(A23, **OFF)], True),
    ("count_nonzero", lambda o, x: o.count_nonzero(o.round(x)), [arr(A23)], False),
    # shapes
    ("reshape", lambda o, x: o.reshape(x, (4, -1)), [arr(A234)], True),
    ("transpose", lambda o, x: o.transpose(x, (2, 0, 1)), [arr(A234)], True),
    ("transpose default", lambda o, x: o.transpose(x), [arr(A234)], True),
    ("expand_dims", lambda o, x: o.expand_dims(x, 1), [arr(A23)], True),
    ("squeeze", lambda o, x: o.squeeze(x, axis=1), [arr((2, 1, 3))], True),
    ("concatenate", lambda o, x, y: o.concatenate([x, y], axis=1), [arr(A23), arr((2, 4))], True),
    ("stack", lambda o, x, y: o.stack([x, y], axis=1), [arr(A23), arr(A23)], True),
    ("unstack", lambda o, x: o.unstack(x, axis=1)[1], [arr(A234)], True),
    ("split", lambda o, x: o.split(x, 2, axis=2)[1], [arr(A234)], True),
    ("split indices", lambda o, x: o.split(x, [1, 3], axis=2)[2], [arr(A234)], True),
    ("tile", lambda o, x: o.tile(x, (2, 1, 3)), [arr(A23)], True),
    ("repeat", lambda o, x: o.repeat(x, 2, axis=1), [arr(A23)], True),
    ("repeat flat", lambda o, x: o.repeat(x, 3), [arr(A23)], True),
    ("repeat counts", lambda o, x: o.repeat(x, [1, 0, 2], axis=1), [arr(A23)], True),
    ("broadcast_to", lambda o, x: o.broadcast_to(x, (4, 2, 3)), [arr(A13)], True),
    ("flip", lambda o, x: o.flip(x, axis=1), [arr(A234)], True),
    ("roll", lambda o, x: o.roll(x, 2, axis=2), [arr(A234)], True),
    ("roll flat", lambda o, x: o.roll(x, -1), [arr(A23)], True),
    ("take", lambda o, x: o.take(x, np.array([2, 0, 2]), axis=1), [arr(A234)], True),
    ("take flat", lambda o, x: o.take(x, np.array([[5, 1], [1, 0]])), [arr(A23)], True),
    (
        "take_along_axis",
        lambda o, x: o.take_along_axis(x, np.array([[0, 2], [1, 1], [2, 0]]), axis=1),
        [arr(A33)],
        True,
    ),
    ("pad", lambda o, x: o.pad(x, ((1, 0), (2, 1))), [arr(A23)], True),
    ("slice", lambda o, x: o.slice(x, (0, 1, 1), (2, 2, 2)), [arr(A234)], True),
    ("stop_gradient", lambda o, x: o.multiply(o.stop_gradient(x), x), [arr(A23)], True),
    ("cast", lambda o, x: o.cast(x, "float32"), [arr(A23)], False),
    ("tril", lambda o, x: o.tril(x, -1), [arr(A33)], True),
    ("triu", lambda o, x: o.triu(x, 1), [arr((3, 4))], True),
    ("diag of vector", lambda o, x: o.diag(x, 1), [arr(A3)], True),
    ("diag of matrix", lambda o, x: o.diag(x, -1), [arr((4, 3))], True),
    ("sort", lambda o, x: o.sort(x, axis=1), [arr(A234)], True),
    ("argsort", lambda o, x: o.argsort(x, axis=0), [arr(A234)], False),
    ("top_k", lambda o, x: o.top_k(x, 2)[0], [arr(A234)], True),
    ("top_k indices", lambda o, x: o.top_k(x, 3)[1], [arr(A234)], False),
    ("getitem", lambda o, x: x[1:, ::2], [arr(A234)], True),
    ("equal", lambda o, x, y: o.equal(o.round(x), o.round(y)), [arr(A23), arr(A3)], False),
    ("not_equal", lambda o, x, y: o.not_equal(o.round(x), y), [arr(A23), arr(A3)], False),
    ("less", lambda o, x, y: o.less(x, y), [arr(A23), arr(A3)], False),
    ("less_equal", lambda o, x, y: o.less_equal(x, y), [arr(A23), arr(A3)], False),
    ("greater", lambda o, x, y: o.greater(x, y), [arr(A23), arr(A3)], False),
    ("greater_equal", lambda o, x, y: o.greater_equal(x, y), [arr(A23), arr(A3)], False),
    (
        "logical",
        lambda o, x, y: o.logical_or(o.logical_and(x > 0, y > 0), o.logical_not(x < 1)),
        [arr(A23), arr(A3)],
        False,
    ),
    ("isnan", lambda o, x: o.isnan(o.log(x)), [arr(A23)], False),
    ("isinf", lambda o, x: o.isinf(o.divide(x, o.round(x))), [arr(A23)], False),
    ("isfinite", lambda o, x: o.isfinite(o.log(x)), [arr(A23)], False),
    ("nan_to_num", lambda o, x: o.nan_to_num(o.sqrt(x), nan=0.5), [arr(A23, **OFF)], False),
    ("scatter", lambda o, x: o.scatter(I32, x, (3, 3)), [arr(A3)], True),
    (
        "scatter_update",
        lambda o, x, y: o.scatter_update(x, I32[:2], y),
        [arr(A33), arr((2,))],
        True,
    ),
    (
        "slice_update",
        lambda o, x, y: o.slice_update(x, (1, 0), y),
        [arr(A33), arr((2, 2))],
        False,  # TensorFlow has no gradient for it (tests/unit/test_tape.py checks ours)
    ),
    (
        "segment_sum",
        lambda o, x: o.segment_sum(x, np.array([0, 2, 0, 1]), num_segments=3),
        [arr((4, 2))],
        True,
    ),
    # nn
    ("relu", lambda o, x: o.relu(x), [arr(A23, **OFF)], True),
    ("relu6", lambda o, x: o.relu6(x * 4), [arr(A23, **OFF)], True),
    ("sigmoid", lambda o, x: o.sigmoid(x), [arr(A23)], True),
    ("softplus", lambda o, x: o.softplus(x), [arr(A23)], True),
    ("softsign", lambda o, x: o.softsign(x), [arr(A23)], True),
    ("silu", lambda o, x: o.silu(x), [arr(A23)], True),
    ("swish", lambda o, x: o.swish(x), [arr(A23)], True),
    ("gelu", lambda o, x: o.gelu(x), [arr(A23)], True),
    ("gelu exact", lambda o, x: o.gelu(x, approximate=False), [arr(A23)], True),
    ("elu", lambda o, x: o.elu(x, alpha=0.7), [arr(A23, **OFF)], True),
    ("selu", lambda o, x: o.selu(x), [arr(A23, **OFF)], True),
    ("leaky_relu", lambda o, x: o.leaky_relu(x, negative_slope=0.1), [arr(A23, **OFF)], True),
    ("hard_sigmoid", lambda o, x: o.hard_sigmoid(x * 2), [arr(A23, **OFF)], True),
    ("hard_silu", lambda o, x: o.hard_silu(x * 2), [arr(A23, **OFF)], True),
    ("log_sigmoid", lambda o, x: o.log_sigmoid(x), [arr(A23)], True),
    ("softmax", lambda o, x: o.softmax(x), [arr(A234)], True),
    ("softmax axis", lambda o, x: o.softmax(x, axis=0), [arr(A23)], True),
    ("log_softmax", lambda o, x: o.log_softmax(x, axis=1), [arr(A234)], True),
    (
        "categorical_crossentropy",
        # probabilities not made by keras.ops.softmax: Keras's TensorFlow backend would take
        # the softmax's logits and TensorFlow's from-logits gradient instead
        lambda o, y, p: o.categorical_crossentropy(
            y, o.exp(p) / o.sum(o.exp(p), -1, keepdims=True)
        ),
        [arr(A23, low=0.0, high=1.0), arr(A23)],
        True,
    ),
    (
        "categorical_crossentropy from_logits",
        lambda o, y, z: o.categorical_crossentropy(y, z, from_logits=True),
        [arr(A23, low=0.0, high=1.0), arr(A23)],
        True,
    ),
    (
        "sparse_categorical_crossentropy",
        lambda o, p: o.sparse_categorical_crossentropy(np.array([2, 0]), o.softmax(p)),
        [arr(A23)],
        True,
    ),
    (
        "sparse_categorical_crossentropy from_logits",
        lambda o, z: o.sparse_categorical_crossentropy(np.array([[1], [2]]), z, from_logits=True),
        [arr(A23)],
        True,
    ),
    (
        "binary_crossentropy",
        lambda o, y, p: o.binary_crossentropy(y, o.sigmoid(p)),
        [arr(A23, low=0.0, high=1.0), arr(A23)],
        True,
    ),
    (
        "binary_crossentropy from_logits",
        lambda o, y, z: o.binary_crossentropy(y, z, from_logits=True),
        [arr(A23, low=0.0, high=1.0), arr(A23, **OFF)],
        True,
    ),
    ("moments", lambda o, x: o.add(*o.moments(x, axes=[0, 2])), [arr(A234)], True),
    (
        "batch_normalization",
        lambda o, x, m, v, b, s: o.batch_normalization(x, m, v, axis=1, offset=b, scale=s),
        [arr(A234), arr(A3), arr(A3, **POS), arr(A3), arr(A3)],
        True,
    ),
    ("normalize", lambda o, x: o.normalize(x, axis=1), [arr(A23, **OFF)], True),
    ("normalize order 1", lambda o, x: o.normalize(x, order=1), [arr(A23, **OFF)], True),
    ("one_hot", lambda o, x: o.one_hot(o.cast(o.abs(x), "int32"), 3), [arr(A23)], False),
    ("multi_hot", lambda o, x: o.multi_hot(o.cast(o.abs(x), "int32"), 3), [arr(A23)], False),
    # the rest of the numpy group (ops/numpy_elementwise.py, ops/numpy_arrays.py)
    ("arcsinh", lambda o, x: o.arcsinh(x), [arr(A23)], True),
    ("arccosh", lambda o, x: o.arccosh(x), [arr(A23, low=1.2, high=3.0)], True),
    ("arctanh", lambda o, x: o.arctanh(x), [arr(A23, **UNIT)], True),
    ("arctan2", lambda o, x, y: o.arctan2(x, y), [arr(A23, **OFF), arr(A3, **OFF)], True),
    # (|x| and |y| kept apart: TensorFlow's hypot goes through max(|x|, |y|), whose gradient
    # at a tie is split differently)
    ("hypot", lambda o, x, y: o.hypot(x, y), [arr(A23, 0.2, 1.0), arr(A21, 1.5, 3.0)], True),
    ("logaddexp", lambda o, x, y: o.logaddexp(x, y), [arr(A23), arr(A3)], True),
    ("cbrt", lambda o, x: o.cbrt(x), [arr(A23, **OFF)], True),
    ("exp2", lambda o, x: o.exp2(x), [arr(A23)], True),
    ("deg2rad", lambda o, x: o.deg2rad(x), [arr(A23)], True),
    ("append", lambda o, x, y: o.append(x, y, axis=0), [arr(A23), arr(A13)], True),
    ("vstack", lambda o, x, y: o.vstack([x, y]), [arr(A13), arr(A23)], True),
    ("hstack", lambda o, x, y: o.hstack([x, y]), [arr(A21), arr(A23)], True),
    ("moveaxis", lambda o, x: o.moveaxis(x, 0, -1), [arr(A234)], True),
    ("swapaxes", lambda o, x: o.swapaxes(x, 0, 2), [arr(A234)], True),
    ("diagonal", lambda o, x: o.diagonal(x, offset=1, axis1=1, axis2=2), [arr(A234)], True),
    ("trace", lambda o, x: o.trace(x, axis1=1, axis2=2), [arr(A234)], True),
    ("diff", lambda o, x: o.diff(x, n=2, axis=2), [arr(A234)], True),
    ("vdot", lambda o, x, y: o.vdot(x, y), [arr(A23), arr(A23)], True),
    ("inner", lambda o, x, y: o.inner(x, y), [arr(A23), arr((4, 3))], True),
    ("average", lambda o, x, w: o.average(x, axis=1, weights=w), [arr(A23), arr(A3, **POS)], True),
    ("ptp", lambda o, x: o.ptp(x, axis=1), [arr(A234)], True),
    ("rot90", lambda o, x: o.rot90(x, k=3), [arr(A234)], True),
    ("erfc", lambda o, x: o.erfc(x), [arr(A23)], True),
    (
        "segment_max",
        lambda o, x: o.segment_max(x, np.array([0, 2, 0, 1]), num_segments=4),
        [arr((4, 2))],
        False,
    ),
    # the rest of the nn group (ops/nn_activations.py)
    ("celu", lambda o, x: o.celu(x, alpha=0.5), [arr(A23, **OFF)], True),
    ("glu", lambda o, x: o.glu(x, axis=1), [arr((2, 4))], True),
    ("hard_tanh", lambda o, x: o.hard_tanh(x * 2), [arr(A23, **OFF)], True),
    ("soft_shrink", lambda o, x: o.soft_shrink(x), [arr(A23, gap=0.6)], True),
    ("tanh_shrink", lambda o, x: o.tanh_shrink(x), [arr(A23)], True),
    ("squareplus", lambda o, x: o.squareplus(x), [arr(A23)], True),
    ("rms_normalization", lambda o, x: o.rms_normalization(x, axis=1), [arr(A234)], True),
    ("layer_normalization", lambda o, x: o.layer_normalization(x), [arr(A234, **OFF)], True),
    # linear algebra, on well-conditioned matrices (x + 3I)
    ("inv", lambda o, x: o.inv(x + 3 * o.eye(3, dtype=x.dtype)), [arr(A33, **UNIT)], True),
    ("det", lambda o, x: o.det(x + 3 * o.eye(3, dtype=x.dtype)), [arr((2, 3, 3), **UNIT)], True),
    (
        "solve",
        lambda o, a, b: o.solve(a + 3 * o.eye(3, dtype=a.dtype), b),
        [arr((2, 3, 3), **UNIT), arr((2, 3, 2))],
        True,
    ),
    # operators and NumPy on Tensors (keras.ops side: the same expression on tf tensors)
    (
        "operators",
        lambda o, x, y: (x * y - y / 2.0) ** 2 + abs(x) @ o.transpose(y) @ y,
        [arr(A23, **OFF), arr(A23)],
        True,
    ),
]


def _draw(data, spec, dtype):
    shape, low, high, gap = spec
    values = data.draw(
        st.lists(
            st.floats(low, high, allow_nan=False, allow_subnormal=False, width=64),
            min_size=int(np.prod(shape)),
            max_size=int(np.prod(shape)),
        )
    )
    x = np.array(values, dtype=np.float64).reshape(shape)
    if gap:
        x = np.where(np.abs(x) < gap, np.where(x < 0, -gap, gap), x)
    x = x.astype(dtype)
    # TensorFlow flushes subnormal numbers to zero on CPU; NumPy keeps them
    return np.where(np.abs(x) < np.finfo(dtype).tiny, np.zeros((), dtype), x)


def _rel(a, b):
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    assert a.shape == b.shape, (a.shape, b.shape)
    if a.dtype == bool or b.dtype == bool:
        return float(np.any(a != b))
    same = (a == b) | (np.isnan(a) & np.isnan(b))  # the same inf or NaN on both sides
    a, b = np.where(same, 0.0, a), np.where(same, 0.0, b)
    # subnormal float32 results, which TensorFlow's CPU kernels flush to zero, count as zero
    tiny = np.finfo(np.float32).tiny
    a, b = np.where(np.abs(a) < tiny, 0.0, a), np.where(np.abs(b) < tiny, 0.0, b)
    scale = max(np.max(np.abs(a), initial=0.0), np.max(np.abs(b), initial=0.0), 1e-200)
    return float(np.max(np.abs(a - b), initial=0.0) / scale)


@pytest.fixture(scope="module")
def tf(keras):
    import tensorflow

    return tensorflow


@pytest.mark.parametrize("dtype, tolerance", [("float64", 1e-10), ("float32", 1e-5)])
@pytest.mark.parametrize("name, fn, specs, differentiable", OPS, ids=[row[0] for row in OPS])
@settings(max_examples=EXAMPLES)
@given(data=st.data())
def test_forward_matches_keras(keras, tf, name, fn, specs, differentiable, dtype, tolerance, data):
    xs = [_draw(data, spec, dtype) for spec in specs]
    expected = keras.ops.convert_to_numpy(fn(keras.ops, *[tf.constant(x) for x in xs]))
    got = fn(mops, *[x.copy() for x in xs])
    assert isinstance(got, np.ndarray), type(got)
    assert got.dtype == expected.dtype, (got.dtype, expected.dtype)
    assert _rel(got, expected) <= tolerance


GRADIENT_OPS = [row for row in OPS if row[3]]


@pytest.mark.parametrize(
    "name, fn, specs, differentiable", GRADIENT_OPS, ids=[r[0] for r in GRADIENT_OPS]
)
@settings(max_examples=EXAMPLES)
@given(data=st.data())
def test_vjp_matches_tensorflow(keras, tf, name, fn, specs, differentiable, data):
    """d Σ(cotangent·op(x)) / dx for each argument x, float64, within 1e-10 (module docstring)."""
    xs = [_draw(data, spec, "float64") for spec in specs]
    tensors = [tf.constant(x) for x in xs]
    with tf.GradientTape() as tape:
        for t in tensors:
            tape.watch(t)
        out = fn(keras.ops, *tensors)
        cotangent = tf.constant(_draw(data, (tuple(out.shape), -1.0, 1.0, 0.0), "float64"))
        loss = tf.reduce_sum(out * cotangent)
    expected = tape.gradient(loss, tensors)

    ours = [Tensor(x) for x in xs]
    with GradientTape() as our_tape:
        for t in ours:
            our_tape.watch(t)
        our_loss = mops.sum(mops.multiply(fn(mops, *ours), cotangent.numpy()))
    got = our_tape.gradient(our_loss, ours)
    for i, (g, e) in enumerate(zip(got, expected)):
        if e is None:
            assert g is None or not np.any(g), f"argument {i}: TensorFlow gives no gradient"
            continue
        assert g is not None, f"argument {i}: no gradient, TensorFlow gives one"
        assert _rel(g, e.numpy()) <= 1e-10, f"argument {i}: rel {_rel(g, e.numpy()):.2e}"


# ---------------------------------------------------------------- dtypes, as Keras promotes them
DTYPE_CASES = [
    ("add", lambda o, x, y: o.add(x, y), ["int32", "float32"]),
    ("add weak float", lambda o, x: o.add(x, 2.5), ["int32"]),
    ("add weak float16", lambda o, x: o.add(x, 2.5), ["float16"]),
    ("multiply int", lambda o, x, y: o.multiply(x, y), ["uint8", "int8"]),
    ("subtract int64", lambda o, x, y: o.subtract(x, y), ["int32", "int64"]),
    ("divide ints", lambda o, x, y: o.divide(x, y), ["int32", "int32"]),
    ("maximum weak", lambda o, x: o.maximum(x, 2.5), ["int32"]),
    ("power weak", lambda o, x: o.power(x, 0.5), ["int32"]),
    ("exp of int", lambda o, x: o.exp(x), ["int64"]),
    ("sqrt of int", lambda o, x: o.sqrt(x), ["int32"]),
    ("floor of int", lambda o, x: o.floor(x), ["int32"]),
    ("mean of int", lambda o, x: o.mean(x), ["int64"]),
    ("var of int", lambda o, x: o.var(x), ["int32"]),
    ("sum of int8", lambda o, x: o.sum(x), ["int8"]),
    ("prod of int8", lambda o, x: o.prod(x), ["int8"]),
    ("sum of bool", lambda o, x: o.sum(x), ["bool"]),
    ("cumsum of int8", lambda o, x: o.cumsum(x), ["int8"]),
    ("square of bool", lambda o, x: o.square(x), ["bool"]),
    ("argmax", lambda o, x: o.argmax(x), ["float64"]),
    ("count_nonzero", lambda o, x: o.count_nonzero(x), ["float32"]),
    ("sign of int", lambda o, x: o.sign(x), ["int64"]),
    ("abs of int8", lambda o, x: o.abs(x), ["int8"]),
    ("norm of int", lambda o, x: o.norm(x), ["int32"]),
    ("where weak", lambda o, x: o.where(x > 0, 1, 2.5), ["int32"]),
    ("matmul mixed", lambda o, x, y: o.matmul(x, y), ["int32", "float64"]),
    ("concatenate mixed", lambda o, x, y: o.concatenate([x, y]), ["int32", "float32"]),
    ("numpy scalar is strong", lambda o, x: o.add(np.float64(1.0), x), ["float32"]),
    ("arange int", lambda o, x: o.arange(3), []),
    ("arange float", lambda o, x: o.arange(0.5, 3), []),
    ("full", lambda o, x: o.full((2,), 1), []),
    ("ones", lambda o, x: o.ones((2,)), []),
    ("linspace", lambda o, x: o.linspace(0, 1, 3), []),
    ("eye", lambda o, x: o.eye(2), []),
    ("one_hot", lambda o, x: o.one_hot(np.array([0, 2]), 3), []),
    ("convert python floats", lambda o, x: o.convert_to_tensor([1.0, 2.0]), []),
    ("convert python ints", lambda o, x: o.convert_to_tensor([1, 2]), []),
    ("saturate_cast high", lambda o, x: o.saturate_cast(x * 200, "uint8"), ["float32"]),
    ("saturate_cast low", lambda o, x: o.saturate_cast(x * 200 - 300, "uint8"), ["float32"]),
]


@pytest.mark.parametrize("name, fn, dtypes", DTYPE_CASES, ids=[c[0] for c in DTYPE_CASES])
def test_result_dtype_matches_keras(keras, tf, name, fn, dtypes):
    xs = [np.array([1, 2, 0]).astype(d) for d in dtypes] or [None]
    keras_in = [tf.constant(x) for x in xs] if dtypes else xs
    expected = keras.ops.convert_to_numpy(fn(keras.ops, *keras_in))
    got = fn(mops, *xs)
    assert np.asarray(got).dtype == expected.dtype
    np.testing.assert_allclose(
        np.asarray(got, np.float64), np.asarray(expected, np.float64), rtol=1e-3
    )
