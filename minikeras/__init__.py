"""minikeras: Keras's training workflow rebuilt from scratch in NumPy, with Numba kernels.

>>> from minikeras import Sequential
>>> from minikeras.layers import Dense
"""

from minikeras import (
    activations,
    applications,
    autodiff,
    backend,
    callbacks,
    config,
    constraints,
    dtype_policies,
    initializers,
    kernels,
    layers,
    losses,
    metrics,
    mixed_precision,
    models,
    ops,
    optimizers,
    preprocessing,
    random,
    regularizers,
    saving,
    tree,
    utils,
)
from minikeras.autodiff import GradientTape, Variable
from minikeras.config import DTypePolicy
from minikeras.initializers import Initializer
from minikeras.layers import Input, InputSpec, KerasTensor, Layer
from minikeras.losses import Loss
from minikeras.metrics import Metric
from minikeras.models import Model, Sequential
from minikeras.optimizers import Optimizer
from minikeras.regularizers import Regularizer

__version__ = "0.1.0"


def version() -> str:
    """minikeras's version (Keras's `keras.version()`)."""
    return __version__


FloatDTypePolicy = DTypePolicy  # Keras 3's older name for the same class

__all__ = [
    "DTypePolicy",
    "FloatDTypePolicy",
    "GradientTape",
    "InputSpec",
    "Initializer",
    "Input",
    "KerasTensor",
    "Layer",
    "Loss",
    "Metric",
    "Optimizer",
    "Regularizer",
    "backend",
    "preprocessing",
    "version",
    "Variable",
    "autodiff",
    "backend",
    "dtype_policies",
    "ops",
    "Model",
    "Sequential",
    "activations",
    "applications",
    "callbacks",
    "config",
    "constraints",
    "initializers",
    "kernels",
    "layers",
    "losses",
    "metrics",
    "mixed_precision",
    "models",
    "optimizers",
    "random",
    "regularizers",
    "saving",
    "tree",
    "utils",
]
