"""Utilities with Keras's names."""

from minikeras.utils import np_utils
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
    "PyDataset",
    "Sequence",
    "clear_session",
    "np_utils",
    "plot_history",
    "set_random_seed",
    "to_categorical",
]
