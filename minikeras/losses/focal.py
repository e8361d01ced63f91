"""Focal crossentropies (Lin et al., 2018): each example's crossentropy scaled by a factor that
is small when the example is already well classified, so training focuses on the hard ones."""

import numpy as np

from minikeras.losses.crossentropy import (
    _clipped_bce,
    _clipped_bce_gradient,
    _sigmoid,
    _sigmoid_xent,
    _through_renormalisation,
    smoothed_binary_labels,
    smoothed_labels,
)
from minikeras.losses.loss import (
    Loss,
    _clip,
    _mean_last_axis_scale,
    from_last_axis,
    per_sample_losses,
)


class BinaryFocalCrossentropy(Loss):
    """With p the probability of class 1, pₜ = y·p + (1 − y)·(1 − p) and bce the binary
    crossentropy: lossᵢ = meanⱼ a·(1 − pₜ)^γ·bce, where a = y·α + (1 − y)·(1 − α) when
    `apply_class_balancing`, else 1.

    As Keras: bce is computed from the logits z when they are known (from_logits=True, or a
    sigmoid output inside `fit`), else from p clipped to [ε, 1 − ε]; pₜ always uses p unclipped.

    With F = (1 − pₜ)^γ, dF/dp = −γ(1 − pₜ)^(γ−1)·(2y − 1):
        d lossᵢ/d p = a·(dF/dp·bce + F·dbce/dp) / C
        d lossᵢ/d z = a·(dF/dp·p(1 − p)·bce + F·(p − y)) / C      (p = σ(z))
    """

    def __init__(
        self,
        apply_class_balancing=False,
        alpha=0.25,
        gamma=2.0,
        from_logits=False,
        label_smoothing=0.0,
        axis=-1,
        reduction="sum_over_batch_size",
        name="binary_focal_crossentropy",
        dtype=None,
    ):
        super().__init__(name, reduction, dtype)
        self.apply_class_balancing = apply_class_balancing
        self.alpha = alpha
        self.gamma = gamma
        self.from_logits = from_logits
        self.label_smoothing = label_smoothing
        self.axis = axis

    @property
    def logits_activation(self):
        # from_logits=True after a sigmoid output is a sigmoid of the output in Keras (its
        # logits are the output itself): only from_logits=False may start from the layer's logits
        return None if self.from_logits else "sigmoid"

    def prepare_targets(self, y_true, y_pred):
        return smoothed_binary_labels(y_true, y_pred, self.label_smoothing)

    def _balance(self, y):
        if not self.apply_class_balancing:
            return 1
        return y * self.alpha + (1 - y) * (1 - self.alpha)

    def _parts(self, y, p, bce):
        """(a·F·bce per element, a, F, dF/dp), from p and bce."""
        p_t = y * p + (1 - y) * (1 - p)
        focal = np.power(1 - p_t, self.gamma)
        dfocal_dp = -self.gamma * np.power(1 - p_t, self.gamma - 1) * (2 * y - 1)
        a = self._balance(y)
        return a * focal * bce, a, focal, dfocal_dp

    def call(self, y_true, y_pred):
        if self.from_logits:
            p, bce = _sigmoid(y_pred), _sigmoid_xent(y_true, y_pred)
        else:
            p, bce = y_pred, _clipped_bce(y_true, y_pred)
        return np.mean(self._parts(y_true, p, bce)[0], axis=-1)

    def gradient(self, y_true, y_pred):
        if self.from_logits:
            return self._logits_gradient(y_true, y_pred)
        bce = _clipped_bce(y_true, y_pred)
        _, a, focal, dfocal = self._parts(y_true, y_pred, bce)
        grad = a * (dfocal * bce + focal * _clipped_bce_gradient(y_true, y_pred))
        return grad * _mean_last_axis_scale(y_pred)

    def _logits_gradient(self, y, z):
        p, bce = _sigmoid(z), _sigmoid_xent(y, z)
        _, a, focal, dfocal = self._parts(y, p, bce)
        grad = a * (dfocal * p * (1 - p) * bce + focal * (p - y))
        return grad * _mean_last_axis_scale(z)

    def value_and_grad_from_logits(self, y_true, logits, sample_weight=None, mask=None):
        shape = logits.shape
        y, z = self._targets(y_true, logits)
        p, bce = _sigmoid(z), _sigmoid_xent(y, z)
        losses = np.mean(self._parts(y, p, bce)[0], axis=-1)
        mask = self._joint_mask(y, z, mask)
        grad = self._logits_gradient(y, z)
        grad *= self._loss_scale(sample_weight, losses.shape, z.dtype, mask)[..., None]
        grad = from_last_axis(grad, self.axis)
        return self._reduce(losses, sample_weight, mask), grad.reshape(shape)

    def get_config(self):
        return {
            **super().get_config(),
            "from_logits": self.from_logits,
            "label_smoothing": self.label_smoothing,
            "axis": self.axis,
            "apply_class_balancing": self.apply_class_balancing,
            "alpha": self.alpha,
            "gamma": self.gamma,
        }


def _softmax(z):
    e = np.exp(z - np.max(z, axis=-1, keepdims=True))
    return e / np.sum(e, axis=-1, keepdims=True)


class CategoricalFocalCrossentropy(Loss):
    """With q = clip(p/Σp, ε, 1 − ε) (p = softmax(z) when from_logits):
    lossᵢ = Σⱼ α·(1 − qⱼ)^γ·(−yⱼ·log qⱼ). `alpha` is a number or one per class.

    d lossᵢ/d qⱼ = α·(−γ(1 − qⱼ)^(γ−1)·(−yⱼ·log qⱼ) − (1 − qⱼ)^γ·yⱼ/qⱼ), then through the
    renormalisation and the clip as the categorical crossentropy, and through the softmax when
    from_logits: dz = p·(dp − Σ dp·p). Keras never takes the logits path here (the loss is
    written out, not `ops.categorical_crossentropy`), so neither does `fit`.
    """

    def __init__(
        self,
        alpha=0.25,
        gamma=2.0,
        from_logits=False,
        label_smoothing=0.0,
        axis=-1,
        reduction="sum_over_batch_size",
        name="categorical_focal_crossentropy",
        dtype=None,
    ):
        super().__init__(name, reduction, dtype)
        self.alpha = alpha
        self.gamma = gamma
        self.from_logits = from_logits
        self.label_smoothing = label_smoothing
        self.axis = axis

    def prepare_targets(self, y_true, y_pred):
        return smoothed_labels(y_true, y_pred, self.label_smoothing)

    def _alpha(self, dtype):
        # a list of alphas becomes a float32 tensor in Keras before it multiplies: same rounding
        if isinstance(self.alpha, (list, tuple, np.ndarray)):
            return np.asarray(self.alpha, np.float32).astype(dtype)
        return dtype.type(self.alpha)

    def _probabilities(self, y_pred):
        return _softmax(y_pred) if self.from_logits else y_pred

    def call(self, y_true, y_pred):
        p = self._probabilities(y_pred)
        q = _clip(p / np.sum(p, axis=-1, keepdims=True))
        alpha = self._alpha(y_pred.dtype)
        return np.sum(alpha * np.power(1 - q, self.gamma) * (-y_true * np.log(q)), axis=-1)

    def gradient(self, y_true, y_pred):
        p = self._probabilities(y_pred)
        q = _clip(p / np.sum(p, axis=-1, keepdims=True))
        alpha = self._alpha(y_pred.dtype)
        cce = -y_true * np.log(q)
        dq = alpha * (
            -self.gamma * np.power(1 - q, self.gamma - 1) * cce
            - np.power(1 - q, self.gamma) * y_true / q
        )
        dp = _through_renormalisation(dq, p)
        if not self.from_logits:
            return dp
        return p * (dp - np.sum(dp * p, axis=-1, keepdims=True))  # the softmax's VJP

    def get_config(self):
        return {
            **super().get_config(),
            "from_logits": self.from_logits,
            "label_smoothing": self.label_smoothing,
            "axis": self.axis,
            "alpha": self.alpha,
            "gamma": self.gamma,
        }


# -- Keras's functional forms: one loss per sample, no reduction
def binary_focal_crossentropy(
    y_true,
    y_pred,
    apply_class_balancing=False,
    alpha=0.25,
    gamma=2.0,
    from_logits=False,
    label_smoothing=0.0,
    axis=-1,
):
    loss = BinaryFocalCrossentropy(
        apply_class_balancing, alpha, gamma, from_logits, label_smoothing, axis, reduction="none"
    )
    return per_sample_losses(loss, y_true, y_pred)


def categorical_focal_crossentropy(
    y_true, y_pred, alpha=0.25, gamma=2.0, from_logits=False, label_smoothing=0.0, axis=-1
):
    loss = CategoricalFocalCrossentropy(
        alpha, gamma, from_logits, label_smoothing, axis, reduction="none"
    )
    return per_sample_losses(loss, y_true, y_pred)
