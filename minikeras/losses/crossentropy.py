"""The crossentropies: categorical (one-hot labels), sparse categorical (integer labels) and
binary, each from probabilities (clipped, as Keras) or from logits (exact).

Inside `fit`, after a softmax or sigmoid output layer, the model asks for
`value_and_grad_from_logits`: Keras computes these losses from the logits there (no clipping,
gradient (p − y)/N), and so does minikeras (see docs/softmax-crossentropy.md).
"""

import math

import numpy as np

from minikeras import kernels
from minikeras.losses.loss import (
    Loss,
    _clip,
    _inside_clip,
    _mean_last_axis_scale,
    check_same_shape,
    from_last_axis,
    per_sample_losses,
    same_rank,
)


class CategoricalCrossentropy(Loss):
    """lossᵢ = −Σⱼ yᵢⱼ·log pᵢⱼ for one-hot (or smoothed) labels y.

    On probabilities (plain arrays, or outputs not made by a softmax), as Keras: each row is
    renormalised (q = p/Σp) and clipped to [ε, 1 − ε], ε = 1e-7. From logits z (inside `fit`
    after a softmax, or `from_logits=True`): lossᵢ = Σⱼ yᵢⱼ·(logsumexp(zᵢ) − zᵢⱼ), exact.
    `axis` names the class axis (the last by default).
    """

    logits_activation = "softmax"

    def __init__(
        self,
        from_logits=False,
        label_smoothing=0.0,
        axis=-1,
        reduction="sum_over_batch_size",
        name="categorical_crossentropy",
        dtype=None,
    ):
        super().__init__(name, reduction, dtype)
        self.from_logits = from_logits
        self.label_smoothing = label_smoothing
        self.axis = axis

    def prepare_targets(self, y_true, y_pred):
        return smoothed_labels(y_true, y_pred, self.label_smoothing)

    def call(self, y_true, y_pred):
        if self.from_logits:
            return _softmax_xent(y_true, y_pred, None)[0]
        q = _clip(y_pred / np.sum(y_pred, axis=-1, keepdims=True))
        return -np.sum(y_true * np.log(q), axis=-1)

    def gradient(self, y_true, y_pred):
        """From probabilities: with S = Σp, q = clip(p/S), g = −y/q (0 where clipped flat),
        d lossᵢ/d pₖ = (gₖ − Σⱼ gⱼ·(pⱼ/S)) / S     (the chain rule through the renormalisation)."""
        if self.from_logits:
            return _softmax_xent(y_true, y_pred, None)[1]
        clipped = _clip(y_pred / np.sum(y_pred, axis=-1, keepdims=True))
        return _through_renormalisation(-y_true / clipped, y_pred)  # dL/dq = −y/q

    def value_and_grad_from_logits(self, y_true, logits, sample_weight=None, mask=None):
        shape = logits.shape
        y, logits = self._targets(y_true, logits)
        mask = self._joint_mask(y, logits, mask)
        scale = self._loss_scale(sample_weight, logits.shape[:-1], logits.dtype, mask)
        losses, dlogits = _softmax_xent(y, logits, scale)
        if mask is not None:
            losses = np.where(mask, losses, 0)
        dlogits = from_last_axis(dlogits, self.axis)
        return self._reduce(losses, sample_weight, mask), dlogits.reshape(shape)

    def get_config(self):
        return {
            **super().get_config(),
            "from_logits": self.from_logits,
            "label_smoothing": self.label_smoothing,
            "axis": self.axis,
        }


def smoothed_labels(y_true, y_pred, label_smoothing):
    """y_true in y_pred's dtype (and shape, checked), smoothed over the C classes:
    y ← y·(1 − s) + s/C, so every class keeps a little probability mass. C is the size of the
    last axis even when a loss's `axis` names another one, as in Keras."""
    y = np.asarray(y_true, dtype=y_pred.dtype)
    check_same_shape(y, y_pred)
    if label_smoothing:
        y = y * (1 - label_smoothing) + label_smoothing / y_pred.shape[-1]
    return y


def smoothed_binary_labels(y_true, y_pred, label_smoothing):
    """y_true in y_pred's dtype (and shape, checked), smoothed toward 0.5: y ← y·(1 − s) + s/2."""
    y = np.asarray(y_true, dtype=y_pred.dtype)
    check_same_shape(y, y_pred)
    if label_smoothing:
        y = y * (1 - label_smoothing) + 0.5 * label_smoothing
    return y


def _through_renormalisation(g, p):
    """dL/dp for a loss of q = clip(p/S), S = Σⱼ pⱼ, given g = dL/dq:
    dL/dpₖ = (gₖ·[q inside the clip] − Σⱼ gⱼ·[inside]·qⱼ) / S      (rows along the last axis)."""
    s = np.sum(p, axis=-1, keepdims=True)
    q = p / s
    g = g * _inside_clip(q)
    return (g - np.sum(g * q, axis=-1, keepdims=True)) / s


def _softmax_xent(y, logits, row_scale):
    """Per-sample crossentropy from logits and its gradient (p − y)·row_scale, via the kernel.

    The kernel works on rows: any leading axes (batch, timesteps, ...) are flattened into one.
    """
    shape = logits.shape
    rows = math.prod(shape[:-1])
    if row_scale is None:
        row_scale = np.ones(rows, logits.dtype)
    probs = np.empty((rows, shape[-1]), logits.dtype)
    dlogits = np.empty_like(probs)
    losses = np.empty(rows, logits.dtype)
    kernels.softmax_crossentropy(
        np.ascontiguousarray(logits).reshape(rows, shape[-1]),
        np.ascontiguousarray(y, dtype=logits.dtype).reshape(rows, shape[-1]),
        np.ascontiguousarray(row_scale, dtype=logits.dtype).reshape(rows),
        probs,
        losses,
        dlogits,
    )
    return losses.reshape(shape[:-1]), dlogits.reshape(shape)


class SparseCategoricalCrossentropy(Loss):
    """Categorical crossentropy with integer labels yᵢ ∈ {0, …, C−1} (shape (N,) or (N, 1)).

    From logits: lossᵢ = logsumexp(zᵢ) − zᵢ,yᵢ. On probabilities, as Keras: c = clip(p, ε, 1 − ε),
    then the same formula with z = log c: lossᵢ = log Σⱼ cᵢⱼ − log cᵢ,yᵢ (no renormalisation).

    `ignore_class=k`: samples labelled k lose nothing and get no gradient, and the means divide
    by the samples kept (Keras masks their losses; see `Loss._weights_and_divisor`).
    """

    def __init__(
        self,
        from_logits=False,
        ignore_class=None,
        reduction="sum_over_batch_size",
        axis=-1,
        name="sparse_categorical_crossentropy",
        dtype=None,
    ):
        super().__init__(name, reduction, dtype)
        self.from_logits = from_logits
        self.ignore_class = ignore_class
        self.axis = axis

    @property
    def logits_activation(self):
        # With ignore_class, Keras hands the loss `where(valid, y_pred, 0)`, a new tensor that has
        # lost its softmax's logits: fit then takes the clipped-probability path.
        return "softmax" if self.ignore_class is None else None

    def _targets(self, y_true, y_pred):
        # keras/src/backend/tensorflow/nn.py sparse_categorical_crossentropy: the class axis must
        # be the last one
        if self.axis != -1 and self.axis != y_pred.ndim - 1:
            raise ValueError(f"Only axis=-1 is currently supported. Received: axis={self.axis}")
        y_true, y_pred = same_rank(np.asarray(y_true), y_pred)
        return self.prepare_targets(y_true, y_pred), y_pred

    def prepare_targets(self, y_true, y_pred):
        """The labels as one-hot rows: the dense form every formula below is written for.
        An ignored sample's row is all zeros."""
        labels = np.asarray(y_true)
        if labels.ndim == y_pred.ndim and labels.shape[-1] == 1:
            labels = labels[..., 0]
        labels = labels.astype(np.int64)
        valid = np.ones(labels.shape, bool)
        if self.ignore_class is not None:
            valid = labels != self.ignore_class
            labels = np.where(valid, labels, 0)
        num_classes = y_pred.shape[-1]
        checked = labels[valid]
        if checked.size and (checked.min() < 0 or checked.max() >= num_classes):
            raise ValueError(
                f"Received labels from {int(checked.min())} to {int(checked.max())}, outside the "
                f"valid range of [0, {num_classes})."
            )
        one_hot = np.eye(num_classes, dtype=y_pred.dtype)[labels]
        if self.ignore_class is not None:
            one_hot *= valid[..., None]
        return one_hot

    def loss_mask(self, y_true, y_pred):
        if self.ignore_class is None:
            return None
        return np.any(y_true != 0, axis=-1)  # the ignored samples' rows are all zeros

    def call(self, y_true, y_pred):
        z = y_pred if self.from_logits else np.log(_clip(y_pred))
        losses = _softmax_xent(y_true, z, None)[0]
        if self.ignore_class is not None:
            losses = np.where(self.loss_mask(y_true, y_pred), losses, 0).astype(losses.dtype)
        return losses

    def gradient(self, y_true, y_pred):
        """From probabilities, with c = clip(p) and y one-hot:
        d lossᵢ / d pₖ = (1/Σⱼcⱼ − yₖ/cₖ) · [p inside the clip]. Ignored samples: 0."""
        if self.from_logits:
            grad = _softmax_xent(y_true, y_pred, None)[1]
        else:
            c = _clip(y_pred)
            grad = (1 / np.sum(c, axis=-1, keepdims=True) - y_true / c) * _inside_clip(y_pred)
        if self.ignore_class is not None:
            grad *= self.loss_mask(y_true, y_pred)[..., None]
        return grad

    value_and_grad_from_logits = CategoricalCrossentropy.value_and_grad_from_logits

    def get_config(self):
        # Keras's config has no `axis` here (only -1 works anyway)
        return {
            **super().get_config(),
            "from_logits": self.from_logits,
            "ignore_class": self.ignore_class,
        }


class BinaryCrossentropy(Loss):
    """lossᵢ = meanⱼ −(y·log p + (1 − y)·log(1 − p)), for labels in [0, 1], the mean taken
    over `axis` (the last by default).

    On probabilities p is clipped to [ε, 1 − ε]. From logits z (after a sigmoid inside `fit`,
    or `from_logits=True`): meanⱼ max(z, 0) − z·y + log(1 + e^(−|z|)), gradient (σ(z) − y)/C.
    """

    logits_activation = "sigmoid"

    def __init__(
        self,
        from_logits=False,
        label_smoothing=0.0,
        axis=-1,
        reduction="sum_over_batch_size",
        name="binary_crossentropy",
        dtype=None,
    ):
        super().__init__(name, reduction, dtype)
        self.from_logits = from_logits
        self.label_smoothing = label_smoothing
        self.axis = axis

    def prepare_targets(self, y_true, y_pred):
        return smoothed_binary_labels(y_true, y_pred, self.label_smoothing)

    def call(self, y_true, y_pred):
        if self.from_logits:
            return np.mean(_sigmoid_xent(y_true, y_pred), axis=-1)
        return np.mean(_clipped_bce(y_true, y_pred), axis=-1)

    def gradient(self, y_true, y_pred):
        """From probabilities: d lossᵢ / d pⱼ = (−y/c + (1 − y)/(1 − c)) / C, c = clip(p).
        From logits: (σ(z) − y) / C."""
        scale = _mean_last_axis_scale(y_pred)
        if self.from_logits:
            return (_sigmoid(y_pred) - y_true) * scale
        return _clipped_bce_gradient(y_true, y_pred) * scale

    def value_and_grad_from_logits(self, y_true, logits, sample_weight=None, mask=None):
        shape = logits.shape
        y, logits = self._targets(y_true, logits)
        mask = self._joint_mask(y, logits, mask)
        scale = self._loss_scale(sample_weight, logits.shape[:-1], logits.dtype, mask)
        losses, grad = _sigmoid_xent_kernel(y, logits, scale)  # grad: (σ(z) − y)/C · scale
        grad = from_last_axis(grad, self.axis)
        return self._reduce(losses, sample_weight, mask), grad.reshape(shape)

    def get_config(self):
        return {
            **super().get_config(),
            "from_logits": self.from_logits,
            "label_smoothing": self.label_smoothing,
            "axis": self.axis,
        }


def _sigmoid_xent_kernel(y, logits, row_scale):
    """Per-sample binary crossentropy from logits (the mean over the last axis) and its
    gradient (σ(z) − y)/C · row_scale, via the kernel (the compiled training step calls the
    same one). Any leading axes are flattened into rows."""
    shape = logits.shape
    rows = math.prod(shape[:-1])
    dlogits = np.empty((rows, shape[-1]), logits.dtype)
    losses = np.empty(rows, logits.dtype)
    kernels.sigmoid_crossentropy(
        np.ascontiguousarray(logits).reshape(rows, shape[-1]),
        np.ascontiguousarray(y, dtype=logits.dtype).reshape(rows, shape[-1]),
        np.ascontiguousarray(row_scale, dtype=logits.dtype).reshape(rows),
        losses,
        dlogits,
    )
    return losses.reshape(shape[:-1]), dlogits.reshape(shape)


def _clipped_bce(y, p):
    """−(y·log c + (1 − y)·log(1 − c)), c = clip(p, ε, 1 − ε): one entry per element."""
    c = _clip(p)
    return -(y * np.log(c) + (1 - y) * np.log(1 - c))


def _clipped_bce_gradient(y, p):
    """d/dp of `_clipped_bce`: −y/c + (1 − y)/(1 − c) where p is inside the clip, else 0."""
    c = _clip(p)
    return (-y / c + (1 - y) / (1 - c)) * _inside_clip(p)


def _sigmoid(z):
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1 / (1 + e), e / (1 + e)).astype(z.dtype, copy=False)


def _sigmoid_xent(y, z):
    """−(y·log σ(z) + (1 − y)·log(1 − σ(z)))
    = max(z, 0) − z·y + log(1 + e^(−|z|)), which never overflows."""
    return np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z)))


# -- Keras's functional forms: one loss per sample, no reduction
def categorical_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    loss = CategoricalCrossentropy(from_logits, label_smoothing, axis, reduction="none")
    return per_sample_losses(loss, y_true, y_pred)


def sparse_categorical_crossentropy(y_true, y_pred, from_logits=False, ignore_class=None, axis=-1):
    loss = SparseCategoricalCrossentropy(
        from_logits=from_logits, ignore_class=ignore_class, axis=axis, reduction="none"
    )
    return per_sample_losses(loss, y_true, y_pred)


def binary_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    loss = BinaryCrossentropy(from_logits, label_smoothing, axis, reduction="none")
    return per_sample_losses(loss, y_true, y_pred)
