"""numba_gemm.py's product against float64 NumPy, called directly (whatever MINIKERAS_MATMUL says).

Tolerances. Each element is a sum of k products; computed in any order, with or without FMAs,
its rounding error is at most γₖ·Σₚ|aᵢₚ·bₚⱼ| with γₖ ≤ k·eps (Higham, §3.1): the tile splits
the sum into lanes and blocks, BLAS splits it otherwise, both obey it. So each element is
compared with the float64 product of the same rounded inputs within k·eps·(|A|·|B|), and the
fused bias adds one rounding of |z|: (k + 1)·eps·(|A|·|B| + |b|). A float64 kernel is compared
with a float64 reference that carries the same bound: factor 2. The activation is applied to
the z the kernel wrote, so y is compared with act(z) computed by NumPy within 4 eps·|y| (exp
and tanh are each correctly rounded to within an ulp or two, in NumPy as in Numba's libm).
A negative control shows the bound is tight enough to catch a wrong sum.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import kernel_arrays, matmul_shapes

from minikeras.kernels import numba_gemm, numba_kernels, numpy_kernels

examples = settings(max_examples=25, deadline=None)


def f64(a):
    return np.asarray(a, dtype=np.float64)


def bound(k, a, b, dtype, bias=None):
    """factor·(k + 1)·eps·(|A|·|B| + |bias|), the factor 2 for float64 (see the docstring)."""
    factor = 2 if dtype == np.float64 else 1
    size = abs(f64(a)) @ abs(f64(b)) + (0 if bias is None else abs(f64(bias)))
    return factor * (k + 1) * np.finfo(dtype).eps * size + np.finfo(dtype).tiny


def assert_within(actual, expected, limit, what):
    error = np.abs(f64(actual) - expected)
    assert np.isfinite(error).all(), f"{what}: an element was not written"
    worst = np.unravel_index(np.argmax(error - limit), error.shape) if error.size else ()
    assert error.size == 0 or error[worst] <= limit[worst], (
        f"{what}: error {error[worst]:.3g} > bound {limit[worst]:.3g} at {worst}"
    )


@examples
@given(data=st.data(), shape=matmul_shapes())
def test_the_three_forms_match_float64(data, shape):
    """x·W, xᵀ·dz and dz·Wᵀ, from C-ordered, Fortran-ordered and strided inputs of both
    dtypes, on shapes from 1×1×1 to 300 (primes, powers of two and their neighbours)."""
    m, k, n = shape
    dtype, (a, b, at, bt) = data.draw(kernel_arrays((m, k), (k, n), (k, m), (n, k)))
    out = np.full((m, n), np.nan, dtype)  # every element must be written

    assert numba_gemm.gemm(a, b, out) is out
    assert_within(out, f64(a) @ f64(b), bound(k, a, b, dtype), "a·b")
    out[...] = np.nan
    assert numba_gemm.gemm_tn(at, b, out) is out
    assert_within(out, f64(at).T @ f64(b), bound(k, at.T, b, dtype), "aᵀ·b")
    out[...] = np.nan
    assert numba_gemm.gemm_nt(a, bt, out) is out
    assert_within(out, f64(a) @ f64(bt).T, bound(k, a, bt.T, dtype), "a·bᵀ")


@pytest.mark.parametrize("activation", numba_gemm.EPILOGUES)
@examples
@given(data=st.data(), shape=matmul_shapes(), use_bias=st.booleans())
def test_the_fused_epilogue(activation, data, shape, use_bias):
    """z = a·b + bias written with y = act(z), in the tile's store."""
    m, k, n = shape
    dtype, (a, b, bias) = data.draw(kernel_arrays((m, k), (k, n), (n,), scale=1.0))
    bias = bias if use_bias else None
    z, y = np.full((m, n), np.nan, dtype), np.full((m, n), np.nan, dtype)

    assert numba_gemm.gemm(a, b, z, bias, activation, y) is y
    expected = f64(a) @ f64(b) + (0 if bias is None else f64(bias))
    assert_within(z, expected, bound(k, a, b, dtype, bias), "z = a·b + bias")
    reference = numpy_kernels.activation_forward(activation, z, np.empty_like(z))
    assert_within(y, f64(reference), 4 * np.finfo(dtype).eps * abs(f64(reference)), activation)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_k_blocks_and_edge_tiles(dtype):
    """k beyond one cache block (KC) and n beyond one column block (NC), with m and n not
    multiples of the 6-row tile and its 16 (or 8) columns: every block boundary and partial
    tile at once."""
    rng = np.random.default_rng(0)
    m, k, n = 7, numba_gemm.KC + 5, numba_gemm.NC + 2
    a, b = rng.standard_normal((m, k)).astype(dtype), rng.standard_normal((k, n)).astype(dtype)
    bias = rng.standard_normal(n).astype(dtype)
    z, y = np.empty((m, n), dtype), np.empty((m, n), dtype)
    numba_gemm.gemm(a, b, z, bias, "relu", y)
    assert_within(z, f64(a) @ f64(b) + f64(bias), bound(k, a, b, dtype, bias), "z")
    np.testing.assert_array_equal(y, np.maximum(z, 0))


def test_empty_sums_and_nan_pass_through():
    """k = 0 gives zeros (plus the bias), as np.matmul; a NaN input gives NaN, as BLAS (no
    fastmath flag that assumes finite numbers)."""
    z = np.full((2, 3), np.nan, np.float32)
    numba_gemm.gemm(np.ones((2, 0), np.float32), np.ones((0, 3), np.float32), z)
    np.testing.assert_array_equal(z, np.zeros((2, 3)))
    a = np.ones((4, 20), np.float32)
    a[1, 7] = np.nan
    out = np.empty((4, 5), np.float32)
    numba_gemm.gemm(a, np.ones((20, 5), np.float32), out)
    assert np.isnan(out[1]).all() and (out[[0, 2, 3]] == 20).all()


def test_negative_control_the_bound_catches_a_wrong_sum():
    """A product missing its last term fails the bound: the tolerance is not vacuous."""
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal((5, 64)).astype(np.float32), rng.standard_normal((64, 6))
    b = b.astype(np.float32)
    out = np.empty((5, 6), np.float32)
    numba_gemm.gemm(a[:, :-1], b[:-1], out)
    with pytest.raises(AssertionError, match="error"):
        assert_within(out, f64(a) @ f64(b), bound(64, a, b, np.float32), "a·b")


@pytest.mark.parametrize("choice", ["numba", "blas"])
def test_matmul_setting_chooses_the_product(monkeypatch, choice):
    """MINIKERAS_MATMUL=numba|blas (read at import into numba_gemm.MATMUL) sends every product
    and fused dense forward of the compiled kernel set to one of the two."""
    calls = []
    monkeypatch.setattr(numba_gemm, "MATMUL", choice)
    # every form (x·W fused or not, dz·Wᵀ) is one call of _product
    monkeypatch.setattr(numba_gemm, "_product", lambda *args: calls.append("numba"))
    monkeypatch.setattr(numba_kernels, "gemm", lambda *args: calls.append("blas"))
    x, w = np.ones((4, 3), np.float32), np.ones((3, 2), np.float32)
    z, y, dx = (np.empty(shape, np.float32) for shape in [(4, 2), (4, 2), (4, 3)])
    numba_kernels.matmul(x, w, z)
    numba_kernels.matmul_nt(z, w, dx)
    numba_kernels.dense_forward(x, w, None, "linear", z, z)
    assert calls == [choice] * 3


def test_other_dtypes_stay_with_blas(monkeypatch):
    """float16 or mixed dtypes are not this kernel's: BLAS (NumPy) takes them, even when forced."""
    monkeypatch.setattr(numba_gemm, "MATMUL", "numba")
    a16 = np.ones((2, 2), np.float16)
    assert not numba_gemm.use_numba(a16, a16, a16, 2, 2, 2)
    a32, a64 = np.ones((2, 2), np.float32), np.ones((2, 2), np.float64)
    assert not numba_gemm.use_numba(a32, a64, a64, 2, 2, 2)
    assert numba_gemm.use_numba(a32, a32, a32, 2, 2, 2)


def test_a_bad_setting_is_refused(tmp_path):
    """An unknown MINIKERAS_MATMUL stops the import with the three allowed values named."""
    import os
    import subprocess
    import sys

    env = dict(os.environ, MINIKERAS_MATMUL="fast")
    run = subprocess.run(
        [sys.executable, "-c", "import minikeras.kernels.numba_gemm"],
        env=env,
        capture_output=True,
        text=True,
    )
    assert run.returncode != 0
    assert "MINIKERAS_MATMUL='fast'; expected one of ('auto', 'numba', 'blas')" in run.stderr


def test_runs_without_the_jit():
    """With NUMBA_DISABLE_JIT=1 the vector registers of numba_lanes.py are small NumPy arrays:
    the same product, as plain Python, within the same bound (float64, every edge tile)."""
    import os
    import subprocess
    import sys

    code = (
        "import numpy as np\n"
        "from minikeras.kernels import numba_gemm\n"
        "rng = np.random.default_rng(0)\n"
        "a, b = rng.standard_normal((7, 13)), rng.standard_normal((13, 18))\n"
        "bias, z, y = rng.standard_normal(18), np.empty((7, 18)), np.empty((7, 18))\n"
        "numba_gemm.gemm(a, b, z, bias, 'tanh', y)\n"
        "bound = 2 * 14 * np.finfo(float).eps * (abs(a) @ abs(b) + abs(bias))\n"
        "assert (abs(z - (a @ b + bias)) <= bound).all()\n"
        "assert (abs(y - np.tanh(z)) <= 4 * np.finfo(float).eps).all()\n"
        "print('ok')\n"
    )
    env = dict(os.environ, NUMBA_DISABLE_JIT="1")
    run = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert run.stdout.strip() == "ok", run.stderr


# ----------------------------------------------------------------------------- threads (rule 6)
@settings(max_examples=10, deadline=None)
@given(data=st.data(), shape=matmul_shapes(), threads=st.sampled_from([2, 3]))
def test_parts_on_threads_give_the_same_bits(data, shape, threads):
    """The product in parts on 2 or 3 threads (rows or columns of out, uneven, some parts empty
    on the smallest shapes) equals the one-thread product bit for bit, in every form and with
    the fused epilogue: a part changes no element's order of summation."""
    m, k, n = shape
    dtype, (a, b, at, bt, bias) = data.draw(kernel_arrays((m, k), (k, n), (k, m), (n, k), (n,)))
    forms = [
        lambda out, t: numba_gemm.gemm(a, b, out, threads=t),
        lambda out, t: numba_gemm.gemm(a, b, np.empty_like(out), bias, "sigmoid", out, threads=t),
        lambda out, t: numba_gemm.gemm_tn(at, b, out, threads=t),
        lambda out, t: numba_gemm.gemm_nt(a, bt, out, threads=t),
    ]
    for form in forms:
        one, parts = np.full((m, n), np.nan, dtype), np.full((m, n), np.nan, dtype)
        form(one, 1)
        form(parts, threads)
        np.testing.assert_array_equal(parts, one)


@pytest.mark.parametrize("m, n", [(128, 512), (784, 20), (5, 3), (1000, 64)])
@pytest.mark.parametrize("threads", [2, 3])
def test_parts_cover_out_once(m, n, threads):
    """Each element of out lies in exactly one part; columns are cut at whole tiles of 16."""
    covered = np.zeros((m, n), int)
    for i_lo, i_hi, j_lo, j_hi in numba_gemm.parts_of(m, n, 16, threads):
        covered[i_lo:i_hi, j_lo:j_hi] += 1
        assert j_lo % 16 == 0
    np.testing.assert_array_equal(covered, 1)


def test_thread_policy_is_blas_rule_3(monkeypatch):
    """One thread below numba_runtime.SMALL_PRODUCT multiply-adds, Numba's thread count from
    there on: the threads numba_runtime.gemm gives OpenBLAS for the same product."""
    monkeypatch.setattr(numba_gemm, "numba_threads", lambda: 2)
    small = numba_gemm.SMALL_PRODUCT
    assert numba_gemm.product_threads(1, small - 1, 1) == 1
    assert numba_gemm.product_threads(1, small, 1) == 2
    # a product at the threshold is cut into two parts: columns for (128, ·, 512)
    monkeypatch.setattr(numba_gemm, "SMALL_PRODUCT", 128 * 4 * 512)
    calls = []
    monkeypatch.setattr(numba_gemm, "_product", lambda *args: calls.append(args[-1]))
    a, b = np.ones((128, 4), np.float32), np.ones((4, 512), np.float32)
    numba_gemm.gemm(a, b, np.empty((128, 512), np.float32))
    assert sorted(calls) == [(0, 128, 0, 256), (0, 128, 256, 512)]


def test_an_error_in_a_worker_reaches_the_caller(monkeypatch):
    """A part that fails on a worker thread raises in the calling thread, after every part is
    done, and the workers are free again for the next product."""
    real = numba_gemm._product

    def failing(*args):
        if args[-1][2] > 0:  # the part of columns 32.. runs on the worker
            raise FloatingPointError("part failed")
        return real(*args)

    a, b = np.ones((4, 3), np.float32), np.ones((3, 64), np.float32)
    out = np.zeros((4, 64), np.float32)
    monkeypatch.setattr(numba_gemm, "_product", failing)
    with pytest.raises(FloatingPointError, match="part failed"):
        numba_gemm.gemm(a, b, out, threads=2)
    monkeypatch.setattr(numba_gemm, "_product", real)
    numba_gemm.gemm(a, b, out, threads=2)
    np.testing.assert_array_equal(out, np.full((4, 64), 3, np.float32))


def test_products_from_several_threads_at_once():
    """Callers on four threads at once, each asking for two parts: one caller's parts run on
    the workers, the others run on their own thread with their own buffers; all equal the
    one-thread product bit for bit."""
    import concurrent.futures

    rng = np.random.default_rng(2)
    cases = [(rng.standard_normal((37, 300)), rng.standard_normal((300, 70))) for _ in range(4)]
    expected = [numba_gemm.gemm(a, b, np.empty((37, 70)), threads=1) for a, b in cases]

    def run(case):
        a, b = case
        return [numba_gemm.gemm(a, b, np.empty((37, 70)), threads=2) for _ in range(20)]

    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        results = list(pool.map(run, cases))
    for outs, want in zip(results, expected):
        for out in outs:
            np.testing.assert_array_equal(out, want)


def test_convolution_parts_use_numba_gemm_on_their_own_thread(monkeypatch):
    """Under MINIKERAS_MATMUL=numba a convolution's batch is cut into parts as under BLAS (the
    packing buffers are one set per thread): each part's product runs on its own thread only,
    and two parts give the one-part output bit for bit (a row of out does not depend on which
    rows share its call)."""
    from minikeras import kernels
    from minikeras.layers import Conv2D

    kernels.use("numba")  # the parts are the Numba set's (conftest restores the set after)
    monkeypatch.setattr(numba_gemm, "MATMUL", "numba")
    calls, real = [], numba_gemm.gemm

    def spy(*args, **kwargs):
        calls.append(kwargs.get("threads"))
        return real(*args, **kwargs)

    monkeypatch.setattr(numba_gemm, "gemm", spy)
    x = np.random.default_rng(3).standard_normal((4, 9, 9, 3)).astype(np.float32)
    layer = Conv2D(5, 3, activation="relu")
    outputs = {}
    for threads in (1, 2):
        monkeypatch.setattr(numba_kernels, "numba_threads", lambda threads=threads: threads)
        calls.clear()
        outputs[threads] = np.array(layer(x))
        assert calls == [1] * threads  # one product per part, each on one thread
    np.testing.assert_array_equal(outputs[2], outputs[1])
