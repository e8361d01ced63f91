"""`KerasFileEditor` against Keras's own on the same files: the same weights tree, the same
verdicts and error counts from `compare`, the same edits, and a repaired file that Keras loads.
Arrays are only copied, so they are compared exactly."""

import numpy as np
import pytest

import minikeras as mk
from minikeras.saving import KerasFileEditor


def model_of(lib, names):
    inputs = lib.Input((2,))
    x = inputs
    for name in names:
        x = lib.layers.Dense(3, name=name)(x)
    return lib.Model(inputs, x)


def flat(tree, path=""):
    out = {}
    for key, value in tree.items():
        if isinstance(value, dict):
            out.update(flat(value, f"{path}/{key}"))
        else:
            out[f"{path}/{key}"] = np.asarray(value)
    return out


def assert_same_tree(ours, theirs):
    ours, theirs = flat(ours), flat(theirs)
    assert sorted(ours) == sorted(theirs)
    for key in ours:
        np.testing.assert_array_equal(ours[key], theirs[key])


def test_edits_repair_a_file_as_keras_does(keras, tmp_path, capsys):
    source = model_of(mk, ["mydense", "output_layer"])
    path = str(tmp_path / "m.keras")
    source.save(path)
    ours, theirs = KerasFileEditor(path), keras.saving.KerasFileEditor(path)
    assert_same_tree(ours.weights_dict, theirs.weights_dict)
    ours.summary()
    assert "dense_1" in capsys.readouterr().out
    # the target has one more Dense layer: each editor judges the file, is edited the same way,
    # and judges again; Keras's counts are the reference
    target_mk = model_of(mk, ["mydense", "myotherdense", "output_layer"])
    target_keras = model_of(keras, ["mydense", "myotherdense", "output_layer"])
    kernel, bias = np.random.default_rng(0).random((3, 3), dtype="float32"), np.zeros(3)
    steps = [
        ("add_object", ("layers/dense_3", {"0": kernel})),
        ("rename_object", ("dense_3", "dense_4")),
        ("rename_object", ("layers/dense_4", "dense_2")),
        ("add_weights", ("dense_2", {"1": bias})),
        ("delete_weight", ("dense_2", "1")),
        ("add_weights", ("dense_2", {"1": np.zeros(7)})),
        ("delete_weight", ("dense_2", "1")),
        ("add_weights", ("dense_2", {"1": bias})),
    ]
    for method, args in steps:
        getattr(ours, method)(*args)
        getattr(theirs, method)(*_copied(args))
        verdict = ours.compare(target_mk)
        expected = theirs.compare(target_keras)
        assert (verdict["status"], verdict["error_count"]) == (
            expected["status"],
            expected["error_count"],
        ), method
    assert verdict["status"] == "success"
    saved = str(tmp_path / "fixed.weights.h5")
    ours.save(saved)
    target_keras.load_weights(saved)  # Keras loads the repaired file
    target_mk.load_weights(saved)
    for a, b in zip(target_mk.get_weights(), target_keras.get_weights()):
        np.testing.assert_array_equal(a, b)
    # file paths follow the layers' order (dense, dense_1, dense_2): the new object is the last
    np.testing.assert_array_equal(target_mk.get_layer("output_layer").kernel, kernel)
    assert_same_tree(KerasFileEditor(saved).weights_dict, theirs.weights_dict)


def _copied(args):
    return [dict(a) if isinstance(a, dict) else a for a in args]


def test_a_name_is_found_once_beside_later_groups(tmp_path):
    # Keras 3.15 counts a name again for every group that follows the one holding it, so its
    # rename_object("dense_1", ...) fails in a compiled model's file ("occurs more than once":
    # the optimizer's group comes after the layers'); minikeras counts each occurrence once
    model = model_of(mk, ["a", "b"])
    model.compile("adam", "mse")
    model.fit(np.ones((4, 2)), np.ones((4, 3)), verbose=0)
    path = str(tmp_path / "m.keras")
    model.save(path)
    editor = KerasFileEditor(path)
    editor.rename_object("dense_1", "dense_9")
    assert sorted(editor.weights_dict["layers"]) == ["dense", "dense_9"]
    assert len(editor.weights_dict["optimizer"]) == 10  # iterations, rate, 2 slots × 4 weights


def test_editor_errors(tmp_path):
    model = model_of(mk, ["a", "b"])
    path = str(tmp_path / "m.weights.h5")
    model.save_weights(path)
    editor = KerasFileEditor(path)
    with pytest.raises(ValueError, match="expected a `.keras` `.weights.h5` extension"):
        KerasFileEditor(str(tmp_path / "m.h5"))
    with pytest.raises(ValueError, match="occurs more than once"):
        editor.rename_object("0", "x")
    with pytest.raises(ValueError, match="does not appear in the model"):
        editor.delete_object("nothing")
    with pytest.raises(ValueError, match="Path 'layers/nothing' not found"):
        editor.delete_object("layers/nothing")
    with pytest.raises(ValueError, match="should be a leaf name"):
        editor.rename_object("dense", "layers/x")
    with pytest.raises(ValueError, match="Weight 7 not found in object dense"):
        editor.delete_weight("dense", "7")
    with pytest.raises(ValueError, match="should be a dict"):
        editor.add_weights("dense", [np.zeros(3)])
    with pytest.raises(ValueError, match="expected a `.weights.h5` extension"):
        editor.save(str(tmp_path / "x.keras"))


def test_editor_refuses_links_and_virtual_data(h5py, tmp_path):
    with h5py.File(tmp_path / "soft.weights.h5", "w") as f:
        f.create_group("real").create_dataset("x", data=np.zeros(1))
        f["layers"] = h5py.SoftLink("/real")
    with pytest.raises(ValueError, match="Not allowed: H5 file with SoftLink"):
        KerasFileEditor(str(tmp_path / "soft.weights.h5"))
    with h5py.File(tmp_path / "other.h5", "w") as f:
        f.create_dataset("s", data=np.arange(5, dtype="float32"))
    with h5py.File(tmp_path / "virtual.weights.h5", "w") as f:
        layout = h5py.VirtualLayout(shape=(5,), dtype="float32")
        layout[:] = h5py.VirtualSource(str(tmp_path / "other.h5"), "s", shape=(5,))
        f.create_group("layers/dense/vars").create_virtual_dataset("0", layout)
    with pytest.raises(ValueError, match="virtual Dataset"):
        KerasFileEditor(str(tmp_path / "virtual.weights.h5"))
