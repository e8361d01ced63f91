"""Sharded weights (`save_weights("m.weights.json", max_shard_size=...)`) both ways with Keras:
the same index keys, the same number of shards, and every weight loaded bit for bit."""

import json
import os

import numpy as np
import pytest

import minikeras as mk

# a 64·64 float32 kernel is 16 KiB; 2e-5 GB is 21 KB: one kernel (and what fits beside it) a shard
SHARD_GB = 2e-5


def model_of(lib):
    model = lib.Sequential(
        [lib.Input((64,)), lib.layers.Dense(64), lib.layers.Dense(64), lib.layers.Dense(3)]
    )
    model.compile(lib.optimizers.Adam(0.01), "mean_squared_error")
    return model


def fit(model):
    rng = np.random.default_rng(0)
    model.fit(rng.random((8, 64)), rng.random((8, 3)), verbose=0, shuffle=False)


def test_sharded_files_both_ways(keras, tmp_path):
    ours, theirs = model_of(mk), model_of(keras)
    fit(ours)
    theirs.set_weights(ours.get_weights())
    fit(theirs)  # its optimizer has state too, so that both files hold it
    (tmp_path / "ours").mkdir()
    (tmp_path / "theirs").mkdir()
    ours.save_weights(tmp_path / "ours" / "m.weights.json", max_shard_size=SHARD_GB)
    theirs.save_weights(tmp_path / "theirs" / "m.weights.json", max_shard_size=SHARD_GB)
    mine = json.loads((tmp_path / "ours" / "m.weights.json").read_text())
    keras_index = json.loads((tmp_path / "theirs" / "m.weights.json").read_text())
    assert sorted(mine["weight_map"]) == sorted(keras_index["weight_map"])
    assert mine["metadata"] == keras_index["metadata"]  # the total size in bytes
    assert sorted(os.listdir(tmp_path / "ours")) == sorted(os.listdir(tmp_path / "theirs"))
    assert len(os.listdir(tmp_path / "ours")) > 3  # several shards, and the index

    # minikeras's shards into Keras, Keras's into minikeras
    keras_copy, mk_copy = model_of(keras), model_of(mk)
    keras_copy.optimizer.build(keras_copy.trainable_variables)
    mk_copy.optimizer.build(mk_copy.trainable_weights)
    keras_copy.load_weights(tmp_path / "ours" / "m.weights.json")
    mk_copy.load_weights(tmp_path / "theirs" / "m.weights.json")
    for a, b in zip(ours.get_weights(), keras_copy.get_weights()):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(theirs.get_weights(), mk_copy.get_weights()):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(theirs.optimizer.variables, mk_copy.optimizer.variables):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


def test_sharding_arguments_and_bad_indexes(tmp_path):
    model = model_of(mk)
    with pytest.raises(ValueError, match="must end in `.weights.json` when `max_shard_size`"):
        model.save_weights(tmp_path / "m.h5", max_shard_size=1)
    with pytest.raises(ValueError, match="exceeds the maximum shard size"):
        model.save_weights(tmp_path / "m.weights.json", max_shard_size=1e-6)
    assert os.listdir(tmp_path) == []  # nothing written
    with pytest.warns(UserWarning, match="requires `\\*.json` as the extension"):
        model.save_weights(tmp_path / "w.weights.h5", max_shard_size=1)
    assert sorted(os.listdir(tmp_path)) == ["w.weights.json", "w_00000.weights.h5"]
    index = tmp_path / "w.weights.json"
    good = json.loads(index.read_text())
    good["weight_map"]["/layers/dense/vars"] = "../elsewhere.weights.h5"
    index.write_text(json.dumps(good))
    with pytest.raises(ValueError, match="bad shard '../elsewhere.weights.h5'"):
        model.load_weights(index)
    index.write_text("not json")
    with pytest.raises(ValueError, match="not a weights index"):
        model.load_weights(index)
