"""One training step of a stack of Dense layers, in one compiled call: forward, the loss and its
gradient, backward, and the metric counts (models/compiled_step.py plans the buffers and decides
when this applies; the optimizer's update follows, in one more call).

It is the layer-by-layer step (Dense.call, the loss's `value_and_grad` or
`value_and_grad_from_logits`, Dense's backward, `compute_metrics`) with the Python between the
kernels taken out: it calls the same compiled pieces in the same order on the same numbers
(`_bias_activation`, `softmax_crossentropy`, `sigmoid_crossentropy`,
`_derivative_and_bias_grad`, NumPy's sum order, BLAS with NumPy's arguments), so its results
are bit-identical to that step's, which a test checks.

For layers l = 0 … L−1, a₀ = x, yₚ = a_L the model's output:

    forward    zₗ = aₗ·Wₗ + bₗ           (batch, in)·(in, units)      BLAS, then one pass
               aₗ₊₁ = actₗ(zₗ)
    loss       softmax + categorical crossentropy, from the logits (no clipping):
                   lossᵢ = −Σⱼ yᵢⱼ log softmax(z)ᵢⱼ,         δ_L−1 = (p − y)/N   at the logits
               sigmoid + binary crossentropy, from the logits:
                   lossᵢ = meanⱼ −(y log σ(z) + (1 − y) log(1 − σ(z))),  δ_L−1 = (σ(z) − y)/(C·N)
               mean squared error, after any activation:
                   lossᵢ = meanⱼ (yₚ − y)²,   dL/dyₚ = 2(yₚ − y)/(C·N), then ⊙ act′(z) below
               loss = Σᵢ lossᵢ / N         summed in NumPy's pairwise order
    backward   dWₗ = aₗᵀ·δₗ               (in, batch)·(batch, units)
               dbₗ = Σ_batch δₗ
               δₗ₋₁ = (δₗ·Wₗᵀ) ⊙ act′ₗ₋₁(zₗ₋₁)   (batch, units)·(units, in); not for l = 0
    metrics    loss total += loss·N, count += N; then each metric's per-sample values
               (accuracy hits, binary accuracy or absolute error means) added to its total

Tuples hold one array per layer (Numba indexes a tuple of like arrays by a loop counter);
`has_bias[l]` says whether `biases[l]` is a real bias or a placeholder.
"""

import numpy as np

from minikeras.kernels.numba_blas import gemm_nn, gemm_nt, gemm_tn
from minikeras.kernels.numba_kernels import (
    LINEAR,
    _activate,
    _adam_all,
    _bias_activation,
    _derivative,
    _derivative_and_bias_grad,
    _rmsprop_all,
    _sgd_all,
    sigmoid_crossentropy,
    softmax_crossentropy,
)
from minikeras.kernels.numba_runtime import compiled

PAIRWISE_BLOCK = 128  # NumPy's PW_BLOCKSIZE
# the losses the step computes (models/compiled_step.py chooses), and the metrics it counts;
# the kernel takes each by its index in these lists
LOSSES = ("softmax_crossentropy", "sigmoid_crossentropy", "mean_squared_error")
SOFTMAX_CROSSENTROPY, SIGMOID_CROSSENTROPY, MEAN_SQUARED_ERROR = range(len(LOSSES))
METRICS = ("categorical_accuracy", "binary_accuracy", "mean_absolute_error", "mean_squared_error")
CATEGORICAL_ACCURACY, BINARY_ACCURACY, MEAN_ABSOLUTE_ERROR, MEAN_SQUARED = range(len(METRICS))


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
def _mean_squared_error(p, y, row_scale, row, losses, dp):
    """MeanSquaredError's value_and_grad: lossᵢ = meanⱼ (pᵢⱼ − yᵢⱼ)², each row summed in NumPy's
    order (`np.mean(..., axis=-1)`), and dpᵢⱼ = (pᵢⱼ − yᵢⱼ)·(2/C)·row_scaleᵢ. `row`: scratch."""
    t = p.dtype.type
    n = p.shape[1]
    two_over_c = t(2) * t(1.0 / n)  # as the loss: 2 times 1/C rounded once
    for i in range(p.shape[0]):
        for j in range(n):
            d = p[i, j] - y[i, j]
            row[j] = d * d
        losses[i] = pairwise_sum(row, n) / t(n)
        scale = row_scale[i]
        for j in range(n):
            dp[i, j] = (p[i, j] - y[i, j]) * two_over_c * scale


@compiled
def _metric_values(code, threshold, p, y, row, values):
    """Each sample's value of one metric, as its update_state computes it, into `values`:
    categorical accuracy [argmax p = argmax y]; binary accuracy meanⱼ [(pᵢⱼ > threshold) = yᵢⱼ];
    mean absolute and squared errors meanⱼ |pᵢⱼ − yᵢⱼ|, meanⱼ (pᵢⱼ − yᵢⱼ)² (the means in NumPy's
    order). `row`: scratch."""
    m = values.dtype.type
    n = p.shape[1]
    for i in range(p.shape[0]):
        if code == CATEGORICAL_ACCURACY:
            values[i] = m(_argmax_row(p, i) == _argmax_row(y, i))
            continue
        for j in range(n):
            if code == BINARY_ACCURACY:
                predicted = p.dtype.type(1) if p[i, j] > threshold else p.dtype.type(0)
                row[j] = m(y[i, j] == predicted)
            elif code == MEAN_ABSOLUTE_ERROR:
                row[j] = m(abs(p[i, j] - y[i, j]))
            else:
                d = p[i, j] - y[i, j]
                row[j] = m(d * d)
        values[i] = pairwise_sum(row, n) / m(n)


@compiled
def dense_step(
    x, y, weights, biases, has_bias, codes, loss_code, zs, outs, deltas, dweights, dbiases,
    probs, losses, row_scale, row, loss_total, loss_count, metric_codes, thresholds, totals,
    counts, values,
):  # fmt: skip
    """One step (see the module's docstring). Writes the gradients into dweights and dbiases;
    adds to the metrics' 0-d totals and counts (the loss tracker's, then those of each metric
    in `metric_codes`) as their own update_state would. Returns the loss."""
    last = len(weights) - 1
    t = x.dtype.type
    batch = x.shape[0]
    # forward: BLAS writes x·W into z, then one pass adds the bias and applies the activation
    a = x
    for l in range(last + 1):
        gemm_nn(a, weights[l], zs[l])
        if l == last and loss_code == SOFTMAX_CROSSENTROPY:
            if has_bias[l]:  # the softmax itself comes with the loss
                _add_bias(zs[l], biases[l])
        elif has_bias[l]:
            _bias_activation(biases[l], codes[l], zs[l], outs[l])
        else:
            _activate(codes[l], zs[l], outs[l])
        a = outs[l]
    # the loss and its gradient, into the last layer's δ: dL/dz from the logits for the
    # crossentropies, dL/dy for the mean squared error (its activation's derivative follows)
    z = zs[last]
    if loss_code == SOFTMAX_CROSSENTROPY:
        softmax_crossentropy(z, y, row_scale, probs, losses, deltas[last])
        prediction = probs
    elif loss_code == SIGMOID_CROSSENTROPY:
        sigmoid_crossentropy(z, y, row_scale, losses, deltas[last])
        prediction = outs[last]
    else:
        _mean_squared_error(outs[last], y, row_scale, row, losses, deltas[last])
        prediction = outs[last]
    loss = pairwise_sum(losses, batch) / t(batch)
    # backward, last layer first: db and the activation's derivative in one pass, then BLAS
    for l in range(last, -1, -1):
        delta = deltas[l]
        code = LINEAR if l == last and loss_code != MEAN_SQUARED_ERROR else codes[l]
        if has_bias[l]:
            _derivative_and_bias_grad(zs[l], outs[l], delta, code, delta, dbiases[l])
        elif code != LINEAR:
            _derivative(code, zs[l], outs[l], delta, delta)
        a = x if l == 0 else outs[l - 1]
        gemm_tn(a, delta, dweights[l])
        if l > 0:
            gemm_nt(delta, weights[l], deltas[l - 1])  # dL/da for the layer below
    # the metrics, as Mean.update_state and each metric's update_state add them
    m = loss_total.dtype.type  # the metrics keep their totals in their own dtype
    loss_total[()] = loss_total[()] + m(loss) * m(batch)
    loss_count[()] = loss_count[()] + m(batch)
    for k in range(len(metric_codes)):
        code = metric_codes[k]
        _metric_values(code, prediction.dtype.type(thresholds[k]), prediction, y, row, values)
        if code == CATEGORICAL_ACCURACY:  # hits counted, as np.count_nonzero
            hits = 0
            for i in range(batch):
                hits += values[i] != 0
            totals[k][()] = totals[k][()] + m(hits)
        else:
            totals[k][()] = totals[k][()] + pairwise_sum(values, batch)
        counts[k][()] = counts[k][()] + m(batch)
    return loss


# ----------------------------------------------------------------------------- a whole epoch
# The batches of an epoch (or a run of them) in one call: batch b's rows, `dense_step` on them,
# then the optimizer's one update of every weight (its `update_all` kernel, with the same
# arguments its Python wrapper passes). One function per optimizer rule: each update takes its
# own slots and scalars. `step_args` are dense_step's arguments after (x, y) for a full batch,
# `tail_args` those for the epoch's last, shorter batch (its own buffers); the gradients both
# hold are the optimizer's flat gradient (flat_update.py). An empty `order` means the samples
# in order: then each batch is a view of x and y, nothing copied.


@compiled
def _gather(x, y, order, start, xb, yb):
    """xb, yb = the rows order[start : start + len(xb)] of x and y (x[rows], y[rows])."""
    for i in range(xb.shape[0]):
        row = order[start + i]
        for j in range(x.shape[1]):
            xb[i, j] = x[row, j]
        for j in range(y.shape[1]):
            yb[i, j] = y[row, j]


@compiled
def _batch_step(x, y, order, batch, b, xb, yb, step_args, xt, yt, tail_args):
    """dense_step on batch b of the epoch: rows b·batch … b·batch + batch − 1 of x and y (or
    of the epoch's `order`, gathered into xb, yb); the last, shorter batch with `tail_args`
    (gathered into xt, yt)."""
    start = b * batch
    full = start + batch <= len(x)
    rows = batch if full else len(x) - start
    if len(order) == 0:  # in order: the batch is a slice, as x[start:stop]
        xs, ys = x[start : start + rows], y[start : start + rows]
    elif full:
        _gather(x, y, order, start, xb, yb)
        xs, ys = xb, yb
    else:
        _gather(x, y, order, start, xt, yt)
        xs, ys = xt, yt
    if full:
        dense_step(xs, ys, *step_args)
    else:
        dense_step(xs, ys, *tail_args)


@compiled
def sgd_epoch(
    x, y, order, batch, first, stop, xb, yb, step_args, xt, yt, tail_args, weights, g, m, lr,
    momentum, nesterov,
):  # fmt: skip
    """Batches first … stop − 1 of the epoch, each a step then SGD's update."""
    for b in range(first, stop):
        _batch_step(x, y, order, batch, b, xb, yb, step_args, xt, yt, tail_args)
        _sgd_all(weights, g, m, lr, momentum, nesterov)


@compiled
def rmsprop_epoch(
    x, y, order, batch, first, stop, xb, yb, step_args, xt, yt, tail_args, weights, g, v, m, a,
    lr, rho, momentum, eps,
):  # fmt: skip
    """Batches first … stop − 1 of the epoch, each a step then RMSprop's update."""
    for b in range(first, stop):
        _batch_step(x, y, order, batch, b, xb, yb, step_args, xt, yt, tail_args)
        _rmsprop_all(weights, g, v, m, a, lr, rho, momentum, eps)


@compiled
def adam_epoch(
    x, y, order, batch, first, stop, xb, yb, step_args, xt, yt, tail_args, weights, g, m, v,
    vhat, lr, b1, b2, eps, step,
):  # fmt: skip
    """Batches first … stop − 1 of the epoch, each a step then Adam's update. `step`: the
    update's t of batch `first` (iterations + 1), one more at each batch."""
    for b in range(first, stop):
        _batch_step(x, y, order, batch, b, xb, yb, step_args, xt, yt, tail_args)
        _adam_all(weights, g, m, v, vhat, lr, b1, b2, eps, step + (b - first))
