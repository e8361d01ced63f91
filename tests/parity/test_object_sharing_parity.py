"""`serialization_lib.ObjectSharingScope`: inside it, an object serialized twice carries the
same "shared_object_id" in both entries and is deserialized once, as Keras's scope does; the
entries minikeras writes read back in Keras with the sharing kept. Outside it, nothing changes."""

import json

import minikeras as mk
from minikeras.saving import serialization_lib


class Square:
    """A callable object with a config, given to two layers."""

    def __call__(self, x):
        return x**2

    def get_config(self):
        return {}

    @classmethod
    def from_config(cls, config):
        return cls()


def user_layer(base):
    class Scaled(base.layers.Layer):
        def __init__(self, fn, **kwargs):
            super().__init__(**kwargs)
            self.fn = base.saving.deserialize_keras_object(fn) if isinstance(fn, dict) else fn

        def call(self, x):
            return self.fn(x)

        def get_config(self):
            return {**super().get_config(), "fn": self.fn}

    return Scaled


def test_a_shared_object_is_written_and_read_once(keras):
    Scaled = user_layer(mk)
    fn = Square()
    layers = [Scaled(fn, name="a"), Scaled(fn, name="b")]
    with serialization_lib.ObjectSharingScope():
        written = json.loads(json.dumps(serialization_lib.serialize_keras_object(layers)))
        ids = [entry["config"]["fn"].get("shared_object_id") for entry in written]
        assert ids[0] is not None and ids[0] == ids[1]
        back = serialization_lib.deserialize_keras_object(
            written, custom_objects={"Scaled": Scaled, "Square": Square}
        )
    assert back[0].fn is back[1].fn and isinstance(back[0].fn, Square)

    # Keras reads minikeras's entries with the sharing kept
    KerasScaled = user_layer(keras)
    for entry in written:
        entry["config"].pop("dtype")  # minikeras's policy entry; Keras makes its own
    with keras.src.saving.serialization_lib.ObjectSharingScope():
        theirs = keras.saving.deserialize_keras_object(
            written, custom_objects={"Scaled": KerasScaled, "Square": Square}
        )
    assert theirs[0].fn is theirs[1].fn

    # without the scope: no id, and two objects, as Keras
    plain = serialization_lib.serialize_keras_object(layers)
    assert all("shared_object_id" not in entry["config"]["fn"] for entry in plain)
    again = serialization_lib.deserialize_keras_object(
        written, custom_objects={"Scaled": Scaled, "Square": Square}
    )
    assert again[0].fn is not again[1].fn


def test_a_layer_in_a_graph_and_in_a_wrapper_stays_one_layer():
    class Wrapped(mk.layers.Wrapper):
        def call(self, x):
            return self.layer(x)

    first, second = mk.Input((2,)), mk.Input((2,))
    shared = mk.layers.Dense(1)
    model = mk.Model([first, second], [shared(first), Wrapped(shared)(second)])
    with serialization_lib.ObjectSharingScope():
        entry = json.loads(json.dumps(serialization_lib.serialize_keras_object(model)))
        back = serialization_lib.deserialize_keras_object(
            entry, custom_objects={"Wrapped": Wrapped}
        )
    assert back.layers[2] is back.layers[3].layer
    assert len(back.weights) == 2  # the kernel and bias, once
