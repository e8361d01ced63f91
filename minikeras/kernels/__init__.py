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
    "embedding_backward",
    "sgd_update",
    "rmsprop_update",
    "adam_update",
    "batchnorm_moments",
    "batchnorm_forward",
    "batchnorm_backward",
    "im2col",
    "col2im",
    "max_pool_forward",
    "max_pool_backward",
    "average_pool_forward",
    "average_pool_backward",
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
# The recurrent steps' gate arithmetic, in their own pair of modules ({name}_rnn_kernels.py)
RNN_CONTRACT = (
    "RNN_ACTIVATIONS",
    "lstm_step_forward",
    "lstm_step_backward",
    "gru_gates_forward",
    "gru_candidate_forward",
    "gru_step_backward",
    "gru_reset_backward",
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
    rnn_module = importlib.import_module(f"minikeras.kernels.{name}_rnn_kernels")
    globals().update({attr: getattr(rnn_module, attr) for attr in RNN_CONTRACT})
    _current = name


def current() -> str:
    """The name of the kernel set in use."""
    return _current


use(os.environ.get("MINIKERAS_KERNELS", "numba"))
