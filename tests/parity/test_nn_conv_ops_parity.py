"""minikeras.ops's convolution and pooling ops against keras.ops (TensorFlow backend): the
forward on random inputs, and the vector–Jacobian product against tf.GradientTape's.

Each row is one call `fn(ops, *arrays)`, run with keras.ops on tf constants and with
minikeras.ops on the same arrays; hypothesis draws a seed for the arrays (few examples: each
row is a handful of small products).

Tolerances, compared normwise (max|a − b| / max(‖a‖∞, ‖b‖∞)):
- float64, 1e-10: a window of ≤ 3·3·3 products summed per output (≤ 54 terms with the
  channels), in another order by TensorFlow's kernels than by ours: a few ulps of 1.1e-16.
- float32, 1e-5: the same sums at 6e-8 per rounding; TensorFlow's CPU convolutions (oneDNN)
  block their sums differently, a few dozen ulps at most; 1e-5 leaves two orders of margin.
- gradients in float64 only, 1e-10 (the VJP is what is tested; float32 adds only rounding).
"""

import os

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from minikeras import ops as mops
from minikeras.autodiff import GradientTape, Tensor

EXAMPLES = 10 if os.environ.get("HYPOTHESIS_PROFILE") == "thorough" else 2


def _channels_first(fn):
    """`fn` with channels_first, run in Keras as channels_last between two transposes:
    TensorFlow's CPU kernels refuse NCHW (UnimplementedError)."""

    def run(o, x, *rest):
        if o is mops:
            return fn(o, x, *rest, data_format="channels_first")
        to_last = (0, *range(2, x.ndim), 1)
        to_first = (0, x.ndim - 1, *range(1, x.ndim - 1))
        y = fn(o, o.transpose(x, to_last), *rest, data_format="channels_last")
        return o.transpose(y, to_first)

    return run


# name, fn(ops, *xs), shapes of xs, differentiable
CASES = [
    ("conv1d", lambda o, x, k: o.conv(x, k), [(2, 7, 3), (3, 3, 4)], True),
    (
        "conv1d same strided",
        lambda o, x, k: o.conv(x, k, strides=2, padding="same"),
        [(2, 8, 2), (3, 2, 3)],
        True,
    ),
    ("conv2d", lambda o, x, k: o.conv(x, k), [(2, 5, 6, 2), (3, 2, 2, 3)], True),
    (
        "conv2d same dilated",
        lambda o, x, k: o.conv(x, k, padding="same", dilation_rate=(2, 1)),
        [(1, 6, 5, 2), (2, 3, 2, 3)],
        True,
    ),
    (
        "conv2d channels_first strided",
        _channels_first(lambda o, x, k, **f: o.conv(x, k, strides=(2, 1), padding="same", **f)),
        [(2, 3, 5, 4), (3, 3, 3, 2)],
        True,
    ),
    ("conv2d groups", lambda o, x, k: o.conv(x, k), [(1, 4, 4, 4), (2, 2, 2, 6)], True),
    (
        "conv3d",
        lambda o, x, k: o.conv(x, k, padding="same"),
        [(1, 3, 4, 3, 2), (2, 2, 2, 2, 2)],
        True,
    ),
    ("conv_transpose1d", lambda o, x, k: o.conv_transpose(x, k, 2), [(2, 4, 3), (3, 2, 3)], True),
    (
        "conv_transpose2d same",
        lambda o, x, k: o.conv_transpose(x, k, strides=2, padding="same"),
        [(1, 3, 4, 2), (3, 3, 4, 2)],
        True,
    ),
    (
        "conv_transpose2d output_padding",
        lambda o, x, k: o.conv_transpose(x, k, strides=2, output_padding=1),
        [(1, 3, 3, 2), (3, 3, 2, 2)],
        True,
    ),
    (
        "conv_transpose3d",
        lambda o, x, k: o.conv_transpose(x, k, strides=(1, 2, 1)),
        [(1, 2, 3, 2, 2), (2, 2, 2, 3, 2)],
        True,
    ),
    ("depthwise_conv1d", lambda o, x, k: o.depthwise_conv(x, k), [(2, 6, 3), (3, 3, 2)], True),
    (
        "depthwise_conv2d same strided",
        lambda o, x, k: o.depthwise_conv(x, k, strides=2, padding="same"),
        [(2, 5, 5, 2), (3, 3, 2, 2)],
        True,
    ),
    (
        "separable_conv2d",
        lambda o, x, d, p: o.separable_conv(x, d, p, padding="same"),
        [(1, 4, 5, 2), (2, 2, 2, 2), (1, 1, 4, 3)],
        True,
    ),
    ("max_pool1d", lambda o, x: o.max_pool(x, 2), [(2, 7, 3)], True),
    ("max_pool2d same", lambda o, x: o.max_pool(x, 3, 2, padding="same"), [(2, 5, 6, 2)], True),
    (
        "max_pool2d channels_first",
        _channels_first(lambda o, x, **f: o.max_pool(x, (2, 3), (1, 2), **f)),
        [(1, 2, 5, 6)],
        True,
    ),
    ("max_pool3d", lambda o, x: o.max_pool(x, 2, padding="same"), [(1, 3, 4, 5, 2)], True),
    ("average_pool1d same", lambda o, x: o.average_pool(x, 3, 2, "same"), [(2, 7, 3)], True),
    ("average_pool2d", lambda o, x: o.average_pool(x, (2, 3)), [(2, 5, 6, 2)], True),
    (
        "average_pool3d same",
        lambda o, x: o.average_pool(x, 2, padding="same"),
        [(1, 3, 3, 3, 2)],
        True,
    ),
    (
        "adaptive_average_pool2d",
        lambda o, x: o.adaptive_average_pool(x, (2, 3)),
        [(2, 5, 7, 2)],
        True,
    ),
    ("adaptive_max_pool1d", lambda o, x: o.adaptive_max_pool(x, 3), [(2, 7, 2)], True),
    (
        "adaptive_max_pool3d channels_first",
        _channels_first(lambda o, x, **f: o.adaptive_max_pool(x, 2, **f)),
        [(1, 2, 3, 5, 4)],
        True,
    ),
    # the rearranging ops (ops/nn_blocks.py)
    (
        "unfold",
        lambda o, x: o.unfold(x, (2, 3), dilation=(1, 2), padding=1, stride=2),
        [(2, 3, 5, 6)],
        True,
    ),
    ("fold", lambda o, x: o.fold(x, (4, 5), 2, padding=(1, 0), stride=1), [(1, 8, 20)], True),
    ("depth_to_space", lambda o, x: o.depth_to_space(x, 2), [(2, 2, 3, 8)], True),
    (
        "space_to_depth channels_first",
        lambda o, x: o.space_to_depth(x, 2, data_format="channels_first"),
        [(1, 3, 4, 6)],
        True,
    ),
]


def _arrays(seed, shapes, dtype):
    rng = np.random.default_rng(seed)
    return [rng.uniform(-2, 2, shape).astype(dtype) for shape in shapes]


def _rel(a, b):
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    assert a.shape == b.shape, (a.shape, b.shape)
    scale = max(np.max(np.abs(a), initial=0.0), np.max(np.abs(b), initial=0.0), 1e-200)
    return float(np.max(np.abs(a - b), initial=0.0) / scale)


@pytest.fixture(scope="module")
def tf(keras):
    import tensorflow

    return tensorflow


# TensorFlow's 3-D pooling kernels (MaxPool3D, AvgPool3D) exist for float32 and float16 only:
# those rows are compared in float32, their gradients too (1e-5, as the float32 forward)
FLOAT32_ONLY = {"max_pool3d", "average_pool3d same", "adaptive_max_pool3d channels_first"}
FORWARD = [
    (*case, dtype, tolerance)
    for case in CASES
    for dtype, tolerance in (("float64", 1e-10), ("float32", 1e-5))
    if dtype == "float32" or case[0] not in FLOAT32_ONLY
]


@pytest.mark.parametrize(
    "name, fn, shapes, differentiable, dtype, tolerance",
    FORWARD,
    ids=[f"{c[0]}-{c[4]}" for c in FORWARD],
)
@settings(max_examples=EXAMPLES)
@given(seed=st.integers(0, 2**32 - 1))
def test_forward_matches_keras(keras, tf, name, fn, shapes, differentiable, dtype, tolerance, seed):
    xs = _arrays(seed, shapes, dtype)
    expected = keras.ops.convert_to_numpy(fn(keras.ops, *[tf.constant(x) for x in xs]))
    got = fn(mops, *[x.copy() for x in xs])
    assert isinstance(got, np.ndarray), type(got)
    assert got.dtype == expected.dtype, (got.dtype, expected.dtype)
    assert _rel(got, expected) <= tolerance, _rel(got, expected)


@pytest.mark.parametrize("name, fn, shapes, differentiable", CASES, ids=[c[0] for c in CASES])
@settings(max_examples=EXAMPLES)
@given(seed=st.integers(0, 2**32 - 1))
def test_vjp_matches_tensorflow(keras, tf, name, fn, shapes, differentiable, seed):
    """d Σ(cotangent·op(x)) / dx for each argument, float64, within 1e-10 (module docstring)."""
    dtype, tolerance = ("float32", 1e-5) if name in FLOAT32_ONLY else ("float64", 1e-10)
    xs = _arrays(seed, shapes, dtype)
    tensors = [tf.constant(x) for x in xs]
    with tf.GradientTape() as tape:
        for t in tensors:
            tape.watch(t)
        out = fn(keras.ops, *tensors)
        cotangent = np.random.default_rng(seed + 1).uniform(-1, 1, tuple(out.shape)).astype(dtype)
        loss = tf.reduce_sum(out * cotangent)
    expected = tape.gradient(loss, tensors)

    ours = [Tensor(x) for x in xs]
    with GradientTape() as our_tape:
        for t in ours:
            our_tape.watch(t)
        our_loss = mops.sum(mops.multiply(fn(mops, *ours), cotangent))
    got = our_tape.gradient(our_loss, ours)
    for i, (g, e) in enumerate(zip(got, expected)):
        assert g is not None, f"argument {i}: no gradient, TensorFlow gives one"
        assert _rel(g, e.numpy()) <= tolerance, f"argument {i}: rel {_rel(g, e.numpy()):.2e}"


def test_polar_and_in_top_k_match_keras(keras):
    rng = np.random.default_rng(0)
    for dtype in ("float32", "float64"):
        r, theta = rng.uniform(0, 2, (2, 3)).astype(dtype), rng.normal(size=(2, 3)).astype(dtype)
        expected = keras.ops.convert_to_numpy(keras.ops.polar(r, theta))
        got = mops.polar(r, theta)
        assert got.dtype == expected.dtype
        np.testing.assert_allclose(got, expected, rtol=1e-6 if dtype == "float32" else 1e-12)
    # ties at the k-th score count as in, as TensorFlow's in_top_k; an out-of-range target not
    scores = np.array([[0.1, 0.5, 0.5, 0.2], [0.3, 0.3, 0.3, 0.3], [1.0, 2.0, 3.0, 4.0]])
    targets = np.array([2, 0, 7])
    for k in (1, 2):
        expected = keras.ops.convert_to_numpy(keras.ops.in_top_k(targets, scores, k))
        np.testing.assert_array_equal(mops.in_top_k(targets, scores, k), expected)


def test_a_kernel_of_other_input_channels_is_refused_with_keras_message(keras):
    from minikeras.backend import KerasTensor

    calls = [
        lambda o, t: o.conv(t((2, 10, 3)), t((3, 5, 4))),
        lambda o, t: o.depthwise_conv(t((2, 10, 3)), t((3, 5, 1))),
        lambda o, t: o.separable_conv(t((2, 10, 3)), t((3, 5, 1)), t((1, 5, 4))),
        lambda o, t: o.conv_transpose(t((2, 4, 3)), t((2, 4, 5))),
    ]
    for call in calls:
        with pytest.raises(ValueError) as ours:
            call(mops, KerasTensor)
        with pytest.raises(ValueError) as theirs:
            call(keras.ops, keras.KerasTensor)
        assert str(ours.value) == str(theirs.value)


FLOAT16 = ["conv2d", "depthwise_conv1d", "max_pool2d same", "average_pool1d same", "unfold"]


@pytest.mark.parametrize("name", FLOAT16)
def test_float16_matches_keras(keras, tf, name):
    """float16 runs in float32 inside (the kernels have no float16) and is rounded back, as
    TensorFlow's CPU kernels sum it: within 2e-3 normwise (one float16 rounding is 4.9e-4
    relative; TensorFlow's may fall on the other side of a tie, two roundings at most)."""
    _, fn, shapes, _ = next(case for case in CASES if case[0] == name)
    xs = _arrays(7, shapes, "float16")
    expected = keras.ops.convert_to_numpy(fn(keras.ops, *[tf.constant(x) for x in xs]))
    got = fn(mops, *xs)
    assert got.dtype == expected.dtype == np.float16
    assert _rel(got, expected) <= 2e-3, _rel(got, expected)
