"""Keras's `keras.src.saving.serialization_lib` names: `serialize_keras_object`,
`deserialize_keras_object` (keras_objects.py) and the safe-mode switches
(utils/object_registration.py)."""

from minikeras.saving.keras_objects import deserialize_keras_object, serialize_keras_object
from minikeras.utils import object_registration
from minikeras.utils.object_registration import enable_unsafe_deserialization, in_safe_mode


class SafeModeScope:
    """`with SafeModeScope(safe_mode=False):` loading may rebuild a Lambda layer's code inside
    the block; True refuses it (the default everywhere); None keeps the current setting."""

    def __init__(self, safe_mode=True):
        self.safe_mode = safe_mode
        self._scope = None

    def __enter__(self):
        self._scope = object_registration.safe_mode_scope(self.safe_mode)
        self._scope.__enter__()
        return self

    def __exit__(self, *exc_info):
        return self._scope.__exit__(*exc_info)


class ObjectSharingScope:
    """`with ObjectSharingScope():` an object serialized twice is written with a
    "shared_object_id" in both entries, and deserialized once (Keras's scope)."""

    def __enter__(self):
        self._scope = object_registration.object_sharing_scope()
        self._scope.__enter__()
        return self

    def __exit__(self, *exc_info):
        return self._scope.__exit__(*exc_info)


__all__ = [
    "ObjectSharingScope",
    "SafeModeScope",
    "deserialize_keras_object",
    "enable_unsafe_deserialization",
    "in_safe_mode",
    "serialize_keras_object",
]
