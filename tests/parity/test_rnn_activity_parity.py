"""An activity penalty on a recurrent layer that returns its states, against Keras: Keras's
Layer.__call__ penalises every output of the call (the sequence output and each state), each
penalty divided by its own batch size, so the loss holds three terms and their gradients reach
the cell through h and c too. A Functional model (the output and c feed a softmax; h is left
unused, so only its penalty depends on it): `fit(shuffle=False)` History, weights after it and
`evaluate` agree with Keras in float64 within the parity suite's tolerance (1e-10 normwise,
derived in test_rnn_parity.py); a negative control (the same model without the penalty) shows
that the check sees it."""

import numpy as np

import minikeras as mk
from minikeras.parity.compare import differences, tolerance


def build(K, penalty=0.05):
    L = K.layers
    inputs = K.Input(shape=(4, 3))
    regularizer = K.regularizers.L2(penalty) if penalty else None
    output, h, c = L.LSTM(3, return_state=True, activity_regularizer=regularizer)(inputs)
    probs = L.Dense(2, activation="softmax")(L.Concatenate()([output, c]))
    return K.Model(inputs, probs)


def rel(a, b):
    return differences(np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64))[1]


def fit_both(keras):
    mk.config.set_floatx("float64")
    keras.config.set_floatx("float64")
    keras.config.set_dtype_policy("float64")  # tests/conftest.py puts float32 back after
    rng = np.random.default_rng(0)
    x = rng.normal(size=(10, 4, 3))
    y = np.eye(2)[rng.integers(0, 2, size=10)]
    ours, theirs, unpenalized = build(mk), build(keras), build(mk, penalty=0)
    weights = [rng.normal(0, 0.5, w.shape) for w in theirs.get_weights()]
    for model, K in ((ours, mk), (theirs, keras), (unpenalized, mk)):
        model.set_weights(weights)
        model.compile(
            optimizer=K.optimizers.SGD(learning_rate=0.5),
            loss="categorical_crossentropy",
            run_eagerly=K is not mk,
        )
    kwargs = dict(epochs=2, batch_size=4, shuffle=False, verbose=0)
    histories = [model.fit(x, y, **kwargs).history for model in (ours, theirs, unpenalized)]
    return ours, theirs, histories, x, y


def test_every_output_and_state_is_penalized_as_keras(keras):
    ours, theirs, (mine, their, unpenalized), x, y = fit_both(keras)
    tol = tolerance("float64")
    assert rel(mine["loss"], their["loss"]) < tol
    for mine_w, their_w in zip(ours.get_weights(), theirs.get_weights(), strict=True):
        assert rel(mine_w, their_w) < tol
    assert rel(ours.evaluate(x, y, verbose=0), theirs.evaluate(x, y, verbose=0)) < tol
    ours(x[:4], training=False)
    theirs(x[:4], training=False)
    assert len(ours.losses) == len(theirs.losses) == 3  # output, h and c
    assert rel(ours.losses, [float(v) for v in theirs.losses]) < tol
    assert rel(unpenalized["loss"], their["loss"]) > 1e-3  # the negative control
