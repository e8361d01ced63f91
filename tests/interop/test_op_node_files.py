"""Functional models whose graph holds ops on symbolic tensors (`h + y`, `ops.relu(h)`,
`x[:, 1:2]`, `x / 2.0`) in `.keras` files, both ways, against real Keras: the same config as
Keras's (its Operations by module and class, their options in the config, the constants in
the calls), the same weights layout (an op has no group), and the same predictions.

Tolerance: float64; the same few products and sums in both libraries: 1e-10 relative.
"""

import json
import zipfile

import numpy as np
import pytest
from test_keras_files import h5_layout, normalised_config

import minikeras as mk

RTOL, ATOL = 1e-10, 1e-12


@pytest.fixture
def float64(keras):
    from minikeras.parity.keras_env import floatx

    with floatx("float64"):
        yield keras


def with_ops(lib):
    """Two inputs, a Dense, then one op of each kind a file must carry. The ops' automatic
    names ('add', 'relu') follow each library's counters: both start afresh."""
    lib.backend.clear_session()
    ops, layers = lib.ops, lib.layers
    x, y = lib.Input(shape=(3,), name="x"), lib.Input(shape=(3,), name="y")
    h = layers.Dense(3, name="hidden")(x)
    r = ops.relu(h + y)
    parts = [
        r,
        ops.mean(r, axis=1, keepdims=True) * 2.0,  # options in the config, a constant in a call
        r[:, 1:2],  # an index of slices
        ops.clip(r, 0.0, 1.0)[:, 0:1] / 2.0,  # clip's bounds in its config; `/` is TrueDivide
        1.0 - ops.reshape(ops.tanh(h), (-1, 3)),  # a constant first; reshape's newshape
        ops.divide(ops.sum(ops.square(h), axis=-1, keepdims=True), 3.0),
        ops.log_softmax(ops.transpose(ops.stack([h, r], axis=1), (0, 2, 1)), axis=1)[:, 0],
    ]
    out = layers.Dense(2, name="out")(ops.concatenate(parts, axis=-1))
    return lib.Model([x, y], out, name="with_ops")


def data():
    rng = np.random.default_rng(3)
    return [rng.normal(size=(5, 3)), rng.normal(size=(5, 3))]


def config_json(path):
    with zipfile.ZipFile(path) as archive:
        return normalised_config(archive.read("config.json"))


def assert_same_predictions(a, b, x):
    np.testing.assert_allclose(
        np.asarray(a.predict(x, verbose=0)), np.asarray(b.predict(x, verbose=0)), RTOL, ATOL
    )


def test_the_config_of_a_graph_with_ops_is_keras_config(float64):
    ours, theirs = with_ops(mk), with_ops(float64)
    as_json = [json.loads(json.dumps(m.get_config())) for m in (ours, theirs)]
    assert as_json[0] == as_json[1]
    kinds = {entry["class_name"] for entry in as_json[1]["layers"]}
    assert {"Add", "Relu", "GetItem", "Clip", "TrueDivide", "Divide", "Reshape"} <= kinds


def test_a_file_minikeras_writes_opens_in_keras(float64, h5py, tmp_path):
    ours = with_ops(mk)
    ours.save(tmp_path / "ours.keras")
    theirs = float64.saving.load_model(tmp_path / "ours.keras")
    assert_same_predictions(ours, theirs, data())
    theirs.save(tmp_path / "theirs.keras")
    assert config_json(tmp_path / "ours.keras") == config_json(tmp_path / "theirs.keras")
    layouts = []
    for name in ("ours", "theirs"):
        with zipfile.ZipFile(tmp_path / f"{name}.keras") as archive:
            (tmp_path / f"{name}.weights.h5").write_bytes(archive.read("model.weights.h5"))
        layouts.append(h5_layout(h5py, tmp_path / f"{name}.weights.h5"))
    assert layouts[0] == layouts[1]  # the Dense layers' groups only: an op has none


def test_a_file_keras_writes_opens_in_minikeras_and_round_trips(float64, tmp_path):
    theirs = with_ops(float64)
    theirs.save(tmp_path / "theirs.keras")
    ours = mk.saving.load_model(tmp_path / "theirs.keras")
    assert_same_predictions(ours, theirs, data())
    assert json.loads(json.dumps(ours.get_config())) == json.loads(json.dumps(theirs.get_config()))
    ours.save(tmp_path / "again.keras")
    again = mk.saving.load_model(tmp_path / "again.keras")
    assert_same_predictions(again, theirs, data())
    assert config_json(tmp_path / "again.keras") == config_json(tmp_path / "theirs.keras")


def test_an_op_minikeras_lacks_is_named_when_loading():
    config = with_ops(mk).get_config()
    relu = next(entry for entry in config["layers"] if entry["class_name"] == "Relu")
    relu["class_name"] = relu["registered_name"] = "Frobnicate"
    with pytest.raises(ValueError, match="'Frobnicate'"):
        mk.Model.from_config(config)


# ------------------------------------------------------------------ Lambda layers
def with_lambdas(lib):
    """keras.io's Lambda uses: a lambda, and a lambda given `arguments`."""
    x = lib.Input(shape=(3,), name="x")
    h = lib.layers.Lambda(lambda t: t * 2.0 + 1.0, name="affine")(x)
    h = lib.layers.Lambda(lambda t, k: t * k, arguments={"k": 3.0}, name="scaled")(h)
    return lib.Model(x, lib.layers.Dense(2, name="out")(h), name="with_lambdas")


def lambda_entries(model):
    """The Lambda layers' entries, calls left out (Keras writes its `mask=None` there)."""
    entries = json.loads(json.dumps(model.get_config()))["layers"]
    return [{k: v for k, v in e.items() if k != "inbound_nodes"} for e in entries]


def test_lambda_layers_are_written_as_keras_writes_them_and_load_only_unsafely(float64, tmp_path):
    ours, theirs = with_lambdas(mk), with_lambdas(float64)
    theirs.set_weights(ours.get_weights())
    # the same bytecode (one function made both), base64 in Keras's lines, a build_config
    assert lambda_entries(ours) == lambda_entries(theirs)
    ours.save(tmp_path / "ours.keras")
    theirs.save(tmp_path / "theirs.keras")
    for load, name in [
        (float64.saving.load_model, "ours"),
        (mk.saving.load_model, "theirs"),
        (mk.saving.load_model, "ours"),
    ]:
        with pytest.raises(ValueError, match="safe_mode=False"):
            load(tmp_path / f"{name}.keras")
        loaded = load(tmp_path / f"{name}.keras", safe_mode=False)
        assert_same_predictions(loaded, theirs, data()[:1])
