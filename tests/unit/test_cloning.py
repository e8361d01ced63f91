"""`clone_model` (Keras's `keras.models.clone_model`): a Sequential rebuilt from its layers, a
Functional by replaying its graph on new inputs, with `clone_function` (how each layer is
copied), `call_function` (how each is called: it may add layers), `input_tensors`,
`recursive` (nested models cloned too), and a compiled model's clone compiled alike.

A clone given the original's weights computes what the original computes: each check below
compares the two on the same input, in float64 (the same arithmetic in the same order, so
they agree exactly); structure checks count layers and classes as Keras's tests do.
"""

import numpy as np
import pytest

import minikeras as mk
from minikeras import layers
from minikeras.models import clone_model


def mlp(shared=False):
    inputs = layers.Input(shape=(3,))
    x = layers.Dense(2)(inputs)
    if shared:
        dense = layers.Dense(2, name="shared")
        x = dense(dense(x))
    return mk.Model(inputs, layers.Dense(2)(x))


def nested():
    inputs = layers.Input(shape=(4,))
    x = mlp()(layers.Dense(3)(inputs))
    return mk.Model(inputs, layers.Dense(2)(x))


def assert_same_outputs(model, clone, x):
    clone.set_weights(model.get_weights())
    np.testing.assert_array_equal(np.asarray(clone(x)), np.asarray(model(x)))


@pytest.fixture(autouse=True)
def float64():
    old = mk.config.floatx()
    mk.config.set_floatx("float64")
    yield
    mk.config.set_floatx(old)


X3 = np.random.default_rng(0).normal(size=(2, 3))


def test_clone_has_new_layers_and_same_function():
    model = mlp(shared=True)
    clone = clone_model(model)
    assert len(clone.layers) == 4  # the shared layer stays one layer, as in Keras
    assert all(a is not b for a, b in zip(model.layers, clone.layers))
    assert_same_outputs(model, clone, X3)


def test_clone_function_renames_every_layer_but_inputs():
    def clone_function(layer):
        config = layer.get_config()
        config["name"] += "_custom"
        return type(layer).from_config(config)

    for model in (mlp(), mk.Sequential([layers.Input(shape=(3,)), layers.Dense(2)])):
        clone = clone_model(model, clone_function=clone_function)
        names = [(a.name, b.name) for a, b in zip(model.layers, clone.layers)]
        assert all(b == a + "_custom" for a, b in names if not a.startswith("input"))


def test_call_function_inserts_dropout_after_each_dense():
    model = mlp()

    def call_function(layer, *args, **kwargs):
        out = layer(*args, **kwargs)
        return layers.Dropout(0.5)(out) if isinstance(layer, layers.Dense) else out

    clone = clone_model(model, clone_function=lambda layer: layer, call_function=call_function)
    kinds = [type(layer).__name__ for layer in clone.layers]
    assert kinds == ["InputLayer", "Dense", "Dropout", "Dense", "Dropout"]
    # the same Dense layers: no set_weights needed; Dropout is the identity at inference
    np.testing.assert_array_equal(np.asarray(clone(X3)), np.asarray(model(X3)))


def test_recursive_clones_nested_models_with_the_same_functions():
    model = nested()

    def clone_function(layer):
        clone = type(layer).from_config(layer.get_config())
        clone.flag = True
        return clone

    clone = clone_model(model, clone_function=clone_function, recursive=True)
    denses = [layer for layer in clone._flatten_layers() if isinstance(layer, layers.Dense)]
    assert len(denses) == 4 and all(getattr(layer, "flag", False) for layer in denses)
    assert_same_outputs(model, clone, np.random.default_rng(1).normal(size=(2, 4)))
    # without recursive, the inner model is handed to clone_function whole
    shallow = clone_model(model, clone_function=lambda layer: layer)
    assert shallow.layers[2] is model.layers[2]


def test_input_tensors_and_structure():
    x, y = layers.Input((3,)), layers.Input((3,))
    model = mk.Model({"x": x, "y": y}, {"z1": x + y, "z2": layers.Dense(5)(x + y)})
    clone = clone_model(model)
    assert set(clone.input) == {"x", "y"} and set(clone.output) == {"z1", "z2"}
    new_x, new_y = layers.Input((3,)), layers.Input((3,))
    clone = clone_model(model, input_tensors={"x": new_x, "y": new_y})
    assert clone.input["x"] is new_x
    with pytest.raises(ValueError, match="must have the same structure as model.input"):
        clone_model(model, input_tensors=(x, y))


def test_sequential_on_input_tensors_and_compiled_clone():
    model = mk.Sequential([layers.Input((7, 3)), layers.Conv1D(2, 2, padding="same")])
    model.compile(optimizer="adam", loss="mse")
    clone = clone_model(model, input_tensors=layers.Input((7, 3)))
    assert clone.compiled and type(clone.optimizer).__name__ == "Adam"
    assert clone.optimizer is not model.optimizer
    with pytest.raises(ValueError, match="`call_function` argument is not supported"):
        clone_model(model, call_function=lambda layer, *a, **k: layer(*a, **k))
    with pytest.raises(ValueError, match="must contain a single tensor"):
        clone_model(model, input_tensors=[layers.Input((7, 3)), layers.Input((7, 3))])


def test_subclassed_model_clones_from_config_only():
    class Two(mk.Model):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.d1, self.d2 = layers.Dense(2), layers.Dense(2)

        def call(self, x):
            return self.d2(self.d1(x))

    model = Two()
    clone = clone_model(model)
    assert type(clone) is Two and clone is not model
    model(X3), clone(X3)
    assert_same_outputs(model, clone, X3)
    with pytest.raises(ValueError, match="only supported for Sequential models or Functional"):
        clone_model(model, clone_function=lambda layer: layer)
    with pytest.raises(ValueError, match="Unexpected keyword argument"):
        clone_model(model, shared=True)


def test_clone_keeps_a_registered_activation_function():
    """keras.io's serialization guide clones a Dense whose activation is registered as
    "my_package>custom_fn": from_config meets that name in the activation's config."""

    @mk.saving.register_keras_serializable(package="clone_test", name="squared")
    def squared(x):
        return x**2

    inputs = layers.Input(shape=(4,))
    model = mk.Model(inputs, layers.Dense(1, activation=squared)(inputs))
    clone = clone_model(model)
    assert clone.layers[1].activation is squared
    clone.set_weights(model.get_weights())
    x = np.random.default_rng(0).standard_normal((3, 4))
    np.testing.assert_array_equal(clone.predict(x, verbose=0), model.predict(x, verbose=0))
