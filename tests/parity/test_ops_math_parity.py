"""keras.ops.math's Fourier transforms, erfinv, cdist, logdet/slogdet, ldexp, in_top_k,
extract_sequences and the complex views against Keras (TensorFlow backend): forward values,
dtypes, and each differentiable op's gradient against tf.GradientTape's.

Complex results come as Keras's (real, imag) pairs; a case stacks the pair on a last axis so
that one array is compared (and one cotangent multiplies it for the gradient).

Tolerances, compared normwise (max|a − b| / max(‖a‖∞, ‖b‖∞)):
- float64, 1e-10: an FFT of n points rounds each output about log₂(n)·1.1e-16 (pocketfft in
  NumPy, Eigen's FFT in TensorFlow, two different orders of the same sums); the signals here
  have at most 64 points, so the two agree to ~1e-15. erfinv: both converge to the float64
  root (ours by Newton steps, TensorFlow by rational approximations): measured ≤ 2e-16
  relative. 1e-10 still catches any formula difference (a wrong window, a missing scale).
- float32, 1e-5: TensorFlow computes float32 transforms in float32 (a few 1e-7 after the
  sums of ≤ 64 terms), NumPy in float64 then rounds once; 1e-5 leaves an order of magnitude.
- gradients in float64 only (the VJP formulas are what is tested).
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from minikeras import ops as mops
from minikeras.autodiff import GradientTape, Tensor

EXAMPLES = 2


def _join(o, pair):
    return o.stack(list(pair), axis=-1)


def _spd(o, a):
    """A symmetric positive-definite matrix from a: a·aᵀ + 3I (well conditioned)."""
    return o.matmul(a, o.transpose(a, (0, 2, 1))) + 3 * o.eye(3, dtype=a.dtype)


# name, fn(ops, *arrays), argument shapes (and value range), gradient compared with TensorFlow
CASES = [
    ("fft", lambda o, a, b: _join(o, o.fft((a, b))), [(2, 8), (2, 8)], True),
    ("fft odd length", lambda o, a, b: _join(o, o.fft((a, b))), [(7,), (7,)], True),
    ("fft2", lambda o, a, b: _join(o, o.fft2((a, b))), [(2, 4, 6), (2, 4, 6)], True),
    ("ifft2", lambda o, a, b: _join(o, o.ifft2((a, b))), [(3, 5), (3, 5)], True),
    ("rfft", lambda o, x: _join(o, o.rfft(x)), [(2, 10)], True),
    ("rfft odd", lambda o, x: _join(o, o.rfft(x)), [(9,)], True),
    ("rfft longer", lambda o, x: _join(o, o.rfft(x, fft_length=12)), [(2, 7)], True),
    # (TensorFlow's gradient fails when the transform cuts its input: tests/unit checks ours)
    ("rfft shorter", lambda o, x: _join(o, o.rfft(x, fft_length=6)), [(2, 9)], False),
    ("irfft", lambda o, a, b: o.irfft((a, b)), [(2, 6), (2, 6)], True),
    ("irfft odd", lambda o, a, b: o.irfft((a, b), fft_length=9), [(5,), (5,)], True),
    ("irfft longer", lambda o, a, b: o.irfft((a, b), fft_length=14), [(2, 5), (2, 5)], True),
    ("irfft shorter", lambda o, a, b: o.irfft((a, b), fft_length=6), [(2, 6), (2, 6)], False),
    ("stft", lambda o, x: _join(o, o.stft(x, 8, 4, 16)), [(2, 40)], True),
    (
        "stft hamming no center",
        lambda o, x: _join(o, o.stft(x, 6, 3, 8, window="hamming", center=False)),
        [(30,)],
        True,
    ),
    ("stft no window", lambda o, x: _join(o, o.stft(x, 8, 5, 8, window=None)), [(2, 33)], True),
    (
        "stft array window",
        lambda o, x: _join(o, o.stft(x, 4, 2, 8, window=np.linspace(0.2, 1.0, 4))),
        [(25,)],
        True,
    ),
    ("istft", lambda o, a, b: o.istft((a, b), 8, 4, 16), [(2, 11, 9), (2, 11, 9)], True),
    (
        "istft length, no center",
        lambda o, a, b: o.istft((a, b), 6, 3, 8, length=20, center=False),
        [(9, 5), (9, 5)],
        True,
    ),
    (
        "istft hamming",
        lambda o, a, b: o.istft((a, b), 8, 2, 8, window="hamming"),
        [(2, 7, 5), (2, 7, 5)],
        True,
    ),
    ("erfinv", lambda o, x: o.erfinv(x), [((2, 5), -0.99, 0.99)], True),
    ("cdist", lambda o, x, y: o.cdist(x, y), [(2, 3, 4), (2, 5, 4)], True),
    ("logdet", lambda o, a: o.logdet(_spd(o, a)), [(2, 3, 3)], True),
    ("slogdet", lambda o, a: o.slogdet(_spd(o, a) * -1)[1], [(2, 3, 3)], True),
    ("slogdet sign", lambda o, a: o.slogdet(_spd(o, a) * -1)[0], [(2, 3, 3)], False),
    ("ldexp", lambda o, x: o.ldexp(x, np.array([[1, -2, 3]], dtype="int32")), [(2, 3)], True),
    ("extract_sequences", lambda o, x: o.extract_sequences(x, 4, 3), [(2, 14)], True),
    ("view_as_real", lambda o, x: o.view_as_real(o.view_as_complex(x)), [(3, 2)], False),
]


def _draw(seed, spec, dtype):
    shape, low, high = spec if isinstance(spec[0], tuple) else (spec, -2.0, 2.0)
    return np.random.default_rng(seed).uniform(low, high, shape).astype(dtype)


def _rel(a, b):
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    assert a.shape == b.shape, (a.shape, b.shape)
    scale = max(np.max(np.abs(a), initial=0.0), np.max(np.abs(b), initial=0.0), 1e-200)
    return float(np.max(np.abs(a - b), initial=0.0) / scale)


@pytest.fixture(scope="module")
def tf(keras):
    import tensorflow

    return tensorflow


@pytest.mark.parametrize("dtype, tolerance", [("float64", 1e-10), ("float32", 1e-5)])
@pytest.mark.parametrize("name, fn, specs, differentiable", CASES, ids=[c[0] for c in CASES])
@settings(max_examples=EXAMPLES, deadline=None)
@given(seed=st.integers(0, 2**31))
def test_forward_matches_keras(keras, tf, name, fn, specs, differentiable, dtype, tolerance, seed):
    xs = [_draw(seed + i, spec, dtype) for i, spec in enumerate(specs)]
    expected = keras.ops.convert_to_numpy(fn(keras.ops, *[tf.constant(x) for x in xs]))
    got = fn(mops, *[x.copy() for x in xs])
    assert got.dtype == expected.dtype, (got.dtype, expected.dtype)
    assert _rel(got, expected) <= tolerance


GRADIENT_CASES = [c for c in CASES if c[3]]


@pytest.mark.parametrize(
    "name, fn, specs, differentiable", GRADIENT_CASES, ids=[c[0] for c in GRADIENT_CASES]
)
@settings(max_examples=EXAMPLES, deadline=None)
@given(seed=st.integers(0, 2**31))
def test_vjp_matches_tensorflow(keras, tf, name, fn, specs, differentiable, seed):
    """d Σ(cotangent·op(x)) / dx for each argument x, float64, within 1e-10."""
    xs = [_draw(seed + i, spec, "float64") for i, spec in enumerate(specs)]
    tensors = [tf.constant(x) for x in xs]
    with tf.GradientTape() as tape:
        for t in tensors:
            tape.watch(t)
        out = fn(keras.ops, *tensors)
        cotangent = np.random.default_rng(seed + 99).uniform(-1, 1, tuple(out.shape))
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
        assert _rel(g, e.numpy()) <= 1e-10, f"argument {i}: rel {_rel(g, e.numpy()):.2e}"


def test_in_top_k_matches_keras(keras):
    predictions = np.array([[0.1, 0.7, 0.7, 0.2], [0.5, 0.1, 0.3, 0.2], [1.0, np.nan, 0.0, 0.0]])
    for k in (1, 2, 3):
        targets = np.array([2, 0, 0], dtype="int32")
        expected = keras.ops.convert_to_numpy(keras.ops.in_top_k(targets, predictions, k))
        np.testing.assert_array_equal(mops.in_top_k(targets, predictions, k), expected)


@pytest.mark.parametrize(
    "call",
    [
        lambda o: o.fft(np.ones(3)),
        lambda o: o.fft((np.ones(3), np.ones(4))),
        lambda o: o.irfft((np.ones(3, "int32"), np.ones(3, "int32"))),
        lambda o: o.stft(np.ones(20, "float32"), 8, 0, 16),
        lambda o: o.stft(np.ones(20, "float32"), 8, 4, 4),
        lambda o: o.stft(np.ones(20, "float32"), 8, 4, 16, window="blackman"),
        lambda o: o.view_as_complex(np.ones((2, 3))),
        lambda o: o.cdist(np.ones((2, 3)), np.ones((2, 4))),
        lambda o: o.ldexp(np.ones(2), np.ones(2)),
        lambda o: o.stft(np.ones(20, "int32"), 8, 4, 16),
    ],
)
def test_bad_input_raises_as_keras(keras, call):
    with pytest.raises(Exception) as theirs:
        call(keras.ops)
    with pytest.raises(type(theirs.value)):
        call(mops)


@pytest.mark.parametrize(
    "pattern, shape, lengths",
    [
        ("b c h -> b h c", (2, 3, 4), {}),
        ("b h w c -> (b h) w c", (2, 4, 4, 3), {}),
        ("(h w) c -> h w c", (6, 8), {"h": 2, "w": 3}),
        ("b (h w) c -> b c h w", (2, 6, 5), {"h": 2}),
        ("b h c -> b h c", (2, 3, 4), {}),
    ],
)
def test_rearrange_matches_keras_with_its_gradient(keras, tf, pattern, shape, lengths):
    """Values exactly (a reshape and a transpose move entries, compute nothing); the gradient
    of Σ w·rearrange(x) is w moved back, so it matches TensorFlow's exactly too."""
    from minikeras.backend import KerasTensor

    x = np.random.default_rng(0).normal(size=shape)
    expected = keras.ops.convert_to_numpy(keras.ops.rearrange(x, pattern, **lengths))
    np.testing.assert_array_equal(mops.rearrange(x, pattern, **lengths), expected)
    w = np.random.default_rng(1).normal(size=expected.shape)
    t = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(t)
        loss = tf.reduce_sum(keras.ops.rearrange(t, pattern, **lengths) * w)
    ours = Tensor(x)
    with GradientTape() as our_tape:
        our_tape.watch(ours)
        our_loss = mops.sum(mops.multiply(mops.rearrange(ours, pattern, **lengths), w))
    np.testing.assert_array_equal(our_tape.gradient(our_loss, ours), tape.gradient(loss, t))
    theirs = keras.ops.rearrange(keras.KerasTensor(shape), pattern, **lengths)
    assert mops.rearrange(KerasTensor(shape), pattern, **lengths).shape == theirs.shape
