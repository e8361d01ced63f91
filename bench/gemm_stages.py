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
    dot tile     3 × 3 dot products at once, 9 vector accumulators in registers, over blocks
                 of 96 columns (the kernel numba_gemm.py had before its micro-kernel)
    micro-kernel numba_gemm.py: 6 rows × 2 registers of sums updated by rank-1 steps, on
                 explicit vector registers (numba_lanes.py), from packed panels
    fused        numba_gemm.py with the bias and relu in the tile's store, against OpenBLAS's
                 product followed by the compiled bias + relu pass (the epilogue)

Timing: CPU time (time.process_time) of bursts of calls, the stages taking turns, the best
burst of each kept, so that other work on the machine inflates the figures as little as it
can; the load average is printed beside them.
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


@lanes
def dot_tile(a, bt, i, j):
    """Nine dot products at once: rows i..i+2 of a against rows j..j+2 of bᵀ."""
    zero = a.dtype.type(0)
    c00 = c01 = c02 = c10 = c11 = c12 = c20 = c21 = c22 = zero
    for p in range(np.uint64(a.shape[1])):
        a0, a1, a2 = a[i, p], a[i + 1, p], a[i + 2, p]
        b0, b1, b2 = bt[j, p], bt[j + 1, p], bt[j + 2, p]
        c00, c01, c02 = c00 + a0 * b0, c01 + a0 * b1, c02 + a0 * b2
        c10, c11, c12 = c10 + a1 * b0, c11 + a1 * b1, c12 + a1 * b2
        c20, c21, c22 = c20 + a2 * b0, c21 + a2 * b1, c22 + a2 * b2
    return c00, c01, c02, c10, c11, c12, c20, c21, c22


@njit(error_model="numpy")
def dot_tiled(a, b, bt, out):
    """The 3 × 3 dot tiles over blocks of 96 columns (m and n multiples of 3 here, or the last
    rows and columns are left out: a stage to time, not a product to use)."""
    m, k = a.shape
    n = b.shape[1]
    for p in range(k):
        for j in range(n):
            bt[j, p] = b[p, j]
    for j0 in range(0, n - n % 3, 96):
        for i in range(0, m - m % 3, 3):
            for j in range(j0, min(j0 + 96, n - n % 3), 3):
                c = dot_tile(a, bt, i, j)
                for r in range(3):
                    for s in range(3):
                        out[i + r, j + s] = c[3 * r + s]


def best_gflops(calls, flops, bursts=12, seconds=0.05):
    """GFLOP/s of each call: the best CPU time per call over bursts, the calls taking turns."""
    best = [np.inf] * len(calls)
    repeats = []
    for call in calls:  # compile, then size each burst to ~`seconds`
        call()
        start = time.process_time()
        call()
        repeats.append(max(1, int(seconds / max(time.process_time() - start, 1e-6))))
    for _ in range(bursts):
        for index, (call, r) in enumerate(zip(calls, repeats)):
            start = time.process_time()
            for _ in range(r):
                call()
            best[index] = min(best[index], (time.process_time() - start) / r)
    return [flops / t / 1e9 for t in best]


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
        lambda: dot_tiled(a, b, bt, out),
        lambda: numba_gemm.gemm(a, b, out, threads=1),
        lambda: np.matmul(a, b, out=out),
        lambda: numba_gemm.gemm(a, b, out, bias, "relu", y, threads=1),
        lambda: numba_kernels._bias_activation(bias, relu, np.matmul(a, b, out=out), y),
    ]
    return best_gflops(calls, 2 * m * k * n)


def main(argv):
    rng = np.random.default_rng(0)
    print(f"load average {os.getloadavg()[0]:.2f} at the start")
    print(
        "| shape | naive | loop order | blocking | packing | dot tile | micro-kernel | OpenBLAS "
        "| fused | OpenBLAS + epilogue |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for m, k, n in [(128, 784, 512), (128, 512, 512), (32, 784, 64), (32, 64, 10)]:
        cells = stages(m, k, n, rng)
        print(f"| {(m, k, n)} | " + " | ".join(f"{c:.1f}" for c in cells) + " |", flush=True)
    print(f"load average {os.getloadavg()[0]:.2f} at the end")


if __name__ == "__main__":
    main(sys.argv[1:])
