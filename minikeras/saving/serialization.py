"""A model as Keras 3 describes it in `config.json` and `to_json()`, and back.

    {"module": "keras", "class_name": "Sequential", "registered_name": None,
     "config": {"name", "trainable", "dtype", "layers": [...], "build_input_shape"},
     "build_config": {"input_shape": [None, 784]},
     "compile_config": {"optimizer": {...}, "loss": "categorical_crossentropy", "metrics": [...],
                        "loss_weights", "weighted_metrics", "run_eagerly",
                        "steps_per_execution", "jit_compile"}}

(keras/src/saving/serialization_lib.py `serialize_keras_object`; the model's part is
keras/src/models/sequential.py `get_config`; the compile part keras/src/trainers/trainer.py
`get_compile_config`: compile()'s arguments as given, with the optimizer serialized.)
Keras also writes a `shared_object_id` beside the DTypePolicy the model and its layers share;
that is optional for its reader, so minikeras leaves it out.

Reading is safe: JSON only, and every class or function named in a config is looked up in
minikeras's own tables (layers, losses, metrics, optimizers, activations); nothing is imported
or run, so a lambda or a custom object in a file is refused with a message naming it.
"""

import inspect
import json
import warnings

from minikeras import losses as losses_module
from minikeras import metrics as metrics_module
from minikeras import optimizers as optimizers_module
from minikeras.layers import serialization as layer_serialization
from minikeras.models.functional import Functional, serialize_layer
from minikeras.models.model import _FUNCTIONAL_SUBCLASSES, Model
from minikeras.models.sequential import Sequential
from minikeras.optimizers.schedules.learning_rate_schedule import ALL_SCHEDULES
from minikeras.utils import object_registration

MODEL_MODULES = ("keras", "keras.models", "keras.src.models.sequential", None)
FUNCTIONAL_MODULES = ("keras", "keras.models", "keras.src.models.functional", None)


def serialize_model(model):
    """The model's config.json: Keras's `serialize_keras_object(model)`. A functional model is
    written as Keras writes one: module keras.src.models.functional, registered_name
    "Functional", and a build_config whose input_shape is None (its Inputs say the shapes)."""
    if not isinstance(model, Model):  # a FeatureSpace (a layer saved on its own): no compile
        return layer_serialization.serialize(model)
    own_class = _own_class(model)
    if own_class is Functional:  # as it is written when nested, with its compile config
        return {**serialize_layer(model), "compile_config": get_compile_config(model)}
    if own_class is not Sequential:  # a model class of yours: its name and its config
        entry = {
            "module": own_class.__module__,
            "class_name": own_class.__name__,
            "config": model.get_config(),
            "registered_name": object_registration.get_registered_name(own_class),
        }
        build_config = model.get_build_config()
        if build_config is not None:
            entry["build_config"] = build_config
        entry["compile_config"] = get_compile_config(model)
        return entry
    entry = {
        "module": "keras",
        "class_name": "Sequential",
        "config": model.get_config(),
        "registered_name": None,
    }
    build_config = model.get_build_config()
    if build_config is not None:
        entry["build_config"] = build_config
    entry["compile_config"] = get_compile_config(model)
    return entry


def _own_class(model):
    """The model's class as its author wrote it: a subclass of Model built from (inputs,
    outputs) runs as a class with Functional among its bases (models/model.py
    `_with_functional`); its file names the author's class, as Keras's does."""
    cls = type(model)
    if cls in _FUNCTIONAL_SUBCLASSES.values():
        return cls.__mro__[1]
    return cls


def to_json(model, **kwargs):
    """`model.to_json()`: the config, as JSON text."""
    return json.dumps(serialize_model(model), **kwargs)


def deserialize_model(entry, compile=True):
    """A new model from its serialized config (Keras's or minikeras's), compiled when the config
    holds a compile_config (as Keras's `deserialize_keras_object` does) and `compile` is True.

    ValueError says what is wrong with the config; NotImplementedError names a feature that
    minikeras does not have (a layer class, an optimizer, a dtype policy...).
    """
    if not isinstance(entry, dict) or not isinstance(entry.get("config"), dict):
        raise ValueError("the model config must be a JSON object with a 'config' object")
    class_name = entry.get("class_name")
    config = entry["config"]
    if class_name in ("Functional", "Model") and entry.get("module") in FUNCTIONAL_MODULES:
        for key in ("layers", "input_layers", "output_layers"):
            if not isinstance(config.get(key), (list, dict)):
                raise ValueError(f"the Functional config has no {key!r} list")
        model = Functional.from_config(config)
    elif class_name == "FeatureSpace" and entry.get("module") == "keras.utils":
        from minikeras.layers.preprocessing.feature_space import FeatureSpace

        feature_space = FeatureSpace.from_config(config)
        feature_space.build_from_config(entry.get("build_config"))
        return feature_space
    elif class_name == "Sequential" and entry.get("module") in MODEL_MODULES:
        if not isinstance(config.get("layers"), list):
            raise ValueError("the Sequential config has no 'layers' list")
        model = Sequential.from_config(config)
    elif object_registration.find_custom(entry) is not None:
        # a model class of yours (registered, or in custom_objects): from its config, then
        # built from its build_config so that its weights exist to be loaded
        model = layer_serialization.deserialize(entry)
    else:
        raise ValueError(
            f"expected a Keras Sequential or Functional model, or a registered model class of "
            f"yours, found class {class_name!r} (module {entry.get('module')!r})"
        )
    build_config = entry.get("build_config")
    if not model.built and build_config and build_config.get("input_shape"):
        model.build(tuple(build_config["input_shape"]))
    compile_config = entry.get("compile_config")
    if compile and compile_config:
        compile_from_config(model, compile_config)
    return model


def model_from_json(json_string, custom_objects=None):
    """A model from `to_json()`'s text (Keras's or minikeras's); compiled if the JSON says how.
    Your own classes and functions are found in `custom_objects` or the registry."""
    try:
        entry = json.loads(json_string)
    except json.JSONDecodeError as error:
        raise ValueError(f"model_from_json: not valid JSON ({error})") from None
    with object_registration.custom_object_scope(custom_objects):
        return deserialize_model(entry)


# ---------------------------------------------------------------------- compile config
def get_compile_config(model):
    """compile()'s arguments as given, the optimizer serialized; {} when not compiled (as Keras).

    A custom loss or metric cannot be written so that a reader rebuilds it without running code:
    then the compile config is left out, with a warning (the weights are saved all the same).
    """
    if not model.compiled:
        return {}
    given = model._compile_config
    try:
        return {
            "optimizer": optimizers_module.serialize(model.optimizer),
            "loss": _serialize_loss(given["loss"]),
            "loss_weights": given["loss_weights"],
            "metrics": _serialize_metrics(given["metrics"]),
            "weighted_metrics": _serialize_metrics(given["weighted_metrics"]),
            "run_eagerly": given["run_eagerly"],
            "steps_per_execution": given["steps_per_execution"],
            # "auto" is kept as given (Keras stores what its backend resolved it to): the Keras
            # that loads the file then decides for its own backend and device
            "jit_compile": given["jit_compile"],
        }
    except _NotSerializable as error:
        warnings.warn(
            f"The model's compile config is not saved: {error}. Its architecture, weights and "
            "optimizer state are; call compile() again after loading.",
            stacklevel=3,
        )
        return {}


class _NotSerializable(Exception):
    pass


def _function_entry(name):
    # Keras's form for a built-in function (keras/src/saving/serialization_lib.py)
    return {
        "module": "builtins",
        "class_name": "function",
        "config": name,
        "registered_name": "function",
    }


def _serialize_loss(loss):
    """One loss, or (a functional model's) a list or dict of them, one per output."""
    if isinstance(loss, (list, tuple)):
        return [_serialize_loss(one) for one in loss]
    if isinstance(loss, dict):
        return {key: _serialize_loss(one) for key, one in loss.items()}
    if loss is None or isinstance(loss, str):
        return loss
    if isinstance(loss, type) and issubclass(loss, losses_module.Loss):
        loss = loss()
    if isinstance(loss, losses_module.Loss) and type(loss) in losses_module.ALL_LOSSES.values():
        return losses_module.serialize(loss)
    for name, fn in _LOSS_FUNCTIONS.items():
        if loss is fn:
            return _function_entry(name)
    registered = _registered_entry(loss)
    if registered is not None:
        return registered
    raise _NotSerializable(f"custom loss {loss!r}")


def _registered_entry(obj):
    """Keras's entry for a function or object of yours registered with
    `register_keras_serializable` (its name is then "package>name"), else None: a reader
    finds it by that name in its own registry, without running code from the file."""
    is_function = inspect.isfunction(obj)
    key = obj if is_function else type(obj)  # a class is registered, not its instances
    if key not in object_registration._GLOBAL_CUSTOM_NAMES:
        return None
    name = object_registration.get_registered_name(key)
    if is_function:
        return _function_entry(name)
    return {
        "module": None,
        "class_name": type(obj).__name__,
        "config": obj.get_config(),
        "registered_name": name,
    }


# every Keras loss function minikeras has, by its Keras name (`huber`, `log_cosh`, ...)
_LOSS_FUNCTIONS = {function.__name__: function for function in losses_module._BY_FUNCTION}


def _serialize_metrics(metrics):
    if isinstance(metrics, dict):  # per output, by name
        return {key: _serialize_metrics(one) for key, one in metrics.items()}
    if isinstance(metrics, (list, tuple)) and any(
        m is None or isinstance(m, (list, tuple, dict)) for m in metrics
    ):  # per output, in the outputs' order
        return [_serialize_metrics(one) for one in metrics]
    if metrics is None or isinstance(metrics, str):
        return metrics
    if not isinstance(metrics, (list, tuple)):
        return _serialize_metrics([metrics])[0]
    out = []
    for metric in metrics:
        if isinstance(metric, str):
            out.append(metric)
        elif type(metric) in metrics_module.ALL_METRICS.values():
            config = metric.get_config()
            config.update(getattr(metric, "fn_kwargs", {}))  # BinaryAccuracy's threshold
            out.append(
                {
                    "module": "keras.metrics",
                    "class_name": type(metric).__name__,
                    "config": config,
                    "registered_name": None,
                }
            )
        elif metric in metrics_module._BY_FUNCTION:  # a built-in function, e.g. binary_accuracy
            out.append(_function_entry(metric.__name__))
        elif _registered_entry(metric) is not None:
            out.append(_registered_entry(metric))
        else:
            raise _NotSerializable(f"custom metric {metric!r}")
    return out


def compile_from_config(model, config):
    """compile() with a file's compile_config, then build the optimizer's slots (as Keras's
    `compile_from_config` does), so that the file's optimizer state has somewhere to go."""
    if not isinstance(config, dict):
        raise ValueError("compile_config must be an object")
    owner = next(cls for cls in type(model).__mro__ if "compile" in cls.__dict__)
    if not owner.__module__.startswith("minikeras."):
        # a compile() of yours may take other arguments than the file recorded: Keras leaves
        # the model uncompiled and says so
        warnings.warn(
            "`compile()` was not called as part of model loading because the model's "
            "`compile()` method is custom. All subclassed Models that have `compile()` "
            "overridden should also override `get_compile_config()` and "
            "`compile_from_config(config)`. Alternatively, you can call `compile()` manually "
            "after loading.",
            stacklevel=2,
        )
        return
    kwargs = {
        key: config[key]
        for key in ("loss_weights", "run_eagerly", "steps_per_execution", "jit_compile")
        if key in config
    }
    model.compile(
        optimizer=_optimizer_from_config(config.get("optimizer", "rmsprop")),
        loss=_loss_from_config(config.get("loss")),
        metrics=_metrics_from_config(config.get("metrics")),
        weighted_metrics=_metrics_from_config(config.get("weighted_metrics")),
        **kwargs,
    )
    if model.built:
        model.optimizer.build(model.trainable_weights)


def _optimizer_from_config(entry):
    if isinstance(entry, str):
        return optimizers_module.get(entry)
    if not isinstance(entry, dict) or not isinstance(entry.get("config"), dict):
        raise ValueError(f"optimizer entry {entry!r} is not a serialized optimizer")
    class_name = entry.get("class_name")
    if class_name not in optimizers_module._BY_CLASS_NAME:
        raise NotImplementedError(
            f"optimizer {class_name!r} is not supported by minikeras "
            f"({', '.join(sorted(optimizers_module._BY_CLASS_NAME))})"
        )
    learning_rate = entry["config"].get("learning_rate", 0.0)
    if isinstance(learning_rate, dict) and learning_rate.get("class_name") not in ALL_SCHEDULES:
        raise NotImplementedError(
            f"learning-rate schedule {learning_rate.get('class_name')!r} is not one minikeras "
            f"has ({', '.join(sorted(ALL_SCHEDULES))})"
        )
    return optimizers_module.get(entry)


def _named_function(entry):
    """The name in Keras's serialized built-in function, else None."""
    if isinstance(entry, dict) and entry.get("class_name") == "function":
        name = entry.get("config")
        return name if isinstance(name, str) else None
    return None


def _loss_from_config(entry):
    if isinstance(entry, list):
        return [_loss_from_config(one) for one in entry]
    if isinstance(entry, dict) and "class_name" not in entry:  # by output name
        return {key: _loss_from_config(one) for key, one in entry.items()}
    if entry is None or isinstance(entry, str):
        return entry
    custom = _registered_object(entry)
    if custom is not None:
        return custom
    name = _named_function(entry)
    if name is not None:
        return name
    if isinstance(entry, dict) and entry.get("class_name") in losses_module._BY_CLASS_NAME:
        return losses_module.get(entry)
    shown = entry.get("class_name") if isinstance(entry, dict) else entry
    raise NotImplementedError(f"loss {shown!r} is not supported by minikeras")


def _metrics_from_config(entries):
    if entries is None:
        return None
    if isinstance(entries, dict) and "class_name" not in entries:  # by output name
        return {key: _metrics_from_config(one) for key, one in entries.items()}
    if isinstance(entries, list) and any(e is None or isinstance(e, list) for e in entries):
        return [_metrics_from_config(one) for one in entries]  # per output
    if not isinstance(entries, list):
        entries = [entries]
    out = []
    for entry in entries:
        custom = _registered_object(entry)
        if custom is not None:
            out.append(custom)
            continue
        name = entry if isinstance(entry, str) else _named_function(entry)
        if name is not None:
            out.append(name)
            continue
        class_name = entry.get("class_name") if isinstance(entry, dict) else None
        cls = metrics_module._BY_CLASS_NAME.get(class_name)
        if cls is None or not isinstance(entry.get("config"), dict):
            raise NotImplementedError(f"metric {class_name or entry!r} is not supported")
        out.append(cls(**entry["config"]))
    return out


def _registered_object(entry):
    """A loss or metric of yours a compile config names: a registered (or `custom_objects`)
    function, or an instance of a registered class made from its config; else None."""
    if not isinstance(entry, dict):
        return None
    if entry.get("class_name") == "function":
        name = entry.get("config")
        return object_registration.get_registered_object(name) if isinstance(name, str) else None
    cls = object_registration.find_custom(entry)
    if isinstance(cls, type) and isinstance(entry.get("config"), dict):
        return cls.from_config(entry["config"])
    return None
