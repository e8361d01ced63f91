"""Dropout masks of the recurrent cells, and the products they enter.

Keras draws a cell's masks once per sequence (the same mask at every step) and only in training:
one input mask when there is no recurrent dropout, else one mask per gate for the inputs and one
per gate for the recurrent state (Keras's `implementation=1`). A mask holds keep / (1 − rate).
"""

import numpy as np

from minikeras import kernels


def draw_masks(rng, rate, count, shape, dtype):
    """`count` masks of `shape`, each entry 1/(1 − rate) with probability 1 − rate, else 0;
    None when there is nothing to drop (rate 0) or when rate is 1 (Keras drops nothing then)."""
    if not 0.0 < rate < 1.0:
        return None
    keep = rng.random((count,) + tuple(shape)) >= rate
    return (keep / (1.0 - rate)).astype(dtype)


def _matmul(a, w):
    """a·w through the kernels (BLAS, on the recurrent layers' threads)     (rows, k)·(k, n)"""
    a = np.ascontiguousarray(a)
    return kernels.sequence_matmul(a, w, np.empty((a.shape[0], w.shape[1]), dtype=a.dtype))


def gate_matmul(a, w, masks, gates):
    """a·w for `gates` stacked column blocks of w, with dropout masks on a:

    masks None:        a·w                           (rows, k)·(k, gates·u)
    masks (1, rows, k): (a ⊙ m)·w
    masks (gates, ...): [(a ⊙ m_g)·w_g for each block g], side by side
    """
    if masks is None:
        return _matmul(a, w)
    if len(masks) == 1:
        return _matmul(a * masks[0], w)
    u = w.shape[1] // gates
    out = np.empty((a.shape[0], w.shape[1]), dtype=a.dtype)
    for g in range(gates):
        out[:, g * u : (g + 1) * u] = _matmul(a * masks[g], w[:, g * u : (g + 1) * u])
    return out


def _matmul_tn(a, b):
    """aᵀ·b through the kernels     (rows, k)ᵀ·(rows, n) → (k, n)"""
    return kernels.sequence_matmul_tn(a, b, np.empty((a.shape[1], b.shape[1]), dtype=a.dtype))


def _matmul_nt(a, w):
    """a·wᵀ through the kernels     (rows, n)·(k, n)ᵀ → (rows, k)"""
    return kernels.sequence_matmul_nt(a, w, np.empty((a.shape[0], w.shape[0]), dtype=a.dtype))


def gate_matmul_backward(a, w, masks, dout, dw, gates, need_da=True):
    """Backward of `gate_matmul`: adds the weight gradient into dw, returns da (or None).

    dw += (a ⊙ m_g)ᵀ·dout_g         (k, rows)·(rows, u) per block
    da = Σ_g (dout_g·w_gᵀ) ⊙ m_g     (rows, u)·(u, k)
    """
    if masks is None or len(masks) == 1:
        a_in = a if masks is None else a * masks[0]
        dw += _matmul_tn(np.ascontiguousarray(a_in), dout)
        if not need_da:
            return None
        da = _matmul_nt(np.ascontiguousarray(dout), w)
        return da if masks is None else da * masks[0]
    u = w.shape[1] // gates
    da = np.zeros(a.shape, dtype=a.dtype) if need_da else None
    for g in range(gates):
        block = slice(g * u, (g + 1) * u)
        dout_g = np.ascontiguousarray(dout[:, block])
        dw[:, block] += _matmul_tn(a * masks[g], dout_g)
        if need_da:
            da += _matmul_nt(dout_g, w[:, block]) * masks[g]
    return da
