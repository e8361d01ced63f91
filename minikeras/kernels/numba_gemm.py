"""A matrix product written in Numba: register tiles, packing, cache blocks, a fused epilogue.

    out = a·bᵀ (+ bias, then act)      a (m, k) rows along k, bt (n, k) rows along k → (m, n)

Every product is brought to that one form, both operands read along k: x·W packs Wᵀ, xᵀ·dz
packs xᵀ and dzᵀ, dz·Wᵀ packs nothing (dz and W already are rows along k). `docs/kernels.md`
walks through how each step below was found; `bench/gemm_stages.py` measures them.

Rules, chosen by measurement on the 2-core AMD EPYC (Zen 3, AVX2 + FMA; L1d 32 KiB, L2 512 KiB
per core, L3 32 MiB) of `bench/README.md`:

1. The register tile is 3 rows × 3 columns of dot products along k. LLVM vectorises a loop
   that *reduces along a contiguous axis* (each of the 9 sums becomes one 8-lane AVX2 register,
   reduced across lanes once at the end), but it never keeps the classic outer-product tile
   (a row of B broadcast against a column of A) in registers: Numba cannot say that the tile
   and the operands do not overlap, so every partial sum went to memory and back (measured:
   1.3 GFLOP/s, scalar code). 3×3 uses 9 accumulators + 6 loads of the 16 registers, 6 loads
   for 9 fused multiply-adds; 2×2 (4 for 4) ran at half the speed, 4×3 spills registers.
2. `fastmath={"contract", "reassoc"}` on the tile only, nothing else: `contract` lets LLVM fuse
   a·b + c into one FMA (one rounding instead of two, as OpenBLAS does), `reassoc` lets it
   split each sum into 8 lanes (the order of the k-terms changes, as it does between BLAS
   libraries). No `nnan`/`ninf`/flush-to-zero: NaN and inf propagate as in NumPy. The result
   is a sum of the same products in another order: within k·ε·Σ|aᵢₚ·bₚⱼ| of the exact value,
   the bound BLAS's result also obeys (ε = 2⁻²⁴ in float32), which tests/unit/test_gemm.py
   checks against float64 NumPy. The epilogue (bias, activation) is compiled without fastmath.
3. Packing: an operand that is not already rows along k is copied once per call into a buffer
   kept per (role, shape, dtype) and reused, so the tile always reads two contiguous streams.
   The transposing copy walks blocks of 16 × 16 so both sides stay in cache.
4. Cache blocks: the columns (rows of bt) are cut into blocks of NC = 96 and k into KC = 1024:
   a block of bt (96 × 1024 floats, 384 KiB) stays in the 512 KiB L2 while every tile row of a
   passes over it, and 3 rows of a (12 KiB) stay in L1 across a whole block row. Measured at
   (128, 512, 512) float32, one thread: NC 48/96/192 → see the table in bench/results.md.
5. The epilogue is fused into the tile's store: when the last k block is done, each of the 9
   sums gets its bias and activation (linear, relu, sigmoid, tanh) as it is written, so z and
   act(z) leave the registers once and no second pass reads z back.
6. Threads: the column blocks are independent, so a `prange` over them splits the product
   between Numba's threads, for products of at least `THREADED_PRODUCT` multiply-adds only; below
   that, handing blocks to a second thread costs more than it saves (see `use_numba`).

`use_numba(m, k, n)` is the rule that picks this product or BLAS, with its measurements.
"""

import os

import numpy as np
from numba import njit

from minikeras.kernels.numba_runtime import compiled

# rule 2: only the tile's sums may be contracted into FMAs and reassociated into lanes
_tile = njit(cache=True, error_model="numpy", fastmath={"contract", "reassoc"})

EPILOGUES = ("linear", "relu", "sigmoid", "tanh")  # the same codes as numba_kernels.py's
LINEAR, RELU, SIGMOID, TANH = range(len(EPILOGUES))
NO_ACTIVATION = -1  # a plain product: out only

MR, NR = 3, 3  # the register tile (rule 1)
KC, NC = 1024, 96  # the cache blocks (rule 4)


# ----------------------------------------------------------------------------- the register tiles
# Each returns its sums Σₚ a[i+r, p]·bt[j+s, p] over p0 ≤ p < p1, row by row, as a tuple.
@_tile
def _tile_3x3(a, bt, i, j, p0, p1):
    zero = a.dtype.type(0)
    c00 = c01 = c02 = c10 = c11 = c12 = c20 = c21 = c22 = zero
    for p in range(np.uint64(p0), np.uint64(p1)):
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
def _put(v, i, j, out, y, bias, code, first, last):
    """Write one sum at out[i, j]: added to what earlier k blocks left there unless this is the
    `first`, and, after the `last`, with the bias and the activation (rule 5). A plain product
    (code NO_ACTIVATION) passes `out` as `y` and never writes it."""
    if not first:
        v = out[i, j] + v
    if last and bias is not None:
        v = v + bias[j]
    out[i, j] = v
    if last and code != NO_ACTIVATION:
        y[i, j] = _activate(code, v, out.dtype.type(1))


@compiled
def _block(a, bt, out, y, bias, code, j0, j1, p0, p1):
    """out[:, j0:j1] (+)= a[:, p0:p1]·bt[j0:j1, p0:p1]ᵀ, tile by tile, row of tiles by row."""
    m = a.shape[0]
    first, last = p0 == 0, p1 == a.shape[1]
    rows = m - m % MR  # the last m % 3 rows and (j1 - j0) % 3 columns: thinner tiles
    cols = j1 - (j1 - j0) % NR
    for i in range(0, rows, MR):
        for j in range(j0, cols, NR):
            c00, c01, c02, c10, c11, c12, c20, c21, c22 = _tile_3x3(a, bt, i, j, p0, p1)
            _put(c00, i, j, out, y, bias, code, first, last)
            _put(c01, i, j + 1, out, y, bias, code, first, last)
            _put(c02, i, j + 2, out, y, bias, code, first, last)
            _put(c10, i + 1, j, out, y, bias, code, first, last)
            _put(c11, i + 1, j + 1, out, y, bias, code, first, last)
            _put(c12, i + 1, j + 2, out, y, bias, code, first, last)
            _put(c20, i + 2, j, out, y, bias, code, first, last)
            _put(c21, i + 2, j + 1, out, y, bias, code, first, last)
            _put(c22, i + 2, j + 2, out, y, bias, code, first, last)
        for j in range(cols, j1):
            c0, c1, c2 = _tile_3x1(a, bt, i, j, p0, p1)
            _put(c0, i, j, out, y, bias, code, first, last)
            _put(c1, i + 1, j, out, y, bias, code, first, last)
            _put(c2, i + 2, j, out, y, bias, code, first, last)
    for i in range(rows, m):
        for j in range(j0, cols, NR):
            c0, c1, c2 = _tile_1x3(a, bt, i, j, p0, p1)
            _put(c0, i, j, out, y, bias, code, first, last)
            _put(c1, i, j + 1, out, y, bias, code, first, last)
            _put(c2, i, j + 2, out, y, bias, code, first, last)
        for j in range(cols, j1):
            _put(_tile_1x1(a, bt, i, j, p0, p1), i, j, out, y, bias, code, first, last)


@compiled
def _product(a, bt, out, y, bias, code):
    """The cache blocks (rule 4): column blocks of NC, then k blocks of KC in order (the
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
    """dst = srcᵀ (rule 3), in 16 × 16 blocks: each block's rows of src and of dst stay in cache
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
def _tn(a, b, at, bt, out):
    """out = aᵀ·b: both operands are read down their columns, so both are packed."""
    return _product(_transpose_into(a, at), _transpose_into(b, bt), out, out, None, NO_ACTIVATION)


_buffers = {}


def _buffer(role, shape, dtype):
    """A packing buffer, made once per (role, shape, dtype) and reused by every later call."""
    key = (role, shape, dtype)
    buf = _buffers.get(key)
    if buf is None:
        buf = _buffers[key] = np.empty(shape, dtype)
    return buf


def _code(activation):
    return NO_ACTIVATION if activation is None else EPILOGUES.index(activation)


# ----------------------------------------------------------------------------- the three forms
# Operands must be float32 or float64 arrays of one dtype (`use_numba` checks); `a` in `gemm`
# and both in `gemm_nt` are read along their rows, so a view with other strides is copied first.
def gemm(a, b, out, bias=None, activation=None, y_out=None):
    """out = a·b (+ bias), and y_out = act(out) if an activation is given: x·W + b, the dense
    forward pass.   (m, k)·(k, n) → (m, n); returns y_out, or out."""
    bt = _buffer("bt", b.shape[::-1], b.dtype)
    y = out if y_out is None else y_out
    _forward(np.ascontiguousarray(a), b, bt, out, y, bias, _code(activation))
    return y


def gemm_tn(a, b, out):
    """out = aᵀ·b: the weight gradient xᵀ·dz.   (k, m)ᵀ·(k, n) → (m, n)"""
    at = _buffer("at", a.shape[::-1], a.dtype)
    bt = _buffer("bt", b.shape[::-1], b.dtype)
    return _tn(a, b, at, bt, out)


def gemm_nt(a, b, out):
    """out = a·bᵀ: the input gradient dz·Wᵀ.   (m, k)·(n, k)ᵀ → (m, n); nothing to pack."""
    return _product(np.ascontiguousarray(a), np.ascontiguousarray(b), out, out, None, NO_ACTIVATION)


# ----------------------------------------------------------------------------- the choice
MATMULS = ("auto", "numba", "blas")
MATMUL = os.environ.get("MINIKERAS_MATMUL", "auto")
if MATMUL not in MATMULS:
    raise ValueError(f"MINIKERAS_MATMUL={MATMUL!r}; expected one of {MATMULS}")


def use_numba(a, b, out, m, k, n):
    """True where this module makes the (m, k)·(k, n) product of a and b into out, not BLAS.

    `MINIKERAS_MATMUL=numba` or `=blas` in the environment forces one everywhere (for the
    arrays this module takes: float32 or float64, all three of one dtype); "auto", the default,
    is the rule below.
    """
    if MATMUL == "blas" or not (a.dtype == b.dtype == out.dtype and a.dtype in _DTYPES):
        return False
    if MATMUL == "numba":
        return True
    return m * k * n <= 1 << 21


_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))
