"""The compiled kernels: the same contract as `numpy_kernels.py`, written as Numba loops.

Read `numpy_kernels.py` first: every function here has the same name, arguments and meaning
(C-contiguous float arrays, results written into `out` arrays, None meaning "skip", scalars given
as Python floats and used in the arrays' dtype). The tests run both sets against float64 NumPy.

Optimisation rules, chosen by measurement on the 2-core AMD EPYC (Zen 3, AVX2) of `bench/README.md`:

1. Matrix products go to BLAS: `np.matmul(a, b, out=out)`, NumPy's OpenBLAS, with `a.T`/`b.T`
   as views (OpenBLAS takes the transpose as a flag, no copy). A core's float32 peak is 32
   flops a cycle (two 8-lane FMAs), ~78 GFLOP/s at the 2.45 GHz base clock; OpenBLAS reaches
   84–88 GFLOP/s on one thread at (128, 784, 512), (128, 512, 512) and (512, 512, 512) (the
   clock boosts), 100–125 on both cores, and at the tutorial's (32, 784, 64) 71 (x·W) and 59
   (xᵀ·dz) on one thread (CPU time, best of 60–300, load average 11–14). Hand-written
   register-blocked Numba loops reached 30–50 GFLOP/s (LLVM emits 256-bit vectors and packs
   nothing), and at (32, 64, 10) a BLAS call from compiled code costs ~1.5 µs with Numba's
   dispatch (np.matmul: 2.3–2.5 µs), so no training shape is better served by a loop. A loop
   would not round alike either: OpenBLAS's float32 kernels do not add the products in k
   order one FMA at a time (measured at (32, 64, 10): up to 3.8e-6 apart; in float64 they
   agree there). Numba can also compile `np.dot` inside `@njit`, but that calls SciPy's
   separate OpenBLAS: a second BLAS thread pool spinning beside NumPy's on 2 cores, and ~0.2 s
   more start-up to import scipy.linalg. One BLAS for the process.
   `numba_gemm.py` holds a product compiled here from scratch (tiles, packing, a fused
   epilogue); `MINIKERAS_MATMUL=numba` sends every product to it, and its `use_numba` rule
   says where it is chosen by default.
2. Fuse what surrounds a product into one compiled pass: the bias and the activation after
   `x·W` (the "epilogue"), the activation derivative and the bias gradient before `xᵀ·dz`. One
   call instead of three or four NumPy calls removes both the Python dispatch (~1 µs each, which
   dominates at batch 32) and passes over memory.
3. Threads: products of at least `SMALL_PRODUCT` multiply-adds (the MNIST-size layers) use as
   many BLAS threads as Numba is told to use (`numba.set_num_threads`, `NUMBA_NUM_THREADS`,
   default: every core); smaller ones (the batch-32 tutorial layers) run BLAS on one thread.
   On 2 cores a small product split in two waits on thread hand-offs, and when other work
   shares the machine OpenBLAS's spinning threads lose whole time slices: measured, tutorial
   epochs 228 ms with 2 BLAS threads against 24 ms with one on a busy machine. The elementwise
   loops stay on one thread: a `prange` RMSprop measured 2× slower than the serial loop at 50 k
   weights with Numba's workqueue threads, and with its OpenMP threads 1.5–2× faster alone but
   20–100× slower right after a 2-thread BLAS call (two pools of spinning threads, 2 cores).
   An explicit `OPENBLAS_NUM_THREADS` or `OMP_NUM_THREADS` turns this policy off: the user's
   setting stands. Either way, BLAS's thread count is put back after each product (~1 µs), so
   NumPy code outside minikeras is never affected.
4. No `fastmath`: it would let LLVM reorder sums and flush denormals, changing rounding away
   from Keras's float32 arithmetic; the loops vectorise across independent elements without it.
   But `error_model="numpy"`: Numba's default checks every division for a zero divisor (to
   raise ZeroDivisionError), and that branch stops LLVM from vectorising any loop that divides
   or takes a square root (measured: RMSprop on the tutorial's 50,890 float32 weights,
   145 µs → 20.5 µs; on the MNIST MLP's 669,706, 1,944 → 241 µs; CPU time, best of 60–400,
   load average 14). What remains is the square roots and divisions themselves: about 8
   cycles per 8 weights. With NumPy's model, x/0 is ±inf or nan exactly as in the reference.
5. Scalars are cast to the array dtype inside the kernel (`dtype(lr)`), so float32 weights are
   updated with float32 arithmetic, as TensorFlow does; `1 − ρ` is formed in float64 first, as
   the Python expression `1 - rho` is in Keras.
6. Index 2-D arrays as `a[i, j]` in the compiled loops, never through row views `a[i]` (each
   view Numba makes updates a reference count, atomically), and pick the activation once,
   outside the loops, not in a helper called per row: a 32 × 10 bias + relu epilogue went from
   3–5 µs to 0.7 µs a call, close to Numba's own ~0.5 µs call overhead.
7. Few specialisations: the Python-level wrappers turn an activation name into a small integer
   and scalars into floats, so one compiled version per dtype (and per array rank for the
   optimizers) serves every call; `cache=True` keeps it on disk for the next process.
8. Optimizer slots that decay below the smallest normal float are flushed to zero. A ReLU unit
   that stays off has g = 0, so its RMSprop/Adam averages shrink by ρ each step until they are
   subnormal, and subnormal arithmetic is many times slower (measured: RMSprop on the tutorial's
   50k weights went from ~20 µs to ~270 µs a step after ~160 epochs). TensorFlow's CPU threads
   flush subnormals to zero too; the value such a slot contributes (< 1e-38 beside ε = 1e-7) is
   nothing either way (the NumPy reference keeps them: same values, only slower).
"""

import concurrent.futures

import numpy as np
from numba import types
from numba.extending import overload

# the runtime set-up (where the JIT cache lives, BLAS's threads) is numba_runtime.py's
from minikeras.kernels import numba_gemm
from minikeras.kernels.numba_runtime import (
    compiled,
    compiled_nogil,
    gemm,
    numba_threads,
    one_blas_thread,
)

FUSED_ACTIVATIONS = ("linear", "relu", "sigmoid", "tanh", "softmax")
_CODE = {name: code for code, name in enumerate(FUSED_ACTIVATIONS)}
LINEAR, RELU, SIGMOID, TANH, SOFTMAX = range(len(FUSED_ACTIVATIONS))


def _code(name):
    code = _CODE.get(name)
    if code is None:
        raise ValueError(
            f"activation {name!r} has no fused kernel; expected one of {FUSED_ACTIVATIONS}"
        )
    return code


# ----------------------------------------------------------------------------- matrix products
def matmul(a, b, out):
    """out = a·b        (m, k)·(k, n) → (m, n)

    Rules 1 and 3: one BLAS gemm, written straight into `out`, or numba_gemm.py's product
    where its `use_numba` says it is faster.
    """
    m, k = a.shape
    if numba_gemm.use_numba(a, b, out, m, k, b.shape[1]):
        return numba_gemm.gemm(a, b, out)
    return gemm(a, b, out, a.size * b.shape[1])  # m·k·n multiply-adds


def matmul_tn(a, b, out):
    """out = aᵀ·b       (k, m)ᵀ·(k, n) → (m, n); the weight gradient xᵀ·dz

    Rules 1 and 3: `a.T` is a Fortran-ordered view; BLAS reads it with a "transpose" flag.
    """
    k, m = a.shape
    if numba_gemm.use_numba(a, b, out, m, k, b.shape[1]):
        return numba_gemm.gemm_tn(a, b, out)
    return gemm(a.T, b, out, a.size * b.shape[1])


def matmul_nt(a, b, out):
    """out = a·bᵀ       (m, k)·(n, k)ᵀ → (m, n); the input gradient dz·Wᵀ

    Rules 1 and 3: as `matmul_tn`, the transpose is a gemm flag.
    """
    m, k = a.shape
    if numba_gemm.use_numba(a, b, out, m, k, b.shape[0]):
        return numba_gemm.gemm_nt(a, b, out)
    return gemm(a, b.T, out, a.size * b.shape[0])


@compiled
def bias_grad(dz, out):
    """out = Σ_batch dz   (batch, units) → (units,)

    Rows are added in order, the order NumPy uses for `sum(axis=0)`; the inner loop runs along a
    row, so it is contiguous and vectorised.
    """
    out[:] = 0
    for i in range(dz.shape[0]):
        for j in range(dz.shape[1]):
            out[j] += dz[i, j]
    return out


# ----------------------------------------------------------------------------- activations
@compiled
def _activate(code, z, y):
    """y = act(z) for 2-D arrays, softmax along each row. The activation is chosen once, outside
    the loops. Elementwise cases read z[i, j] before writing y[i, j], and softmax reads a whole
    row before writing it, so `y` may be `z` itself."""
    m, n = z.shape
    zero = z.dtype.type(0)
    one = z.dtype.type(1)
    if code == LINEAR:
        for i in range(m):
            for j in range(n):
                y[i, j] = z[i, j]
    elif code == RELU:
        for i in range(m):
            for j in range(n):
                v = z[i, j]
                y[i, j] = zero if v < zero else v  # NaN passes through, as np.maximum
    elif code == SIGMOID:
        for i in range(m):
            for j in range(n):
                v = z[i, j]
                e = np.exp(-abs(v))  # in (0, 1]: never overflows
                y[i, j] = one / (one + e) if v >= zero else e / (one + e)
    elif code == TANH:
        for i in range(m):
            for j in range(n):
                y[i, j] = np.tanh(z[i, j])
    else:  # SOFTMAX: subtract the row maximum (changes nothing, keeps e^z finite)
        for i in range(m):
            top = z[i, 0]
            for j in range(1, n):
                top = max(top, z[i, j])
            total = zero
            for j in range(n):
                e = np.exp(z[i, j] - top)
                y[i, j] = e
                total += e
            for j in range(n):
                y[i, j] /= total
    return y


def activation_forward(name, z, out):
    """out = act(z) for the activations in FUSED_ACTIVATIONS (softmax along the last axis).

    Rules 2 and 7: one pass per row; arrays of any rank are seen as (rows, last axis).
    """
    code = _code(name)
    if code == LINEAR and out is z:
        return out
    if z.ndim != 2:
        _activate(code, z.reshape(-1, z.shape[-1]), out.reshape(-1, out.shape[-1]))
    else:
        _activate(code, z, out)
    return out


@compiled
def _derivative(code, z, y, dy, dz):
    """dz = dy ⊙ act'(z) for 2-D arrays, from z (relu) or y = act(z) (the others); see
    `activation_backward`. Safe when `dz` is `dy`: each case reads before it writes."""
    m, n = dy.shape
    zero = dy.dtype.type(0)
    one = dy.dtype.type(1)
    if code == LINEAR:
        for i in range(m):
            for j in range(n):
                dz[i, j] = dy[i, j]
    elif code == RELU:
        for i in range(m):
            for j in range(n):
                dz[i, j] = dy[i, j] if z[i, j] > zero else zero
    elif code == SIGMOID:
        for i in range(m):
            for j in range(n):
                dz[i, j] = dy[i, j] * (y[i, j] * (one - y[i, j]))
    elif code == TANH:
        for i in range(m):
            for j in range(n):
                dz[i, j] = dy[i, j] * (one - y[i, j] * y[i, j])
    else:  # SOFTMAX: the Jacobian diag(y) − y·yᵀ applied to each row of dy
        for i in range(m):
            s = zero
            for j in range(n):
                s += dy[i, j] * y[i, j]
            for j in range(n):
                dz[i, j] = y[i, j] * (dy[i, j] - s)
    return dz


def _fill_missing(z, y):
    """z or y may be None when the activation does not read it (relu reads z, the others y)."""
    return (y if z is None else z), (z if y is None else y)


def activation_backward(name, z, y, dy, out):
    """out = dL/dz given dy = dL/dy, z the input and y = act(z) the output.

    linear:  dz = dy
    relu:    dz = dy · [z > 0]
    sigmoid: dz = dy · y·(1 − y)
    tanh:    dz = dy · (1 − y²)
    softmax: dz = y ⊙ (dy − Σⱼ dyⱼ·yⱼ)
    Rules 2 and 7, as `activation_forward`.
    """
    code = _code(name)
    if code == LINEAR and out is dy:
        return out
    z, y = _fill_missing(z, y)
    if dy.ndim != 2:
        rows = (-1, dy.shape[-1])
        _derivative(code, z.reshape(rows), y.reshape(rows), dy.reshape(rows), out.reshape(rows))
    else:
        _derivative(code, z, y, dy, out)
    return out


# ----------------------------------------------------------------------------- dense layer
@compiled_nogil
def _bias_activation(bias, code, z_out, y_out):
    if bias is not None:
        for i in range(z_out.shape[0]):
            for j in range(z_out.shape[1]):
                z_out[i, j] += bias[j]
    return _activate(code, z_out, y_out)


def dense_forward(x, kernel, bias, activation, z_out, y_out):
    """z = x·W + b, then y = act(z); returns y_out.

    `bias` may be None (use_bias=False). For activation 'linear', y_out may be z_out itself.
    Rules 1 to 3: BLAS writes x·W into z_out, then one compiled pass over the rows (each still in
    cache) adds the bias and applies the activation, where NumPy needs three calls.
    """
    code = _code(activation)
    if code != SOFTMAX and numba_gemm.use_numba(x, kernel, z_out, *x.shape, kernel.shape[1]):
        y = None if y_out is z_out else y_out  # the epilogue fused into numba_gemm's tile store
        return numba_gemm.gemm(x, kernel, z_out, bias, None if y is None else activation, y)
    matmul(x, kernel, z_out)
    if code == LINEAR and bias is None and y_out is z_out:
        return y_out
    return _bias_activation(bias, code, z_out, y_out)


@compiled_nogil
def _derivative_and_bias_grad(z, y, dy, code, dz_out, dbias_out):
    _derivative(code, z, y, dy, dz_out)
    if dbias_out is not None:  # db = Σ dz, rows added in order, dz still in cache
        dbias_out[:] = 0
        for i in range(dz_out.shape[0]):
            for j in range(dz_out.shape[1]):
                dbias_out[j] += dz_out[i, j]


def dense_backward(x, kernel, z, y, dy, activation, dz_out, dkernel_out, dbias_out, dx_out):
    """The dense layer's backward pass, with its activation:

    dz = dy ⊙ act'(z)          (batch, units)
    dW = xᵀ·dz                 (in, batch)·(batch, units)
    db = Σ_batch dz            (units,)             skipped when dbias_out is None
    dx = dz·Wᵀ                 (batch, units)·(units, in)   skipped when dx_out is None
    For 'linear', dz_out may be dy itself.
    Rules 1 to 3: dz and db in one compiled pass over the rows, then two gemms with transpose
    flags.
    """
    code = _code(activation)
    if not (code == LINEAR and dz_out is dy and dbias_out is None):
        z, y = _fill_missing(z, y)
        _derivative_and_bias_grad(z, y, dy, code, dz_out, dbias_out)
    matmul_tn(x, dz_out, dkernel_out)
    if dx_out is not None:
        matmul_nt(dz_out, kernel, dx_out)
    return dx_out


# ----------------------------------------------------------------------------- loss
@compiled
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
    Rules 2 and 6: one row at a time, three short passes over it while it sits in cache: the
    maximum; the exponentials and sums; the loss, probabilities and gradient.
    """
    zero = logits.dtype.type(0)
    n = logits.shape[1]
    for i in range(logits.shape[0]):
        top = logits[i, 0]
        for j in range(1, n):
            top = max(top, logits[i, j])
        sumexp = zero
        for j in range(n):
            e = np.exp(logits[i, j] - top)
            probs_out[i, j] = e
            sumexp += e
        log_sumexp = np.log(sumexp)
        scale = row_scale[i]
        loss = zero
        for j in range(n):
            loss += y_true[i, j] * (log_sumexp - (logits[i, j] - top))
            p = probs_out[i, j] / sumexp
            probs_out[i, j] = p
            dlogits_out[i, j] = (p - y_true[i, j]) * scale
        losses_out[i] = loss
    return losses_out


@compiled
def sigmoid_crossentropy(logits, y_true, row_scale, losses_out, dlogits_out):
    """Binary crossentropy computed from the logits z (what Keras does after a sigmoid in fit),
    the mean over the C entries of each row:

    lossᵢ = meanⱼ max(zᵢⱼ, 0) − zᵢⱼ·yᵢⱼ + log(1 + e^(−|zᵢⱼ|))    (= −y·log σ − (1 − y)·log(1 − σ))
    dzᵢⱼ = (σ(zᵢⱼ) − yᵢⱼ) · (1/C) · row_scaleᵢ                   never overflows: e^(−|z|) ≤ 1
    σ(z) as `_activate` computes it. Rule 6: one pass over each row, e^(−|z|) shared by the
    loss and the gradient; the row's terms summed in order.
    """
    t = logits.dtype.type
    zero, one = t(0), t(1)
    n = logits.shape[1]
    inv_c = t(1.0 / n)  # 1/C rounded once, as the loss's `_mean_last_axis_scale`
    for i in range(logits.shape[0]):
        scale = row_scale[i]
        total = zero
        for j in range(n):
            z = logits[i, j]
            y = y_true[i, j]
            e = np.exp(-abs(z))
            total += (max(z, zero) - z * y) + np.log1p(e)
            sigmoid = one / (one + e) if z >= zero else e / (one + e)
            dlogits_out[i, j] = (sigmoid - y) * inv_c * scale
        losses_out[i] = total / t(n)
    return losses_out


# ----------------------------------------------------------------------------- embeddings
@compiled
def embedding_backward(ids, dy, out):
    """out = 0, then out[ids[p]] += dy[p] for every position p, in order   (rows, dim)

    Positions are added in the reference's order, so the sums round alike. One loop over the
    positions and a contiguous inner loop along the row: 5–60× faster than `np.add.at` here
    (measured: 320 ids × 8 → 5 µs against 64 µs; 6,400 ids × 64 into 10,000 rows → 0.23 ms
    against 9.3 ms, of which 0.13 ms is zeroing `out`).
    """
    out[:] = 0
    for p in range(ids.shape[0]):
        row = ids[p]
        for j in range(dy.shape[1]):
            out[row, j] += dy[p, j]
    return out


# ----------------------------------------------------------------------------- optimizers
@compiled
def _flush(x, tiny):
    """x, or 0 when |x| is below the smallest normal float (rule 8). The zero is x·(x − x),
    ±0 in x's own type: `x * 0` would be a float64 for a float32 x (Numba types an integer
    literal as int64), and so would everything computed from it (rule 5)."""
    return x if abs(x) >= tiny else x * (x - x)


# Each update is one pass over the flattened weight (a view: the arrays are C-contiguous) that
# reads and writes every element once, where NumPy makes several passes and temporaries.
def _flat(x):
    """x as a 1-D view (x is C-contiguous); None stays None."""
    return None if x is None else x.reshape(x.size)


@overload(_flat)
def _flat_compiled(x):
    # Decided while compiling, from the argument's type, so the caller sees an array or None and
    # never an "optional array", which would stop LLVM from vectorising its loop.
    if isinstance(x, types.NoneType):
        return lambda x: None
    return lambda x: x.reshape(x.size)


@compiled
def _sgd(w, g, m, lr, momentum, nesterov):
    t = w.dtype.type
    lr, momentum = t(lr), t(momentum)
    if m is None:
        for i in range(w.size):
            w[i] -= lr * g[i]
        return
    tiny = np.finfo(w.dtype).tiny
    for i in range(w.size):
        step = lr * g[i]
        mi = _flush(momentum * m[i] - step, tiny)
        m[i] = mi
        if nesterov:
            w[i] += momentum * mi - step
        else:
            w[i] += mi


@compiled
def _sgd_update(w, g, m, lr, momentum, nesterov):
    _sgd(_flat(w), _flat(g), _flat(m), lr, momentum, nesterov)


def sgd_update(w, g, m, lr, momentum, nesterov):
    """In place. Plain:  w ← w − lr·g
    momentum:  m ← μ·m − lr·g;  w ← w + m           (nesterov: w ← w + μ·m − lr·g, with the new m)
    Rules 5 and 7; one pass over w, g, m.
    """
    _sgd_update(w, g, m, float(lr), float(momentum), bool(nesterov))
    return w


@compiled
def _rmsprop(w, g, v, m, a, lr, rho, momentum, epsilon):
    t = w.dtype.type
    one_minus_rho = t(1.0 - rho)
    lr, rho, momentum, epsilon = t(lr), t(rho), t(momentum), t(epsilon)
    tiny = np.finfo(w.dtype).tiny
    for i in range(w.size):
        gi = g[i]
        vi = _flush(rho * v[i] + one_minus_rho * (gi * gi), tiny)
        v[i] = vi
        if a is not None:  # centered
            ai = rho * a[i] + one_minus_rho * gi
            a[i] = ai
            denominator = vi - ai * ai + epsilon
        else:
            denominator = vi + epsilon
        increment = lr * gi / np.sqrt(denominator)
        if m is not None:
            mi = _flush(momentum * m[i] + increment, tiny)
            m[i] = mi
            w[i] -= mi
        else:
            w[i] -= increment


@compiled
def _rmsprop_update(w, g, v, m, a, lr, rho, momentum, epsilon):
    _rmsprop(_flat(w), _flat(g), _flat(v), _flat(m), _flat(a), lr, rho, momentum, epsilon)


def rmsprop_update(w, g, v, m, a, lr, rho, momentum, epsilon, centered):
    """In place, Keras's RMSprop (ε inside the square root):
    v ← ρ·v + (1 − ρ)·g²
    centered:  a ← ρ·a + (1 − ρ)·g;  d = v − a² + ε      else d = v + ε
    inc = lr·g / √d
    momentum:  m ← μ·m + inc;  w ← w − m               else w ← w − inc
    Rules 5 and 7; one pass over w, g and the slots, each element's update kept in registers.
    """
    a = a if centered else None  # the compiled loop is centered exactly when `a` is given
    _rmsprop_update(w, g, v, m, a, float(lr), float(rho), float(momentum), float(epsilon))
    return w


@compiled
def _adam(w, g, m, v, vhat, lr, beta_1, beta_2, epsilon, step):
    t = w.dtype.type
    one = t(1)
    # the bias corrections, in the weights' dtype as in Keras: α = lr·√(1 − β₂ᵗ) / (1 − β₁ᵗ);
    # in βᵗ Keras rounds β to float32 first (even for float64 weights), 1 − β stays exact
    b1, b2 = t(np.float32(beta_1)), t(np.float32(beta_2))
    alpha = t(lr) * np.sqrt(one - b2 ** t(step)) / (one - b1 ** t(step))
    one_minus_b1, one_minus_b2, epsilon = t(1.0 - beta_1), t(1.0 - beta_2), t(epsilon)
    tiny = np.finfo(w.dtype).tiny
    for i in range(w.size):
        gi = g[i]
        mi = _flush(m[i] + (gi - m[i]) * one_minus_b1, tiny)
        vi = _flush(v[i] + (gi * gi - v[i]) * one_minus_b2, tiny)
        m[i] = mi
        v[i] = vi
        if vhat is not None:  # amsgrad
            vi = max(vhat[i], vi)
            vhat[i] = vi
        w[i] -= (mi * alpha) / (np.sqrt(vi) + epsilon)


@compiled
def _adam_update(w, g, m, v, vhat, lr, beta_1, beta_2, epsilon, step):
    _adam(_flat(w), _flat(g), _flat(m), _flat(v), _flat(vhat), lr, beta_1, beta_2, epsilon, step)


def adam_update(w, g, m, v, vhat, lr, beta_1, beta_2, epsilon, step):
    """In place, Keras's Adam at step t = `step` (1 for the first update):
    α = lr·√(1 − β₂ᵗ) / (1 − β₁ᵗ)
    m ← m + (g − m)·(1 − β₁);   v ← v + (g² − v)·(1 − β₂)
    amsgrad (vhat not None):  vhat ← max(vhat, v), used in place of v
    w ← w − α·m / (√v + ε)
    Rules 5 and 7; α is computed once per call in the weights' dtype, then one pass.
    """
    args = (float(lr), float(beta_1), float(beta_2), float(epsilon), float(step))
    _adam_update(w, g, m, v, vhat, *args)
    return w


# ----------------------------------------------------------------------------- batch normalization
# The contract of numpy_kernels.py: x is (m, c), rows × channels; `weights` (m,) or None.
# Rules 2 and 6: each function is one or two row-major passes with per-channel float64
# accumulators (the sums of a large batch keep their digits, as TensorFlow's tree reductions do).
# Measured (moments + forward + training backward, float32, on the 2-core machine while it
# ran other jobs, load ~13): (32, 64) 0.9 ms NumPy → 0.18 ms here; (256, 512) 60 → 2.1 ms;
# (4096, 64) 145 → 3.4 ms. NumPy makes a dozen passes and float64 temporaries; these make three.
MASKED_EPSILON = 1e-7  # Keras's backend.epsilon(), added to Σw in its masked moments


@compiled
def _moments(x, w, mean_out, variance_out):
    m, c = x.shape
    total = MASKED_EPSILON
    for i in range(m):
        total += w[i]
    sums = np.zeros(c)
    for i in range(m):
        for j in range(c):
            sums[j] += w[i] * x[i, j]
    for j in range(c):
        sums[j] /= total
    squares = np.zeros(c)
    for i in range(m):
        for j in range(c):
            d = x[i, j] - sums[j]
            squares[j] += w[i] * d * d
    for j in range(c):
        mean_out[j] = sums[j]
        variance_out[j] = squares[j] / total


@compiled
def _moments_unweighted(x, mean_out, variance_out):
    m, c = x.shape
    sums = np.zeros(c)
    for i in range(m):
        for j in range(c):
            sums[j] += x[i, j]
    for j in range(c):
        sums[j] /= m
    squares = np.zeros(c)
    for i in range(m):
        for j in range(c):
            d = x[i, j] - sums[j]
            squares[j] += d * d
    for j in range(c):
        mean_out[j] = sums[j]
        variance_out[j] = squares[j] / m


def batchnorm_moments(x, weights, mean_out, variance_out):
    """Per channel: mean = Σᵢ wᵢ·xᵢ / W, variance = Σᵢ wᵢ·(xᵢ − mean)² / W (biased);
    W = m without weights, Σᵢ wᵢ + 1e-7 with them."""
    if weights is None:
        _moments_unweighted(x, mean_out, variance_out)
    else:
        _moments(x, weights, mean_out, variance_out)
    return mean_out, variance_out


@compiled
def _batchnorm_forward(x, mean, variance, gamma, beta, epsilon, xhat_out, inv_std_out, y_out):
    m, c = x.shape
    dtype = x.dtype.type
    a = np.empty(c, dtype=x.dtype)
    shift = np.empty(c, dtype=x.dtype)
    for j in range(c):
        inv = dtype(1) / np.sqrt(variance[j] + dtype(epsilon))
        inv_std_out[j] = inv
        a[j] = inv * gamma[j]
        shift[j] = beta[j] - mean[j] * a[j]
    for i in range(m):
        for j in range(c):
            y_out[i, j] = x[i, j] * a[j] + shift[j]
            xhat_out[i, j] = (x[i, j] - mean[j]) * inv_std_out[j]


def batchnorm_forward(x, mean, variance, gamma, beta, epsilon, xhat_out, inv_std_out, y_out):
    """inv_std = 1/√(variance + ε);  x̂ = (x − mean)·inv_std;  y = x·a + (β − mean·a), a = γ·inv_std
    (TensorFlow's order). A missing γ is ones, a missing β zeros."""
    c = x.shape[1]
    gamma = np.ones(c, dtype=x.dtype) if gamma is None else gamma
    beta = np.zeros(c, dtype=x.dtype) if beta is None else beta
    _batchnorm_forward(x, mean, variance, gamma, beta, float(epsilon), xhat_out, inv_std_out, y_out)
    return y_out


@compiled
def _batchnorm_backward(
    dy, xhat, inv_std, gamma, w, total, use_centre, training, want_dx, dgamma_out, dbeta_out, dx_out
):
    m, c = dy.shape
    sum_dy = np.zeros(c)
    sum_dy_xhat = np.zeros(c)
    centre = np.zeros(c)  # C/W = Σ wᵢ·x̂ᵢ / W (0 without mask weights)
    for i in range(m):
        for j in range(c):
            sum_dy[j] += dy[i, j]
            sum_dy_xhat[j] += dy[i, j] * xhat[i, j]
            if use_centre:
                centre[j] += w[i] * xhat[i, j]
    for j in range(c):
        dbeta_out[j] = sum_dy[j]
        dgamma_out[j] = sum_dy_xhat[j]
        centre[j] /= total
    if not want_dx:
        return
    scale = np.empty(c)
    for j in range(c):
        scale[j] = np.float64(inv_std[j]) * gamma[j]
    for i in range(m):
        share = w[i] / total
        for j in range(c):
            if training:
                correction = share * (sum_dy[j] + sum_dy_xhat[j] * (xhat[i, j] - centre[j]))
                dx_out[i, j] = scale[j] * (dy[i, j] - correction)
            else:
                dx_out[i, j] = scale[j] * dy[i, j]


def batchnorm_backward(dy, xhat, inv_std, gamma, weights, training, dgamma_out, dbeta_out, dx_out):
    """dβ = Σᵢ dyᵢ;  dγ = Σᵢ dyᵢ·x̂ᵢ;  inference dx = γ·inv_std·dy;  training
    dxᵢ = γ·inv_std·(dyᵢ − (wᵢ/W)·(Σdy + Σ(dy·x̂)·(x̂ᵢ − C/W))), as in numpy_kernels.py.
    One pass for the three sums, one for dx; outputs given as None are not kept."""
    m, c = dy.shape
    if weights is None:  # wᵢ = 1, W = m, C taken as 0
        w, total, use_centre = np.ones(m), float(m), False
    else:
        w = weights.astype(np.float64)
        total, use_centre = float(w.sum()) + MASKED_EPSILON, True
    gamma = np.ones(c) if gamma is None else gamma.astype(np.float64)
    dgamma = np.empty(c, dtype=dy.dtype) if dgamma_out is None else dgamma_out
    dbeta = np.empty(c, dtype=dy.dtype) if dbeta_out is None else dbeta_out
    want_dx = dx_out is not None
    dx = dx_out if want_dx else np.empty((1, 1), dtype=dy.dtype)
    _batchnorm_backward(
        dy, xhat, inv_std, gamma, w, total, use_centre, bool(training), want_dx, dgamma, dbeta, dx
    )
    return dx_out


# ----------------------------------------------------------------------------- convolution
# See numpy_kernels.py for the layout: (batch, height, width, channels) images, (batch, depth,
# height, width, channels) volumes, a 1-D signal being an image of height 1; `window`,
# `strides`, `dilation` and `pad` hold one int per spatial axis. The compiled loops are
# written once, for volumes; an image is the volume of depth 1 (`_volume`, `_lift`), so the
# depth loops run once and cost nothing.
def _lift(values, one):
    """A per-axis tuple as a (depth, rows, columns) triple: an image's depth is `one`."""
    return tuple(values) if len(values) == 3 else (one, *values)


def _volume(a, rank, axes):
    """`a` with a depth axis of 1 inserted at each of `axes` when `rank` is 2 (a view, so that
    results written into it land in `a`)."""
    if rank == 3:
        return a
    index = [slice(None)] * (a.ndim + len(axes))
    for axis in axes:
        index[axis] = None
    return a[tuple(index)]


@compiled_nogil
def _im2col(x, kd, kh, kw, sd, sh, sw, dd, dh, dw, pd, ph, pw, cols):
    n, d, h, w, c = x.shape
    od, oh, ow = cols.shape[1], cols.shape[2], cols.shape[3]
    zero = x.dtype.type(0)
    for m in range(n):
        for q in range(od):
            for e in range(kd):
                t = q * sd + e * dd - pd
                inside = 0 <= t < d
                for i in range(oh):
                    for a in range(kh):
                        r = i * sh + a * dh - ph
                        for j in range(ow):
                            for b in range(kw):
                                s = j * sw + b * dw - pw
                                if inside and 0 <= r < h and 0 <= s < w:
                                    for k in range(c):
                                        cols[m, q, i, j, e, a, b, k] = x[m, t, r, s, k]
                                else:
                                    for k in range(c):
                                        cols[m, q, i, j, e, a, b, k] = zero
    return cols


def im2col(x, window, strides, dilation, pad, cols_out):
    """The patch matrix: cols[n, i, j, a, b, c] = x[n, i·sh + a·dh − ph, j·sw + b·dw − pw, c]
    (for a volume, cols[n, q, i, j, e, a, b, c] with the depth offset e too).

    x (batch, *spatial, channels) → cols (batch, *out, *window, channels), 0 where a window
    reaches into the padding. Seen as a matrix (batch·positions, kernel offsets·channels), the
    convolution is one BLAS product cols·W (`conv_forward`).

    Rules 6 and 7: one pass that writes cols in order, reading each input channel vector
    contiguously; the bounds test is per (position, offset), not per element.
    """
    rank = len(window)
    (kd, kh, kw), (sd, sh, sw) = _lift(window, 1), _lift(strides, 1)
    (dd, dh, dw), (pd, ph, pw) = _lift(dilation, 1), _lift(pad, 0)
    volume, patches = _volume(x, rank, (1,)), _volume(cols_out, rank, (1, 4))
    _im2col(volume, kd, kh, kw, sd, sh, sw, dd, dh, dw, pd, ph, pw, patches)
    return cols_out


@compiled_nogil
def _col2im(cols, kd, kh, kw, sd, sh, sw, dd, dh, dw, pd, ph, pw, x):
    n, d, h, w, c = x.shape
    od, oh, ow = cols.shape[1], cols.shape[2], cols.shape[3]
    x[:] = 0
    for m in range(n):
        for q in range(od):
            for e in range(kd):
                t = q * sd + e * dd - pd
                if t < 0 or t >= d:
                    continue
                for i in range(oh):
                    for a in range(kh):
                        r = i * sh + a * dh - ph
                        if r < 0 or r >= h:
                            continue
                        for j in range(ow):
                            for b in range(kw):
                                s = j * sw + b * dw - pw
                                if 0 <= s < w:
                                    for k in range(c):
                                        x[m, t, r, s, k] += cols[m, q, i, j, e, a, b, k]
    return x


def col2im(cols, window, strides, dilation, pad, x_out):
    """The transpose of `im2col`: x[n, r, s, c] = Σ of every cols entry that im2col read from
    x[n, r, s, c]; entries in the padding are dropped. The input gradient is
    dx = col2im(dz·Wᵀ).

    Rules 6 and 7: one pass over cols in order, adding channel vectors into x.
    """
    rank = len(window)
    (kd, kh, kw), (sd, sh, sw) = _lift(window, 1), _lift(strides, 1)
    (dd, dh, dw), (pd, ph, pw) = _lift(dilation, 1), _lift(pad, 0)
    patches, volume = _volume(cols, rank, (1, 4)), _volume(x_out, rank, (1,))
    _col2im(patches, kd, kh, kw, sd, sh, sw, dd, dh, dw, pd, ph, pw, volume)
    return x_out


def conv_forward(
    x, kernel, bias, activation, window, strides, dilation, pad, cols_out, z_out, y_out
):
    """A convolution's forward pass as one product over patches:

    cols = im2col(x)                   (batch, oh, ow, kh, kw, in)
    z = cols·W + b                     (batch·oh·ow, kh·kw·in)·(kh·kw·in, filters)
    y = act(z)                         z_out, y_out (batch·oh·ow, filters); y_out may be z_out
                                       for 'linear'

    Why a patch matrix and one product: the arithmetic of a convolution is a product of
    (batch·oh·ow, kh·kw·in) by (kh·kw·in, filters), and BLAS does products 3–10× faster than
    compiled loops can (rule 1); the copy into `cols` is one pass over memory. The epilogue
    (bias, activation) is one compiled pass (rule 2).

    Threads (the rule for convolutions): the batch is cut into as many parts as Numba may use
    threads (`numba.set_num_threads`; default every core) and each part runs on its own
    thread, patches, product and epilogue; the compiled kernels release Python's lock and so
    does NumPy's product, and BLAS runs on one thread inside each part. Unlike OpenBLAS's own
    threads, which spin at each barrier and lose whole time slices when the other core is
    taken, a part that waits blocks. Measured on keras.io's mnist_convnet (an epoch of 2048
    images, batch 128, Adam) on the shared 2-core machine, load average 7–13 (other jobs
    running, so the wall times are inflated): rule 3's two BLAS threads 14–72 s an epoch;
    one BLAS thread and no parts 4.4–6.7 s; two parts 4.9–6.5 s, the same 1.4 s of CPU
    time an epoch as one thread (the parts add no work, and gain nothing while the other
    core is busy); Keras 4.5–10.9 s (2.0 s of CPU), PyTorch 16–22 s (4.6 s of CPU, its
    threads spin too) in the same minutes. The CPU time is what a quiet machine would show.
    Per pass, beside OpenBLAS's rate on the same product: bench/results.md, section 5.
    """
    code = _code(activation)
    cols = cols_out.reshape(z_out.shape[0], -1)

    def part(start, stop):  # images start..stop; their rows of cols, z, y
        rows = slice(start * len(cols) // len(x), stop * len(cols) // len(x))
        im2col(x[start:stop], window, strides, dilation, pad, cols_out[start:stop])
        _part_product(cols[rows], kernel, z_out[rows])
        if not (code == LINEAR and bias is None and y_out is z_out):
            _bias_activation(bias, code, z_out[rows], y_out[rows])

    _by_parts(part, len(x))
    return y_out


def conv_backward(
    cols, kernel, z, y, dy, activation, window, strides, dilation, pad, dz_out, dkernel_out,
    dbias_out, dcols_out, dx_out,
):  # fmt: skip
    """A convolution's backward pass, from the patches `cols` (batch, oh, ow, kh, kw, in) its
    forward pass made:

    dz = dy ⊙ act'(z)                  (batch·oh·ow, filters); dz_out may be dy for 'linear'
    db = Σ dz                          skipped when dbias_out is None
    dW = colsᵀ·dz                      (kh·kw·in, batch·oh·ow)·(batch·oh·ow, filters)
    dcols = dz·Wᵀ                      (batch·oh·ow, filters)·(filters, kh·kw·in)
    dx = col2im(dcols)                 skipped (with dcols) when dx_out is None

    dz and db in one compiled pass (rule 2), the products by BLAS, each part of the batch on
    its own thread (`conv_forward`); the parts' dW and db are added at the end (part 0's
    first, so the sums do not depend on which thread finished first).
    """
    code = _code(activation)
    flat = cols.reshape(dz_out.shape[0], -1)
    z, y = _fill_missing(z, y)
    parts = _parts(len(cols))
    # each part's dW and db; part 0 writes straight into the outputs
    dkernels = [dkernel_out] + [_scratch(("dkernel", p), dkernel_out) for p in range(1, parts)]
    dbiases = [dbias_out] + [
        None if dbias_out is None else _scratch(("dbias", p), dbias_out) for p in range(1, parts)
    ]

    def part(start, stop, p):
        rows = slice(start * len(flat) // len(cols), stop * len(flat) // len(cols))
        if not (code == LINEAR and dz_out is dy and dbias_out is None):
            _derivative_and_bias_grad(z[rows], y[rows], dy[rows], code, dz_out[rows], dbiases[p])
        _part_product(flat[rows].T, dz_out[rows], dkernels[p])
        if dx_out is not None:
            _part_product(dz_out[rows], kernel.T, dcols_out[rows])
            patches = dcols_out[rows].reshape(cols[start:stop].shape)
            col2im(patches, window, strides, dilation, pad, dx_out[start:stop])

    _by_parts(part, len(cols), with_index=True)
    for p in range(1, parts):
        dkernel_out += dkernels[p]
        if dbias_out is not None:
            dbias_out += dbiases[p]
    return dx_out


@compiled_nogil
def _depthwise_forward(cols, kernel, z):
    positions, taps, channels = cols.shape
    multiplier = kernel.shape[2]
    z[:] = 0
    for p in range(positions):
        for k in range(taps):
            if multiplier == 1:  # one contiguous run over the channels (it vectorizes)
                for c in range(channels):
                    z[p, c, 0] += cols[p, k, c] * kernel[k, c, 0]
            else:
                for c in range(channels):
                    x = cols[p, k, c]
                    for m in range(multiplier):
                        z[p, c, m] += x * kernel[k, c, m]
    return z


def depthwise_forward(cols, kernel, z_out):
    """z[p, c, m] = Σ_k cols[p, k, c]·W[k, c, m] (see numpy_kernels).

    One pass over cols in order. The innermost loop runs along the multiplier, contiguous in
    both W and z, or along the channels when the multiplier is 1 (the common case: a loop of
    length 1 innermost does not vectorize, and measured 4× slower than NumPy's einsum). No
    BLAS: each channel's product is (positions, taps)·(taps, multiplier), too thin for a BLAS
    call per channel to pay off. Measured (float32, best of 7 CPU times, load average 12 on
    2 cores), forward / backward with dx, against numpy_kernels' einsum:
    (positions, taps, channels, M) = (8192, 9, 32, 1): 0.6 / 1.4 ms against 1.1 / 2.9 ms;
    (8192, 9, 16, 4): 2.5 / 4.9 ms against 6.7 / 28 ms.
    """
    return _depthwise_forward(cols, kernel, z_out)


@compiled_nogil
def _depthwise_backward(cols, kernel, dz, dkernel, dcols, want_dx):
    positions, taps, channels = cols.shape
    multiplier = kernel.shape[2]
    dkernel[:] = 0
    for p in range(positions):
        for k in range(taps):
            if multiplier == 1:  # contiguous runs over the channels, as in the forward pass
                for c in range(channels):
                    dkernel[k, c, 0] += cols[p, k, c] * dz[p, c, 0]
                if want_dx:
                    for c in range(channels):
                        dcols[p, k, c] = dz[p, c, 0] * kernel[k, c, 0]
                continue
            for c in range(channels):
                x = cols[p, k, c]
                total = x * 0
                for m in range(multiplier):
                    g = dz[p, c, m]
                    dkernel[k, c, m] += x * g
                    total += g * kernel[k, c, m]
                if want_dx:
                    dcols[p, k, c] = total
    return dkernel


def depthwise_backward(cols, kernel, dz, dkernel_out, dcols_out):
    """dW[k, c, m] = Σ_p cols[p, k, c]·dz[p, c, m];  dcols[p, k, c] = Σ_m dz[p, c, m]·W[k, c, m]
    (see numpy_kernels), both in the one pass over cols the forward pass makes."""
    want_dx = dcols_out is not None
    dcols = dcols_out if want_dx else np.empty((1, 1, 1), dtype=cols.dtype)
    return _depthwise_backward(cols, kernel, dz, dkernel_out, dcols, want_dx)


_workers = []  # the convolutions' worker threads (one executor each), started when first needed
_scratch_arrays = {}


def _parts(batch):
    """How many parts a batch is cut into: Numba's thread count, at most one image each,
    whichever product the parts use (numba_gemm's packing buffers are one set per thread, so
    parts never share one)."""
    return max(1, min(numba_threads(), batch))


def _part_product(a, b, out):
    """a·b into out, for one part of a batch: BLAS, or numba_gemm where `use_numba` picks it,
    on this thread only (the parts are the threads, as BLAS is set to one thread for them)."""
    (m, k), n = a.shape, b.shape[1]
    if numba_gemm.use_numba(a, b, out, m, k, n):
        a, b = np.ascontiguousarray(a), np.ascontiguousarray(b)
        return numba_gemm.gemm(a, b, out, threads=1)
    return np.matmul(a, b, out=out)


def _scratch(name, like):
    """A reusable array shaped like `like`, one per name, shape and dtype (so a step of a
    model allocates nothing once one has run)."""
    key = (name, like.shape, like.dtype.str)
    array = _scratch_arrays.get(key)
    if array is None:
        array = _scratch_arrays[key] = np.empty_like(like)
    return array


def _by_parts(part, batch, with_index=False):
    """part(start, stop[, p]) for each part of the batch: part 0 on this thread, the others on
    the worker threads, with BLAS on one thread; returns when every part is done."""
    parts = _parts(batch)
    bounds = [(p * batch // parts, (p + 1) * batch // parts) for p in range(parts)]
    args = [(*b, p) if with_index else b for p, b in enumerate(bounds)]
    with one_blas_thread():
        if parts == 1:
            part(*args[0])
            return
        while len(_workers) < parts - 1:
            _workers.append(concurrent.futures.ThreadPoolExecutor(1, "minikeras-conv"))
        futures = [worker.submit(part, *a) for worker, a in zip(_workers, args[1:])]
        try:
            part(*args[0])
        finally:
            for future in futures:
                future.result()  # waits; re-raises a part's error


# ----------------------------------------------------------------------------- pooling
# Written for volumes, an image being the volume of depth 1, as the convolution above.
@compiled
def _max_pool(x, kd, kh, kw, sd, sh, sw, pd, ph, pw, y, argmax):
    n, d, h, w, c = x.shape
    od, oh, ow = y.shape[1], y.shape[2], y.shape[3]
    for m in range(n):
        for q in range(od):
            for i in range(oh):
                for j in range(ow):
                    first = True
                    for e in range(kd):
                        t = q * sd + e - pd
                        if t < 0 or t >= d:
                            continue
                        for a in range(kh):
                            r = i * sh + a - ph
                            if r < 0 or r >= h:
                                continue
                            for b in range(kw):
                                s = j * sw + b - pw
                                if s < 0 or s >= w:
                                    continue
                                flat = (t * h + r) * w + s
                                if first:  # the window's first real element starts the maximum
                                    for k in range(c):
                                        y[m, q, i, j, k] = x[m, t, r, s, k]
                                        argmax[m, q, i, j, k] = flat
                                    first = False
                                    continue
                                for k in range(c):
                                    # strictly greater: the first maximum in row-major order
                                    # wins; both stores unconditional, so the loop runs in
                                    # vectors (selects)
                                    v, best = x[m, t, r, s, k], y[m, q, i, j, k]
                                    better = v > best
                                    y[m, q, i, j, k] = v if better else best
                                    argmax[m, q, i, j, k] = (
                                        flat if better else argmax[m, q, i, j, k]
                                    )
    return y


def max_pool_forward(x, window, strides, pad, y_out, argmax_out):
    """y[n, i, j, c] = max over the window of x; argmax[n, i, j, c] = r·w + s, the flat index
    of the first maximum in row-major order (TensorFlow's choice); padding is never chosen.

    Rules 6 and 7: one pass per output position, the channel loop innermost (contiguous),
    branch-free (a compare and two selects per element, so LLVM vectorises it): at
    mnist_convnet's first pooling (128×26×26×32, 2×2) 6.3 ms → 3.5 ms (one thread, CPU
    time, load average ~9) against the loop that tested `argmax < 0 or v > y` per element.
    """
    rank = len(window)
    (kd, kh, kw), (sd, sh, sw), (pd, ph, pw) = _lift(window, 1), _lift(strides, 1), _lift(pad, 0)
    volume, y, argmax = (_volume(a, rank, (1,)) for a in (x, y_out, argmax_out))
    _max_pool(volume, kd, kh, kw, sd, sh, sw, pd, ph, pw, y, argmax)
    return y_out


@compiled
def _max_pool_backward(dy, argmax, dx):
    n, positions, c = dy.shape
    dx[:] = 0
    for m in range(n):
        for p in range(positions):
            for k in range(c):
                dx[m, argmax[m, p, k], k] += dy[m, p, k]
    return dx


def max_pool_backward(dy, argmax, dx_out):
    """dx[n, argmax[n, i, j, c], c] += dy[n, i, j, c] (overlapping windows add up).

    dx is seen as (batch, h·w, channels), so the flat index needs no division back into a row
    and a column: 5.1 ms → 3.1 ms at mnist_convnet's first pooling (as above).
    """
    n, c = dx_out.shape[0], dx_out.shape[-1]
    _max_pool_backward(dy.reshape(n, -1, c), argmax.reshape(n, -1, c), dx_out.reshape(n, -1, c))
    return dx_out


@compiled
def _max_pool_backward_ties(x, y, dy, kd, kh, kw, sd, sh, sw, pd, ph, pw, dx):
    n, d, h, w, c = x.shape
    od, oh, ow = y.shape[1], y.shape[2], y.shape[3]
    zero = dx.dtype.type(0)
    dx[:] = 0
    for m in range(n):
        for q in range(od):
            for i in range(oh):
                for j in range(ow):
                    for t in range(max(q * sd - pd, 0), min(q * sd - pd + kd, d)):
                        for r in range(max(i * sh - ph, 0), min(i * sh - ph + kh, h)):
                            for s in range(max(j * sw - pw, 0), min(j * sw - pw + kw, w)):
                                for k in range(c):
                                    hit = x[m, t, r, s, k] == y[m, q, i, j, k]
                                    dx[m, t, r, s, k] += dy[m, q, i, j, k] if hit else zero
    return dx


def max_pool_backward_ties(x, y, dy, window, strides, pad, dx_out):
    """dx[n, r, c] = Σ over the windows that cover r of dy[n, i, c]·[x[n, r, c] = y[n, i, c]]
    (TensorFlow's MaxPool3DGrad: every element equal to its window's max gets all of dy).

    Rules 6 and 7, as `max_pool_forward`: the compare and the add branch-free.
    """
    rank = len(window)
    (kd, kh, kw), (sd, sh, sw), (pd, ph, pw) = _lift(window, 1), _lift(strides, 1), _lift(pad, 0)
    x, y, dy, dx = (_volume(a, rank, (1,)) for a in (x, y, dy, dx_out))
    _max_pool_backward_ties(x, y, dy, kd, kh, kw, sd, sh, sw, pd, ph, pw, dx)
    return dx_out


@compiled
def _average_pool(x, kd, kh, kw, sd, sh, sw, pd, ph, pw, y):
    n, d, h, w, c = x.shape
    od, oh, ow = y.shape[1], y.shape[2], y.shape[3]
    zero = x.dtype.type(0)
    for m in range(n):
        for q in range(od):
            for i in range(oh):
                for j in range(ow):
                    for k in range(c):
                        y[m, q, i, j, k] = zero
                    count = 0
                    for t in range(max(q * sd - pd, 0), min(q * sd - pd + kd, d)):
                        for r in range(max(i * sh - ph, 0), min(i * sh - ph + kh, h)):
                            for s in range(max(j * sw - pw, 0), min(j * sw - pw + kw, w)):
                                count += 1
                                for k in range(c):
                                    y[m, q, i, j, k] += x[m, t, r, s, k]
                    scale = x.dtype.type(count)
                    for k in range(c):
                        y[m, q, i, j, k] /= scale
    return y


def average_pool_forward(x, window, strides, pad, y_out):
    """y[n, i, j, c] = mean of x over the window's elements inside the input (TensorFlow
    divides by the count of real elements when 'same' padding cuts a window).

    Rules 6 and 7, as `max_pool_forward`.
    """
    rank = len(window)
    (kd, kh, kw), (sd, sh, sw), (pd, ph, pw) = _lift(window, 1), _lift(strides, 1), _lift(pad, 0)
    volume, y = _volume(x, rank, (1,)), _volume(y_out, rank, (1,))
    _average_pool(volume, kd, kh, kw, sd, sh, sw, pd, ph, pw, y)
    return y_out


@compiled
def _average_pool_backward(dy, kd, kh, kw, sd, sh, sw, pd, ph, pw, dx):
    n, d, h, w, c = dx.shape
    od, oh, ow = dy.shape[1], dy.shape[2], dy.shape[3]
    dx[:] = 0
    for m in range(n):
        for q in range(od):
            for i in range(oh):
                for j in range(ow):
                    t0, r0, s0 = q * sd - pd, i * sh - ph, j * sw - pw
                    depths = min(t0 + kd, d) - max(t0, 0)
                    rows = min(r0 + kh, h) - max(r0, 0)
                    columns = min(s0 + kw, w) - max(s0, 0)
                    scale = dy.dtype.type(depths * rows * columns)
                    for t in range(max(t0, 0), min(t0 + kd, d)):
                        for r in range(max(r0, 0), min(r0 + kh, h)):
                            for s in range(max(s0, 0), min(s0 + kw, w)):
                                for k in range(c):
                                    dx[m, t, r, s, k] += dy[m, q, i, j, k] / scale
    return dx


def average_pool_backward(dy, window, strides, pad, dx_out):
    """dx[n, r, s, c] = Σ over the windows that cover (r, s) of dy[n, i, j, c] / count(i, j)."""
    rank = len(window)
    (kd, kh, kw), (sd, sh, sw), (pd, ph, pw) = _lift(window, 1), _lift(strides, 1), _lift(pad, 0)
    volume, dx = _volume(dy, rank, (1,)), _volume(dx_out, rank, (1,))
    _average_pool_backward(volume, kd, kh, kw, sd, sh, sw, pd, ph, pw, dx)
    return dx_out


# The optimizers below follow the same pattern: a compiled loop over flat views, then a wrapper
# that turns every scalar into a Python float (rule 7). Where Keras casts a hyper-parameter with
# `ops.cast` it goes through float32 (`t(np.float32(beta))`), as in the NumPy reference.
@compiled
def _adagrad(w, g, a, lr, epsilon):
    t = w.dtype.type
    lr, epsilon = t(lr), t(epsilon)
    for i in range(w.size):
        gi = g[i]
        ai = a[i] + gi * gi
        a[i] = ai
        w[i] -= (lr * gi) / np.sqrt(ai + epsilon)


def adagrad_update(w, g, accumulator, lr, epsilon):
    """In place, Keras's Adagrad (ε inside the square root):
    a ← a + g²
    w ← w − lr·g / √(a + ε)
    One pass; the accumulator only grows, so nothing to flush (rule 8).
    """
    _adagrad(_flat(w), _flat(g), _flat(accumulator), float(lr), float(epsilon))
    return w


@compiled
def _adadelta(w, g, ag, ad, lr, rho, epsilon):
    t = w.dtype.type
    one_minus_rho = t(1.0 - rho)
    lr, rho, epsilon = t(lr), t(rho), t(epsilon)
    tiny = np.finfo(w.dtype).tiny
    for i in range(w.size):
        gi = g[i]
        agi = _flush(rho * ag[i] + one_minus_rho * (gi * gi), tiny)
        ag[i] = agi
        delta = -(np.sqrt(ad[i] + epsilon) * gi) / np.sqrt(agi + epsilon)
        ad[i] = _flush(rho * ad[i] + one_minus_rho * (delta * delta), tiny)
        w[i] += lr * delta


def adadelta_update(w, g, accumulated_grad, accumulated_delta, lr, rho, epsilon):
    """In place, Keras's Adadelta:
    E[g²] ← ρ·E[g²] + (1 − ρ)·g²
    Δ = −√(E[Δ²] + ε)·g / √(E[g²] + ε)
    E[Δ²] ← ρ·E[Δ²] + (1 − ρ)·Δ²
    w ← w + lr·Δ
    Rules 5, 7 and 8; one pass over w, g and both averages.
    """
    args = (float(lr), float(rho), float(epsilon))
    _adadelta(_flat(w), _flat(g), _flat(accumulated_grad), _flat(accumulated_delta), *args)
    return w


@compiled
def _adamax(w, g, m, u, lr, beta_1, beta_2, epsilon, step):
    t = w.dtype.type
    one_minus_b1_power = t(1) - t(np.float32(beta_1)) ** t(step)
    one_minus_b1 = t(1.0 - beta_1)
    lr, beta_2, epsilon = t(lr), t(beta_2), t(epsilon)
    tiny = np.finfo(w.dtype).tiny
    for i in range(w.size):
        gi = g[i]
        mi = _flush(m[i] + (gi - m[i]) * one_minus_b1, tiny)
        ui = _flush(max(beta_2 * u[i], abs(gi)), tiny)
        m[i] = mi
        u[i] = ui
        w[i] -= (lr * mi) / (one_minus_b1_power * (ui + epsilon))


def adamax_update(w, g, m, u, lr, beta_1, beta_2, epsilon, step):
    """In place, Keras's Adamax at step t:
    m ← m + (g − m)·(1 − β₁);   u ← max(β₂·u, |g|)
    w ← w − lr·m / ((1 − β₁ᵗ)·(u + ε))          β₁ᵗ from float32(β₁)
    Rules 5, 7 and 8; one pass.
    """
    args = (float(lr), float(beta_1), float(beta_2), float(epsilon), float(step))
    _adamax(_flat(w), _flat(g), _flat(m), _flat(u), *args)
    return w


def nadam_u_product(u_product, beta_1, step):
    """Nadam's running product Πₛ μₛ, μₜ = β₁·(1 − ½·0.96ᵗ), once per update: one scalar, no
    loop to compile (β₁ and 0.96 exact, as in Keras's `_backend_update_step`)."""
    dtype = u_product.dtype.type
    u_product[...] = u_product * beta_1 * (1.0 - 0.5 * dtype(0.96) ** dtype(step))
    return u_product


@compiled
def _nadam(w, g, m, v, lr, beta_1, beta_2, epsilon, step, u_product):
    t = w.dtype.type
    one, half = t(1), t(0.5)
    b1, b2, decay = t(np.float32(beta_1)), t(np.float32(beta_2)), t(np.float32(0.96))
    u_t = b1 * (one - half * decay ** t(step))
    u_t_1 = b1 * (one - half * decay ** t(step + 1))
    u_product_t = t(u_product)
    m_denominator = one - u_product_t * u_t_1  # (as Keras divides, not multiplied by inverses)
    g_denominator = one - u_product_t
    v_scale = one - b2 ** t(step)
    one_minus_b1, one_minus_b2 = one - b1, one - b2
    lr, epsilon = t(lr), t(epsilon)
    tiny = np.finfo(w.dtype).tiny
    for i in range(w.size):
        gi = g[i]
        mi = _flush(m[i] + (gi - m[i]) * one_minus_b1, tiny)
        vi = _flush(v[i] + (gi * gi - v[i]) * one_minus_b2, tiny)
        m[i] = mi
        v[i] = vi
        m_hat = (u_t_1 * mi) / m_denominator + ((one - u_t) * gi) / g_denominator
        w[i] -= (m_hat * lr) / (np.sqrt(vi / v_scale) + epsilon)


def nadam_update(w, g, m, v, lr, beta_1, beta_2, epsilon, step, u_product):
    """In place, Keras's Nadam at step t (see numpy_kernels.nadam_update for the formulas).
    Rules 5, 7 and 8; the momentum-schedule scalars once per call, then one pass.
    """
    args = (float(lr), float(beta_1), float(beta_2), float(epsilon), float(step), float(u_product))
    _nadam(_flat(w), _flat(g), _flat(m), _flat(v), *args)
    return w


@compiled
def _ftrl(w, g, n, z, lr, lr_power, l1, l2, l2_shrinkage, beta):
    t = w.dtype.type
    lr = t(lr)
    l2_reg = t(l2) + t(beta) / (t(2.0) * lr)
    shrinkage, power, l1 = t(2 * l2_shrinkage), t(-lr_power), t(l1)
    for i in range(w.size):
        gi, wi, ni = g[i], w[i], n[i]
        new_n = ni + gi * gi
        new_power = new_n**power
        zi = z[i] + ((gi + shrinkage * wi) - ((new_power - ni**power) / lr) * wi)
        z[i] = zi
        quadratic = new_power / lr + t(2) * l2_reg
        w[i] = (min(max(zi, -l1), l1) - zi) / quadratic
        n[i] = new_n


def ftrl_update(w, g, accumulator, linear, lr, lr_power, l1, l2, l2_shrinkage, beta):
    """In place, Keras's FTRL-proximal (see numpy_kernels.ftrl_update for the formulas).
    Rules 5 and 7; one pass.
    """
    args = (float(lr), float(lr_power), float(l1), float(l2), float(l2_shrinkage), float(beta))
    _ftrl(_flat(w), _flat(g), _flat(accumulator), _flat(linear), *args)
    return w


@compiled
def _lion(w, g, m, lr, beta_1, beta_2):
    t = w.dtype.type
    b1, b2 = t(np.float32(beta_1)), t(np.float32(beta_2))
    one_minus_b1, one_minus_b2, lr = t(1) - b1, t(1) - b2, t(lr)
    tiny = np.finfo(w.dtype).tiny
    for i in range(w.size):
        gi, mi = g[i], m[i]
        w[i] -= lr * np.sign(mi * b1 + gi * one_minus_b1)
        m[i] = _flush(mi * b2 + gi * one_minus_b2, tiny)


def lion_update(w, g, m, lr, beta_1, beta_2):
    """In place, Keras's Lion:
    w ← w − lr·sign(β₁·m + (1 − β₁)·g);   m ← β₂·m + (1 − β₂)·g     (β₁, β₂ from float32)
    Rules 5, 7 and 8; one pass.
    """
    _lion(_flat(w), _flat(g), _flat(m), float(lr), float(beta_1), float(beta_2))
    return w


@compiled
def _lamb(w, g, m, v, lr, beta_1, beta_2, epsilon, step):
    t = w.dtype.type
    one = t(1)
    m_scale = one - t(np.float32(beta_1)) ** t(step)
    v_scale = one - t(np.float32(beta_2)) ** t(step)
    one_minus_b1, one_minus_b2, epsilon = t(1.0 - beta_1), t(1.0 - beta_2), t(epsilon)
    tiny = np.finfo(w.dtype).tiny
    w_sq = 0.0  # the two norms are summed in float64, then rounded to the weights' dtype
    r_sq = 0.0
    for i in range(w.size):  # pass 1: the moments, and both norms
        gi = g[i]
        mi = _flush(m[i] + (gi - m[i]) * one_minus_b1, tiny)
        vi = _flush(v[i] + (gi * gi - v[i]) * one_minus_b2, tiny)
        m[i] = mi
        v[i] = vi
        ri = (mi / m_scale) / (np.sqrt(vi / v_scale) + epsilon)
        w_sq += w[i] * w[i]
        r_sq += ri * ri
    w_norm, r_norm = t(np.sqrt(w_sq)), t(np.sqrt(r_sq))
    ratio = w_norm / r_norm if w_norm > 0 and r_norm > 0 else one
    step_size = ratio * t(lr)
    for i in range(w.size):  # pass 2: the same r again from the new moments, and the step
        ri = (m[i] / m_scale) / (np.sqrt(v[i] / v_scale) + epsilon)
        w[i] -= step_size * ri


def lamb_update(w, g, m, v, lr, beta_1, beta_2, epsilon, step):
    """In place, Keras's LAMB (see numpy_kernels.lamb_update for the formulas).
    Two passes, because the step needs ‖w‖ and ‖r‖ over the whole weight first; r is computed
    again in the second pass rather than stored (the same operations give the same bits).
    Rules 5, 7 and 8.
    """
    args = (float(lr), float(beta_1), float(beta_2), float(epsilon), float(step))
    _lamb(_flat(w), _flat(g), _flat(m), _flat(v), *args)
    return w


@compiled
def _adafactor_factored(w, g, r, c, v, lr, beta_2_decay, epsilon_1, epsilon_2, clip, step):
    # w, g, v: (B, R, C); r: (B, R); c: (B, C)
    t = w.dtype.type
    batch, rows, cols = w.shape
    one, step_t = t(1), t(step)
    beta = one - step_t ** t(beta_2_decay)
    one_minus_beta, epsilon_1 = one - beta, t(epsilon_1)
    w_sq = 0.0
    for b in range(batch):
        for i in range(rows):
            for j in range(cols):
                w_sq += w[b, i, j] * w[b, i, j]
    rho = min(t(lr), one / np.sqrt(step_t))
    alpha = max(t(np.float32(epsilon_2)), t(np.sqrt(w_sq / w.size))) * rho
    u_sq = 0.0
    for b in range(batch):
        col_sums = np.zeros(cols)
        r_total = 0.0
        for i in range(rows):
            row_sum = 0.0
            for j in range(cols):
                regulated = g[b, i, j] * g[b, i, j] + epsilon_1
                row_sum += regulated
                col_sums[j] += regulated
            ri = beta * r[b, i] + one_minus_beta * t(row_sum / cols)
            r[b, i] = ri
            r_total += ri
        for j in range(cols):
            c[b, j] = beta * c[b, j] + one_minus_beta * t(col_sums[j] / rows)
        r_mean = t(r_total / rows)
        for i in range(rows):
            r_scaled = r[b, i] / r_mean
            for j in range(cols):
                vij = r_scaled * c[b, j]
                v[b, i, j] = vij
                u = g[b, i, j] / np.sqrt(vij)
                u_sq += u * u
    scale = alpha / max(one, t(np.sqrt(u_sq / w.size)) / t(clip))
    for b in range(batch):
        for i in range(rows):
            for j in range(cols):
                w[b, i, j] -= scale * (g[b, i, j] / np.sqrt(v[b, i, j]))


@compiled
def _adafactor_full(w, g, v, lr, beta_2_decay, epsilon_1, epsilon_2, clip, step):
    t = w.dtype.type
    one, step_t = t(1), t(step)
    beta = one - step_t ** t(beta_2_decay)
    one_minus_beta, epsilon_1 = one - beta, t(epsilon_1)
    w_sq = 0.0
    u_sq = 0.0
    for i in range(w.size):
        w_sq += w[i] * w[i]
        vi = beta * v[i] + one_minus_beta * (g[i] * g[i] + epsilon_1)
        v[i] = vi
        u = g[i] / np.sqrt(vi)
        u_sq += u * u
    rho = min(t(lr), one / np.sqrt(step_t))
    alpha = max(t(np.float32(epsilon_2)), t(np.sqrt(w_sq / w.size))) * rho
    scale = alpha / max(one, t(np.sqrt(u_sq / w.size)) / t(clip))
    for i in range(w.size):
        w[i] -= scale * (g[i] / np.sqrt(v[i]))


def adafactor_update(w, g, r, c, v, lr, beta_2_decay, epsilon_1, epsilon_2, clip_threshold, step):
    """In place, Keras's Adafactor (see numpy_kernels.adafactor_update for the formulas).
    The update needs rms(w) and rms(u) over the whole weight, so: one pass for the moments and
    both sums (rows, columns, r's mean per matrix), one for the step; the sums and means are
    taken in float64, then rounded to the weights' dtype. A weight of 3 or more dimensions is a
    stack of matrices over its last two axes. Rules 5 and 7.
    """
    args = (float(lr), float(beta_2_decay), float(epsilon_1), float(epsilon_2))
    args += (float(clip_threshold), float(step))
    if w.ndim < 2:
        _adafactor_full(_flat(w), _flat(g), _flat(v), *args)
        return w
    stack = (-1,) + w.shape[-2:]
    _adafactor_factored(
        w.reshape(stack),
        g.reshape(stack),
        r.reshape((-1, w.shape[-2])),
        c.reshape((-1, w.shape[-1])),
        v.reshape(stack),
        *args,
    )
    return w


# ----------------------------------------------------------------------------- every weight at once
# An optimizer's one call per step (optimizers/flat_update.py): the weights as a tuple of flat
# views (Numba indexes a tuple of like arrays by a loop counter), the gradient and each slot as
# one flat array holding every weight's part in turn. Each loop below hands each weight's part to
# the one-weight loop above, so the arithmetic is the same to the bit; what goes is the Python
# call (~3 µs with its argument checks) per weight and slot group.
def _part(x, start, stop):
    """x[start:stop]; None stays None."""
    return None if x is None else x[start:stop]


@overload(_part)
def _part_compiled(x, start, stop):
    # decided while compiling, as `_flat`: the loop sees an array or None, never an optional
    if isinstance(x, types.NoneType):
        return lambda x, start, stop: None
    return lambda x, start, stop: x[start:stop]


@compiled
def _sgd_all(weights, g, m, lr, momentum, nesterov):
    start = 0
    for i in range(len(weights)):
        w = weights[i]
        stop = start + w.size
        _sgd(w, g[start:stop], _part(m, start, stop), lr, momentum, nesterov)
        start = stop


def sgd_update_all(weights, g, m, lr, momentum, nesterov):
    """sgd_update for every weight in one call (see the section's comment)."""
    _sgd_all(weights, g, m, float(lr), float(momentum), bool(nesterov))


@compiled
def _rmsprop_all(weights, g, v, m, a, lr, rho, momentum, epsilon):
    start = 0
    for i in range(len(weights)):
        w = weights[i]
        stop = start + w.size
        _rmsprop(
            w, g[start:stop], v[start:stop], _part(m, start, stop), _part(a, start, stop),
            lr, rho, momentum, epsilon,
        )  # fmt: skip
        start = stop


def rmsprop_update_all(weights, g, v, m, a, lr, rho, momentum, epsilon, centered):
    """rmsprop_update for every weight in one call."""
    a = a if centered else None
    _rmsprop_all(weights, g, v, m, a, float(lr), float(rho), float(momentum), float(epsilon))


@compiled
def _adam_all(weights, g, m, v, vhat, lr, beta_1, beta_2, epsilon, step):
    start = 0
    for i in range(len(weights)):
        w = weights[i]
        stop = start + w.size
        _adam(
            w, g[start:stop], m[start:stop], v[start:stop], _part(vhat, start, stop),
            lr, beta_1, beta_2, epsilon, step,
        )  # fmt: skip
        start = stop


def adam_update_all(weights, g, m, v, vhat, lr, beta_1, beta_2, epsilon, step):
    """adam_update for every weight in one call."""
    args = (float(lr), float(beta_1), float(beta_2), float(epsilon), float(step))
    _adam_all(weights, g, m, v, vhat, *args)


@compiled
def _adagrad_all(weights, g, accumulator, lr, epsilon):
    start = 0
    for i in range(len(weights)):
        w = weights[i]
        stop = start + w.size
        _adagrad(w, g[start:stop], accumulator[start:stop], lr, epsilon)
        start = stop


def adagrad_update_all(weights, g, accumulator, lr, epsilon):
    """adagrad_update for every weight in one call."""
    _adagrad_all(weights, g, accumulator, float(lr), float(epsilon))


@compiled
def _adadelta_all(weights, g, ag, ad, lr, rho, epsilon):
    start = 0
    for i in range(len(weights)):
        w = weights[i]
        stop = start + w.size
        _adadelta(w, g[start:stop], ag[start:stop], ad[start:stop], lr, rho, epsilon)
        start = stop


def adadelta_update_all(weights, g, accumulated_grad, accumulated_delta, lr, rho, epsilon):
    """adadelta_update for every weight in one call."""
    args = (float(lr), float(rho), float(epsilon))
    _adadelta_all(weights, g, accumulated_grad, accumulated_delta, *args)


@compiled
def _adamax_all(weights, g, m, u, lr, beta_1, beta_2, epsilon, step):
    start = 0
    for i in range(len(weights)):
        w = weights[i]
        stop = start + w.size
        _adamax(w, g[start:stop], m[start:stop], u[start:stop], lr, beta_1, beta_2, epsilon, step)
        start = stop


def adamax_update_all(weights, g, m, u, lr, beta_1, beta_2, epsilon, step):
    """adamax_update for every weight in one call."""
    args = (float(lr), float(beta_1), float(beta_2), float(epsilon), float(step))
    _adamax_all(weights, g, m, u, *args)


@compiled
def _nadam_all(weights, g, m, v, lr, beta_1, beta_2, epsilon, step, u_product):
    start = 0
    for i in range(len(weights)):
        w = weights[i]
        stop = start + w.size
        _nadam(
            w, g[start:stop], m[start:stop], v[start:stop],
            lr, beta_1, beta_2, epsilon, step, u_product,
        )  # fmt: skip
        start = stop


def nadam_update_all(weights, g, m, v, lr, beta_1, beta_2, epsilon, step, u_product):
    """nadam_update for every weight in one call."""
    args = (float(lr), float(beta_1), float(beta_2), float(epsilon), float(step), float(u_product))
    _nadam_all(weights, g, m, v, *args)


@compiled
def _ftrl_all(weights, g, n, z, lr, lr_power, l1, l2, l2_shrinkage, beta):
    start = 0
    for i in range(len(weights)):
        w = weights[i]
        stop = start + w.size
        _ftrl(
            w, g[start:stop], n[start:stop], z[start:stop], lr, lr_power, l1, l2, l2_shrinkage, beta
        )
        start = stop


def ftrl_update_all(weights, g, accumulator, linear, lr, lr_power, l1, l2, l2_shrinkage, beta):
    """ftrl_update for every weight in one call."""
    args = (float(lr), float(lr_power), float(l1), float(l2), float(l2_shrinkage), float(beta))
    _ftrl_all(weights, g, accumulator, linear, *args)


@compiled
def _lion_all(weights, g, m, lr, beta_1, beta_2):
    start = 0
    for i in range(len(weights)):
        w = weights[i]
        stop = start + w.size
        _lion(w, g[start:stop], m[start:stop], lr, beta_1, beta_2)
        start = stop


def lion_update_all(weights, g, m, lr, beta_1, beta_2):
    """lion_update for every weight in one call."""
    _lion_all(weights, g, m, float(lr), float(beta_1), float(beta_2))


@compiled
def _lamb_all(weights, g, m, v, lr, beta_1, beta_2, epsilon, step):
    start = 0
    for i in range(len(weights)):
        w = weights[i]
        stop = start + w.size
        _lamb(w, g[start:stop], m[start:stop], v[start:stop], lr, beta_1, beta_2, epsilon, step)
        start = stop


def lamb_update_all(weights, g, m, v, lr, beta_1, beta_2, epsilon, step):
    """lamb_update for every weight in one call: its norms are still each weight's own."""
    args = (float(lr), float(beta_1), float(beta_2), float(epsilon), float(step))
    _lamb_all(weights, g, m, v, *args)
