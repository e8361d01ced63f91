"""`RNN(cell)` with cells written by the user (a Layer with `state_size` and `call(inputs,
states)` made of ops, no backward: trained through the tape), `StackedRNNCells` (of built-in
cells too), a nested state and encoder states passed as a decoder's initial_state, against
Keras with the same weights: a `fit(shuffle=False)` History, the weights after it and `predict`,
in float64 within the parity suite's tolerance (1e-10 normwise, derived in test_rnn_parity.py).
The same code defines each cell in both libraries. A negative control (another learning rate)
shows the comparison can fail."""

import numpy as np
import pytest

import minikeras as mk
from minikeras.parity.compare import differences, tolerance


def cell_classes(K):
    """keras.io's MinimalRNNCell (Working with RNNs), and a cell with two states."""

    class MinimalRNNCell(K.layers.Layer):
        def __init__(self, units, **kwargs):
            super().__init__(**kwargs)
            self.units = units
            self.state_size = units

        def build(self, input_shape):
            self.kernel = self.add_weight(shape=(input_shape[-1], self.units), name="kernel")
            self.recurrent_kernel = self.add_weight(
                shape=(self.units, self.units), name="recurrent_kernel"
            )

        def call(self, inputs, states):
            h = K.ops.matmul(inputs, self.kernel)
            output = K.ops.tanh(h + K.ops.matmul(states[0], self.recurrent_kernel))
            return output, [output]

    class TwoStateCell(K.layers.Layer):
        def __init__(self, units, **kwargs):
            super().__init__(**kwargs)
            self.units = units
            self.state_size = [units, units]

        def build(self, input_shape):
            self.kernel = self.add_weight(shape=(input_shape[-1], self.units), name="kernel")
            self.memory = self.add_weight(shape=(self.units, self.units), name="memory")

        def call(self, inputs, states):
            h, c = states
            c = 0.5 * c + K.ops.sigmoid(K.ops.matmul(inputs, self.kernel))
            h = K.ops.tanh(c + K.ops.matmul(h, self.memory))
            return h, [h, c]

    return MinimalRNNCell, TwoStateCell


def build(K, case):
    minimal, two_state = cell_classes(K)
    L = K.layers
    inputs = K.Input(shape=(4, 3))
    if case == "minimal":
        x = L.RNN(minimal(5))(inputs)
    elif case == "two states, backwards, sequences":
        x = L.RNN(two_state(4), go_backwards=True, return_sequences=True)(inputs)
        x = L.GlobalAveragePooling1D()(x)
    elif case == "stacked, nested state":
        x = L.RNN(L.StackedRNNCells([two_state(4), minimal(3)]))(inputs)
    elif case == "list of cells, masked":
        x = L.RNN([minimal(3), two_state(4)], return_sequences=True)(L.Masking(0.0)(inputs))
        x = L.Flatten()(x)
    elif case == "return_state":
        output, h, c = L.RNN(two_state(3), return_state=True)(inputs)
        x = L.Concatenate()([output, c])
    elif case == "activity penalty, return_state":
        # Keras penalises each output of the call: the output, h and c, each over the batch
        penalty = K.regularizers.L2(0.05)
        output, h, c = L.RNN(two_state(3), return_state=True, activity_regularizer=penalty)(inputs)
        x = L.Concatenate()([output, c])
    elif case == "built-in cells stacked, masked":
        cells = [
            L.LSTMCell(3),
            L.GRUCell(2),
            L.GRUCell(2, reset_after=False, use_bias=False),
            L.SimpleRNNCell(2),
        ]
        x = L.RNN(cells, return_sequences=True)(L.Masking(0.0)(inputs))
        x = L.Flatten()(x)
    elif case == "encoder-decoder, initial_state":
        # the encoder reaches the loss only through the decoder's initial states
        _, h, c = L.RNN(two_state(4), return_state=True)(inputs)
        x = L.RNN(two_state(4), go_backwards=True)(inputs, initial_state=[h, c])
    elif case == "encoder-decoder, one state":
        _, h = L.RNN(minimal(3), return_state=True)(inputs)
        x = L.RNN(minimal(3), return_sequences=True)(L.Masking(0.0)(inputs), initial_state=h)
        x = L.Flatten()(x)
    return K.Model(inputs, L.Dense(2, activation="softmax")(x))


CASES = [
    "minimal",
    "two states, backwards, sequences",
    "stacked, nested state",
    "list of cells, masked",
    "return_state",
    "activity penalty, return_state",
    "built-in cells stacked, masked",
    "encoder-decoder, initial_state",
    "encoder-decoder, one state",
]


def rel(a, b):
    return differences(np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64))[1]


def fit_both(keras, case, learning_rates=(0.3, 0.3)):
    mk.config.set_floatx("float64")
    keras.config.set_floatx("float64")
    keras.config.set_dtype_policy("float64")  # tests/conftest.py puts float32 back after
    rng = np.random.default_rng(0)
    x = rng.normal(size=(10, 4, 3))
    x[:3, :2] = 0  # masked steps at the start of three samples (used by the masked case)
    x[5, 3:] = 0
    y = np.eye(2)[rng.integers(0, 2, size=10)]
    ours, theirs = build(mk, case), build(keras, case)
    assert [w.shape for w in ours.get_weights()] == [w.shape for w in theirs.get_weights()]
    weights = [rng.normal(0, 0.5, w.shape) for w in theirs.get_weights()]
    for model, K, lr in ((ours, mk, learning_rates[0]), (theirs, keras, learning_rates[1])):
        model.set_weights(weights)
        model.compile(optimizer=K.optimizers.SGD(learning_rate=lr), loss="categorical_crossentropy")
    kwargs = dict(epochs=2, batch_size=4, shuffle=False, verbose=0)
    histories = [model.fit(x, y, **kwargs).history for model in (ours, theirs)]
    return ours, theirs, histories, x


@pytest.mark.parametrize("case", CASES)
def test_user_cells_train_as_keras(keras, case):
    ours, theirs, (mine, their), x = fit_both(keras, case)
    tol = tolerance("float64")
    assert rel(mine["loss"], their["loss"]) < tol
    for mine_w, their_w in zip(ours.get_weights(), theirs.get_weights(), strict=True):
        assert rel(mine_w, their_w) < tol
    assert rel(ours.predict(x, verbose=0), theirs.predict(x, verbose=0)) < tol


def test_the_comparison_sees_another_learning_rate(keras):
    ours, theirs, (mine, their), x = fit_both(keras, "minimal", learning_rates=(0.3, 0.31))
    assert rel(mine["loss"], their["loss"]) > 1e-6


def test_a_stateful_user_cell_carries_its_states_as_keras(keras):
    """Called eagerly twice, then after reset_state: the states carry over between calls."""
    mk.config.set_floatx("float64")
    keras.config.set_floatx("float64")
    keras.config.set_dtype_policy("float64")
    x = np.random.default_rng(2).normal(size=(2, 3, 4))
    results = []
    for K in (mk, keras):
        layer = K.layers.RNN(cell_classes(K)[1](3), stateful=True, return_state=True)
        layer(x)
        if not results:
            weights = [
                np.random.default_rng(3).normal(0, 0.5, w.shape) for w in layer.get_weights()
            ]
        layer.set_weights(weights)
        layer.reset_state()  # forget the states of the call that built it (other weights)
        first = layer(x)
        second = layer(x)
        layer.reset_state()
        results.append([np.asarray(v) for v in (*first, *second, layer(x)[0])])
    for mine, theirs in zip(*results, strict=True):
        assert rel(mine, theirs) < tolerance("float64")
    assert rel(results[0][0], results[0][3]) > 1e-3  # the second call started from the states
