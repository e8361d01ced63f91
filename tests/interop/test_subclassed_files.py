"""Subclassed models (a `Model` of yours with `__init__` and `call`) in Keras files, both ways,
against real Keras. Such a model's weights are laid out by its attributes (`dense1/vars`,
`dense1/nested_layer/vars`, `blocks/container/dense/vars`: Keras's `_walk_saveable`), its
config is its class's `get_config()` (made from its constructor's arguments when it writes no
`get_config`), and a registered loss of yours is named in the compile config. A file minikeras
writes opens in Keras with the same predictions and optimizer state, and a file Keras writes
opens in minikeras; the weights files have Keras's exact layout.
"""

import numpy as np
import pytest
from test_keras_files import h5_layout

import minikeras as mk

TOL = dict(rtol=1e-5, atol=1e-6)  # Keras's own float32 tolerance, as test_keras_files.py


def classes(lib):
    """The same three classes of yours, written against `lib` (minikeras or Keras) and
    registered there under one package name."""
    register = lib.saving.register_keras_serializable(package="subclassed_files")

    @lib.saving.register_keras_serializable(package="subclassed_files")
    def doubled_mse(y_true, y_pred):
        return 2.0 * lib.ops.mean(lib.ops.square(y_pred - y_true), axis=-1)

    @register
    class ScaledDense(lib.layers.Layer):  # no get_config: its arguments make its config
        def __init__(self, units, **kwargs):
            super().__init__(**kwargs)
            self.units = units
            self.nested_layer = lib.layers.Dense(units, name="dense")

        def build(self, input_shape):
            self.scale = self.add_weight(shape=(), name="scale", initializer="ones")
            self.nested_layer.build(input_shape)

        def call(self, x):
            return self.scale * self.nested_layer(x)

    @register
    class TwoBlocks(lib.Model):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.dense1 = ScaledDense(3, name="scaled_1")
            self.blocks = [[lib.layers.Dense(3), lib.layers.Dense(3)], [lib.layers.Dense(2)]]
            self.head = lib.layers.Dense(1)

        def call(self, x):
            x = self.dense1(x)
            for block in self.blocks:
                for layer in block:
                    x = layer(x)
            return self.head(x)

    return doubled_mse, ScaledDense, TwoBlocks


def trained(lib, seed):
    doubled_mse, _, TwoBlocks = classes(lib)
    lib.utils.set_random_seed(seed)
    model = TwoBlocks(name="two_blocks")
    # eager: Keras then traces no tf.function (seconds each), and both write the same flag
    model.compile(optimizer=lib.optimizers.Adam(0.01), loss=doubled_mse, run_eagerly=True)
    rng = np.random.default_rng(seed)
    x, y = rng.normal(size=(8, 4)).astype("float32"), rng.normal(size=(8, 1)).astype("float32")
    model.fit(x, y, batch_size=4, epochs=1, shuffle=False, verbose=0)
    return model, x


def test_layout_matches_keras(keras, h5py, tmp_path):
    """Same groups, names, shapes and dtypes as the file Keras writes for the same model."""
    # the groups record the layers' automatic names ('dense', 'dense_1'): both count from zero
    mk.utils.clear_session()
    keras.utils.clear_session()
    model, _ = trained(mk, 0)
    keras_model, _ = trained(keras, 0)
    model.save_weights(tmp_path / "mk.weights.h5")
    keras_model.save_weights(tmp_path / "keras.weights.h5")
    layout = h5_layout(h5py, tmp_path / "mk.weights.h5")
    assert layout == h5_layout(h5py, tmp_path / "keras.weights.h5")
    names = [row[0] for row in layout]
    assert "blocks/container_1/dense/vars/0" in names  # the second inner list's Dense
    assert "dense1/nested_layer/vars/1" in names


@pytest.mark.parametrize("direction", ["minikeras to keras", "keras to minikeras"])
def test_subclassed_model_both_ways(keras, direction, tmp_path):
    """The loaded model predicts as the saved one and keeps its optimizer state and loss."""
    writer, reader = (mk, keras) if direction == "minikeras to keras" else (keras, mk)
    classes(reader)  # the reader knows the classes by their registered names
    model, x = trained(writer, 1)
    model.save(tmp_path / "model.keras")
    loaded = reader.models.load_model(tmp_path / "model.keras")
    assert type(loaded).__name__ == "TwoBlocks"
    np.testing.assert_allclose(np.asarray(loaded(x)), np.asarray(model(x)), **TOL)
    for want, got in zip(model.optimizer.variables, loaded.optimizer.variables, strict=True):
        np.testing.assert_array_equal(np.asarray(got), np.asarray(want))
    assert loaded.loss.__name__ == "doubled_mse"
    assert loaded.get_layer("scaled_1").get_config()["units"] == 3


def test_auto_config_matches_keras(keras):
    """A layer without get_config: its config is its constructor's arguments, as Keras's."""
    _, ScaledDense, _ = classes(mk)
    _, KerasScaledDense, _ = classes(keras)
    config = ScaledDense(4, name="s").get_config()
    keras_config = KerasScaledDense(4, name="s").get_config()
    assert config["units"] == keras_config["units"] == 4
    assert list(config) == list(keras_config)
    assert ScaledDense.from_config(config).units == 4
