"""Functional encoder–decoder models against Keras: keras.io's lstm_seq2seq shape (an encoder
LSTM with return_state=True, whose states start a decoder LSTM through `initial_state=` called on
KerasTensors, a softmax Dense on every decoder step), and the same with a
Bidirectional(LSTM(return_state=True)) encoder whose forward and backward states are
concatenated. The decoder's gradient reaches the encoder only through the states, so a matching
History checks dL/d(initial state) end to end.

Compared in float64 within 1e-10 (normwise; the parity suite's tolerance, derived in
test_rnn_parity.py): the config's call of the decoder (Keras's `kwargs.initial_state`), and a
`fit(shuffle=False)` History of 2 epochs, the weights after it and `predict`.
"""

import json

import numpy as np
import pytest

import minikeras as mk
from minikeras.parity.compare import differences, tolerance

IN_TOKENS, OUT_TOKENS, UNITS = 5, 6, 4


def lstm_seq2seq(K):
    encoder_inputs = K.Input(shape=(None, IN_TOKENS))
    _, state_h, state_c = K.layers.LSTM(UNITS, return_state=True)(encoder_inputs)
    decoder_inputs = K.Input(shape=(None, OUT_TOKENS))
    decoder = K.layers.LSTM(UNITS, return_sequences=True, return_state=True)
    decoder_outputs, _, _ = decoder(decoder_inputs, initial_state=[state_h, state_c])
    outputs = K.layers.Dense(OUT_TOKENS, activation="softmax")(decoder_outputs)
    return K.Model([encoder_inputs, decoder_inputs], outputs)


def bidirectional_seq2seq(K):
    encoder_inputs = K.Input(shape=(None, IN_TOKENS))
    encoder = K.layers.Bidirectional(K.layers.LSTM(UNITS, return_state=True))
    _, forward_h, forward_c, backward_h, backward_c = encoder(encoder_inputs)
    state_h = K.layers.Concatenate()([forward_h, backward_h])
    state_c = K.layers.Concatenate()([forward_c, backward_c])
    decoder_inputs = K.Input(shape=(None, OUT_TOKENS))
    decoder = K.layers.LSTM(2 * UNITS, return_sequences=True)
    decoder_outputs = decoder(decoder_inputs, initial_state=[state_h, state_c])
    outputs = K.layers.Dense(OUT_TOKENS, activation="softmax")(decoder_outputs)
    return K.Model([encoder_inputs, decoder_inputs], outputs)


def data():
    rng = np.random.default_rng(1)
    encoder_x = np.eye(IN_TOKENS)[rng.integers(0, IN_TOKENS, size=(12, 7))]
    decoder_x = np.eye(OUT_TOKENS)[rng.integers(0, OUT_TOKENS, size=(12, 3))]
    y = np.eye(OUT_TOKENS)[rng.integers(0, OUT_TOKENS, size=(12, 3))]
    return [encoder_x, decoder_x], y


def rel(a, b):
    return differences(np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64))[1]


@pytest.mark.parametrize("build", [lstm_seq2seq, bidirectional_seq2seq])
def test_fit_matches_keras(keras, build):
    mk.config.set_floatx("float64")
    keras.config.set_floatx("float64")
    keras.config.set_dtype_policy("float64")  # tests/conftest.py puts float32 back after
    # the configs name layers by per-process counters: both start from zero here, so that
    # the names agree whatever other tests made before
    mk.utils.clear_session()
    keras.backend.clear_session()
    ours, theirs = build(mk), build(keras)
    decoder_calls = [
        json.loads(json.dumps(model.get_config()["layers"][-2]["inbound_nodes"]))
        for model in (ours, theirs)
    ]
    assert decoder_calls[0] == decoder_calls[1]
    assert "initial_state" in decoder_calls[0][0]["kwargs"]
    rng = np.random.default_rng(0)
    weights = [rng.normal(0, 0.5, w.shape) for w in ours.get_weights()]
    for model, K in ((ours, mk), (theirs, keras)):
        model.set_weights(weights)
        model.compile(
            optimizer=K.optimizers.RMSprop(learning_rate=0.01),
            loss="categorical_crossentropy",
            metrics=["accuracy"],
            run_eagerly=K is not mk,  # tracing Keras's graphs costs more than these steps
        )
    x, y = data()
    kwargs = dict(epochs=2, batch_size=4, shuffle=False, verbose=0)
    mine, their = ours.fit(x, y, **kwargs).history, theirs.fit(x, y, **kwargs).history
    tol = tolerance("float64")
    assert sorted(mine) == sorted(their)
    for key in their:
        assert rel(mine[key], their[key]) < tol, key
    for mine_w, their_w in zip(ours.get_weights(), theirs.get_weights(), strict=True):
        assert rel(mine_w, their_w) < tol
    assert rel(ours.predict(x, verbose=0), theirs.predict(x, verbose=0)) < tol
