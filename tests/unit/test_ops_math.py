"""The new math ops without Keras: each VJP against central differences (float64), erfinv
against erf, and the round trips stft → istft and rfft → irfft.

A central difference of these smooth functions is accurate to ~ε² (ε = 1e-6) plus rounding
~1e-16/ε = 1e-10 relative; the tolerance 1e-7 sits above both and far below any formula
error (a missing factor 2 or a wrong sign is O(1))."""

import numpy as np
import pytest

from minikeras import ops
from minikeras.autodiff import GradientTape, Tensor
from minikeras.autodiff.special import erf, erfinv
from minikeras.testing import numerical_gradient

CASES = [
    ("fft", lambda a, b: ops.stack(list(ops.fft((a, b))), -1), [(2, 5), (2, 5)]),
    ("fft2", lambda a, b: ops.stack(list(ops.fft2((a, b))), -1), [(3, 4), (3, 4)]),
    ("ifft2", lambda a, b: ops.stack(list(ops.ifft2((a, b))), -1), [(3, 4), (3, 4)]),
    ("rfft", lambda x: ops.stack(list(ops.rfft(x)), -1), [(2, 6)]),
    ("rfft cut", lambda x: ops.stack(list(ops.rfft(x, fft_length=5)), -1), [(2, 8)]),
    ("rfft padded", lambda x: ops.stack(list(ops.rfft(x, fft_length=9)), -1), [(7,)]),
    ("irfft", lambda a, b: ops.irfft((a, b)), [(2, 5), (2, 5)]),
    ("irfft cut", lambda a, b: ops.irfft((a, b), fft_length=4), [(6,), (6,)]),
    ("irfft odd", lambda a, b: ops.irfft((a, b), fft_length=7), [(4,), (4,)]),
    ("stft", lambda x: ops.stack(list(ops.stft(x, 6, 3, 8)), -1), [(20,)]),
    ("istft", lambda a, b: ops.istft((a, b), 6, 3, 8), [(5, 5), (5, 5)]),
    ("erfinv", lambda x: ops.erfinv(x * 0.4), [(2, 3)]),
    ("slogdet", lambda a: ops.slogdet(a + 3 * np.eye(3))[1], [(3, 3)]),
    ("cdist", lambda x, y: ops.cdist(x, y), [(3, 2), (4, 2)]),
]


@pytest.mark.parametrize("name, fn, shapes", CASES, ids=[c[0] for c in CASES])
def test_vjp_matches_central_differences(name, fn, shapes):
    rng = np.random.default_rng(0)
    xs = [rng.uniform(-1, 1, shape) for shape in shapes]
    out = np.asarray(fn(*xs))
    cotangent = rng.uniform(-1, 1, out.shape)
    tensors = [Tensor(x) for x in xs]
    with GradientTape() as tape:
        for t in tensors:
            tape.watch(t)
        loss = ops.sum(ops.multiply(fn(*tensors), cotangent))
    grads = tape.gradient(loss, tensors)
    for i, (x, g) in enumerate(zip(xs, grads)):
        expected = numerical_gradient(lambda: np.sum(np.asarray(fn(*xs)) * cotangent), x)
        scale = max(np.abs(expected).max(), 1e-12)
        assert np.abs(np.asarray(g) - expected).max() / scale < 1e-7, f"argument {i}"


def test_erfinv_inverts_erf_to_the_last_digits():
    y = np.concatenate([np.linspace(-5.8, 5.8, 2001), [0.0, 1e-300, 1e-12]])
    x = erf(y)
    # where erf is flat (|y| large) x rounds away many y's: compare erf of the result instead
    np.testing.assert_allclose(erf(erfinv(x)), x, rtol=5e-16, atol=0)  # 2 ulps
    np.testing.assert_array_equal(erfinv(np.array([-1.0, 1.0, 1.5])), [-np.inf, np.inf, np.nan])
    assert erfinv(np.float32(0.5)).dtype == np.float32


def test_round_trips():
    x = np.random.default_rng(1).normal(size=(2, 37))
    np.testing.assert_allclose(ops.istft(ops.stft(x, 8, 4, 16), 8, 4, 16, length=37), x, atol=1e-12)
    np.testing.assert_allclose(ops.irfft(ops.rfft(x), fft_length=37), x, atol=1e-12)
    np.testing.assert_allclose(ops.ifft2(ops.fft2((x, -x)))[0], x, atol=1e-12)


def test_segment_ops_check_their_ids_as_keras():
    with pytest.raises(ValueError, match="should be an 1-D vector"):
        ops.segment_sum(np.ones((4, 2)), np.zeros((4, 1), "int32"))
    with pytest.raises(ValueError, match="should have same leading dimension"):
        ops.segment_max(np.array([]), np.array([0, 0, 1, 1]))


def test_op_classes_hold_options_and_call_their_op():
    from minikeras.backend import KerasTensor
    from minikeras.ops import image
    from minikeras.ops import math as kmath

    op = kmath.ExtractSequences(5, 2)
    assert (op.sequence_length, op.sequence_stride) == (5, 2)
    assert op.call(np.ones((3, 20))).shape == (3, 8, 5)
    values, indices = kmath.TopK(k=2)(np.array([[1.0, 3.0, 2.0]]))
    np.testing.assert_array_equal(indices, [[1, 2]])
    spec = kmath.IRFFT(fft_length=10).compute_output_spec((np.ones((4, 8)), np.ones((4, 8))))
    assert isinstance(spec, KerasTensor) and spec.shape == (4, 10)
    with pytest.raises(ValueError, match="should be a tuple of two tensors"):
        kmath.FFT().compute_output_spec(np.array([1.0, 2.0]))
    with pytest.raises(ValueError, match="rank >= 1"):
        kmath.FFT().compute_output_spec((np.array(1.0), np.array(1.0)))
    assert image.Resize((2, 3))(np.ones((4, 4, 3))).shape == (2, 3, 3)


def test_image_ops_check_their_arguments_as_keras():
    from minikeras.ops import image

    x = np.ones((4, 4, 3), "float32")
    with pytest.raises(ValueError, match="`size` must have positive height and width"):
        image.resize(x, (0, 2))
    with pytest.raises(ValueError, match="Input images must have 3 channels"):
        image.hsv_to_rgb(x, data_format="channels_first")
    with pytest.raises(ValueError, match="top_cropping must be >= 0"):
        image.crop_images(x, -1, 0, target_height=2, target_width=2)


def test_patches_with_strides_and_dilation_and_crops_larger_than_the_image():
    from minikeras.ops import image

    volume = np.random.default_rng(0).random((1, 20, 20, 20, 2))
    # strides and dilation together: as Keras's NumPy backend (TensorFlow's refuses them)
    patches = image.extract_patches_3d(volume, (3, 3, 3), strides=8, dilation_rate=2)
    assert patches.shape == (1, 2, 2, 2, 54)
    np.testing.assert_array_equal(patches[0, 1, 0, 1, :2], volume[0, 8, 0, 8])
    with pytest.raises(ValueError, match="top_cropping must be >= 0"):
        image.crop_images(np.ones((10, 10, 3)), None, None, 1, 0, target_height=12, target_width=10)
