"""The recurrent kernels compiled: the contract of `numpy_rnn_kernels.py`, as Numba loops.

Read `numpy_rnn_kernels.py` first: same names, arguments and meaning. The rules of
`numba_kernels.py` hold (no fastmath, NumPy's error model, cached, products left to BLAS); here:

1. One compiled pass per step for the gate arithmetic: an LSTM step's elementwise part is ~15
   NumPy calls (slices, activations, products), each ~1 µs of dispatch at batch 32, against one
   call here. The activation is picked by a small integer inside an always-inlined helper; the
   branch is the same for every element, so the CPU predicts it.
2. An LSTM's whole sequence is one compiled call (`lstm_sequence_forward`, `_backward`): the
   loop over steps, the product h_{t−1}·U of each step (NumPy's own OpenBLAS, called from
   compiled code through numba_blas.py) and the gates. Run from Python, each step cost a
   dozen Python calls around its two kernels (the layer's step, the dropout helper, the
   product's thread setting). The recurrent kernel's gradient leaves the loop altogether:
   dU = Σ_t h_{t−1}ᵀ·dz_t is one product over the T·b rows, made by the layer afterwards.
   Masked sequences and recurrent dropout (masks inside the product) keep the step loop.
3. Threads: every product of the recurrent layers runs on one BLAS thread (`sequence_matmul`),
   the per-step ones and the whole-sequence ones (x·W before the loop, dW and dx after it, over
   T·b rows). At the text classifier's shapes, measured with CPU time (best of 5 × 100 calls,
   float32, load average 11 on 2 cores):

       product                  one BLAS thread    two BLAS threads    two parts, one thread each
       x·W  (1024, 64)·(64, 256)      588 µs            7,686 µs            830 µs
       dz·Wᵀ (1024, 256)·(256, 64)    541 µs            3,503 µs            559 µs
       xᵀ·dz (64, 1024)·(1024, 256)   501 µs            8,259 µs            753 µs

   Two BLAS threads spin at each barrier and lose whole time slices when the other core is
   busy (rule 3 of numba_kernels.py). Parts on worker threads, as the convolutions do, cost no
   more CPU at best and gained nothing reliable in wall time (0.5–3× either way with the load):
   these products are ~15% of a step, against 85% for the sequential loop, which no part can
   share. So: one thread, and no parts.
4. Activations go a row at a time (`_act_row`): one loop per gate block with the choice of
   activation outside it, so LLVM vectorises each loop (8 float32 a instruction). In float32,
   sigmoid and tanh come from numba_exp.py's polynomial exp (within 2.83 and 2.49 ulp of the
   truth; Numba has no SVML here, and libm's expf/expm1f are scalar calls that stop the
   vectoriser); float64 keeps libm's exp and expm1 (the 1e-10 parity path). Every constant in
   the float32 arithmetic is a float32 (`_ONE`, `np.float32(0)`): an integer literal is an int64
   to Numba and would turn the whole expression into float64. Measured (CPU time, best of 5 ×
   2,000 calls, float32, batch 64, 32 units, load average 11–12 on 2 cores): one LSTM step's
   gates, forward 119–130 µs with an element at a time through libm → 18–24 µs; backward
   17–21 → 11–21 µs (float32 constants only; the noise of the load is as large as the change).
5. The per-step pre-activations z = xw_t + h_{t−1}·U go to a scratch row block of their own,
   not into the gates' array they are turned into. With one array for both (the kernel reading
   z and writing the gates in place), one step's gate pass measured 66 µs against 18–25 µs
   with the two apart (CPU time, best of 5 × 3,000 calls, float32, batch 64, 32 units, load
   average 9), and the whole 8-step forward call 642–677 µs against 231 µs: the in-place form
   ran the vectorised activations of rule 4 at scalar speed. Whole epochs: see the end.

Where a stacked-LSTM training step went before rule 4 (3 × LSTM(32), 8 steps, batch 64, RMSprop;
CPU time per step, best of 5 epochs, load average 13 on 2 cores, so every figure is inflated):
10.4 ms in all; the forward loops 4.5 (their gates' exp, expm1: 34 ns per tanh, 9 per sigmoid
under this load, the products ~0.3), the backward loops 1.1, the whole-sequence products 1.7,
Dense, loss and RMSprop 0.3, Python around them 2.8. The text classifier's step (32 steps of
Embedding(1000, 64) → LSTM(64), batch 32): 12.1 ms, the forward loop 5.4 of it.

Whole epochs (float32, CPU seconds of this process, best of 5 epochs in each of 3 processes, A
and B alternated, load average 13–15 on 2 cores; wall time in brackets, inflated by the load):

    stacked LSTM (3 × LSTM(32), 8 steps, 16 features, 1024 samples, batch 64, RMSprop):
        before (step loop in Python)   0.170–0.224 s   (0.59–0.80 s)
        whole-sequence calls           0.127–0.165 s   (0.40–0.55 s)
        Keras-TF                       0.291–0.371 s   (1.00–1.09 s; its CPU counts its threads)
    text classifier (Embedding(1000, 64), LSTM(64), 32 steps, 1024 samples, batch 32):
        before                         2.12 s          (7.4–9.7 s)
        whole-sequence calls           0.45–0.46 s     (3.2–3.3 s)
        Keras-TF                       0.63–0.84 s     (1.8–3.2 s)
    (best of 3 epochs, 2 processes each, load average 15–16.) Under such a load the wall clock
    measures each process's share of the cores more than its work: Keras's several threads get
    more of them than minikeras's one.

Rule 4, A/B alternated in separate processes (CPU time, best of 5 epochs for the stacked LSTM
and 3 for the text classifier, two rounds, load average 11–12): stacked LSTM 122–146 → 110–125
ms an epoch; text classifier 405–444 → 319–352 ms. The gates were 45% of a step before; what
is left is mostly Python around the kernels and the products.

Rule 5, A/B in separate processes (stacked LSTM epoch, CPU time, best of 15 epochs, one BLAS
thread, 4 rounds alternating the three, load average 11–13): before rule 4 (the libm gates)
114–131 ms; rule 4 with z and gates one array 86–125 ms; rule 5 70–75 ms.
"""

import numpy as np
from numba import njit

from minikeras.kernels import numba_blas, numba_exp, numba_gemm
from minikeras.kernels.numba_runtime import (
    compiled,
    gemm,
    restore_blas_threads,
    use_blas_threads,
)

RNN_ACTIVATIONS = ("linear", "relu", "sigmoid", "tanh")
_CODE = {name: code for code, name in enumerate(RNN_ACTIVATIONS)}
LINEAR, RELU, SIGMOID, TANH = range(4)


def _code(name):
    code = _CODE.get(name)
    if code is None:
        raise ValueError(f"activation {name!r} has no recurrent kernel; expected {RNN_ACTIVATIONS}")
    return code


_ONE = np.float32(1)  # a float32 constant keeps float32 arithmetic float32 (an int 1 is int64)


@njit(inline="always", error_model="numpy")
def _act(code, v):
    if code == LINEAR:
        return v
    if code == RELU:
        return np.maximum(v, np.float32(0))
    if code == SIGMOID:
        return numba_exp.sigmoid(v)
    return numba_exp.tanh(v)


@njit(inline="always", error_model="numpy")
def _dact(code, y):
    if code == LINEAR:
        return y - y + _ONE
    if code == RELU:
        return y - y + _ONE if y > 0 else y - y
    if code == SIGMOID:
        return y * (_ONE - y)
    return _ONE - y * y


@njit(inline="always", error_model="numpy")
def _act_row(code, v, out):
    """out = act(v) along a row, the branch outside each loop, so that LLVM vectorises it."""
    if code == LINEAR:
        out[:] = v
    elif code == RELU:
        for j in range(v.size):
            out[j] = np.maximum(v[j], np.float32(0))
    elif code == SIGMOID:
        for j in range(v.size):
            out[j] = numba_exp.sigmoid(v[j])
    else:
        for j in range(v.size):
            out[j] = numba_exp.tanh(v[j])


# ----------------------------------------------------------------------------- LSTM
@compiled
def _lstm_forward(z, c_prev, act, rec, gates, c_out, act_c_out, h_out):
    b, u = c_prev.shape
    for n in range(b):
        _act_row(rec, z[n, : 2 * u], gates[n, : 2 * u])  # i, f
        _act_row(act, z[n, 2 * u : 3 * u], gates[n, 2 * u : 3 * u])  # g
        _act_row(rec, z[n, 3 * u :], gates[n, 3 * u :])  # o
        i, f, g = gates[n, :u], gates[n, u : 2 * u], gates[n, 2 * u : 3 * u]
        c, ac, o = c_out[n], act_c_out[n], gates[n, 3 * u :]
        for j in range(u):
            c[j] = f[j] * c_prev[n, j] + i[j] * g[j]
        _act_row(act, c, ac)
        for j in range(u):
            h_out[n, j] = o[j] * ac[j]


def lstm_step_forward(
    z, c_prev, activation, recurrent_activation, gates_out, c_out, act_c_out, h_out
):
    """See numpy_rnn_kernels.lstm_step_forward: i, f, g, o; c = f⊙c_prev + i⊙g; h = o⊙act(c)."""
    _lstm_forward(
        z,
        c_prev,
        _code(activation),
        _code(recurrent_activation),
        gates_out,
        c_out,
        act_c_out,
        h_out,
    )
    return h_out


@compiled
def _lstm_backward(gates, c_prev, act_c, dh, dc, act, rec, dz, dc_prev):
    b, u = c_prev.shape
    for n in range(b):
        for j in range(u):
            i, f = gates[n, j], gates[n, u + j]
            g, o = gates[n, 2 * u + j], gates[n, 3 * u + j]
            ac = act_c[n, j]
            dct = dc[n, j] + dh[n, j] * o * _dact(act, ac)
            dz[n, j] = dct * g * _dact(rec, i)
            dz[n, u + j] = dct * c_prev[n, j] * _dact(rec, f)
            dz[n, 2 * u + j] = dct * i * _dact(act, g)
            dz[n, 3 * u + j] = dh[n, j] * ac * _dact(rec, o)
            dc_prev[n, j] = dct * f


def lstm_step_backward(
    gates, c_prev, act_c, dh, dc, activation, recurrent_activation, dz_out, dc_prev_out
):
    """See numpy_rnn_kernels.lstm_step_backward."""
    _lstm_backward(
        gates,
        c_prev,
        act_c,
        dh,
        dc,
        _code(activation),
        _code(recurrent_activation),
        dz_out,
        dc_prev_out,
    )
    return dz_out


# ----------------------------------------------------------------------------- GRU
@compiled
def _gru_gates(xw, hu, rec, gates):
    b = gates.shape[0]
    u2 = 2 * (gates.shape[1] // 3)
    for n in range(b):
        zr = gates[n, :u2]
        for j in range(u2):
            zr[j] = xw[n, j] + hu[n, j]
        _act_row(rec, zr, zr)


def gru_gates_forward(xw, hu, recurrent_activation, gates_out):
    """See numpy_rnn_kernels.gru_gates_forward: z, r = σ(xw + hu) on the first 2u columns."""
    _gru_gates(xw, hu, _code(recurrent_activation), gates_out)
    return gates_out


@compiled
def _gru_candidate(xw, rec_in, h_prev, reset_after, act, gates, h_out):
    b, u = h_prev.shape
    for n in range(b):
        hh = gates[n, 2 * u :]
        for j in range(u):
            r = gates[n, u + j]
            hh[j] = xw[n, 2 * u + j] + (r * rec_in[n, j] if reset_after else rec_in[n, j])
        _act_row(act, hh, hh)
        for j in range(u):
            z = gates[n, j]
            h_out[n, j] = z * h_prev[n, j] + (_ONE - z) * hh[j]


def gru_candidate_forward(xw, rec, h_prev, reset_after, activation, gates_out, h_out):
    """See numpy_rnn_kernels.gru_candidate_forward: hh, then h = z⊙h_prev + (1 − z)⊙hh."""
    _gru_candidate(xw, rec, h_prev, bool(reset_after), _code(activation), gates_out, h_out)
    return h_out


@compiled
def _gru_backward(gates, h_prev, rec_in, dh, reset_after, act, rec, dxw, dhu, dh_prev):
    b, u = h_prev.shape
    for n in range(b):
        for j in range(u):
            z, r, hh = gates[n, j], gates[n, u + j], gates[n, 2 * u + j]
            d = dh[n, j]
            dz_pre = d * (h_prev[n, j] - hh) * _dact(rec, z)
            dh_pre = d * (_ONE - z) * _dact(act, hh)
            dxw[n, j] = dz_pre
            dhu[n, j] = dz_pre
            dxw[n, 2 * u + j] = dh_pre
            dh_prev[n, j] = d * z
            if reset_after:
                dr_pre = dh_pre * rec_in[n, j] * _dact(rec, r)
                dxw[n, u + j] = dr_pre
                dhu[n, u + j] = dr_pre
                dhu[n, 2 * u + j] = dh_pre * r
            else:
                dhu[n, 2 * u + j] = dh_pre


def gru_step_backward(
    gates,
    h_prev,
    rec,
    dh,
    reset_after,
    activation,
    recurrent_activation,
    dxw_out,
    dhu_out,
    dh_prev_out,
):
    """See numpy_rnn_kernels.gru_step_backward."""
    _gru_backward(
        gates,
        h_prev,
        rec,
        dh,
        bool(reset_after),
        _code(activation),
        _code(recurrent_activation),
        dxw_out,
        dhu_out,
        dh_prev_out,
    )
    return dxw_out


@compiled
def _gru_reset_backward(d_rh, gates, h_in, rec, dxw, dhu, dh_in):
    b, u = h_in.shape
    for n in range(b):
        for j in range(u):
            r = gates[n, u + j]
            dr_pre = d_rh[n, j] * h_in[n, j] * _dact(rec, r)
            dxw[n, u + j] = dr_pre
            dhu[n, u + j] = dr_pre
            dh_in[n, j] = d_rh[n, j] * r


def gru_reset_backward(d_rh, gates, h_in, recurrent_activation, dxw_out, dhu_out, dh_in_out):
    """See numpy_rnn_kernels.gru_reset_backward."""
    _gru_reset_backward(d_rh, gates, h_in, _code(recurrent_activation), dxw_out, dhu_out, dh_in_out)
    return dh_in_out


# ----------------------------------------------------------------------------- a whole LSTM
if numba_blas.AVAILABLE:

    @compiled
    def _lstm_sequence(xw, u_kernel, h0, c0, act, rec, gates, c, act_c, h):
        steps, batch, width = xw.shape
        # z apart from gates: one array for both made the gates' pass 2.7× slower (rule 5)
        z = np.empty((batch, width), dtype=xw.dtype)
        for t in range(steps):
            h_prev = h0 if t == 0 else h[t - 1]
            c_prev = c0 if t == 0 else c[t - 1]
            numba_blas.gemm_nn(h_prev, u_kernel, z)  # h_{t−1}·U   (b, u)·(u, 4u)
            for n in range(batch):
                for j in range(width):
                    z[n, j] += xw[t, n, j]
            _lstm_forward(z, c_prev, act, rec, gates[t], c[t], act_c[t], h[t])

    @compiled
    def _lstm_sequence_backward(gates, c, act_c, c0, u_kernel, dh_seq, dh, dc, act, rec, dz):
        steps, batch, units = c.shape
        dc_prev = np.empty_like(dc)
        for t in range(steps - 1, -1, -1):
            if dh_seq is not None:
                for n in range(batch):
                    for j in range(units):
                        dh[n, j] += dh_seq[t, n, j]
            c_prev = c0 if t == 0 else c[t - 1]
            _lstm_backward(gates[t], c_prev, act_c[t], dh, dc, act, rec, dz[t], dc_prev)
            dc[:] = dc_prev
            numba_blas.gemm_nt(dz[t], u_kernel, dh)  # dz_t·Uᵀ   (b, 4u)·(4u, u)


def _loop_compiled(h0, u_kernel):
    """The whole loop compiles where BLAS can be called from compiled code and every dimension
    of the per-step product is at least 2 (numba_blas.py's condition for np.matmul's result)."""
    return numba_blas.AVAILABLE and min(h0.shape) >= 2 and u_kernel.flags.c_contiguous


def lstm_sequence_forward(
    xw, recurrent_kernel, h0, c0, activation, recurrent_activation, gates_out, c_out, act_c_out,
    h_out,
):  # fmt: skip
    """See numpy_rnn_kernels.lstm_sequence_forward: every step, products and gates, in one call."""
    act, rec = _code(activation), _code(recurrent_activation)
    steps, batch, width = xw.shape
    if not _loop_compiled(h0, recurrent_kernel):
        h_prev, c_prev = h0, c0
        z = np.empty((batch, width), dtype=xw.dtype)  # apart from gates_out (rule 5)
        for t in range(steps):
            sequence_matmul(h_prev, recurrent_kernel, z)
            z += xw[t]
            _lstm_forward(z, c_prev, act, rec, gates_out[t], c_out[t], act_c_out[t], h_out[t])
            h_prev, c_prev = h_out[t], c_out[t]
        return h_out
    before = use_blas_threads(batch * width)  # one thread: (b, u)·(u, 4u) is a small product
    try:
        _lstm_sequence(xw, recurrent_kernel, h0, c0, act, rec, gates_out, c_out, act_c_out, h_out)
    finally:
        restore_blas_threads(before)
    return h_out


def lstm_sequence_backward(
    gates, c, act_c, c0, recurrent_kernel, dh_seq, dh, dc, activation, recurrent_activation,
    dz_out,
):  # fmt: skip
    """See numpy_rnn_kernels.lstm_sequence_backward: every step backward in one call."""
    act, rec = _code(activation), _code(recurrent_activation)
    if not _loop_compiled(dh, recurrent_kernel):
        dc_prev = np.empty_like(dc)
        for t in reversed(range(len(gates))):
            if dh_seq is not None:
                dh += dh_seq[t]
            c_prev = c0 if t == 0 else c[t - 1]
            _lstm_backward(gates[t], c_prev, act_c[t], dh, dc, act, rec, dz_out[t], dc_prev)
            dc[...] = dc_prev
            sequence_matmul_nt(dz_out[t], recurrent_kernel, dh)
        return dz_out
    before = use_blas_threads(dh.size * recurrent_kernel.shape[1])
    try:
        _lstm_sequence_backward(
            gates, c, act_c, c0, recurrent_kernel, dh_seq, dh, dc, act, rec, dz_out
        )
    finally:
        restore_blas_threads(before)
    return dz_out


# ----------------------------------------------------------------------------- products
def sequence_matmul(a, b, out):
    """out = a·b     (m, k)·(k, n), on one BLAS thread (the rule at the top of this module)."""
    m, k = a.shape
    if numba_gemm.use_numba(a, b, out, m, k, b.shape[1]):
        return numba_gemm.gemm(a, b, out)
    return gemm(a, b, out, a.size * b.shape[1], threads=1)


def sequence_matmul_tn(a, b, out):
    """out = aᵀ·b     (k, m)ᵀ·(k, n), on one BLAS thread; a weight gradient."""
    k, m = a.shape
    if numba_gemm.use_numba(a, b, out, m, k, b.shape[1]):
        return numba_gemm.gemm_tn(a, b, out)
    return gemm(a.T, b, out, a.size * b.shape[1], threads=1)


def sequence_matmul_nt(a, b, out):
    """out = a·bᵀ     (m, k)·(n, k)ᵀ, on one BLAS thread; an input gradient."""
    m, k = a.shape
    if numba_gemm.use_numba(a, b, out, m, k, b.shape[0]):
        return numba_gemm.gemm_nt(a, b, out)
    return gemm(a, b.T, out, a.size * b.shape[0], threads=1)
