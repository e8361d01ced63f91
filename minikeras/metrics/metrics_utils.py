"""Helpers shared by the metrics: ranks made to agree, and the confusion-matrix counts."""

from enum import StrEnum

import numpy as np

NEG_INF = -1e10  # a prediction filtered out by top_k: below every threshold


class AUCCurve(StrEnum):
    """AUC's curves, as Keras names them. A str enum: `AUC(curve="PR").curve`, the string
    "PR", equals `AUCCurve.PR`."""

    ROC = "ROC"
    PR = "PR"
    PRGAIN = "PRGAIN"

    @staticmethod
    def from_str(key):
        try:
            return AUCCurve(str(key).upper())
        except ValueError:
            raise ValueError(
                f'Invalid AUC curve value: "{key}". Expected values are ["PR", "ROC", "PRGAIN"]'
            ) from None


class AUCSummationMethod(StrEnum):
    """AUC's Riemann sums: the mean height of each interval, its lower or its higher end."""

    INTERPOLATION = "interpolation"
    MAJORING = "majoring"
    MINORING = "minoring"

    @staticmethod
    def from_str(key):
        try:
            return AUCSummationMethod(str(key).lower())
        except ValueError:
            raise ValueError(
                f'Invalid AUC summation method value: "{key}". Expected values are '
                '["interpolation", "majoring", "minoring"]'
            ) from None


def squeeze_or_expand_to_same_rank(x1, x2, expand_rank_1=True):
    """Keras's rule: when the ranks differ by one and the longer array ends in an axis of size 1,
    a rank-1 partner gains that axis (if `expand_rank_1`), else the longer one loses it."""
    if x1.ndim == x2.ndim + 1 and x1.shape[-1] == 1:
        if x2.ndim == 1 and expand_rank_1:
            x2 = x2[..., None]
        else:
            x1 = x1[..., 0]
    if x2.ndim == x1.ndim + 1 and x2.shape[-1] == 1:
        if x1.ndim == 1 and expand_rank_1:
            x1 = x1[..., None]
        else:
            x2 = x2[..., 0]
    return x1, x2


def divide_no_nan(a, b):
    """a / b, and 0 where b is 0."""
    a, b = np.asarray(a), np.asarray(b)
    safe = np.where(b == 0, np.ones_like(b), b)
    return np.where(b == 0, np.zeros_like(a / safe), a / safe)


# ---------------------------------------------------------------- thresholds
def parse_init_thresholds(thresholds, default_threshold=0.5):
    """The thresholds as a list (one default when None); each must lie in [0, 1]."""
    if thresholds is not None:
        listed = thresholds if isinstance(thresholds, (list, tuple)) else [thresholds]
        invalid = [t for t in listed if t is None or t < 0 or t > 1]
        if invalid:
            raise ValueError(f"Threshold values must be in [0, 1]. Received: {invalid}")
    thresholds = default_threshold if thresholds is None else thresholds
    return list(thresholds) if isinstance(thresholds, (list, tuple)) else [thresholds]


def is_evenly_distributed_thresholds(thresholds):
    """True for [0, 1/(n−1), 2/(n−1), ..., 1] (n ≥ 3, within ε): then a prediction's bucket is
    found by one product instead of one comparison per threshold."""
    n = len(thresholds)
    if n < 3:
        return False
    even = np.arange(n, dtype=np.float32) / (n - 1)
    return bool(np.allclose(thresholds, even, atol=1e-7))


# ---------------------------------------------------------------- confusion-matrix counts
CONFUSION_KEYS = ("tp", "fp", "tn", "fn")


def filter_top_k(x, k):
    """x where it is among the k largest of its last axis (the first of equal values wins, as
    TensorFlow's `top_k`), NEG_INF elsewhere."""
    top = np.argsort(-x, axis=-1, kind="stable")[..., :k]
    mask = np.zeros_like(x)
    np.put_along_axis(mask, top, 1, axis=-1)
    return x * mask + x.dtype.type(NEG_INF) * (1 - mask)


def update_confusion_matrix_variables(
    variables,
    y_true,
    y_pred,
    thresholds,
    top_k=None,
    class_id=None,
    sample_weight=None,
    multi_label=False,
    label_weights=None,
    thresholds_distributed_evenly=False,
):
    """Add this batch's weighted counts to `variables` ({'tp'|'fp'|'tn'|'fn': variable}), one
    per threshold t: a prediction p is positive when p > t, a label when it is non-zero.

    Flattened (every entry one binary decision) unless `multi_label`, where each column keeps
    its own counts (variables of shape (thresholds, labels))."""
    invalid = [key for key in variables if key not in CONFUSION_KEYS]
    if invalid:
        raise ValueError(
            f'Invalid keys: "{invalid}". Valid variable key options are: "{CONFUSION_KEYS}"'
        )
    dtype = next(iter(variables.values())).dtype
    y_true = np.asarray(y_true).astype(dtype)
    y_pred = np.asarray(y_pred).astype(dtype)
    y_pred, y_true = squeeze_or_expand_to_same_rank(y_pred, y_true)
    if sample_weight is not None:
        sample_weight = np.expand_dims(np.asarray(sample_weight).astype(dtype), -1)
        _, sample_weight = squeeze_or_expand_to_same_rank(y_true, sample_weight, False)
    if top_k is not None:
        y_pred = filter_top_k(y_pred, top_k)
    if class_id is not None:
        if y_pred.ndim == 1:
            raise ValueError(
                "When class_id is provided, y_pred must be a 2D array with shape "
                f"(num_samples, num_classes), found shape: {y_pred.shape}"
            )
        y_true = y_true[..., class_id, None]
        y_pred = y_pred[..., class_id, None]
    weights = 1
    if sample_weight is not None:
        weights = np.broadcast_to(sample_weight, y_pred.shape)
    if label_weights is not None and not multi_label:
        weights = weights * np.broadcast_to(np.asarray(label_weights, dtype), y_pred.shape)
    weights = np.broadcast_to(np.asarray(weights, dtype), y_pred.shape)
    if multi_label:  # (labels, entries): one row of decisions per label
        y_true = y_true.reshape(-1, y_true.shape[-1]).T
        y_pred = y_pred.reshape(-1, y_pred.shape[-1]).T
        weights = weights.reshape(-1, weights.shape[-1]).T
    else:  # one row of every decision
        y_true, y_pred, weights = (
            y_true.reshape(1, -1),
            y_pred.reshape(1, -1),
            weights.reshape(1, -1),
        )
    label_is_pos = y_true.astype(bool)
    if thresholds_distributed_evenly:
        with_epsilon = thresholds[0] < 0.0 or thresholds[-1] > 1.0
        counts = _counts_by_buckets(label_is_pos, y_pred, weights, len(thresholds), with_epsilon)
    else:
        counts = _counts_by_comparison(label_is_pos, y_pred, weights, np.asarray(thresholds, dtype))
    for key, variable in variables.items():
        variable.assign(variable + (counts[key] if multi_label else counts[key][:, 0]))


def _counts_by_comparison(label_is_pos, y_pred, weights, thresholds):
    """{tp, fp, tn, fn}, each (thresholds, rows): Σ over entries of the weight where the label
    and the decision p > t agree with the count's name."""
    pred_is_pos = y_pred[None, :, :] > thresholds[:, None, None]  # (thresholds, rows, entries)
    label_is_pos = label_is_pos[None]

    def weighted_count(condition):
        return np.sum(np.where(condition, weights[None], 0), axis=-1, dtype=weights.dtype)

    return {
        "tp": weighted_count(label_is_pos & pred_is_pos),
        "fp": weighted_count(~label_is_pos & pred_is_pos),
        "tn": weighted_count(~label_is_pos & ~pred_is_pos),
        "fn": weighted_count(label_is_pos & ~pred_is_pos),
    }


def _counts_by_buckets(label_is_pos, y_pred, weights, num_thresholds, with_epsilon):
    """The same counts for thresholds tᵢ = i/(T−1): p lies above t₀..t_b for its bucket
    b = ⌈p·(T−1)⌉ − 1, so tp(tᵢ) = Σ_{b ≥ i} (weight of positive labels in bucket b), a reversed
    cumulative sum (p = 0 is in no bucket: above no threshold, unless t₀ is −ε)."""
    dtype = y_pred.dtype
    y_pred = np.clip(y_pred, 0, 1)
    true_labels = label_is_pos * weights
    false_labels = (1 - label_is_pos.astype(dtype)) * weights
    buckets = np.ceil(y_pred * (dtype.type(num_thresholds) - 1)) - 1
    if with_epsilon:  # t₀ = −ε: p = 0 is above it
        buckets = np.maximum(buckets, 0)
    buckets = buckets.astype(np.int64)

    def reversed_cumsum(labels):
        per_bucket = np.zeros((labels.shape[0], num_thresholds), dtype)
        for row in range(labels.shape[0]):
            kept = buckets[row] >= 0  # a negative bucket is dropped, as unsorted_segment_sum
            np.add.at(per_bucket[row], buckets[row][kept], labels[row][kept])
        return np.flip(np.cumsum(np.flip(per_bucket, -1), axis=-1), -1).T

    tp, fp = reversed_cumsum(true_labels), reversed_cumsum(false_labels)
    total_true = np.sum(true_labels, axis=-1, dtype=dtype)
    total_false = np.sum(false_labels, axis=-1, dtype=dtype)
    return {"tp": tp, "fp": fp, "tn": total_false - fp, "fn": total_true - tp}
