"""An RNN called with `initial_state` tensors and a masked input, against Keras.

Keras hands a layer's `call` the input's mask only when the input is the call's one tensor
argument (`Layer.__call__`, "Populate mask argument(s)"): given initial_state tensors too, the
recurrence runs unmasked, while the output still carries the input's mask. Eagerly and in a
Functional model, for a built-in LSTM and for a cell of the user's (and eagerly for a
Bidirectional layer, whose initial states are its two sides'). float64 within the parity
suite's tolerance (1e-10 normwise, derived in test_rnn_parity.py); the masked steps of the
inputs below would change the outputs by O(1), so the comparison sees a difference."""

import numpy as np
import pytest
from test_rnn_user_cell_parity import cell_classes

import minikeras as mk
from minikeras.parity.compare import differences, tolerance


def rel(a, b):
    return differences(np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64))[1]


def use_float64(keras):
    mk.config.set_floatx("float64")
    keras.config.set_floatx("float64")
    keras.config.set_dtype_policy("float64")  # tests/conftest.py puts float32 back after


def data():
    rng = np.random.default_rng(4)
    x = rng.normal(size=(3, 4, 2))
    x[0, :2] = 0  # two masked steps at the start of the first sample
    x[2, 3:] = 0
    return x, rng.normal(size=(3, 3)), rng.normal(size=(3, 3))


def recurrent_layer(K, kind):
    if kind == "lstm":
        return K.layers.LSTM(3, return_sequences=True)
    if kind == "bidirectional":
        return K.layers.Bidirectional(K.layers.SimpleRNN(3, return_sequences=True))
    return K.layers.RNN(cell_classes(K)[0](3), return_sequences=True)


def states(kind, h, c):
    return {"lstm": [h, c], "bidirectional": [h, c]}.get(kind, h)


@pytest.mark.parametrize("kind", ["lstm", "user cell", "bidirectional"])
def test_an_eager_call_with_initial_state_runs_unmasked_as_keras(keras, kind):
    use_float64(keras)
    x, h, c = data()
    results, masks = [], []
    for K in (mk, keras):
        layer = recurrent_layer(K, kind)
        layer.build((None, 4, 2))
        if not results:
            weights = [np.random.default_rng(5).normal(0, 0.5, w.shape) for w in layer.weights]
        layer.set_weights(weights)
        y = layer(K.layers.Masking(0.0)(x), initial_state=states(kind, h, c))
        results.append(np.asarray(y))
        masks.append(np.asarray(y._keras_mask))  # Keras sets it on its tensor too
    assert rel(results[0], results[1]) < tolerance("float64")
    np.testing.assert_array_equal(masks[0], masks[1])  # the output keeps the input's mask
    assert masks[0][0].tolist() == [False, False, True, True]


def functional(K, kind):
    inputs, h, c = K.Input((4, 2)), K.Input((3,)), K.Input((3,))
    y = recurrent_layer(K, kind)(K.layers.Masking(0.0)(inputs), initial_state=states(kind, h, c))
    return K.Model([inputs, h, c], K.layers.Flatten()(y))


@pytest.mark.parametrize("kind", ["lstm", "user cell"])
def test_a_functional_model_passes_no_mask_with_initial_state_as_keras(keras, kind):
    use_float64(keras)
    x, h, c = data()
    ours, theirs = functional(mk, kind), functional(keras, kind)
    weights = [np.random.default_rng(6).normal(0, 0.5, w.shape) for w in theirs.get_weights()]
    ours.set_weights(weights)
    theirs.set_weights(weights)
    mine = ours.predict([x, h, c], verbose=0)
    assert rel(mine, theirs.predict([x, h, c], verbose=0)) < tolerance("float64")
    # negative control: the same model masked by hand differs by O(1) on the masked steps
    layer = [la for la in ours.layers if "rnn" in la.name or "lstm" in la.name][0]
    masked = layer(x, mask=np.any(x != 0, axis=-1), initial_state=states(kind, h, c))
    assert rel(mine, np.asarray(masked).reshape(3, -1)) > 1e-3
