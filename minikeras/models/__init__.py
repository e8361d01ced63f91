"""Models: `Model` (the base) and `Sequential`; `load_model` and `model_from_json` read Keras's
files and JSON (their code lives in `minikeras.saving`, imported when first used)."""

from minikeras.models.cloning import clone_model
from minikeras.models.functional import Functional
from minikeras.models.model import Model
from minikeras.models.sequential import Sequential


def load_model(filepath, custom_objects=None, compile=True, safe_mode=True):
    """A model from a `.keras` file written by Keras 3 or minikeras (see `minikeras.saving`)."""
    from minikeras import saving

    return saving.load_model(filepath, custom_objects, compile, safe_mode)


def save_model(model, filepath, overwrite=True, zipped=None, **kwargs):
    """Write `model` to a `.keras` file (`minikeras.saving.save_model`, as Keras's
    `keras.models.save_model`)."""
    from minikeras import saving

    saving.save_model(model, filepath, overwrite, zipped, **kwargs)


def model_from_json(json_string, custom_objects=None):
    """A model from `model.to_json()`'s text (Keras's or minikeras's), compiled when the JSON
    holds a compile config, as Keras's `model_from_json` does."""
    from minikeras import saving

    return saving.model_from_json(json_string, custom_objects)


__all__ = [
    "Functional",
    "Model",
    "Sequential",
    "clone_model",
    "load_model",
    "model_from_json",
    "save_model",
]
