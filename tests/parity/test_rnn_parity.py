"""Recurrent layers against real Keras on TensorFlow, with the same weights: the output (and the
states), dL/dx, dL/dw for every weight and dL/d(initial state) from tf.GradientTape, for
SimpleRNN, LSTM, GRU (both reset_after), RNN(cell) and Bidirectional (every merge mode); masks
with left and right padding; configs equal to Keras's; a stacked LSTM's `fit(shuffle=False)`.

Differences are normwise (max|a − b| / max(‖a‖∞, ‖b‖∞)), held to the parity suite's tolerances
(minikeras/parity/compare.py, docs/parity.md):
- float64: 1e-10. A T-step recurrence is a chain of T products of ≤ 4u-term sums and gate
  functions; both sides round at 2⁻⁵³ and add in different orders, so after T = 5 steps what is
  left is a few hundred roundings, < 1e-13 (measured: see the report of this branch).
- float32: 1e-5 for one pass (+ 1e-6 per training step). Per step, each gate is a sum of
  in + u ≤ 12 products, rounded at 2⁻²⁴ ≈ 6e-8 on each side independently; five steps of that,
  through σ and tanh (derivatives ≤ 1), stays well below 1e-5 (measured ~1e-7).
"""

import json

import numpy as np
import pytest
from layer_twins import floatx, rel

import minikeras
from minikeras import layers
from minikeras.parity.compare import tolerance

BATCH, STEPS, FEATURES = 3, 5, 4


def as_list(value):
    return list(value) if isinstance(value, (list, tuple)) else [value]


def twin(keras, ours, x, **call_kwargs):
    """Keras's layer from minikeras's config (JSON and back), with minikeras's weights."""
    entry = json.loads(json.dumps(layers.serialize(ours)))
    entry.pop("build_config", None)
    theirs = keras.layers.deserialize(entry)
    theirs(x, **call_kwargs)
    theirs.set_weights(ours.get_weights())
    return theirs


def masks():
    right = np.ones((BATCH, STEPS), dtype=bool)
    right[0, 3:] = False
    right[2, 1:] = False
    left = np.ones((BATCH, STEPS), dtype=bool)
    left[1, :2] = False
    left[2, :4] = False
    return {"none": None, "right": right, "left": left}


def compare(keras, ours, dtype="float64", mask=None, n_states=0, seed=0):
    """Forward and every gradient of L = Σ r ⊙ outputs, minikeras against Keras."""
    import tensorflow as tf

    rng = np.random.default_rng(seed)
    x = rng.normal(size=(BATCH, STEPS, FEATURES)).astype(dtype)
    states = [rng.normal(size=(BATCH, s)).astype(dtype) for s in state_sizes(ours, n_states)]
    kwargs = {"mask": mask} if mask is not None else {}
    if states:
        kwargs["initial_state"] = states
    ours(x, **kwargs)
    ours.set_weights([rng.normal(0, 0.5, w.shape) for w in ours.get_weights()])
    theirs = twin(keras, ours, x, **kwargs)
    outputs = as_list(ours.call(x, mask=mask, initial_state=states or None))
    r = [rng.normal(size=o.shape).astype(dtype) for o in outputs]
    d_in = as_list(ours.backward(r if len(r) > 1 else r[0]))

    x_t = tf.Variable(x)
    states_t = [tf.Variable(s) for s in states]
    with tf.GradientTape() as tape:
        call_kwargs = dict(kwargs)
        if states:
            call_kwargs["initial_state"] = states_t
        their_outputs = as_list(theirs(x_t, **call_kwargs))
        loss = sum(tf.reduce_sum(ri * oi) for ri, oi in zip(r, their_outputs))
    sources = [x_t] + states_t + list(theirs.trainable_weights)
    their_grads = tape.gradient(loss, sources)
    tol = tolerance(dtype)
    worst = 0.0
    pairs = list(zip(outputs, their_outputs)) + list(zip(d_in + ours.grads, their_grads))
    assert len(pairs) == len(outputs) + 1 + len(states) + len(ours.weights)
    for mine, keras_value in pairs:
        diff = rel(mine, np.asarray(keras_value))
        worst = max(worst, diff)
        assert diff < tol, (diff, tol)
    return worst


def state_sizes(layer, n_states):
    if not n_states:
        return []
    if isinstance(layer, layers.Bidirectional):
        return state_sizes(layer.forward_layer, 1) + state_sizes(layer.backward_layer, 1)
    return list(layer.state_size)


LAYERS = {
    "SimpleRNN": lambda **kw: layers.SimpleRNN(3, **kw),
    "LSTM": lambda **kw: layers.LSTM(3, **kw),
    "GRU": lambda **kw: layers.GRU(3, **kw),
    "GRU reset_after=False": lambda **kw: layers.GRU(3, reset_after=False, **kw),
    "RNN(LSTMCell)": lambda **kw: layers.RNN(layers.LSTMCell(3), **kw),
}


SEQUENCE_CASES = [(name, "right") for name in LAYERS] + [
    ("LSTM", "left"),
    ("GRU", "left"),
    ("GRU reset_after=False", "none"),
]


@pytest.mark.parametrize("name, mask", SEQUENCE_CASES)
def test_sequences_states_and_gradients(keras, name, mask):
    """return_sequences and return_state together, from a given initial state."""
    with floatx(keras, "float64"):
        layer = LAYERS[name](return_sequences=True, return_state=True)
        compare(keras, layer, mask=masks()[mask], n_states=1)


@pytest.mark.parametrize("name", ["SimpleRNN", "LSTM", "GRU", "GRU reset_after=False"])
def test_go_backwards_last_output(keras, name):
    with floatx(keras, "float64"):
        compare(keras, LAYERS[name](go_backwards=True), mask=masks()["left"])


@pytest.mark.parametrize(
    "options",
    [
        {"activation": "relu", "recurrent_activation": "tanh", "use_bias": False},
        {"activation": "linear", "unit_forget_bias": False},
    ],
)
def test_lstm_options(keras, options):
    with floatx(keras, "float64"):
        compare(keras, layers.LSTM(3, return_sequences=True, **options))


@pytest.mark.parametrize("merge_mode", ["concat", "sum", "mul", "ave", None])
def test_bidirectional_merge_modes(keras, merge_mode):
    with floatx(keras, "float64"):
        layer = layers.Bidirectional(layers.LSTM(3, return_sequences=True), merge_mode=merge_mode)
        compare(keras, layer, mask=masks()["left"])


def test_bidirectional_states_and_backward_layer(keras):
    with floatx(keras, "float64"):
        layer = layers.Bidirectional(
            layers.GRU(3, return_state=True),
            backward_layer=layers.GRU(2, return_state=True, go_backwards=True, reset_after=False),
        )
        compare(keras, layer, mask=masks()["right"], n_states=1)


@pytest.mark.parametrize("name", ["LSTM", "GRU reset_after=False"])
def test_float32(keras, name):
    with floatx(keras, "float32"):
        compare(keras, LAYERS[name](return_sequences=True), dtype="float32", mask=masks()["right"])


CONFIGS = [
    ("LSTM", {"units": 3, "return_sequences": True, "dropout": 0.2, "recurrent_dropout": 0.1}),
    ("GRU", {"units": 2, "reset_after": False, "go_backwards": True, "seed": 3}),
    ("SimpleRNN", {"units": 4, "activation": "relu", "stateful": True}),
    ("LSTMCell", {"units": 3, "unit_forget_bias": False}),
    ("GRUCell", {"units": 3}),
    ("SimpleRNNCell", {"units": 3, "use_bias": False}),
]


@pytest.mark.parametrize("class_name, kwargs", CONFIGS)
def test_config_equals_keras(keras, class_name, kwargs):
    ours = getattr(layers, class_name)(name="x", **kwargs)
    theirs = getattr(keras.layers, class_name)(name="x", **kwargs)
    assert json.loads(json.dumps(ours.get_config())) == json.loads(json.dumps(theirs.get_config()))


def test_wrapper_configs_equal_keras(keras):
    for build in (
        lambda K: K.layers.RNN(K.layers.GRUCell(2, name="c"), return_state=True, name="r"),
        lambda K: K.layers.Bidirectional(K.layers.LSTM(2, name="l"), merge_mode="ave", name="b"),
        lambda K: K.layers.Bidirectional(
            K.layers.GRU(2, name="f"),
            backward_layer=K.layers.GRU(2, go_backwards=True, name="g"),
            name="b2",
        ),
    ):
        ours, theirs = build(minikeras), build(keras)
        assert json.loads(json.dumps(ours.get_config())) == json.loads(
            json.dumps(theirs.get_config())
        )


def stacked_lstm(K):
    return K.Sequential(
        [
            K.Input(shape=(STEPS, FEATURES)),
            K.layers.LSTM(6, return_sequences=True),
            K.layers.LSTM(4),
            K.layers.Dense(3, activation="softmax"),
        ]
    )


def test_stacked_lstm_fit_history_and_weights(keras):
    """Keras runs eagerly here (run_eagerly=True: the same arithmetic, no graph to trace)."""
    dtype = "float64"
    rng = np.random.default_rng(5)
    x = rng.normal(size=(32, STEPS, FEATURES)).astype(dtype)
    y = np.eye(3)[rng.integers(0, 3, 32)].astype(dtype)
    with floatx(keras, dtype):
        ours = stacked_lstm(minikeras)
        theirs = keras.Sequential.from_config(json.loads(json.dumps(ours.get_config())))
        theirs.set_weights(ours.get_weights())
        ours.compile(
            optimizer=minikeras.optimizers.Adam(learning_rate=0.01),
            loss="categorical_crossentropy",
            metrics=["accuracy"],
        )
        theirs.compile(
            optimizer=keras.optimizers.Adam(learning_rate=0.01),
            loss="categorical_crossentropy",
            metrics=["accuracy"],
            run_eagerly=True,
        )
        epochs, batch_size = 3, 16
        h_ours = ours.fit(x, y, epochs=epochs, batch_size=batch_size, shuffle=False, verbose=0)
        h_theirs = theirs.fit(x, y, epochs=epochs, batch_size=batch_size, shuffle=False, verbose=0)
        steps = epochs * 2
        assert rel(h_ours.history["loss"], h_theirs.history["loss"]) < tolerance(dtype, steps)
        assert h_ours.history["accuracy"] == pytest.approx(h_theirs.history["accuracy"])
        for mine, keras_value in zip(ours.get_weights(), theirs.get_weights()):
            assert rel(mine, keras_value) < tolerance(dtype, steps)


# ------------------------------------------------------------------ errors, as Keras raises
def test_errors_have_keras_types(keras):
    for K in (minikeras, keras):
        with pytest.raises(ValueError, match="expected ndim=3, found ndim=2"):
            K.layers.LSTM(3)(np.zeros((2, 3)))
        with pytest.raises(ValueError, match="batch size must be static"):
            K.Sequential([K.Input((3, 1)), K.layers.LSTM(2, stateful=True)])
        layer = K.layers.GRU(2, stateful=True)
        layer(np.zeros((2, 3, 1)))
        with pytest.raises(ValueError, match="Expected batch size: 2"):
            layer(np.zeros((3, 3, 1)))
