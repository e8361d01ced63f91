"""Both kernel sets against float64 NumPy, and the compiled optimizer updates against the reference.

How close is close enough: the rounding-error bound of a dot product (Higham, "Accuracy and
Stability of Numerical Algorithms", §3.1). A sum of k products computed with unit roundoff
u = eps/2 satisfies

    |fl(Σᵢ aᵢ·bᵢ) − Σᵢ aᵢ·bᵢ| ≤ γₖ · Σᵢ |aᵢ·bᵢ|,     γₖ = k·u / (1 − k·u) ≤ k·eps   (k·u ≤ ½)

whatever the order of the additions and whether they use FMAs, so it holds for BLAS's blocked
loops as for ours. Each element of a product is therefore compared with the float64 product of
the *same* (already rounded) inputs within k·eps·(|A|·|B|), eps being the kernel dtype's. For
float64 kernels the float64 reference carries the same bound, hence the factor 2 below. Other
kernels get the same treatment, one rounding per operation (spelled out in each `*_bound`).
"""

import inspect
import json
import os
import pathlib
import shutil
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import kernel_arrays, kernel_sizes, matmul_shapes

from minikeras.kernels import CONTRACT, numba_gemm, numba_kernels, numba_runtime, numpy_kernels

KERNEL_SETS = [numba_kernels, numpy_kernels]
ids = ["numba", "numpy"]
examples = settings(max_examples=30, deadline=None)
ACTIVATIONS = numpy_kernels.FUSED_ACTIVATIONS


def contiguous(*arrays):
    """What the model does at the edge: C order, one dtype (no-op for arrays already so)."""
    return tuple(np.ascontiguousarray(a) for a in arrays)


def eps(dtype):
    return float(np.finfo(dtype).eps)


def f64(a):
    return np.asarray(a, dtype=np.float64)


def assert_within(actual, expected, bound, what):
    """|actual − expected| ≤ bound, elementwise, with the worst offender in the message."""
    error = np.abs(f64(actual) - expected)
    excess = error - bound
    worst = np.unravel_index(np.argmax(excess), excess.shape) if excess.size else ()
    assert excess.size == 0 or excess[worst] <= 0, (
        f"{what}: error {error[worst]:.3g} > bound {np.broadcast_to(bound, error.shape)[worst]:.3g}"
        f" at {worst}"
    )


def product_bound(k, abs_a, abs_b, dtype, transpose=""):
    """2·k·eps·(|A|·|B|): the dot-product bound above, for the kernel and the reference."""
    a = abs_a.T if "a" in transpose else abs_a
    b = abs_b.T if "b" in transpose else abs_b
    return 2 * k * eps(dtype) * (a @ b) + np.finfo(dtype).tiny


# ----------------------------------------------------------------------------- matrix products
@pytest.mark.parametrize("K", KERNEL_SETS, ids=ids)
@examples
@given(data=st.data(), shape=matmul_shapes())
def test_matmul_forms_match_float64(K, data, shape):
    m, k, n = shape
    dtype, arrays = data.draw(kernel_arrays((m, k), (k, n), (k, m), (n, k)))
    x, w, xt, wt = contiguous(*arrays)
    out = np.full((m, n), np.nan, dtype)  # every element must be written

    assert K.matmul(x, w, out) is out
    assert_within(out, f64(x) @ f64(w), product_bound(k, abs(f64(x)), abs(f64(w)), dtype), "a·b")
    K.matmul_tn(xt, w, out)
    bound = product_bound(k, abs(f64(xt)), abs(f64(w)), dtype, "a")
    assert_within(out, f64(xt).T @ f64(w), bound, "aᵀ·b")
    K.matmul_nt(x, wt, out)
    bound = product_bound(k, abs(f64(x)), abs(f64(wt)), dtype, "b")
    assert_within(out, f64(x) @ f64(wt).T, bound, "a·bᵀ")
    assert out.dtype == dtype


@pytest.mark.parametrize("K", KERNEL_SETS, ids=ids)
@examples
@given(data=st.data(), m=kernel_sizes, n=kernel_sizes)
def test_bias_grad_is_the_column_sum(K, data, m, n):
    dtype, (dz,) = data.draw(kernel_arrays((m, n)))
    (dz,) = contiguous(dz)
    out = np.full(n, np.nan, dtype)
    K.bias_grad(dz, out)
    bound = 2 * m * eps(dtype) * abs(f64(dz)).sum(axis=0)
    assert_within(out, f64(dz).sum(axis=0), bound, "Σ dz")


# ----------------------------------------------------------------------------- activations
def activation64(name, z):
    """The activation in float64, written independently of both kernel sets."""
    if name == "linear":
        return z.copy()
    if name == "relu":
        return np.where(z > 0, z, 0.0)
    if name == "sigmoid":
        e = np.exp(-abs(z))
        return np.where(z >= 0, 1 / (1 + e), e / (1 + e))
    if name == "tanh":
        return np.tanh(z)
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def activation_bound(name, z, y64, dtype):
    """Rounding of act(z) for an exactly known z:
    linear, relu: exact.  sigmoid, tanh: a few ulps of the library's exp/tanh and one or two
    roundings, 8·eps·|y| (+ an absolute eps·tiny-ish floor for y near 0).
    softmax: z − max rounds by eps·|z − max|, which exp turns into a relative error; the row
    sum of n terms adds n·eps; exp and the division a few more: (n + 8 + |z − max|)·eps·y.
    """
    e = eps(dtype)
    tiny = np.finfo(dtype).tiny
    if name in ("linear", "relu"):
        return np.zeros_like(y64)
    if name in ("sigmoid", "tanh"):
        return 8 * e * abs(y64) + tiny
    n = z.shape[-1]
    spread = z.max(axis=-1, keepdims=True) - z
    return (n + 8 + spread) * e * y64 + tiny


@pytest.mark.parametrize("K", KERNEL_SETS, ids=ids)
@pytest.mark.parametrize("name", ACTIVATIONS)
@examples
@given(data=st.data(), m=kernel_sizes, n=kernel_sizes)
def test_activation_forward_matches_float64(K, name, data, m, n):
    dtype, (z,) = data.draw(kernel_arrays((m, n)))
    (z,) = contiguous(z)
    out = np.full((m, n), np.nan, dtype)
    assert K.activation_forward(name, z, out) is out
    y64 = activation64(name, f64(z))
    assert_within(out, y64, activation_bound(name, f64(z), y64, dtype), name)
    # in place (out is z) gives the same numbers: the contract promises it for 'linear',
    # numba_kernels for every activation
    if name != "linear" and K is not numba_kernels:
        return
    z_copy = z.copy()
    assert K.activation_forward(name, z_copy, z_copy) is z_copy
    np.testing.assert_array_equal(z_copy, out)


def derivative64(name, z, y, dy):
    """dz = dy ⊙ act'(z) in float64, given z and y = act(z) as the kernel saw them."""
    if name == "linear":
        return dy.copy()
    if name == "relu":
        return np.where(z > 0, dy, 0.0)
    if name == "sigmoid":
        return dy * y * (1 - y)
    if name == "tanh":
        return dy * (1 - y * y)
    s = (dy * y).sum(axis=-1, keepdims=True)
    return y * (dy - s)


def derivative_bound(name, y, dy, dz64, dtype):
    """One rounding per operation of each formula:
    linear, relu: exact.   sigmoid dy·(y·(1 − y)): three roundings, 4·eps·|dz|.
    tanh dy·(1 − y²): y² then 1 − y² then the product, 4·eps·|dy|·(1 + y²).
    softmax y·(dy − s), s = Σ dy·y over n terms: (n + 4)·eps·|y|·(|dy| + Σ|dy·y|).
    """
    e = eps(dtype)
    tiny = np.finfo(dtype).tiny
    if name in ("linear", "relu"):
        return np.zeros_like(dz64)
    if name == "sigmoid":
        return 4 * e * abs(dz64) + tiny
    if name == "tanh":
        return 4 * e * abs(dy) * (1 + y * y) + tiny
    n = dy.shape[-1]
    row = abs(dy * y).sum(axis=-1, keepdims=True)
    return (n + 4) * e * abs(y) * (abs(dy) + row) + tiny


@pytest.mark.parametrize("K", KERNEL_SETS, ids=ids)
@pytest.mark.parametrize("name", ACTIVATIONS)
@examples
@given(data=st.data(), m=kernel_sizes, n=kernel_sizes)
def test_activation_backward_matches_float64(K, name, data, m, n):
    dtype, (z, dy) = data.draw(kernel_arrays((m, n), (m, n)))
    z, dy = contiguous(z, dy)
    y = K.activation_forward(name, z, np.empty_like(z))
    out = np.full((m, n), np.nan, dtype)
    assert K.activation_backward(name, z, y, dy, out) is out
    dz64 = derivative64(name, f64(z), f64(y), f64(dy))
    assert_within(out, dz64, derivative_bound(name, f64(y), f64(dy), dz64, dtype), name)
    # in place (out is dy) gives the same numbers (promised as for the forward pass)
    if name != "linear" and K is not numba_kernels:
        return
    dy_copy = dy.copy()
    K.activation_backward(name, z, y, dy_copy, dy_copy)
    np.testing.assert_array_equal(dy_copy, out)


@pytest.mark.parametrize("K", KERNEL_SETS, ids=ids)
def test_unknown_activation_is_refused(K):
    z = np.zeros((2, 3))
    with pytest.raises(ValueError, match="no fused kernel"):
        K.activation_forward("swish", z, z)
    with pytest.raises(ValueError, match="no fused kernel"):
        K.dense_forward(z, np.zeros((3, 3)), None, "swish", z, z)


# ----------------------------------------------------------------------------- dense layer
@pytest.mark.parametrize("K", KERNEL_SETS, ids=ids)
@examples
@given(
    data=st.data(),
    shape=matmul_shapes(),
    name=st.sampled_from(ACTIVATIONS),
    use_bias=st.booleans(),
)
def test_dense_forward_is_product_bias_activation(K, data, shape, name, use_bias):
    m, k, n = shape
    dtype, (x, w, b) = data.draw(kernel_arrays((m, k), (k, n), (n,)))
    x, w, b = contiguous(x, w, b)
    bias = b if use_bias else None
    z = np.full((m, n), np.nan, dtype)
    y = z if name == "linear" else np.full((m, n), np.nan, dtype)

    assert K.dense_forward(x, w, bias, name, z, y) is y
    # z = x·W + b: the product bound with one more term (the bias) in each sum
    z64 = f64(x) @ f64(w) + (f64(b) if use_bias else 0.0)
    bound = product_bound(k + 1, abs(f64(x)), abs(f64(w)), dtype) + (
        2 * (k + 1) * eps(dtype) * abs(f64(b)) if use_bias else 0.0
    )
    assert_within(z, z64, bound, "z = x·W + b")
    # y = act(z), for the z the kernel computed
    y64 = activation64(name, f64(z))
    assert_within(y, y64, activation_bound(name, f64(z), y64, dtype), f"y = {name}(z)")


@pytest.mark.parametrize("K", KERNEL_SETS, ids=ids)
@examples
@given(
    data=st.data(),
    shape=matmul_shapes(),
    name=st.sampled_from(ACTIVATIONS),
    with_db=st.booleans(),
    with_dx=st.booleans(),
)
def test_dense_backward_matches_float64(K, data, shape, name, with_db, with_dx):
    m, k, n = shape
    dtype, (x, w, z, dy) = data.draw(kernel_arrays((m, k), (k, n), (m, n), (m, n)))
    x, w, z, dy = contiguous(x, w, z, dy)
    y = K.activation_forward(name, z, np.empty_like(z))
    dz = dy if name == "linear" else np.full((m, n), np.nan, dtype)
    dw = np.full((k, n), np.nan, dtype)
    db = np.full(n, np.nan, dtype) if with_db else None
    dx = np.full((m, k), np.nan, dtype) if with_dx else None
    dy_given = dy.copy()

    assert K.dense_backward(x, w, z, y, dy, name, dz, dw, db, dx) is dx
    dz64 = derivative64(name, f64(z), f64(y), f64(dy_given))
    bound = derivative_bound(name, f64(y), f64(dy_given), dz64, dtype)
    assert_within(dz, dz64, bound, "dz = dy ⊙ act'(z)")
    # the products, for the dz the kernel computed
    adz = abs(f64(dz))
    bound = product_bound(m, abs(f64(x)), adz, dtype, "a")
    assert_within(dw, f64(x).T @ f64(dz), bound, "dW = xᵀ·dz")
    if with_db:
        assert_within(db, f64(dz).sum(axis=0), 2 * m * eps(dtype) * adz.sum(axis=0), "db")
    if with_dx:
        bound = product_bound(n, adz, abs(f64(w)), dtype, "b")
        assert_within(dx, f64(dz) @ f64(w).T, bound, "dx = dz·Wᵀ")


# ----------------------------------------------------------------------------- loss
@st.composite
def labels(draw, m, n, dtype):
    """One-hot rows, or smoothed rows (positive, summing to 1), or a mix with zero rows."""
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    kind = draw(st.sampled_from(["one_hot", "smoothed", "with_zero_rows"]))
    if kind == "smoothed":
        raw = rng.random((m, n)) + 0.01
        return (raw / raw.sum(axis=1, keepdims=True)).astype(dtype)
    y = np.eye(n, dtype=dtype)[rng.integers(0, n, m)]
    if kind == "with_zero_rows":
        y[rng.random(m) < 0.3] = 0
    return y


@pytest.mark.parametrize("K", KERNEL_SETS, ids=ids)
@examples
@given(data=st.data(), m=kernel_sizes, n=kernel_sizes)
def test_softmax_crossentropy_matches_float64(K, data, m, n):
    dtype, (z,) = data.draw(kernel_arrays((m, n)))
    (z,) = contiguous(z)
    y = data.draw(labels(m, n, dtype))
    row_scale = np.full(m, 1.0 / m, dtype)
    probs, losses = np.full((m, n), np.nan, dtype), np.full(m, np.nan, dtype)
    dlogits = np.full((m, n), np.nan, dtype)

    assert K.softmax_crossentropy(z, y, row_scale, probs, losses, dlogits) is losses
    z64, y64 = f64(z), f64(y)
    p64 = activation64("softmax", z64)
    top = z64.max(axis=1, keepdims=True)
    lse = top + np.log(np.exp(z64 - top).sum(axis=1, keepdims=True))
    e = eps(dtype)
    assert_within(probs, p64, activation_bound("softmax", z64, p64, dtype), "p = softmax(z)")
    # loss = Σ y·(L − s) with L = log Σ e^s, s = z − max (the shifted form, as TensorFlow): the
    # sum of n exponentials and its log err by ≤ (n + 4)·eps, s by eps·|s|, each term and the
    # n-term sum by a few eps more: (n + 8)·eps·Σ y·(1 + |L| + |s|)
    s64 = z64 - top
    big_l = lse - top
    loss_bound = (n + 8) * e * (abs(y64) * (1 + abs(big_l) + abs(s64))).sum(1, keepdims=True)
    assert_within(losses, (y64 * (lse - z64)).sum(axis=1), loss_bound[:, 0], "loss")
    # dz = (p − y)·scale (TensorFlow's gradient, for any labels), p carrying the softmax bound
    spread = (top - z64).max(axis=1, keepdims=True)
    d_bound = (2 * n + 12 + spread) * e * (p64 + y64) * f64(row_scale)[:, None]
    d64 = (p64 - y64) * f64(row_scale)[:, None]
    assert_within(dlogits, d64, d_bound + np.finfo(dtype).tiny, "dz = (p − y)/N")


@pytest.mark.parametrize("K", KERNEL_SETS, ids=ids)
@examples
@given(data=st.data(), m=kernel_sizes, n=kernel_sizes)
def test_sigmoid_crossentropy_matches_float64(K, data, m, n):
    dtype, (z,) = data.draw(kernel_arrays((m, n)))
    (z,) = contiguous(z)
    y = data.draw(labels(m, n, dtype))
    row_scale = np.full(m, 1.0 / m, dtype)
    losses, dlogits = np.full(m, np.nan, dtype), np.full((m, n), np.nan, dtype)

    assert K.sigmoid_crossentropy(z, y, row_scale, losses, dlogits) is losses
    z64, y64 = f64(z), f64(y)
    e = eps(dtype)
    # each term max(z, 0) − z·y + log1p(e^−|z|) errs by a few eps of its three parts' sizes;
    # the n-term sum adds ≤ n·eps of their total, the mean one more: (n + 6)·eps·mean(parts)
    parts = np.maximum(z64, 0) + abs(z64 * y64) + np.log1p(np.exp(-abs(z64)))
    loss64 = (np.maximum(z64, 0) - z64 * y64 + np.log1p(np.exp(-abs(z64)))).mean(axis=1)
    assert_within(losses, loss64, (n + 6) * e * parts.mean(axis=1), "loss")
    # dz = (σ(z) − y)/C·scale: σ within 4 eps of itself (exp, a sum, a division), then three
    # products of one rounding each
    sigma = 1 / (1 + np.exp(-z64))
    d64 = (sigma - y64) / n * f64(row_scale)[:, None]
    d_bound = 8 * e * (sigma + abs(y64)) / n * f64(row_scale)[:, None]
    assert_within(dlogits, d64, d_bound + np.finfo(dtype).tiny, "dz = (σ(z) − y)/C")


@pytest.mark.parametrize("K", KERNEL_SETS, ids=ids)
def test_confident_right_answer_keeps_its_small_loss(K):
    """Keras's golden case (losses_test.py: logits [8, 1, 1], label 0, loss 0.0018220, what
    TensorFlow computes in float32). Summed in the shifted form, Σ y·(log Σ e^(z−m) − (z−m)),
    float32 gets within a few 1e-9 of it; as logsumexp(z) − z, the difference of two numbers
    near 8, it comes out as 0.0018225."""
    z = np.array([[8.0, 1.0, 1.0]], np.float32)
    y = np.array([[1.0, 0.0, 0.0]], np.float32)
    probs, losses, d = np.empty_like(z), np.empty(1, np.float32), np.empty_like(z)
    K.softmax_crossentropy(z, y, np.ones(1, np.float32), probs, losses, d)
    assert abs(float(losses[0]) - 0.0018220) < 5e-8


# ----------------------------------------------------------------------------- optimizers
weight_shapes = st.one_of(
    st.tuples(kernel_sizes), st.tuples(st.integers(1, 60), st.integers(1, 60))
)
learning_rates = st.sampled_from([1e-3, 0.01, 0.1])
STEPS = 4


def optimizer_state(data, shape, slots):
    """(dtype, w, [g for each step], [zero slots])."""
    dtype, (w, *gs) = data.draw(kernel_arrays(shape, *[shape] * STEPS, scale=1.0))
    w, *gs = contiguous(w, *gs)
    return dtype, w, gs, [np.zeros_like(w) for _ in range(slots)]


def run_both(update, w, gs, slots, optional, args):
    """Apply `STEPS` updates with each kernel set from the same start; return (numba, numpy)
    final weights and slots. `optional[i]` False passes None for slot i (feature off)."""
    results = []
    for K in KERNEL_SETS:
        w_k = w.copy()
        s_k = [s.copy() if on else None for s, on in zip(slots, optional)]
        for step, g in enumerate(gs, start=1):
            getattr(K, update)(w_k, g, *s_k, *args(step))
        results.append((w_k, s_k))
    return results


def assert_same_updates(results, dtype, lr, what):
    """numba vs numpy after STEPS updates. Both apply the same formula in the same dtype, so
    each step may differ by at most a few roundings (library sqrt/pow): per step 4·eps of the
    weight plus 8·eps of an update, whose size is at most ~10·lr here."""
    (w_a, s_a), (w_b, s_b) = results
    e = eps(dtype)
    bound = STEPS * (4 * e * abs(f64(w_b)) + 8 * e * 10 * lr)
    assert_within(w_a, f64(w_b), bound, f"{what}: weights")
    for i, (a, b) in enumerate(zip(s_a, s_b)):
        if b is not None:
            assert_within(a, f64(b), STEPS * 4 * e * (abs(f64(b)) + 1), f"{what}: slot {i}")


@examples
@given(
    data=st.data(),
    shape=weight_shapes,
    lr=learning_rates,
    momentum=st.sampled_from([0.0, 0.5, 0.9]),
    nesterov=st.booleans(),
)
def test_sgd_numba_matches_reference(data, shape, lr, momentum, nesterov):
    dtype, w, gs, slots = optimizer_state(data, shape, 1)
    results = run_both(
        "sgd_update", w, gs, slots, [momentum > 0], lambda step: (lr, momentum, nesterov)
    )
    assert_same_updates(results, dtype, lr, "SGD")
    assert not np.array_equal(results[0][0], w)  # the weights did move


@examples
@given(
    data=st.data(),
    shape=weight_shapes,
    lr=learning_rates,
    rho=st.sampled_from([0.9, 0.5]),
    momentum=st.sampled_from([0.0, 0.9]),
    epsilon=st.sampled_from([1e-7, 1e-3]),
    centered=st.booleans(),
)
def test_rmsprop_numba_matches_reference(data, shape, lr, rho, momentum, epsilon, centered):
    dtype, w, gs, slots = optimizer_state(data, shape, 3)  # v, m, a
    results = run_both(
        "rmsprop_update",
        w,
        gs,
        slots,
        [True, momentum > 0, centered],
        lambda step: (lr, rho, momentum, epsilon, centered),
    )
    assert_same_updates(results, dtype, lr, "RMSprop")
    assert not np.array_equal(results[0][0], w)


@examples
@given(
    data=st.data(),
    shape=weight_shapes,
    lr=learning_rates,
    betas=st.sampled_from([(0.9, 0.999), (0.5, 0.9)]),
    epsilon=st.sampled_from([1e-7, 1e-3]),
    amsgrad=st.booleans(),
)
def test_adam_numba_matches_reference(data, shape, lr, betas, epsilon, amsgrad):
    dtype, w, gs, slots = optimizer_state(data, shape, 3)  # m, v, vhat
    results = run_both(
        "adam_update",
        w,
        gs,
        slots,
        [True, True, amsgrad],
        lambda step: (lr, *betas, epsilon, step),
    )
    assert_same_updates(results, dtype, lr, "Adam")
    assert not np.array_equal(results[0][0], w)


@pytest.mark.parametrize("K", KERNEL_SETS, ids=ids)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_one_rmsprop_step_matches_float64(K, dtype):
    """A float32 step against the same step in float64 from the same float32 start: each
    operation rounds once, so w differs by ≤ eps·|w| + 16·eps·|Δw|."""
    rng = np.random.default_rng(0)
    w, g = rng.standard_normal((2, 37, 11)).astype(dtype)
    v = np.abs(rng.standard_normal((37, 11))).astype(dtype)
    w64, v64 = f64(w).copy(), f64(v).copy()
    numpy_kernels.rmsprop_update(w64, f64(g), v64, None, None, 0.01, 0.9, 0.0, 1e-7, False)
    K.rmsprop_update(w, g, v, None, None, 0.01, 0.9, 0.0, 1e-7, False)
    e = eps(dtype)
    assert_within(w, w64, 2 * e * abs(w64) + 16 * e * 0.01 * 4, "w")
    assert_within(v, v64, 4 * e * v64, "v")


# ----------------------------------------------------------------------------- the contract
@pytest.mark.parametrize("name", CONTRACT)
def test_both_sets_implement_the_contract(name):
    a, b = getattr(numba_kernels, name), getattr(numpy_kernels, name)
    if callable(b):
        unwrap = lambda f: getattr(f, "py_func", f)  # noqa: E731  (a Numba dispatcher's function)
        assert inspect.signature(unwrap(a)) == inspect.signature(unwrap(b))
    else:
        assert a == b


@pytest.mark.parametrize("disable_jit", ["0", "1"])
def test_compiled_kernels_options(tmp_path, disable_jit):
    """Rules 4 and 7 of numba_kernels: no fastmath (it would reorder float32 sums away from
    Keras's), NumPy's error model (x/0 → inf, vectorisable), cached on disk. Under
    NUMBA_DISABLE_JIT=1 the same names are the plain Python functions, nothing compiled. Each
    setting in a fresh process, since Numba reads it once, at import."""
    code = """
        import json, types
        from minikeras.kernels import numba_kernels as K
        print(json.dumps({
            name: [f.targetoptions.get("fastmath"), f.targetoptions.get("error_model"),
                   type(f._cache).__name__] if hasattr(f, "targetoptions") else type(f).__name__
            for name, f in vars(K).items()
            if hasattr(f, "targetoptions") or (isinstance(f, types.FunctionType)
                                               and f.__module__ == K.__name__)
        }))
    """
    found = json.loads(run_python(code, clean_env(NUMBA_DISABLE_JIT=disable_jit), tmp_path))
    compiled = {name: options for name, options in found.items() if options != "function"}
    if disable_jit == "1":
        assert compiled == {}
        assert {"bias_grad", "rmsprop_update", "adam_update"} <= set(found)
    else:
        assert len(compiled) >= 10
        for name, (fastmath, error_model, cache) in compiled.items():
            assert not fastmath, name
            assert error_model == "numpy", name
            assert cache == "FunctionCache", name  # cache=True


# ----------------------------------------------------------------------------- JIT cache, no-JIT
def test_cache_dir_choice(tmp_path):
    choose = numba_runtime.choose_cache_dir
    writable = tmp_path / "pkg"
    writable.mkdir()
    not_a_dir = tmp_path / "file"
    not_a_dir.write_text("")  # `file/__pycache__` cannot be created: a read-only install
    user = tmp_path / "xdg"
    assert choose({}, str(writable)) is None  # beside the source, Numba's default
    assert choose({"NUMBA_CACHE_DIR": "/somewhere"}, str(not_a_dir)) is None  # the user's choice
    chosen = choose({"XDG_CACHE_HOME": str(user)}, str(not_a_dir))
    assert chosen == str(user / "minikeras" / "numba") and os.path.isdir(chosen)


def run_python(code, env, cwd):
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def clean_env(**extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith("NUMBA_")}
    env.update(extra)
    return env


def test_read_only_install_caches_in_the_user_dir(tmp_path):
    """The kernel module copied where `__pycache__` cannot be made: the compiled code goes to
    $XDG_CACHE_HOME/minikeras/numba, and a second process finds it there."""
    site = tmp_path / "site"
    package = pathlib.Path(numba_kernels.__file__).parent.parent  # the minikeras package
    shutil.copytree(package, site / "minikeras", ignore=shutil.ignore_patterns("__pycache__"))
    (site / "minikeras" / "kernels" / "__pycache__").write_text("a file, where the cache would go")
    cache = tmp_path / "xdg"
    env = clean_env(XDG_CACHE_HOME=str(cache), PYTHONPATH=str(site))
    code = """
        import numpy as np, numba
        from minikeras.kernels import numba_kernels as K
        out = np.empty(3)
        K.bias_grad(np.arange(6.0).reshape(2, 3), out)
        print(numba.config.CACHE_DIR, out.sum(), sum(K.bias_grad.stats.cache_hits.values()))
    """
    first = run_python(code, env, tmp_path).split()
    assert first[0] == str(cache / "minikeras" / "numba")
    assert float(first[1]) == 15.0  # the column sums of [[0, 1, 2], [3, 4, 5]], summed
    assert first[2] == "0" and any(cache.rglob("*.nbi")), "no cache written"
    second = run_python(code, env, tmp_path).split()
    assert second[2] == "1", "the second process recompiled instead of loading the cache"


def test_kernels_run_without_jit(tmp_path):
    """NUMBA_DISABLE_JIT=1 runs the same functions as plain Python: same numbers as the
    reference on a small problem (slowly, for debugging and coverage)."""
    code = """
        import numpy as np
        from minikeras.kernels import numba_kernels as K, numpy_kernels as R
        import numba
        assert numba.config.DISABLE_JIT
        rng = np.random.default_rng(1)
        x, w, b = rng.standard_normal((4, 3)), rng.standard_normal((3, 5)), rng.standard_normal(5)
        y_true = np.eye(5)[[0, 2, 4, 1]]
        worst = 0.0
        for name in K.FUSED_ACTIVATIONS:
            got = []
            for M in (K, R):
                z, y = np.empty((4, 5)), np.empty((4, 5))
                M.dense_forward(x, w, b, name, z, y)
                dz, dw, db, dx = np.empty((4, 5)), np.empty((3, 5)), np.empty(5), np.empty((4, 3))
                M.dense_backward(x, w, z, y, y_true, name, dz, dw, db, dx)
                p, loss, d = np.empty((4, 5)), np.empty(4), np.empty((4, 5))
                M.softmax_crossentropy(z, y_true, np.full(4, 0.25), p, loss, d)
                wa, wb, wc = w.copy(), w.copy(), w.copy()
                M.adam_update(wa, dw, np.zeros_like(w), np.zeros_like(w), None, 0.1, 0.9, 0.99,
                              1e-7, 1)
                M.rmsprop_update(wb, dw, np.zeros_like(w), None, None, 0.1, 0.9, 0.0, 1e-7, False)
                M.sgd_update(wc, dw, np.zeros_like(w), 0.1, 0.9, True)
                got.append([z, y, dz, dw, db, dx, p, loss, d, wa, wb, wc])
            worst = max(worst, max(float(np.abs(a - c).max()) for a, c in zip(*got)))
        print(worst)
    """
    worst = float(run_python(code, clean_env(NUMBA_DISABLE_JIT="1"), tmp_path))
    assert worst < 1e-12


def test_blas_threads_follow_the_product_size(monkeypatch):
    """Rule 3: one BLAS thread for a small product, Numba's thread count for a large one, and
    BLAS's own setting back afterwards. The rule is on when the user set no thread count: the
    environment is cleared of both variables and NumPy's BLAS looked for again, as at import."""
    import threadpoolctl  # comes with scikit-learn, in the test extra: missing is a failure

    monkeypatch.delenv("OPENBLAS_NUM_THREADS", raising=False)
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    found = numba_runtime._find_blas_threads()
    assert found is not None, "NumPy's wheel bundles OpenBLAS (numpy.libs/*openblas*)"
    monkeypatch.setattr(numba_runtime, "_blas_threads", found)
    seen = []
    real_matmul = np.matmul

    def spy(a, b, out):
        infos = threadpoolctl.threadpool_info()
        seen.append([i["num_threads"] for i in infos if "numpy" in i["filepath"]][0])
        return real_matmul(a, b, out=out)

    monkeypatch.setattr(numba_runtime.np, "matmul", spy)
    monkeypatch.setattr(numba_gemm, "MATMUL", "blas")  # this rule is BLAS's, whatever the setting
    get_threads, set_threads = found
    f = np.float32
    small = [np.ones((32, 64), f), np.ones((64, 10), f), np.empty((32, 10), f)]
    large = [np.ones((128, 784), f), np.ones((784, 512), f), np.empty((128, 512), f)]
    before = get_threads()
    try:
        set_threads(2)
        numba_kernels.matmul(*small)
        numba_kernels.matmul(*large)
        assert seen == [1, numba_runtime.numba_threads()]
        assert get_threads() == 2  # put back
    finally:
        set_threads(before)
    assert (small[2] == 64).all() and (large[2] == 784).all()


@pytest.mark.parametrize("variable", ["OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS"])
def test_blas_threads_set_by_the_user_stand(tmp_path, variable):
    """Rule 3's last word: with OPENBLAS_NUM_THREADS or OMP_NUM_THREADS set, minikeras never
    changes BLAS's threads, for a small product as for a large one (in a fresh process, since
    OpenBLAS and numba_runtime read the variable once, at import)."""
    code = """
        import numpy as np, threadpoolctl
        from minikeras.kernels import numba_gemm, numba_kernels, numba_runtime
        numba_gemm.MATMUL = "blas"
        seen, real_matmul = [], np.matmul

        def spy(a, b, out):
            infos = threadpoolctl.threadpool_info()
            seen.append([i["num_threads"] for i in infos if "numpy" in i["filepath"]][0])
            return real_matmul(a, b, out=out)

        np.matmul = spy
        f = np.float32
        numba_kernels.matmul(np.ones((32, 64), f), np.ones((64, 10), f), np.empty((32, 10), f))
        numba_kernels.matmul(np.ones((128, 784), f), np.ones((784, 512), f),
                             np.empty((128, 512), f))
        with numba_runtime.one_blas_thread():
            numba_kernels.matmul(np.ones((32, 64), f), np.ones((64, 10), f),
                                 np.empty((32, 10), f))
        print(numba_runtime._blas_threads, numba_runtime.use_blas_threads(1 << 30), *seen)
    """
    env = clean_env()
    env.pop("OPENBLAS_NUM_THREADS", None)
    env.pop("OMP_NUM_THREADS", None)
    env[variable] = "2"  # only this one set
    # the small product (rule: 1 thread), the large one, one inside one_blas_thread: all at 2
    assert run_python(code, env, tmp_path).split() == ["None", "None", "2", "2", "2"]


@pytest.mark.parametrize("batch", [32, 256])
def test_numba_kernels_allocate_nothing_batch_sized(batch):
    """A training step through the compiled kernels writes into the preallocated outputs: the
    memory allocated during a step stays below a small constant, whatever the batch size."""
    import tracemalloc

    rng = np.random.default_rng(0)
    f = np.float32
    x, w1, w2 = (rng.standard_normal(s).astype(f) for s in ((batch, 300), (300, 64), (64, 10)))
    b1, b2 = np.zeros(64, f), np.zeros(10, f)
    y_true = np.eye(10, dtype=f)[rng.integers(0, 10, batch)]
    z1, y1, dz1, dx2 = (np.empty((batch, 64), f) for _ in range(4))
    z2, p, d2 = (np.empty((batch, 10), f) for _ in range(3))
    losses, scale = np.empty(batch, f), np.full(batch, 1 / batch, f)
    grads = [np.empty_like(a) for a in (w1, b1, w2, b2)]
    slots = [np.zeros_like(a) for a in (w1, b1, w2, b2)]
    K = numba_kernels

    def step():
        K.dense_forward(x, w1, b1, "relu", z1, y1)
        K.dense_forward(y1, w2, b2, "linear", z2, z2)
        K.softmax_crossentropy(z2, y_true, scale, p, losses, d2)
        K.dense_backward(y1, w2, z2, z2, d2, "linear", d2, grads[2], grads[3], dx2)
        K.dense_backward(x, w1, z1, y1, dx2, "relu", dz1, grads[0], grads[1], None)
        for w, g, v in zip((w1, b1, w2, b2), grads, slots):
            K.rmsprop_update(w, g, v, None, None, 0.001, 0.9, 0.0, 1e-7, False)

    step()  # compile (or load from the cache)
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        for _ in range(5):
            step()
        current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak - before < 4096, f"a step allocated {peak - before} bytes"
    assert current - before < 4096
    assert np.isfinite(w1).all() and not np.array_equal(grads[0], 0)


# ----------------------------------------------------------------------------- whole training runs
@pytest.mark.parametrize("optimizer", ["rmsprop", "adam", "sgd"])
def test_both_kernel_sets_train_the_same_history(optimizer):
    """The tutorial's model trained three epochs (float32) with each kernel set from the same
    weights: the per-epoch loss and accuracy agree to float32 rounding (a few ulps a step,
    compounded over 3 × 8 steps: 1e-5 relative on the loss), and so do the final weights."""
    import minikeras
    from minikeras import kernels

    rng = np.random.default_rng(0)
    x = rng.random((250, 784), dtype=np.float32)
    y = np.eye(10, dtype=np.float32)[rng.integers(0, 10, 250)]
    runs = []
    for name in ("numba", "numpy"):
        kernels.use(name)
        minikeras.utils.set_random_seed(3)
        model = minikeras.Sequential(
            [
                minikeras.Input((784,)),
                minikeras.layers.Dense(64, activation="relu"),
                minikeras.layers.Dense(10, activation="softmax"),
            ]
        )
        model.compile(optimizer=optimizer, loss="categorical_crossentropy", metrics=["accuracy"])
        history = model.fit(x, y, batch_size=32, epochs=3, verbose=0, shuffle=False)
        runs.append((history.history, model.get_weights()))
    (h_numba, w_numba), (h_numpy, w_numpy) = runs
    np.testing.assert_allclose(h_numba["loss"], h_numpy["loss"], rtol=1e-5)
    np.testing.assert_allclose(h_numba["accuracy"], h_numpy["accuracy"], atol=1 / 250)
    for a, b in zip(w_numba, w_numpy):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
    assert h_numba["loss"][-1] < h_numba["loss"][0]  # it did train


def test_numba_optimizer_slots_flush_subnormals_to_zero():
    """Rule 8: a slot that decays (g = 0) reaches exactly 0, never a slow subnormal value."""
    tiny = np.finfo(np.float32).tiny
    w = np.ones(4, np.float32)
    g = np.zeros(4, np.float32)
    v = np.full(4, tiny * 4, np.float32)  # ρ·v drops below the smallest normal in one step
    m = np.full(4, tiny * 4, np.float32)
    numba_kernels.rmsprop_update(w, g, v, m, None, 0.001, 0.1, 0.1, 1e-7, False)
    assert np.all(v == 0) and np.all(m == 0)
    m, v = np.full(4, tiny * 4, np.float32), np.full(4, tiny * 4, np.float32)
    numba_kernels.adam_update(w, g, m, v, None, 0.001, 0.1, 0.1, 1e-7, 1)
    assert np.all(v == 0) and np.all(m == 0)
    m = np.full(4, -tiny * 4, np.float32)
    numba_kernels.sgd_update(w, g, m, 0.01, 0.1, False)
    assert np.all(m == 0)
