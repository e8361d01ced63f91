"""A model's output mask reaching its loss and metrics, against Keras: an
Embedding(mask_zero=True) → LSTM(return_sequences) → TimeDistributed(Dense) tagger, whose padded
timesteps (id 0, on the left and on the right) count nothing.

Keras reads the mask its layers attach to the output (`y_pred._keras_mask`): the loss weighs a
kept timestep total/kept and a masked one 0 (`apply_mask` in keras/src/losses/loss.py, so the
loss is the mean over the kept timesteps), the metrics made of a function (accuracy, a
crossentropy) weigh a masked timestep 0, and sample weights multiply in. Compared in float64
within 1e-10 (normwise, the parity suite's tolerance: a few hundred roundings of 2⁻⁵³ per step,
see test_rnn_parity.py): the loss and dL/dw of one batch (tf.GradientTape), a
`fit(shuffle=False)` History of 2 epochs, with and without sample weights, and `evaluate`.
A negative control: the same predictions with the mask forgotten give a loss 1e-3 away from
Keras's.
"""

import numpy as np
import pytest

import minikeras as mk
from minikeras.parity.compare import differences, tolerance

VOCAB, STEPS, TAGS = 7, 6, 3


def tokens():
    rng = np.random.default_rng(3)
    x = rng.integers(1, VOCAB, size=(10, STEPS))
    x[0, 4:] = 0  # right padding
    x[1, :3] = 0  # left padding
    x[2, 1:] = 0
    x[5, :5] = 0
    y = rng.integers(0, TAGS, size=(10, STEPS))
    return x, y


def build(K):
    return K.Sequential(
        [
            K.Input(shape=(STEPS,), dtype="int32"),
            K.layers.Embedding(VOCAB, 4, mask_zero=True),
            K.layers.LSTM(5, return_sequences=True),
            K.layers.TimeDistributed(K.layers.Dense(TAGS, activation="softmax")),
        ]
    )


def twins(keras):
    """The model in both libraries with the same weights, compiled alike."""
    rng = np.random.default_rng(0)
    models = []
    for K in (mk, keras):
        model = build(K)
        if not models:
            weights = [rng.normal(0, 0.5, w.shape) for w in model.get_weights()]
        model.set_weights(weights)
        model.compile(
            optimizer=K.optimizers.SGD(learning_rate=0.5),
            loss="sparse_categorical_crossentropy",
            metrics=["accuracy"],
            weighted_metrics=["sparse_categorical_crossentropy"],
            run_eagerly=K is not mk,  # tracing Keras's graphs costs more than these few steps
        )
        models.append(model)
    return models


def timestep_weights():
    """A weight per timestep (N, T). Keras cannot join a weight per sample (N,) to a mask
    (N, T): it multiplies them unexpanded (InvalidArgumentError, or when N = T a silently
    transposed product); minikeras spreads such a weight over the sample's timesteps."""
    return np.linspace(0.5, 2.0, 10 * STEPS).reshape(10, STEPS)


def rel(a, b):
    return differences(np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64))[1]


@pytest.fixture
def float64(keras):
    mk.config.set_floatx("float64")
    keras.config.set_floatx("float64")
    keras.config.set_dtype_policy("float64")
    yield
    # tests/conftest.py's autouse fixture puts float32 back on both sides


def test_loss_and_gradients_of_a_masked_batch(keras, float64):
    import tensorflow as tf

    ours, theirs = twins(keras)
    x, y = tokens()
    weights = timestep_weights()
    _, loss, grads = ours.compute_gradients(x, y, weights)
    with tf.GradientTape() as tape:
        y_pred = theirs(x, training=True)
        their_loss = theirs.compute_loss(x, y, y_pred, sample_weight=weights)
    their_grads = [
        tf.convert_to_tensor(g) for g in tape.gradient(their_loss, theirs.trainable_weights)
    ]  # the embedding's gradient comes as IndexedSlices
    tol = tolerance("float64")
    assert rel(loss, their_loss) < tol
    for mine, their in zip(grads, their_grads, strict=True):
        assert rel(mine, their) < tol
    # negative control: the same predictions with the mask forgotten give another loss
    y_pred = ours.predict(x, verbose=0)
    ours.output_masks = None
    unmasked = ours.compute_loss_and_gradients(y, y_pred, weights, training=False)[0]
    assert rel(unmasked, their_loss) > 1e-3


@pytest.mark.parametrize("weighted", [False, True])
def test_fit_history_and_evaluate(keras, float64, weighted):
    ours, theirs = twins(keras)
    x, y = tokens()
    weights = timestep_weights() if weighted else None
    kwargs = dict(epochs=2, batch_size=4, shuffle=False, verbose=0, sample_weight=weights)
    mine = ours.fit(x, y, validation_data=(x[:4], y[:4]), **kwargs).history
    their = theirs.fit(x, y, validation_data=(x[:4], y[:4]), **kwargs).history
    assert sorted(mine) == sorted(their)
    tol = tolerance("float64")
    for key in their:
        assert rel(mine[key], their[key]) < tol, key
    for mine_w, their_w in zip(ours.get_weights(), theirs.get_weights(), strict=True):
        assert rel(mine_w, their_w) < tol
    evaluated = ours.evaluate(x, y, sample_weight=weights, verbose=0, return_dict=True)
    expected = theirs.evaluate(x, y, sample_weight=weights, verbose=0, return_dict=True)
    for key in expected:
        assert rel(evaluated[key], expected[key]) < tol, key
