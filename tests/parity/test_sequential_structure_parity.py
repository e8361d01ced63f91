"""A Sequential's build, attributes and errors beside Keras's, and a few functional models'
behaviours that depend on how Keras builds its graph (configs, a layer's own output spec).

Each check runs the same code on minikeras and on Keras and asserts the same outcome: the same
exception type and words, the same attributes, the same outputs. Outputs are compared at
float32 rtol 1e-6 / atol 1e-6: a convolution of 27 products and a Dense of 1,024, summed in a
different order by NumPy and TensorFlow, differ by a few ulps of values of order 1.
"""

import numpy as np
import pytest

import minikeras

TOL = dict(rtol=1e-6, atol=1e-6)


def both(keras):
    return (minikeras, keras)


def test_no_input_shape_before_the_build(keras):
    for lib in both(keras):
        model = lib.Sequential()
        assert not any(hasattr(model, a) for a in ("input_shape", "output_shape", "inputs"))
        model = lib.Sequential([lib.Input((4,)), lib.layers.Dense(8)])
        assert (model.input_shape, model.output_shape) == ((None, 4), (None, 8))


@pytest.mark.filterwarnings("ignore:Do not pass an `input_shape`")
def test_an_input_shape_past_the_first_layer_is_ignored(keras):
    shapes = []
    for lib in both(keras):
        model = lib.Sequential()
        model.add(lib.layers.Dense(4, input_shape=(2,)))
        model.add(lib.layers.Dense(5, input_shape=(3, 4)))
        shapes.append([tuple(w.shape) for w in model.weights])
    assert shapes[0] == shapes[1] == [(2, 4), (4,), (4, 5), (5,)]


def test_layers_cannot_be_assigned(keras):
    for lib in both(keras):
        with pytest.raises(AttributeError, match=r"Use `add\(\)` and `pop\(\)`"):
            lib.Sequential().layers = [lib.layers.Dense(4)]


def test_a_layer_whose_call_needs_two_inputs(keras):
    for lib in both(keras):

        class Two(lib.layers.Layer):
            def call(self, inputs, training):
                return inputs

        model = lib.Sequential([Two()])
        with pytest.raises(ValueError, match="can only have a single required positional"):
            model.build((None, 2))


def test_an_input_layer_alone_then_layers(keras):
    for lib in both(keras):
        model = lib.Sequential()
        model.add(lib.Input(shape=(2,), batch_size=3))
        assert not model.built  # nothing to build yet, and no error
        model.add(lib.layers.Dense(2))
        with pytest.raises(ValueError, match="already been configured"):
            model.build((3, 4))
        with pytest.raises(ValueError, match="already been configured"):
            model.add(lib.layers.InputLayer(shape=(2,), batch_size=3))


@pytest.mark.parametrize("first", ["sequential", "functional"])
def test_a_model_as_first_layer_builds_the_stack(keras, first):
    def build(lib):
        if first == "sequential":
            inner = lib.Sequential([lib.Input((6, 6, 3)), lib.layers.Conv2D(4, 3, padding="same")])
        else:
            x = lib.Input((6, 6, 3))
            inner = lib.Model(x, lib.layers.Conv2D(4, 3, padding="same")(x))
        return lib.Sequential([inner, lib.layers.Flatten(), lib.layers.Dense(1)])

    ours, theirs = build(minikeras), build(keras)
    assert ours.built and theirs.built
    theirs.set_weights(ours.get_weights())
    x = np.random.default_rng(0).normal(size=(2, 6, 6, 3)).astype("float32")
    np.testing.assert_allclose(ours(x), np.asarray(theirs(x)), **TOL)


@pytest.mark.parametrize("kind", [list, dict])
def test_a_stack_handed_a_list_or_dict(keras, kind):
    for lib in both(keras):

        class PassOn(lib.layers.Layer):
            def call(self, inputs):
                assert isinstance(inputs, kind)
                return inputs

        a, b = np.ones((3, 2)), np.zeros((3, 2))
        out = lib.Sequential([PassOn()])({"a": a, "b": b} if kind is dict else [a, b])
        assert type(out) is kind


def spy_model(lib, calls):
    """A model of one layer of yours that records the `training` of each call."""

    class Spy(lib.layers.Layer):
        def call(self, x, training=False):
            calls.append(training)
            return x

        def compute_output_spec(self, x, training=False):
            return lib.KerasTensor(x.shape, dtype=x.dtype)

    x = lib.Input((3,))
    return lib.Model(x, Spy()(x))


def test_a_layer_of_yours_is_asked_its_output_spec(keras):
    """Keras's symbolic call asks `compute_output_spec`; it never runs `call` on stand-ins."""
    for lib in both(keras):
        calls = []
        spy_model(lib, calls)(np.ones((2, 3)), training=True)
        assert calls == [True]


@pytest.mark.parametrize("missing", [True, False])
def test_configs_that_cannot_be_a_graph(keras, missing):
    def config():
        dense = {"class_name": "Dense", "config": {"units": 10}}
        layers = [
            {
                "class_name": "InputLayer",
                "name": "input_1",
                "config": {"batch_input_shape": [None, 10], "dtype": "float32"},
                "inbound_nodes": [],
            },
            {**dense, "name": "node_a", "inbound_nodes": [[["node_b", 0, 0, {}]]]},
        ]
        if not missing:
            layers.append({**dense, "name": "node_b", "inbound_nodes": [[["node_a", 0, 0, {}]]]})
        out = "node_a" if missing else "node_b"
        return {
            "name": "m",
            "layers": layers,
            "input_layers": [["input_1", 0, 0]],
            "output_layers": [[out, 0, 0]],
        }

    pattern = "Missing node: node_b" if missing else "either has loops or disconnected nodes"
    for functional in (minikeras.models.Functional, keras.src.models.Functional):
        with pytest.raises(ValueError, match=pattern):
            functional.from_config(config())
