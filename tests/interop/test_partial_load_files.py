"""Loading a file into a model that differs from the one saved, as Keras: a weight of another
shape ("... must match") or a layer the file has nothing for ("... received 0 variables") is a
ValueError naming the problem, and with `skip_mismatch=True` the layers that do match load.
The file is written by Keras and read by both libraries."""

import numpy as np
import pytest

import minikeras as mk


def stack(lib, *units):
    return lib.Sequential([lib.Input((3,))] + [lib.layers.Dense(u) for u in units])


@pytest.mark.parametrize(
    "units, words", [((4, 6), "must match"), ((4, 5, 5), "received 0 variables")]
)
def test_mismatched_models_refused_then_partly_loaded_as_keras(keras, tmp_path, units, words):
    saved = stack(keras, 4, 5)
    path = str(tmp_path / "model.keras")
    saved.save(path)
    for lib in (keras, mk):
        model = stack(lib, *units)
        untouched = model.layers[-1].get_weights()
        with pytest.raises(ValueError, match=words):
            model.load_weights(path)
        model.load_weights(path, skip_mismatch=True)
        for a, b in zip(model.layers[0].get_weights(), saved.layers[0].get_weights()):
            np.testing.assert_array_equal(a, b)
        for a, b in zip(model.layers[-1].get_weights(), untouched):
            np.testing.assert_array_equal(a, b)
