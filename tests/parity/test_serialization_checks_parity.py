"""`deserialize_keras_object` refuses what Keras refuses, with Keras's exception types: a config
of the wrong type, a `registered_name` put on a built-in, a Sequential config without its name,
a malformed layer entry, a Python lambda in safe mode. A lambda crosses both ways once safe mode
is off, and a function registered in a package loads from Keras 3.6's bare name.
"""

import numpy as np
import pytest

import minikeras
from minikeras.saving import serialization_lib

BAD_CONFIGS = [
    ({"class_name": "Dense", "config": [1, 2, 3]}, TypeError, "Expected 'config' to be a dict"),
    (
        {"class_name": "__typespec__", "config": "not a list"},
        TypeError,
        "Expected 'config' to be a list or a tuple",
    ),
    (
        {"class_name": "function", "config": ["not", "a", "string"]},
        TypeError,
        "Expected 'config' to be a non-null str",
    ),
    (
        {
            "class_name": "Dense",
            "module": "keras.layers",
            "registered_name": "my_pkg>MyDense",
            "config": {"units": 1},
        },
        ValueError,
        "resolved to a Keras built-in",
    ),
    (
        {
            "class_name": "function",
            "module": "builtins",
            "registered_name": "another_name",
            "config": "relu",
        },
        ValueError,
        "resolved to a Keras built-in",
    ),
    (
        {
            "class_name": "Sequential",
            "module": "keras",
            "config": {"layers": [{"class_name": "Dense", "config": {"units": 4}}]},
        },
        ValueError,
        "must be a dictionary containing the 'name' and 'layers' keys",
    ),
    (
        {
            "class_name": "Sequential",
            "module": "keras",
            "config": {"name": "s", "layers": [{}]},
        },
        ValueError,
        "Expected a dictionary containing a 'config' key",
    ),
]


@pytest.mark.parametrize("config, error, words", BAD_CONFIGS)
def test_bad_configs_refused_as_keras(keras, config, error, words):
    with pytest.raises(error, match=words):
        keras.saving.deserialize_keras_object(config)
    with pytest.raises(error, match=words):
        minikeras.saving.deserialize_keras_object(config)


@pytest.mark.parametrize(
    "config",
    [
        {"class_name": "Dense", "module": "keras.layers", "registered_name": "Dense"},
        {"class_name": "Dense", "module": "keras.layers", "registered_name": ""},
        {"class_name": "Dense", "module": "keras.layers", "registered_name": None},
    ],
)
def test_registered_names_that_pass(config):
    layer = minikeras.saving.deserialize_keras_object({**config, "config": {"units": 1}})
    assert isinstance(layer, minikeras.layers.Dense)


@pytest.mark.parametrize("writer", ["minikeras", "keras"])
def test_a_lambda_crosses_outside_safe_mode_only(keras, writer):
    libs = {"minikeras": minikeras, "keras": keras}
    reader = libs["keras" if writer == "minikeras" else "minikeras"]
    with pytest.warns(UserWarning, match="includes a `lambda`"):
        entry = libs[writer].saving.serialize_keras_object({"fn": lambda x: x * 3 + 1})
    assert entry["fn"]["class_name"] == "__lambda__"
    for lib in (minikeras, keras):
        with pytest.raises(ValueError, match="arbitrary code execution"):
            lib.saving.deserialize_keras_object(entry)
    loaded = reader.saving.deserialize_keras_object(entry, safe_mode=False)
    assert loaded["fn"](2) == 7


def test_a_safe_mode_scope_decides_over_the_argument():
    entry = {"class_name": "__lambda__", "config": {"value": None}}
    with serialization_lib.SafeModeScope(safe_mode=True):
        with pytest.raises(ValueError, match="arbitrary code execution"):
            minikeras.saving.deserialize_keras_object(entry, safe_mode=False)
    layer = minikeras.layers.Lambda(lambda x: x**2)
    with serialization_lib.SafeModeScope(safe_mode=False):
        again = minikeras.saving.deserialize_keras_object(
            minikeras.saving.serialize_keras_object(layer)
        )
    np.testing.assert_array_equal(again(np.array([3.0])), [9.0])


def test_a_registered_function_loads_from_its_bare_name():
    @minikeras.saving.register_keras_serializable(package="optsave_tests")
    def cube(x):
        return x**3

    entry = {"module": "builtins", "class_name": "function", "config": "cube"}
    assert minikeras.saving.deserialize_keras_object(entry) is cube
    entry["config"] = "optsave_tests>cube"
    assert minikeras.saving.deserialize_keras_object(entry) is cube
