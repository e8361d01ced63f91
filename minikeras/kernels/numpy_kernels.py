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
