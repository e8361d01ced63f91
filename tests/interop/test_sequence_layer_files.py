"""Models with Embedding, Masking, RepeatVector and TimeDistributed in Keras's files, both ways:
a `.keras` file minikeras writes opens in keras.saving.load_model and predicts the same, and a
file Keras writes opens in minikeras, weights and optimizer state included. TimeDistributed's
weights live in its layer's own group (`layers/time_distributed/layer/vars`), as Keras puts them.

Predictions are compared at the parity suite's float32 tolerance (1e-5 normwise, one pass; the
weights themselves are copied bit for bit)."""

import numpy as np
import pytest

import minikeras as mk
from minikeras.parity.compare import differences, tolerance

pytestmark = pytest.mark.usefixtures("h5py")


def build(K):
    return K.Sequential(
        [
            K.Input(shape=(5,)),
            K.layers.Embedding(9, 4),
            K.layers.Masking(),
            K.layers.Flatten(),
            K.layers.RepeatVector(2),
            K.layers.TimeDistributed(K.layers.Dense(3, activation="softmax")),
        ]
    )


def data():
    rng = np.random.default_rng(0)
    return rng.integers(0, 9, size=(16, 5)), np.eye(3)[rng.integers(0, 3, size=(16, 2))]


def trained(K):
    model = build(K)
    model.compile(optimizer="adam", loss="categorical_crossentropy")
    model.fit(*data(), epochs=2, verbose=0)
    return model


def test_keras_opens_minikeras_s_file(keras, tmp_path):
    ours = trained(mk)
    ours.save(tmp_path / "ours.keras")
    theirs = keras.saving.load_model(tmp_path / "ours.keras")
    for w, v in zip(ours.get_weights(), theirs.get_weights(), strict=True):
        np.testing.assert_array_equal(w, v)
    x, _ = data()
    assert differences(ours.predict(x, verbose=0), theirs.predict(x, verbose=0))[1] < tolerance(
        "float32"
    )
    theirs_slots = [v.numpy() for v in theirs.optimizer.variables[2:]]
    for ours_slot, theirs_slot in zip(ours.optimizer.variables[2:], theirs_slots, strict=True):
        np.testing.assert_array_equal(ours_slot, theirs_slot)


def test_minikeras_opens_keras_s_file(keras, tmp_path):
    theirs = trained(keras)
    theirs.save(tmp_path / "theirs.keras")
    theirs.save_weights(tmp_path / "theirs.weights.h5")
    ours = mk.saving.load_model(tmp_path / "theirs.keras")
    assert [type(layer).__name__ for layer in ours.layers] == [
        "Embedding",
        "Masking",
        "Flatten",
        "RepeatVector",
        "TimeDistributed",
    ]
    for w, v in zip(ours.get_weights(), theirs.get_weights(), strict=True):
        np.testing.assert_array_equal(w, v)
    assert ours.optimizer.iterations == 2
    x, _ = data()
    assert differences(ours.predict(x, verbose=0), theirs.predict(x, verbose=0))[1] < tolerance(
        "float32"
    )
    fresh = build(mk)
    fresh.load_weights(tmp_path / "theirs.weights.h5")
    for w, v in zip(fresh.get_weights(), theirs.get_weights(), strict=True):
        np.testing.assert_array_equal(w, v)
