"""The reference kernels of one recurrent step: plain NumPy, the gate arithmetic of LSTM and GRU.

The products (x·W, h·U) are not here: the layers do them through `kernels.matmul` (BLAS). These
kernels do the elementwise work between the products, forward and backward, and keep the contract
of `numpy_kernels.py`: C-contiguous arrays of one float dtype (slices of them may be views),
results written into `out` arrays. `numba_rnn_kernels.py` has the same functions, compiled.

Activations are given by name, one of RNN_ACTIVATIONS. Every derivative is written from the
activation's output y alone (linear 1, relu [y > 0], sigmoid y·(1 − y), tanh 1 − y²), so a step
keeps only its outputs for the backward pass, never its pre-activations.

Shapes: b = batch, u = units. LSTM gates are stacked [i, f, c, o] along the last axis (4u),
GRU gates [z, r, h] (3u), as Keras stacks its kernels.
"""

import numpy as np

RNN_ACTIVATIONS = ("linear", "relu", "sigmoid", "tanh")


def _act(name, z):
    """act(z) for a name in RNN_ACTIVATIONS."""
    if name == "linear":
        return z.copy()
    if name == "relu":
        return np.maximum(z, 0)
    if name == "sigmoid":
        e = np.exp(-np.abs(z))  # never overflows
        return np.where(z >= 0, 1 / (1 + e), e / (1 + e))
    if name == "tanh":
        return np.tanh(z)
    raise ValueError(f"activation {name!r} has no recurrent kernel; expected {RNN_ACTIVATIONS}")


def _dact(name, y):
    """act'(z) written with y = act(z) only."""
    if name == "linear":
        return np.ones_like(y)
    if name == "relu":
        return (y > 0).astype(y.dtype)
    if name == "sigmoid":
        return y * (1 - y)
    if name == "tanh":
        return 1 - y * y
    raise ValueError(f"activation {name!r} has no recurrent kernel; expected {RNN_ACTIVATIONS}")


# ----------------------------------------------------------------------------- LSTM
def lstm_step_forward(
    z, c_prev, activation, recurrent_activation, gates_out, c_out, act_c_out, h_out
):
    """One LSTM step after the products; z = x·W + b + h_prev·U (b, 4u), may be `gates_out`.

    i = σ(z_i)   f = σ(z_f)   g = act(z_c)   o = σ(z_o)      each (b, u); σ = recurrent_activation
    c = f ⊙ c_prev + i ⊙ g                                     (b, u)
    h = o ⊙ act(c)                                             (b, u)
    """
    u = c_prev.shape[1]
    gates_out[:, : 2 * u] = _act(recurrent_activation, z[:, : 2 * u])  # i, f
    gates_out[:, 2 * u : 3 * u] = _act(activation, z[:, 2 * u : 3 * u])  # g, the candidate
    gates_out[:, 3 * u :] = _act(recurrent_activation, z[:, 3 * u :])  # o
    i, f, g, o = (gates_out[:, k * u : (k + 1) * u] for k in range(4))
    c_out[...] = f * c_prev + i * g
    act_c_out[...] = _act(activation, c_out)
    h_out[...] = o * act_c_out
    return h_out


def lstm_step_backward(
    gates, c_prev, act_c, dh, dc, activation, recurrent_activation, dz_out, dc_prev_out
):
    """The same step backward: dh = dL/dh and dc = dL/dc reach this step from above and later.

    dc_tot = dc + dh ⊙ o ⊙ act'(c)      (b, u)  the cell state's two ways in: its own path and h
    do = dh ⊙ act(c)                    (b, u)
    di = dc_tot ⊙ g,  dg = dc_tot ⊙ i,  df = dc_tot ⊙ c_prev
    dc_prev = dc_tot ⊙ f                (b, u)  the forget gate scales the carried gradient
    dz = [di ⊙ σ'(i), df ⊙ σ'(f), dg ⊙ act'(g), do ⊙ σ'(o)]     (b, 4u)
    """
    u = c_prev.shape[1]
    i, f, g, o = (gates[:, k * u : (k + 1) * u] for k in range(4))
    dc_tot = dc + dh * o * _dact(activation, act_c)
    dz_out[:, :u] = dc_tot * g * _dact(recurrent_activation, i)
    dz_out[:, u : 2 * u] = dc_tot * c_prev * _dact(recurrent_activation, f)
    dz_out[:, 2 * u : 3 * u] = dc_tot * i * _dact(activation, g)
    dz_out[:, 3 * u :] = dh * act_c * _dact(recurrent_activation, o)
    dc_prev_out[...] = dc_tot * f
    return dz_out


# ----------------------------------------------------------------------------- GRU
def gru_gates_forward(xw, hu, recurrent_activation, gates_out):
    """The update and reset gates: z = σ(xw_z + hu_z), r = σ(xw_r + hu_r), into gates_out[:, :2u].

    xw = x·W + b_in (b, 3u); hu = h_prev·U (+ b_rec) (b, 3u), or only its first 2u columns.
    """
    u = gates_out.shape[1] // 3
    gates_out[:, : 2 * u] = _act(recurrent_activation, xw[:, : 2 * u] + hu[:, : 2 * u])
    return gates_out


def gru_candidate_forward(xw, rec, h_prev, reset_after, activation, gates_out, h_out):
    """The candidate and the new state, once z and r are in gates_out:

    reset_after:      hh = act(xw_h + r ⊙ rec),  rec = h_prev·U_h + b_rec_h   (b, u)
    not reset_after:  hh = act(xw_h + rec),      rec = (r ⊙ h_prev)·U_h       (b, u)
    h = z ⊙ h_prev + (1 − z) ⊙ hh                                             (b, u)
    """
    u = h_prev.shape[1]
    z, r = gates_out[:, :u], gates_out[:, u : 2 * u]
    pre = xw[:, 2 * u :] + (r * rec if reset_after else rec)
    gates_out[:, 2 * u :] = _act(activation, pre)
    h_out[...] = z * h_prev + (1 - z) * gates_out[:, 2 * u :]
    return h_out


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
    """Backward through `gru_candidate_forward` (and the reset gate when reset_after):

    dz_pre = dh ⊙ (h_prev − hh) ⊙ σ'(z)        (b, u)  → dxw[:, :u] and dhu[:, :u]
    dh_pre = dh ⊙ (1 − z) ⊙ act'(hh)           (b, u)  → dxw[:, 2u:]
    dh_prev = dh ⊙ z                           (b, u)  the direct path, no product
    reset_after:  dr_pre = dh_pre ⊙ rec ⊙ σ'(r) → dxw[:, u:2u] and dhu[:, u:2u]
                  dhu[:, 2u:] = dh_pre ⊙ r      the gradient of rec = h_prev·U_h + b_rec_h
    not reset_after: dhu[:, 2u:] = dh_pre, the gradient of (r ⊙ h_prev)·U_h; the layer multiplies
                  it by U_hᵀ and `gru_reset_backward` finishes r.
    """
    u = h_prev.shape[1]
    z, r, hh = gates[:, :u], gates[:, u : 2 * u], gates[:, 2 * u :]
    dz_pre = dh * (h_prev - hh) * _dact(recurrent_activation, z)
    dh_pre = dh * (1 - z) * _dact(activation, hh)
    dxw_out[:, :u] = dz_pre
    dhu_out[:, :u] = dz_pre
    dxw_out[:, 2 * u :] = dh_pre
    dh_prev_out[...] = dh * z
    if reset_after:
        dr_pre = dh_pre * rec * _dact(recurrent_activation, r)
        dxw_out[:, u : 2 * u] = dr_pre
        dhu_out[:, u : 2 * u] = dr_pre
        dhu_out[:, 2 * u :] = dh_pre * r
    else:
        dhu_out[:, 2 * u :] = dh_pre
    return dxw_out


def gru_reset_backward(d_rh, gates, h_in, recurrent_activation, dxw_out, dhu_out, dh_in_out):
    """reset_after=False, the reset gate: given d_rh = dL/d(r ⊙ h_in) = dh_pre·U_hᵀ  (b, u),

    dr_pre = d_rh ⊙ h_in ⊙ σ'(r)      (b, u)  → dxw[:, u:2u] and dhu[:, u:2u]
    dh_in = d_rh ⊙ r                  (b, u)  (h_in is h_prev, or h_prev ⊙ its dropout mask)
    """
    u = h_in.shape[1]
    r = gates[:, u : 2 * u]
    dr_pre = d_rh * h_in * _dact(recurrent_activation, r)
    dxw_out[:, u : 2 * u] = dr_pre
    dhu_out[:, u : 2 * u] = dr_pre
    dh_in_out[...] = d_rh * r
    return dh_in_out


# ----------------------------------------------------------------------------- a whole LSTM
def lstm_sequence_forward(
    xw, recurrent_kernel, h0, c0, activation, recurrent_activation, gates_out, c_out, act_c_out,
    h_out,
):  # fmt: skip
    """Every step of an LSTM once the input product is done, for t = 0 .. T−1:

    z_t = xw_t + h_{t−1}·U                 (b, u)·(u, 4u) → (b, 4u)
    gates_t, c_t, act(c_t), h_t = lstm_step_forward(z_t, c_{t−1})

    xw (T, b, 4u) = x·W + b in processing order; h0, c0 (b, u) the initial states. Writes
    gates_out (T, b, 4u) and c_out, act_c_out, h_out (T, b, u): h_out[t] is the output of step t.
    """
    h_prev, c_prev = h0, c0
    for t in range(len(xw)):
        z = h_prev @ recurrent_kernel + xw[t]  # (b, u)·(u, 4u)
        lstm_step_forward(
            z, c_prev, activation, recurrent_activation, gates_out[t], c_out[t], act_c_out[t],
            h_out[t],
        )  # fmt: skip
        h_prev, c_prev = h_out[t], c_out[t]
    return h_out


def lstm_sequence_backward(
    gates, c, act_c, c0, recurrent_kernel, dh_seq, dh, dc, activation, recurrent_activation,
    dz_out,
):  # fmt: skip
    """Backpropagation through every step of `lstm_sequence_forward`, for t = T−1 .. 0:

    dh += dh_seq_t                     (b, u)  the output's own gradient joins the carried one
    dz_t, dc = lstm_step_backward(gates_t, c_{t−1}, act(c_t), dh, dc)
    dh = dz_t·Uᵀ                       (b, 4u)·(4u, u)  the gradient of h_{t−1}

    dh_seq (T, b, u) is dL/d(output of each step), or None when only the last output was used;
    dh, dc (b, u) enter as the gradients of the last step's states and leave as those of h0 and
    c0 (updated in place). Writes dz_out (T, b, 4u). The recurrent kernel's gradient needs no
    loop: dU = Σ_t h_{t−1}ᵀ·dz_t is one product over the T·b rows, done by the caller.
    """
    dc_prev = np.empty_like(dc)
    for t in reversed(range(len(gates))):
        if dh_seq is not None:
            dh += dh_seq[t]
        c_prev = c0 if t == 0 else c[t - 1]
        lstm_step_backward(
            gates[t], c_prev, act_c[t], dh, dc, activation, recurrent_activation, dz_out[t],
            dc_prev,
        )  # fmt: skip
        dc[...] = dc_prev
        dh[...] = dz_out[t] @ recurrent_kernel.T  # (b, 4u)·(4u, u)
    return dz_out


# ----------------------------------------------------------------------------- products
def sequence_matmul(a, b, out):
    """out = a·b for the recurrent layers' products     (m, k)·(k, n); NumPy's BLAS as it is set."""
    return np.matmul(a, b, out=out)


def sequence_matmul_tn(a, b, out):
    """out = aᵀ·b     (k, m)ᵀ·(k, n); a weight gradient."""
    return np.matmul(a.T, b, out=out)


def sequence_matmul_nt(a, b, out):
    """out = a·bᵀ     (m, k)·(n, k)ᵀ; an input gradient."""
    return np.matmul(a, b.T, out=out)
