"""minikeras: Keras's training workflow rebuilt from scratch in NumPy, with Numba kernels.

>>> from minikeras import Sequential
>>> from minikeras.layers import Dense
"""

from minikeras import (
    activations,
    callbacks,
    config,
    initializers,
    kernels,
    layers,
    losses,
    metrics,
    models,
    optimizers,
    saving,
    utils,
)
from minikeras.layers import Input
from minikeras.models import Model, Sequential

__version__ = "0.1.0"

__all__ = [
    "Input",
    "Model",
    "Sequential",
    "activations",
    "callbacks",
    "config",
    "initializers",
    "kernels",
    "layers",
    "losses",
    "metrics",
    "models",
    "optimizers",
    "saving",
    "utils",
]
