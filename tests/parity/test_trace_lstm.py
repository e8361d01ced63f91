"""`trace.step` on an LSTM model (docs/recurrence.md): every array of one training step beside
Keras's. float32, one step: the products of 2-wide gates over 3 steps round at 2⁻²⁴ on each side,
a few 1e-8 apart (measured 6e-8); held to the parity suite's float32 tolerance, 1e-5."""

import numpy as np

from minikeras import Sequential, trace
from minikeras.layers import LSTM, Dense, Input


def test_an_lstm_step_beside_keras_s(keras):
    # named layers: the entries are named after them, whatever layers other tests made before
    model = Sequential(
        [Input(shape=(3, 2)), LSTM(2, name="lstm"), Dense(2, activation="softmax", name="dense")]
    )
    model.compile(optimizer="sgd", loss="categorical_crossentropy")
    x = np.random.default_rng(0).normal(size=(4, 3, 2)).astype("float32")
    record = trace.step(model, x, np.eye(2)[[0, 1, 1, 0]], keras=True, print_fn=lambda s: None)
    compared = {e.name for e in record.entries() if e.difference is not None}
    for name in ("lstm: a", "lstm: dL/da", "lstm: dL/drecurrent_kernel", "lstm: bias: new value"):
        assert name in compared
    assert record.max_difference() < 1e-5
