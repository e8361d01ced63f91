"""Functional models in Keras files, both ways, against real Keras: a two-input model with a shared
Dense and Concatenate, a two-output model with different losses and loss weights, and a residual
Add block. A file minikeras writes opens in Keras with the same config, weights and optimizer
state, and both take the same next step; a file Keras writes opens in minikeras the same way.
`.weights.h5` files too, and the files have Keras's exact layout (the InputLayers' empty groups
first, one group for a shared layer).
"""

import json
import zipfile

import numpy as np
import pytest
from test_keras_files import h5_layout, normalised_config

import minikeras as mk

TOL = dict(rtol=1e-5, atol=1e-6)  # Keras's own float32 tolerance, as test_keras_files.py
FIT = dict(batch_size=8, epochs=1, shuffle=False, verbose=0)


def two_inputs(lib):
    """Two inputs through one shared Dense (one set of weights), concatenated."""
    a, b = lib.Input(shape=(4,), name="a"), lib.Input(shape=(4,), name="b")
    shared = lib.layers.Dense(3, activation="tanh", name="shared")
    merged = lib.layers.Concatenate(name="concat")([shared(a), shared(b)])
    out = lib.layers.Dense(3, activation="softmax", name="out")(merged)
    model = lib.Model([a, b], out, name="two_inputs")
    model.compile(
        optimizer=lib.optimizers.Adam(0.01, name="adam"),
        loss="categorical_crossentropy",
        metrics=["accuracy"],
        jit_compile=False,  # Keras writes what "auto" resolved to; minikeras writes "auto"
    )
    return model


def two_outputs(lib):
    """One input, two heads with their own losses and loss weights (given by output name)."""
    x = lib.Input(shape=(5,), name="x")
    h = lib.layers.Dense(6, activation="relu", name="hidden")(x)
    out_a = lib.layers.Dense(1, name="out_a")(h)
    out_b = lib.layers.Dense(3, activation="softmax", name="out_b")(h)
    model = lib.Model(x, [out_a, out_b], name="two_outputs")
    model.compile(
        optimizer=lib.optimizers.RMSprop(0.01, momentum=0.5, name="rmsprop"),
        loss={"out_a": "mse", "out_b": "categorical_crossentropy"},
        loss_weights={"out_a": 1.0, "out_b": 0.3},
        jit_compile=False,
    )
    return model


def residual(lib):
    """A residual block: x + Dense(x), then a linear head."""
    x = lib.Input(shape=(4,), name="x")
    h = lib.layers.Dense(4, activation="sigmoid", name="branch")(x)
    added = lib.layers.Add(name="add")([x, h])
    out = lib.layers.Dense(2, name="out")(added)
    model = lib.Model(x, out, name="residual")
    model.compile(
        optimizer=lib.optimizers.SGD(0.05, momentum=0.9, name="sgd"),
        loss="mse",
        metrics=["mae"],
        jit_compile=False,
    )
    return model


def nested(lib):
    """A Sequential called as a layer: its weights file groups nest (layers/sequential/layers)."""
    inner = lib.Sequential(
        [
            lib.Input(shape=(4,), name="inner_x"),  # named: an unnamed one counts per session
            lib.layers.Dense(3, activation="relu", name="d1"),
            lib.layers.Dense(3, name="d2"),
        ],
        name="inner",
    )
    x = lib.Input(shape=(4,), name="x")
    out = lib.layers.Dense(2, name="out")(inner(x))
    model = lib.Model(x, out, name="outer")
    model.compile(optimizer=lib.optimizers.Adam(0.01, name="adam"), loss="mse", jit_compile=False)
    return model


def data(name):
    rng = np.random.default_rng(7)
    f32 = lambda *shape: rng.uniform(-1, 1, size=shape).astype("float32")  # noqa: E731
    one_hot = lambda n, k: np.eye(k, dtype="float32")[rng.integers(0, k, n)]  # noqa: E731
    if name == "two_inputs":
        return [f32(16, 4), f32(16, 4)], one_hot(16, 3)
    if name == "two_outputs":
        return f32(16, 5), [f32(16, 1), one_hot(16, 3)]
    return f32(16, 4), f32(16, 2)


MODELS = [two_inputs, two_outputs, residual, nested]


def as_list(value):
    return [np.asarray(v) for v in value] if isinstance(value, (list, tuple)) else [value]


def assert_same_state(keras_model, model, x, exact):
    """Same weights (bit for bit when `exact`: just loaded), predictions and optimizer state,
    the slots matched by Keras's variable names."""
    compare = (
        np.testing.assert_array_equal
        if exact
        else (lambda a, b: np.testing.assert_allclose(a, b, **TOL))
    )
    for k_w, m_w in zip(keras_model.get_weights(), model.get_weights(), strict=True):
        assert k_w.dtype == m_w.dtype == np.float32
        compare(k_w, m_w)
    for k_p, m_p in zip(
        as_list(keras_model(x, training=False)), as_list(model.predict(x, verbose=0)), strict=True
    ):
        np.testing.assert_allclose(np.asarray(k_p), m_p, **TOL)
    optimizer = model.optimizer
    assert int(keras_model.optimizer.iterations.numpy()) == optimizer.iterations
    assert float(keras_model.optimizer.learning_rate.numpy()) == optimizer.learning_rate
    by_name = {v.path: v.numpy() for v in keras_model.optimizer.variables}
    assert len(by_name) == len(optimizer.variables)
    prefix = keras_model.optimizer.name
    for slot in optimizer.slot_names:
        for i, variable in enumerate(keras_model.trainable_variables):
            compare(
                by_name[f"{prefix}/{variable.path.replace('/', '_')}_{slot}"],
                optimizer.slots[slot][i],
            )


def assert_same_step(keras_model, model, x, y):
    keras_history = keras_model.fit(x, y, **FIT).history
    history = model.fit(x, y, **FIT).history
    assert sorted(keras_history) == sorted(history)
    for key in keras_history:
        np.testing.assert_allclose(keras_history[key], history[key], **TOL, err_msg=key)
    assert_same_state(keras_model, model, x, exact=False)


@pytest.mark.parametrize("build", MODELS, ids=[b.__name__ for b in MODELS])
def test_minikeras_file_opens_in_keras_and_back(keras, build, tmp_path):
    mk.utils.set_random_seed(1)
    model = build(mk)
    x, y = data(build.__name__)
    model.fit(x, y, **FIT)

    model.save(tmp_path / "mk.keras")
    keras_model = keras.saving.load_model(tmp_path / "mk.keras")
    assert type(keras_model).__name__ == "Functional"
    assert [layer.name for layer in keras_model.layers] == [layer.name for layer in model.layers]
    assert keras_model.get_compile_config()["loss"] == model._compile_config["loss"]
    assert_same_state(keras_model, model, x, exact=True)
    assert_same_step(keras_model, model, x, y)

    keras_model.save(tmp_path / "keras.keras")
    back = mk.models.load_model(tmp_path / "keras.keras")
    assert isinstance(back, mk.models.Functional)
    assert back.get_config() == model.get_config()
    assert_same_state(keras_model, back, x, exact=True)
    assert_same_step(keras_model, back, x, y)


@pytest.mark.parametrize("build", MODELS, ids=[b.__name__ for b in MODELS])
def test_keras_file_opens_in_minikeras(keras, build, tmp_path):
    keras.utils.set_random_seed(2)
    keras_model = build(keras)
    x, y = data(build.__name__)
    keras_model.fit(x, y, **FIT)
    keras_model.save(tmp_path / "keras.keras")

    model = mk.models.load_model(tmp_path / "keras.keras")
    assert model.name == keras_model.name
    assert model.output_names == keras_model.output_names
    assert_same_state(keras_model, model, x, exact=True)
    assert_same_step(keras_model, model, x, y)


@pytest.mark.parametrize("build", MODELS, ids=[b.__name__ for b in MODELS])
def test_files_have_keras_layout(keras, h5py, build, tmp_path):
    model, keras_model = build(mk), build(keras)
    x, y = data(build.__name__)
    model.fit(x, y, **FIT)
    keras_model.fit(x, y, **FIT)
    model.save(tmp_path / "mk.keras")
    keras_model.save(tmp_path / "keras.keras")
    with (
        zipfile.ZipFile(tmp_path / "mk.keras") as ours,
        zipfile.ZipFile(tmp_path / "keras.keras") as theirs,
    ):
        assert ours.namelist() == theirs.namelist()
        assert normalised_config(ours.read("config.json")) == normalised_config(
            theirs.read("config.json")
        )
        for name, member in (("mk", ours), ("keras", theirs)):
            (tmp_path / f"{name}.weights.h5").write_bytes(member.read("model.weights.h5"))
    layout = h5_layout(h5py, tmp_path / "mk.weights.h5")
    assert layout == h5_layout(h5py, tmp_path / "keras.weights.h5")
    # the (first) Input's empty group, named after its class and holding the layer's name
    first_input = model.layers[0].name
    assert ("layers/input_layer/vars", "Group", {"name": first_input}, None, "") in layout


def test_shared_layer_has_one_group(h5py, tmp_path):
    model = two_inputs(mk)
    model.save_weights(tmp_path / "w.weights.h5")
    with h5py.File(tmp_path / "w.weights.h5", "r") as f:
        assert sorted(f["layers"]) == [
            "concatenate",
            "dense",
            "dense_1",
            "input_layer",
            "input_layer_1",
        ]
        assert f["layers/dense/vars"].attrs["name"] == "shared"
        assert len(f["layers/input_layer/vars"]) == 0


@pytest.mark.parametrize("build", MODELS, ids=[b.__name__ for b in MODELS])
def test_weights_files_both_ways(keras, build, tmp_path):
    mk.utils.set_random_seed(3)
    keras.utils.set_random_seed(3)
    model, keras_model = build(mk), build(keras)
    x, y = data(build.__name__)
    model.fit(x, y, **FIT)
    model.save_weights(tmp_path / "mk.weights.h5")
    # Keras loads an optimizer's state only into built slots (else it skips it with a warning)
    keras_model.optimizer.build(keras_model.trainable_variables)
    keras_model.load_weights(tmp_path / "mk.weights.h5")
    assert_same_state(keras_model, model, x, exact=True)

    keras_model.fit(x, y, **FIT)
    keras_model.save_weights(tmp_path / "keras.weights.h5")
    fresh = build(mk)
    fresh.optimizer.build(fresh.trainable_weights)  # as for Keras above: built slots only
    fresh.load_weights(tmp_path / "keras.weights.h5")
    assert_same_state(keras_model, fresh, x, exact=True)
    assert_same_step(keras_model, fresh, x, y)


def test_json_both_ways(keras):
    model = two_outputs(mk)
    keras_model = keras.models.model_from_json(model.to_json())
    assert [layer.name for layer in keras_model.layers] == [layer.name for layer in model.layers]
    back = mk.models.model_from_json(keras_model.to_json())
    assert back.get_config() == model.get_config()
    assert json.loads(back.to_json())["class_name"] == "Functional"
