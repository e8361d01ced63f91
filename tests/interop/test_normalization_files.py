"""An adapted Normalization layer in `.keras` files, both ways with Keras: its mean, variance
and its sample count (an int64 weight, the one weight of a built-in layer that is not floats)
cross, and the outputs agree. float32 on both sides: the same float32 arithmetic on the same
statistics, compared at 1e-6 (a few roundings of values near 1)."""

import numpy as np
import pytest

import minikeras as mk


@pytest.mark.parametrize("writer", ["keras", "minikeras"])
def test_adapted_normalization_crosses(keras, tmp_path, writer):
    libs = {"keras": keras, "minikeras": mk}
    reader = libs["minikeras" if writer == "keras" else "keras"]
    data = np.random.default_rng(0).random((6, 3)).astype("float32")
    lib = libs[writer]
    model = lib.Sequential([lib.Input(shape=(3,)), lib.layers.Normalization()])
    model.layers[0].adapt(data)
    path = str(tmp_path / "norm.keras")
    model.save(path)
    loaded = reader.models.load_model(path)
    for saved, read in zip(model.layers[0].weights, loaded.layers[0].weights):
        assert read.name == saved.name
        assert np.asarray(read).dtype == np.asarray(saved).dtype  # count: int64
        np.testing.assert_array_equal(np.asarray(read), np.asarray(saved))
    np.testing.assert_allclose(np.asarray(loaded(data)), np.asarray(model(data)), atol=1e-6)
