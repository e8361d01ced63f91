"""Hinge losses, for labels −1/1 (labels that are all 0 or 1 are first mapped to −1/1, as Keras
does, for Hinge and SquaredHinge) and raw scores p.

Where the hinge is exactly at its kink the gradient is the active side's: TensorFlow's
`maximum(a, b)` sends the gradient to `a` when a ≥ b.
"""

import numpy as np

from minikeras.losses.loss import Loss, _mean_last_axis_scale, per_sample_losses


def _hinge_labels(y_true):
    """Keras's `convert_binary_labels_to_hinge`: if every label is 0 or 1, y ← 2y − 1."""
    if np.all((y_true == 0) | (y_true == 1)):
        return 2 * y_true - 1
    return y_true


class Hinge(Loss):
    """lossᵢ = meanⱼ max(1 − yᵢⱼ·pᵢⱼ, 0)        d lossᵢ / d pᵢⱼ = −yᵢⱼ·[1 − y·p ≥ 0] / C"""

    def __init__(self, reduction="sum_over_batch_size", name="hinge", dtype=None):
        super().__init__(name, reduction, dtype)

    def prepare_targets(self, y_true, y_pred):
        return _hinge_labels(np.asarray(y_true, dtype=y_pred.dtype))

    def call(self, y_true, y_pred):
        return np.mean(np.maximum(1 - y_true * y_pred, 0), axis=-1)

    def gradient(self, y_true, y_pred):
        active = (1 - y_true * y_pred >= 0).astype(y_pred.dtype)
        return -y_true * active * _mean_last_axis_scale(y_pred)


class SquaredHinge(Loss):
    """lossᵢ = meanⱼ max(1 − yᵢⱼ·pᵢⱼ, 0)²      d lossᵢ / d pᵢⱼ = −2yᵢⱼ·max(1 − y·p, 0) / C"""

    def __init__(self, reduction="sum_over_batch_size", name="squared_hinge", dtype=None):
        super().__init__(name, reduction, dtype)

    prepare_targets = Hinge.prepare_targets

    def call(self, y_true, y_pred):
        return np.mean(np.square(np.maximum(1 - y_true * y_pred, 0)), axis=-1)

    def gradient(self, y_true, y_pred):
        margin = np.maximum(1 - y_true * y_pred, 0)
        return -2 * y_true * margin * _mean_last_axis_scale(y_pred)


class CategoricalHinge(Loss):
    """With pos = Σⱼ yⱼ·pⱼ (the true class's score) and neg = maxⱼ (1 − yⱼ)·pⱼ (the best other):
    lossᵢ = max(neg − pos + 1, 0). Labels are used as given (no 0/1 → −1/1 mapping, as Keras).

    d lossᵢ / d pₖ = [neg − pos + 1 ≥ 0]·((1 − yₖ)·tₖ − yₖ), where t spreads the max's gradient
    equally over the entries that tie for it (TensorFlow's `reduce_max` gradient).
    """

    def __init__(self, reduction="sum_over_batch_size", name="categorical_hinge", dtype=None):
        super().__init__(name, reduction, dtype)

    def call(self, y_true, y_pred):
        pos = np.sum(y_true * y_pred, axis=-1)
        neg = np.max((1 - y_true) * y_pred, axis=-1)
        return np.maximum(neg - pos + 1, 0).astype(y_pred.dtype)

    def gradient(self, y_true, y_pred):
        others = (1 - y_true) * y_pred
        neg = np.max(others, axis=-1, keepdims=True)
        ties = (others == neg).astype(y_pred.dtype)
        t = ties / ties.sum(axis=-1, keepdims=True)
        pos = np.sum(y_true * y_pred, axis=-1, keepdims=True)
        active = (neg - pos + 1 >= 0).astype(y_pred.dtype)
        return active * ((1 - y_true) * t - y_true)


# -- Keras's functional forms: one loss per sample, no reduction
def hinge(y_true, y_pred):
    return per_sample_losses(Hinge(reduction="none"), y_true, y_pred)


def squared_hinge(y_true, y_pred):
    return per_sample_losses(SquaredHinge(reduction="none"), y_true, y_pred)


def categorical_hinge(y_true, y_pred):
    return per_sample_losses(CategoricalHinge(reduction="none"), y_true, y_pred)
