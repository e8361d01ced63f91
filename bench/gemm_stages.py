"""How a matrix product gets fast, one step at a time: `python bench/gemm_stages.py` prints the
GFLOP/s of each stage of docs/kernels.md's walkthrough, float32, one thread, against OpenBLAS
on one thread. Each stage is the previous one plus one idea:

    naive        three loops i, j, p: the inner loop walks down a column of b (a stride of n)
    loop order   i, p, j: the inner loop walks along rows of b and out (contiguous, vectorised)
    blocking     `loop order` with the columns cut into blocks of 96 and k into blocks of 256,
                 so the block of b being read (96 KiB) stays in L2 and a row of out in L1
    packing      b copied once into bᵀ, so both operands of each dot product are contiguous
                 and LLVM turns each sum into 8-lane vector FMAs (fastmath reassoc + contract);
                 one dot product at a time
    micro-kernel numba_gemm.py: 3 × 3 dot products at once, 9 vector accumulators in registers
    fused        numba_gemm.py with the bias and relu in the tile's store, against the same
                 product followed by a separate bias + relu pass (the epilogue)
"""

import os
import sys
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # one thread on both sides

import numpy as np  # noqa: E402
from numba import njit  # noqa: E402

from minikeras.kernels import numba_gemm, numba_kernels  # noqa: E402

lanes = njit(error_model="numpy", fastmath={"contract", "reassoc"})


@njit(error_model="numpy")
def naive(a, b, out):
    m, k = a.shape
    for i in range(m):
        for j in range(b.shape[1]):
            s = a.dtype.type(0)
            for p in range(k):
                s += a[i, p] * b[p, j]
            out[i, j] = s


@lanes
def loop_order(a, b, out):
    m, k = a.shape
    out[:] = 0
    for i in range(m):
        for p in range(k):
            x = a[i, p]
            for j in range(b.shape[1]):
                out[i, j] += x * b[p, j]


@lanes
def blocked(a, b, out):
    m, k = a.shape
    n = b.shape[1]
    out[:] = 0
    for j0 in range(0, n, 96):
        for p0 in range(0, k, 256):
            for i in range(m):
                for p in range(p0, min(p0 + 256, k)):
                    x = a[i, p]
                    for j in range(np.uint64(j0), np.uint64(min(j0 + 96, n))):
                        out[i, j] += x * b[p, j]


@lanes
def packed(a, b, bt, out):
    m, k = a.shape
    n = b.shape[1]
    for p in range(k):
        for j in range(n):
            bt[j, p] = b[p, j]
    for j0 in range(0, n, 96):
        for i in range(m):
            for j in range(j0, min(j0 + 96, n)):
                s = a.dtype.type(0)
                for p in range(k):
                    s += a[i, p] * bt[j, p]
                out[i, j] = s


def best_gflops(fn, flops, seconds=0.5):
    fn()
    best, start = np.inf, time.perf_counter()
    while time.perf_counter() - start < seconds:
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return flops / best / 1e9


def stages(m, k, n, rng):
    """The GFLOP/s of each stage at one shape."""
    a = rng.standard_normal((m, k)).astype(np.float32)
    b = rng.standard_normal((k, n)).astype(np.float32)
    bias = rng.standard_normal(n).astype(np.float32)
    out, y, bt = (np.empty(shape, np.float32) for shape in [(m, n), (m, n), (n, k)])
    relu = numba_kernels.RELU
    calls = [
        lambda: naive(a, b, out),
        lambda: loop_order(a, b, out),
        lambda: blocked(a, b, out),
        lambda: packed(a, b, bt, out),
        lambda: numba_gemm.gemm(a, b, out),
        lambda: np.matmul(a, b, out=out),
        lambda: numba_gemm.gemm(a, b, out, bias, "relu", y),
        lambda: numba_kernels._bias_activation(bias, relu, numba_gemm.gemm(a, b, out), y),
    ]
    return [best_gflops(call, 2 * m * k * n) for call in calls]


def main(argv):
    rng = np.random.default_rng(0)
    print(
        "| shape | naive | loop order | blocking | packing | micro-kernel | OpenBLAS "
        "| fused | product + epilogue |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for m, k, n in [(128, 512, 512), (32, 784, 64), (32, 64, 10)]:
        cells = stages(m, k, n, rng)
        print(f"| {(m, k, n)} | " + " | ".join(f"{c:.1f}" for c in cells) + " |", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
