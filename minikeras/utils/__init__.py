"""Utilities with Keras's names."""

from minikeras.config import (
    disable_interactive_logging,
    enable_interactive_logging,
    is_interactive_logging_enabled,
)
from minikeras.utils import np_utils
from minikeras.utils.audio_dataset_utils import audio_dataset_from_directory
from minikeras.utils.data_utils import normalize, pack_x_y_sample_weight
from minikeras.utils.file_utils import get_file
from minikeras.utils.image_dataset_utils import image_dataset_from_directory
from minikeras.utils.image_utils import array_to_img, img_to_array, load_img, save_img
from minikeras.utils.model_visualization import plot_model
from minikeras.utils.naming import clear_session
from minikeras.utils.numerical_utils import to_categorical
from minikeras.utils.object_registration import CustomObjectScope as CustomObjectScope
from minikeras.utils.object_registration import custom_object_scope as custom_object_scope
from minikeras.utils.object_registration import get_custom_objects as get_custom_objects
from minikeras.utils.object_registration import get_registered_name as get_registered_name
from minikeras.utils.object_registration import get_registered_object as get_registered_object
from minikeras.utils.object_registration import (
    register_keras_serializable as register_keras_serializable,
)
from minikeras.utils.progbar import Progbar
from minikeras.utils.py_dataset import PyDataset, Sequence
from minikeras.utils.rng import set_random_seed
from minikeras.utils.sequence_utils import pad_sequences
from minikeras.utils.text_dataset_utils import text_dataset_from_directory
from minikeras.utils.timeseries_dataset import timeseries_dataset_from_array


def unpack_x_y_sample_weight(data):
    """(x, y, sample_weight) of a batch: `(x,)`, `(x, y)` or `(x, y, sample_weight)`."""
    from minikeras.models.model import unpack_x_y_sample_weight as unpack

    return unpack(data)


def serialize_keras_object(obj):
    """The dict Keras's files hold for `obj` (`minikeras.saving.serialize_keras_object`)."""
    from minikeras import saving

    return saving.serialize_keras_object(obj)


def deserialize_keras_object(config, custom_objects=None, safe_mode=True, **kwargs):
    """The object a `serialize_keras_object` dict describes."""
    from minikeras import saving

    return saving.deserialize_keras_object(config, custom_objects, safe_mode, **kwargs)


def is_keras_tensor(x):
    """Whether `x` is a symbolic tensor of a functional model."""
    from minikeras.backend import is_keras_tensor as check

    return check(x)


def get_source_inputs(tensor):
    """The Input tensors a symbolic `tensor` is computed from, each once, in the order the
    graph reaches them (Keras's `keras.utils.get_source_inputs`); anything not symbolic is
    returned as it is."""
    node = getattr(tensor, "node", None)
    if node is None:
        return [tensor] if is_keras_tensor(tensor) else tensor
    if node.is_input:
        return list(node.outputs)
    sources = []
    for parent in node.input_tensors:
        for source in get_source_inputs(parent):
            if all(source is not known for known in sources):
                sources.append(source)
    return sources


def standardize_dtype(dtype):
    """A dtype's Keras name ('float32', 'int64', ...); None is `floatx()`."""
    from minikeras.backend import standardize_dtype as standardize

    return standardize(dtype)


def plot_history(history, path=None, metrics=None):
    """Plot each metric of a `History` (or its dict) per epoch, training beside validation.

    Needs matplotlib (`pip install 'minikeras[plot]'`). Saves to `path` if given.
    """
    try:
        import matplotlib

        matplotlib.use("Agg", force=False)
        import matplotlib.pyplot as plt
    except ImportError as error:  # pragma: no cover - depends on the environment
        raise ImportError("plot_history needs matplotlib: pip install 'minikeras[plot]'") from error
    logs = getattr(history, "history", history)
    names = metrics or [k for k in logs if not k.startswith("val_")]
    fig, axes = plt.subplots(1, len(names), figsize=(4 * len(names), 3), squeeze=False)
    for ax, name in zip(axes[0], names):
        epochs = range(1, len(logs[name]) + 1)
        ax.plot(epochs, logs[name], label=name)
        if f"val_{name}" in logs:
            ax.plot(epochs, logs[f"val_{name}"], label=f"val_{name}")
        ax.set_xlabel("epoch")
        ax.set_title(name)
        ax.legend()
    fig.tight_layout()
    if path is not None:
        fig.savefig(path)
    return fig


__all__ = [
    "Progbar",
    "audio_dataset_from_directory",
    "array_to_img",
    "img_to_array",
    "load_img",
    "save_img",
    "PyDataset",
    "Sequence",
    "clear_session",
    "deserialize_keras_object",
    "get_file",
    "image_dataset_from_directory",
    "get_source_inputs",
    "disable_interactive_logging",
    "enable_interactive_logging",
    "is_interactive_logging_enabled",
    "is_keras_tensor",
    "normalize",
    "pack_x_y_sample_weight",
    "serialize_keras_object",
    "standardize_dtype",
    "unpack_x_y_sample_weight",
    "np_utils",
    "pad_sequences",
    "plot_history",
    "plot_model",
    "set_random_seed",
    "text_dataset_from_directory",
    "timeseries_dataset_from_array",
    "to_categorical",
]


def __getattr__(name):
    """`FeatureSpace` and `bounding_boxes`, which read the layers (and the layers import this
    package), are imported on first use."""
    if name == "FeatureSpace":
        from minikeras.layers.preprocessing.feature_space import FeatureSpace

        return FeatureSpace
    if name == "bounding_boxes":
        import importlib

        return importlib.import_module("minikeras.utils.bounding_boxes")
    raise AttributeError(f"module 'minikeras.utils' has no attribute {name!r}")
