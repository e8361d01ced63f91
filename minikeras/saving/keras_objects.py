"""`serialize_keras_object` and `deserialize_keras_object`: any Keras-like object to Keras 3's
serialized form and back (a layer, a model, a loss, a metric, an optimizer, a function).

>>> from minikeras import layers, saving
>>> entry = saving.serialize_keras_object(layers.Dense(2))
>>> entry["class_name"], saving.deserialize_keras_object(entry).units
('Dense', 2)
"""

import types
import warnings

from minikeras import activations, constraints, initializers, regularizers
from minikeras import losses as losses_module
from minikeras import metrics as metrics_module
from minikeras import optimizers as optimizers_module
from minikeras.layers import lambda_layer
from minikeras.layers import serialization as layer_serialization
from minikeras.layers.layer import Layer
from minikeras.models.model import Model
from minikeras.optimizers import schedules
from minikeras.random import SeedGenerator
from minikeras.utils import object_registration
from minikeras.utils.object_registration import safe_mode_scope


def serialize_keras_object(obj):
    """Keras's serialized form of `obj`: {module, class_name, config, registered_name}."""
    if obj is None or isinstance(obj, (str, int, float, bool)):
        return obj
    plain = _plain_python(obj)
    if plain is not _NOT_PLAIN:
        return plain
    if isinstance(obj, (list, tuple)):
        return [serialize_keras_object(item) for item in obj]
    if isinstance(obj, dict):
        return {key: serialize_keras_object(value) for key, value in obj.items()}
    if isinstance(obj, Model):
        from minikeras.saving import serialization

        return serialization.serialize_model(obj)
    if isinstance(obj, Layer):
        return layer_serialization.serialize(obj)
    if isinstance(obj, types.FunctionType) and obj.__name__ == "<lambda>":
        warnings.warn(
            "The object being serialized includes a `lambda`. This is unsafe. In order to "
            "reload the object, you will have to pass `safe_mode=False` to the loading "
            "function. Please avoid using `lambda` in the future, and use named Python "
            "functions instead.",
            stacklevel=2,
        )
        code = lambda_layer.function_config(obj)["config"]  # its bytecode, as Keras dumps it
        return {
            "class_name": "__lambda__",
            "config": {"value": [code["code"], code["defaults"], code["closure"]]},
        }
    if isinstance(obj, (types.FunctionType, types.BuiltinFunctionType)):
        return {
            "module": obj.__module__,
            "class_name": "function",
            "config": object_registration.get_registered_name(obj),
            "registered_name": "function",
        }
    cls = type(obj)
    builtin = cls.__module__.startswith("minikeras.")
    registered = None if builtin else object_registration.get_registered_name(cls)
    if isinstance(obj, optimizers_module.Optimizer) and builtin:
        return optimizers_module.serialize(obj)
    if builtin and isinstance(obj, regularizers.Regularizer):
        return regularizers.serialize(obj)
    if builtin and isinstance(obj, initializers.Initializer):
        return initializers.serialize(obj)
    if builtin and isinstance(obj, constraints.Constraint):
        return constraints.serialize(obj)
    if builtin and isinstance(obj, schedules.LearningRateSchedule):
        return schedules.serialize(obj)
    entry = {
        "module": _keras_module(obj) if builtin else cls.__module__,
        "class_name": cls.__name__,
        "config": obj.get_config(),
        "registered_name": registered,
    }
    object_registration.record_serialized(obj, entry)
    return entry


_NOT_PLAIN = object()


def _plain_python(obj):
    """Keras's forms for values that are not Keras objects (serialization_lib.py): bytes,
    arrays (a tensor is an array here), NumPy scalars, slices and `...`; else _NOT_PLAIN."""
    import numpy as np

    if isinstance(obj, bytes):
        return {"class_name": "__bytes__", "config": {"value": obj.decode("utf-8")}}
    if isinstance(obj, np.ndarray) and not isinstance(obj, Layer):
        return {
            "class_name": "__numpy__",
            "config": {"value": obj.tolist(), "dtype": str(obj.dtype)},
        }
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, slice):
        return {
            "class_name": "__slice__",
            "config": {
                "start": serialize_keras_object(obj.start),
                "stop": serialize_keras_object(obj.stop),
                "step": serialize_keras_object(obj.step),
            },
        }
    if obj is Ellipsis:
        return {"class_name": "__ellipsis__", "config": {}}
    return _NOT_PLAIN


def _plain_python_back(class_name, inner):
    """The value one of `_plain_python`'s forms stands for; _NOT_PLAIN for any other class."""
    import numpy as np

    if class_name == "__bytes__":
        return inner["value"].encode("utf-8")
    if class_name in ("__numpy__", "__tensor__"):  # Keras writes a backend tensor as __tensor__
        return np.array(inner["value"], dtype=inner["dtype"])
    if class_name == "__slice__":
        return slice(*(_deserialize(inner.get(key)) for key in ("start", "stop", "step")))
    if class_name == "__ellipsis__":
        return Ellipsis
    return _NOT_PLAIN


def _no_registered_name_for_builtin(config, name):
    """Keras refuses a `registered_name` on an entry that names one of its own objects (a
    file could otherwise pass off a built-in for a registered class): only None, "", the
    class name or the function's own name pass."""
    given = config.get("registered_name")
    if given and given not in (name, config.get("class_name")):
        raise ValueError(
            f"`registered_name={given!r}` was provided in the config, but '{name}' resolved to "
            "a Keras built-in and does not use registered names. Remove the `registered_name` "
            f"field from the config. Full object config: {config}"
        )


def _lambda_back(inner):
    """A Python lambda from its dumped bytecode, outside safe mode only (Keras's message)."""
    if object_registration.in_safe_mode():
        raise ValueError(
            "Requested the deserialization of a Python lambda. This carries a potential risk of "
            "arbitrary code execution and thus it is disallowed by default. If you trust the "
            "source of the artifact, you can override this error by passing `safe_mode=False` "
            "to the loading function, or calling "
            "`minikeras.config.enable_unsafe_deserialization()`."
        )
    code, defaults, closure = inner["value"]
    return lambda_layer.function_from_config(
        {
            "class_name": "__lambda__",
            "config": {"code": code, "defaults": defaults, "closure": closure},
        }
    )


def _keras_module(obj):
    if isinstance(obj, SeedGenerator):
        return "keras.random"
    if isinstance(obj, losses_module.Loss):
        return "keras.losses"
    if isinstance(obj, metrics_module.Metric):
        return "keras.metrics"
    if isinstance(obj, optimizers_module.OptimizerMap):
        return "keras.optimizers"
    return "keras"


# the modules whose objects a getter of theirs rebuilds (see `_deserialize`)
_GETTERS = (
    "keras.losses",
    "keras.metrics",
    "keras.optimizers",
    "keras.regularizers",
    "keras.initializers",
    "keras.constraints",
    "keras.optimizers.schedules",
    "keras.random",
)


def deserialize_keras_object(config, custom_objects=None, safe_mode=True, **kwargs):
    """The object `serialize_keras_object` described (minikeras's own, or one of yours that is
    registered or given in `custom_objects`). Nothing named in `config` is imported.

    safe_mode: a Python lambda (its bytecode) is rebuilt only with False, unless a
    `SafeModeScope` or `enable_unsafe_deserialization` decided already, as in Keras."""
    chosen = object_registration.chosen_safe_mode()
    safe_mode = safe_mode if chosen is None else chosen
    with object_registration.custom_object_scope(custom_objects), safe_mode_scope(safe_mode):
        return _deserialize(config)


def _deserialize(config):
    if config is None or isinstance(config, (int, float, bool)):
        return config
    if isinstance(config, str):
        found = object_registration.get_registered_object(config)
        if found is not None:
            return found
        if config in activations.ALL_ACTIVATIONS:
            return activations.get(config)
        return config
    if isinstance(config, list):
        return [_deserialize(item) for item in config]
    if isinstance(config, dict) and ("class_name" not in config or "config" not in config):
        # a plain dict: its values deserialized, as Keras's `deserialize_keras_object` does
        return {key: _deserialize(value) for key, value in config.items()}
    if not isinstance(config, dict):
        raise ValueError(f"Could not deserialize {config!r}: expected a serialized Keras object")
    class_name, inner = config["class_name"], config.get("config")
    plain = _plain_python_back(class_name, inner)
    if plain is not _NOT_PLAIN:
        return plain
    if class_name == "__lambda__":
        return _lambda_back(inner)
    if class_name == "__typespec__":  # a TensorFlow TypeSpec, as Keras checks it first
        if not isinstance(inner, (list, tuple)):
            raise TypeError(
                "Expected 'config' to be a list or a tuple for a __typespec__ class name, "
                f"instead got {type(inner)}. Full config: {config}"
            )
        raise ValueError(f"TensorFlow TypeSpecs cannot be deserialized by minikeras: {config}")
    if class_name == "function" and not isinstance(inner, str):
        raise TypeError(
            "Expected 'config' to be a non-null str for a function class name, instead got "
            f"{type(inner)}. Full config: {config}"
        )
    if class_name != "function" and inner is not None and not isinstance(inner, dict):
        raise TypeError(
            f"Expected 'config' to be a dict for {class_name}, instead got {type(inner)}. "
            f"Full config: {config}"
        )
    if class_name == "function":
        found = object_registration.get_registered_object(inner)
        if found is None and ">" not in inner:
            # Keras 3.6 wrote a registered function by its bare name: the one registered
            # under any package with that name
            found = next(
                (
                    fn
                    for key, fn in object_registration.registered_objects().items()
                    if key.endswith(f">{inner}")
                ),
                None,
            )
        if found is not None:
            return found
        if inner in activations.ALL_ACTIVATIONS:
            found = activations.get(inner)
        if found is None and not inner.startswith("_"):
            found = getattr(losses_module, inner, None) or getattr(metrics_module, inner, None)
        if not callable(found):
            raise ValueError(f"Could not locate function {inner!r}: register it first")
        _no_registered_name_for_builtin(config, inner)
        return found
    shared = object_registration.shared_object(config)  # one made already (ObjectSharingScope)
    if shared is not None:
        return shared
    custom = object_registration.find_custom(config)
    if custom is not None:
        made = custom.from_config(inner)
        object_registration.record_deserialized(made, config)
        return made
    _no_registered_name_for_builtin(config, class_name)
    if class_name in ("Sequential", "Functional", "Model"):
        from minikeras.saving import serialization

        return serialization.deserialize_model(config)
    module = str(config.get("module") or "")
    # a module other than the layers' decides first: the initializer "Identity" is not the layer
    if class_name in layer_serialization.builtin_layer_classes() and module not in _GETTERS:
        return layer_serialization.deserialize(config)
    getter = {
        "keras.losses": losses_module.get,
        "keras.metrics": metrics_module.get,
        "keras.optimizers": optimizers_module.get,
        "keras.regularizers": regularizers.deserialize,
        "keras.initializers": initializers.get,
        "keras.constraints": constraints.deserialize,
        "keras.optimizers.schedules": schedules.deserialize,
        "keras.random": lambda config: SeedGenerator.from_config(config["config"]),
    }.get(module)
    if getter is not None:
        return getter(config)
    raise TypeError(  # Keras's type, and its message ends with the config, as here
        f"Could not locate class {class_name!r}. Make sure custom classes are decorated with "
        "`@minikeras.saving.register_keras_serializable()` or given in `custom_objects`. "
        f"Full object config: {config}"
    )
