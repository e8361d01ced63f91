"""Kullback-Leibler divergence and the Poisson loss (the crossentropies have their own file)."""

import numpy as np

from minikeras import config
from minikeras.losses.loss import (
    Loss,
    _clip,
    _inside_clip,
    _mean_last_axis_scale,
    per_sample_losses,
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


# -- Keras's functional forms: one loss per sample, no reduction
def kl_divergence(y_true, y_pred):
    return per_sample_losses(KLDivergence(reduction="none"), y_true, y_pred)


def poisson(y_true, y_pred):
    return per_sample_losses(Poisson(reduction="none"), y_true, y_pred)
