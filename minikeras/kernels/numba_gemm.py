"""A matrix product written in Numba: register tiles, packing, cache blocks, a fused epilogue.

    out = a·bᵀ (+ bias, then act)      a (m, k) rows along k, bt (n, k) rows along k → (m, n)

Every product is brought to that one form, both operands read along k: x·W packs Wᵀ, xᵀ·dz
packs xᵀ and dzᵀ, dz·Wᵀ packs nothing (dz and W already are rows along k). `docs/kernels.md`
walks through how it was built; `bench/gemm_stages.py` measures each stage.

Rules, chosen by measurement on a 2-core AMD EPYC (Zen 3: AVX2 + FMA, 16 vector registers;
L1d 32 KiB and L2 512 KiB per core, L3 32 MiB), float32, one thread, best of bursts. The machine
was shared (load average 8–12 on 2 cores throughout), so every figure is a lower bound and
ratios within ±30% are noise:

1. The register tile is 3 rows × 3 columns of dot products along k. LLVM vectorises a loop
   that *reduces along a contiguous axis* (each of the 9 sums becomes one 8-lane AVX2 register,
   summed across lanes once at the end), but it never kept the classic outer-product tile
   (a row of b broadcast against a column of a) in registers: Numba cannot tell it that the tile
   and the operands do not overlap, so every partial sum went to memory and back (measured:
   1.3–3.4 GFLOP/s, scalar code, with the tile in an argument, a stack buffer or 96 scalars).
   3×3 holds 9 accumulators + 6 operands in the 16 registers and does 9 FMAs per 6 loads;
   unblocked at (32, 784, 64): 2×2 48, 4×2 58, 3×3 83 GFLOP/s.
2. `fastmath={"contract", "reassoc"}` on the tiles only: `contract` lets LLVM fuse a·b + c into
   one FMA (one rounding instead of two, as OpenBLAS does), `reassoc` lets it split each sum
   into 8 lanes (the order of the k terms changes, as it does between BLAS libraries). No
   `nnan`/`ninf`/flush-to-zero: NaN and inf propagate as in NumPy. The result is the same
   products summed in another order: within k·ε·Σₚ|aᵢₚ·bₚⱼ| of the exact value, the bound
   BLAS's result obeys too (ε = 2⁻²³ in float32), which tests/unit/test_gemm.py checks against
   float64 NumPy. The epilogue (bias, activation) is compiled without fastmath.
3. Indices Numba cannot prove non-negative get a wrap-around check (a[i, -1] is the last
   element), and that check turned the tile's contiguous loads into gathers: the k loop runs
   over unsigned integers (np.uint64), where there is nothing to wrap (measured on a
   96 × 512 × 96 block: 7.5 → 54 GFLOP/s).
4. Packing: `gemm` copies W into Wᵀ and `gemm_tn` both operands, each into a buffer kept per
   (role, shape, dtype) and reused, so the tile always reads two contiguous rows. The copy
   walks 16 × 16 blocks so both sides stay in cache: (784, 512) in 212 µs against NumPy's
   1,165 µs, (784, 64) in 22 µs against 37 µs. It is the price of rule 1, paid each call
   (W changes every step): 20–30% of the product at the training shapes.
5. Cache blocks: the columns (rows of bt) go in blocks of NC = 96 and k in blocks of KC = 1024,
   so a block of bt (96 × 784 floats at the bench shapes, 294 KiB) stays in L2 while every row
   of tiles passes over it, and 3 rows of a stay in L1 across the block. Measured at
   (128, 512, 512): NC 48/96/192/384 → 64/48/62/41 GFLOP/s, KC 128/256/512/1024 → 36/38/67/48:
   small k blocks lose (each block re-reads and re-writes out), the rest is within the noise.
6. The epilogue is fused into the tile's store: after the last k block each 3 × 3 tile gets
   its bias and activation (linear, relu, sigmoid, tanh) while still in L1, once per tile. An
   epilogue call per element cost 25× (Numba did not inline it and counted references at each
   call): 1.4 against 37 GFLOP/s.
7. One thread. A `prange` over the column blocks measured 62 against 66 GFLOP/s serial at
   (128, 512, 512) and 56 against 60 at (128, 784, 512): on this shared machine the second
   thread found no free core, so it is not used (and `parallel=True` costs start-up and memory).

Where it stands (`bench/gemm_stages.py`, one thread each): at (128, 512, 512) 59 GFLOP/s
against OpenBLAS's 83 (0.71×), at (32, 784, 64) 48 against 62 (0.78×). `use_numba` holds the
rule that picks this product or BLAS for each call.
"""

import os

import numpy as np
from numba import njit

from minikeras.kernels.numba_runtime import compiled

# rule 2: only the tiles' sums may be contracted into FMAs and reassociated into lanes
_tile = njit(cache=True, error_model="numpy", fastmath={"contract", "reassoc"})
# a store inlined into the tile loop by Numba itself: a call per element would cost more
_store = njit(cache=True, error_model="numpy", inline="always")

EPILOGUES = ("linear", "relu", "sigmoid", "tanh")  # the same codes as numba_kernels.py's
LINEAR, RELU, SIGMOID, TANH = range(len(EPILOGUES))
NO_ACTIVATION = -1  # a plain product: out only

MR, NR = 3, 3  # the register tile (rule 1)
KC, NC = 1024, 96  # the cache blocks (rule 5)


# ----------------------------------------------------------------------------- the register tiles
# Each returns its sums Σₚ a[i+r, p]·bt[j+s, p] over p0 ≤ p < p1, row by row, as a tuple.
@_tile
def _tile_3x3(a, bt, i, j, p0, p1):
    """c_rs = Σₚ a[i+r, p]·bt[j+s, p]     (3, k)·(3, k)ᵀ → 3 × 3, nine sums held in registers"""
    zero = a.dtype.type(0)
    c00 = c01 = c02 = c10 = c11 = c12 = c20 = c21 = c22 = zero
    for p in range(np.uint64(p0), np.uint64(p1)):  # unsigned: no wrap-around check (rule 3)
        a0, a1, a2 = a[i, p], a[i + 1, p], a[i + 2, p]
        b0, b1, b2 = bt[j, p], bt[j + 1, p], bt[j + 2, p]
        c00 += a0 * b0
        c01 += a0 * b1
        c02 += a0 * b2
        c10 += a1 * b0
        c11 += a1 * b1
        c12 += a1 * b2
        c20 += a2 * b0
        c21 += a2 * b1
        c22 += a2 * b2
    return (c00, c01, c02, c10, c11, c12, c20, c21, c22)


@_tile
def _tile_3x1(a, bt, i, j, p0, p1):
    """The last columns when n is not a multiple of 3."""
    zero = a.dtype.type(0)
    c0 = c1 = c2 = zero
    for p in range(np.uint64(p0), np.uint64(p1)):
        b = bt[j, p]
        c0 += a[i, p] * b
        c1 += a[i + 1, p] * b
        c2 += a[i + 2, p] * b
    return (c0, c1, c2)


@_tile
def _tile_1x3(a, bt, i, j, p0, p1):
    """The last rows when m is not a multiple of 3."""
    zero = a.dtype.type(0)
    c0 = c1 = c2 = zero
    for p in range(np.uint64(p0), np.uint64(p1)):
        x = a[i, p]
        c0 += x * bt[j, p]
        c1 += x * bt[j + 1, p]
        c2 += x * bt[j + 2, p]
    return (c0, c1, c2)


@_tile
def _tile_1x1(a, bt, i, j, p0, p1):
    zero = a.dtype.type(0)
    c = zero
    for p in range(np.uint64(p0), np.uint64(p1)):
        c += a[i, p] * bt[j, p]
    return c


# ----------------------------------------------------------------------------- the fused store
@compiled
def _activate(code, v, one):
    """act(v) for one number, in the type of `one`: numba_kernels._activate's formulas."""
    zero = one - one
    if code == RELU:
        return zero if v < zero else v  # NaN passes through, as np.maximum
    if code == SIGMOID:
        e = np.exp(-abs(v))  # in (0, 1]: never overflows
        return one / (one + e) if v >= zero else e / (one + e)
    if code == TANH:
        return np.tanh(v)
    return v


@compiled
def _epilogue(out, y, bias, code, i0, i1, j0, j1):
    """z = out + bias written back to out, and y = act(z), over out[i0:i1, j0:j1]: one tile,
    just stored, still in L1 (rule 6). A plain product (code NO_ACTIVATION) passes `out` as `y`
    and never writes it."""
    one = out.dtype.type(1)
    for i in range(i0, i1):
        for j in range(j0, j1):
            v = out[i, j]
            if bias.size:  # empty: no bias
                v = v + bias[j]
                out[i, j] = v
            if code != NO_ACTIVATION:
                y[i, j] = _activate(code, v, one)


@_store
def _put(v, i, j, out, first):
    """out[i, j] = v, or += v after the first k block."""
    if first:
        out[i, j] = v
    else:
        out[i, j] += v


@compiled
def _block(a, bt, out, y, bias, code, j0, j1, p0, p1):
    """out[:, j0:j1] (+)= a[:, p0:p1]·bt[j0:j1, p0:p1]ᵀ, tile by tile, row of tiles by row;
    after the last k block, each tile's epilogue right after its store."""
    m = a.shape[0]
    first = p0 == 0
    epilogue = p1 == a.shape[1] and (bias.size > 0 or code != NO_ACTIVATION)
    rows = m - m % MR  # the last m % 3 rows and (j1 - j0) % 3 columns: thinner tiles
    cols = j1 - (j1 - j0) % NR
    for i in range(0, rows, MR):
        for j in range(j0, cols, NR):
            c00, c01, c02, c10, c11, c12, c20, c21, c22 = _tile_3x3(a, bt, i, j, p0, p1)
            _put(c00, i, j, out, first)
            _put(c01, i, j + 1, out, first)
            _put(c02, i, j + 2, out, first)
            _put(c10, i + 1, j, out, first)
            _put(c11, i + 1, j + 1, out, first)
            _put(c12, i + 1, j + 2, out, first)
            _put(c20, i + 2, j, out, first)
            _put(c21, i + 2, j + 1, out, first)
            _put(c22, i + 2, j + 2, out, first)
            if epilogue:
                _epilogue(out, y, bias, code, i, i + MR, j, j + NR)
        for j in range(cols, j1):
            c0, c1, c2 = _tile_3x1(a, bt, i, j, p0, p1)
            _put(c0, i, j, out, first)
            _put(c1, i + 1, j, out, first)
            _put(c2, i + 2, j, out, first)
            if epilogue:
                _epilogue(out, y, bias, code, i, i + MR, j, j + 1)
    for i in range(rows, m):
        for j in range(j0, cols, NR):
            c0, c1, c2 = _tile_1x3(a, bt, i, j, p0, p1)
            _put(c0, i, j, out, first)
            _put(c1, i, j + 1, out, first)
            _put(c2, i, j + 2, out, first)
        for j in range(cols, j1):
            _put(_tile_1x1(a, bt, i, j, p0, p1), i, j, out, first)
        if epilogue:
            _epilogue(out, y, bias, code, i, i + 1, j0, j1)


@compiled
def _product(a, bt, out, y, bias, code):
    """The cache blocks (rule 5): column blocks of NC, then k blocks of KC in order (the
    epilogue runs with the last)."""
    k, n = a.shape[1], bt.shape[0]
    for j0 in range(0, n, NC):
        j1 = min(j0 + NC, n)
        for p0 in range(0, max(k, 1), KC):
            _block(a, bt, out, y, bias, code, j0, j1, p0, min(p0 + KC, k))
    return out


# ----------------------------------------------------------------------------- packing
@compiled
def _transpose_into(src, dst):
    """dst = srcᵀ (rule 4), in 16 × 16 blocks: each block's rows of src and of dst stay in cache
    while it is copied, whichever of the two is read across its rows."""
    rows, cols = src.shape
    for i0 in range(0, rows, 16):
        for j0 in range(0, cols, 16):
            for j in range(np.uint64(j0), np.uint64(min(j0 + 16, cols))):
                for i in range(np.uint64(i0), np.uint64(min(i0 + 16, rows))):
                    dst[j, i] = src[i, j]
    return dst


@compiled
def _forward(a, b, bt, out, y, bias, code):
    """out = a·b (+ bias), y = act(out): b (k, n) is packed into bt = bᵀ (n, k) first."""
    return _product(a, _transpose_into(b, bt), out, y, bias, code)


@compiled
def _tn(a, b, at, bt, out, no_bias):
    """out = aᵀ·b: both operands are read down their columns, so both are packed."""
    at, bt = _transpose_into(a, at), _transpose_into(b, bt)
    return _product(at, bt, out, out, no_bias, NO_ACTIVATION)


_buffers = {}


def _buffer(role, shape, dtype):
    """A packing buffer, made once per (role, shape, dtype) and reused by every later call."""
    key = (role, shape, dtype)
    buf = _buffers.get(key)
    if buf is None:
        buf = _buffers[key] = np.empty(shape, dtype)
    return buf


# "no bias" is an empty bias, so that one compiled version serves layers with and without one
_NO_BIAS = {np.dtype(t): np.empty(0, t) for t in (np.float32, np.float64)}


def _code(activation):
    return NO_ACTIVATION if activation is None else EPILOGUES.index(activation)


# ----------------------------------------------------------------------------- the three forms
# Operands must be float32 or float64 arrays of one dtype (`use_numba` checks), and C-ordered:
# a view with other strides is copied first (np.ascontiguousarray, a no-op for C arrays), so
# one compiled version per dtype serves every layout.
def gemm(a, b, out, bias=None, activation=None, y_out=None):
    """out = a·b (+ bias), and y_out = act(out) if an activation is given: x·W + b, the dense
    forward pass.   (m, k)·(k, n) → (m, n); returns y_out, or out."""
    bt = _buffer("bt", b.shape[::-1], b.dtype)
    y = out if y_out is None else y_out
    bias = _NO_BIAS[out.dtype] if bias is None else np.ascontiguousarray(bias)
    _forward(np.ascontiguousarray(a), np.ascontiguousarray(b), bt, out, y, bias, _code(activation))
    return y


def gemm_tn(a, b, out):
    """out = aᵀ·b: the weight gradient xᵀ·dz.   (k, m)ᵀ·(k, n) → (m, n)"""
    at = _buffer("at", a.shape[::-1], a.dtype)
    bt = _buffer("bt", b.shape[::-1], b.dtype)
    a, b = np.ascontiguousarray(a), np.ascontiguousarray(b)
    return _tn(a, b, at, bt, out, _NO_BIAS[out.dtype])


def gemm_nt(a, b, out):
    """out = a·bᵀ: the input gradient dz·Wᵀ.   (m, k)·(n, k)ᵀ → (m, n); nothing to pack."""
    a, b = np.ascontiguousarray(a), np.ascontiguousarray(b)
    return _product(a, b, out, out, _NO_BIAS[out.dtype], NO_ACTIVATION)


# ----------------------------------------------------------------------------- the choice
MATMULS = ("auto", "numba", "blas")
MATMUL = os.environ.get("MINIKERAS_MATMUL", "auto")
if MATMUL not in MATMULS:
    raise ValueError(f"MINIKERAS_MATMUL={MATMUL!r}; expected one of {MATMULS}")


# "auto": products of fewer multiply-adds than this go to numba_gemm, the rest to BLAS.
# Measured (bench/kernels.py, alternating bursts, float32): against OpenBLAS on one thread,
# plus the compiled bias + relu pass for the fused forward, the medians were 0.76× (fused
# forward) and 0.68–0.79× (tn, nt) at (32, 64, 10), 0.63× (fused forward) at (32, 784, 64), and
# 0.45–0.49× at the large shapes; only the plain forward at (32, 64, 10) won (1.31×), and the
# best bursts scattered from 0.3× to 2.7× under the machine's load. No shape was measured
# reliably faster, so none is chosen by default: `MINIKERAS_MATMUL=numba` selects it.
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
