"""Circle loss (Sun et al., 2020), Keras's `Circle`: a metric-learning loss on L2-normalised
embeddings E (N, D) with integer labels. Every pair (i, j) of an embedding and a reference
embedding (by default the batch itself) has a cosine distance d = max(1 − Eᵢ·Rⱼ, 0), and

    positive pairs (same label):   a = −γ·max(m + d, 0)·(m − d)
    negative pairs (other labels): b =  γ·max(1 + m − d, 0)·(1 − m − d)
    lossᵢ = softplus(LSEⱼ₊ a + LSEⱼ₋ b)          (LSE: log-sum-exp over the row's pairs)

A row with no positive pair has loss 0, and Keras masks every zero loss out of the mean.

The gradient, by the chain rule, with s = sigmoid(LSE₊ + LSE₋) and α, β the softmax weights of
each row's positive and negative pairs:

    da/dd = −γ·([m + d ≥ 0]·(m − d) − max(m + d, 0))
    db/dd =  γ·(−[1 + m − d ≥ 0]·(1 − m − d) − max(1 + m − d, 0))
    dL/dSᵢⱼ = −[1 − Sᵢⱼ ≥ 0]·sᵢ·(αᵢⱼ·da/dd + βᵢⱼ·db/dd)      (S = E·Rᵀ, (N, M))
    dL/dE = dL/dS·R  (N, M)@(M, D)     dL/dR = dL/dSᵀ·E  (M, N)@(N, D)

and, when R is E itself, both terms reach E. (TensorFlow's max passes the gradient at a tie,
hence the ≥.)
"""

import numpy as np

from minikeras.losses.loss import Loss


def _log_sum_exp(values, keep):
    """(LSE over the kept entries of each row, the softmax weights of those entries). A row
    that keeps nothing gives −∞ and zero weights."""
    masked = np.where(keep, values, -np.inf)
    top = np.max(masked, axis=1, keepdims=True)
    top = np.where(np.isfinite(top), top, 0)
    e = np.where(keep, np.exp(masked - top), 0)
    total = np.sum(e, axis=1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        lse = (np.log(total) + top)[:, 0]
        weights = np.where(total > 0, e / total, 0)
    return lse, weights


def _pair_masks(labels, ref_labels, remove_diagonal):
    """(positive, negative): pairs with equal labels (less the diagonal when asked), the rest."""
    positive = labels.reshape(-1, 1) == ref_labels.reshape(1, -1)
    negative = ~positive
    if remove_diagonal:
        positive = positive & ~np.eye(positive.shape[0], positive.shape[1], dtype=bool)
    return positive, negative


def _forward(labels, embeddings, ref_labels, ref_embeddings, remove_diagonal, gamma, margin):
    """The losses, and what the backward needs."""
    dtype = embeddings.dtype
    similarity = embeddings @ ref_embeddings.T  # (N, D)@(D, M)
    distance = np.maximum(1 - similarity, dtype.type(0))
    positive, negative = _pair_masks(labels, ref_labels, remove_diagonal)
    pos_weight = np.maximum((margin + distance) * positive, 0)
    neg_weight = np.maximum((1 + margin - distance) * negative, 0)
    a = -gamma * pos_weight * (margin - distance)
    b = gamma * neg_weight * (1 - margin - distance)
    lse_pos, alpha = _log_sum_exp(a, positive)
    lse_neg, beta = _log_sum_exp(b, negative)
    z = lse_pos + lse_neg
    losses = (np.maximum(z, 0) + np.log1p(np.exp(-np.abs(z)))).astype(dtype)  # softplus
    saved = (similarity, distance, positive, negative, pos_weight, neg_weight, alpha, beta, z)
    return losses, saved


def _backward(dlosses, embeddings, ref_embeddings, saved, gamma, margin):
    """(dL/dE, dL/dR) given dL/dlossᵢ (see the module docstring)."""
    similarity, distance, positive, negative, pos_weight, neg_weight, alpha, beta, z = saved
    s = (dlosses * np.exp(-np.logaddexp(0, -z)))[:, None]  # sigmoid(z), 0 at z = −∞; (N, 1)
    pos_open = (margin + distance) * positive >= 0
    neg_open = (1 + margin - distance) * negative >= 0
    da = -gamma * (pos_open * (margin - distance) - pos_weight)
    db = -gamma * (neg_open * (1 - margin - distance) + neg_weight)
    d_distance = s * (alpha * da * positive + beta * db * negative)
    d_similarity = -((1 - similarity >= 0) * d_distance)  # (N, M)
    d_embeddings = d_similarity @ ref_embeddings  # (N, M)@(M, D)
    d_ref = d_similarity.T @ embeddings  # (M, N)@(N, D)
    return d_embeddings.astype(embeddings.dtype), d_ref.astype(embeddings.dtype)


class Circle(Loss):
    """Circle loss between integer labels (N,) and L2-normalised embeddings (N, D), the batch
    its own reference set. Zero losses (rows with no positive pair) are masked out.

    >>> import numpy as np
    >>> e = np.array([[1.0, 0.0], [0.8, 0.6], [0.0, 1.0]])
    >>> round(float(Circle(gamma=2.0)(np.array([0, 0, 1]), e)), 4)
    0.6141
    """

    def __init__(
        self,
        gamma=80.0,
        margin=0.4,
        remove_diagonal=True,
        reduction="sum_over_batch_size",
        name="circle",
        dtype=None,
    ):
        super().__init__(name, reduction, dtype)
        self.gamma, self.margin, self.remove_diagonal = gamma, margin, remove_diagonal

    def prepare_targets(self, y_true, y_pred):
        return np.asarray(y_true).astype(np.int64).reshape(-1)

    def _forward(self, y_true, y_pred):
        return _forward(
            y_true, y_pred, y_true, y_pred, self.remove_diagonal, self.gamma, self.margin
        )

    def call(self, y_true, y_pred):
        return self._forward(y_true, y_pred)[0]

    def loss_mask(self, y_true, y_pred):
        """Keras masks the zero losses (`circle_loss > 0`) out of the reduction."""
        return self.call(y_true, y_pred) > 0

    def value_and_grad(self, y_true, y_pred, sample_weight=None, mask=None):
        """Every loss depends on every embedding (the batch is its own reference set), so the
        gradient goes through the pair similarities rather than row by row."""
        shape = y_pred.shape
        y_true, y_pred = self._targets(y_true, y_pred)
        losses, saved = self._forward(y_true, y_pred)
        mask = self._joint_mask(y_true, y_pred, mask)
        scale = self._loss_scale(sample_weight, losses.shape, y_pred.dtype, mask)
        d_embeddings, d_ref = _backward(scale, y_pred, y_pred, saved, self.gamma, self.margin)
        grad = d_embeddings + d_ref  # E is both the queries and the references
        return self._reduce(losses, sample_weight, mask), grad.reshape(shape)

    def get_config(self):
        return {
            **super().get_config(),
            "gamma": self.gamma,
            "margin": self.margin,
            "remove_diagonal": self.remove_diagonal,
        }


def circle(
    y_true,
    y_pred,
    ref_labels=None,
    ref_embeddings=None,
    remove_diagonal=True,
    gamma=80,
    margin=0.4,
):
    """Keras's `losses.circle`: one loss per embedding, against `ref_embeddings` (default the
    embeddings themselves) labelled `ref_labels` (default `y_true`)."""
    from minikeras import config

    y_pred = np.asarray(y_pred)
    if not np.issubdtype(y_pred.dtype, np.floating):
        y_pred = y_pred.astype(config.floatx())
    labels = np.asarray(y_true).astype(np.int64).reshape(-1)
    refs = y_pred if ref_embeddings is None else np.asarray(ref_embeddings, dtype=y_pred.dtype)
    ref_labels = labels if ref_labels is None else np.asarray(ref_labels).astype(np.int64)
    return _forward(labels, y_pred, ref_labels.reshape(-1), refs, remove_diagonal, gamma, margin)[0]
