"""Keras's storage classes (`saving_lib.H5IOStore`, `DiskIOStore`, `NpzIOStore`): the same
arrays and the same errors as Keras's own on the same files, and nothing read or written outside
what a file or a directory is allowed to reach."""

import io
import os
import zipfile

import numpy as np
import pytest

import minikeras as mk
from minikeras.saving import saving_lib
from minikeras.saving.stores import DiskIOStore, H5IOStore, NpzIOStore, ShardedH5IOStore


def test_h5_store_reads_a_keras_weights_file_as_keras_does(keras, tmp_path):
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2, name="d")])
    path = str(tmp_path / "m.weights.h5")
    model.save_weights(path)
    ours = H5IOStore(path, mode="r").get("layers/dense")
    theirs = keras.src.saving.saving_lib.H5IOStore(path, mode="r").get("layers/dense")
    assert sorted(ours.keys()) == sorted(theirs.keys()) == ["0", "1"]
    for key in ("0", "1"):
        np.testing.assert_array_equal(ours[key], theirs[key])
    assert len(H5IOStore(path, mode="r").get("no/such/layer")) == 0


def test_h5_store_written_here_reads_in_keras(keras, tmp_path):
    path = tmp_path / "store.h5"
    a, b = np.arange(6.0).reshape(2, 3), np.arange(4, dtype="int32")
    store = H5IOStore(path, mode="w")
    vars_store = store.make("layers/dense")
    vars_store["0"], vars_store["1"], vars_store["2"] = a, b, 42
    del vars_store["2"]
    assert "2" not in vars_store and "0" in vars_store
    store.make("unused")  # makes no empty group
    store.close()
    theirs = keras.src.saving.saving_lib.H5IOStore(path, mode="r")
    assert not theirs.has_path("unused")
    got = theirs.get("layers/dense")
    np.testing.assert_array_equal(got["0"], a)
    np.testing.assert_array_equal(got["1"], b)
    assert "2" not in got


def test_h5_store_errors_match_keras(keras, tmp_path):
    theirs_class = keras.src.saving.saving_lib.H5IOStore
    for k, store_class in enumerate((H5IOStore, theirs_class)):
        path = tmp_path / f"s{k}.h5"
        with pytest.raises(TypeError, match="`path_or_io` should be a `str`"):
            store_class(None, mode="w")
        with pytest.raises(ValueError, match="`mode` should be either 'w' or 'r'"):
            store_class(path, mode="x")
        with pytest.raises(ValueError, match="`archive` should be `None`"):
            store_class(io.BytesIO(), archive="archive", mode="w")
        store = store_class(path, mode="w")
        with pytest.raises(ValueError, match="`metadata` should be a dict or `None`"):
            store.make("vars", metadata="metadata")
        store.close()
        reader = store_class(path, mode="r").get("vars")
        with pytest.raises(ValueError, match="Setting a value is only allowed in write mode"):
            reader["w"] = np.zeros(2)
        with pytest.raises(ValueError, match="Deleting a value is only allowed in write mode"):
            del reader["w"]
        with pytest.raises(ValueError, match="`make` is only allowed in write mode"):
            reader.make("x")


def test_h5_store_in_a_zip_and_links_refused(h5py, tmp_path):
    path = tmp_path / "a.zip"
    with zipfile.ZipFile(path, "w") as archive:
        store = H5IOStore("model.weights.h5", archive=archive, mode="w")
        store.make("", metadata={"note": "root"})["x"] = np.ones(3)
        store.close()
    with zipfile.ZipFile(path) as archive:
        store = H5IOStore("model.weights.h5", archive=archive, mode="r")
        np.testing.assert_array_equal(store.get("")["x"], np.ones(3))
        store.close()
    with h5py.File(tmp_path / "link.h5", "w") as f:
        f.create_group("real/vars").create_dataset("x", data=np.ones(2))
        f["layer"] = h5py.SoftLink("/real")
    with pytest.raises(ValueError, match="Not allowed: H5 file with SoftLink"):
        H5IOStore(tmp_path / "link.h5", mode="r").get("layer")


@pytest.mark.parametrize("bad", ["../escape", "a/../../escape", "..", "..\\escape", "/abs"])
def test_disk_store_stays_in_its_directory(tmp_path, bad):
    store = DiskIOStore("assets", archive=None, mode="w")
    with pytest.raises(ValueError, match="Invalid asset path"):
        store.make(bad)
    with pytest.raises(ValueError, match="Invalid asset path"):
        store.get(bad)
    assert not store.has_path(bad)
    made = store.make("layers/dense")
    assert os.path.isdir(made) and store.get("layers/dense") == made
    assert store.get("layers/absent") is None
    store.close()
    remote = DiskIOStore("gs://bucket/model", archive=None, mode="r")
    assert remote._full_path("layers/dense") == "gs://bucket/model/layers/dense"
    with pytest.raises(ValueError, match="Invalid asset path"):
        remote._full_path(bad)


def test_disk_store_round_trip_through_a_zip(tmp_path):
    path = tmp_path / "a.zip"
    with zipfile.ZipFile(path, "w") as archive:
        store = DiskIOStore("assets", archive=archive, mode="w")
        with open(os.path.join(store.make("layers/lookup"), "vocabulary.txt"), "w") as f:
            f.write("a\nb\n")
        store.close()
    with zipfile.ZipFile(path) as archive:
        assert archive.namelist() == ["assets/layers/lookup/vocabulary.txt"]
        store = DiskIOStore("assets", archive=archive, mode="r")
        with open(os.path.join(store.get("layers/lookup"), "vocabulary.txt")) as f:
            assert f.read() == "a\nb\n"
        store.close()
        assert not os.path.exists(store.tmp_dir)


def test_npz_store_round_trip_and_bomb(tmp_path):
    path = str(tmp_path / "s.npz")
    store = NpzIOStore(path, mode="w")
    store.make("")["a"] = np.arange(3.0)
    store.close()
    np.savez(path, w=np.arange(6.0).reshape(2, 3))
    assert NpzIOStore(path, mode="r").get("w") == [[0, 1, 2], [3, 4, 5]]
    assert NpzIOStore(path, mode="r").get("absent") == {}
    # a member whose header declares 8 PiB but stores nothing
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        header, {"descr": "<f8", "fortran_order": False, "shape": (2**50,)}
    )
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("w.npy", header.getvalue())
    with pytest.raises(ValueError, match="Refusing to load npz weight 'w'"):
        NpzIOStore(path, mode="r").get("w")


def test_keras_names_in_saving_lib():
    assert saving_lib.H5IOStore is H5IOStore and saving_lib.DiskIOStore is DiskIOStore
    assert saving_lib.NpzIOStore is NpzIOStore
    assert mk.saving.saving_lib.safe_get_h5_group is not None


def test_sharded_store_both_ways(keras, tmp_path):
    # 4 KB arrays in shards of at most 6 KB (6e-6 GB ≈ 6.4 KB): one array a shard
    a, b = np.arange(1024, dtype="float32"), np.arange(1024, dtype="int32")
    theirs_class = keras.src.saving.saving_lib.ShardedH5IOStore
    for writer, reader, name in (
        (ShardedH5IOStore, theirs_class, "ours"),
        (theirs_class, ShardedH5IOStore, "theirs"),
    ):
        store = writer(tmp_path / f"{name}.json", max_shard_size=6e-6, mode="w")
        group = store.make("layers/dense")
        group["0"], group["1"] = a, b
        assert len(group) == 2 and "1" in group
        store.close()
        assert (tmp_path / f"{name}_00001.weights.h5").exists()
        store = reader(tmp_path / f"{name}.json", mode="r")
        got = store.get("layers/dense")
        assert sorted(got.keys()) == ["0", "1"]
        np.testing.assert_array_equal(got["0"], a)
        np.testing.assert_array_equal(got["1"], b)
        assert store.has_path("layers") and not store.has_path("optimizer")
        store.close()
    with pytest.raises(KeyError, match="Key 'x' not found in any of the shards"):
        ShardedH5IOStore(tmp_path / "ours.json", mode="r").get("layers/dense")["x"]
    store = ShardedH5IOStore(tmp_path / "big.json", max_shard_size=1e-6, mode="w")
    with pytest.raises(ValueError, match="exceeds the maximum shard size"):
        store.make("")["w"] = a
    store.close()
