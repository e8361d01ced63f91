"""Keras's `data_adapter_utils.class_weight_to_sample_weights`, under its module name (the
rule itself is `models/inputs.py`'s, which `fit` uses)."""

from minikeras import config
from minikeras.models import inputs


def class_weight_to_sample_weights(y, class_weight):
    """Each sample's weight is its class's (the argmax of a one-hot row); a class
    `class_weight` does not name weighs 1. In floatx, as Keras's."""
    return inputs.class_weights_to_sample_weights(y, class_weight, config.floatx())
