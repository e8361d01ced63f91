"""Keras 2's `.h5` model files both ways, against real Keras: `model.save("m.h5")` in minikeras
opens in `keras.saving.load_model` with the same architecture, weights, compile arguments and
optimizer state, and a `.h5` file Keras writes opens in minikeras the same way. The layout
(attributes, groups, weight names) is compared with the file Keras writes for the same model.

Weights and optimizer variables are copied bit for bit (compared exactly); predictions of the
same float32 weights agree within 1e-6 (the two libraries sum a product in different orders).
"""

import json
import os

import numpy as np
import pytest

import minikeras as mk
from minikeras.legacy.saving import json_utils, legacy_h5_format
from minikeras.saving import BadFileError, legacy_h5

X = np.random.default_rng(0).normal(size=(8, 3)).astype("float32")
Y = np.random.default_rng(1).normal(size=(8, 2)).astype("float32")


def functional(lib):
    inputs = lib.Input((3,), name="x")
    h = lib.layers.Dense(4, activation="relu", name="dense")(inputs)
    h = lib.layers.BatchNormalization(name="bn")(h)
    outputs = lib.layers.Dense(2, name="out")(lib.layers.add([h, h]))
    model = lib.Model(inputs, outputs)
    # "mean_squared_error", not "mse": Keras 3.15 cannot read back its own .h5 file of a model
    # compiled with loss="mse" ("Could not deserialize 'keras.metrics.mse'"); minikeras can
    model.compile(lib.optimizers.Adam(0.01), "mean_squared_error", metrics=["mae"])
    return model


def sequential(lib):
    model = lib.Sequential(
        [lib.Input((3,)), lib.layers.Dense(4, name="a"), lib.layers.Dense(2, name="b")]
    )
    model.compile(lib.optimizers.RMSprop(0.01, momentum=0.5), "mean_absolute_error")
    return model


def copy_weights(source, target):
    target.set_weights(source.get_weights())


def layout(h5py, path):
    """Everything but the values: attributes (the JSON ones parsed, version and backend left
    out) and every group's and dataset's name, shape and dtype."""
    out = {}
    with h5py.File(path, "r") as f:
        for key, value in f.attrs.items():
            if key in ("model_config", "training_config"):
                out[key] = json.loads(value)
        for key in ("layer_names",):
            out[key] = list(f["model_weights"].attrs[key])

        def visit(name, obj):
            if isinstance(obj, h5py.Dataset):
                out[name] = (obj.shape, obj.dtype.str)
            elif "weight_names" in obj.attrs:
                out[name] = [str(n) for n in obj.attrs["weight_names"]]

        f.visititems(visit)
    return out


@pytest.mark.parametrize("make", [functional, sequential], ids=["functional", "sequential"])
def test_minikeras_h5_opens_in_keras(keras, h5py, tmp_path, make):
    # layer names ("add", "add_36") count the layers this process made before: both start afresh
    mk.utils.clear_session()
    ours = make(mk)
    ours.fit(X, Y, epochs=2, batch_size=4, verbose=0, shuffle=False)
    path = str(tmp_path / "ours.h5")
    ours.save(path)
    theirs = keras.saving.load_model(path)
    for a, b in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_allclose(ours.predict(X, verbose=0), theirs.predict(X, verbose=0), atol=1e-6)
    assert type(theirs.optimizer).__name__ == type(ours.optimizer).__name__
    assert theirs.optimizer.get_config() == pytest.approx(ours.optimizer.get_config())
    for a, b in zip(ours.optimizer.variables, theirs.optimizer.variables):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    # the same model saved by Keras has the same layout (Keras names its Sequential's weights
    # under the model's name: the paths are compared for the functional model only)
    # Keras names its optimizer "adam", "adam_1", ... by how many this process has made
    keras.utils.clear_session()
    twin = make(keras)
    twin.fit(X, Y, epochs=2, batch_size=4, verbose=0, shuffle=False)
    twin.save(str(tmp_path / "theirs.h5"))
    mine, keras_layout = layout(h5py, path), layout(h5py, str(tmp_path / "theirs.h5"))
    # jit_compile is written as given ("auto"; Keras writes what its backend resolved it to)
    # and is not read back by Keras's loader of these files
    mine["training_config"].pop("jit_compile")
    keras_layout["training_config"].pop("jit_compile")
    if make is functional:
        assert {k: v for k, v in mine.items() if k != "model_config"} == {
            k: v for k, v in keras_layout.items() if k != "model_config"
        }
    assert mine["training_config"] == keras_layout["training_config"]


@pytest.mark.parametrize("make", [functional, sequential], ids=["functional", "sequential"])
def test_keras_h5_opens_in_minikeras(keras, tmp_path, make):
    theirs = make(keras)
    theirs.fit(X, Y, epochs=2, batch_size=4, verbose=0, shuffle=False)
    path = str(tmp_path / "theirs.h5")
    theirs.save(path)
    ours = mk.models.load_model(path)
    for a, b in zip(theirs.get_weights(), ours.get_weights()):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_allclose(ours.predict(X, verbose=0), theirs.predict(X, verbose=0), atol=1e-6)
    assert ours.optimizer.get_config() == pytest.approx(theirs.optimizer.get_config())
    assert len(ours.optimizer.variables) == len(theirs.optimizer.variables)
    for a, b in zip(theirs.optimizer.variables, ours.optimizer.variables):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    # and it trains on from there as Keras's does: one more step on both
    theirs.train_on_batch(X, Y)
    ours.train_on_batch(X, Y)
    for a, b in zip(theirs.get_weights(), ours.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)  # float32, one Adam/RMSprop step


def test_weights_by_name_and_by_order(keras, tmp_path):
    # Keras's `load_weights("m.h5", by_name=True)`: layers matched by name, the others kept
    theirs = sequential(keras)
    path = str(tmp_path / "theirs.h5")
    theirs.save(path)
    ours = mk.Sequential([mk.Input((3,)), mk.layers.Dense(4, name="a"), mk.layers.Dense(2)])
    kept = ours.layers[1].get_weights()
    ours.load_weights(path, by_name=True)
    np.testing.assert_array_equal(ours.layers[0].kernel, theirs.layers[0].kernel)
    np.testing.assert_array_equal(ours.layers[1].kernel, kept[0])
    ours.load_weights(path)  # by order: every layer
    np.testing.assert_array_equal(ours.layers[1].kernel, theirs.layers[1].kernel)
    with pytest.raises(ValueError, match="only supports loading legacy '.h5'"):
        ours.load_weights(str(tmp_path / "w.weights.h5"), by_name=True)
    with pytest.raises(ValueError, match=r"only supports loading '.weights.h5' files"):
        ours.load_weights(path, objects_to_skip=[])


def test_include_optimizer_false_and_uncompiled(tmp_path):
    model = functional(mk)
    model.fit(X, Y, verbose=0)
    path = str(tmp_path / "sub" / "dir" / "m.h5")  # missing directories are made, as Keras
    mk.saving.save_model(model, path, include_optimizer=False)
    loaded = mk.models.load_model(path)
    assert not loaded.compiled
    for a, b in zip(model.get_weights(), loaded.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_bad_files_leave_nothing_half_done(h5py, tmp_path):
    path = tmp_path / "m.h5"
    path.write_bytes(b"not an hdf5 file")
    with pytest.raises(BadFileError, match="not a valid HDF5 file"):
        mk.models.load_model(path)
    with h5py.File(path, "w") as f:
        f.create_group("model_weights")
    with pytest.raises(ValueError, match="No model config found"):
        mk.models.load_model(path)
    with h5py.File(path, "w") as f:
        f.create_group("real").attrs["layer_names"] = []
        f["model_weights"] = h5py.SoftLink("/real")
    model = sequential(mk)
    with pytest.raises(ValueError, match="Not allowed: H5 file with SoftLink"):
        model.load_weights(str(path))
    # a failed save leaves the previous file as it was, and no temporary file behind
    model.save(str(path))
    before = path.read_bytes()

    class Unwritable:
        def get_config(self):
            raise RuntimeError("cannot be written")

    model.layers[0].kernel_initializer = Unwritable()
    with pytest.raises(RuntimeError, match="cannot be written"):
        model.save(str(path))
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["m.h5"]


def test_long_attribute_lists_are_split_in_chunks(h5py, tmp_path):
    # HDF5 keeps attributes in a 64 KiB header: Keras splits a longer list into name0, name1...
    names = [f"layer_{i:05d}_{'x' * 90}".encode() for i in range(1000)]
    with h5py.File(tmp_path / "a.h5", "w") as f:
        legacy_h5_format.save_attributes_to_hdf5_group(f, "layer_names", names)
        assert "layer_names" not in f.attrs and "layer_names1" in f.attrs
        assert legacy_h5_format.load_attributes_from_hdf5_group(f, "layer_names") == [
            n.decode() for n in names
        ]
    with pytest.raises(RuntimeError, match="larger than 64512 bytes"):
        with h5py.File(tmp_path / "b.h5", "w") as f:
            legacy_h5.save_attributes(f, "x", [b"y" * 70000])


def test_json_utils_round_trip(keras):
    value = {"t": (1, (2, 3)), "b": b"abc", "e": Ellipsis, "a": np.arange(3), "s": np.float32(2)}
    ours = json_utils.decode(json_utils.Encoder().encode(value))
    theirs = keras.src.legacy.saving.json_utils.decode(
        keras.src.legacy.saving.json_utils.Encoder().encode(value)
    )
    assert ours == theirs == {"t": (1, (2, 3)), "b": b"abc", "e": Ellipsis, "a": [0, 1, 2], "s": 2}


def keras_2_file(h5py, path):
    """A file as Keras 2 (tf.keras) wrote one: its config spellings (`batch_input_shape`,
    `axis: [1]`, initializers without module, weight names with ":0"), no Keras 3 writes."""
    dense = {"units": 2, "activation": "relu", "use_bias": True}
    for key in ("kernel", "bias"):
        init = "GlorotUniform" if key == "kernel" else "Zeros"
        dense[f"{key}_initializer"] = {"class_name": init, "config": {}}
    layers = [
        {"class_name": "InputLayer", "config": {"batch_input_shape": [None, 3], "name": "in"}},
        {"class_name": "Dense", "config": {"name": "dense", "dtype": "float32", **dense}},
        {"class_name": "BatchNormalization", "config": {"name": "bn", "axis": [1]}},
    ]
    config = {"class_name": "Sequential", "config": {"name": "sequential", "layers": layers}}
    training = {
        "loss": "binary_crossentropy",
        "metrics": None,
        "loss_weights": None,
        "optimizer_config": {
            "class_name": "Adam",
            "config": {"name": "Adam", "learning_rate": 0.01, "decay": 0.0, "beta_1": 0.9},
        },
    }
    rng = np.random.default_rng(2)
    weights = {
        "dense": ["kernel", "bias"],
        "bn": ["gamma", "beta", "moving_mean", "moving_variance"],
    }
    shapes = {"kernel": (3, 2)}
    with h5py.File(path, "w") as f:
        f.attrs["keras_version"], f.attrs["backend"] = "2.12.0", "tensorflow"
        f.attrs["model_config"] = json.dumps(config).encode()
        f.attrs["training_config"] = json.dumps(training).encode()
        group = f.create_group("model_weights")
        group.attrs["layer_names"] = [b"in", b"dense", b"bn"]
        group.create_group("in").attrs["weight_names"] = np.array([], dtype="S1")
        for layer, names in weights.items():
            layer_group = group.create_group(layer)
            layer_group.attrs["weight_names"] = [f"{layer}/{n}:0".encode() for n in names]
            for n in names:
                value = rng.random(shapes.get(n, (2,)), dtype="float32") + 0.5
                layer_group[f"{layer}/{n}:0"] = value


def test_keras_2_file_opens_as_in_keras(keras, h5py, tmp_path):
    path = str(tmp_path / "keras2.h5")
    keras_2_file(h5py, path)
    ours, theirs = mk.models.load_model(path), keras.saving.load_model(path)
    assert ours.layers[1].axis == theirs.layers[1].axis == 1
    for a, b in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_allclose(ours.predict(X, verbose=0), theirs.predict(X, verbose=0), atol=1e-6)
    assert ours.optimizer.get_config()["learning_rate"] == pytest.approx(0.01)
