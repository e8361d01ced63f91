"""`minikeras.saving.saving_lib`: Keras's module names over minikeras's files (the members of a
`.keras` zip, weights-only saving and loading, the errors for a model not built yet)."""

import zipfile

import numpy as np
import pytest

import minikeras as mk
from minikeras.saving import saving_lib


def model(seed):
    mk.utils.set_random_seed(seed)
    x = mk.layers.Input(shape=(4,))
    return mk.Model(x, mk.layers.Dense(2, name="out")(mk.layers.Dense(3)(x)))


def test_weights_only_round_trip(tmp_path):
    path = tmp_path / "model.weights.h5"
    saved = model(1)
    saving_lib.save_weights_only(saved, path)
    loaded = model(2)
    saving_lib.load_weights_only(loaded, path)
    for want, got in zip(saved.get_weights(), loaded.get_weights(), strict=True):
        np.testing.assert_array_equal(got, want)


def test_zip_members_and_unbuilt_models(tmp_path):
    saving_lib.save_model(model(0), tmp_path / "m.keras")
    with zipfile.ZipFile(tmp_path / "m.keras") as z:
        names = set(z.namelist())
    assert {saving_lib._CONFIG_FILENAME, saving_lib._METADATA_FILENAME} <= names
    assert saving_lib._VARS_FNAME + ".h5" in names
    unbuilt = mk.Sequential([mk.layers.Dense(2)])
    with pytest.raises(ValueError, match="You are saving a model that has not yet been built"):
        saving_lib.save_weights_only(unbuilt, tmp_path / "u.weights.h5")
    with pytest.raises(ValueError, match="You are loading weights into a model that has not"):
        saving_lib.load_weights_only(unbuilt, tmp_path / "m.keras")
