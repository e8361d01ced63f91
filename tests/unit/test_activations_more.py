"""Keras's other activations (relu6, celu, glu, the shrinks, sparsemax, log_softmax, ...): values
against one-element formulas written with `math`, and every backward against central
differences in float64 (agreement ~1e-10 expected from ε = 1e-6; checked at rtol 1e-6)."""

import math

import numpy as np
import pytest
from gradcheck import assert_gradient_close, numerical_gradient

from minikeras import activations
from minikeras.autodiff import GradientTape, Tensor

REFERENCE = {
    "relu6": lambda v: min(max(v, 0.0), 6.0),
    "celu": lambda v: v if v > 0 else math.expm1(v),
    "hard_sigmoid": lambda v: min(max(v / 6 + 0.5, 0.0), 1.0),
    "hard_silu": lambda v: v * min(max(v / 6 + 0.5, 0.0), 1.0),
    "hard_swish": lambda v: v * min(max(v / 6 + 0.5, 0.0), 1.0),
    "hard_tanh": lambda v: min(max(v, -1.0), 1.0),
    "hard_shrink": lambda v: v if abs(v) > 0.5 else 0.0,
    "soft_shrink": lambda v: v - 0.5 if v > 0.5 else (v + 0.5 if v < -0.5 else 0.0),
    "tanh_shrink": lambda v: v - math.tanh(v),
    "squareplus": lambda v: (v + math.sqrt(v * v + 4)) / 2,
    "sparse_plus": lambda v: 0.0 if v <= -1 else ((v + 1) ** 2 / 4 if v < 1 else v),
    "sparse_sigmoid": lambda v: 0.0 if v <= -1 else ((v + 1) / 2 if v < 1 else 1.0),
    "log_sigmoid": lambda v: -math.log1p(math.exp(-v)),
    "exponential": math.exp,
    "mish": lambda v: v * math.tanh(math.log1p(math.exp(v))),
}
# away from every kink (0, ±0.5, ±1, ±3, 6), where a central difference straddles two pieces
GRID = np.array([-7.0, -3.7, -2.2, -1.3, -0.8, -0.3, -0.05, 0.2, 0.7, 1.6, 2.8, 4.1, 6.5])


@pytest.mark.parametrize("name", sorted(REFERENCE))
def test_forward_matches_the_formula(name):
    expected = np.array([REFERENCE[name](v) for v in GRID])
    np.testing.assert_allclose(activations.get(name)(GRID), expected, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("name", sorted(REFERENCE))
def test_backward_matches_central_differences(name):
    fn = activations.get(name)
    backward = activations.backward_of(fn)
    dy = np.linspace(0.5, 1.5, GRID.size)
    analytic = backward(GRID, fn(GRID), dy)
    x = GRID.copy()
    numeric = numerical_gradient(lambda: float(np.sum(fn(x) * dy)), x)
    # the difference's rounding error is ~1e-16·|Σ f·dy|/ε: about 1e-7 for e^6.5 ≈ 665
    scale = max(1.0, float(np.abs(fn(x) * dy).sum()))
    assert_gradient_close(analytic, numeric, rtol=1e-6, atol=1e-9 * scale)


def _check_axis_activation(name, x, **options):
    fn = activations.ALL_ACTIVATIONS[name][0]
    backward = activations.backward_of(fn)
    dy = np.random.default_rng(1).normal(size=fn(x, **options).shape)
    analytic = backward(x, fn(x, **options), dy, **options)
    x = x.copy()
    numeric = numerical_gradient(lambda: float(np.sum(fn(x, **options) * dy)), x)
    assert_gradient_close(analytic, numeric, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("axis", [-1, 0, (1, 2)])
def test_log_softmax_sums_to_one_and_its_backward_matches(axis):
    x = np.random.default_rng(0).normal(size=(2, 3, 4))
    y = activations.log_softmax(x, axis=axis)
    np.testing.assert_allclose(np.exp(y).sum(axis=axis), 1.0, rtol=1e-12)
    _check_axis_activation("log_softmax", x, axis=axis)


@pytest.mark.parametrize("axis", [-1, 0])
def test_glu_halves_and_backward(axis):
    x = np.random.default_rng(2).normal(size=(4, 6))
    a, b = np.split(x, 2, axis)
    np.testing.assert_allclose(activations.glu(x, axis=axis), a / (1 + np.exp(-b)), rtol=1e-12)
    _check_axis_activation("glu", x, axis=axis)


def test_glu_refuses_an_odd_axis():
    with pytest.raises(ValueError, match="divisible by 2"):
        activations.glu(np.ones((2, 3)))


def test_sparsemax_is_a_projection_onto_the_simplex_and_its_backward_matches():
    x = np.array([[0.3, 1.2, -0.4, 1.0], [2.0, -1.0, 0.1, 0.15]])
    y = activations.sparsemax(x)
    np.testing.assert_allclose(y.sum(axis=-1), 1.0, rtol=1e-12)
    # first row: support {1.2, 1.0}, τ = (2.2 − 1)/2 = 0.6
    np.testing.assert_allclose(y[0], [0.0, 0.6, 0.0, 0.4], atol=1e-15)
    _check_axis_activation("sparsemax", x)


def test_celu_alpha_and_threshold_options():
    x = np.array([-2.0, -0.5, 0.7])
    np.testing.assert_allclose(
        activations.celu(x, alpha=2.0), [2 * math.expm1(-1.0), 2 * math.expm1(-0.25), 0.7]
    )
    np.testing.assert_allclose(activations.threshold(x, 0.0, -9.0), [-9.0, -9.0, 0.7])
    _check_axis_activation("celu", x, alpha=2.0)


def test_an_activation_on_a_tape_records_its_hand_written_backward():
    x = Tensor(np.array([-2.0, -0.3, 0.4, 5.0]))
    with GradientTape() as tape:
        tape.watch(x)
        y = activations.mish(x)
    (dx,) = tape.gradient(y, [x])
    expected = activations.mish_backward(x.value, activations.mish(x.value), np.ones(4))
    np.testing.assert_allclose(dx, expected, rtol=1e-15)


def test_keeps_float32():
    x = np.linspace(-3, 3, 7, dtype=np.float32)
    for name in REFERENCE:
        assert activations.get(name)(x).dtype == np.float32, name
