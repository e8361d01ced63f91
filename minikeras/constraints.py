"""Constraints: a projection applied to a weight right after each optimizer update.

A layer given `kernel_constraint=MaxNorm(2)` has its kernel replaced by `constraint(kernel)`
after every step; no gradient flows through a constraint. The norms are taken along `axis`,
0 by default: for a Dense kernel (inputs, units) that is each unit's vector of incoming weights.

>>> import numpy as np
>>> from minikeras import constraints
>>> w = np.array([[3.0, 0.1], [4.0, 0.0]])
>>> constraints.MaxNorm(1.0)(w).round(4)      # column norms 5 and 0.1: the first is scaled to 1
array([[0.6, 0.1],
       [0.8, 0. ]])
"""

import numpy as np

from minikeras import config
from minikeras.utils import identifiers


def _norms(w, axis):
    """|w| along `axis` (an int or a list of ints, as Keras takes), kept as a size-1 axis."""
    axis = tuple(axis) if isinstance(axis, list) else axis
    return np.sqrt(np.sum(np.square(w), axis=axis, keepdims=True))


class Constraint:
    """Base class: `__call__(w)` returns the projected weights (here: unchanged)."""

    def __call__(self, w):
        return w

    def get_config(self):
        return {}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


class MaxNorm(Constraint):
    """w·min(|w|, max_value)/(ε + |w|): vectors longer than max_value are scaled down to it
    (ε = 1e-7 keeps a zero vector at zero, and makes every vector a hair shorter, as Keras)."""

    def __init__(self, max_value=2, axis=0):
        self.max_value = max_value
        self.axis = axis

    def __call__(self, w):
        w = np.asarray(w)
        norms = _norms(w, self.axis)
        desired = np.clip(norms, 0, self.max_value)
        return w * (desired / (config.epsilon() + norms))

    def get_config(self):
        return {"max_value": self.max_value, "axis": self.axis}


class NonNeg(Constraint):
    """max(w, 0): negative weights become 0."""

    def __call__(self, w):
        return np.maximum(np.asarray(w), 0)


class UnitNorm(Constraint):
    """w/(ε + |w|): every vector along `axis` scaled to (just under) unit length."""

    def __init__(self, axis=0):
        self.axis = axis

    def __call__(self, w):
        w = np.asarray(w)
        return w / (config.epsilon() + _norms(w, self.axis))

    def get_config(self):
        return {"axis": self.axis}


class MinMaxNorm(Constraint):
    """w·d/(ε + |w|) with d = rate·clip(|w|, min_value, max_value) + (1 − rate)·|w|: norms are
    moved into [min_value, max_value], all the way when rate = 1, part of the way below."""

    def __init__(self, min_value=0.0, max_value=1.0, rate=1.0, axis=0):
        self.min_value = min_value
        self.max_value = max_value
        self.rate = rate
        self.axis = axis

    def __call__(self, w):
        w = np.asarray(w)
        norms = _norms(w, self.axis)
        desired = (
            self.rate * np.clip(norms, self.min_value, self.max_value) + (1 - self.rate) * norms
        )
        return w * (desired / (config.epsilon() + norms))

    def get_config(self):
        return {
            "min_value": self.min_value,
            "max_value": self.max_value,
            "rate": self.rate,
            "axis": self.axis,
        }


# Keras's lower-case spellings of the classes
max_norm = MaxNorm
non_neg = NonNeg
unit_norm = UnitNorm
min_max_norm = MinMaxNorm

# The names `keras.constraints.get` understands: the class names and their snake_case
ALL_OBJECTS = {
    "Constraint": Constraint,
    "MaxNorm": MaxNorm,
    "MinMaxNorm": MinMaxNorm,
    "NonNeg": NonNeg,
    "UnitNorm": UnitNorm,
    "constraint": Constraint,
    "max_norm": MaxNorm,
    "min_max_norm": MinMaxNorm,
    "non_neg": NonNeg,
    "unit_norm": UnitNorm,
}


def serialize(constraint):
    return identifiers.serialize(constraint, "keras.constraints")


def deserialize(config, custom_objects=None):
    """A constraint from `serialize`'s dict or a name."""
    return identifiers.deserialize(config, ALL_OBJECTS, "constraint", custom_objects)


def get(identifier):
    """None, a name ('max_norm'), a config dict, a class, an instance or any callable."""
    return identifiers.get(identifier, ALL_OBJECTS, "constraint")
