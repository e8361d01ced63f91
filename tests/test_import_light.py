"""The core never imports Keras or TensorFlow: every module outside minikeras/parity is
imported in a fresh interpreter, and neither is in sys.modules after."""

import os
import pathlib
import subprocess
import sys

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
hidden = "scipy.linalg" not in sys.modules
import scipy.linalg  # the user's SciPy still imports,
dot = njit(lambda a, b: np.dot(a, b))  # and Numba's np.dot still finds its BLAS
print(hidden, scipy.linalg.inv(2 * np.eye(2))[0, 0], dot(np.ones((2, 2)), np.ones((2, 2)))[0, 0])
"""


def test_numba_starts_without_scipy_linalg():
    """numba_runtime hides SciPy while Numba's array functions import (29 MB and ~0.2 s of
    scipy.linalg that minikeras never uses), without taking SciPy away from the user."""
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
