"""Hinge metrics: running means of the per-sample hinge losses (labels -1/1, or 0/1 turned into
-1/1 when every label of the batch is 0 or 1)."""

import numpy as np

from minikeras import config
from minikeras.metrics.reduction_metrics import MeanMetricWrapper


def _floats(y_true, y_pred):
    y_pred = np.asarray(y_pred)
    if y_pred.dtype.kind != "f":
        y_pred = y_pred.astype(config.floatx())
    return np.asarray(y_true).astype(y_pred.dtype, copy=False), y_pred


def convert_binary_labels_to_hinge(y_true):
    """2y − 1 when every label is 0 or 1; the labels unchanged otherwise (as Keras decides,
    batch by batch)."""
    if np.all((y_true == 0) | (y_true == 1)):
        return 2 * y_true - 1
    return y_true


def hinge(y_true, y_pred):
    """mean(max(1 − y·p, 0)) over the last axis."""
    y_true, y_pred = _floats(y_true, y_pred)
    y_true = convert_binary_labels_to_hinge(y_true)
    return np.mean(np.maximum(1 - y_true * y_pred, 0), axis=-1)


def squared_hinge(y_true, y_pred):
    """mean(max(1 − y·p, 0)²) over the last axis."""
    y_true, y_pred = _floats(y_true, y_pred)
    y_true = convert_binary_labels_to_hinge(y_true)
    return np.mean(np.square(np.maximum(1 - y_true * y_pred, 0)), axis=-1)


def categorical_hinge(y_true, y_pred):
    """max(max((1 − y)·p) − Σ y·p + 1, 0): the best wrong score against the right one."""
    y_true, y_pred = _floats(y_true, y_pred)
    pos = np.sum(y_true * y_pred, axis=-1)
    neg = np.max((1 - y_true) * y_pred, axis=-1)
    return np.maximum(neg - pos + 1, 0)


class Hinge(MeanMetricWrapper):
    """The mean hinge loss."""

    _direction = "down"

    def __init__(self, name="hinge", dtype=None):
        super().__init__(fn=hinge, name=name, dtype=dtype)

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}


class SquaredHinge(MeanMetricWrapper):
    """The mean squared hinge loss."""

    _direction = "down"

    def __init__(self, name="squared_hinge", dtype=None):
        super().__init__(fn=squared_hinge, name=name, dtype=dtype)

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}


class CategoricalHinge(MeanMetricWrapper):
    """The mean categorical hinge loss."""

    _direction = "down"

    def __init__(self, name="categorical_hinge", dtype=None):
        super().__init__(fn=categorical_hinge, name=name, dtype=dtype)

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}
