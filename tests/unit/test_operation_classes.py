"""Keras's Operation classes of the ops (`Relu()(x)`, `Qr(mode)(x)`, `CTCLoss(mask_index)`):
each computes its op, and names itself as Keras does in a graph's config."""

import subprocess
import sys

import numpy as np
import pytest

from minikeras import ops
from minikeras.backend import KerasTensor
from minikeras.layers.op_config import keras_class, op_name
from minikeras.ops import einops, linalg, nn
from minikeras.ops import math as kmath
from minikeras.ops import numpy as knp


def test_nn_classes_compute_their_op_with_options_given_first():
    x = np.linspace(-2.0, 2.0, 7)
    np.testing.assert_array_equal(nn.Relu()(x), ops.relu(x))
    np.testing.assert_array_equal(nn.Gelu(False)(x), ops.gelu(x, approximate=False))
    np.testing.assert_array_equal(nn.Threshold(0.5, -1.0)(x), ops.threshold(x, 0.5, -1.0))
    np.testing.assert_array_equal(nn.Softmax(axis=0).call(x), ops.softmax(x, axis=0))
    scale = np.full((7,), 2.0)
    np.testing.assert_array_equal(nn.RMSNorm()(x, scale), ops.rms_normalization(x, scale))


def test_linalg_and_einops_classes():
    a = np.array([[2.0, 1.0], [1.0, 3.0]])
    q, r = linalg.Qr(mode="reduced")(a)
    np.testing.assert_allclose(q @ r, a, rtol=1e-12)
    y = einops.Rearrange("a b -> b a")(a)
    np.testing.assert_array_equal(y, a.T)


def test_symbolic_call_gives_the_dtype_of_the_call():
    x = np.ones((2,), dtype="int8")
    assert knp.Add().symbolic_call(x, 1.0).dtype == ops.add(x, 1.0).dtype == "float32"
    y = nn.Sigmoid().symbolic_call(KerasTensor((None, 3), dtype="float16"))
    assert isinstance(y, KerasTensor) and y.shape == (None, 3) and y.dtype == "float16"


def test_keras_class_names_that_are_not_camel_case():
    names = {
        "ctc_loss": "CTCLoss",
        "ctc_decode": "CTCDecode",
        "rms_normalization": "RMSNorm",
        "layer_normalization": "LayerNorm",
        "batch_normalization": "BatchNorm",
        "psnr": "PSNR",
        "svd": "SVD",
        "isin": "IsIn",
        "searchsorted": "SearchSorted",
    }
    for op, cls in names.items():
        assert keras_class(op) == cls
        assert op_name(cls) == op


def test_importing_testing_lets_numpy_read_ml_dtypes_names():
    # a fresh interpreter: Keras's test files build np.array(0, dtype="bfloat16") at import
    code = "import numpy as np, minikeras.testing; print(np.dtype('bfloat16'))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "bfloat16"


def test_qr_checks_its_mode_when_made_and_its_spec_wants_known_matrix_axes():
    with pytest.raises(ValueError, match="`mode` argument value not supported"):
        linalg.Qr(mode="full")
    with pytest.raises(ValueError, match="Input should have rank >= 2"):
        linalg.Qr().compute_output_spec(np.ones(3))
    with pytest.raises(ValueError, match="last 2 dimensions fully-defined"):
        linalg.Qr().compute_output_spec(KerasTensor((None, 4)))
    q, r = linalg.Qr(mode="complete").compute_output_spec(np.ones((5, 3)))
    assert (q.shape, r.shape) == ((5, 5), (5, 3))


def test_compute_output_spec_keeps_python_numbers_weak():
    spec = knp.Add().compute_output_spec(np.ones((2,), dtype="float16"), 2.0)
    assert isinstance(spec, KerasTensor) and spec.dtype == "float16"


def test_norm_refuses_an_axis_outside_the_input():
    with pytest.raises(ValueError, match="Invalid axis"):
        linalg.norm(np.ones(5), ord=1, axis=(0, 1))


def test_fourier_specs_want_the_transformed_axes_known():
    pair = (KerasTensor((None,)), KerasTensor((None,)))
    with pytest.raises(ValueError, match="its last dimension fully-defined"):
        kmath.FFT().compute_output_spec(pair)
    pair = (KerasTensor((None, None, 3)), KerasTensor((None, None, 3)))
    with pytest.raises(ValueError, match=r"its \(-2, -1\) axes fully-defined"):
        kmath.FFT2().compute_output_spec(pair)
    real, imag = kmath.fft((KerasTensor((None, 4)), KerasTensor((None, 4))))
    assert real.shape == imag.shape == (None, 4)


def test_ctc_loss_spec_checks_the_batch_of_each_argument():
    with pytest.raises(ValueError, match="`labels` and `logits` must have the same first"):
        nn.CTCLoss(mask_index=-1)._check_shape_first_dim("labels", (2, 3), "logits", (3, 4, 5))
    target, output = KerasTensor((4, 3), dtype="int32"), KerasTensor((4, 6, 5))
    with pytest.raises(ValueError, match="`target_length` and `target` must have the same"):
        nn.CTCLoss().compute_output_spec(target, output, KerasTensor((3,)), KerasTensor((4,)))
    loss = nn.CTCLoss().compute_output_spec(target, output, KerasTensor((4,)), KerasTensor((4,)))
    assert loss.shape == (4,)


def test_arange_and_full_classes_take_their_options_when_made():
    np.testing.assert_array_equal(knp.Arange("int8")(3, 7, 2), np.array([3, 5], "int8"))
    assert knp.Arange().symbolic_call(3.0).dtype == "float32"
    np.testing.assert_array_equal(knp.Full((2, 3), dtype="int16")(7), np.full((2, 3), 7, "int16"))
    assert knp.Full(()).symbolic_call(0).dtype == "float32"
