"""How often predictions match labels: per-sample functions (1 for a hit, 0 for a miss, in
floatx) and the metrics that average them over every sample seen."""

import numpy as np

from minikeras import config
from minikeras.metrics.metrics_utils import squeeze_or_expand_to_same_rank
from minikeras.metrics.reduction_metrics import MeanMetricWrapper
from minikeras.ops.math import in_top_k


def _as_arrays(y_true, y_pred):
    y_pred = np.asarray(y_pred)
    return np.asarray(y_true), y_pred


def accuracy(y_true, y_pred):
    """1 where y_pred equals y_true exactly."""
    y_true, y_pred = _as_arrays(y_true, y_pred)
    y_true, y_pred = squeeze_or_expand_to_same_rank(y_true.astype(y_pred.dtype), y_pred)
    return (y_true == y_pred).astype(config.floatx())


def binary_accuracy(y_true, y_pred, threshold=0.5):
    """1 where (y_pred > threshold) equals the label, entry by entry."""
    y_true, y_pred = squeeze_or_expand_to_same_rank(*_as_arrays(y_true, y_pred))
    y_pred = (y_pred > threshold).astype(y_true.dtype)
    return (y_true == y_pred).astype(config.floatx())


def categorical_accuracy(y_true, y_pred):
    """1 where argmax(y_pred) equals argmax(y_true) (the first maximum wins a tie)."""
    y_true, y_pred = _as_arrays(y_true, y_pred)
    true_class = np.argmax(y_true, axis=-1)
    shape = true_class.shape
    if true_class.ndim == y_pred.ndim:  # labels (N, 1) with predictions (N,): as Keras squeezes
        true_class = np.squeeze(true_class, -1)
    matches = (true_class == np.argmax(y_pred, axis=-1)).astype(config.floatx())
    return matches.reshape(shape) if true_class.shape != shape else matches


def sparse_categorical_accuracy(y_true, y_pred):
    """1 where argmax(y_pred) equals the integer label."""
    y_true, y_pred = _as_arrays(y_true, y_pred)
    y_true = y_true.astype(y_pred.dtype)
    shape = y_true.shape
    squeezed = y_true.ndim == y_pred.ndim and y_true.shape[-1] == 1
    if squeezed:
        y_true = y_true[..., 0]
    matches = (y_true == np.argmax(y_pred, axis=-1)).astype(config.floatx())
    if squeezed:
        matches = matches.reshape(shape)
    if matches.ndim > 1 and matches.shape[-1] == 1:
        matches = matches[..., 0]
    return matches


def top_k_categorical_accuracy(y_true, y_pred, k=5):
    """1 where argmax(y_true) is among the k highest predictions."""
    y_true, y_pred = _as_arrays(y_true, y_pred)
    true_class = np.argmax(y_true, axis=-1)
    shape = true_class.shape
    y_pred = y_pred.reshape(-1, y_pred.shape[-1])
    matches = in_top_k(true_class.reshape(-1), y_pred, k).astype(config.floatx())
    return matches.reshape(shape)


def sparse_top_k_categorical_accuracy(y_true, y_pred, k=5, from_sorted_ids=False):
    """1 where the integer label is among the k highest predictions (or, `from_sorted_ids`,
    among the first k ids of y_pred, ids sorted by score)."""
    y_true, y_pred = _as_arrays(y_true, y_pred)
    if y_true.ndim == y_pred.ndim and y_true.shape[-1] == 1:
        y_true = y_true[..., 0]  # labels (N, 1) for predictions (N, classes)
    if y_true.shape != y_pred.shape[:-1]:
        # TensorFlow fails inside in_top_k (InvalidArgumentError); a clear ValueError here
        raise ValueError(
            "sparse_top_k_categorical_accuracy expects one integer label per prediction row: "
            f"y_true of shape {y_pred.shape[:-1]} (or with a last axis of 1) for y_pred of "
            f"shape {y_pred.shape}. Received: y_true.shape={y_true.shape}. For one-hot labels "
            "use top_k_categorical_accuracy."
        )
    shape = y_true.shape
    y_true = y_true.reshape(-1)
    y_pred = y_pred.reshape(-1, y_pred.shape[-1])
    if from_sorted_ids:
        matches = np.any(y_true.astype(y_pred.dtype)[:, None] == y_pred[:, :k], axis=1)
    else:
        matches = in_top_k(y_true.astype(np.int32), y_pred, k)
    return matches.astype(config.floatx()).reshape(shape)


class Accuracy(MeanMetricWrapper):
    """How often predictions equal labels.

    >>> float(Accuracy()([[1], [2], [3], [4]], [[0], [2], [3], [4]]))
    0.75
    """

    _direction = "up"

    def __init__(self, name="accuracy", dtype=None):
        super().__init__(fn=accuracy, name=name, dtype=dtype)

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}


class BinaryAccuracy(MeanMetricWrapper):
    """How often (prediction > threshold) matches the binary label.

    >>> float(BinaryAccuracy()([[1], [1], [0], [0]], [[0.98], [1], [0], [0.6]]))
    0.75
    """

    _direction = "up"

    def __init__(self, name="binary_accuracy", dtype=None, threshold=0.5):
        super().__init__(fn=binary_accuracy, name=name, dtype=dtype, threshold=threshold)
        self.threshold = threshold

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype, "threshold": self.threshold}


class CategoricalAccuracy(MeanMetricWrapper):
    """How often argmax(prediction) matches argmax(one-hot label).

    >>> float(CategoricalAccuracy()([[0, 0, 1], [0, 1, 0]], [[0.1, 0.9, 0.8], [0.05, 0.95, 0]]))
    0.5
    """

    _direction = "up"

    def __init__(self, name="categorical_accuracy", dtype=None):
        super().__init__(fn=categorical_accuracy, name=name, dtype=dtype)
        self._argmax_buffers = {}  # batch shape → (argmax of y, argmax of p, hits), reused

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
        if sample_weight is not None or y_true.shape != y_pred.shape or y_pred.ndim != 2:
            return super().update_state(y_true, y_pred, sample_weight)
        # fit's unweighted step: count the hits into reused buffers, no float array per sample
        shape = y_pred.shape[:-1]
        if shape not in self._argmax_buffers:
            self._argmax_buffers[shape] = (
                np.empty(shape, np.intp),
                np.empty(shape, np.intp),
                np.empty(shape, bool),
            )
        true_class, pred_class, hits = self._argmax_buffers[shape]
        np.equal(
            np.argmax(y_true, axis=-1, out=true_class),
            np.argmax(y_pred, axis=-1, out=pred_class),
            out=hits,
        )
        self.total.assign_add(np.count_nonzero(hits))
        self.count.assign_add(hits.size)

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}


class SparseCategoricalAccuracy(MeanMetricWrapper):
    """How often argmax(prediction) matches the integer label.

    >>> float(SparseCategoricalAccuracy()([[2], [1]], [[0.1, 0.6, 0.3], [0.05, 0.95, 0]]))
    0.5
    """

    _direction = "up"

    def __init__(self, name="sparse_categorical_accuracy", dtype=None):
        super().__init__(fn=sparse_categorical_accuracy, name=name, dtype=dtype)

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}


class TopKCategoricalAccuracy(MeanMetricWrapper):
    """How often the one-hot label's class is among the k highest predictions.

    >>> m = TopKCategoricalAccuracy(k=1)
    >>> float(m([[0, 0, 1], [0, 1, 0]], [[0.1, 0.9, 0.8], [0.05, 0.95, 0]]))
    0.5
    """

    _direction = "up"

    def __init__(self, k=5, name="top_k_categorical_accuracy", dtype=None):
        super().__init__(fn=top_k_categorical_accuracy, name=name, dtype=dtype, k=k)
        self.k = k

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype, "k": self.k}


class SparseTopKCategoricalAccuracy(MeanMetricWrapper):
    """How often the integer label is among the k highest predictions.

    >>> float(SparseTopKCategoricalAccuracy(k=1)([2, 1], [[0.1, 0.9, 0.8], [0.05, 0.95, 0]]))
    0.5
    """

    _direction = "up"

    def __init__(
        self, k=5, name="sparse_top_k_categorical_accuracy", dtype=None, from_sorted_ids=False
    ):
        super().__init__(
            fn=sparse_top_k_categorical_accuracy,
            name=name,
            dtype=dtype,
            k=k,
            from_sorted_ids=from_sorted_ids,
        )
        self.k = k
        self.from_sorted_ids = from_sorted_ids

    def get_config(self):
        config = {"name": self.name, "dtype": self.dtype, "k": self.k}
        if self.from_sorted_ids:  # written only when set, as Keras
            config["from_sorted_ids"] = True
        return config
