"""The reference kernels: plain NumPy, one short function per operation.

Every kernel follows one contract (shared with `numba_kernels.py`):
- inputs are C-contiguous arrays of one floating dtype (the model makes them so at the edge);
- results are written into preallocated `out` arrays, which are also returned;
- scalars (learning rate, rho, ...) are Python floats; the arithmetic happens in the arrays' dtype.

`FUSED_ACTIVATIONS` lists the activations that `dense_forward` / `dense_backward` apply in the same
pass as the matrix product; any other activation is applied by the layer through `activations.py`.
"""

import numpy as np

FUSED_ACTIVATIONS = ("linear", "relu", "sigmoid", "tanh", "softmax")


# ----------------------------------------------------------------------------- matrix products
def matmul(a, b, out):
    """out = a·b        (m, k)·(k, n) → (m, n)"""
    return np.matmul(a, b, out=out)


def matmul_tn(a, b, out):
    """out = aᵀ·b       (k, m)ᵀ·(k, n) → (m, n); the weight gradient xᵀ·dz"""
    return np.matmul(a.T, b, out=out)


def matmul_nt(a, b, out):
    """out = a·bᵀ       (m, k)·(n, k)ᵀ → (m, n); the input gradient dz·Wᵀ"""
    return np.matmul(a, b.T, out=out)


def bias_grad(dz, out):
    """out = Σ_batch dz   (batch, units) → (units,)"""
    return np.sum(dz, axis=0, out=out)


# ----------------------------------------------------------------------------- activations
def activation_forward(name, z, out):
    """out = act(z) for the activations in FUSED_ACTIVATIONS."""
    if name == "linear":
        if out is not z:
            out[...] = z
    elif name == "relu":
        np.maximum(z, 0, out=out)
    elif name == "sigmoid":
        # 1 / (1 + e^(−z)), in a form that never overflows for large |z|
        np.negative(np.abs(z), out=out)
        np.exp(out, out=out)  # e^(−|z|) in (0, 1]
        pos = z >= 0
        out[...] = np.where(pos, 1.0 / (1.0 + out), out / (1.0 + out))
    elif name == "tanh":
        np.tanh(z, out=out)
    elif name == "softmax":
        # subtracting the row maximum changes nothing mathematically and keeps e^z finite
        np.subtract(z, z.max(axis=-1, keepdims=True), out=out)
        np.exp(out, out=out)
        out /= out.sum(axis=-1, keepdims=True)
    else:
        raise ValueError(
            f"activation {name!r} has no fused kernel; expected one of {FUSED_ACTIVATIONS}"
        )
    return out


def activation_backward(name, z, y, dy, out):
    """out = dL/dz given dy = dL/dy, z the input and y = act(z) the output.

    linear:  dz = dy
    relu:    dz = dy · [z > 0]
    sigmoid: dz = dy · y·(1 − y)
    tanh:    dz = dy · (1 − y²)
    softmax: dz = y ⊙ (dy − Σⱼ dyⱼ·yⱼ)     (the Jacobian diag(y) − y·yᵀ applied to dy, row by row)
    """
    if name == "linear":
        if out is not dy:
            out[...] = dy
    elif name == "relu":
        np.multiply(dy, z > 0, out=out)
    elif name == "sigmoid":
        np.multiply(dy, y * (1 - y), out=out)
    elif name == "tanh":
        np.multiply(dy, 1 - y * y, out=out)
    elif name == "softmax":
        s = np.sum(dy * y, axis=-1, keepdims=True)
        np.multiply(y, dy - s, out=out)
    else:
        raise ValueError(
            f"activation {name!r} has no fused kernel; expected one of {FUSED_ACTIVATIONS}"
        )
    return out


# ----------------------------------------------------------------------------- dense layer
def dense_forward(x, kernel, bias, activation, z_out, y_out):
    """z = x·W + b, then y = act(z); returns y_out.

    `bias` may be None (use_bias=False). For activation 'linear', y_out may be z_out itself.
    """
    np.matmul(x, kernel, out=z_out)
    if bias is not None:
        z_out += bias
    return activation_forward(activation, z_out, y_out)


def dense_backward(x, kernel, z, y, dy, activation, dz_out, dkernel_out, dbias_out, dx_out):
    """The dense layer's backward pass, with its activation:

    dz = dy ⊙ act'(z)          (batch, units)
    dW = xᵀ·dz                 (in, batch)·(batch, units)
    db = Σ_batch dz            (units,)             skipped when dbias_out is None
    dx = dz·Wᵀ                 (batch, units)·(units, in)   skipped when dx_out is None
    For 'linear', dz_out may be dy itself.
    """
    activation_backward(activation, z, y, dy, dz_out)
    np.matmul(x.T, dz_out, out=dkernel_out)
    if dbias_out is not None:
        np.sum(dz_out, axis=0, out=dbias_out)
    if dx_out is not None:
        np.matmul(dz_out, kernel.T, out=dx_out)
    return dx_out


# ----------------------------------------------------------------------------- loss
def softmax_crossentropy(logits, y_true, row_scale, probs_out, losses_out, dlogits_out):
    """Categorical crossentropy computed from the logits z (what Keras does after a softmax in fit).

    p = softmax(z)
    lossᵢ = Σⱼ yᵢⱼ·(logsumexp(zᵢ) − zᵢⱼ)         no clipping: exact even when p saturates
          = Σⱼ yᵢⱼ·(log Σₖ e^(zᵢₖ − mᵢ) − (zᵢⱼ − mᵢ)),  mᵢ = maxⱼ zᵢⱼ
    dzᵢ = (pᵢ − yᵢ) · row_scaleᵢ                   row_scaleᵢ = wᵢ/N for sum_over_batch_size
    The gradient is TensorFlow's (softmax_cross_entropy_with_logits), which Keras trains with:
    p − y even for labels whose rows do not sum to 1, where the derivative of the loss value
    would be p·Σⱼyᵢⱼ − y (docs/softmax-crossentropy.md). For one-hot or smoothed labels they agree.
    The loss is summed in the shifted form, as TensorFlow's kernel does: a small loss (a
    confident right answer) is then not the difference of two large numbers, logsumexp(z) and z.
    """
    m = logits.max(axis=-1, keepdims=True)
    np.subtract(logits, m, out=probs_out)  # z − m
    np.exp(probs_out, out=dlogits_out)  # e^(z − m), dlogits_out as scratch
    sumexp = dlogits_out.sum(axis=-1, keepdims=True)
    np.sum(y_true * (np.log(sumexp) - probs_out), axis=-1, out=losses_out)
    np.divide(dlogits_out, sumexp, out=probs_out)  # p
    np.subtract(probs_out, y_true, out=dlogits_out)
    dlogits_out *= row_scale[:, None]
    return losses_out


def sigmoid_crossentropy(logits, y_true, row_scale, losses_out, dlogits_out):
    """Binary crossentropy computed from the logits z (what Keras does after a sigmoid in fit),
    the mean over the C entries of each row:

    lossᵢ = meanⱼ max(zᵢⱼ, 0) − zᵢⱼ·yᵢⱼ + log(1 + e^(−|zᵢⱼ|))    (= −y·log σ − (1 − y)·log(1 − σ))
    dzᵢⱼ = (σ(zᵢⱼ) − yᵢⱼ) · (1/C) · row_scaleᵢ                   never overflows: e^(−|z|) ≤ 1
    """
    e = np.exp(-np.abs(logits))
    terms = np.maximum(logits, 0) - logits * y_true + np.log1p(e)
    np.mean(terms, axis=-1, out=losses_out)
    sigmoid = np.where(logits >= 0, 1 / (1 + e), e / (1 + e))
    inv_c = logits.dtype.type(1.0 / logits.shape[1])
    np.multiply((sigmoid - y_true) * inv_c, row_scale[:, None], out=dlogits_out)
    return losses_out


# ----------------------------------------------------------------------------- embeddings
def embedding_backward(ids, dy, out):
    """out = 0, then out[ids[p]] += dy[p] for every position p, in order   (rows, dim)

    ids (positions,) integer row numbers, dy (positions, dim): the gradient of a row lookup
    gathers back into the rows that were looked up; a row looked up twice gets both.
    """
    out[...] = 0
    np.add.at(out, ids, dy)  # unbuffered: repeated ids add up (out[ids] += dy would not)
    return out


# ----------------------------------------------------------------------------- optimizers
def sgd_update(w, g, m, lr, momentum, nesterov):
    """In place. Plain:  w ← w − lr·g
    momentum:  m ← μ·m − lr·g;  w ← w + m           (nesterov: w ← w + μ·m − lr·g, with the new m)
    """
    if m is None:
        w -= lr * g
        return w
    m *= momentum
    m -= lr * g
    if nesterov:
        w += momentum * m - lr * g
    else:
        w += m
    return w


def rmsprop_update(w, g, v, m, a, lr, rho, momentum, epsilon, centered):
    """In place, Keras's RMSprop (ε inside the square root):
    v ← ρ·v + (1 − ρ)·g²
    centered:  a ← ρ·a + (1 − ρ)·g;  d = v − a² + ε      else d = v + ε
    inc = lr·g / √d
    momentum:  m ← μ·m + inc;  w ← w − m               else w ← w − inc
    """
    v[...] = rho * v + (1 - rho) * (g * g)
    if centered:
        a[...] = rho * a + (1 - rho) * g
        denominator = v - a * a + epsilon
    else:
        denominator = v + epsilon
    increment = lr * g / np.sqrt(denominator)
    if m is not None:
        m[...] = momentum * m + increment
        w -= m
    else:
        w -= increment
    return w


def adam_update(w, g, m, v, vhat, lr, beta_1, beta_2, epsilon, step):
    """In place, Keras's Adam at step t = `step` (1 for the first update):
    α = lr·√(1 − β₂ᵗ) / (1 − β₁ᵗ)
    m ← m + (g − m)·(1 − β₁);   v ← v + (g² − v)·(1 − β₂)
    amsgrad (vhat not None):  vhat ← max(vhat, v), used in place of v
    w ← w − α·m / (√v + ε)
    In βᵗ, Keras casts β through float32 (`ops.cast(beta, dtype)` of a Python float makes a
    float32 constant first), so in float64 βᵗ uses float32(β); 1 − β is computed exactly.
    """
    dtype = w.dtype.type
    b1, b2 = dtype(np.float32(beta_1)), dtype(np.float32(beta_2))
    alpha = dtype(lr) * np.sqrt(1 - b2**step) / (1 - b1**step)
    m += (g - m) * (1 - beta_1)
    v += (g * g - v) * (1 - beta_2)
    if vhat is not None:
        np.maximum(vhat, v, out=vhat)
        v = vhat
    w -= (m * alpha) / (np.sqrt(v) + epsilon)
    return w


# ----------------------------------------------------------------------------- batch normalization
# x is (m, c): every axis but the normalized one flattened into m rows, one column per channel.
# `weights` (m,) are Keras's mask weights (1 kept, 0 masked) or None for an unmasked batch.
MASKED_EPSILON = 1e-7  # Keras's backend.epsilon(), added to Σw in its masked moments


def batchnorm_moments(x, weights, mean_out, variance_out):
    """Per channel, over the rows (biased variance, as tf.nn.moments):
    mean = Σᵢ wᵢ·xᵢ / W,   variance = Σᵢ wᵢ·(xᵢ − mean)² / W
    W = m without weights, Σᵢ wᵢ + 1e-7 with them. Sums in float64, results in x's dtype.
    """
    x64 = x.astype(np.float64)
    if weights is None:
        mean = x64.mean(axis=0)
        variance = ((x64 - mean) ** 2).mean(axis=0)
    else:
        w = weights.astype(np.float64)[:, None]  # (m, 1)
        total = w.sum() + MASKED_EPSILON
        mean = (w * x64).sum(axis=0) / total
        variance = (w * (x64 - mean) ** 2).sum(axis=0) / total
    mean_out[...] = mean
    variance_out[...] = variance
    return mean_out, variance_out


def batchnorm_forward(x, mean, variance, gamma, beta, epsilon, xhat_out, inv_std_out, y_out):
    """inv_std = 1/√(variance + ε);  x̂ = (x − mean)·inv_std;  y = γ·x̂ + β
    y is computed as TensorFlow's tf.nn.batch_normalization orders it, a = γ·inv_std,
    y = x·a + (β − mean·a), so float32 results round as Keras's do. gamma/beta may be None.
    """
    dtype = x.dtype.type
    inv_std_out[...] = 1 / np.sqrt(variance + dtype(epsilon))
    a = inv_std_out if gamma is None else inv_std_out * gamma  # (c,)
    shift = -mean * a if beta is None else beta - mean * a  # (c,)
    np.add(x * a, shift, out=y_out)
    np.multiply(x - mean, inv_std_out, out=xhat_out)
    return y_out


def batchnorm_backward(dy, xhat, inv_std, gamma, weights, training, dgamma_out, dbeta_out, dx_out):
    """dL/dx, dL/dγ, dL/dβ of y = γ·x̂ + β (outputs may be None: not wanted).
    dβ = Σᵢ dyᵢ;   dγ = Σᵢ dyᵢ·x̂ᵢ                       (sums over the m rows)
    inference (mean, variance constants):   dx = γ·inv_std·dy
    training (mean, variance of this batch; W, wᵢ as in batchnorm_moments, C = Σᵢ wᵢ·x̂ᵢ):
      dxᵢ = γ·inv_std·(dyᵢ − (wᵢ/W)·(Σdy + Σ(dy·x̂)·(x̂ᵢ − C/W)))
    Without weights wᵢ = 1, W = m and C is taken as 0 (Σ x̂ is 0 up to rounding; TensorFlow's
    moments stop the gradient there too), the textbook (dy − mean(dy) − x̂·mean(dy·x̂))/σ.
    """
    dy64, xhat64 = dy.astype(np.float64), xhat.astype(np.float64)
    sum_dy = dy64.sum(axis=0)  # (c,)
    sum_dy_xhat = (dy64 * xhat64).sum(axis=0)  # (c,)
    if dbeta_out is not None:
        dbeta_out[...] = sum_dy
    if dgamma_out is not None:
        dgamma_out[...] = sum_dy_xhat
    if dx_out is None:
        return dx_out
    scale = inv_std.astype(np.float64) if gamma is None else inv_std * gamma.astype(np.float64)
    if not training:
        dx_out[...] = dy64 * scale
        return dx_out
    if weights is None:
        m = dy.shape[0]
        dx_out[...] = scale * (dy64 - (sum_dy + sum_dy_xhat * xhat64) / m)
    else:
        w = weights.astype(np.float64)[:, None]  # (m, 1)
        total = w.sum() + MASKED_EPSILON
        centre = (w * xhat64).sum(axis=0) / total  # C/W, (c,)
        dx_out[...] = scale * (dy64 - (w / total) * (sum_dy + sum_dy_xhat * (xhat64 - centre)))


# ----------------------------------------------------------------------------- convolution
# Images are (batch, height, width, channels) ("channels_last"), volumes (batch, depth, height,
# width, channels); a 1-D signal is an image of height 1. One output position (i, j) reads the
# input at rows i·sh + a·dh − ph, columns j·sw + b·dw − pw, for the kernel offsets (a, b) (and
# likewise along the depth of a volume); positions outside the input read 0. `window`,
# `strides`, `dilation` and `pad` hold one int per spatial axis (2 for images, 3 for volumes);
# `pad` is the padding before the first element of each axis (what comes after is implied by
# the output size). The code below is written once for any number of spatial axes.


def _padded_size(size, out_size, window, stride, dilation, pad):
    """Rows of a zero-padded input that every window of the output fits in."""
    return max(pad + size, (out_size - 1) * stride + (window - 1) * dilation + 1)


def _windows(spatial, out, window, strides, dilation, pad):
    """The padded spatial sizes, and for each window offset (row-major) the slices of the
    padded input it reads, one per output position."""
    padded = tuple(map(_padded_size, spatial, out, window, strides, dilation, pad))
    offsets = [
        tuple(
            slice(a * d, a * d + (o - 1) * s + 1, s)
            for a, o, s, d in zip(offset, out, strides, dilation)
        )
        for offset in np.ndindex(*window)
    ]
    return padded, offsets


def _inside(spatial, padded, pad):
    """(slices of the padded array, slices of the input) that hold the input's elements."""
    fits = [min(n, q - p) for n, q, p in zip(spatial, padded, pad)]
    return (
        (slice(None), *(slice(p, p + f) for p, f in zip(pad, fits))),
        (slice(None), *(slice(0, f) for f in fits)),
    )


def _padded(x, padded, pad, fill):
    """x inside a (batch, *padded, channels) array of `fill`."""
    xp = np.full((x.shape[0], *padded, x.shape[-1]), fill, dtype=x.dtype)
    into, source = _inside(x.shape[1:-1], padded, pad)
    xp[into] = x[source]
    return xp


def _unpad(xp, x_out, pad):
    """x_out = the part of the padded xp that lies on the input (the padding dropped)."""
    into, source = _inside(x_out.shape[1:-1], xp.shape[1:-1], pad)
    x_out[...] = 0
    x_out[source] = xp[into]
    return x_out


def im2col(x, window, strides, dilation, pad, cols_out):
    """The patch matrix: cols[n, i, j, a, b, c] = x[n, i·sh + a·dh − ph, j·sw + b·dw − pw, c]
    (for a volume, cols[n, q, i, j, e, a, b, c] with the depth offset e too).

    x (batch, *spatial, channels) → cols (batch, *out, *window, channels), which is, seen as a
    matrix, one row per output position and one column per (kernel offset, channel): the
    convolution is then one product cols·W with W (kh·kw·channels, filters).
    """
    rank = len(window)
    out = cols_out.shape[1 : 1 + rank]
    padded, offsets = _windows(x.shape[1:-1], out, window, strides, dilation, pad)
    xp = _padded(x, padded, pad, 0)
    every = (slice(None),) * (1 + rank)  # the batch and the output positions
    for offset, slices in zip(np.ndindex(*window), offsets):
        cols_out[(*every, *offset)] = xp[(slice(None), *slices)]
    return cols_out


def col2im(cols, window, strides, dilation, pad, x_out):
    """The transpose of `im2col`: x[n, r, s, c] = Σ of every cols entry that im2col read from
    x[n, r, s, c]. Entries that fell in the padding are dropped.

    cols (batch, *out, *window, channels) → x (batch, *spatial, channels). This is how the
    input gradient of a convolution is gathered: dx = col2im(dz·Wᵀ).
    """
    rank = len(window)
    out = cols.shape[1 : 1 + rank]
    padded, offsets = _windows(x_out.shape[1:-1], out, window, strides, dilation, pad)
    xp = np.zeros((x_out.shape[0], *padded, x_out.shape[-1]), dtype=x_out.dtype)
    every = (slice(None),) * (1 + rank)
    for offset, slices in zip(np.ndindex(*window), offsets):
        xp[(slice(None), *slices)] += cols[(*every, *offset)]
    return _unpad(xp, x_out, pad)


def conv_forward(
    x, kernel, bias, activation, window, strides, dilation, pad, cols_out, z_out, y_out
):
    """A convolution's forward pass as one product over patches:

    cols = im2col(x)                   (batch, oh, ow, kh, kw, in)
    z = cols·W + b                     (batch·oh·ow, kh·kw·in)·(kh·kw·in, filters)
    y = act(z)                         z_out, y_out (batch·oh·ow, filters)
    """
    im2col(x, window, strides, dilation, pad, cols_out)
    cols = cols_out.reshape(z_out.shape[0], -1)
    return dense_forward(cols, kernel, bias, activation, z_out, y_out)


def conv_backward(
    cols, kernel, z, y, dy, activation, window, strides, dilation, pad, dz_out, dkernel_out,
    dbias_out, dcols_out, dx_out,
):  # fmt: skip
    """A convolution's backward pass, from the patches `cols` its forward pass made:

    dz = dy ⊙ act'(z)                  (batch·oh·ow, filters)
    db = Σ dz                          skipped when dbias_out is None
    dW = colsᵀ·dz                      (kh·kw·in, batch·oh·ow)·(batch·oh·ow, filters)
    dcols = dz·Wᵀ                      (batch·oh·ow, filters)·(filters, kh·kw·in)
    dx = col2im(dcols)                 each patch entry added back where im2col read it;
                                       skipped (with dcols) when dx_out is None
    """
    flat = cols.reshape(dz_out.shape[0], -1)
    want_dx = dx_out is not None
    dense_backward(
        flat, kernel, z, y, dy, activation, dz_out, dkernel_out, dbias_out,
        dcols_out if want_dx else None,
    )  # fmt: skip
    if not want_dx:
        return None
    return col2im(dcols_out.reshape(cols.shape), window, strides, dilation, pad, dx_out)


def depthwise_forward(cols, kernel, z_out):
    """A depthwise convolution's product: each channel meets only its own kernel taps.

    z[p, c, m] = Σ_k cols[p, k, c]·W[k, c, m]
    cols (positions, kh·kw, channels), W (kh·kw, channels, multiplier) → z (positions,
    channels, multiplier): one small product per channel, not one large one (a full kernel
    would be zero off its diagonal blocks).
    """
    np.einsum("pkc,kcm->pcm", cols, kernel, out=z_out)
    return z_out


def depthwise_backward(cols, kernel, dz, dkernel_out, dcols_out):
    """The two gradients of `depthwise_forward`, given dz (positions, channels, multiplier):

    dW[k, c, m] = Σ_p cols[p, k, c]·dz[p, c, m]
    dcols[p, k, c] = Σ_m dz[p, c, m]·W[k, c, m]       skipped when dcols_out is None
    """
    np.einsum("pkc,pcm->kcm", cols, dz, out=dkernel_out)
    if dcols_out is not None:
        np.einsum("pcm,kcm->pkc", dz, kernel, out=dcols_out)
    return dkernel_out


# ----------------------------------------------------------------------------- pooling
def max_pool_forward(x, window, strides, pad, y_out, argmax_out):
    """y[n, i, j, c] = max over the window of x; argmax[n, i, j, c] = r·w + s, the flat index
    (over the spatial axes, row-major) of the input element chosen: the first maximum in
    row-major order over the window, as TensorFlow's MaxPool picks (its gradient goes to that
    element only). Padding is never chosen. Images or volumes, as `im2col`."""
    spatial = x.shape[1:-1]
    ones = (1,) * len(window)
    padded, offsets = _windows(spatial, y_out.shape[1:-1], window, strides, ones, pad)
    xp = _padded(x, padded, pad, -np.inf)
    # the flat input index of each padded position, −1 in the padding
    flat = np.arange(int(np.prod(spatial))).reshape(1, *spatial, 1)
    index = _padded(flat, padded, pad, -1)[0, ..., 0]
    y_out[...] = -np.inf
    argmax_out[...] = -1
    for slices in offsets:
        candidate = xp[(slice(None), *slices)]
        where = index[slices][None, ..., None]
        better = (candidate > y_out) | ((argmax_out < 0) & (where >= 0))
        y_out[...] = np.where(better, candidate, y_out)
        argmax_out[...] = np.where(better, where, argmax_out)
    return y_out


def max_pool_backward(dy, argmax, dx_out):
    """dx[n, argmax[n, i, j, c], c] += dy[n, i, j, c]: each output's gradient goes to the
    element it took its value from (overlapping windows add up)."""
    n, c = dx_out.shape[0], dx_out.shape[-1]
    dx_out[...] = 0
    flat = dx_out.reshape(n, -1, c)
    batch = np.arange(n)[:, None, None]
    channel = np.arange(c)[None, None, :]
    np.add.at(flat, (batch, argmax.reshape(n, -1, c), channel), dy.reshape(n, -1, c))
    return dx_out


def max_pool_backward_ties(x, y, dy, window, strides, pad, dx_out):
    """dx[n, r, c] = Σ over the windows that cover r of dy[n, i, c]·[x[n, r, c] = y[n, i, c]]:
    every element equal to its window's maximum gets all of that window's dy. This is
    TensorFlow's MaxPool3DGrad (its 2-D MaxPool gives dy to the first maximum alone)."""
    ones = (1,) * len(window)
    padded, offsets = _windows(x.shape[1:-1], y.shape[1:-1], window, strides, ones, pad)
    xp = _padded(x, padded, pad, -np.inf)  # the padding never equals a maximum
    dxp = np.zeros(xp.shape, dtype=dx_out.dtype)
    for slices in offsets:
        index = (slice(None), *slices)
        dxp[index] += np.where(xp[index] == y, dy, 0)
    return _unpad(dxp, dx_out, pad)


def _pool_counts(spatial, out, window, strides, pad, dtype):
    """How many input elements (not padding) each output window covers, shape (*out, 1)."""
    ones = (1,) * len(window)
    padded, offsets = _windows(spatial, out, window, strides, ones, pad)
    inside = _padded(np.ones((1, *spatial, 1), dtype=dtype), padded, pad, 0)[0]
    return sum(inside[slices] for slices in offsets)


def average_pool_forward(x, window, strides, pad, y_out):
    """y[n, i, j, c] = mean of x over the window's elements inside the input: with 'same'
    padding, TensorFlow divides by the count of real elements, not by kh·kw."""
    spatial, out = x.shape[1:-1], y_out.shape[1:-1]
    ones = (1,) * len(window)
    padded, offsets = _windows(spatial, out, window, strides, ones, pad)
    xp = _padded(x, padded, pad, 0)
    y_out[...] = 0
    for slices in offsets:
        y_out += xp[(slice(None), *slices)]
    y_out /= _pool_counts(spatial, out, window, strides, pad, x.dtype)
    return y_out


def average_pool_backward(dy, window, strides, pad, dx_out):
    """dx[n, r, s, c] = Σ over the windows that cover (r, s) of dy[n, i, j, c] / count(i, j)."""
    spatial, out = dx_out.shape[1:-1], dy.shape[1:-1]
    ones = (1,) * len(window)
    padded, offsets = _windows(spatial, out, window, strides, ones, pad)
    share = dy / _pool_counts(spatial, out, window, strides, pad, dy.dtype)
    dxp = np.zeros((dy.shape[0], *padded, dy.shape[-1]), dtype=dy.dtype)
    for slices in offsets:
        dxp[(slice(None), *slices)] += share
    return _unpad(dxp, dx_out, pad)


# Keras casts some hyper-parameters with `ops.cast(value, dtype)`, which goes through float32
# (β in βᵗ, Lion's β, Nadam's β and 0.96); others enter as Python floats, exact in float64
# (1 − β in Adam's moments, ε). `_f32` marks the first kind; the docstrings say which is which.
def _f32(value, dtype):
    return dtype(np.float32(value))


def adagrad_update(w, g, accumulator, lr, epsilon):
    """In place, Keras's Adagrad (ε inside the square root):
    a ← a + g²
    w ← w − lr·g / √(a + ε)
    """
    accumulator += g * g
    w -= (lr * g) / np.sqrt(accumulator + epsilon)
    return w


def adadelta_update(w, g, accumulated_grad, accumulated_delta, lr, rho, epsilon):
    """In place, Keras's Adadelta:
    E[g²] ← ρ·E[g²] + (1 − ρ)·g²
    Δ = −√(E[Δ²] + ε)·g / √(E[g²] + ε)
    E[Δ²] ← ρ·E[Δ²] + (1 − ρ)·Δ²
    w ← w + lr·Δ
    """
    accumulated_grad[...] = rho * accumulated_grad + (1 - rho) * (g * g)
    delta = -(np.sqrt(accumulated_delta + epsilon) * g) / np.sqrt(accumulated_grad + epsilon)
    accumulated_delta[...] = rho * accumulated_delta + (1 - rho) * (delta * delta)
    w += lr * delta
    return w


def adamax_update(w, g, m, u, lr, beta_1, beta_2, epsilon, step):
    """In place, Keras's Adamax (Adam with the infinity norm) at step t:
    m ← m + (g − m)·(1 − β₁);   u ← max(β₂·u, |g|)
    w ← w − lr·m / ((1 − β₁ᵗ)·(u + ε))          β₁ᵗ from float32(β₁)
    """
    dtype = w.dtype.type
    b1_power = _f32(beta_1, dtype) ** dtype(step)
    m += (g - m) * (1 - beta_1)
    np.maximum(beta_2 * u, np.abs(g), out=u)
    w -= (lr * m) / ((1 - b1_power) * (u + epsilon))
    return w


def nadam_u_product(u_product, beta_1, step):
    """Nadam's running product Πₛ μₛ to step t, once per update (not per weight):
    μₜ = β₁·(1 − ½·0.96ᵗ)     here β₁ and 0.96 are exact (Python floats), as in Keras's
    `_backend_update_step`."""
    dtype = u_product.dtype.type
    u_product[...] = u_product * beta_1 * (1.0 - 0.5 * dtype(0.96) ** dtype(step))
    return u_product


def nadam_update(w, g, m, v, lr, beta_1, beta_2, epsilon, step, u_product):
    """In place, Keras's Nadam at step t, with u_product = Πₛ≤ₜ μₛ (see nadam_u_product):
    μₜ = β₁·(1 − ½·0.96ᵗ);  μₜ₊₁ likewise         β₁, β₂ and 0.96 from float32
    m ← m + (g − m)·(1 − β₁);   v ← v + (g² − v)·(1 − β₂)
    m̂ = μₜ₊₁·m / (1 − u_product·μₜ₊₁) + (1 − μₜ)·g / (1 − u_product)
    v̂ = v / (1 − β₂ᵗ)
    w ← w − lr·m̂ / (√v̂ + ε)
    """
    dtype = w.dtype.type
    b1, b2, decay = _f32(beta_1, dtype), _f32(beta_2, dtype), _f32(0.96, dtype)
    u_t = b1 * (1.0 - 0.5 * decay ** dtype(step))
    u_t_1 = b1 * (1.0 - 0.5 * decay ** dtype(step + 1))
    u_product_t = dtype(u_product)
    u_product_t_1 = u_product_t * u_t_1
    b2_power = b2 ** dtype(step)
    m += (g - m) * (1 - b1)
    v += (g * g - v) * (1 - b2)
    m_hat = (u_t_1 * m) / (1 - u_product_t_1) + ((1 - u_t) * g) / (1 - u_product_t)
    v_hat = v / (1 - b2_power)
    w -= (m_hat * lr) / (np.sqrt(v_hat) + epsilon)
    return w


def ftrl_update(w, g, accumulator, linear, lr, lr_power, l1, l2, l2_shrinkage, beta):
    """In place, Keras's FTRL-proximal, with p = learning_rate_power (≤ 0):
    g' = g + 2·l2_shrinkage·w;   n' = n + g²
    z ← z + g' − (n'^(−p) − n^(−p))/lr · w
    w ← (clip(z, −l1, l1) − z) / (n'^(−p)/lr + 2·(l2 + β/(2·lr)));   n ← n'
    """
    dtype = w.dtype.type
    lr = dtype(lr)
    l2_reg = l2 + beta / (2.0 * lr)
    grad_to_use = g + 2 * l2_shrinkage * w
    new_accumulator = accumulator + g * g
    new_power = new_accumulator ** (-lr_power)
    linear += grad_to_use - ((new_power - accumulator ** (-lr_power)) / lr) * w
    quadratic = new_power / lr + 2 * l2_reg
    w[...] = (np.clip(linear, -l1, l1) - linear) / quadratic
    accumulator[...] = new_accumulator
    return w


def lion_update(w, g, m, lr, beta_1, beta_2):
    """In place, Keras's Lion (the sign of an interpolation; β₁, β₂ from float32):
    w ← w − lr·sign(β₁·m + (1 − β₁)·g)
    m ← β₂·m + (1 − β₂)·g
    """
    dtype = w.dtype.type
    b1, b2 = _f32(beta_1, dtype), _f32(beta_2, dtype)
    w -= dtype(lr) * np.sign(m * b1 + g * (1.0 - b1))
    m[...] = m * b2 + g * (1.0 - b2)
    return w


def lamb_update(w, g, m, v, lr, beta_1, beta_2, epsilon, step):
    """In place, Keras's LAMB: Adam's direction, scaled per weight by a trust ratio:
    m ← m + (g − m)·(1 − β₁);   v ← v + (g² − v)·(1 − β₂)
    r = (m/(1 − β₁ᵗ)) / (√(v/(1 − β₂ᵗ)) + ε)      βᵗ from float32(β)
    ratio = ‖w‖/‖r‖ (1 when either norm is 0)
    w ← w − ratio·lr·r
    """
    dtype = w.dtype.type
    b1_power = _f32(beta_1, dtype) ** dtype(step)
    b2_power = _f32(beta_2, dtype) ** dtype(step)
    m += (g - m) * (1 - beta_1)
    v += (g * g - v) * (1 - beta_2)
    update = (m / (1.0 - b1_power)) / (np.sqrt(v / (1.0 - b2_power)) + epsilon)
    w_norm = np.sqrt(np.sum(w * w))
    r_norm = np.sqrt(np.sum(update * update))
    ratio = w_norm / r_norm if w_norm > 0 and r_norm > 0 else dtype(1)
    w -= ratio * dtype(lr) * update
    return w


def adafactor_update(w, g, r, c, v, lr, beta_2_decay, epsilon_1, epsilon_2, clip_threshold, step):
    """In place, Keras's Adafactor at step t. For a weight of 2 or more dimensions the second
    moment is factored over the last two axes: r (rows, shape[:-1]) and c (columns,
    shape[:-2] + shape[-1:]) replace a full v, which is rebuilt from them:
    ρ = min(lr, 1/√t);   α = max(ε₂, rms(w))·ρ      ε₂ from float32; rms(x) = √mean(x²)
    β = 1 − t^decay;     G = g² + ε₁
    r ← β·r + (1 − β)·mean(G, −1);   c ← β·c + (1 − β)·mean(G, −2)
    v = (r / mean(r, −1))[..., None] · c[..., None, :]
    (a weight of 0 or 1 dimension keeps a full v ← β·v + (1 − β)·G)
    u = g/√v;   w ← w − α·u / max(1, rms(u)/clip_threshold)
    """
    dtype = w.dtype.type
    t = dtype(step)
    rho = min(dtype(lr), 1 / np.sqrt(t))
    alpha = max(_f32(epsilon_2, dtype), np.sqrt(np.mean(w * w))) * rho
    regulated = g * g + epsilon_1
    beta = 1 - t**beta_2_decay
    if w.ndim >= 2:
        r[...] = beta * r + (1 - beta) * np.mean(regulated, axis=-1)
        c[...] = beta * c + (1 - beta) * np.mean(regulated, axis=-2)
        v[...] = (r / np.mean(r, axis=-1, keepdims=True))[..., None] * c[..., None, :]
    else:
        v[...] = beta * v + (1 - beta) * regulated
    u = g / np.sqrt(v)
    u_hat = u / max(dtype(1), np.sqrt(np.mean(u * u)) / clip_threshold)
    w -= alpha * u_hat
    return w


# ----------------------------------------------------------------------------- every weight at once
# An optimizer's update of every weight in one call (optimizers/flat_update.py): `weights` is a
# tuple of flat views of the weights; `g` and each slot are one flat array holding every
# weight's part in turn (None stays None). Each weight is updated on its part, by the rule above.
def _each_weight(update, weights, flat, *scalars):
    start = 0
    for w in weights:
        stop = start + w.size
        update(w, *[None if a is None else a[start:stop] for a in flat], *scalars)
        start = stop


def sgd_update_all(weights, g, m, lr, momentum, nesterov):
    _each_weight(sgd_update, weights, (g, m), lr, momentum, nesterov)


def rmsprop_update_all(weights, g, v, m, a, lr, rho, momentum, epsilon, centered):
    _each_weight(rmsprop_update, weights, (g, v, m, a), lr, rho, momentum, epsilon, centered)


def adam_update_all(weights, g, m, v, vhat, lr, beta_1, beta_2, epsilon, step):
    _each_weight(adam_update, weights, (g, m, v, vhat), lr, beta_1, beta_2, epsilon, step)


def adagrad_update_all(weights, g, accumulator, lr, epsilon):
    _each_weight(adagrad_update, weights, (g, accumulator), lr, epsilon)


def adadelta_update_all(weights, g, accumulated_grad, accumulated_delta, lr, rho, epsilon):
    flat = (g, accumulated_grad, accumulated_delta)
    _each_weight(adadelta_update, weights, flat, lr, rho, epsilon)


def adamax_update_all(weights, g, m, u, lr, beta_1, beta_2, epsilon, step):
    _each_weight(adamax_update, weights, (g, m, u), lr, beta_1, beta_2, epsilon, step)


def nadam_update_all(weights, g, m, v, lr, beta_1, beta_2, epsilon, step, u_product):
    scalars = (lr, beta_1, beta_2, epsilon, step, u_product)
    _each_weight(nadam_update, weights, (g, m, v), *scalars)


def ftrl_update_all(weights, g, accumulator, linear, lr, lr_power, l1, l2, l2_shrinkage, beta):
    scalars = (lr, lr_power, l1, l2, l2_shrinkage, beta)
    _each_weight(ftrl_update, weights, (g, accumulator, linear), *scalars)


def lion_update_all(weights, g, m, lr, beta_1, beta_2):
    _each_weight(lion_update, weights, (g, m), lr, beta_1, beta_2)


def lamb_update_all(weights, g, m, v, lr, beta_1, beta_2, epsilon, step):
    _each_weight(lamb_update, weights, (g, m, v), lr, beta_1, beta_2, epsilon, step)
