"""Ops and operators on symbolic tensors (the Functional API) become graph nodes whose backward
is the op's VJP: checked against central differences, and the graph's shapes as declared."""

import numpy as np

import minikeras
from minikeras import layers, ops, testing
from minikeras.layers import KerasTensor
from minikeras.layers.op_layer import OpLayer


def residual_model():
    x = layers.Input(shape=(3,))
    h = layers.Dense(3, activation="tanh")(x)
    y = ops.tanh(h + x) * 2.0 - x / 4.0  # operators and an op, on KerasTensors
    z = ops.concatenate([y, x[:, :1] ** 2], axis=-1)
    return minikeras.Model(x, layers.Dense(2)(z))


def test_operators_on_keras_tensors_make_op_nodes():
    x = layers.Input(shape=(3,))
    y = (x + 1.0) * x
    assert isinstance(y, KerasTensor) and isinstance(y.layer, OpLayer)
    assert y.shape == (None, 3) and y.layer.op_name == "multiply"
    assert ops.concatenate([x, x], axis=-1).shape == (None, 6)
    assert x[:, :2].shape == (None, 2)


def test_a_graph_with_ops_has_the_backward_of_its_vjps():
    model = residual_model()
    rng = np.random.default_rng(0)
    worst = testing.check_gradients(
        model, rng.normal(size=(6, 3)), rng.normal(size=(6, 2)), loss="mse", verbose=False
    )
    assert max(worst.values()) < 1e-6


def test_a_graph_with_ops_trains():
    model = residual_model()
    model.compile(optimizer="adam", loss="mse")
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(32, 3)), rng.normal(size=(32, 2))
    history = model.fit(x, y, epochs=5, verbose=0).history
    assert history["loss"][-1] < history["loss"][0]


def test_a_graph_with_ops_saves_and_loads_back(tmp_path):
    """Round trip in minikeras alone (tests/interop/test_op_node_files.py checks the files
    against Keras's): the same config, the same outputs, to the last bit."""
    model = residual_model()
    model.save(tmp_path / "ops.keras")
    loaded = minikeras.saving.load_model(tmp_path / "ops.keras")
    assert loaded.get_config() == model.get_config()
    x = np.random.default_rng(0).normal(size=(4, 3))
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
