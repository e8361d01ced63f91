"""`save_weights`/`load_weights` with `objects_to_skip`, both ways with Keras: a skipped layer
is neither written nor read (its group is absent from the file, its weights stay as they were),
every other weight goes across bit for bit."""

import numpy as np
import pytest

import minikeras as mk


def model_of(lib):
    return lib.Sequential([lib.Input((3,)), lib.layers.Dense(5), lib.layers.Dense(2)])


def test_skipped_layers_both_ways(keras, h5py, tmp_path):
    ours, theirs = model_of(mk), model_of(keras)
    mk.saving.save_weights(ours, tmp_path / "ours.weights.h5", objects_to_skip=[ours.layers[0]])
    keras.saving.save_weights(
        theirs, tmp_path / "theirs.weights.h5", objects_to_skip=[theirs.layers[0]]
    )
    groups = {}
    for name in ("ours", "theirs"):
        with h5py.File(tmp_path / f"{name}.weights.h5", "r") as f:
            groups[name] = sorted(f["layers"])
    assert groups["ours"] == groups["theirs"] == ["dense_1"]

    # each side loads the other's file, skipping its first layer
    keras_copy, mk_copy = model_of(keras), model_of(mk)
    keras_before, mk_before = keras_copy.layers[0].get_weights(), mk_copy.layers[0].get_weights()
    keras_copy.load_weights(tmp_path / "ours.weights.h5", objects_to_skip=[keras_copy.layers[0]])
    mk_copy.load_weights(tmp_path / "theirs.weights.h5", objects_to_skip=[mk_copy.layers[0]])
    for a, b in zip(keras_copy.layers[0].get_weights(), keras_before):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(mk_copy.layers[0].get_weights(), mk_before):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(ours.layers[1].get_weights(), keras_copy.layers[1].get_weights()):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(theirs.layers[1].get_weights(), mk_copy.layers[1].get_weights()):
        np.testing.assert_array_equal(a, b)


def test_skipping_reads_nothing_of_the_skipped_layer(tmp_path):
    model, other = model_of(mk), model_of(mk)
    model.save_weights(tmp_path / "all.weights.h5")
    before = other.layers[0].get_weights()
    other.load_weights(tmp_path / "all.weights.h5", objects_to_skip=[other.layers[0]])
    np.testing.assert_array_equal(other.layers[0].kernel, before[0])
    np.testing.assert_array_equal(other.layers[1].kernel, model.layers[1].kernel)
    model.save(tmp_path / "m.keras")
    with pytest.raises(ValueError, match=r"only supports loading '.weights.h5' files"):
        other.load_weights(tmp_path / "m.keras", objects_to_skip=[])
