"""The core never imports Keras or TensorFlow: every module outside minikeras/parity is
imported in a fresh interpreter, and neither is in sys.modules after."""

import os
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent

CODE = """
import importlib, pkgutil, sys
import minikeras
names = [
    info.name
    for info in pkgutil.walk_packages(minikeras.__path__, "minikeras.")
    if not info.name.startswith("minikeras.parity") and info.name != "minikeras.__main__"
]
for name in names:
    importlib.import_module(name)
heavy = [m for m in ("keras", "tensorflow") if m in sys.modules]
print(len(names), heavy)
assert not heavy, heavy
"""


def test_no_module_outside_parity_imports_keras_or_tensorflow():
    done = subprocess.run(
        [sys.executable, "-c", CODE], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    count = int(done.stdout.split()[0])
    assert count > 60  # the walk found the package's modules


SCIPY_CODE = """
import sys
import numpy as np
import minikeras
from minikeras.kernels import numba_kernels
from numba import njit
numba_kernels.bias_grad(np.ones((2, 3), np.float32), np.empty(3, np.float32))  # Numba started
hidden = not [m for m in ("scipy", "multiprocessing") if m in sys.modules]
import scipy.linalg  # the user's SciPy still imports,
dot = njit(lambda a, b: np.dot(a, b))  # and Numba's np.dot still finds its BLAS
print(hidden, scipy.linalg.inv(2 * np.eye(2))[0, 0], dot(np.ones((2, 2)), np.ones((2, 2)))[0, 0])
"""


def test_numba_starts_without_scipy_or_multiprocessing():
    """numba_runtime hides SciPy while Numba and its array functions import (~30 MB and ~0.2 s
    of scipy and scipy.linalg that minikeras never uses), without taking SciPy away from the
    user; multiprocessing is imported only by a PyDataset that asks for processes."""
    done = subprocess.run(
        [sys.executable, "-c", SCIPY_CODE], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["True", "0.5", "2.0"]


NUMPY_SET_CODE = """
import sys
import minikeras
loaded = [m for m in ("numba", "llvmlite", "urllib.request", "http.client") if m in sys.modules]
print(loaded)
assert not loaded, loaded
"""


def test_the_numpy_kernel_set_loads_neither_numba_nor_the_web():
    """With MINIKERAS_KERNELS=numpy, `import minikeras` loads no Numba (its ~68 MB and ~0.6 s
    belong to the numba kernel set) and no urllib.request (RemoteMonitor imports it to send)."""
    env = {**os.environ, "MINIKERAS_KERNELS": "numpy"}
    done = subprocess.run(
        [sys.executable, "-c", NUMPY_SET_CODE],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    assert done.returncode == 0, done.stdout + done.stderr


ML_DTYPES_CODE = """
import sys
import numpy as np
import minikeras
from minikeras import backend, initializers, layers, ops
before = "ml_dtypes" in sys.modules
dtype = {case}
print(before, np.dtype(dtype).name)
"""


@pytest.mark.parametrize(
    "case",
    [
        'layers.Dense(2, dtype="bfloat16")(np.ones((1, 3), "float32")).dtype',
        'ops.cast(np.ones(2), "bfloat16").dtype',
        'initializers.GlorotUniform()((2, 2), dtype="bfloat16").dtype',
        'backend.Variable(np.ones(2), dtype="bfloat16").dtype',
        'backend.standardize_dtype("float8_e5m2")',
    ],
)
def test_ml_dtypes_is_imported_when_one_of_its_types_is_named(case):
    """`import minikeras` leaves ml_dtypes out (~2 MB resident); each way a user names
    bfloat16 or a float8 type imports it first, so NumPy knows the name, as with Keras."""
    env = {**os.environ, "MINIKERAS_KERNELS": "numpy"}
    done = subprocess.run(
        [sys.executable, "-c", ML_DTYPES_CODE.format(case=case)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    before, name = done.stdout.split()
    assert before == "False"
    assert name in ("bfloat16", "float8_e5m2")
