"""Regularizers and constraints on the recurrent layers and Embedding, against Keras: kernel,
recurrent and bias penalties and projections of SimpleRNN, LSTM, GRU (each side of a
Bidirectional too), the output's activity penalty, and Embedding's table penalty, projection and
activity penalty. Their config entries are Keras's, and a `fit(shuffle=False)` History (the loss
includes every penalty), the weights after it (projected after each update) and `evaluate` match
Keras in float64 within 1e-10 (normwise; the parity suite's tolerance, derived in
test_rnn_parity.py)."""

import numpy as np

import minikeras as mk
from minikeras.parity.compare import differences, tolerance

REGULARIZED = ("kernel", "recurrent", "bias")


def recurrent_options(K, seed):
    r = K.regularizers
    c = K.constraints
    return {
        "kernel_regularizer": r.L2(0.01 * seed),
        "recurrent_regularizer": r.L1(0.005),
        "bias_regularizer": r.L1L2(l1=0.002, l2=0.003),
        "kernel_constraint": c.MaxNorm(0.8),
        "recurrent_constraint": c.UnitNorm(),
        "bias_constraint": c.NonNeg(),
    }


def build(K):
    L = K.layers
    return K.Sequential(
        [
            K.Input(shape=(5,), dtype="int32"),
            L.Embedding(
                9,
                3,
                embeddings_regularizer=K.regularizers.L2(0.02),
                embeddings_constraint=K.constraints.MaxNorm(0.5),
                activity_regularizer=K.regularizers.L1(0.01),
            ),
            L.LSTM(
                4,
                return_sequences=True,
                activity_regularizer=K.regularizers.L2(0.01),
                **recurrent_options(K, 1),
            ),
            L.Bidirectional(L.GRU(3, return_sequences=True, **recurrent_options(K, 2))),
            L.SimpleRNN(3, **recurrent_options(K, 3)),
            L.Dense(2, activation="softmax"),
        ]
    )


def rel(a, b):
    return differences(np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64))[1]


def test_configs_name_the_penalties_as_keras(keras):
    ours, theirs = build(mk), build(keras)
    keys = [f"{w}_{kind}" for w in REGULARIZED for kind in ("regularizer", "constraint")]
    keys += ["activity_regularizer", "embeddings_regularizer", "embeddings_constraint"]
    for mine, their in zip(ours.layers, theirs.layers, strict=True):
        mine, their = mine.get_config(), their.get_config()
        if "layer" in their:  # Bidirectional: the wrapped layer's
            mine, their = mine["layer"]["config"], their["layer"]["config"]
        for key in keys:
            assert mine.get(key) == their.get(key), key


def test_fit_matches_keras(keras):
    mk.config.set_floatx("float64")
    keras.config.set_floatx("float64")
    keras.config.set_dtype_policy("float64")  # tests/conftest.py puts float32 back after
    rng = np.random.default_rng(0)
    x = rng.integers(0, 9, size=(12, 5))
    y = np.eye(2)[rng.integers(0, 2, size=12)]
    models = []
    for K in (mk, keras):
        model = build(K)
        if not models:
            weights = [rng.normal(0, 0.5, w.shape) for w in model.get_weights()]
        model.set_weights(weights)
        model.compile(
            optimizer=K.optimizers.SGD(learning_rate=0.3),
            loss="categorical_crossentropy",
            run_eagerly=K is not mk,  # tracing Keras's graphs costs more than these steps
        )
        models.append(model)
    ours, theirs = models
    kwargs = dict(epochs=2, batch_size=4, shuffle=False, verbose=0)
    mine, their = ours.fit(x, y, **kwargs).history, theirs.fit(x, y, **kwargs).history
    tol = tolerance("float64")
    for key in their:
        assert rel(mine[key], their[key]) < tol, key
    for mine_w, their_w in zip(ours.get_weights(), theirs.get_weights(), strict=True):
        assert rel(mine_w, their_w) < tol
    assert rel(ours.evaluate(x, y, verbose=0), theirs.evaluate(x, y, verbose=0)) < tol
    assert ours.get_weights()[3].min() >= 0  # the LSTM's bias, NonNeg after every update
