"""The CTC loss (Keras's `keras.losses.CTC` and `ctc`): `ops.ctc_loss` with every frame of
y_pred used and the labels' lengths counted from y_true, whose zeros are the blank (padding).

Its value and gradient are `ops.ctc_loss`'s forward–backward recursion (minikeras/ops/nn_ctc.py):
d lossᵢ / d logits_t = softmax(logits_t) − γ_t, γ_t the share of frame t each class holds among
the alignments of the label.

>>> import numpy as np
>>> loss = CTC()(np.array([[1, 2, 0]]), np.zeros((1, 4, 3)))
>>> round(float(loss), 4)
1.6864
"""

import numpy as np

from minikeras import ops
from minikeras.losses.loss import Loss
from minikeras.ops import nn_ctc

MASK_INDEX = 0  # Keras's: class 0 is the blank, and the padding of y_true


def _lengths(y_true, y_pred):
    """(label lengths, frame counts): y_true's non-blank entries, every frame of y_pred."""
    label_length = ops.cast(ops.sum(ops.not_equal(y_true, MASK_INDEX), axis=-1), "int32")
    frames = np.full((np.shape(y_pred)[0],), np.shape(y_pred)[1], np.int32)
    return label_length, frames


def ctc(y_true, y_pred):
    """CTC loss per sample; y_true (batch, max_length) integer labels padded with 0, y_pred
    (batch, frames, classes) logits (not softmaxed)."""
    if len(np.shape(y_true)) != 2:
        raise ValueError(
            "Targets `y_true` are expected to be a tensor of shape `(batch_size, max_length)` "
            f"in integer format. Received: y_true.shape={tuple(np.shape(y_true))}"
        )
    if len(np.shape(y_pred)) != 3:
        raise ValueError(
            "Logits `y_pred` are expected to be a tensor of shape "
            f"`(batch_size, max_length, num_classes)`. Received: y_pred.shape="
            f"{tuple(np.shape(y_pred))}"
        )
    label_length, frames = _lengths(y_true, y_pred)
    return ops.ctc_loss(y_true, y_pred, label_length, frames, mask_index=MASK_INDEX)


class CTC(Loss):
    """Connectionist temporal classification: −ln p(y_true | y_pred) summed over alignments."""

    def __init__(self, reduction="sum_over_batch_size", name="ctc", dtype=None):
        super().__init__(name, reduction, dtype)

    def _targets(self, y_true, y_pred):
        # integer labels of another shape than y_pred: no rank matching, no cast to floats
        return np.asarray(y_true), y_pred

    def call(self, y_true, y_pred):
        return ctc(y_true, y_pred)

    def gradient(self, y_true, y_pred):
        """d lossᵢ / d y_pred: `ops.ctc_loss`'s VJP with a cotangent of ones."""
        label_length, frames = _lengths(y_true, y_pred)
        ones = np.ones(len(y_pred), y_pred.dtype)
        _, grad, _, _ = nn_ctc._ctc_loss_vjp(
            ones, None, np.asarray(y_true, np.int64), y_pred, np.asarray(label_length), frames
        )
        return grad

    def value_and_grad(self, y_true, y_pred, sample_weight=None, mask=None):
        """(reduced loss, dL/dy_pred): one loss per sequence, its gradient (frames, classes)
        times that loss's weight in the reduction (wᵢ/d). (An output mask is not applied, as
        Keras's `ctc` ignores one.)"""
        y_true = np.asarray(y_true)
        losses = self.call(y_true, y_pred)
        scale = self._loss_scale(sample_weight, losses.shape, y_pred.dtype)
        grad = self.gradient(y_true, y_pred) * scale[:, None, None]
        return self._reduce(losses, sample_weight), grad.astype(y_pred.dtype)
