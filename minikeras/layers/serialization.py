"""A layer as Keras 3 writes it in a model's config, and back (`keras.layers.serialize`).

    {"module": "keras.layers", "class_name": "Dense", "config": {...},
     "registered_name": None, "build_config": {"input_shape": [None, 4]}}

Reading never imports or runs anything named in the config: the class comes from minikeras's own
table of layers, and every activation from minikeras's table of activations.

>>> from minikeras import layers
>>> entry = layers.serialize(layers.Dense(3, activation="relu"))
>>> entry["class_name"], entry["config"]["activation"]
('Dense', 'relu')
>>> layers.deserialize(entry).units
3
"""

from minikeras import activations
from minikeras.layers.activation import Activation
from minikeras.layers.conv import Conv1D, Conv2D
from minikeras.layers.conv_transpose import Conv2DTranspose
from minikeras.layers.dense import Dense
from minikeras.layers.dropout import Dropout
from minikeras.layers.flatten import Flatten
from minikeras.layers.global_pooling import GLOBAL_POOLING_LAYERS
from minikeras.layers.input_layer import InputLayer
from minikeras.layers.merging import MERGE_LAYERS
from minikeras.layers.pooling import POOLING_LAYERS

LAYER_CLASSES = {
    cls.__name__: cls for cls in (Activation, Dense, Dropout, Flatten, InputLayer) + MERGE_LAYERS
}
LAYER_CLASSES.update(
    {
        cls.__name__: cls
        for cls in (Conv1D, Conv2D, Conv2DTranspose) + POOLING_LAYERS + GLOBAL_POOLING_LAYERS
    }
)


def serialize(layer):
    """Keras's `serialize_keras_object(layer)`: module, class name, config, build_config."""
    entry = {
        "module": "keras.layers",
        "class_name": type(layer).__name__,
        "config": layer.get_config(),
        "registered_name": None,
    }
    build_config = layer.get_build_config()
    if build_config is not None:
        entry["build_config"] = build_config
    return entry


def deserialize(entry):
    """A new layer from Keras's serialized form (or Keras 2's {"class_name", "config"}).

    ValueError names the class when minikeras has no such layer (e.g. Conv2D);
    NotImplementedError names the option when a supported layer uses one minikeras lacks.
    """
    if not isinstance(entry, dict) or not isinstance(entry.get("config"), dict):
        raise ValueError(f"A layer entry must be a dict with a 'config' dict; received {entry!r}")
    class_name = entry.get("class_name")
    cls = LAYER_CLASSES.get(class_name)
    if cls is None:
        raise ValueError(
            f"Layer class {class_name!r} is not supported by minikeras (it has "
            f"{', '.join(sorted(LAYER_CLASSES))})."
        )
    config = dict(entry["config"])
    if "activation" in config:
        config["activation"] = _activation_name(config["activation"], config.get("name"))
    if cls is Flatten and config.get("data_format") == "channels_first":
        raise NotImplementedError("Flatten(data_format='channels_first') is not supported")
    layer = cls.from_config(config)
    layer.build_from_config(entry.get("build_config"))
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
    shown = value.get("class_name") if isinstance(value, dict) else value
    raise ValueError(
        f"Layer {layer_name!r}: activation {shown!r} is not a built-in activation minikeras "
        f"knows ({', '.join(sorted(activations.ALL_ACTIVATIONS))}); custom functions and "
        "lambdas are never loaded from a file."
    )
