"""minikeras: Keras's training workflow rebuilt from scratch in NumPy, with Numba kernels.

>>> from minikeras import Sequential
>>> from minikeras.layers import Dense
"""

from minikeras import (
    activations,
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
    models,
    ops,
    optimizers,
    random,
    regularizers,
    saving,
    utils,
)
from minikeras.autodiff import GradientTape, Variable
from minikeras.layers import Input, Layer
from minikeras.models import Model, Sequential

__version__ = "0.1.0"

__all__ = [
    "GradientTape",
    "Input",
    "Layer",
    "Variable",
    "autodiff",
    "backend",
    "dtype_policies",
    "ops",
    "Model",
    "Sequential",
    "activations",
    "callbacks",
    "config",
    "constraints",
    "initializers",
    "kernels",
    "layers",
    "losses",
    "metrics",
    "models",
    "optimizers",
    "random",
    "regularizers",
    "saving",
    "utils",
]
