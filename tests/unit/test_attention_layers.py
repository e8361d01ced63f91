"""EinsumDense, the attention layers and the group, unit and RMS normalizations: each backward
(hand-written, or the tape's for the attention layers) against central differences in float64,
dL/dx and dL/dw for L = Σ dy ⊙ y, and inside whole models with `check_gradients`.

Central differences with ε = 1e-6 in float64 are good to ~1e-9 relative (gradcheck.py), so the
analytic gradients are held to rtol 1e-6, atol 1e-8; a wrong formula is off by 1e-2 or more.
"""

import numpy as np
import pytest
from gradcheck import assert_gradient_close, numerical_gradient

import minikeras
from minikeras import layers
from minikeras.testing import check_gradients

RNG = np.random.default_rng(11)


def _check_layer(layer, x, training=True):
    """The layer's backward (dx and every weight) against central differences of Σ dy ⊙ y."""
    x = np.asarray(x, dtype=np.float64)
    layer(x[:1])  # builds it
    y = layer.forward(x, training=training)
    dy = RNG.normal(size=np.shape(y))
    dx = layer.backward_pass(dy)
    grads = [np.array(g) for g in layer.grads]

    def loss():
        return float(np.sum(dy * layer.forward(x, training=training)))

    assert_gradient_close(dx, numerical_gradient(loss, x), rtol=1e-6, atol=1e-8)
    for weight, grad in zip(layer.trainable_weights, grads):
        assert_gradient_close(grad, numerical_gradient(loss, weight), rtol=1e-6, atol=1e-8)


@pytest.fixture(autouse=True)
def float64():
    minikeras.config.set_floatx("float64")


@pytest.mark.parametrize(
    "kwargs, shape",
    [
        ({"equation": "ab,bc->ac", "output_shape": 3, "bias_axes": "c"}, (4,)),
        ({"equation": "abc,cde->abde", "output_shape": (None, 2, 3), "bias_axes": "e"}, (3, 4)),
        ({"equation": "abcd,cde->abe", "output_shape": (None, 2), "bias_axes": None}, (3, 2, 4)),
        ({"equation": "...b,bc->...c", "output_shape": 2, "activation": "tanh"}, (3, 4)),
        ({"equation": "ab...,bc->ac...", "output_shape": 3, "bias_axes": "c"}, (2, 3)),
    ],
)
def test_einsum_dense_backward(kwargs, shape):
    _check_layer(layers.EinsumDense(**kwargs), RNG.normal(size=(3,) + shape))


@pytest.mark.parametrize(
    "kwargs, shape",
    [
        ({"groups": 2}, (6,)),
        ({"groups": 3, "axis": 1}, (6, 2)),
        ({"groups": -1, "center": False}, (3, 4)),
        ({"groups": 1, "scale": False, "epsilon": 0.1}, (2, 2, 4)),
    ],
)
def test_group_normalization_backward(kwargs, shape):
    layer = layers.GroupNormalization(**kwargs)
    layer.build((None,) + shape)
    layer.set_weights([RNG.normal(size=w.shape) for w in layer.weights])
    _check_layer(layer, RNG.normal(loc=1.0, size=(3,) + shape))


@pytest.mark.parametrize("axis", [-1, [1, 2]])
def test_unit_and_rms_normalization_backward(axis):
    x = RNG.normal(size=(3, 4, 5))
    _check_layer(layers.UnitNormalization(axis=axis), x)
    rms = layers.RMSNormalization(axis=-1 if axis == -1 else [1, 2], epsilon=1e-3)
    rms.build((None, 4, 5))
    rms.set_weights([RNG.normal(size=w.shape) for w in rms.weights])
    _check_layer(rms, x)


def test_unit_normalization_caps_the_inverse_norm():
    """An all-zero row: 1/√0 is capped at 1/ε, as Keras's ops.normalize; output and dx finite."""
    layer = layers.UnitNormalization()
    x = np.array([[0.0, 0.0], [3.0, 4.0]])
    y = layer.forward(x)
    np.testing.assert_allclose(y, [[0.0, 0.0], [0.6, 0.8]])
    dx = layer.backward(np.ones_like(x))
    assert np.all(np.isfinite(dx)) and dx[0, 0] == 1e12


@pytest.mark.parametrize(
    "kwargs, call_kwargs",
    [
        ({"num_heads": 2, "key_dim": 3}, {}),
        ({"num_heads": 2, "key_dim": 2, "use_gate": True}, {"use_causal_mask": True}),
        ({"num_heads": 1, "key_dim": 2, "output_shape": 3, "value_dim": 4}, {}),
    ],
)
def test_a_model_with_multi_head_attention_has_the_right_gradients(kwargs, call_kwargs):
    """The tape's backward through the projections' own backward, the masked softmax and the
    two batched products, in a functional model, against central differences."""
    inputs = minikeras.Input(shape=(4, 3))
    x = layers.Dense(3)(inputs)
    x = layers.MultiHeadAttention(**kwargs)(x, x, **call_kwargs)
    outputs = layers.Dense(2)(layers.GlobalAveragePooling1D()(x))
    model = minikeras.Model(inputs, outputs)
    report = check_gradients(
        model, RNG.normal(size=(3, 4, 3)), RNG.normal(size=(3, 2)), tolerance=1e-6, verbose=False
    )
    assert max(report.values()) < 1e-6


@pytest.mark.parametrize("num_key_value_heads", [1, 2])
def test_a_model_with_grouped_query_attention_has_the_right_gradients(num_key_value_heads):
    """GroupedQueryAttention (Keras's GroupQueryAttention): key/value heads shared by groups of
    query heads, so each shared head's gradient sums over its group, against central
    differences."""
    inputs = minikeras.Input(shape=(4, 3))
    x = layers.Dense(3)(inputs)
    x = layers.GroupedQueryAttention(
        head_dim=2, num_query_heads=4, num_key_value_heads=num_key_value_heads
    )(x, x, use_causal_mask=True)
    outputs = layers.Dense(2)(layers.GlobalAveragePooling1D()(x))
    model = minikeras.Model(inputs, outputs)
    report = check_gradients(
        model, RNG.normal(size=(3, 4, 3)), RNG.normal(size=(3, 2)), tolerance=1e-6, verbose=False
    )
    assert max(report.values()) < 1e-6


@pytest.mark.parametrize("class_name", ["Attention", "AdditiveAttention"])
def test_a_model_with_attention_has_the_right_gradients(class_name):
    inputs = minikeras.Input(shape=(4, 3))
    query, value = layers.Dense(3)(inputs), layers.Dense(3)(inputs)
    kwargs = {"use_scale": True} if class_name == "Attention" else {}
    x = getattr(layers, class_name)(**kwargs)([query, value], use_causal_mask=True)
    outputs = layers.Dense(2)(layers.Flatten()(x))
    model = minikeras.Model(inputs, outputs)
    report = check_gradients(
        model, RNG.normal(size=(3, 4, 3)), RNG.normal(size=(3, 2)), tolerance=1e-6, verbose=False
    )
    assert max(report.values()) < 1e-6


def test_bad_arguments_raise_keras_errors_before_anything_is_made():
    with pytest.raises(ValueError, match="num_heads"):
        layers.MultiHeadAttention(num_heads=0, key_dim=2)
    with pytest.raises(ValueError, match="Invalid einsum equation"):
        layers.EinsumDense("ab->b", output_shape=2).build((None, 3))
    with pytest.raises(ValueError, match="groups"):
        layers.GroupNormalization(groups=0)
    with pytest.raises(ValueError, match=r"Number of groups \(4\) must be a multiple"):
        layers.GroupNormalization(groups=4).build((None, 6))
    with pytest.raises(ValueError, match="must be called on a list"):
        layers.Attention()(np.ones((1, 2, 3)))
    with pytest.raises(ValueError, match="score_mode"):
        layers.Attention(score_mode="add")
    with pytest.raises(TypeError, match="axis"):
        layers.UnitNormalization(axis="x")
