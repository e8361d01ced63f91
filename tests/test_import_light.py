"""The core never imports Keras or TensorFlow: every module outside minikeras/parity is
imported in a fresh interpreter, and neither is in sys.modules after."""

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
