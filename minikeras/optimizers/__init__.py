"""Optimizers, with Keras's names, defaults and update rules."""

from minikeras.optimizers.adam import Adam
from minikeras.optimizers.optimizer import Optimizer
from minikeras.optimizers.rmsprop import RMSprop
from minikeras.optimizers.sgd import SGD

ALL_OPTIMIZERS = {"sgd": SGD, "rmsprop": RMSprop, "adam": Adam}
_BY_CLASS_NAME = {cls.__name__: cls for cls in ALL_OPTIMIZERS.values()}


def get(identifier):
    """An Optimizer from a name ('rmsprop', 'adam', 'sgd'), a config dict, or an Optimizer.

    Unknown names raise Keras's ValueError ("Could not interpret optimizer identifier"),
    listing the valid names.
    """
    if isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, str):
        cls = ALL_OPTIMIZERS.get(identifier.lower()) or _BY_CLASS_NAME.get(identifier)
        if cls is not None:
            return cls()
    if isinstance(identifier, dict) and identifier.get("class_name") in _BY_CLASS_NAME:
        return _BY_CLASS_NAME[identifier["class_name"]].from_config(identifier.get("config", {}))
    raise ValueError(
        f"Could not interpret optimizer identifier: {identifier}. "
        f"Expected one of {sorted(ALL_OPTIMIZERS)} or an Optimizer instance."
    )


def serialize(optimizer):
    return {
        "module": "keras.optimizers",
        "class_name": type(optimizer).__name__,
        "config": optimizer.get_config(),
        "registered_name": None,
    }


__all__ = ["SGD", "Adam", "Optimizer", "RMSprop", "get", "serialize"]
