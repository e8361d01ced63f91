"""The Numba runtime the compiled kernels run in: where the JIT cache lives, and how many threads
NumPy's BLAS uses for a product (rules 3 and 7 of numba_kernels.py). Kept apart from the kernels,
so that numba_kernels.py holds the kernels and their rules only.
"""

import contextlib
import ctypes
import glob
import importlib
import os
import sys
import tempfile

import numpy as np


# ----------------------------------------------------------------------------- JIT cache location
def _writable(path):
    """True if `path` (a directory) exists or can be made, and a file can be created in it."""
    try:
        os.makedirs(path, exist_ok=True)
        tempfile.TemporaryFile(dir=path).close()
        return True
    except OSError:
        return False


_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))


def choose_cache_dir(environ=os.environ, package_dir=_PACKAGE_DIR):
    """Where Numba should cache compiled kernels, or None to keep its default (beside the source).

    A read-only install (site-packages owned by root, a container image) cannot hold the cache
    in `__pycache__`, so it goes to `$XDG_CACHE_HOME/minikeras/numba` (or ~/.cache/...), then to
    the temp dir. An explicit `NUMBA_CACHE_DIR` always wins.
    """
    if environ.get("NUMBA_CACHE_DIR") or _writable(os.path.join(package_dir, "__pycache__")):
        return None
    user_cache = environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    user = getattr(os, "getuid", lambda: "user")()  # one temp cache per user (POSIX)
    for path in (
        os.path.join(user_cache, "minikeras", "numba"),
        os.path.join(tempfile.gettempdir(), f"minikeras-numba-{user}"),
    ):
        if _writable(path):
            return path
    return None  # nowhere to write: Numba compiles in memory only


_cache_dir = choose_cache_dir()
if _cache_dir is not None:  # set before numba reads its configuration and compiles anything
    os.environ["NUMBA_CACHE_DIR"] = _cache_dir


# ----------------------------------------------------------------------------- memory
def _import_without_scipy(name):
    """Import module `name` with SciPy hidden, and return it. Numba looks for SciPy twice, for
    nothing minikeras uses: `import numba` imports it only to check its version (~0.9 MB
    resident), and its array functions (numba.np.arraymath, which the first compiled or
    cached call needs anyway) check once whether SciPy's BLAS is there, only to pick how
    np.correlate adds its products; that check imports scipy.linalg (29 MB resident, ~0.2 s),
    for a BLAS minikeras never calls (rule 1 of numba_kernels.py). Measured: the tutorial
    run's peak memory 165 → 151 MB with arraymath's import so, 158.4 → 157.5 MB with numba's.
    Numba's np.dot looks for SciPy again when it is compiled, and SciPy imports normally
    afterwards: it is hidden for these imports only (a SciPy already imported stays)."""
    hidden = next((s for s in ("scipy", "scipy.linalg") if s not in sys.modules), None)
    if hidden is None or name in sys.modules:
        return importlib.import_module(name)  # nothing to save
    sys.modules[hidden] = None  # importing it now raises ImportError
    try:
        return importlib.import_module(name)
    finally:
        if sys.modules.get(hidden, 0) is None:
            del sys.modules[hidden]


numba = _import_without_scipy("numba")  # after the cache directory is chosen
_import_without_scipy("numba.np.arraymath")
from numba import njit  # noqa: E402

if _cache_dir is not None:  # numba may have been imported earlier, with its config already read
    numba.config.CACHE_DIR = _cache_dir

# Every compiled function: cached on disk (rule 7) and with NumPy's floating-point error model
# (rule 4): x/0 gives ±inf or nan, as in the reference, instead of raising ZeroDivisionError.
compiled = njit(cache=True, error_model="numpy")
# The same, releasing Python's lock while it runs: for kernels called from several threads at once
compiled_nogil = njit(cache=True, error_model="numpy", nogil=True)

# ----------------------------------------------------------------------------- BLAS threads
SMALL_PRODUCT = 1 << 22  # m·k·n below which a product runs on one BLAS thread (rule 3)


def _find_blas_threads():
    """NumPy's OpenBLAS (get_num_threads, set_num_threads), or None (another BLAS, or the user
    chose the threads with OPENBLAS_NUM_THREADS / OMP_NUM_THREADS)."""
    if "OPENBLAS_NUM_THREADS" in os.environ or "OMP_NUM_THREADS" in os.environ:
        return None
    libs = os.path.join(os.path.dirname(np.__file__), os.pardir, "numpy.libs")
    for path in glob.glob(os.path.join(libs, "*openblas*")):  # the manylinux wheels' layout
        lib = ctypes.CDLL(path)  # already loaded by numpy: this only finds it
        for suffix in ("64_", ""):
            getter = getattr(lib, f"scipy_openblas_get_num_threads{suffix}", None)
            setter = getattr(lib, f"scipy_openblas_set_num_threads{suffix}", None)
            if getter is not None and setter is not None:
                getter.argtypes, getter.restype = [], ctypes.c_int
                setter.argtypes, setter.restype = [ctypes.c_int], None
                return getter, setter
    return None


_blas_threads = _find_blas_threads()


def numba_threads():
    """numba.set_num_threads's value once Numba's pool runs, else NUMBA_NUM_THREADS (asking
    `numba.get_num_threads` would start the pool, and costs ~6 µs)."""
    from numba.np.ufunc import parallel

    running = getattr(parallel, "_is_initialized", True)  # (a private flag: if gone, just ask)
    return numba.get_num_threads() if running else numba.config.NUMBA_NUM_THREADS


def gemm(a, b, out, size, threads=None):
    """out = a·b through NumPy's BLAS, on the threads rule 3 picks for `size` = m·k·n (or on
    `threads`, when given); BLAS's own setting is put back afterwards, so the user's NumPy
    code never notices."""
    if _blas_threads is None:
        return np.matmul(a, b, out=out)
    get_threads, set_threads = _blas_threads
    if threads is None:
        threads = 1 if size < SMALL_PRODUCT else numba_threads()
    before = get_threads()
    if threads == before:
        return np.matmul(a, b, out=out)
    set_threads(threads)
    try:
        return np.matmul(a, b, out=out)
    finally:
        set_threads(before)


@contextlib.contextmanager
def one_blas_thread():
    """BLAS on one thread inside the block (unless the user chose the threads), restored
    after: for products run side by side on threads of minikeras's own (numba_kernels.py's
    rule for convolutions), where a shared setting must not change under a running call."""
    if _blas_threads is None:
        yield
        return
    get_threads, set_threads = _blas_threads
    before = get_threads()
    set_threads(1)
    try:
        yield
    finally:
        set_threads(before)


def use_blas_threads(size):
    """Rule 3 for compiled code that calls BLAS itself (numba_blas.py): set NumPy's BLAS to the
    threads a product of `size` multiply-adds gets from `gemm`. Returns the setting to put back
    with `restore_blas_threads` (None when nothing changed)."""
    if _blas_threads is None:
        return None
    get_threads, set_threads = _blas_threads
    threads = 1 if size < SMALL_PRODUCT else numba_threads()
    before = get_threads()
    if threads == before:
        return None
    set_threads(threads)
    return before


def restore_blas_threads(before):
    if before is not None:
        _blas_threads[1](before)
