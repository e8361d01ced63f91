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
    "sigmoid_crossentropy",
    "embedding_backward",
    "sgd_update",
    "rmsprop_update",
    "adam_update",
    "batchnorm_moments",
    "batchnorm_forward",
    "batchnorm_backward",
    "im2col",
    "col2im",
    "conv_forward",
    "conv_backward",
    "max_pool_forward",
    "max_pool_backward",
    "max_pool_backward_ties",
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
    "sgd_update_all",
    "rmsprop_update_all",
    "adam_update_all",
    "adagrad_update_all",
    "adadelta_update_all",
    "adamax_update_all",
    "nadam_update_all",
    "ftrl_update_all",
    "lion_update_all",
    "lamb_update_all",
    "depthwise_forward",
    "depthwise_backward",
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
    "lstm_sequence_forward",
    "lstm_sequence_backward",
    "sequence_matmul",
    "sequence_matmul_tn",
    "sequence_matmul_nt",
)
# Every name, bound statically to the readable reference (go-to-definition on
# `kernels.dense_forward` lands there); `use` rebinds them all to the chosen set.
from minikeras.kernels.numpy_kernels import (  # noqa: E402
    FUSED_ACTIVATIONS,
    activation_backward,
    activation_forward,
    adadelta_update,
    adadelta_update_all,
    adafactor_update,
    adagrad_update,
    adagrad_update_all,
    adam_update,
    adam_update_all,
    adamax_update,
    adamax_update_all,
    average_pool_backward,
    average_pool_forward,
    batchnorm_backward,
    batchnorm_forward,
    batchnorm_moments,
    bias_grad,
    col2im,
    conv_backward,
    conv_forward,
    dense_backward,
    dense_forward,
    depthwise_backward,
    depthwise_forward,
    embedding_backward,
    ftrl_update,
    ftrl_update_all,
    im2col,
    lamb_update,
    lamb_update_all,
    lion_update,
    lion_update_all,
    matmul,
    matmul_nt,
    matmul_tn,
    max_pool_backward,
    max_pool_backward_ties,
    max_pool_forward,
    nadam_u_product,
    nadam_update,
    nadam_update_all,
    rmsprop_update,
    rmsprop_update_all,
    sgd_update,
    sgd_update_all,
    softmax_crossentropy,
)
from minikeras.kernels.numpy_rnn_kernels import (  # noqa: E402
    RNN_ACTIVATIONS,
    gru_candidate_forward,
    gru_gates_forward,
    gru_reset_backward,
    gru_step_backward,
    lstm_sequence_backward,
    lstm_sequence_forward,
    lstm_step_backward,
    lstm_step_forward,
    sequence_matmul,
    sequence_matmul_nt,
    sequence_matmul_tn,
)

NAMES = ("numba", "numpy")
_current = None


def use(name: str) -> None:
    """Make `name` ("numba" or "numpy") the kernel set every layer and optimizer calls."""
    global _current
    if name not in NAMES:
        raise ValueError(f"Unknown kernel set {name!r}; expected one of {NAMES}")
    if name == "numba":  # its runtime first: it sets the JIT cache, then imports Numba lean
        importlib.import_module("minikeras.kernels.numba_runtime")
    module = importlib.import_module(f"minikeras.kernels.{name}_kernels")
    rnn_module = importlib.import_module(f"minikeras.kernels.{name}_rnn_kernels")
    namespace = globals()  # this module's names, listed in CONTRACT and bound above
    for attr in CONTRACT:
        namespace[attr] = getattr(module, attr)
    for attr in RNN_CONTRACT:
        namespace[attr] = getattr(rnn_module, attr)
    _current = name


def current() -> str:
    """The name of the kernel set in use."""
    return _current


use(os.environ.get("MINIKERAS_KERNELS", "numba"))
