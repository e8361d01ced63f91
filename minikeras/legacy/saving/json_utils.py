"""The JSON of Keras 2's `.h5` files (Keras's `keras.src.legacy.saving.json_utils`): plain JSON
plus a few tagged objects, so that tuples and bytes come back as they went in.

    (3, 5)       {"class_name": "__tuple__", "items": [3, 5]}
    b"abc"       {"class_name": "__bytes__", "value": "abc"}
    ...          {"class_name": "__ellipsis__"}

NumPy arrays and scalars become lists and numbers, an enum its value, a function or a class its
name, and an object with `get_config` its serialized entry marked `__passive_serialization__`.
"""

import collections.abc
import enum
import json

import numpy as np


class Encoder(json.JSONEncoder):
    """`json.JSONEncoder` that also writes tuples, bytes, NumPy values, enums and Keras objects."""

    def default(self, obj):
        return get_json_type(obj)

    def encode(self, obj):
        # tuples must be tagged before the encoder sees them: it writes them as lists itself
        return super().encode(_tag_tuples(obj))


def _tag_tuples(x):
    if isinstance(x, tuple):
        return {"class_name": "__tuple__", "items": [_tag_tuples(i) for i in x]}
    if isinstance(x, list):
        return [_tag_tuples(i) for i in x]
    if isinstance(x, dict):
        return {key: _tag_tuples(value) for key, value in x.items()}
    return x


def decode(json_string):
    """The object `Encoder` wrote: tuples, bytes and Ellipsis restored."""
    return json.loads(json_string, object_hook=_untag)


def _untag(obj):
    name = obj.get("class_name")
    if name == "__tuple__":
        return tuple(obj["items"])
    if name == "__bytes__":
        return obj["value"].encode("utf-8")
    if name == "__ellipsis__":
        return Ellipsis
    return obj


def get_json_type(obj):
    """A JSON-writable stand-in for `obj`; TypeError names what cannot be written."""
    if hasattr(obj, "get_config"):
        from minikeras.saving.keras_objects import serialize_keras_object

        serialized = serialize_keras_object(obj)
        serialized["__passive_serialization__"] = True
        return serialized
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, type) or callable(obj):
        return obj.__name__
    if isinstance(obj, collections.abc.Mapping):
        return dict(obj)
    if obj is Ellipsis:
        return {"class_name": "__ellipsis__"}
    if isinstance(obj, enum.Enum):
        return obj.value
    if isinstance(obj, bytes):
        return {"class_name": "__bytes__", "value": obj.decode("utf-8")}
    raise TypeError(f"Unable to serialize {obj} to JSON. Unrecognized type {type(obj)}.")
