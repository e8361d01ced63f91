"""Optimizers, with Keras's names, defaults and update rules."""

from minikeras.optimizers import schedules
from minikeras.optimizers.adadelta import Adadelta
from minikeras.optimizers.adafactor import Adafactor
from minikeras.optimizers.adagrad import Adagrad
from minikeras.optimizers.adam import Adam
from minikeras.optimizers.adamax import Adamax
from minikeras.optimizers.adamw import AdamW
from minikeras.optimizers.ftrl import Ftrl
from minikeras.optimizers.lamb import Lamb
from minikeras.optimizers.lion import Lion
from minikeras.optimizers.loss_scale_optimizer import LossScaleOptimizer
from minikeras.optimizers.multi_optimizer import MultiOptimizer, OptimizerMap
from minikeras.optimizers.muon import Muon
from minikeras.optimizers.nadam import Nadam
from minikeras.optimizers.optimizer import Optimizer
from minikeras.optimizers.rmsprop import RMSprop
from minikeras.optimizers.schedule_free_adamw import ScheduleFreeAdamW
from minikeras.optimizers.sgd import SGD

# The names `get` resolves, any case, as Keras's: the class names lowercased. Keras leaves Lamb
# out of this table (`get("lamb")` fails there too); a serialized Lamb still loads.
ALL_OPTIMIZERS = {
    cls.__name__.lower(): cls
    for cls in (
        SGD,
        RMSprop,
        Adam,
        Adadelta,
        AdamW,
        Adagrad,
        Adamax,
        Adafactor,
        Nadam,
        Ftrl,
        Lion,
        ScheduleFreeAdamW,
        Muon,
    )
}
_BY_CLASS_NAME = {
    cls.__name__: cls
    for cls in (*ALL_OPTIMIZERS.values(), Lamb, LossScaleOptimizer, MultiOptimizer, OptimizerMap)
}


def get(identifier):
    """An Optimizer from a name ('rmsprop', 'adam', 'adamw', ...), a config dict, or an
    Optimizer.

    Unknown names raise Keras's ValueError ("Could not interpret optimizer identifier"),
    listing the valid names.
    """
    if identifier is None:  # as Keras: no optimizer (a model compiled only to evaluate)
        return None
    if isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, str):
        cls = ALL_OPTIMIZERS.get(identifier.lower())
        if cls is not None:
            return cls()
    if isinstance(identifier, dict):
        class_name = identifier.get("class_name")
        cls = _BY_CLASS_NAME.get(class_name) or ALL_OPTIMIZERS.get(str(class_name).lower())
        if cls is not None:
            return cls.from_config(identifier.get("config", {}))
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


def deserialize(config):
    """An Optimizer from its serialized form (`serialize`'s output)."""
    return get(config)


__all__ = [
    "SGD",
    "Adadelta",
    "Adafactor",
    "Adagrad",
    "Adam",
    "AdamW",
    "Adamax",
    "Ftrl",
    "Lamb",
    "Lion",
    "LossScaleOptimizer",
    "Muon",
    "MultiOptimizer",
    "Nadam",
    "Optimizer",
    "OptimizerMap",
    "RMSprop",
    "ScheduleFreeAdamW",
    "deserialize",
    "get",
    "schedules",
    "serialize",
]
