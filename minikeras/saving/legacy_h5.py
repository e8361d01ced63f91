"""Keras 2's `.h5` files, the format of `model.save("model.h5")` in Keras 2 and 3 and of Keras's
pretrained ImageNet weights: written and read as keras/src/legacy/saving/legacy_h5_format.py
does.

    attributes  keras_version, backend, model_config (JSON: {"class_name", "config"}),
                training_config (JSON: compile()'s arguments, the optimizer as "optimizer_config")
    model_weights/               attribute layer_names: every layer, in the model's order
        <layer name>/            attribute weight_names: the layer's weight paths, in the legacy
            <weight path>        order (trainable weights, then non-trainable ones)
        top_level_model_weights/ the model's own weights (not its layers')
    optimizer_weights/           attribute weight_names: optimizer.variables' paths, in order
        <variable path>

Weights load by order, not by name (as Keras's `load_weights_from_hdf5_group`): the i-th saved
layer that has weights goes to the i-th layer of the model that has weights. Everything is
checked before anything is copied, so a mismatched file leaves the model unchanged. A save goes
to a temporary file renamed onto the target once complete.
"""

import json
import os
import warnings

import numpy as np

from minikeras.legacy.saving import json_utils
from minikeras.saving.h5_state import BadFileError, import_h5py

# HDF5 keeps an object's attributes in its header, which holds at most this many bytes: a longer
# list (the layer names of a large model) is split into `name0`, `name1`, ... (Keras's limit)
HDF5_OBJECT_HEADER_LIMIT = 64512


# ---------------------------------------------------------------------- attributes
def save_attributes(group, name, data):
    """A list of byte strings as the attribute `name` of `group`, split into chunks named
    `name0`, `name1`, ... when it does not fit in one object header (Keras's layout)."""
    too_long = [x for x in data if len(x) > HDF5_OBJECT_HEADER_LIMIT]
    if too_long:
        raise RuntimeError(
            "The following attributes cannot be saved to HDF5 file because they are larger "
            f"than {HDF5_OBJECT_HEADER_LIMIT} bytes: {too_long}"
        )
    array = np.asarray(data)
    chunks = 1
    while any(c.nbytes > HDF5_OBJECT_HEADER_LIMIT for c in np.array_split(array, chunks)):
        chunks += 1
    if chunks == 1:
        group.attrs[name] = data
        return
    for k, chunk in enumerate(np.array_split(array, chunks)):
        group.attrs[f"{name}{k}"] = chunk


def load_attributes(group, name):
    """The string list `save_attributes` wrote (whole, or in chunks `name0`, `name1`, ...)."""
    if name in group.attrs:
        values = list(group.attrs[name])
    else:
        values, chunk = [], 0
        while f"{name}{chunk}" in group.attrs:
            values.extend(group.attrs[f"{name}{chunk}"])
            chunk += 1
    return [v.decode("utf8") if hasattr(v, "decode") else str(v) for v in values]


def _text_attribute(h5, name):
    value = h5.attrs.get(name)
    return value.decode("utf8") if hasattr(value, "decode") else value


# ---------------------------------------------------------------------- safe reading
def get_group(parent, name):
    """The group `name` (a path) of `parent`; links are refused with ValueError, as Keras's
    `safe_get_h5_group` (a file must not make the loader read another file or another place)."""
    h5py = import_h5py()
    current = parent
    for part in name.split("/"):
        if not part:
            raise ValueError(f"Invalid path in H5 file: {name}")
        if part not in current:
            raise KeyError(name)
        link = current.get(part, getclass=True, getlink=True)
        if link in (h5py.ExternalLink, h5py.SoftLink):
            raise ValueError(f"Not allowed: H5 file with {link.__name__}")
        current = current[part]
        if not isinstance(current, h5py.Group):
            raise ValueError(f"Invalid H5 file, expected Group, received {type(current)}")
    return current


def _read_arrays(group):
    """The arrays a group lists in `weight_names`, in that order (each checked for links,
    external and virtual data, and shape bombs by saving_lib.safe_get_h5_dataset)."""
    from minikeras.saving.saving_lib import safe_get_h5_dataset

    return [
        np.asarray(safe_get_h5_dataset(group, n)) for n in load_attributes(group, "weight_names")
    ]


# ---------------------------------------------------------------------- weights
def _legacy_weights(layer):
    """Keras 2's order: a layer's trainable weights, then its non-trainable ones."""
    return layer.trainable_weights + layer.non_trainable_weights


def _top_level_weights(model):
    """The model's own weights, made by `add_weight` on the model itself, not by its layers."""
    return model._trainable_variables + model._non_trainable_variables


def _write_arrays(group, variables):
    names = [str(v.path).encode("utf8") for v in variables]
    save_attributes(group, "weight_names", names)
    for name, variable in zip(names, variables):
        value = np.asarray(variable)
        group.create_dataset(name, data=value, dtype=value.dtype)


def save_weights_to_group(group, model):
    """Every layer's weights under its name, the model's own under `top_level_model_weights`."""
    from minikeras.saving.files import KERAS_VERSION

    save_attributes(group, "layer_names", [layer.name.encode("utf8") for layer in model.layers])
    group.attrs["backend"] = b"numpy"
    group.attrs["keras_version"] = KERAS_VERSION.encode("utf8")
    # sorted by name, as Keras, so that no group name is created after one it is a prefix of
    for layer in sorted(model.layers, key=lambda layer: layer.name):
        _write_arrays(group.create_group(layer.name), _legacy_weights(layer))
    _write_arrays(group.create_group("top_level_model_weights"), _top_level_weights(model))


def _check_shapes(where, variables, values, skip_mismatch):
    """(variable, value) pairs to assign; a shape mismatch raises, or is skipped with a warning."""
    pairs = []
    for variable, value in zip(variables, values):
        if variable.shape != value.shape:
            message = (
                f"{where} for weight {variable.path}. Weight expects shape {variable.shape}. "
                f"Received saved weight with shape {value.shape}"
            )
            if skip_mismatch:
                warnings.warn(f"Skipping loading weights for {message}", stacklevel=4)
                continue
            raise ValueError(f"Shape mismatch in {message}")
        pairs.append((variable, value))
    return pairs


def _plan_by_order(group, model, skip_mismatch):
    layers = [layer for layer in model.layers if _legacy_weights(layer)]
    names = [name for name in load_attributes(group, "layer_names")]
    names = [name for name in names if load_attributes(get_group(group, name), "weight_names")]
    if len(names) != len(layers):
        raise ValueError(
            "Layer count mismatch when loading weights from file. Model expected "
            f"{len(layers)} layers, found {len(names)} saved layers."
        )
    pairs = []
    for k, (name, layer) in enumerate(zip(names, layers)):
        variables = _legacy_weights(layer)
        values = _read_arrays(get_group(group, name))
        if len(values) != len(variables):
            raise ValueError(
                f"Weight count mismatch for layer #{k} (named {layer.name} in the current "
                f"model, {name} in the save file). Layer expects {len(variables)} weight(s). "
                f"Received {len(values)} saved weight(s)"
            )
        where = f"layer #{k} (named {layer.name})"
        pairs += _check_shapes(where, variables, values, skip_mismatch)
    if "top_level_model_weights" in group:
        variables = _top_level_weights(model)
        values = _read_arrays(get_group(group, "top_level_model_weights"))
        if len(values) != len(variables):
            raise ValueError(
                "Weight count mismatch for top-level weights when loading weights from file. "
                f"Model expects {len(variables)} top-level weight(s). Received {len(values)} "
                "saved top-level weight(s)"
            )
        pairs += _check_shapes("top-level model", variables, values, skip_mismatch)
    return pairs


def _plan_by_name(group, model, skip_mismatch):
    """Keras's `by_name=True`: a saved layer goes to the model's layers of the same name; the
    others are left as they are."""
    by_name = {}
    for layer in model.layers:
        by_name.setdefault(layer.name, []).append(layer)
    pairs = []
    for k, name in enumerate(load_attributes(group, "layer_names")):
        values = _read_arrays(get_group(group, name))
        for layer in by_name.get(name, []):
            variables = _legacy_weights(layer)
            if len(values) != len(variables):
                message = (
                    f"layer #{k} (named {layer.name}). Layer expects {len(variables)} "
                    f"weight(s). Received {len(values)} saved weight(s)"
                )
                if skip_mismatch:
                    warnings.warn(
                        f"Skipping loading of weights for {message} due to mismatch in number "
                        "of weights.",
                        stacklevel=3,
                    )
                    continue
                raise ValueError(f"Weight count mismatch for {message}")
            where = f"layer #{k} (named {layer.name})"
            pairs += _check_shapes(where, variables, values, skip_mismatch)
    return pairs


def load_weights_from_group(group, model, skip_mismatch=False, by_name=False):
    """The weights of an open `model_weights` group (or a weights-only file) into `model`."""
    plan = _plan_by_name if by_name else _plan_by_order
    for variable, value in plan(group, model, skip_mismatch):
        variable[...] = value


def load_weights(model, filepath, skip_mismatch=False, by_name=False):
    """Copy the weights of a legacy `.h5`/`.hdf5` file into `model` (`model.load_weights`)."""
    h5py = import_h5py()
    with h5py.File(filepath, "r") as f:
        group = f
        if "layer_names" not in f.attrs and "model_weights" in f:
            group = get_group(f, "model_weights")
        load_weights_from_group(group, model, skip_mismatch=skip_mismatch, by_name=by_name)


# ---------------------------------------------------------------------- whole models
def _model_config(model):
    """{"class_name", "config"}: Keras's legacy model_config, the model's own config."""
    from minikeras.saving import serialization

    return _legacy_entry(serialization.serialize_model(model))


def _legacy_entry(entry):
    """A layer or model entry as Keras's legacy serialization writes it: `class_name` (the
    registered name of a class of yours, "package>Name") and `config`, plus a functional
    model's `name` and `inbound_nodes`; no `module`, `registered_name` or `build_config`.
    The objects inside a layer's config (initializers, ...) keep Keras 3's form, as Keras's."""
    out = {"class_name": entry.get("registered_name") or entry["class_name"]}
    config = dict(entry["config"])
    if isinstance(config.get("layers"), list):  # a model: its layers in the same form
        config["layers"] = [_legacy_entry(layer) for layer in config["layers"]]
    out["config"] = config
    for key in ("name", "inbound_nodes"):
        if key in entry:
            out[key] = entry[key]
    return out


def _to_json(value):
    """JSON text as Keras writes these attributes: tuples as lists, NumPy arrays as lists."""
    return json.dumps(value, default=json_utils.get_json_type).encode("utf8")


def _training_config(model):
    """compile()'s arguments as Keras's legacy `training_config`: the compile config with the
    optimizer as `optimizer_config` ({"class_name", "config"}); None when not compiled."""
    from minikeras.saving import serialization

    config = serialization.get_compile_config(model)
    if not config:
        return None
    optimizer = config.pop("optimizer")
    config["optimizer_config"] = {
        "class_name": optimizer["class_name"],
        "config": optimizer["config"],
    }
    return config


def save_model(model, filepath, overwrite=True, include_optimizer=True):
    """The model, its weights and (include_optimizer) compile arguments and optimizer state,
    as Keras's `save_model_to_hdf5` writes them; `keras.saving.load_model` opens the file."""
    from minikeras.saving import files

    h5py = import_h5py()
    filepath = os.fspath(filepath)
    files._check_overwrite(filepath, overwrite)
    directory = os.path.dirname(filepath)
    if directory:  # as Keras, the missing directories are made
        os.makedirs(directory, exist_ok=True)
    model_config = _to_json(_model_config(model))
    training_config = _training_config(model) if include_optimizer else None
    with files.atomic_write(filepath) as tmp, h5py.File(tmp, "w") as f:
        f.attrs["keras_version"] = files.KERAS_VERSION
        f.attrs["backend"] = "numpy"
        f.attrs["model_config"] = model_config
        if training_config is not None:
            f.attrs["training_config"] = _to_json(training_config)
        save_weights_to_group(f.create_group("model_weights"), model)
        optimizer = model.optimizer if include_optimizer else None
        if optimizer is not None and optimizer.built and optimizer.variables:
            _write_arrays(f.create_group("optimizer_weights"), optimizer.variables)


def load_model(filepath, custom_objects=None, compile=True, safe_mode=True):
    """A model from a legacy `.h5` file written by Keras 2, Keras 3 or minikeras; compiled as it
    was (with its optimizer state) when the file says how and `compile` is True."""
    from minikeras.saving import serialization
    from minikeras.utils import object_registration

    h5py = import_h5py()
    filepath = os.fspath(filepath) if not isinstance(filepath, h5py.File) else filepath
    if isinstance(filepath, str) and not os.path.exists(filepath):
        raise FileNotFoundError(f"No such file: {filepath}")
    try:
        f = filepath if isinstance(filepath, h5py.File) else h5py.File(filepath, "r")
    except OSError as error:
        raise BadFileError(f"Cannot load {filepath}: not a valid HDF5 file ({error})") from None
    try:
        model_config = _text_attribute(f, "model_config")
        if model_config is None:
            raise ValueError(f"No model config found in the file at {filepath}.")
        model_config = _from_keras_2(json_utils.decode(model_config))
        with (
            object_registration.custom_object_scope(custom_objects),
            object_registration.safe_mode_scope(safe_mode),
        ):
            model = serialization.deserialize_model(model_config, compile=False)
            load_weights_from_group(get_group(f, "model_weights"), model)
            training_config = _text_attribute(f, "training_config")
            if compile and training_config is not None:
                _compile(model, json_utils.decode(training_config))
                if "optimizer_weights" in f:
                    _load_optimizer_state(f, model)
    finally:
        if not isinstance(filepath, h5py.File):
            f.close()
    return model


def _from_keras_2(entry):
    """Keras 2's spellings in a layer entry (and the layers inside it) as Keras 3 reads them
    (keras/src/legacy/saving/saving_utils.py `model_from_config`): `axis: [1]` is `axis: 1`, and
    a Lambda's function [code, defaults, closure] is a `__lambda__` entry."""
    if isinstance(entry, list):
        return [_from_keras_2(item) for item in entry]
    if not isinstance(entry, dict) or not isinstance(entry.get("config"), dict):
        return entry
    config = dict(entry["config"])
    axis = config.get("axis")
    if isinstance(axis, (list, tuple)) and len(axis) == 1:
        config["axis"] = int(axis[0])
    if entry.get("class_name") == "Lambda" and isinstance(config.get("function"), list):
        for old in ("module", "function_type", "output_shape_type", "output_shape_module"):
            config.pop(old, None)
        code, defaults, closure = config["function"][:3]
        config["function"] = {
            "class_name": "__lambda__",
            "config": {"code": code, "defaults": defaults, "closure": closure},
        }
    for key in ("layers", "layer", "backward_layer"):
        if key in config:
            config[key] = _from_keras_2(config[key])
    return {**entry, "config": config}


def _compile(model, training_config):
    from minikeras.saving import serialization

    config = dict(training_config)
    optimizer = config.pop("optimizer_config")
    serialization.compile_from_config(model, {"optimizer": optimizer, **config})


def _load_optimizer_state(f, model):
    """The file's optimizer variables into the (built) optimizer, by order; a state that does
    not fit is skipped with Keras's warning, leaving a freshly initialized optimizer."""
    values = _read_arrays(get_group(f, "optimizer_weights"))
    try:
        if len(values) != len(model.optimizer.variables):
            raise ValueError("count")
        model.optimizer.set_weights(values)
    except ValueError:
        warnings.warn(
            "Error in loading the saved optimizer state. As a result, your model is starting "
            "with a freshly initialized optimizer.",
            stacklevel=3,
        )
