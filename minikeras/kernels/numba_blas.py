"""Matrix products called from inside compiled code: NumPy's own OpenBLAS, through its C entry
points, so that a whole training step can run in one compiled call (models/compiled_step.py).

Why not `np.dot` inside `@njit`: Numba compiles it to SciPy's separate OpenBLAS (a second thread
pool on the same cores, and SciPy's import time; rule 1 of numba_kernels.py). NumPy's wheel
ships its OpenBLAS with the CBLAS functions exported (`scipy_cblas_sgemm64_`, 64-bit integers);
their addresses are registered with LLVM under those names, and `types.ExternalFunction`
declares them, so the compiled code calls BLAS directly and the JIT cache stays valid across
processes (the address is looked up by name when a cached function is loaded).

The products are bit-identical to `np.matmul`'s: these functions pass OpenBLAS exactly the
arguments NumPy's matmul passes for C-contiguous operands (numpy/_core/src/umath/matmul.c.src,
`matmul_matrixmatrix`): row-major order, a transposed operand given as a "transpose" flag with
the leading dimension of its memory. NumPy takes other routes (dot, gemv, a plain loop) when a
dimension is 1; callers use these only when every dimension is at least 2.

`AVAILABLE` is False where NumPy's BLAS is not an OpenBLAS that exports these names (another
BLAS, a NumPy built from source): then nothing here is compiled and callers keep `np.matmul`.
"""

import ctypes
import glob
import os

import numpy as np

from minikeras.kernels.numba_runtime import compiled

ROW_MAJOR, NO_TRANS, TRANS = 101, 111, 112  # CBLAS's enum values


def _openblas_symbols():
    """{name: address} of NumPy's OpenBLAS sgemm and dgemm, or {} where they are not found."""
    libs = os.path.join(os.path.dirname(np.__file__), os.pardir, "numpy.libs")
    for path in glob.glob(os.path.join(libs, "*openblas*")):  # the manylinux wheels' layout
        lib = ctypes.CDLL(path)  # already loaded by numpy: this only finds it
        names = {"s": "scipy_cblas_sgemm64_", "d": "scipy_cblas_dgemm64_"}
        found = {k: getattr(lib, name, None) for k, name in names.items()}
        if all(f is not None for f in found.values()):
            return {names[k]: ctypes.cast(f, ctypes.c_void_p).value for k, f in found.items()}
    return {}


_SYMBOLS = _openblas_symbols()
AVAILABLE = bool(_SYMBOLS)

if AVAILABLE:
    import llvmlite.binding as llvm
    from numba import types
    from numba.extending import overload

    for _name, _address in _SYMBOLS.items():
        llvm.add_symbol(_name, _address)

    def _declare(name, scalar):
        i32, i64, pointer = types.int32, types.int64, types.CPointer(scalar)
        signature = types.void(
            i32, i32, i32, i64, i64, i64, scalar, pointer, i64, pointer, i64, scalar, pointer, i64
        )
        return types.ExternalFunction(name, signature)

    _sgemm = _declare("scipy_cblas_sgemm64_", types.float32)
    _dgemm = _declare("scipy_cblas_dgemm64_", types.float64)

    def _cblas_gemm(trans_a, trans_b, m, n, k, a, lda, b, ldb, c, ldc):
        """C = op(A)·op(B), row-major (see `gemm_nn`); chosen by dtype while compiling."""

    @overload(_cblas_gemm)
    def _cblas_gemm_typed(trans_a, trans_b, m, n, k, a, lda, b, ldb, c, ldc):
        gemm = _sgemm if c.dtype == types.float32 else _dgemm

        def call(trans_a, trans_b, m, n, k, a, lda, b, ldb, c, ldc):
            one, zero = c.dtype.type(1), c.dtype.type(0)
            gemm(ROW_MAJOR, trans_a, trans_b, m, n, k, one, a.ctypes, lda, b.ctypes, ldb, zero,
                 c.ctypes, ldc)  # fmt: skip

        return call

    @compiled
    def gemm_nn(a, b, out):
        """out = a·b        (m, k)·(k, n); as np.matmul(a, b, out=out)"""
        m, k = a.shape
        n = b.shape[1]
        _cblas_gemm(NO_TRANS, NO_TRANS, m, n, k, a, k, b, n, out, n)

    @compiled
    def gemm_tn(a, b, out):
        """out = aᵀ·b       (k, m)ᵀ·(k, n); as np.matmul(a.T, b, out=out): the weight gradient"""
        k, m = a.shape
        n = b.shape[1]
        _cblas_gemm(TRANS, NO_TRANS, m, n, k, a, m, b, n, out, n)

    @compiled
    def gemm_nt(a, b, out):
        """out = a·bᵀ       (m, k)·(n, k)ᵀ; as np.matmul(a, b.T, out=out): the input gradient"""
        m, k = a.shape
        n = b.shape[0]
        _cblas_gemm(NO_TRANS, TRANS, m, n, k, a, k, b, k, out, n)
