"""Layers: forward against NumPy written out, every backward against central differences
(float64, every element), on both kernel sets."""

import math
import warnings

import numpy as np
import pytest
import strategies as sts
from gradcheck import assert_gradient_close, numerical_gradient
from hypothesis import assume, given, settings

from minikeras import Sequential, activations, initializers, kernels, layers
from minikeras.layers import Activation, Dense, Dropout, Flatten, Input, InputLayer

# kinks at 0: a jump in f' (relu, leaky_relu, selu) or in f'' (elu, softsign), where central
# differences lose their ε² accuracy; Dense tests keep z = x·W + b away from 0 for these
KINKED = {"relu", "leaky_relu", "selu", "elu", "softsign"}


def check_backward(layer, x, dy):
    """dx and every weight gradient of `layer` against ∂/∂(·) Σ dy ⊙ layer(x)."""
    layer.call(x.copy(), training=True)
    dx = layer.backward(dy)
    dx = None if dx is None else dx.copy()
    grads = [g.copy() for g in layer.grads]
    weights_before = [w.copy() for w in layer.weights]
    probe = x.copy()

    def objective():
        return np.sum(dy * layer.call(probe, training=True))

    if dx is not None:
        assert_gradient_close(dx, numerical_gradient(objective, probe))
    assert len(grads) == len(layer.trainable_weights)
    for weight, grad in zip(layer.trainable_weights, grads):
        assert_gradient_close(grad, numerical_gradient(objective, weight))
    # backward computes gradients; only the optimizer changes weights
    for before, after in zip(weights_before, layer.weights):
        np.testing.assert_array_equal(before, after)
    return dx, grads


# ------------------------------------------------------------------ Dense
def test_dense_weights_have_keras_shapes_and_initial_values():
    layer = Dense(64)
    layer.build((None, 784))
    assert [w.shape for w in layer.weights] == [(784, 64), (64,)]
    assert layer.weight_names == ["kernel", "bias"]
    assert layer.kernel.dtype == np.float32
    limit = math.sqrt(6 / (784 + 64))  # glorot_uniform
    assert np.abs(layer.kernel).max() <= limit
    assert np.abs(layer.kernel).max() > 0.9 * limit  # it fills the range
    np.testing.assert_array_equal(layer.bias, 0.0)
    assert layer.count_params() == 784 * 64 + 64


def test_dense_without_bias():
    layer = Dense(3, use_bias=False)
    layer.build((None, 2))
    assert [w.shape for w in layer.weights] == [(2, 3)]


@pytest.mark.parametrize("activation", [None, "relu", "sigmoid", "tanh", "softmax", "elu", "gelu"])
def test_dense_forward_is_act_of_x_w_plus_b(kernel_set, activation):
    rng = np.random.default_rng(0)
    layer = Dense(5, activation=activation)
    x = rng.normal(size=(7, 4)).astype("float32")
    y = layer(x)
    z = x.astype(np.float64) @ layer.kernel + layer.bias
    expected = activations.get(activation)(z)
    assert y.dtype == np.float32 and y.shape == (7, 5)
    np.testing.assert_allclose(y, expected, rtol=1e-5, atol=1e-6)


# every activation, less glu (it halves the units), threshold (required arguments) and those
# with kinks away from 0, which central differences here could straddle (their backwards are
# checked away from the kinks in test_activations_more.py)
NOT_THROUGH_DENSE = {"glu", "threshold", "relu6", "hard_sigmoid", "hard_silu", "hard_swish"}
NOT_THROUGH_DENSE |= {"hard_tanh", "hard_shrink", "soft_shrink", "sparse_plus", "sparse_sigmoid"}
NOT_THROUGH_DENSE |= {"sparsemax"}
ALL_ACTIVATIONS = sorted(set(activations.ALL_ACTIVATIONS) - NOT_THROUGH_DENSE)


@pytest.mark.parametrize("kernel_name", kernels.NAMES)
@pytest.mark.parametrize("activation", ALL_ACTIVATIONS)
@settings(max_examples=6, deadline=None)
@given(data=sts.st.data())
def test_dense_backward(kernel_name, activation, data):
    kernels.use(kernel_name)  # (the autouse fixture puts the default back afterwards)
    batch, features = data.draw(sts.batch_sizes), data.draw(sts.feature_sizes)
    units = data.draw(sts.st.integers(1, 4))
    use_bias = data.draw(sts.st.booleans())
    x = data.draw(sts.arrays((batch, features), sts.floats(-2, 2)))
    dy = data.draw(sts.arrays((batch, units), sts.floats(-2, 2)))
    layer = Dense(units, activation=activation, use_bias=use_bias, dtype="float64")
    layer.build((None, features))
    layer.kernel[...] = data.draw(sts.arrays((features, units), sts.floats(-1, 1)))
    if use_bias:
        layer.bias[...] = data.draw(sts.arrays((units,), sts.floats(-1, 1)))
    if activation in KINKED:  # central differences cannot straddle the kink at z = 0
        z = x @ layer.kernel + (layer.bias if use_bias else 0)
        assume(np.min(np.abs(z)) > 1e-3)
    check_backward(layer, x, dy)


def test_dense_backward_on_rank_3_inputs(kernel_set):
    rng = np.random.default_rng(1)
    layer = Dense(3, activation="tanh", dtype="float64")
    x = rng.normal(size=(2, 4, 5))
    layer.build((None, 4, 5))
    assert layer(x).shape == (2, 4, 3)
    check_backward(layer, x, rng.normal(size=(2, 4, 3)))


def test_dense_backward_logits_skips_the_activation(kernel_set):
    """backward_logits(dz) is backward with the activation already differentiated:
    for a softmax layer, backward(dy) = backward_logits(softmax VJP of dy)."""
    rng = np.random.default_rng(2)
    layer = Dense(4, activation="softmax", dtype="float64")
    x = rng.normal(size=(3, 5))
    layer.build((None, 5))
    dy = rng.normal(size=(3, 4))
    p = layer.call(x).copy()
    dx_general = layer.backward(dy).copy()
    grads_general = [g.copy() for g in layer.grads]
    dz = activations.softmax_backward(layer.logits, p, dy)
    dx_fused = layer.backward_logits(dz)
    np.testing.assert_allclose(dx_fused, dx_general, rtol=1e-12, atol=1e-14)
    for g_fused, g_general in zip(layer.grads, grads_general):
        np.testing.assert_allclose(g_fused, g_general, rtol=1e-12, atol=1e-14)
    # the logits are z = x·W + b
    np.testing.assert_allclose(layer.logits, x @ layer.kernel + layer.bias)


def test_dense_first_layer_can_skip_the_input_gradient():
    layer = Dense(2, dtype="float64")
    layer.build((None, 3))
    layer.input_gradient_needed = False
    layer.call(np.ones((4, 3)))
    assert layer.backward(np.ones((4, 2))) is None
    np.testing.assert_allclose(layer.grads[0], np.full((3, 2), 4.0))  # xᵀ·dy
    np.testing.assert_allclose(layer.grads[1], [4.0, 4.0])  # Σ dy


def test_dense_backward_is_repeatable(kernel_set):
    """Calling backward twice gives the same gradients (nothing accumulates)."""
    layer = Dense(3, activation="relu")
    x = np.random.default_rng(3).normal(size=(5, 4)).astype("float32")
    layer(x)
    layer.call(x)
    layer.backward(np.ones((5, 3), "float32"))
    first = [g.copy() for g in layer.grads]
    layer.backward(np.ones((5, 3), "float32"))
    for a, b in zip(first, layer.grads):
        np.testing.assert_array_equal(a, b)


def test_dense_rejects_bad_units():
    for units in (0, -3, 2.5, "64", True):
        with pytest.raises(ValueError, match="units"):
            Dense(units)


def test_dense_input_dim_warns_as_keras_and_builds():
    with pytest.warns(UserWarning, match="Input\\(shape\\)"):
        layer = Dense(3, input_dim=4)
    assert layer.built and layer.kernel.shape == (4, 3)


def test_layer_rejects_unknown_keyword():
    with pytest.raises(ValueError, match="Unrecognized keyword arguments.*unit"):
        Dense(3, unit=4)


def test_wrong_feature_count_message_is_keras():
    layer = Dense(2)
    layer.build((None, 784))
    with pytest.raises(ValueError) as info:
        layer(np.zeros((32, 783)))
    message = str(info.value)
    assert "expected axis -1 of input shape to have value 784" in message
    assert "(32, 783)" in message


def test_dense_get_config_has_keras_keys_and_round_trips():
    layer = Dense(7, activation="relu", use_bias=False, name="hidden")
    config = layer.get_config()
    for key in ("name", "trainable", "units", "activation", "use_bias", "kernel_initializer"):
        assert key in config
    assert config["units"] == 7 and config["activation"] == "relu" and config["use_bias"] is False
    assert config["kernel_initializer"]["class_name"] == "GlorotUniform"
    again = Dense.from_config(config)
    assert (again.units, again.use_bias, again.name) == (7, False, "hidden")
    assert again.activation is activations.relu


def test_automatic_names_follow_keras():
    assert [Dense(1).name, Dense(1).name, Dropout(0.1).name, Dense(1).name] == [
        "dense",
        "dense_1",
        "dropout",
        "dense_2",
    ]


# ------------------------------------------------------------------ Activation, Flatten, Input
@pytest.mark.parametrize("activation", ["softmax", "tanh", "sigmoid", "softplus", "gelu"])
def test_activation_layer_backward(activation):
    rng = np.random.default_rng(4)
    layer = Activation(activation, dtype="float64")
    x = rng.normal(size=(3, 4))
    check_backward(layer, x, rng.normal(size=(3, 4)))
    assert layer.weights == [] and layer.count_params() == 0


def test_activation_layer_applies_its_function():
    np.testing.assert_array_equal(Activation("relu")(np.array([[-1.0, 2.0]])), [[0.0, 2.0]])


def test_flatten_forward_and_backward():
    rng = np.random.default_rng(5)
    layer = Flatten(dtype="float64")
    x = rng.normal(size=(2, 3, 4))
    assert layer(x).shape == (2, 12)
    np.testing.assert_array_equal(layer(x), x.reshape(2, 12))
    assert layer.compute_output_shape((None, 3, 4)) == (None, 12)
    check_backward(layer, x, rng.normal(size=(2, 12)))


def test_input_gives_the_batch_shape_and_builds_a_sequential():
    tensor = Input(shape=(784,))
    assert tuple(tensor.shape) == (None, 784)
    model = Sequential([Input(shape=(784,)), Dense(64)])
    assert model.built and model.count_params() == 784 * 64 + 64
    layer = InputLayer(shape=(3,))
    x = np.ones((2, 3))
    np.testing.assert_array_equal(layer.call(x), x)
    np.testing.assert_array_equal(layer.backward(x), x)


def test_input_needs_a_shape():
    with pytest.raises(ValueError, match="shape"):
        InputLayer()


# ------------------------------------------------------------------ Dropout
def test_dropout_is_the_identity_outside_training():
    x = np.arange(12, dtype="float32").reshape(3, 4)
    layer = Dropout(0.5)
    np.testing.assert_array_equal(layer.call(x, training=False), x)
    np.testing.assert_array_equal(layer.backward(np.ones_like(x)), np.ones_like(x))


def test_dropout_in_training_zeroes_a_fraction_and_rescales():
    x = np.ones((200, 100), dtype="float32")
    y = Dropout(0.3, seed=1).call(x, training=True)
    kept = y != 0
    assert abs(1 - kept.mean() - 0.3) < 0.01  # 20,000 draws: the fraction is close to the rate
    np.testing.assert_allclose(y[kept], 1 / 0.7, rtol=1e-6)
    assert y.dtype == np.float32


def test_dropout_backward_uses_the_forward_mask():
    rng = np.random.default_rng(6)
    layer = Dropout(0.4, seed=3, dtype="float64")
    x = rng.normal(size=(4, 5))
    y = layer.call(x, training=True)
    mask = layer.mask.copy()
    dy = rng.normal(size=(4, 5))
    dx = layer.backward(dy)
    # y is linear in x with this mask: d Σ dy·(x ⊙ mask) / dx = dy ⊙ mask
    probe = x.copy()
    numeric = numerical_gradient(lambda: np.sum(dy * probe * mask), probe)
    assert_gradient_close(dx, numeric)
    np.testing.assert_array_equal(dx == 0, y == 0)


def test_dropout_seed_makes_masks_reproducible():
    x = np.ones((10, 10))
    a = Dropout(0.5, seed=42).call(x, training=True)
    b = Dropout(0.5, seed=42).call(x, training=True)
    np.testing.assert_array_equal(a, b)


def test_dropout_rate_one_drops_everything_and_zero_nothing():
    x = np.ones((3, 3), "float32")
    np.testing.assert_array_equal(Dropout(1.0).call(x, training=True), 0.0)
    np.testing.assert_array_equal(Dropout(0.0).call(x, training=True), x)


@pytest.mark.parametrize("rate", [-0.1, 1.5, "half"])
def test_dropout_rejects_bad_rates(rate):
    with pytest.raises(ValueError, match="rate"):
        Dropout(rate)


# ------------------------------------------------------------------ weights in and out
def test_layer_set_weights_checks_before_changing():
    layer = Dense(2)
    layer.build((None, 3))
    before = layer.get_weights()
    with pytest.raises(ValueError, match="length 1.*expecting 2"):
        layer.set_weights([np.zeros((3, 2))])
    with pytest.raises(ValueError, match=r"\(3, 2\).*\(2, 3\)"):
        layer.set_weights([np.zeros((2, 3)), np.zeros(2)])
    for a, b in zip(before, layer.get_weights()):
        np.testing.assert_array_equal(a, b)
    layer.set_weights([np.ones((3, 2)), np.full(2, 5.0)])
    np.testing.assert_array_equal(layer.kernel, 1.0)
    np.testing.assert_array_equal(layer.bias, 5.0)


def test_get_weights_returns_copies():
    layer = Dense(2)
    layer.build((None, 3))
    copy = layer.get_weights()[0]
    copy += 1
    assert not np.array_equal(copy, layer.kernel)


def test_custom_kernel_initializer():
    layer = Dense(2, kernel_initializer="ones", bias_initializer=initializers.Constant(0.5))
    layer.build((None, 3))
    np.testing.assert_array_equal(layer.kernel, 1.0)
    np.testing.assert_array_equal(layer.bias, 0.5)


def test_layers_namespace_exports_the_issue_names():
    for name in ("Dense", "Activation", "Dropout", "Flatten", "Input", "InputLayer"):
        assert hasattr(layers, name)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # Input(shape) is the warning-free way
        Sequential([Input(shape=(3,)), Dense(2)])
