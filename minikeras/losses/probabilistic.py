"""Kullback-Leibler divergence and the Poisson loss (the crossentropies have their own file)."""

import numpy as np

from minikeras import config
from minikeras.losses.loss import (
    Loss,
    _clip,
    _inside_clip,
    _mean_last_axis_scale,
)


class KLDivergence(Loss):
    """lossᵢ = Σⱼ ỹᵢⱼ·log(ỹᵢⱼ / p̃ᵢⱼ), with ỹ = clip(y, ε, 1) and p̃ = clip(p, ε, 1) as Keras.
    d lossᵢ / d pᵢⱼ = −ỹᵢⱼ / p̃ᵢⱼ where p is inside [ε, 1], else 0."""

    def __init__(self, reduction="sum_over_batch_size", name="kl_divergence", dtype=None):
        super().__init__(name, reduction, dtype)

    def call(self, y_true, y_pred):
        y = _clip(y_true, high=1)
        return np.sum(y * np.log(y / _clip(y_pred, high=1)), axis=-1)

    def gradient(self, y_true, y_pred):
        return -_clip(y_true, high=1) / _clip(y_pred, high=1) * _inside_clip(y_pred, high=1)


class Poisson(Loss):
    """lossᵢ = meanⱼ pᵢⱼ − yᵢⱼ·log(pᵢⱼ + ε)      d lossᵢ / d pᵢⱼ = (1 − yᵢⱼ/(pᵢⱼ + ε)) / C"""

    def __init__(self, reduction="sum_over_batch_size", name="poisson", dtype=None):
        super().__init__(name, reduction, dtype)

    def call(self, y_true, y_pred):
        eps = y_pred.dtype.type(config.epsilon())
        return np.mean(y_pred - y_true * np.log(y_pred + eps), axis=-1)

    def gradient(self, y_true, y_pred):
        eps = y_pred.dtype.type(config.epsilon())
        return (1 - y_true / (y_pred + eps)) * _mean_last_axis_scale(y_pred)


# -- Keras's functional forms: one loss per sample, no reduction. Keras exports each one
# function as both keras.losses.x and keras.metrics.x; it converts y_pred without a dtype (a
# Python list becomes floatx) and, unlike the Loss classes, does not align the ranks of
# y_true and y_pred first: (n, 1) against (n,) broadcasts to (n, n), in Keras as here.
def _as_floats(y_true, y_pred):
    dtype = getattr(y_pred, "dtype", None)
    if dtype is None or not np.issubdtype(dtype, np.floating):
        dtype = config.floatx()
    y_pred = np.asarray(y_pred, dtype=dtype)
    return np.asarray(y_true).astype(y_pred.dtype, copy=False), y_pred


def kl_divergence(y_true, y_pred):
    """Σ y·log(y / p) over the last axis, both clipped to [ε, 1]."""
    y_true, y_pred = _as_floats(y_true, y_pred)
    eps = config.epsilon()
    y_true = np.clip(y_true, eps, 1).astype(y_pred.dtype, copy=False)
    y_pred = np.clip(y_pred, eps, 1).astype(y_pred.dtype, copy=False)
    return np.sum(y_true * np.log(y_true / y_pred), axis=-1)


def poisson(y_true, y_pred):
    """mean(p − y·log(p + ε)) over the last axis."""
    y_true, y_pred = _as_floats(y_true, y_pred)
    eps = y_pred.dtype.type(config.epsilon())
    return np.mean(y_pred - y_true * np.log(y_pred + eps), axis=-1)
