"""One training step of a stack of Dense layers, in one compiled call: forward, the loss from the
logits, backward, and the metric counts (models/compiled_step.py plans the buffers and decides
when this applies; the optimizer's update follows, in one more call).

It is the layer-by-layer step (Dense.call, the loss's `value_and_grad_from_logits`, Dense's
backward, `compute_metrics`) with the Python between the kernels taken out: it calls the same
compiled pieces in the same order on the same numbers (`_bias_activation`,
`softmax_crossentropy`, `_derivative_and_bias_grad`, NumPy's sum order, BLAS with NumPy's
arguments), so its results are bit-identical to that step's, which a test checks.

For layers l = 0 … L−1, a₀ = x, the last layer's activation being the softmax:

    forward    zₗ = aₗ·Wₗ + bₗ           (batch, in)·(in, units)      BLAS, then one pass
               aₗ₊₁ = actₗ(zₗ)            (hidden layers)
    loss       p = softmax(z_L−1); lossᵢ = −Σⱼ yᵢⱼ log pᵢⱼ   from the logits (no clipping)
               loss = Σᵢ lossᵢ / N         summed in NumPy's pairwise order
    backward   δ_L−1 = (p − y)/N                                    dL/dz at the logits
               dWₗ = aₗᵀ·δₗ               (in, batch)·(batch, units)
               dbₗ = Σ_batch δₗ
               δₗ₋₁ = (δₗ·Wₗᵀ) ⊙ act′ₗ₋₁(zₗ₋₁)   (batch, units)·(units, in); not for l = 0
    metrics    loss total += loss·N, count += N; accuracy hits += [argmax p = argmax y]

Tuples hold one array per layer (Numba indexes a tuple of like arrays by a loop counter);
`has_bias[l]` says whether `biases[l]` is a real bias or a placeholder.
"""

import numpy as np

from minikeras.kernels.numba_blas import gemm_nn, gemm_nt, gemm_tn
from minikeras.kernels.numba_kernels import (
    LINEAR,
    _activate,
    _bias_activation,
    _derivative,
    _derivative_and_bias_grad,
    softmax_crossentropy,
)
from minikeras.kernels.numba_runtime import compiled

PAIRWISE_BLOCK = 128  # NumPy's PW_BLOCKSIZE


@compiled
def _block_sum(a, start, stop):
    """Σ a[start:stop] for at most 128 numbers, as NumPy adds them: fewer than 8 one by one;
    else eight interleaved partial sums, added as a tree, then the remainder one by one."""
    n = stop - start
    if n < 8:
        total = a.dtype.type(-0.0)
        for i in range(start, stop):
            total += a[i]
        return total
    r0, r1, r2, r3 = a[start], a[start + 1], a[start + 2], a[start + 3]
    r4, r5, r6, r7 = a[start + 4], a[start + 5], a[start + 6], a[start + 7]
    i = start + 8
    while i < stop - n % 8:
        r0 += a[i]
        r1 += a[i + 1]
        r2 += a[i + 2]
        r3 += a[i + 3]
        r4 += a[i + 4]
        r5 += a[i + 5]
        r6 += a[i + 6]
        r7 += a[i + 7]
        i += 8
    total = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    while i < stop:
        total += a[i]
        i += 1
    return total


@compiled
def pairwise_sum(a, n):
    """Σ a[:n] in NumPy's order (`np.sum` of a contiguous float array): blocks of up to 128
    numbers summed by `_block_sum`; a longer run is split in two halves (the first a multiple
    of 8 long), each summed so, then added. Written with a stack of pending halves instead of
    recursion (Numba's disk cache cannot hold a recursive function)."""
    if n <= PAIRWISE_BLOCK:
        return _block_sum(a, 0, n)
    # each task: (start, stop, combine); combine=1 adds the two sums on top of `sums`
    tasks = np.empty((128, 3), np.int64)
    sums = np.empty(64, a.dtype)
    tasks[0, 0], tasks[0, 1], tasks[0, 2] = 0, n, 0
    pending, done = 1, 0
    while pending:
        pending -= 1
        start, stop, combine = tasks[pending, 0], tasks[pending, 1], tasks[pending, 2]
        if combine:
            done -= 1
            sums[done - 1] = sums[done - 1] + sums[done]
        elif stop - start <= PAIRWISE_BLOCK:
            sums[done] = _block_sum(a, start, stop)
            done += 1
        else:
            half = (stop - start) // 2
            half -= half % 8
            # run the first half, then the second, then add them
            tasks[pending, 0], tasks[pending, 1], tasks[pending, 2] = start, stop, 1
            tasks[pending + 1, 0], tasks[pending + 1, 1] = start + half, stop
            tasks[pending + 1, 2] = 0
            tasks[pending + 2, 0], tasks[pending + 2, 1] = start, start + half
            tasks[pending + 2, 2] = 0
            pending += 3
    return sums[0]


@compiled
def _argmax_row(a, i):
    """The first index of row i's largest value (a NaN counts as largest), as np.argmax."""
    best = 0
    for j in range(1, a.shape[1]):
        if a[i, j] > a[i, best] or (np.isnan(a[i, j]) and not np.isnan(a[i, best])):
            best = j
    return best


@compiled
def _add_bias(z, bias):
    for i in range(z.shape[0]):
        for j in range(z.shape[1]):
            z[i, j] += bias[j]


@compiled
def dense_softmax_step(
    x, y, weights, biases, has_bias, codes, zs, outs, deltas, dweights, dbiases,
    probs, losses, row_scale, loss_total, loss_count, with_accuracy, hits_total, hits_count,
):  # fmt: skip
    """One step (see the module's docstring). Writes the gradients into dweights and dbiases;
    adds to the metrics' 0-d totals and counts (the loss tracker's, and the accuracy's when
    `with_accuracy`) as their own update_state would. Returns the loss."""
    last = len(weights) - 1
    t = x.dtype.type
    batch = x.shape[0]
    # forward: BLAS writes x·W into z, then one pass adds the bias and applies the activation
    a = x
    for l in range(last):
        gemm_nn(a, weights[l], zs[l])
        if has_bias[l]:
            _bias_activation(biases[l], codes[l], zs[l], outs[l])
        else:
            _activate(codes[l], zs[l], outs[l])
        a = outs[l]
    z = zs[last]
    gemm_nn(a, weights[last], z)
    if has_bias[last]:
        _add_bias(z, biases[last])
    # loss from the logits; its gradient (p − y)/N lands in the last layer's δ
    softmax_crossentropy(z, y, row_scale, probs, losses, deltas[last])
    loss = pairwise_sum(losses, batch) / t(batch)
    # backward, last layer first: db and the activation's derivative in one pass, then BLAS
    for l in range(last, -1, -1):
        delta = deltas[l]
        code = LINEAR if l == last else codes[l]
        if has_bias[l]:
            _derivative_and_bias_grad(zs[l], outs[l], delta, code, delta, dbiases[l])
        elif code != LINEAR:
            _derivative(code, zs[l], outs[l], delta, delta)
        a = x if l == 0 else outs[l - 1]
        gemm_tn(a, delta, dweights[l])
        if l > 0:
            gemm_nt(delta, weights[l], deltas[l - 1])  # dL/da for the layer below
    # the metrics, as Mean.update_state and CategoricalAccuracy.update_state add them
    m = loss_total.dtype.type  # the metrics keep their totals in their own dtype
    loss_total[()] = loss_total[()] + m(loss) * m(batch)
    loss_count[()] = loss_count[()] + m(batch)
    if with_accuracy:
        hits = 0
        for i in range(batch):
            hits += _argmax_row(probs, i) == _argmax_row(y, i)
        m = hits_total.dtype.type
        hits_total[()] = hits_total[()] + m(hits)
        hits_count[()] = hits_count[()] + m(batch)
    return loss
