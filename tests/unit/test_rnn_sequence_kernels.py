"""The whole-sequence LSTM kernels (`lstm_sequence_forward`, `lstm_sequence_backward`) and the
recurrent products: the NumPy reference and the Numba set agree, and both agree with the step
kernels called step by step (the layer's loop for masked sequences), in float64 to a few
roundings (1e-13 relative: the same operations, with dU summed in another order by the layer)
and float32 to 1e-5 (float32 rounding of ~20 chained operations over 5 steps)."""

import numpy as np
import pytest

from minikeras.kernels import numba_rnn_kernels, numba_runtime, numpy_rnn_kernels
from minikeras.layers import LSTM

STEPS, BATCH, UNITS = 5, 3, 4


def sequence_case(dtype, seed=0):
    rng = np.random.default_rng(seed)
    xw = rng.normal(size=(STEPS, BATCH, 4 * UNITS)).astype(dtype)
    u_kernel = rng.normal(0, 0.5, size=(UNITS, 4 * UNITS)).astype(dtype)
    h0, c0 = (rng.normal(size=(BATCH, UNITS)).astype(dtype) for _ in range(2))
    dh_seq = rng.normal(size=(STEPS, BATCH, UNITS)).astype(dtype)
    dh, dc = (rng.normal(size=(BATCH, UNITS)).astype(dtype) for _ in range(2))
    return xw, u_kernel, h0, c0, dh_seq, dh, dc


def run_sequence(module, case, with_dh_seq=True):
    xw, u_kernel, h0, c0, dh_seq, dh, dc = case
    gates = np.empty_like(xw)
    c, act_c, h = (np.empty(xw.shape[:2] + (UNITS,), dtype=xw.dtype) for _ in range(3))
    module.lstm_sequence_forward(xw, u_kernel, h0, c0, "tanh", "sigmoid", gates, c, act_c, h)
    dz, dh, dc = np.empty_like(xw), dh.copy(), dc.copy()
    module.lstm_sequence_backward(
        gates, c, act_c, c0, u_kernel, dh_seq if with_dh_seq else None, dh, dc, "tanh",
        "sigmoid", dz,
    )  # fmt: skip
    return [gates, c, h, dz, dh, dc]


def run_steps(module, case, with_dh_seq=True):
    """The same with the one-step kernels and the products written out."""
    xw, u_kernel, h0, c0, dh_seq, dh, dc = case
    gates = np.empty_like(xw)
    c, act_c, h = (np.empty(xw.shape[:2] + (UNITS,), dtype=xw.dtype) for _ in range(3))
    h_prev, c_prev = h0, c0
    for t in range(STEPS):
        z = h_prev @ u_kernel + xw[t]
        module.lstm_step_forward(z, c_prev, "tanh", "sigmoid", gates[t], c[t], act_c[t], h[t])
        h_prev, c_prev = h[t], c[t]
    dz, dh, dc = np.empty_like(xw), dh.copy(), dc.copy()
    for t in reversed(range(STEPS)):
        if with_dh_seq:
            dh = dh + dh_seq[t]
        dc_prev = np.empty_like(dc)
        c_prev = c0 if t == 0 else c[t - 1]
        module.lstm_step_backward(
            gates[t], c_prev, act_c[t], dh, dc, "tanh", "sigmoid", dz[t], dc_prev
        )
        dh, dc = dz[t] @ u_kernel.T, dc_prev
    return [gates, c, h, dz, dh, dc]


@pytest.mark.parametrize("with_dh_seq", [True, False])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_sequence_kernels_agree_with_the_steps_and_each_other(dtype, with_dh_seq):
    tol = 1e-13 if dtype == "float64" else 1e-5
    case = sequence_case(dtype)
    reference = run_steps(numpy_rnn_kernels, case, with_dh_seq)
    for module in (numpy_rnn_kernels, numba_rnn_kernels):
        for got, want in zip(run_sequence(module, case, with_dh_seq), reference, strict=True):
            assert got.dtype == want.dtype
            np.testing.assert_allclose(got, want, rtol=tol, atol=tol)


def test_a_batch_of_one_takes_the_python_loop_with_the_same_result():
    """numba_blas's products need every dimension ≥ 2: a batch of one runs the loop in Python."""
    xw, u_kernel, h0, c0, dh_seq, dh, dc = sequence_case("float64")
    case = (xw[:, :1].copy(), u_kernel, h0[:1].copy(), c0[:1].copy(), dh_seq[:, :1].copy())
    case += (dh[:1].copy(), dc[:1].copy())
    for got, want in zip(
        run_sequence(numba_rnn_kernels, case), run_steps(numpy_rnn_kernels, case), strict=True
    ):
        np.testing.assert_allclose(got, want, rtol=1e-13, atol=1e-13)


def test_the_layer_runs_unmasked_sequences_in_one_call_and_masked_ones_step_by_step(float64):
    """The two paths of LSTM give the same outputs and gradients where both apply (a mask of
    ones takes the step loop)."""
    rng = np.random.default_rng(3)
    x = rng.normal(size=(BATCH, STEPS, 2))
    layer = LSTM(UNITS, return_sequences=True)
    layer(x)
    layer.set_weights([rng.normal(0, 0.6, w.shape) for w in layer.get_weights()])
    dy = rng.normal(size=(BATCH, STEPS, UNITS))
    results = []
    for mask in (None, np.ones((BATCH, STEPS), dtype=bool)):
        y = layer.call(x, mask=mask)
        assert layer.ran_whole_sequence == (mask is None)
        dx = layer.backward(dy)
        results.append([y, dx, *[g.copy() for g in layer.grads]])
    for a, b in zip(*results, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-13, atol=1e-13)


def test_recurrent_products_leave_blas_threads_as_they_were(monkeypatch):
    """The products run on one BLAS thread and put NumPy's setting back afterwards. The rule is
    on when the user set no thread count: the environment is cleared of both variables and
    NumPy's BLAS looked for again, as at import."""
    monkeypatch.delenv("OPENBLAS_NUM_THREADS", raising=False)
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    found = numba_runtime._find_blas_threads()
    assert found is not None, "NumPy's wheel bundles OpenBLAS (numpy.libs/*openblas*)"
    monkeypatch.setattr(numba_runtime, "_blas_threads", found)
    get_threads, _ = found
    before = get_threads()
    rng = np.random.default_rng(0)
    a, b = rng.random((1024, 64), dtype=np.float32), rng.random((64, 256), dtype=np.float32)
    out = np.empty((1024, 256), dtype=np.float32)
    numba_rnn_kernels.sequence_matmul(a, b, out)
    np.testing.assert_allclose(out, a @ b, rtol=1e-5)
    numba_rnn_kernels.sequence_matmul_tn(a, out, np.empty((64, 256), dtype=np.float32))
    numba_rnn_kernels.sequence_matmul_nt(out, b, np.empty((1024, 64), dtype=np.float32))
    case = sequence_case("float32")
    run_sequence(numba_rnn_kernels, case)
    assert get_threads() == before
