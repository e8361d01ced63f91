"""Overlap losses for segmentation (Keras's Dice and Tversky): one minus a ratio of the overlap
I = Σ y·p to the sizes of the two regions, summed over `axis` (None: every axis, one loss for the
whole batch; (1, 2, 3): one loss per image).

Each loss's gradient is the quotient rule on that ratio; every entry of p belongs to exactly one
loss (the one its `axis` sums it into), so `value_and_grad` spreads each loss's weight back over
the axes it summed.
"""

import numpy as np

from minikeras import config
from minikeras.losses.loss import Loss, per_sample_losses, same_rank


def _axes(axis, ndim):
    """`axis` as a tuple of non-negative axes (None: all of them)."""
    if axis is None:
        return tuple(range(ndim))
    axis = (axis,) if isinstance(axis, int) else tuple(axis)
    return tuple(a % ndim for a in axis)


class _OverlapLoss(Loss):
    """What Dice and Tversky share: no class axis moved last, sums over `axis`, and the chain
    rule through the reduction done over the summed axes."""

    def _targets(self, y_true, y_pred):
        y_true, y_pred = same_rank(np.asarray(y_true), y_pred)
        return np.asarray(y_true, dtype=y_pred.dtype), y_pred

    def _sum(self, a):
        return np.sum(a, axis=self.axis)

    def value_and_grad(self, y_true, y_pred, sample_weight=None, mask=None):
        """(reduced loss, dL/dp): each loss's gradient times its weight wᵢ/d, that weight
        broadcast back over the axes the loss summed."""
        shape = y_pred.shape
        y_true, y_pred = self._targets(y_true, y_pred)
        losses = self.call(y_true, y_pred)
        grad = self.gradient(y_true, y_pred)
        scale = self._loss_scale(sample_weight, np.shape(losses), y_pred.dtype, mask)
        grad *= np.expand_dims(scale, _axes(self.axis, y_pred.ndim))
        return self._reduce(losses, sample_weight, mask), grad.reshape(shape)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}


class Dice(_OverlapLoss):
    """loss = 1 − 2I / (Σy + Σp + ε), I = Σ y·p, the sums over `axis` (ε = 1e-7).

    With D = Σy + Σp + ε:   d loss / d pⱼ = −2yⱼ/D + 2I/D²   (the quotient rule; dI/dpⱼ = yⱼ,
    dD/dpⱼ = 1).

    >>> import numpy as np
    >>> y = np.array([[1.0, 0.0], [0.0, 1.0]])
    >>> round(float(Dice()(y, np.array([[0.8, 0.1], [0.2, 0.6]]))), 4)
    0.2432
    """

    def __init__(self, reduction="sum_over_batch_size", name="dice", axis=None, dtype=None):
        super().__init__(name, reduction, dtype)
        self.axis = axis

    def _parts(self, y_true, y_pred):
        eps = y_pred.dtype.type(config.epsilon())
        return self._sum(y_true * y_pred), self._sum(y_true) + self._sum(y_pred) + eps

    def call(self, y_true, y_pred):
        overlap, size = self._parts(y_true, y_pred)
        return 1 - 2 * overlap / size

    def gradient(self, y_true, y_pred):
        overlap, size = self._parts(y_true, y_pred)
        axes = _axes(self.axis, y_pred.ndim)
        overlap, size = np.expand_dims(overlap, axes), np.expand_dims(size, axes)
        return (-2 * y_true / size + 2 * overlap / (size * size)).astype(y_pred.dtype)


class Tversky(_OverlapLoss):
    """loss = 1 − I / (I + α·A + β·B + ε), I = Σ y·p, A = Σ (1 − p)·y, B = Σ p·(1 − y), the
    sums over `axis` (Keras's names: A its "fp", B its "fn"). α = β = ½ is Dice but for ε.

    With D = I + αA + βB + ε:   dD/dpⱼ = yⱼ − α·yⱼ + β·(1 − yⱼ), and
    d loss / d pⱼ = −(yⱼ·D − I·dD/dpⱼ) / D².
    """

    def __init__(
        self,
        alpha=0.5,
        beta=0.5,
        reduction="sum_over_batch_size",
        name="tversky",
        axis=None,
        dtype=None,
    ):
        super().__init__(name, reduction, dtype)
        self.alpha, self.beta, self.axis = alpha, beta, axis

    def _parts(self, y_true, y_pred):
        overlap = self._sum(y_true * y_pred)
        missed = self._sum((1 - y_pred) * y_true)
        extra = self._sum(y_pred * (1 - y_true))
        eps = y_pred.dtype.type(config.epsilon())
        return overlap, overlap + missed * self.alpha + extra * self.beta + eps

    def call(self, y_true, y_pred):
        overlap, denominator = self._parts(y_true, y_pred)
        return 1 - overlap / denominator

    def gradient(self, y_true, y_pred):
        overlap, denominator = self._parts(y_true, y_pred)
        axes = _axes(self.axis, y_pred.ndim)
        overlap = np.expand_dims(overlap, axes)
        denominator = np.expand_dims(denominator, axes)
        d_denominator = y_true - self.alpha * y_true + self.beta * (1 - y_true)
        grad = -(y_true * denominator - overlap * d_denominator) / (denominator * denominator)
        return grad.astype(y_pred.dtype)

    def get_config(self):
        return {**super().get_config(), "alpha": self.alpha, "beta": self.beta}


def dice(y_true, y_pred, axis=None):
    """Keras's `losses.dice`: the Dice loss, summed over `axis` (None: all)."""
    return per_sample_losses(Dice(axis=axis, reduction=None), y_true, y_pred)


def tversky(y_true, y_pred, alpha=0.5, beta=0.5, axis=None):
    """Keras's `losses.tversky`: the Tversky loss, summed over `axis` (None: all)."""
    return per_sample_losses(Tversky(alpha, beta, axis=axis, reduction=None), y_true, y_pred)
