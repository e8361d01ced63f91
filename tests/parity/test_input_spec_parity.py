"""InputSpec against Keras: a custom layer's spec is checked on eager and symbolic calls with
Keras's message, before its weights are built; the spec's repr and config are Keras's."""

import re

import numpy as np
import pytest

import minikeras


def scaled_layer(lib, spec):
    class Scaled(lib.layers.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.input_spec = spec

        def build(self, input_shape):
            self.scale = self.add_weight(shape=(input_shape[-1],), initializer="ones")

        def call(self, x):
            return x * self.scale

    return Scaled(name="scaled")


SPECS = {
    "ndim": dict(ndim=2),
    "min_ndim": dict(min_ndim=4),
    "max_ndim": dict(max_ndim=1),
    "axes": dict(axes={-1: 4}),
    "shape": dict(shape=(None, 5)),
    "dtype": dict(dtype="int32"),
    "squeeze": dict(shape=(None, 4, 1), allow_last_axis_squeeze=True),
}


def message(lib, spec_args, x):
    layer = scaled_layer(lib, lib.layers.InputSpec(**spec_args))
    with pytest.raises(ValueError) as error:
        layer(x)
    assert not layer.weights  # refused before build
    return re.sub(r"layer '\w+'", "layer", str(error.value))


@pytest.mark.parametrize("name", list(SPECS))
def test_eager_message_as_keras(keras, name):
    x = np.ones((2, 3, 3), dtype="float32")
    assert message(minikeras, SPECS[name], x) == message(keras, SPECS[name], x)


@pytest.mark.parametrize("name", ["ndim", "axes", "shape"])
def test_symbolic_message_as_keras(keras, name):
    ours = message(minikeras, SPECS[name], minikeras.Input((3, 3)))
    theirs = message(keras, SPECS[name], keras.Input((3, 3)))
    assert ours.split("Full shape")[0] == theirs.split("Full shape")[0]


def test_a_fitting_input_passes(keras):
    spec = dict(min_ndim=2, axes={-1: 3})
    x = np.arange(6, dtype="float32").reshape(2, 3)
    ours = scaled_layer(minikeras, minikeras.layers.InputSpec(**spec))(x)
    theirs = scaled_layer(keras, keras.layers.InputSpec(**spec))(x)
    np.testing.assert_array_equal(np.asarray(ours), np.asarray(theirs))


@pytest.mark.parametrize("name", list(SPECS))
def test_repr_and_config_as_keras(keras, name):
    ours = minikeras.InputSpec(**SPECS[name])
    theirs = keras.InputSpec(**SPECS[name])
    assert repr(ours) == repr(theirs)
    assert ours.get_config() == theirs.get_config()
    assert minikeras.InputSpec.from_config(ours.get_config()).get_config() == ours.get_config()


def test_bad_axes_as_keras(keras):
    for lib in (minikeras, keras):
        with pytest.raises(TypeError, match="integer keys"):
            lib.InputSpec(axes={"a": 2})
        with pytest.raises(ValueError, match="greater than the maximum"):
            lib.InputSpec(ndim=2, axes={3: 2})
