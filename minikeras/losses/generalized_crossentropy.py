"""Categorical generalized crossentropy (Zhang and Sabuncu, 2018), Keras's
CategoricalGeneralizedCrossEntropy: a crossentropy made robust to noisy labels.

For integer labels and probabilities p over the last axis, with pₜ the true class's:

    lossᵢ = (1 − pₜ^q) / q          d lossᵢ / d pₜ = −pₜ^(q−1),   0 for the other classes

As q → 0 this tends to −ln pₜ (crossentropy); at q = 1 it is 1 − pₜ (mean absolute error).
"""

import numpy as np

from minikeras.losses.loss import Loss, per_sample_losses


class CategoricalGeneralizedCrossEntropy(Loss):
    """(1 − pₜ^q)/q per sample, from integer labels (shape p.shape[:-1]) and probabilities.

    >>> import numpy as np
    >>> loss = CategoricalGeneralizedCrossEntropy(q=0.5)
    >>> round(float(loss(np.array([0, 1]), np.array([[0.64, 0.36], [0.19, 0.81]]))), 4)
    0.3
    """

    def __init__(
        self,
        q=0.5,
        reduction="sum_over_batch_size",
        name="categorical_generalized_cross_entropy",
        dtype=None,
    ):
        if not 0 < q < 1:
            raise ValueError("q must be in the interval (0, 1)")
        super().__init__(name, reduction, dtype)
        self.q = q

    def prepare_targets(self, y_true, y_pred):
        """Integer labels, one per row of y_pred; (N, 1) labels for (N, C) rows lose their
        last axis, as the sparse crossentropy's do."""
        labels = np.asarray(y_true)
        if labels.ndim == y_pred.ndim and labels.shape[-1] == 1:
            labels = labels[..., 0]
        return labels.astype(np.int64)

    def _true_probability(self, y_true, y_pred):
        return np.take_along_axis(y_pred, y_true[..., None], axis=-1)[..., 0]

    def call(self, y_true, y_pred):
        p = self._true_probability(y_true, y_pred)
        q = y_pred.dtype.type(self.q)
        return (1 - np.power(p, q)) / q

    def gradient(self, y_true, y_pred):
        p = self._true_probability(y_true, y_pred)
        grad = np.zeros_like(y_pred)
        with np.errstate(divide="ignore"):  # pₜ = 0: −∞, as TensorFlow's pow gradient
            d = -np.power(p, y_pred.dtype.type(self.q - 1))
        np.put_along_axis(grad, y_true[..., None], d[..., None], axis=-1)
        return grad

    def get_config(self):
        return {**super().get_config(), "q": self.q}


def categorical_generalized_cross_entropy(y_true, y_pred, q):
    """Keras's `losses.categorical_generalized_cross_entropy`: (1 − pₜ^q)/q per sample."""
    return per_sample_losses(
        CategoricalGeneralizedCrossEntropy(q=q, reduction=None), y_true, y_pred
    )
