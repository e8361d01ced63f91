"""The compute floor: every array operation of a training step goes through these functions.

Two implementations keep one contract (see `numpy_kernels.py` for it, written out):
`numba_kernels` (the default, compiled) and `numpy_kernels` (the readable reference).
`minikeras.config.set_kernels("numba" | "numpy")` or the environment variable
`MINIKERAS_KERNELS` picks one. Callers use `kernels.matmul(...)` (attribute access at call time),
so switching takes effect everywhere at once.
"""

import importlib
import os

CONTRACT = (
    "FUSED_ACTIVATIONS",
    "matmul",
    "matmul_tn",
    "matmul_nt",
    "bias_grad",
    "activation_forward",
    "activation_backward",
    "dense_forward",
    "dense_backward",
    "softmax_crossentropy",
    "sgd_update",
    "rmsprop_update",
    "adam_update",
    "adagrad_update",
    "adadelta_update",
    "adamax_update",
    "nadam_u_product",
    "nadam_update",
    "ftrl_update",
    "lion_update",
    "lamb_update",
    "adafactor_update",
)
NAMES = ("numba", "numpy")
_current = None


def use(name: str) -> None:
    """Make `name` ("numba" or "numpy") the kernel set every layer and optimizer calls."""
    global _current
    if name not in NAMES:
        raise ValueError(f"Unknown kernel set {name!r}; expected one of {NAMES}")
    module = importlib.import_module(f"minikeras.kernels.{name}_kernels")
    globals().update({attr: getattr(module, attr) for attr in CONTRACT})
    _current = name


def current() -> str:
    """The name of the kernel set in use."""
    return _current


use(os.environ.get("MINIKERAS_KERNELS", "numba"))
