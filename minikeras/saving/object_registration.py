"""Keras's `keras.src.saving.object_registration` names (the registry itself lives in
`minikeras.utils.object_registration`): the same functions, and its two global tables."""

from minikeras.utils.object_registration import (
    _GLOBAL_CUSTOM_NAMES,
    _GLOBAL_CUSTOM_OBJECTS,
    CustomObjectScope,
    custom_object_scope,
    get_custom_objects,
    get_registered_name,
    get_registered_object,
    register_keras_serializable,
)

GLOBAL_CUSTOM_OBJECTS = _GLOBAL_CUSTOM_OBJECTS  # registered name → class or function
GLOBAL_CUSTOM_NAMES = _GLOBAL_CUSTOM_NAMES  # class or function → registered name

__all__ = [
    "GLOBAL_CUSTOM_NAMES",
    "GLOBAL_CUSTOM_OBJECTS",
    "CustomObjectScope",
    "custom_object_scope",
    "get_custom_objects",
    "get_registered_name",
    "get_registered_object",
    "register_keras_serializable",
]
