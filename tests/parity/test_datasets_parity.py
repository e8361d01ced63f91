"""fit, evaluate and predict read a `tf.data.Dataset` (and a torch `DataLoader`) batch by
batch, as Keras does: the dataset's own batches in its own order, again at every epoch.

float64 in both libraries: 1e-10 relative is the parity suite's float64 bound (only the order
of a few additions may differ)."""

import warnings

import numpy as np
import pytest

import minikeras

RTOL = 1e-10

X = np.linspace(-1, 1, 30).reshape(10, 3)
Y = X @ np.array([[0.5], [-1.0], [2.0]]) + 0.25
LABELS = (np.arange(10) % 2).reshape(10, 1).astype("float64")


@pytest.fixture
def keras64(keras):
    from minikeras.parity.keras_env import floatx

    with floatx("float64"):
        yield keras


def twins(keras, loss="mse", metrics=("mae",)):
    def build(lib):
        return lib.Sequential([lib.layers.Input((3,)), lib.layers.Dense(1)])

    ours, theirs = build(minikeras), build(keras)
    theirs.set_weights(ours.get_weights())
    ours.compile(optimizer="sgd", loss=loss, metrics=list(metrics))
    theirs.compile(optimizer="sgd", loss=loss, metrics=list(metrics), run_eagerly=True)
    return ours, theirs


def tf_dataset(y=Y, batch_size=3):
    import tensorflow as tf

    return tf.data.Dataset.from_tensor_slices((X, y)).batch(batch_size)


def test_fit_evaluate_predict_on_a_tf_dataset_as_in_keras(keras64):
    ours, theirs = twins(keras64)
    data = tf_dataset()  # 4 batches, the last of one sample: the same in every epoch
    validation = tf_dataset(batch_size=4)
    histories = [
        m.fit(data, epochs=3, shuffle=False, validation_data=validation, verbose=0)
        for m in (ours, theirs)
    ]
    assert ours.history.params["steps"] == theirs.history.params["steps"] == 4
    assert sorted(histories[0].history) == sorted(histories[1].history)
    for key, values in histories[1].history.items():
        np.testing.assert_allclose(histories[0].history[key], values, rtol=RTOL)
    for a, b in zip(ours.get_weights(), theirs.get_weights(), strict=True):
        np.testing.assert_allclose(a, b, rtol=RTOL)
    np.testing.assert_allclose(
        ours.evaluate(data, verbose=0), theirs.evaluate(data, verbose=0), rtol=RTOL
    )
    np.testing.assert_allclose(
        ours.predict(data, verbose=0), theirs.predict(data, verbose=0), rtol=RTOL
    )


def test_class_weight_on_a_tf_dataset_as_in_keras(keras64):
    ours, theirs = twins(keras64, loss="binary_crossentropy", metrics=())
    data = tf_dataset(LABELS, batch_size=4)
    for m in (ours, theirs):
        m.fit(data, epochs=2, shuffle=False, class_weight={0: 0.25, 1: 3.0}, verbose=0)
    for a, b in zip(ours.get_weights(), theirs.get_weights(), strict=True):
        np.testing.assert_allclose(a, b, rtol=RTOL)


def test_a_tf_dataset_with_y_is_refused_and_shuffle_warns_as_in_keras(keras64):
    ours, theirs = twins(keras64)
    messages = []
    for m in (ours, theirs):
        with pytest.raises(ValueError) as error:
            m.fit(tf_dataset(), Y, verbose=0)
        messages.append(str(error.value))
    assert messages[0] == messages[1]
    assert "`y` should not be passed" in messages[0]
    warned = []
    for m in (ours, theirs):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            m.fit(tf_dataset(), epochs=1, verbose=0)  # shuffle=True by default
        warned.append([str(w.message) for w in caught if "shuffle" in str(w.message)])
    assert warned[0] == warned[1] and len(warned[0]) == 1
