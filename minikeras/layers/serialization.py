"""A layer as Keras 3 writes it in a model's config, and back (`keras.layers.serialize`).

    {"module": "keras.layers", "class_name": "Dense", "config": {...},
     "registered_name": None, "build_config": {"input_shape": [None, 4]}}

Reading never imports or runs anything named in the config: the class comes from minikeras's own
layers, or from the classes you registered (`minikeras.saving.register_keras_serializable`,
`custom_objects`, `custom_object_scope`); every activation from minikeras's table of activations
or from your registered functions.

>>> from minikeras import layers
>>> entry = layers.serialize(layers.Dense(3, activation="relu"))
>>> entry["class_name"], entry["config"]["activation"]
('Dense', 'relu')
>>> layers.deserialize(entry).units
3
"""

from minikeras import activations
from minikeras.layers.layer import Layer
from minikeras.utils import object_registration


def builtin_layer_classes():
    """Every layer class minikeras defines, by class name: each Layer subclass written in a
    minikeras module. A new layer's registration is its import in minikeras/layers/__init__.py."""
    found, todo = {}, [Layer]
    while todo:
        for cls in todo.pop().__subclasses__():
            if cls.__module__.startswith("minikeras.") and not cls.__name__.startswith("_"):
                found[cls.__name__] = cls
                found[keras_class_name(cls)] = cls
            todo.append(cls)
    return found


def keras_class_name(cls):
    """The name Keras writes a layer class under: its own, or the one it is exported as where
    they differ (`GroupedQueryAttention` is saved as `GroupQueryAttention`)."""
    return cls.__dict__.get("keras_class_name", cls.__name__)


def serialize(layer):
    """Keras's `serialize_keras_object(layer)`: module, class name, config, build_config."""
    cls = type(layer)
    builtin = cls.__module__.startswith("minikeras.")
    config = layer.get_config()
    if not builtin:  # a layer of yours may put layers, regularizers... in its config
        config = serialize_nested(config)
    entry = {
        "module": cls.keras_module if builtin else cls.__module__,
        "class_name": keras_class_name(cls),
        "config": config,
        "registered_name": cls.keras_registered_name
        if builtin
        else object_registration.get_registered_name(cls),
    }
    build_config = layer.get_build_config()
    if build_config is not None:
        entry["build_config"] = build_config
    object_registration.record_serialized(layer, entry)
    return entry


def serialize_nested(config):
    """The config with every object in it (a layer, a regularizer, an initializer...) in its
    serialized form, as Keras's `serialize_dict` writes a custom layer's config: the file stays
    JSON, and `from_config` receives dicts it can `deserialize`."""
    from minikeras.saving.keras_objects import serialize_keras_object

    def plain(value):
        if value is None or isinstance(value, (str, int, float, bool)):
            return value
        if isinstance(value, (list, tuple)):
            return [plain(item) for item in value]
        if isinstance(value, dict):
            return {key: plain(item) for key, item in value.items()}
        if isinstance(value, Layer) or hasattr(value, "get_config"):
            return serialize_keras_object(value)
        return value

    return {key: plain(value) for key, value in config.items()}


def deserialize(entry):
    """A new layer from Keras's serialized form (or Keras 2's {"class_name", "config"}).

    ValueError names the class when minikeras has no such layer (e.g. Conv2D);
    NotImplementedError names the option when a supported layer uses one minikeras lacks.
    """
    if not isinstance(entry, dict) or not isinstance(entry.get("config"), dict):
        raise ValueError(  # Keras's words, and what the entry must be
            "Expected a dictionary containing a 'config' key. A layer entry must be a dict "
            f"with a 'config' dict; received {entry!r}"
        )
    shared = object_registration.shared_object(entry)  # one made already (ObjectSharingScope)
    if shared is not None:
        return shared
    class_name = entry.get("class_name")
    config = dict(entry["config"])
    cls = object_registration.find_custom(entry)
    if cls is None:
        classes = builtin_layer_classes()
        cls = classes.get(class_name)
        if cls is None:
            raise ValueError(
                f"Layer class {class_name!r} is not supported by minikeras (it has "
                f"{', '.join(sorted(classes))}); a class of your own must be registered: "
                "`minikeras.saving.register_keras_serializable`, or `custom_objects=`."
            )
        if "activation" in config:
            config["activation"] = _activation_name(config["activation"], config.get("name"))
    layer = cls.from_config(config)
    layer.build_from_config(entry.get("build_config"))
    object_registration.record_deserialized(layer, entry)
    return layer


def _activation_name(value, layer_name):
    """A built-in activation's name from a config value: "relu", or Keras's serialized function
    {"module": "builtins", "class_name": "function", "config": "relu", ...}. Anything else (a
    lambda, a custom function) is refused: loading must never run code from a file."""
    if value is None:
        return "linear"
    if isinstance(value, dict) and value.get("class_name") == "function":
        value = value.get("config")
    if isinstance(value, str) and value in activations.ALL_ACTIVATIONS:
        return value
    custom = object_registration.find_custom(value) if isinstance(value, dict) else None
    if custom is None and isinstance(value, str):
        custom = object_registration.get_registered_object(value)
    if custom is not None:
        return custom
    shown = value.get("class_name") if isinstance(value, dict) else value
    raise ValueError(
        f"Layer {layer_name!r}: activation {shown!r} is not a built-in activation minikeras "
        f"knows ({', '.join(sorted(activations.ALL_ACTIVATIONS))}); custom functions and "
        "lambdas are never loaded from a file."
    )
