"""`.keras` models in a directory (`save_model(..., zipped=False)`) and in open file objects,
both ways with Keras: the same members, and the model back with its weights bit for bit."""

import io
import os

import numpy as np
import pytest

import minikeras as mk
from minikeras.saving import saving_lib

X = np.random.default_rng(0).random((4, 3)).astype("float32")


def model_of(lib):
    model = lib.Sequential([lib.Input((3,)), lib.layers.Dense(2, activation="relu")])
    model.compile(lib.optimizers.Adam(0.01), "mean_squared_error")
    return model


def assert_same_weights(a, b):
    for x, y in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_array_equal(x, y)


def test_unzipped_directories_both_ways(keras, tmp_path):
    ours, theirs = model_of(mk), model_of(keras)
    mk.saving.save_model(ours, tmp_path / "ours", zipped=False)
    keras.saving.save_model(theirs, tmp_path / "theirs", zipped=False)
    assert sorted(os.listdir(tmp_path / "ours")) == sorted(os.listdir(tmp_path / "theirs"))
    assert_same_weights(ours, keras.saving.load_model(tmp_path / "ours"))
    back = mk.models.load_model(tmp_path / "theirs")
    assert_same_weights(theirs, back)
    np.testing.assert_allclose(back.predict(X, verbose=0), theirs.predict(X, verbose=0), atol=1e-6)
    # saving again replaces the directory, and leaves nothing else beside it
    mk.saving.save_model(model_of(mk), tmp_path / "ours", zipped=False)
    assert sorted(os.listdir(tmp_path)) == ["ours", "theirs"]
    with pytest.raises(ValueError, match="should not end in `.keras`"):
        mk.saving.save_model(ours, tmp_path / "x.keras", zipped=False)


def test_file_objects_both_ways(keras):
    ours, theirs = model_of(mk), model_of(keras)
    buffer = io.BytesIO()
    saving_lib.save_model(ours, buffer)
    buffer.seek(0)
    assert_same_weights(ours, keras.src.saving.saving_lib.load_model(buffer))
    buffer = io.BytesIO()
    keras.src.saving.saving_lib.save_model(theirs, buffer)
    buffer.seek(0)
    assert_same_weights(theirs, saving_lib.load_model(buffer))
    with pytest.raises(ValueError, match="not a zip archive"):
        saving_lib.load_model(io.BytesIO(b"not a zip"))
