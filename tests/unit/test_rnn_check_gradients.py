"""`minikeras.testing.check_gradients` on every recurrent layer, as a user would run it on a
model: SimpleRNN, LSTM, GRU (both reset_after), RNN(cell), stacks of the built-in cells (their
steps as ops, on the tape), Bidirectional, after an
Embedding(mask_zero=True) whose padding masks steps and the loss, with the weights' penalties
(regularizers) in the loss. Central differences in float64: the backward by hand agrees within
1e-6 relative (the differences' own truncation error at ε ≈ 1e-6 is ~1e-9 here)."""

import numpy as np
import pytest

import minikeras as mk
from minikeras import layers, testing

L2 = {"kernel_regularizer": "l2", "recurrent_regularizer": "l1", "bias_regularizer": "l2"}
RECURRENT = {
    "SimpleRNN": lambda: layers.SimpleRNN(3, return_sequences=True, **L2),
    "LSTM": lambda: layers.LSTM(3, return_sequences=True, **L2),
    "GRU": lambda: layers.GRU(3, return_sequences=True, **L2),
    "GRU reset_after=False": lambda: layers.GRU(3, return_sequences=True, reset_after=False),
    "RNN(LSTMCell)": lambda: layers.RNN(layers.LSTMCell(3), return_sequences=True),
    # the built-in cells' steps as ops, on the tape (their `call`)
    "RNN([LSTMCell, GRUCell, SimpleRNNCell])": lambda: layers.RNN(
        [layers.LSTMCell(2, **L2), layers.GRUCell(2, reset_after=False), layers.SimpleRNNCell(3)],
        return_sequences=True,
    ),
    "RNN([GRUCell])": lambda: layers.RNN([layers.GRUCell(3)], return_sequences=True),
    "Bidirectional(LSTM)": lambda: layers.Bidirectional(
        layers.LSTM(2, return_sequences=True, **L2), merge_mode="sum"
    ),
}


@pytest.mark.parametrize("name", list(RECURRENT))
def test_backward_through_time_matches_central_differences(name):
    rng = np.random.default_rng(0)
    x = rng.integers(1, 6, size=(3, 5))
    x[0, 3:] = 0  # right padding
    x[2, :2] = 0  # left padding
    y = rng.integers(0, 2, size=(3, 5))
    model = mk.Sequential(
        [
            mk.Input(shape=(5,), dtype="int32"),
            layers.Embedding(6, 2, mask_zero=True, embeddings_regularizer="l2"),
            RECURRENT[name](),
            layers.Dense(2, activation="softmax"),
        ]
    )
    model.compile(loss="sparse_categorical_crossentropy")
    worst = testing.check_gradients(model, x, y, tolerance=1e-6, verbose=False)
    assert len(worst) == len(model.weights)  # every weight was compared, under its own name
    assert max(worst.values()) < 1e-6


def test_a_bidirectional_sides_are_named_as_in_keras_weight_paths():
    """Keras's paths: bidirectional/forward_lstm/lstm_cell/kernel, .../backward_lstm/...; the
    report names each side's weights after it (the cell, one level below, adds nothing)."""
    sides = layers.Bidirectional(layers.LSTM(2, name="lstm"), name="bidirectional")
    model = mk.Sequential([mk.Input(shape=(4, 2)), sides])
    model.compile(loss="mse")
    worst = testing.check_gradients(model, np.ones((2, 4, 2)), np.ones((2, 4)), verbose=False)
    assert list(worst) == [
        f"bidirectional/{side}_lstm/{weight}"
        for side in ("forward", "backward")
        for weight in ("kernel", "recurrent_kernel", "bias")
    ]
