"""Keras's serialized forms of plain values (`serialize_keras_object`: bytes, arrays, NumPy
scalars, slices, `...`, dicts) and back, and the `serialization_lib` / `object_registration`
module names Keras's code uses. The forms are those Keras 3.15 writes (checked by running
`keras.saving.serialize_keras_object` on the same values)."""

import numpy as np

from minikeras.saving import object_registration, serialization_lib
from minikeras.saving.keras_objects import deserialize_keras_object, serialize_keras_object


def test_plain_values_as_keras_writes_them():
    assert serialize_keras_object(b"hi") == {"class_name": "__bytes__", "config": {"value": "hi"}}
    assert serialize_keras_object(np.array([0, 1])) == {
        "class_name": "__numpy__",
        "config": {"value": [0, 1], "dtype": "int64"},
    }
    assert serialize_keras_object(np.float32(1.0)) == 1.0
    assert serialize_keras_object(slice(None, 20, 1)) == {
        "class_name": "__slice__",
        "config": {"start": None, "stop": 20, "step": 1},
    }
    assert serialize_keras_object(...) == {"class_name": "__ellipsis__", "config": {}}


def test_round_trips():
    for value in (b"hi", slice(1, None, 2), ..., {"1": "a", "2": [True, False]}):
        assert deserialize_keras_object(serialize_keras_object(value)) == value
    array = np.arange(4.0).reshape(2, 2)
    back = deserialize_keras_object(serialize_keras_object({"x": array}))
    np.testing.assert_array_equal(back["x"], array)
    assert back["x"].dtype == array.dtype
    tensor = {"class_name": "__tensor__", "config": {"value": [1.5], "dtype": "float32"}}
    assert deserialize_keras_object(tensor).dtype == np.float32  # Keras's form of a tensor


def test_module_names():
    @object_registration.register_keras_serializable()
    def my_fn():
        return 42

    assert object_registration.GLOBAL_CUSTOM_NAMES[my_fn] == "Custom>my_fn"
    assert object_registration.GLOBAL_CUSTOM_OBJECTS["Custom>my_fn"] is my_fn
    assert deserialize_keras_object(serialize_keras_object(my_fn))() == 42
    with serialization_lib.SafeModeScope(safe_mode=False):
        assert not serialization_lib.in_safe_mode()
    assert serialization_lib.in_safe_mode()
