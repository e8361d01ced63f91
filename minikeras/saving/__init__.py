"""Keras 3's files, both ways: a model trained here opens in Keras, and a Keras model opens here.

    model.save("model.keras")                      the .keras zip: config, weights, optimizer
    minikeras.models.load_model("model.keras")     files written by Keras 3 or by minikeras
    model.save_weights("model.weights.h5")         weights (and optimizer state) only
    model.load_weights("model.weights.h5")
    model.to_json() / minikeras.models.model_from_json(text)
    model.save("model.h5") / load_model("model.h5")  Keras 2's legacy format (legacy_h5.py)
    KerasFileEditor("model.keras")                 look inside a file, fix it to fit a model

h5py is needed only here, imported on first use (`pip install 'minikeras[h5]'`).
"""

from minikeras.saving.file_editor import KerasFileEditor
from minikeras.saving.files import (
    KERAS_VERSION,
    atomic_write,
    load_model,
    load_weights,
    save_model,
    save_weights,
)
from minikeras.saving.h5_state import BadFileError
from minikeras.saving.keras_objects import deserialize_keras_object, serialize_keras_object
from minikeras.saving.serialization import (
    deserialize_model,
    get_compile_config,
    model_from_json,
    serialize_model,
    to_json,
)
from minikeras.utils.object_registration import (
    CustomObjectScope,
    custom_object_scope,
    get_custom_objects,
    get_registered_name,
    get_registered_object,
    register_keras_serializable,
)

__all__ = [
    "KERAS_VERSION",
    "BadFileError",
    "KerasFileEditor",
    "CustomObjectScope",
    "custom_object_scope",
    "deserialize_keras_object",
    "get_custom_objects",
    "get_registered_name",
    "get_registered_object",
    "register_keras_serializable",
    "serialize_keras_object",
    "atomic_write",
    "deserialize_model",
    "get_compile_config",
    "load_model",
    "load_weights",
    "model_from_json",
    "save_model",
    "save_weights",
    "serialize_model",
    "to_json",
]
