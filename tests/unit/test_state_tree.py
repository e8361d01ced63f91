"""A model's state by variable path (Keras's `Model.get_state_tree`, `set_state_tree`,
`_get_variable_map`), the optimizer's variables with Keras's paths, `metrics_variables`,
`Model.export`'s errors, the reserved `layers` attribute, and a Functional subclass of yours
revived from its config with its own keys.
"""

import numpy as np
import pytest

import minikeras as mk
from minikeras import layers


def single_output():
    x = layers.Input(shape=(3,), name="input_a")
    return mk.Model(x, layers.Dense(1, name="output_a")(x))


def test_state_tree_paths_and_values():
    model = single_output()
    model.compile(loss="mse", optimizer="adam")
    model.fit(np.ones((4, 3)), np.ones((4, 1)), verbose=0)
    tree = model.get_state_tree()
    assert set(tree) == {
        "trainable_variables",
        "non_trainable_variables",
        "optimizer_variables",
        "metrics_variables",
    }
    kernel = model.get_layer("output_a").kernel
    assert tree["trainable_variables"]["output_a"]["kernel"] is not None
    np.testing.assert_array_equal(tree["trainable_variables"]["output_a"]["kernel"], kernel)
    assert tree["non_trainable_variables"] == {}
    adam = tree["optimizer_variables"]["adam"]
    assert int(adam["iteration"]) == 1
    assert set(adam) == {
        "iteration",
        "learning_rate",
        "output_a_kernel_momentum",
        "output_a_kernel_velocity",
        "output_a_bias_momentum",
        "output_a_bias_velocity",
    }
    assert float(tree["metrics_variables"]["loss"]["count"]) == 4.0
    numpy_tree = model.get_state_tree(value_format="numpy_array")
    leaf = numpy_tree["trainable_variables"]["output_a"]["kernel"]
    assert type(leaf) is np.ndarray and leaf is not kernel
    with pytest.raises(ValueError, match="Invalid `value_format` argument"):
        model.get_state_tree(value_format="list")


def test_set_state_tree_writes_weights_and_optimizer():
    model = single_output()
    model.compile(optimizer="adam")
    model.set_state_tree(
        {
            "optimizer_variables": {"adam": {"iteration": 3, "learning_rate": 1e-5}},
            "trainable_variables": {"output_a": {"bias": [0.5], "kernel": [[0.6], [0.7], [1.8]]}},
        }
    )
    # written into the float32 weights: each value rounded once to float32
    np.testing.assert_array_equal(model.get_layer("output_a").bias, np.float32([0.5]))
    kernel = np.float32([[0.6], [0.7], [1.8]])
    np.testing.assert_array_equal(model.get_layer("output_a").kernel, kernel)
    assert model.optimizer.iterations == 3
    assert float(model.optimizer.learning_rate) == np.float32(1e-5)
    with pytest.raises(ValueError, match="Unknown variable name: weights"):
        model.set_state_tree({"weights": {}})


def test_duplicate_paths_are_refused():
    class Twice(mk.Model):
        def __init__(self):
            super().__init__()
            self.a = layers.Dense(2, name="same")
            self.b = layers.Dense(2, name="same")

        def call(self, x):
            return self.b(self.a(x))

    model = Twice()
    model(np.ones((1, 2)))
    with pytest.raises(ValueError, match="The following variable path is found twice"):
        model.get_state_tree()
    with pytest.raises(ValueError, match="duplicate path"):
        model._get_variable_map()


def test_variable_map():
    model = single_output()
    model.compile(optimizer="adam", loss="mse")
    model.optimizer.build(model.trainable_variables)
    found = model._get_variable_map()
    assert {"output_a/kernel", "output_a/bias", "adam/learning_rate", "loss/total"} <= set(found)
    sequential = mk.Sequential([layers.Dense(1, name="d")], name="seq")
    sequential.build((None, 2))
    assert "seq/d/bias" in sequential._get_variable_map()


def test_export_errors_and_reserved_layers():
    model = single_output()
    with pytest.raises(ValueError, match="Unrecognized format=bad"):
        model.export("/nonexistent/model", format="bad")
    with pytest.raises(NotImplementedError, match="only currently supports the tensorflow"):
        model.export("/nonexistent/model")
    with pytest.raises(AttributeError, match="`Model.layers` attribute is reserved"):
        model.layers = []
    with pytest.raises(AttributeError, match="Use `add\\(\\)` and `pop\\(\\)`"):
        mk.Sequential().layers = []


def test_functional_subclass_revived_with_its_config_keys():
    class WithParam(mk.Model):
        def __init__(self, *args, param=1, **kwargs):
            super().__init__(*args, **kwargs)
            self.param = param

        def get_config(self):
            return super().get_config() | {"param": self.param}

    x = layers.Input((3,))
    model = WithParam(inputs=x, outputs=layers.Dense(5)(x), param=3)
    revived = WithParam.from_config(model.get_config())
    assert revived.param == 3 and isinstance(revived, WithParam)

    class Custom(layers.Layer):  # no get_config: made from its arguments
        def __init__(self, units, **kwargs):
            super().__init__(**kwargs)
            self.dense = layers.Dense(units)

        def call(self, x):
            return self.dense(x)

    x = layers.Input((4,))
    model = mk.Model(x, Custom(10)(x))
    revived = mk.Model.from_config(model.get_config(), custom_objects={"Custom": Custom})
    assert revived.layers[1].dense.units == 10


def test_model_from_json_in_models_model_and_save_format():
    from minikeras.models.model import model_from_json

    model = mk.Sequential([layers.Input((2,)), layers.Dense(3)])
    assert model_from_json(model.to_json()).layers[0].units == 3
    with pytest.raises(ValueError, match="The `save_format` argument is deprecated"):
        model.save("model_file", save_format="keras")
