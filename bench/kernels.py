"""Kernel throughput: `python bench/kernels.py [--seconds S]` prints one JSON line.

For each training shape (m, k, n) (batch m, inputs k, units n) and each form of the dense
layer's products, the numba kernel against the same product done by `np.matmul` (OpenBLAS):

    fwd      x·W          (m, k)·(k, n)              the forward product
    tn       xᵀ·dz        (m, k)ᵀ·(m, n) → (k, n)    the weight gradient
    nt       dz·Wᵀ        (m, n)·(k, n)ᵀ → (m, k)    the input gradient
    fused forward    dense_forward (x·W + b, relu), numba vs the NumPy kernel set
    fused backward   dense_backward (relu' , db, dW, dx), numba vs the NumPy kernel set

and numba_gemm.py's own product (whatever `MINIKERAS_MATMUL` chooses for the kernel set)
against OpenBLAS, both on the same threads (each row's `threads`): the threads of the policy
both follow (numba_runtime.gemm's rule 3: one below SMALL_PRODUCT multiply-adds, else Numba's
thread count), and, where that is more than one, again with one thread each, which compares
the kernels themselves:

    gemm fwd, gemm tn, gemm nt   the three forms above
    gemm fused forward           x·W + b, relu fused into the tile's store, against OpenBLAS's
                                 product followed by the compiled bias + relu pass

All are 2·m·k·n floating-point operations per product (the fused ones count only their
products). Timing: A and B alternate in short bursts, each burst's mean per call is kept, and
the median over bursts is reported, so slow drifts of the machine hit both sides alike; the
best burst is kept too (the machine's peak, for the arithmetic floor).
"""

import json
import sys
import time

import numpy as np

SHAPES = [(32, 784, 64), (32, 64, 10), (128, 784, 512), (128, 512, 512), (128, 512, 10)]

# Seconds of sleep before each burst of a comparison on more than one thread. After a call on
# several threads, OpenBLAS's other threads spin for about 0.1 s (2^28 clock ticks, its
# THREAD_TIMEOUT) before they sleep: a burst of numba_gemm's two parts right after a burst of
# OpenBLAS's ran beside that spinning thread, on one core's worth of time, and measured 0.39×
# (numba_gemm.py's rule 6). After the sleep each side starts from parked threads, as it would
# after any other work.
SETTLE = 0.2


def per_call(fn, budget):
    """Calls per burst so one burst lasts about `budget` seconds."""
    fn()
    start, calls = time.perf_counter(), 0
    while time.perf_counter() - start < budget:
        fn()
        calls += 1
    return max(calls, 1)


def compare(a, b, seconds, settle=0.0):
    """(median, best) seconds per call of a, then of b, measured in alternating bursts, each
    burst after `settle` seconds of sleep (see SETTLE)."""
    burst = seconds / 20
    calls_a, calls_b = per_call(a, burst), per_call(b, burst)
    times_a, times_b = [], []
    for _ in range(10):
        for fn, calls, times in ((a, calls_a, times_a), (b, calls_b, times_b)):
            time.sleep(settle)
            start = time.perf_counter()
            for _ in range(calls):
                fn()
            times.append((time.perf_counter() - start) / calls)
    return (
        (float(np.median(times_a)), min(times_a)),
        (float(np.median(times_b)), min(times_b)),
    )


def forms(m, k, n, rng):
    """{form: (numba call, NumPy call)} for the shape (m, k, n), on fresh float32 arrays."""
    from minikeras.kernels import numba_kernels as nb
    from minikeras.kernels import numpy_kernels as ref

    f = np.float32
    x, w = rng.standard_normal((m, k)).astype(f), rng.standard_normal((k, n)).astype(f)
    b, dz = rng.standard_normal(n).astype(f), rng.standard_normal((m, n)).astype(f)
    out_mn, out_kn, out_mk = np.empty((m, n), f), np.empty((k, n), f), np.empty((m, k), f)
    z, y, dzb, db = np.empty((m, n), f), np.empty((m, n), f), np.empty((m, n), f), np.empty(n, f)
    nb.dense_forward(x, w, b, "relu", z, y)  # a realistic z for the backward pass
    return {
        "fwd": (lambda: nb.matmul(x, w, out_mn), lambda: np.matmul(x, w, out=out_mn)),
        "tn": (lambda: nb.matmul_tn(x, dz, out_kn), lambda: np.matmul(x.T, dz, out=out_kn)),
        "nt": (lambda: nb.matmul_nt(dz, w, out_mk), lambda: np.matmul(dz, w.T, out=out_mk)),
        "fused forward": (
            lambda: nb.dense_forward(x, w, b, "relu", z, y),
            lambda: ref.dense_forward(x, w, b, "relu", z, y),
        ),
        "fused backward": (
            lambda: nb.dense_backward(x, w, z, y, dz, "relu", dzb, out_kn, db, out_mk),
            lambda: ref.dense_backward(x, w, z, y, dz, "relu", dzb, out_kn, db, out_mk),
        ),
    }


def gemm_forms(m, k, n, rng, threads):
    """{form: (numba_gemm call, OpenBLAS call)}, both on `threads` threads."""
    from minikeras.kernels import numba_gemm as ng
    from minikeras.kernels import numba_kernels as nb
    from minikeras.kernels.numba_runtime import gemm

    f = np.float32
    x, w = rng.standard_normal((m, k)).astype(f), rng.standard_normal((k, n)).astype(f)
    b, dz = rng.standard_normal(n).astype(f), rng.standard_normal((m, n)).astype(f)
    out_mn, out_kn, out_mk = np.empty((m, n), f), np.empty((k, n), f), np.empty((m, k), f)
    z, y = np.empty((m, n), f), np.empty((m, n), f)
    t = threads

    def blas(a, b, out):
        return gemm(a, b, out, m * k * n, threads=t)

    return {
        "gemm fwd": (lambda: ng.gemm(x, w, out_mn, threads=t), lambda: blas(x, w, out_mn)),
        "gemm tn": (lambda: ng.gemm_tn(x, dz, out_kn, threads=t), lambda: blas(x.T, dz, out_kn)),
        "gemm nt": (lambda: ng.gemm_nt(dz, w, out_mk, threads=t), lambda: blas(dz, w.T, out_mk)),
        "gemm fused forward": (
            lambda: ng.gemm(x, w, z, b, "relu", y, threads=t),
            lambda: nb._bias_activation(b, nb.RELU, blas(x, w, z), y),
        ),
    }


def main(argv):
    from minikeras.kernels.numba_gemm import product_threads

    seconds = float(argv[argv.index("--seconds") + 1]) if "--seconds" in argv else 1.0
    rows = []
    rng = np.random.default_rng(0)
    for m, k, n in SHAPES:
        threads = product_threads(m, k, n)  # the policy's threads, BLAS's and numba_gemm's
        cases = [(None, forms(m, k, n, rng)), (threads, gemm_forms(m, k, n, rng, threads))]
        if threads > 1:  # the kernels themselves, one thread each
            cases.append((1, gemm_forms(m, k, n, rng, 1)))
        for threads, calls in cases:
            rows += measure((m, k, n), calls, threads, seconds)
    print(json.dumps({"kernels": rows}))


def measure(shape, calls, threads, seconds):
    """One row per form of `calls`, each timed by `compare`; `threads` (None for section 1's
    forms, which follow the kernel set's own policy) is recorded in the row."""
    rows = []
    for form, (numba_fn, numpy_fn) in calls.items():
        settle = SETTLE if threads is not None and threads > 1 else 0.0
        (t_numba, best_numba), (t_numpy, best_numpy) = compare(numba_fn, numpy_fn, seconds, settle)
        flops = 2 * int(np.prod(shape)) * (2 if form == "fused backward" else 1)
        row = {
            "shape": list(shape),
            "form": form,
            "numba_us": t_numba * 1e6,
            "numpy_us": t_numpy * 1e6,
            "numba_gflops": flops / t_numba / 1e9,
            "numpy_gflops": flops / t_numpy / 1e9,
            "numba_best_gflops": flops / best_numba / 1e9,
            "numpy_best_gflops": flops / best_numpy / 1e9,
            "ratio": t_numpy / t_numba,
        }
        if threads is not None:
            row["threads"] = threads
        rows.append(row)
    return rows


if __name__ == "__main__":
    main(sys.argv[1:])
