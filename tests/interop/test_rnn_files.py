"""Recurrent models in Keras's files, both ways. Keras keeps an RNN's weights in its cell's group
(`layers/lstm/cell/vars`) and a Bidirectional's in each side's cell
(`layers/bidirectional/forward_layer/cell/vars`); the RNN's and the wrapper's own `vars` groups are
empty. A `.keras` file and a `.weights.h5` file written by one library load in the other, weights
bit for bit, optimizer slots included, and predict the same.

Predictions are compared at the parity suite's float32 tolerance (1e-5 normwise, one pass of
float32 recurrences over 4 steps; the weights themselves are copied exactly)."""

import numpy as np
import pytest

import minikeras as mk
from minikeras.parity.compare import differences, tolerance

pytestmark = pytest.mark.usefixtures("h5py")


def build(K):
    L = K.layers
    return K.Sequential(
        [
            K.Input(shape=(4, 3)),
            L.LSTM(5, return_sequences=True),
            L.GRU(4, return_sequences=True, reset_after=False),
            L.Bidirectional(L.SimpleRNN(3, return_sequences=True), merge_mode="sum"),
            L.TimeDistributed(L.Dense(2)),
            L.RNN(L.GRUCell(3)),
            L.Dense(2, activation="softmax"),
        ]
    )


def data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(12, 4, 3)).astype("float32")
    return x, np.eye(2)[rng.integers(0, 2, size=12)]


def trained(K):
    model = build(K)
    # eagerly: tracing TensorFlow's graphs of five recurrent layers costs more than the run
    model.compile(optimizer="adam", loss="categorical_crossentropy", run_eagerly=K is not mk)
    model.fit(*data(), epochs=2, batch_size=6, verbose=0)
    return model


@pytest.fixture(scope="module")
def files(keras, tmp_path_factory):
    """Each library's trained model, saved both ways once for the module."""
    folder = tmp_path_factory.mktemp("rnn_files")
    models = {"ours": trained(mk), "theirs": trained(keras)}
    for name, model in models.items():
        model.save(folder / f"{name}.keras")
        model.save_weights(folder / f"{name}.weights.h5")
    return folder, models


def same_weights(a, b):
    for w, v in zip(a.get_weights(), b.get_weights(), strict=True):
        np.testing.assert_array_equal(w, v)


def same_predictions(a, b):
    x, _ = data()
    diff = differences(np.asarray(a(x)), np.asarray(b(x)))
    assert diff[1] < tolerance("float32")


def test_the_layout_is_keras_s(files, h5py):
    folder, _ = files

    def datasets(path):
        names = []
        with h5py.File(path) as f:
            f.visititems(lambda name, node: names.append(name))
        return sorted(names)

    ours = datasets(folder / "ours.weights.h5")
    assert ours == datasets(folder / "theirs.weights.h5")
    assert "layers/bidirectional/backward_layer/cell/vars/2" in ours


def test_keras_opens_minikeras_s_files(keras, files):
    folder, models = files
    ours = models["ours"]
    theirs = keras.saving.load_model(folder / "ours.keras")
    same_weights(ours, theirs)
    same_predictions(ours, theirs)
    for ours_slot, theirs_slot in zip(
        ours.optimizer.variables[2:], theirs.optimizer.variables[2:], strict=True
    ):
        np.testing.assert_array_equal(ours_slot, theirs_slot.numpy())
    fresh = build(keras)
    fresh.load_weights(folder / "ours.weights.h5")
    same_weights(ours, fresh)


def test_minikeras_opens_keras_s_files(files):
    folder, models = files
    theirs = models["theirs"]
    ours = mk.saving.load_model(folder / "theirs.keras")
    same_weights(ours, theirs)
    same_predictions(ours, theirs)
    assert ours.optimizer.iterations == 4
    for ours_slot, theirs_slot in zip(
        ours.optimizer.variables[2:], theirs.optimizer.variables[2:], strict=True
    ):
        np.testing.assert_array_equal(ours_slot, theirs_slot.numpy())
    fresh = build(mk)
    fresh.load_weights(folder / "theirs.weights.h5")
    same_weights(fresh, theirs)
