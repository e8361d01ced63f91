"""Assertions of Keras's own tests (keras/src/layers/convolutional/conv_test.py,
activations/prelu_test.py, normalization/*_test.py) that minikeras's convolution and
normalization layers must pass, written for minikeras (no Keras needed)."""

import numpy as np
import pytest

from minikeras import Input, constraints, regularizers
from minikeras.layers import (
    BatchNormalization,
    Conv1D,
    Conv2D,
    Conv2DTranspose,
    LayerNormalization,
    PReLU,
)

rng = np.random.default_rng(4)


def test_conv_constraints():
    # conv_test.py test_conv_constraints: a constraint given by name sits on the weight
    layer = Conv2D(filters=4, kernel_size=3, kernel_constraint="non_neg")
    layer.build((None, 5, 5, 3))
    assert isinstance(layer.kernel.constraint, constraints.NonNeg)
    layer = Conv2D(filters=4, kernel_size=3, bias_constraint="non_neg")
    layer.build((None, 5, 5, 3))
    assert isinstance(layer.bias.constraint, constraints.NonNeg)
    assert layer.kernel.constraint is None and layer.kernel.regularizer is None


def test_conv_raises_exception_on_zero_dims():
    # conv_test.py: a 5×5 kernel on a 4×4 input
    with pytest.raises(ValueError, match="zero or negative"):
        Conv2D(6, [5, 5], 1, "valid")(rng.random((3, 4, 4, 4)))


@pytest.mark.parametrize(
    "layer_cls, input_shape, kernel_size, dilation_rate",
    [(Conv1D, (10, 3), 2, 10), (Conv2D, (10, 10, 3), (2, 2), (10, 10))],
)
def test_conv_symbolic_invalid_configuration(layer_cls, input_shape, kernel_size, dilation_rate):
    # conv_test.py: a dilated kernel spanning 11 on an input of 10
    inputs = Input(shape=input_shape)
    layer = layer_cls(filters=1, kernel_size=kernel_size, dilation_rate=dilation_rate)
    with pytest.raises(ValueError):
        layer(inputs)


@pytest.mark.parametrize("cls", [Conv1D, Conv2D, Conv2DTranspose])
def test_conv_regularizers_by_name_and_in_the_config(cls):
    shape = (2, 6, 3) if cls is Conv1D else (2, 5, 5, 3)
    layer = cls(5, 3, kernel_regularizer="l2", bias_regularizer="l1", activity_regularizer="l2")
    layer.build(shape)
    assert isinstance(layer.kernel.regularizer, regularizers.L2)
    assert isinstance(layer.bias.regularizer, regularizers.L1)
    config = layer.get_config()
    assert config["kernel_regularizer"]["class_name"] == "L2"
    assert config["activity_regularizer"]["class_name"] == "L2"
    assert list(config).index("activity_regularizer") == list(config).index("bias_regularizer") + 1
    again = cls.from_config(config)
    assert again.get_config() == config


def test_prelu_with_regularizer_and_constraint():
    # prelu_test.py test_prelu_correctness
    inputs = rng.standard_normal((2, 10, 5, 3))
    layer = PReLU(
        alpha_initializer="glorot_uniform",
        alpha_regularizer="l1",
        alpha_constraint="non_neg",
        shared_axes=(1, 2),
    )
    layer.build(inputs.shape)
    weights = rng.random((1, 1, 3))
    layer.alpha.assign(weights)
    expected = (inputs > 0) * inputs + (inputs <= 0) * weights * inputs
    np.testing.assert_allclose(layer(inputs), expected, rtol=1e-6, atol=1e-6)
    assert isinstance(layer.alpha.constraint, constraints.NonNeg)
    assert isinstance(layer.alpha.regularizer, regularizers.L1)


def test_normalization_regularizers_sit_on_their_weights():
    # batch_normalization_test.py / layer_normalization_test.py test_*_basics, with regularizers
    bn = BatchNormalization(beta_regularizer="l2", gamma_regularizer="l2")
    bn.build((2, 4, 4, 3))
    assert isinstance(bn.gamma.regularizer, regularizers.L2)
    assert isinstance(bn.beta.regularizer, regularizers.L2)
    assert len(bn.trainable_weights) == 2 and len(bn.non_trainable_weights) == 2
    ln = LayerNormalization(
        gamma_regularizer=regularizers.L2(0.01), beta_regularizer=regularizers.L2(0.01)
    )
    ln.build((3, 4, 2))
    assert len(ln.weight_regularizers) == 2 and len(ln.trainable_weights) == 2
