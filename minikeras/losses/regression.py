"""Regression losses: the error e = p − y of each output, turned into one loss per sample.

Each is a mean over the last axis of C entries (cosine similarity: a sum over its `axis`), so
each gradient below carries a 1/C.
"""

import numpy as np

from minikeras import config
from minikeras.losses.loss import Loss, _mean_last_axis_scale, per_sample_losses


class MeanSquaredError(Loss):
    """lossᵢ = meanⱼ (yᵢⱼ − pᵢⱼ)²        d lossᵢ / d pᵢⱼ = 2(pᵢⱼ − yᵢⱼ)/C"""

    def __init__(self, reduction="sum_over_batch_size", name="mean_squared_error", dtype=None):
        super().__init__(name, reduction, dtype)

    def call(self, y_true, y_pred):
        return np.mean(np.square(y_pred - y_true), axis=-1)

    def gradient(self, y_true, y_pred):
        return (y_pred - y_true) * (2 * _mean_last_axis_scale(y_pred))


class MeanAbsoluteError(Loss):
    """lossᵢ = meanⱼ |yᵢⱼ − pᵢⱼ|         d lossᵢ / d pᵢⱼ = sign(pᵢⱼ − yᵢⱼ)/C"""

    def __init__(self, reduction="sum_over_batch_size", name="mean_absolute_error", dtype=None):
        super().__init__(name, reduction, dtype)

    def call(self, y_true, y_pred):
        return np.mean(np.abs(y_pred - y_true), axis=-1)

    def gradient(self, y_true, y_pred):
        return np.sign(y_pred - y_true) * _mean_last_axis_scale(y_pred)


class MeanAbsolutePercentageError(Loss):
    """lossᵢ = 100·meanⱼ |(yᵢⱼ − pᵢⱼ) / max(|yᵢⱼ|, ε)|
    d lossᵢ / d pᵢⱼ = 100·sign(pᵢⱼ − yᵢⱼ) / (max(|yᵢⱼ|, ε)·C)"""

    def __init__(
        self,
        reduction="sum_over_batch_size",
        name="mean_absolute_percentage_error",
        dtype=None,
    ):
        super().__init__(name, reduction, dtype)

    def _denominator(self, y_true):
        # Keras divides by max(|y|, ε) so that a zero label does not divide by zero
        return np.maximum(np.abs(y_true), y_true.dtype.type(config.epsilon()))

    def call(self, y_true, y_pred):
        return 100.0 * np.mean(np.abs((y_true - y_pred) / self._denominator(y_true)), axis=-1)

    def gradient(self, y_true, y_pred):
        scale = 100.0 * _mean_last_axis_scale(y_pred)
        return (np.sign(y_pred - y_true) / self._denominator(y_true) * scale).astype(y_pred.dtype)


class MeanSquaredLogarithmicError(Loss):
    """lossᵢ = meanⱼ (log(max(pᵢⱼ, ε) + 1) − log(max(yᵢⱼ, ε) + 1))²
    d lossᵢ / d pᵢⱼ = 2·(difference)/(max(pᵢⱼ, ε) + 1)/C where pᵢⱼ ≥ ε, else 0
    (TensorFlow's maximum passes the gradient to its first argument at a tie)."""

    def __init__(
        self,
        reduction="sum_over_batch_size",
        name="mean_squared_logarithmic_error",
        dtype=None,
    ):
        super().__init__(name, reduction, dtype)

    def _difference(self, y_true, y_pred):
        eps = y_pred.dtype.type(config.epsilon())
        return np.log(np.maximum(y_pred, eps) + 1) - np.log(np.maximum(y_true, eps) + 1)

    def call(self, y_true, y_pred):
        return np.mean(np.square(self._difference(y_true, y_pred)), axis=-1)

    def gradient(self, y_true, y_pred):
        eps = y_pred.dtype.type(config.epsilon())
        passes = (y_pred >= eps).astype(y_pred.dtype)
        d = self._difference(y_true, y_pred)
        return 2 * d / (np.maximum(y_pred, eps) + 1) * passes * _mean_last_axis_scale(y_pred)


class Huber(Loss):
    """With e = p − y: lossᵢ = meanⱼ (½e² if |e| ≤ δ, else δ·|e| − ½δ²)
    d lossᵢ / d pᵢⱼ = (e if |e| ≤ δ, else δ·sign(e)) / C      (quadratic near 0, linear beyond δ)"""

    def __init__(self, delta=1.0, reduction="sum_over_batch_size", name="huber_loss", dtype=None):
        super().__init__(name, reduction, dtype)
        self.delta = delta

    def call(self, y_true, y_pred):
        e = y_pred - y_true
        delta = y_pred.dtype.type(self.delta)
        half = y_pred.dtype.type(0.5)
        quadratic = np.abs(e) <= delta
        return np.mean(
            np.where(quadratic, half * e * e, delta * np.abs(e) - half * delta * delta), axis=-1
        )

    def gradient(self, y_true, y_pred):
        e = y_pred - y_true
        delta = y_pred.dtype.type(self.delta)
        return np.where(np.abs(e) <= delta, e, delta * np.sign(e)) * _mean_last_axis_scale(y_pred)

    def get_config(self):
        # Keras's Huber config holds only name and reduction (no delta): matched, so configs
        # compare equal; a round trip through the config resets delta to 1.0, as in Keras.
        return super().get_config()


class LogCosh(Loss):
    """With x = p − y: lossᵢ = meanⱼ log(cosh x), computed as Keras does, x + softplus(−2x) − log 2
    (cosh overflows for |x| > 89 in float32; this never does).
    d lossᵢ / d pᵢⱼ = tanh(x) / C      (= 1 − 2σ(−2x), the derivative of that formula)"""

    def __init__(self, reduction="sum_over_batch_size", name="log_cosh", dtype=None):
        super().__init__(name, reduction, dtype)

    def call(self, y_true, y_pred):
        x = y_pred - y_true
        # Keras's log 2 is `ops.log(2.0)`, computed in float32, then cast: the same constant here
        log2 = y_pred.dtype.type(np.log(np.float32(2.0)))
        return np.mean(x + np.logaddexp(0, -2 * x) - log2, axis=-1)

    def gradient(self, y_true, y_pred):
        return np.tanh(y_pred - y_true) * _mean_last_axis_scale(y_pred)


def _l2_normalize(x):
    """(x·r, r) with r = min(1/√Σx², 1/ε) along the last axis: Keras's `normalize` (order 2),
    which caps r so that a zero vector stays zero."""
    r = np.minimum(1 / np.sqrt(np.sum(x * x, axis=-1, keepdims=True)), 1 / config.epsilon())
    r = r.astype(x.dtype, copy=False)
    return x * r, r


class CosineSimilarity(Loss):
    """lossᵢ = −Σⱼ ûᵢⱼ·v̂ᵢⱼ, the cosine of the angle between y and p, negated: û = y/|y|,
    v̂ = p/|p| (`_l2_normalize`), summed over `axis` (the last by default).

    d lossᵢ / d pₖ = −r·(ûₖ − v̂ₖ·(û·v̂)) with r = 1/|p|: only the part of û across p moves
    the angle. Where r is capped (|p| < 1e-7) v̂ = p·r is linear in p: −r·ûₖ.
    """

    def __init__(
        self, axis=-1, reduction="sum_over_batch_size", name="cosine_similarity", dtype=None
    ):
        super().__init__(name, reduction, dtype)
        self.axis = axis

    def call(self, y_true, y_pred):
        u, _ = _l2_normalize(y_true)
        v, _ = _l2_normalize(y_pred)
        return -np.sum(u * v, axis=-1)

    def gradient(self, y_true, y_pred):
        u, _ = _l2_normalize(y_true)
        v, r = _l2_normalize(y_pred)
        capped = r >= y_pred.dtype.type(1 / config.epsilon())
        along = np.where(capped, 0, v * np.sum(u * v, axis=-1, keepdims=True))
        return -r * (u - along)

    def get_config(self):
        # Keras's config for CosineSimilarity has no `axis` (matched; a round trip resets it)
        return super().get_config()


# -- Keras's functional forms: one loss per sample, no reduction
def mean_squared_error(y_true, y_pred):
    return per_sample_losses(MeanSquaredError(reduction="none"), y_true, y_pred)


def mean_absolute_error(y_true, y_pred):
    return per_sample_losses(MeanAbsoluteError(reduction="none"), y_true, y_pred)


def mean_absolute_percentage_error(y_true, y_pred):
    return per_sample_losses(MeanAbsolutePercentageError(reduction="none"), y_true, y_pred)


def mean_squared_logarithmic_error(y_true, y_pred):
    return per_sample_losses(MeanSquaredLogarithmicError(reduction="none"), y_true, y_pred)


def huber(y_true, y_pred, delta=1.0):
    return per_sample_losses(Huber(delta, reduction="none"), y_true, y_pred)


def log_cosh(y_true, y_pred):
    return per_sample_losses(LogCosh(reduction="none"), y_true, y_pred)


def cosine_similarity(y_true, y_pred, axis=-1):
    return per_sample_losses(CosineSimilarity(axis, reduction="none"), y_true, y_pred)
