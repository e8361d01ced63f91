"""A layer of yours that overrides `save_own_variables`/`load_own_variables` decides what its
group of the weights file holds, as in Keras: the same file both ways, its extra state back,
and an error raised by your `load_own_variables` reaches the caller."""

import numpy as np
import pytest

import minikeras as mk


def counting_layer(lib):
    class Counting(lib.layers.Layer):
        """A Dense-like layer that also saves how many batches it has seen (not a weight)."""

        def build(self, input_shape):
            self.kernel = self.add_weight(shape=(input_shape[-1], 2), name="kernel")
            self.seen = 0

        def call(self, x):
            return lib.ops.matmul(x, self.kernel)

        def save_own_variables(self, store):
            super().save_own_variables(store)
            store["seen"] = np.array(7)

        def load_own_variables(self, store):
            self.seen = int(np.asarray(store["seen"]))
            super().load_own_variables({k: store[k] for k in store.keys() if k != "seen"})

    return Counting


def model_of(lib):
    return lib.Sequential([lib.Input((3,)), counting_layer(lib)(name="counting")])


def test_own_variables_both_ways(keras, h5py, tmp_path):
    ours, theirs = model_of(mk), model_of(keras)
    ours.save_weights(tmp_path / "ours.weights.h5")
    theirs.save_weights(tmp_path / "theirs.weights.h5")
    for name in ("ours", "theirs"):
        with h5py.File(tmp_path / f"{name}.weights.h5", "r") as f:
            assert sorted(f["layers/counting/vars"]) == ["0", "seen"]
    keras_copy, mk_copy = model_of(keras), model_of(mk)
    keras_copy.load_weights(tmp_path / "ours.weights.h5")
    mk_copy.load_weights(tmp_path / "theirs.weights.h5")
    assert keras_copy.layers[0].seen == mk_copy.layers[0].seen == 7
    np.testing.assert_array_equal(keras_copy.layers[0].kernel, ours.layers[0].kernel)
    np.testing.assert_array_equal(mk_copy.layers[0].kernel, theirs.layers[0].kernel)


def test_base_load_own_variables_checks_the_count_and_errors_reach_the_caller(tmp_path):
    layer = mk.layers.Dense(2)
    layer.build((None, 3))
    with pytest.raises(ValueError, match="expected 2 variables, but received 1"):
        layer.load_own_variables({"0": np.zeros((3, 2))})

    class Refusing(mk.layers.Layer):
        def call(self, x):
            return x

        def load_own_variables(self, store):
            raise ValueError("refused by the layer")

    model = mk.Sequential([mk.Input((3,)), Refusing(name="refusing")])
    model.save(tmp_path / "m.keras")
    with pytest.raises(ValueError, match="refused by the layer"):
        mk.models.load_model(tmp_path / "m.keras", custom_objects={"Refusing": Refusing})
