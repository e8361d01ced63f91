"""Assertions of Keras's own tests of these layers (keras/src/layers/rnn/*_test.py and
layers/core/embedding_test.py) that minikeras's other tests did not state: the outputs their
`test_correctness` cases give (constant weights, float32; Keras asserts them to 1e-5), the
`use_cudnn` argument of LSTM and GRU, and the TypeError of `from_config` with a bad dimension."""

import numpy as np
import pytest

from minikeras import initializers
from minikeras.layers import GRU, LSTM, Bidirectional, Embedding, SimpleRNN

CONSTANTS = dict(
    kernel_initializer=initializers.Constant(0.01),
    recurrent_initializer=initializers.Constant(0.02),
    bias_initializer=initializers.Constant(0.03),
)
SEQUENCE = np.arange(72).reshape((3, 6, 4)).astype("float32")


@pytest.mark.parametrize(
    "layer, expected",
    [
        (lambda: LSTM(3, **CONSTANTS), [0.6288687, 0.86899155, 0.9460773]),
        (lambda: LSTM(3, go_backwards=True, **CONSTANTS), [0.35622165, 0.74789524, 0.8872726]),
        (lambda: LSTM(3, unroll=True, **CONSTANTS), [0.6288687, 0.86899155, 0.9460773]),
        (lambda: LSTM(3, unit_forget_bias=False, **CONSTANTS), [0.57019705, 0.8661914, 0.9459622]),
        (lambda: GRU(3, **CONSTANTS), [0.5217289, 0.6371659, 0.39384964]),
    ],
)
def test_keras_correctness_values(layer, expected):
    """Each row of the output is one repeated value (every unit sees the same weights)."""
    output = layer()(SEQUENCE)
    expected = np.repeat(np.array(expected)[:, None], 3, axis=1)
    np.testing.assert_allclose(output, expected, rtol=1e-5, atol=1e-5)


def test_simple_rnn_correctness_value():
    output = SimpleRNN(4, **CONSTANTS)(np.arange(24).reshape((2, 3, 4)).astype("float32"))
    expected = np.repeat(np.array([0.405432, 0.73605347])[:, None], 4, axis=1)
    np.testing.assert_allclose(output, expected, 1e-6, 1e-6)


@pytest.mark.parametrize("layer_class", [LSTM, GRU])
def test_use_cudnn_is_accepted_kept_and_checked_as_keras(layer_class):
    x = np.ones((2, 3, 4), dtype="float32")
    for use_cudnn in ("auto", False):
        assert layer_class(2, use_cudnn=use_cudnn)(x).shape == (2, 2)
    assert "use_cudnn" not in layer_class(2).get_config()  # Keras leaves it out too
    with pytest.raises(ValueError, match="Expected one of {'auto', True, False}"):
        layer_class(2, use_cudnn="yes")
    with pytest.raises(ValueError, match="use_cudnn=True was specified"):
        layer_class(2, use_cudnn=True)(x)  # no cuDNN here: Keras's CPU backend raises too
    for use_cudnn in (True, False, "auto"):
        both = Bidirectional(layer_class(1, use_cudnn=use_cudnn))
        assert both.forward_layer.use_cudnn == both.backward_layer.use_cudnn == use_cudnn
    assert not hasattr(Bidirectional(SimpleRNN(1)).forward_layer, "use_cudnn")


@pytest.mark.parametrize("argument", ["input_dim", "output_dim"])
def test_embedding_dimensions_from_config_raise_a_type_error(argument):
    config = {"input_dim": 10, "output_dim": 8, argument: 3.7}
    with pytest.raises(ValueError, match=f"`{argument}` must be a positive integer"):
        Embedding(**config)
    with pytest.raises(TypeError, match=f"`{argument}` must be a positive integer"):
        Embedding.from_config(config)


def test_recurrent_layers_build_from_config_without_the_type_error():
    """Keras's LSTM, GRU, SimpleRNN, RNN and wrappers build in their own from_config, so their
    constructor's error comes out as it is (ValueError), not as Layer.from_config's TypeError."""
    for layer_class in (LSTM, GRU, SimpleRNN):
        with pytest.raises(ValueError, match="expected a positive integer"):
            layer_class.from_config({"units": -1})
