"""Keras's `keras.src.saving.saving_lib` names over minikeras's files (files.py does the work):
the members of a `.keras` zip, and whole-model and weights-only saving and loading."""

from minikeras.saving import files

_CONFIG_FILENAME = files.CONFIG_NAME  # "config.json"
_METADATA_FILENAME = files.METADATA_NAME  # "metadata.json"
_VARS_FNAME_H5 = files.WEIGHTS_NAME  # "model.weights.h5"
_VARS_FNAME = _VARS_FNAME_H5.removesuffix(".h5")


def save_model(model, filepath, weights_format="h5", zipped=True):
    """The model to a `.keras` zip (Keras's `saving_lib.save_model`); weights in h5 only."""
    if weights_format != "h5":
        raise NotImplementedError(
            f"weights_format={weights_format!r} is not supported by minikeras: it writes h5"
        )
    files.save_model(model, filepath, zipped=zipped)


def load_model(filepath, custom_objects=None, compile=True, safe_mode=True):
    return files.load_model(filepath, custom_objects, compile, safe_mode)


def save_weights_only(model, filepath, max_shard_size=None, objects_to_skip=None):
    """The weights (and optimizer state) to a `.weights.h5` file."""
    _no_objects_to_skip(objects_to_skip)
    files.save_weights(model, filepath, max_shard_size=max_shard_size)


def load_weights_only(model, filepath, skip_mismatch=False, objects_to_skip=None):
    """The weights of a `.weights.h5` or `.keras` file into the model."""
    _no_objects_to_skip(objects_to_skip)
    files.load_weights(model, filepath, skip_mismatch=skip_mismatch)


def _no_objects_to_skip(objects_to_skip):
    if objects_to_skip is not None:
        raise NotImplementedError("objects_to_skip is not supported by minikeras")
