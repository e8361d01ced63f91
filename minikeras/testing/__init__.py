"""Tools for testing layers and models: `check_gradients` (a model's hand-written backward
against central differences) and `TestCase` (Keras's test helpers: `run_layer_test`,
`assertAllClose`, ...)."""

from minikeras.testing.gradient_check import (
    EPSILON,
    central_difference,
    check_gradients,
    loss_and_gradients,
    numerical_gradient,
    weight_labels,
)
from minikeras.testing.test_case import (
    TestCase,
    jax_uses_gpu,
    jax_uses_tpu,
    tensorflow_uses_gpu,
    tensorflow_uses_tpu,
    torch_uses_gpu,
    uses_gpu,
    uses_tpu,
)

__all__ = [
    "EPSILON",
    "TestCase",
    "central_difference",
    "check_gradients",
    "loss_and_gradients",
    "numerical_gradient",
    "weight_labels",
    "jax_uses_gpu",
    "jax_uses_tpu",
    "tensorflow_uses_gpu",
    "tensorflow_uses_tpu",
    "torch_uses_gpu",
    "uses_gpu",
    "uses_tpu",
]
