"""ConvLSTM1D/2D/3D without Keras: backpropagation through time against central differences
(`check_gradients`, float64, both kernel sets), the dropout products' backward against central
differences with fixed masks, the standalone cell against the layer, and Keras's argument
errors. Central differences at ε ≈ 1e-6 in float64 carry a truncation error of ~1e-9 relative
here; the hand-written backward is held to 1e-6."""

import numpy as np
import pytest

import minikeras as mk
from minikeras import layers, testing
from minikeras.layers.rnn import conv_lstm_cell
from minikeras.layers.rnn.conv_lstm import ConvLSTM, ConvLSTMCell

MODELS = {
    "1D strides 2": lambda: layers.ConvLSTM1D(2, 3, strides=2, return_sequences=True),
    "2D same go_backwards": lambda: layers.ConvLSTM2D(
        2, (3, 2), padding="same", go_backwards=True, kernel_regularizer="l2"
    ),
    "2D dilation channels_first": lambda: layers.ConvLSTM2D(
        2, 2, dilation_rate=2, padding="same", data_format="channels_first"
    ),
    "3D": lambda: layers.ConvLSTM3D(2, 2, return_sequences=True),
}
INPUTS = {
    "1D strides 2": (3, 7, 2),
    "2D same go_backwards": (3, 4, 3, 2),
    "2D dilation channels_first": (3, 2, 4, 5),
    "3D": (2, 3, 3, 3, 1),
}


@pytest.mark.parametrize("name", list(MODELS))
def test_backward_through_time_matches_central_differences(float64, kernel_set, name):
    rng = np.random.default_rng(1)
    model = mk.Sequential([layers.Input(shape=INPUTS[name]), MODELS[name](), layers.Flatten()])
    x = rng.normal(size=(2, *INPUTS[name]))
    y = rng.normal(size=(2, model.output_shape[-1]))
    worst = testing.check_gradients(model, x, y, verbose=False, max_entries=20, tolerance=1e-6)
    assert len(worst) == len(model.trainable_weights)


@pytest.mark.parametrize("recurrent", [False, True])
def test_dropout_products_backward_matches_central_differences(recurrent):
    """gate_conv with four gate masks: dK and da by hand against central differences."""
    rng = np.random.default_rng(2)
    cell = ConvLSTMCell(rank=2, filters=2, kernel_size=2, strides=1, padding="valid")
    cell.build((None, 4, 3, 3))
    geometry = cell._geometries()[1 if recurrent else 0]
    channels = 2 if recurrent else 3
    shape = (2, *cell.out_spatial, 2) if recurrent else (2, 4, 3, 3)
    a = rng.normal(size=shape)
    matrix = rng.normal(size=(2 * 2 * channels, 8))
    masks = (rng.random((4, *shape)) > 0.3) / 0.7
    z, cols = conv_lstm_cell.gate_conv(a, matrix, masks, geometry)
    r = rng.normal(size=z.shape)
    dmatrix = np.zeros_like(matrix)
    da = conv_lstm_cell.gate_conv_backward(cols, matrix, masks, r, dmatrix, geometry, a.shape)

    def loss(a_, m_):
        return np.sum(r * conv_lstm_cell.gate_conv(a_, m_, masks, geometry)[0])

    eps = 1e-6
    for value, grad, which in ((a, da, 0), (matrix, dmatrix, 1)):
        numeric = np.zeros_like(value)
        for index in np.ndindex(value.shape):
            plus, minus = value.copy(), value.copy()
            plus[index] += eps
            minus[index] -= eps
            args_plus = (plus, matrix) if which == 0 else (a, plus)
            args_minus = (minus, matrix) if which == 0 else (a, minus)
            numeric[index] = (loss(*args_plus) - loss(*args_minus)) / (2 * eps)
        np.testing.assert_allclose(grad, numeric, rtol=1e-6, atol=1e-8)


def test_training_with_dropout_draws_masks_and_inference_does_not():
    x = np.random.default_rng(3).normal(size=(2, 3, 5, 2))
    layer = layers.ConvLSTM1D(2, 3, dropout=0.5, recurrent_dropout=0.5, seed=1)
    inference = layer(x)
    np.testing.assert_array_equal(layer(x), inference)
    assert not np.allclose(layer(x, training=True), inference)
    dx = layer.backward(np.ones((2, 3, 2)))
    assert dx.shape == x.shape and np.all(np.isfinite(dx))


def test_cell_alone_steps_like_the_layer(float64):
    """The cell's `call` (ops) and the layer's compiled loop give the same first step."""
    rng = np.random.default_rng(4)
    layer = layers.ConvLSTM2D(3, 3, padding="same", return_state=True)
    x = rng.normal(size=(2, 1, 4, 4, 2))
    output, h, c = layer(x)
    h_cell, (h_again, c_cell) = layer.cell(x[:, 0], layer.cell.get_initial_state(2))
    np.testing.assert_allclose(h_cell, output, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(h_again, h, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(c_cell, c, rtol=1e-12, atol=1e-14)


def test_weights_shapes_and_forget_bias():
    layer = layers.ConvLSTM2D(4, (3, 2))
    layer.build((None, 2, 6, 5, 3))
    assert layer.weight_names == ["kernel", "recurrent_kernel", "bias"]
    assert [w.shape for w in layer.get_weights()] == [(3, 2, 3, 16), (3, 2, 4, 16), (16,)]
    np.testing.assert_array_equal(layer.get_weights()[2], [0] * 4 + [1] * 4 + [0] * 8)


def test_errors_as_keras():
    with pytest.raises(ValueError, match=r"Specifying `strides > 1` is not compatible"):
        layers.ConvLSTM2D(1, 1, strides=2, dilation_rate=3)
    with pytest.raises(ValueError, match=r"Rank 4 convolutions are not currently implemented"):
        ConvLSTM(rank=4, filters=1, kernel_size=1)
    with pytest.raises(ValueError, match=r"expected ndim=5, found ndim=4"):
        layers.ConvLSTM2D(1, 1)(np.zeros((1, 2, 3, 4)))
    layer = layers.ConvLSTM2D(1, 1)
    layer(np.zeros((1, 2, 3, 3, 1)))
    with pytest.raises(ValueError, match=r"incompatible with the layer"):
        layer(np.zeros((1, 2, 4, 3, 1)))
    with pytest.raises(ValueError, match=r"only support static input shapes"):
        layers.ConvLSTM2D(1, 1).build((None, 2, None, 3, 1))
