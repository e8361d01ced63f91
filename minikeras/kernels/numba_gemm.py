"""A matrix product written in Numba: a register micro-kernel, packed panels, cache blocks, a
fused epilogue: the way BLIS and OpenBLAS build theirs.

    out = A·B (+ bias, then act)      A (m, k), B (k, n) → (m, n)

Each of the three forms is this one product with its operands read as they are stored: x·W
(A = x, B = W), xᵀ·dz (A = xᵀ, read down the columns of x) and dz·Wᵀ (B = Wᵀ, read down the
rows of W), each transpose a flag, as in BLAS. `docs/kernels.md` walks through how it was
built; `bench/gemm_stages.py` measures each stage.

Rules, chosen by measurement on a 2-core AMD EPYC (Zen 3: AVX2 + FMA, 16 vector registers of
8 float32; L1d 32 KiB and L2 512 KiB per core), float32, one thread, CPU time of the best of
alternating bursts. The machine was shared (load average 10–16 on 2 cores throughout): ratios
moved by ±0.1 from one run to the next.

1. The micro-kernel computes a tile of 6 rows × 2 registers (16 float32 or 8 float64 columns)
   as a sum of rank-1 updates, c += A[:, p]·B[p, :]: per step of k, two registers of B are
   loaded, each of the 6 numbers of A is broadcast to a register, and 12 fused multiply-adds
   update the 12 sums, which stay in 12 of the 16 registers for the whole k loop (checked in
   its assembly: LLVM unrolls the loop by two, 24 vfmadd231ps, 12 vbroadcastss and 4 loads a
   pass, no stack access, 15 of the 16 ymm registers). Timed alone in a compiled loop over
   panels in L1 it runs at 83–93 GFLOP/s, float32, one core; the core's measured peak is
   93–96 (12 independent chains of register-only FMAs: 2 FMAs of 8 lanes a cycle at ~3.0 GHz,
   the clock read from one dependent chain, 12.1 GFLOP/s at FMA's 4-cycle latency). So the
   kernel is at 0.9–0.97 of peak: a 4 × 24 or 8 × 8 tile cannot gain, and what the whole
   product loses is around the kernel (see "Where it stands"). LLVM does not
   write this loop from plain Numba code: its loop vectorizer only vectorises the innermost
   loop, and here that loop (along k) carries the sums; its SLP vectorizer, which packs
   neighbouring scalars into one register, is off in Numba (NUMBA_SLP_VECTORIZE=0), and
   switched on it packed and unpacked the 96 scalar sums at every step. Measured, 96 scalar
   sums: 3.4 GFLOP/s, scalar code; a 3 × 3 tile of dot products along k (LLVM vectorises those
   reductions) 0.7–0.8× OpenBLAS, limited by reading 3 rows of B from L2 for 9 multiply-adds,
   by the sums' final reductions and by transposing W on every call. So the registers are
   written down: `numba_lanes.py` gives Numba a vector type and its five instructions.
2. Rounding: no `fastmath`. Each element is summed in the order of k, one fused multiply-add
   (one rounding) a step, as OpenBLAS's AVX2 kernels do; only the k blocks (rule 4) add their
   partial sums into out one after another. numba_kernels.py's rule 4 holds: nothing is
   reassociated, no flush-to-zero, NaN and inf propagate. Within k·ε·Σₚ|aᵢₚ·bₚⱼ| of the exact
   value, which tests/unit/test_gemm.py checks against float64 NumPy.
3. Indices Numba cannot prove non-negative get a wrap-around check (a[i, -1] is the last
   element), and that check turned contiguous loads into gathers: the loops over k and over
   copied rows run over unsigned integers (np.uint64), where there is nothing to wrap
   (measured, packing a block of B: 328 → 80 µs).
4. Packing and cache blocks. B is copied in panels of 16 columns, each read down k (a row of
   the panel is the two registers a step loads), for blocks of KC = 256 steps of k and NC =
   512 columns: one panel (16 KiB) stays in L1 while every panel of A passes over it, the
   block (512 KiB at most) in L2. k is cut into equal blocks of at most KC, so no block is a
   short remainder. A is read in place, its rows at their own stride, and only its last,
   partial panel of rows is copied, padded with zeros: packing those rows into panels too
   measured the same within the noise. Columns of a (A = xᵀ) are packed when at least 8
   panels of B will read them (n ≥ 128 float32): read in place, each step takes 6 numbers
   from a different cache line (tn at (128, 512, 512): 0.69–0.77× in place, 0.86–0.94×
   packed; at (32, 784, 64), n = 64, packing lost: 0.70× against 0.75–0.84×). dz·Wᵀ gives
   the role of B, whose transpose is copied one number at a time, to the smaller operand
   (measured at (32, 784, 64): 0.70× → 0.86–0.96×). Rows of A are taken in blocks of
   MC = 96.
5. The epilogue is fused into the tile's store: after the last k block each tile gets its
   bias and activation (linear, relu, sigmoid, tanh) while it is in L1, the activation chosen
   once per tile, outside its loops (a branch per element measured 2× slower at (32, 64, 10)).
6. Threads: BLAS's (numba_runtime.gemm's rule 3), so that the two products are compared on
   the same threads: one below SMALL_PRODUCT multiply-adds, else Numba's thread count. out is
   cut into one part per thread, whole tiles of columns when each part gets two or more (a
   part then packs only its own columns of B), else rows; part 0 runs on the calling thread,
   the others on worker threads (`_product` releases Python's lock, as the convolutions'
   parts do), each with its own packing buffers (one set per thread, so two callers never
   share one either). Every part cuts k the same way, so each element is the same sum in the
   same order: the parts give the one-thread product bit for bit (a test checks it). Worker
   threads rather than a `prange`: `parallel=True` starts Numba's own pool (start-up and
   memory) beside OpenBLAS's; a part is handed to its worker and back by two locks, not a
   ThreadPoolExecutor (~20 against ~40 µs of CPU a round trip; whole calls on 2 threads
   0.90–1.17×, median 1.06× faster in CPU time, 12 A/B pairs at load average ~14). A caller
   that finds the workers busy with another thread's product runs on its own thread. Measured
   at (128, 784, 512), float32, load average ~11: run side by side, each part took the same
   CPU time as run alone; a whole call on 2 threads took 1.0–1.9× the CPU time of one thread
   (the hand-off, and on a busy machine the parts start cold on whichever core is free).
   Why bench/results.md's quiet run had two threads at 0.39× OpenBLAS, slower than one thread
   (2258 against 1907 µs at (128, 784, 512)): after each call on several threads OpenBLAS's
   other threads spin for ~0.1 s before they sleep (2^28 clock ticks, its THREAD_TIMEOUT;
   measured, its second thread kept using CPU for 100 ms after the last call, none with
   OPENBLAS_THREAD_TIMEOUT=4), and the bench's bursts of numba_gemm came right after bursts of
   OpenBLAS, so the two parts shared the 2 cores with a spinning thread. bench/kernels.py now
   sleeps 0.2 s before each multi-thread burst. On a busy machine the spinning turns the
   other way: at load average ~11, OpenBLAS on 2 threads took 68–104 ms a call of wall time
   at (128, 784, 512) and these parts 10–13 ms, since a part that waits blocks.

Where it stands, one thread each (CPU time, best of alternating bursts, load average 9–13;
docs/kernels.md has the tables): x·W 0.77–0.90× OpenBLAS at (128, 784, 512) and
(128, 512, 512), and the quiet bench 0.81–0.87× by form (medians). Where the rest goes, each
stage taken out in turn at (128, 784, 512): the product 1771 µs (OpenBLAS 1319), without
the kernel calls 219 µs, without packing B 1415 µs. So the kernel runs at ~66 GFLOP/s inside
the product against 83–93 alone (its panels come from L2 and beyond), and packing B, which
W needs afresh on every call (1.6 MB for 128 rows of x), costs 20%; the rest is the k
blocks' partial sums added into out, the tiles' stores, A's partial panel and the edge tiles
(128 rows are 22 panels of 6, the last holding 2). Tried against this and kept out, each
within the ±0.1 the load moves a ratio, or worse: packing every panel of A; KC 384 or 512
(fewer k blocks: 0.65–0.89× against 0.77–0.90×); NC 256; MC 48; packing each panel of B just
before its tiles, into L1 (0.73–0.78× against 0.81×); storing full tiles from the registers
straight into out, without the tile buffer; reading B in place, unpacked (0.77× against
0.94× at (128, 512, 512), no gain at (32, 784, 64)).
Tried again for this machine's caches (L2 512 KiB a core, L3 32 MiB shared; one thread each,
CPU time, best of 12 alternating bursts, load average 12–14, numba ÷ OpenBLAS worst and best
form at the two large shapes, fused forward at (32, 784, 64)): these blocks 0.71–0.94× and
0.76–0.90× (two runs), fused 0.86–0.96×; MC 132, so that the 128 rows are one block and
each block of B is read once, 0.76–0.93× and 0.73–0.94×, fused 0.84–0.86×; MC 132 with
NC 256 0.79–0.91×, fused 0.88×; KC 192 0.69–0.90×, fused 0.83×: none outside the spread
between two runs of one setting, so the blocks stay.
Packing B alone, timed in a compiled loop over every k block of W, takes 101 µs at
(128, 784, 512) (of a ~1700 µs product: 6%) and 55 µs at (128, 512, 512), so most of the 20%
that leaving it out saved above is the packed copy pushing A and out from the caches, not the
copy; copying W a row at a time into every panel (contiguous reads) measured 71 µs and
111 µs: no better across both shapes. What keeps x·W at (128, 784, 512) the worst form
(0.71–0.79× in these runs) is the micro-kernel's rate inside the product, its six rows of A
read in place from L2 at a stride of 3136 bytes and its panels of B from L2 and L3, against
OpenBLAS's copies of both operands, laid out for its kernel and prefetched ahead of it, which
Numba cannot ask for (no prefetch instruction is reachable from its code without writing one
into `numba_lanes.py`, not tried). The target (0.9× at every form) is not met. Nor is the
fused forward's at (32, 784, 64) (above OpenBLAS plus its epilogue; 0.83–0.96× in these
runs): the same kernel rate, and 32 rows are five tiles of 6 and one of 2, computed as 6,
so the kernel does 36/32 = 1.125 times the product's arithmetic. Made the other way round,
outᵀ = Wᵀ·xᵀ (64 rows: 66/64), the plain x·W measured slower, 58–60 against 53–56 µs (best
of 15 bursts, two runs; OpenBLAS 46 µs): xᵀ, now B, is copied through its transpose.

At the small shapes the fixed cost of a call is most of the time: Numba's dispatch costs
~0.06 µs an array argument and ~0.4 µs to box an array it returns, so `_product` takes one
buffer array and returns nothing: a (1, 1, 1) product 2.9 → 1.3 µs, and the fused forward at
(32, 64, 10) 1.06–1.17× → 1.24–1.25× the speed of OpenBLAS plus its epilogue (the bench's own
calls, CPU time, load average ~13); the plain x·W there 0.96–0.97×, and at (32, 784, 64) the
fused forward 0.94–1.01×, x·W 0.90–0.91×.
`use_numba` holds the rule that picks this product or BLAS for each call.
"""

import os
import threading

import numpy as np
from numba import njit

from minikeras.kernels.numba_lanes import (
    REGISTER_BYTES,
    broadcast,
    fma,
    lanes_of,
    load,
    store,
    zeros,
)
from minikeras.kernels.numba_runtime import SMALL_PRODUCT, compiled, compiled_nogil, numba_threads

EPILOGUES = ("linear", "relu", "sigmoid", "tanh")  # the same codes as numba_kernels.py's
LINEAR, RELU, SIGMOID, TANH = range(len(EPILOGUES))
NO_ACTIVATION = -1  # a plain product: out only

MR = 6  # rows of the register tile; its columns are two registers: NR = 16 float32, 8 float64
KC, MC, NC = 256, 96, 512  # the cache blocks (rule 4)


def tile_columns(dtype):
    """NR, the columns of the register tile: two registers' worth of `dtype`."""
    return 2 * lanes_of(dtype)


# ----------------------------------------------------------------------------- the micro-kernel
@njit(cache=True, error_model="numpy")
def _micro_kernel(kc, a, a0, rs, cs, bp, b0, ct):
    """ct = A·B for one MR × NR tile: kc rank-1 updates c += A[:, p]·B[p, :], summed in order.

    A[r, p] = a[a0 + r·rs + p·cs] (MR rows: a packed panel, rs = 1 and cs = MR, or rows of the
    operand itself), B the packed panel bp[b0 + p·NR + s] (NR columns): each step reads MR
    numbers of A and two registers of B and does 2·MR fused multiply-adds. The 12 sums live in
    12 of the 16 vector registers (rule 1).
    """
    u = np.uint64  # unsigned: no wrap-around check on the loads (rule 3)
    nr = u(ct.size // MR)
    half = nr // u(2)  # one register's lanes
    a0, rs, cs, b0 = u(a0), u(rs), u(cs), u(b0)  # (int64 + uint64 would be a float64 in Numba)
    c00 = c01 = c10 = c11 = c20 = c21 = c30 = c31 = c40 = c41 = c50 = c51 = zeros(ct)
    for p in range(u(kc)):
        pa, pb = a0 + p * cs, b0 + p * nr
        b0_, b1_ = load(bp, pb), load(bp, pb + half)  # (1, NR): a row of B
        x = broadcast(a[pa])  # A[0, p] in every lane
        c00, c01 = fma(x, b0_, c00), fma(x, b1_, c01)
        x = broadcast(a[pa + rs])
        c10, c11 = fma(x, b0_, c10), fma(x, b1_, c11)
        x = broadcast(a[pa + u(2) * rs])
        c20, c21 = fma(x, b0_, c20), fma(x, b1_, c21)
        x = broadcast(a[pa + u(3) * rs])
        c30, c31 = fma(x, b0_, c30), fma(x, b1_, c31)
        x = broadcast(a[pa + u(4) * rs])
        c40, c41 = fma(x, b0_, c40), fma(x, b1_, c41)
        x = broadcast(a[pa + u(5) * rs])
        c50, c51 = fma(x, b0_, c50), fma(x, b1_, c51)
    store(ct, 0, c00)
    store(ct, half, c01)
    store(ct, nr, c10)
    store(ct, nr + half, c11)
    store(ct, 2 * nr, c20)
    store(ct, 2 * nr + half, c21)
    store(ct, 3 * nr, c30)
    store(ct, 3 * nr + half, c31)
    store(ct, 4 * nr, c40)
    store(ct, 4 * nr + half, c41)
    store(ct, 5 * nr, c50)
    store(ct, 5 * nr + half, c51)


# ----------------------------------------------------------------------------- packing
# Indices are unsigned (np.uint64) in the copy loops too (rule 3): a signed index Numba cannot
# prove non-negative gets a wrap-around branch, which stops the copies from vectorising.
@compiled
def _pack_a(a, transposed, i0, i1, p0, p1, ap):
    """A[i0:i1, p0:p1] into panels of MR rows, each read down k: ap[q·kc + p·MR + r] =
    A[i0 + q + r, p0 + p] for the panel starting at row q, where A is a, or aᵀ if transposed;
    rows past i1 are zeros (rule 2)."""
    u, kc = np.uint64, p1 - p0
    for q in range(0, i1 - i0, MR):
        rows, i, panel = min(MR, i1 - i0 - q), u(i0 + q), u(q * kc)
        if transposed:  # A's columns are rows of a: read along them
            for p in range(u(kc)):
                for r in range(u(rows)):
                    ap[panel + p * u(MR) + r] = a[u(p0) + p, i + r]
        else:  # along each row of a in turn (contiguous reads), into every MR-th place
            for r in range(u(rows)):
                for p in range(u(kc)):
                    ap[panel + p * u(MR) + r] = a[i + r, u(p0) + p]
        for r in range(u(rows), u(MR)):  # the rows past i1
            for p in range(u(kc)):
                ap[panel + p * u(MR) + r] = 0


@compiled
def _pack_b(b, transposed, p0, p1, j0, j1, bp, nr):
    """B[p0:p1, j0:j1] into panels of nr columns, each read down k: bp[t·kc + p·nr + s] =
    B[p0 + p, j0 + t + s] for the panel starting at column t, where B is b, or bᵀ if
    transposed; columns past j1 are zeros. A whole panel of rows of b is copied a register
    at a time (two per row of the panel)."""
    u, kc = np.uint64, p1 - p0
    half = u(nr // 2)
    for t in range(0, j1 - j0, nr):
        cols, j = min(nr, j1 - j0 - t), u(j0 + t)
        if transposed:  # nr rows of b read side by side, a row of the panel written at a time
            for p in range(u(kc)):
                for s in range(u(cols)):
                    bp[u(t * kc) + p * u(nr) + s] = b[j + s, u(p0) + p]
        elif cols == nr:
            for p in range(u(kc)):
                at, row = u(t * kc) + p * u(nr), (u(p0) + p) * u(b.shape[1]) + j
                store(bp, at, load(b, row))
                store(bp, at + half, load(b, row + half))
        else:
            for p in range(u(kc)):
                for s in range(u(cols)):
                    bp[u(t * kc) + p * u(nr) + s] = b[u(p0) + p, j + s]
        for p in range(u(kc)):  # the columns past j1
            for s in range(u(cols), u(nr)):
                bp[u(t * kc) + p * u(nr) + s] = 0


# ----------------------------------------------------------------------------- the fused store
@compiled
def _store_tile(ct, out, i0, i1, j0, j1, first):
    """out[i0:i1, j0:j1] = ct, or += ct after the first k block: the tile's valid part."""
    u, nr = np.uint64, ct.size // MR
    for r in range(u(i1 - i0)):
        at = r * u(nr)
        if first:
            for s in range(u(j1 - j0)):
                out[u(i0) + r, u(j0) + s] = ct[at + s]
        else:
            for s in range(u(j1 - j0)):
                out[u(i0) + r, u(j0) + s] += ct[at + s]


@compiled
def _epilogue(out, y, bias, code, i0, i1, j0, j1):
    """z = out + bias written back to out, and y = act(z), over out[i0:i1, j0:j1]: one tile,
    just stored, still in L1 (rule 5), with numba_kernels._activate's formulas. The activation
    is chosen once, outside the loops (numba_kernels.py's rule 6). A plain product (code
    NO_ACTIVATION) passes `out` as `y` and never writes it."""
    u, zero, one = np.uint64, out.dtype.type(0), out.dtype.type(1)
    rows, cols = range(u(i0), u(i1)), range(u(j0), u(j1))
    if bias.size:  # empty: no bias
        for i in rows:
            for j in cols:
                out[i, j] += bias[j]
    if code == LINEAR:
        for i in rows:
            for j in cols:
                y[i, j] = out[i, j]
    elif code == RELU:
        for i in rows:
            for j in cols:
                v = out[i, j]
                y[i, j] = zero if v < zero else v  # NaN passes through, as np.maximum
    elif code == SIGMOID:
        for i in rows:
            for j in cols:
                v = out[i, j]
                e = np.exp(-abs(v))  # in (0, 1]: never overflows
                y[i, j] = one / (one + e) if v >= zero else e / (one + e)
    elif code == TANH:
        for i in rows:
            for j in cols:
                y[i, j] = np.tanh(out[i, j])


# ----------------------------------------------------------------------------- the cache blocks
@compiled_nogil
def _product(a, a_transposed, b, b_transposed, out, y, bias, code, buffers, part):
    """out = A·B (+ bias, act into y), A (m, k) being a or aᵀ and B (k, n) b or bᵀ, over the
    part (i_lo, i_hi, j_lo, j_hi) of out: blocks of NC columns of b, of KC steps along k, of MC
    rows of a, each block packed once and its tiles computed from the packed copies (rule 4).
    Parts run side by side on threads (rule 6), each with its own `buffers` (the packed
    blocks of A and B and the tile, one array: fewer arguments to Numba's dispatch, which
    costs ~0.06 µs an array, and nothing returned, which would cost ~0.4 µs to box); a part
    changes no element's sum (k is cut the same way in every part), so any split gives the
    same bits."""
    nr = 2 * REGISTER_BYTES // buffers.itemsize  # tile_columns
    ap, bp, ct = buffers[: MC * KC], buffers[MC * KC : -MR * nr], buffers[-MR * nr :]
    m, k = a.shape[::-1] if a_transposed else a.shape
    n = b.shape[0] if b_transposed else b.shape[1]
    i_lo, i_hi, j_lo, j_hi = part
    epilogue = bias.size > 0 or code != NO_ACTIVATION
    flat = a.reshape(-1)  # a is C-ordered: A[i, p] = flat[i·rs + p·cs]
    rs, cs = (1, m) if a_transposed else (k, 1)
    pack_a = a_transposed and n >= 8 * nr  # rule 4: columns of a, read by 8 panels of B or more
    blocks = max(1, -(-k // KC))  # k in equal blocks of at most KC: no short last block
    kc_step = max(1, -(-k // blocks))
    for j0 in range(j_lo, j_hi, NC):
        j1 = min(j0 + NC, j_hi)
        for p0 in range(0, max(k, 1), kc_step):  # k = 0: one empty block: out is still written
            p1 = min(p0 + kc_step, k)
            kc = p1 - p0
            _pack_b(b, b_transposed, p0, p1, j0, j1, bp, nr)
            for i0 in range(i_lo, i_hi, MC):
                i1 = min(i0 + MC, i_hi)
                whole = i0 if pack_a else i1 - (i1 - i0) % MR  # rows read in place below
                _pack_a(a, a_transposed, whole, i1, p0, p1, ap)
                for j in range(j0, j1, nr):  # a panel of B stays in L1 ...
                    for i in range(i0, i1, MR):  # ... while the panels of A pass over it
                        if i < whole:
                            _micro_kernel(kc, flat, i * rs + p0 * cs, rs, cs, bp, (j - j0) * kc, ct)
                        else:
                            _micro_kernel(kc, ap, (i - whole) * kc, 1, MR, bp, (j - j0) * kc, ct)
                        i_end, j_end = min(i + MR, i1), min(j + nr, j1)
                        _store_tile(ct, out, i, i_end, j, j_end, p0 == 0)
                        if epilogue and p1 == k:
                            _epilogue(out, y, bias, code, i, i_end, j, j_end)


_local = threading.local()  # each thread's packing buffers: parts and callers never share one


def _packing_buffers(dtype):
    """The packed blocks of A and B and the tile, one after the other in one array (`_product`
    cuts it), made once per thread and dtype and reused by every call on that thread. Looked up
    by itemsize (an int hashes faster than a dtype: this lookup is part of every call's fixed
    cost, which is most of the time at the smallest shapes)."""
    try:
        return _local.buffers[dtype.itemsize]
    except AttributeError:  # this thread's first call
        _local.buffers = {}
    except KeyError:  # its first call in this dtype
        pass
    nr = tile_columns(dtype)
    mine = _local.buffers[dtype.itemsize] = np.empty(MC * KC + KC * (NC + nr) + MR * nr, dtype)
    return mine


# "no bias" is an empty bias, so that one compiled version serves layers with and without one;
# by itemsize, as the buffers
_NO_BIAS = {np.dtype(t).itemsize: np.empty(0, t) for t in (np.float32, np.float64)}


def _code(activation):
    return NO_ACTIVATION if activation is None else EPILOGUES.index(activation)


# ----------------------------------------------------------------------------- the threads
class _Worker:
    """A thread that runs one part at a time, handed over and back by two locks: half the CPU
    time of a ThreadPoolExecutor's round trip (measured, empty job, load average ~12: ~20
    against ~40 µs), which was most of what a second thread cost (rule 6)."""

    def __init__(self):
        self._go, self._done = threading.Lock(), threading.Lock()
        self._go.acquire()
        self._done.acquire()
        self._job = self._error = None
        threading.Thread(target=self._serve, name="minikeras-gemm", daemon=True).start()

    def _serve(self):
        while True:
            self._go.acquire()  # blocks (no spinning) until `start`
            try:
                self._job()
            except BaseException as error:  # handed to the caller by `wait`
                self._error = error
            self._done.release()

    def start(self, job):
        self._job = job
        self._go.release()

    def wait(self):
        """Blocks until the job is done; re-raises its error."""
        self._done.acquire()
        error, self._error, self._job = self._error, None, None
        if error is not None:
            raise error


_workers = []  # one per part after the first, started when first needed
_workers_free = threading.Lock()  # held by the call whose parts the workers run


def _after_fork():
    """A forked child has none of the worker threads, and no call of its own under way."""
    global _workers_free
    _workers.clear()
    _workers_free = threading.Lock()


os.register_at_fork(after_in_child=_after_fork)


def parts_of(m, n, nr, threads):
    """(i_lo, i_hi, j_lo, j_hi) for each thread's part of an (m, n) out (rule 6): blocks of
    whole tiles of columns when there are at least two tiles per thread (a part then packs
    only its own columns of B), else blocks of rows (each part packs all of B)."""
    tiles = -(-n // nr)
    if tiles >= 2 * threads:
        cuts = [min(n, t * tiles // threads * nr) for t in range(threads + 1)]
        return [(0, m, cuts[t], cuts[t + 1]) for t in range(threads)]
    cuts = [t * m // threads for t in range(threads + 1)]
    return [(cuts[t], cuts[t + 1], 0, n) for t in range(threads)]


def product_threads(m, k, n):
    """How many threads a product gets: numba_runtime.gemm's rule 3 for BLAS, so that both
    products run on the same threads: one below SMALL_PRODUCT multiply-adds, else Numba's
    thread count (numba.set_num_threads, NUMBA_NUM_THREADS; default every core)."""
    return 1 if m * k * n < SMALL_PRODUCT else numba_threads()


def _run(a, a_transposed, b, b_transposed, out, y, bias, code, threads):
    """_product over out, in parts on `threads` threads (None: `product_threads`): part 0 on
    this thread, the others on worker threads; returns when every part is done."""
    m, n = out.shape
    k = a.shape[0] if a_transposed else a.shape[1]
    if threads is None:
        threads = product_threads(m, k, n)
    args = (a, a_transposed, b, b_transposed, out, y, bias, code)
    if threads <= 1 or m == 0 or n == 0:
        _product(*args, _packing_buffers(out.dtype), (0, m, 0, n))
        return
    if not _workers_free.acquire(blocking=False):  # another thread's product has the workers
        _product(*args, _packing_buffers(out.dtype), (0, m, 0, n))
        return
    try:
        parts = parts_of(m, n, tile_columns(out.dtype), threads)
        while len(_workers) < len(parts) - 1:
            _workers.append(_Worker())

        def part(bounds):  # on whichever thread runs it, with that thread's buffers
            _product(*args, _packing_buffers(out.dtype), bounds)

        for worker, bounds in zip(_workers, parts[1:]):
            worker.start(lambda bounds=bounds: part(bounds))
        try:
            part(parts[0])
        finally:
            for worker in _workers[: len(parts) - 1]:
                worker.wait()
    finally:
        _workers_free.release()


# ----------------------------------------------------------------------------- the three forms
# Operands must be float32 or float64 arrays of one dtype (`use_numba` checks), and C-ordered:
# a view with other strides is copied first (np.ascontiguousarray, a no-op for C arrays). A
# transposed operand is read as it is stored, with a flag, as BLAS does: one compiled version
# per dtype serves every form. `threads` overrides rule 6's choice (None: `product_threads`).
def gemm(a, b, out, bias=None, activation=None, y_out=None, threads=None):
    """out = a·b (+ bias), and y_out = act(out) if an activation is given: x·W + b, the dense
    forward pass.   (m, k)·(k, n) → (m, n); returns y_out, or out."""
    y = out if y_out is None else y_out
    bias = _NO_BIAS[out.itemsize] if bias is None else np.ascontiguousarray(bias)
    a, b = np.ascontiguousarray(a), np.ascontiguousarray(b)
    _run(a, False, b, False, out, y, bias, _code(activation), threads)
    return y


def gemm_tn(a, b, out, threads=None):
    """out = aᵀ·b: the weight gradient xᵀ·dz.   (k, m)ᵀ·(k, n) → (m, n)"""
    a, b = np.ascontiguousarray(a), np.ascontiguousarray(b)
    _run(a, True, b, False, out, out, _NO_BIAS[out.itemsize], NO_ACTIVATION, threads)
    return out


def gemm_nt(a, b, out, threads=None):
    """out = a·bᵀ: the input gradient dz·Wᵀ.   (m, k)·(n, k)ᵀ → (m, n)

    The operand read as B is copied into panels through its transpose, one number at a time
    (rule 4), so the smaller one takes that role: for m < n (a batch of dz against the rows
    of W) the product is made as outᵀ = b·aᵀ, written through the transposed view of out.
    """
    a, b = np.ascontiguousarray(a), np.ascontiguousarray(b)
    no_bias = _NO_BIAS[out.itemsize]
    if a.shape[0] < b.shape[0]:
        _run(b, False, a, True, out.T, out.T, no_bias, NO_ACTIVATION, threads)
    else:
        _run(a, False, b, True, out, out, no_bias, NO_ACTIVATION, threads)
    return out


# ----------------------------------------------------------------------------- the choice
MATMULS = ("auto", "numba", "blas")
MATMUL = os.environ.get("MINIKERAS_MATMUL", "auto")
if MATMUL not in MATMULS:
    raise ValueError(f"MINIKERAS_MATMUL={MATMUL!r}; expected one of {MATMULS}")


# "auto": products of fewer multiply-adds than this go to numba_gemm, the rest to BLAS.
# Measured (alternating bursts of CPU time, float32, one thread, load average ~13), numba ÷
# OpenBLAS: 0.75–1.02× by form at (128, 784, 512) and (128, 512, 512), 0.72–1.12× for the
# plain forms at (32, 784, 64) and 0.61–0.76× at (32, 64, 10), and the fused forward
# 0.89–0.97× of OpenBLAS plus the compiled bias + relu pass at the two small shapes. No shape
# was faster in every run, so none is chosen by default: `MINIKERAS_MATMUL=numba` selects it.
# Measured again (one thread, load average ~11): at (32, 64, 10) the fused forward took 5.4 µs
# through `gemm` and 4.3 µs calling `_product` directly, against 4.0 µs for np.matmul plus
# the compiled epilogue; at (32, 784, 64) 62–66 against 52 µs. A default above 0 would also
# turn off the compiled training step (models/compiled_step.py calls BLAS, and the two steps
# must round alike), which is worth far more at these shapes than any product.
AUTO_NUMBA_BELOW = 0


def use_numba(a, b, out, m, k, n):
    """True where this module makes the (m, k)·(k, n) product of a and b into out, not BLAS.

    `MINIKERAS_MATMUL=numba` or `=blas` in the environment forces one everywhere (for the
    arrays this module takes: float32 or float64, all three of one dtype); "auto", the default,
    sends products smaller than AUTO_NUMBA_BELOW multiply-adds here.
    """
    if MATMUL == "blas" or not (a.dtype == b.dtype == out.dtype and a.dtype in _DTYPES):
        return False
    if MATMUL == "numba":
        return True
    return m * k * n < AUTO_NUMBA_BELOW


_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))
