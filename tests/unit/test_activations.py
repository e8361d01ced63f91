"""Activations: values against the textbook formulas, every backward against central differences."""

import math

import numpy as np
import pytest
import strategies as sts
from gradcheck import assert_gradient_close, numerical_gradient
from hypothesis import given, settings

from minikeras import activations
from minikeras.layers import Activation

SELU_ALPHA = 1.6732632423543772
SELU_SCALE = 1.0507009873554805


def f32(value):
    """TensorFlow writes some constants as `cast(python_float, dtype)`, which rounds them to
    float32 first, even in float64: Keras's leaky_relu slope is float32(0.2), its gelu uses
    float32(1/√2) and float32(0.044715). minikeras matches that, and so do the formulas here."""
    return float(np.float32(value))


# One-element formulas, written with the `math` module (independent of the NumPy code under
# test). The defaults are Keras 3's: leaky_relu slope 0.2, elu alpha 1, exact gelu.
REFERENCE = {
    "linear": lambda v: v,
    "relu": lambda v: max(v, 0.0),
    "leaky_relu": lambda v: v if v > 0 else f32(0.2) * v,
    "sigmoid": lambda v: 1 / (1 + math.exp(-v)),
    "tanh": math.tanh,
    "elu": lambda v: v if v > 0 else math.expm1(v),
    "selu": lambda v: SELU_SCALE * (v if v > 0 else SELU_ALPHA * math.expm1(v)),
    "softplus": lambda v: math.log1p(math.exp(v)),
    "softsign": lambda v: v / (1 + abs(v)),
    "silu": lambda v: v / (1 + math.exp(-v)),
    "swish": lambda v: v / (1 + math.exp(-v)),
    "gelu": lambda v: 0.5 * v * math.erfc(-v * f32(1 / math.sqrt(2))),
}
ELEMENTWISE = sorted(REFERENCE)
# piecewise activations whose derivative jumps at 0: test them away from it
KINKED = {"relu", "leaky_relu", "selu"}
GRID = np.array([-4.0, -1.5, -0.2, -1e-3, 0.0, 1e-3, 0.3, 1.0, 2.5, 7.0])


def test_every_issue_activation_is_known_by_name():
    wanted = {"relu", "softmax", "sigmoid", "tanh", "linear", "elu", "selu", "softplus"}
    wanted |= {"softsign", "silu", "swish", "gelu", "leaky_relu"}
    assert wanted <= set(activations.ALL_ACTIVATIONS)


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_forward_matches_the_formula(name):
    fn = activations.get(name)
    expected = np.array([REFERENCE[name](v) for v in GRID])
    np.testing.assert_allclose(fn(GRID), expected, rtol=1e-12, atol=1e-15)


def test_softmax_forward_rows_sum_to_one_and_match_the_formula():
    x = np.array([[1.0, 2.0, 3.0], [-1.0, 0.0, 5.0]])
    e = np.exp(x)
    np.testing.assert_allclose(activations.softmax(x), e / e.sum(axis=1, keepdims=True))
    # Keras's documented value for [1, 2, 3]
    np.testing.assert_allclose(
        activations.softmax(np.array([[1.0, 2.0, 3.0]])), [[0.09003057, 0.24472847, 0.66524096]]
    )


def test_gelu_approximate_is_the_tanh_formula():
    c = math.sqrt(2 / math.pi)
    expected = [0.5 * v * (1 + math.tanh(c * (v + f32(0.044715) * v**3))) for v in GRID]
    np.testing.assert_allclose(
        activations.gelu(GRID, approximate=True), expected, rtol=1e-10, atol=1e-15
    )


def test_relu_options_follow_keras():
    # Keras: below the threshold, negative_slope·(x − threshold); then capped at max_value
    x = np.array([-3.0, -1.5, -0.2, 0.0, 0.3, 1.0, 2.5])
    y = activations.relu(x, negative_slope=0.1, max_value=2.0, threshold=0.5)
    np.testing.assert_allclose(y, [-0.35, -0.2, -0.07, -0.05, -0.02, 1.0, 2.0])


@pytest.mark.parametrize("name", ELEMENTWISE + ["softmax"])
def test_float32_in_float32_out(name):
    x = np.linspace(-3, 3, 12, dtype=np.float32).reshape(3, 4)
    y = activations.get(name)(x)
    assert y.dtype == np.float32
    dx = activations.backward_of(activations.get(name))(x, y, np.ones_like(y))
    assert dx.dtype == np.float32


@pytest.mark.parametrize("name", ELEMENTWISE + ["softmax"])
def test_saturated_inputs_stay_finite(name):
    x = np.array([[-1000.0, -50.0, 0.0, 50.0, 1000.0]])
    y = activations.get(name)(x)
    assert np.all(np.isfinite(y))
    dx = activations.backward_of(activations.get(name))(x, y, np.ones_like(y))
    assert np.all(np.isfinite(dx))


def test_saturated_values():
    assert activations.sigmoid(np.array([-1000.0]))[0] == 0.0
    assert activations.sigmoid(np.array([1000.0]))[0] == 1.0
    assert activations.softplus(np.array([1000.0]))[0] == 1000.0
    np.testing.assert_array_equal(activations.softmax(np.array([[1000.0, 0.0]])), [[1.0, 0.0]])


def _check_backward(name, x, dy):
    """The backward's dx against ∂/∂x Σ dy ⊙ f(x), by central differences."""
    fn = activations.get(name)
    backward = activations.backward_of(fn)
    analytic = backward(x, fn(x), dy)
    x_probe = x.copy()
    numeric = numerical_gradient(lambda: np.sum(dy * fn(x_probe)), x_probe)
    assert_gradient_close(analytic, numeric)


@pytest.mark.parametrize("name", sorted(set(ELEMENTWISE) - KINKED))
@settings(max_examples=15, deadline=None)
@given(data=sts.st.data())
def test_smooth_backward_matches_central_differences(name, data):
    x = data.draw(sts.matrices())
    dy = data.draw(sts.arrays(x.shape))
    _check_backward(name, x, dy)


@pytest.mark.parametrize("name", sorted(KINKED))
@settings(max_examples=15, deadline=None)
@given(data=sts.st.data())
def test_kinked_backward_matches_central_differences_off_the_kink(name, data):
    x = data.draw(sts.matrices(sts.off_kink_floats()))
    dy = data.draw(sts.arrays(x.shape))
    _check_backward(name, x, dy)


@settings(max_examples=25, deadline=None)
@given(data=sts.st.data())
def test_softmax_backward_matches_central_differences(data):
    """The general softmax VJP y ⊙ (dy − Σ dy·y): every output depends on every input of its row."""
    x = data.draw(sts.matrices(sts.floats(-5, 5)))
    dy = data.draw(sts.arrays(x.shape))
    _check_backward("softmax", x, dy)


def test_gelu_approximate_backward_matches_central_differences():
    x = np.linspace(-3, 3, 13)
    dy = np.cos(x)
    analytic = activations.gelu_backward(x, None, dy, approximate=True)
    probe = x.copy()
    numeric = numerical_gradient(
        lambda: np.sum(dy * activations.gelu(probe, approximate=True)), probe
    )
    assert_gradient_close(analytic, numeric)


def test_relu_gradient_at_zero_is_zero_as_tensorflow():
    dx = activations.relu_backward(np.array([0.0, -0.0]), np.zeros(2), np.ones(2))
    np.testing.assert_array_equal(dx, [0.0, 0.0])


# ------------------------------------------------------------------ lookup
def test_get_by_name_function_and_none():
    assert activations.get("relu") is activations.relu
    assert activations.get(activations.tanh) is activations.tanh
    assert activations.get(None) is activations.linear
    x = np.array([-1.0, 2.0])
    np.testing.assert_array_equal(activations.get("swish")(x), activations.silu(x))


def test_unknown_name_lists_the_valid_ones():
    with pytest.raises(ValueError, match="relux") as info:
        activations.get("relux")
    assert "relu" in str(info.value).replace("relux", "") and "softmax" in str(info.value)


def test_non_callable_identifier_is_rejected():
    with pytest.raises(ValueError, match="activation"):
        activations.get(3)


def test_custom_activation_differentiated_by_the_tape_or_its_own_backward():
    def cube(x):
        return x**3

    x = np.array([[1.0, -2.0]])
    # no backward written: the tape's VJP of the function, d(x³)/dx = 3x²
    np.testing.assert_allclose(activations.backward_of(cube)(x, x**3, np.ones_like(x)), 3 * x**2)

    cube.backward = lambda x, y, dy: dy * 3 * x**2
    layer = Activation(cube)
    x = np.array([[1.0, -2.0]])
    layer.call(x)
    np.testing.assert_allclose(layer.backward(np.ones_like(x)), [[3.0, 12.0]])


def test_serialize_round_trip():
    for name in activations.ALL_ACTIVATIONS:
        fn = activations.get(name)
        assert activations.deserialize(activations.serialize(fn)) is fn
