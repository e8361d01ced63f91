"""Intersection over union, from a running confusion matrix (rows: true class, columns:
predicted class): IoU of class c = tp / (tp + fp + fn) = cm[c, c] / (row c + column c − cm[c, c]),
averaged over the target classes that occurred.

The confusion matrix is kept in integers by default (Keras's dtype 'int' → int64), so float
sample weights are truncated to integers there, as in Keras.
"""

import warnings

import numpy as np

from minikeras import config
from minikeras.metrics.metric import Metric


def confusion_matrix(labels, predictions, num_classes, weights, dtype):
    """cm[i, j] = Σ weight of the entries with label i predicted j."""
    cm = np.zeros((num_classes, num_classes), dtype)
    np.add.at(cm, (labels.astype(np.int64), predictions.astype(np.int64)), weights)
    return cm


class _IoUBase(Metric):
    """The running confusion matrix of class ids (or of argmax of one-hot rows)."""

    def __init__(
        self,
        num_classes,
        name=None,
        dtype=None,
        ignore_class=None,
        sparse_y_true=True,
        sparse_y_pred=True,
        axis=-1,
    ):
        super().__init__(name=name, dtype=dtype or "int")
        self.num_classes = num_classes
        self.ignore_class = ignore_class
        self.sparse_y_true = sparse_y_true
        self.sparse_y_pred = sparse_y_pred
        self.axis = axis
        self.total_cm = self.add_variable(
            (num_classes, num_classes), "zeros", dtype=self.dtype, name="total_confusion_matrix"
        )

    def update_state(self, y_true, y_pred, sample_weight=None):
        if not self.sparse_y_true:
            y_true = np.argmax(y_true, axis=self.axis)
        if not self.sparse_y_pred:
            y_pred = np.argmax(y_pred, axis=self.axis)
        y_true = np.asarray(y_true).astype(self.dtype).reshape(-1)
        y_pred = np.asarray(y_pred).astype(self.dtype).reshape(-1)
        if sample_weight is None:
            sample_weight = 1
        elif np.asarray(sample_weight).dtype.kind == "f" and "int" in self.dtype:
            warnings.warn(
                "You are passing weight as `float`, but dtype is `int`. This may result in an "
                "incorrect weight due to type casting Consider using integer weights.",
                stacklevel=2,
            )
        sample_weight = np.asarray(sample_weight).astype(self.dtype).reshape(-1)
        sample_weight = np.broadcast_to(sample_weight, y_true.shape)
        # entries outside [0, num_classes) (and the ignored class) count nowhere
        in_bounds = (y_true >= 0) & (y_true < self.num_classes)
        in_bounds &= (y_pred >= 0) & (y_pred < self.num_classes)
        if self.ignore_class is not None:
            in_bounds &= y_true != self.ignore_class
        y_true = np.where(in_bounds, y_true, 0)
        y_pred = np.where(in_bounds, y_pred, 0)
        sample_weight = np.where(in_bounds, sample_weight, 0).astype(self.dtype)
        cm = confusion_matrix(y_true, y_pred, self.num_classes, sample_weight, self.dtype)
        self.total_cm.assign(self.total_cm + cm)

    def reset_state(self):
        self.total_cm.assign(0)


class IoU(_IoUBase):
    """The mean IoU of the classes `target_class_ids` (those that never occurred, in labels or
    predictions, are left out of the mean).

    >>> m = IoU(num_classes=2, target_class_ids=[0])
    >>> round(float(m([0, 0, 1, 1], [0, 1, 0, 1])), 4)
    0.3333
    """

    _direction = "up"

    def __init__(
        self,
        num_classes,
        target_class_ids,
        name=None,
        dtype=None,
        ignore_class=None,
        sparse_y_true=True,
        sparse_y_pred=True,
        axis=-1,
    ):
        super().__init__(
            name=name,
            num_classes=num_classes,
            ignore_class=ignore_class,
            sparse_y_true=sparse_y_true,
            sparse_y_pred=sparse_y_pred,
            axis=axis,
            dtype=dtype,
        )
        if max(target_class_ids) >= num_classes:
            raise ValueError(
                f"Target class id {max(target_class_ids)} is out of range, which is "
                f"[0, {num_classes})."
            )
        self.target_class_ids = list(target_class_ids)

    def result(self):
        cm = self.total_cm.value
        sum_over_row = np.sum(cm, axis=0).astype(self.dtype)
        sum_over_col = np.sum(cm, axis=1).astype(self.dtype)
        true_positives = np.diag(cm).astype(self.dtype)
        denominator = sum_over_row + sum_over_col - true_positives
        ids = np.asarray(self.target_class_ids, np.int32)
        true_positives = true_positives[ids].astype(np.float32)
        denominator = denominator[ids].astype(np.float32)
        valid_entries = (denominator > 1e-9).astype(np.float32)
        eps = np.float32(config.epsilon())
        iou = np.where(valid_entries, true_positives / (denominator + eps), np.float32(0))
        return np.sum(iou, axis=self.axis) / (np.sum(valid_entries) + eps)

    def get_config(self):
        return {
            **super().get_config(),
            "num_classes": self.num_classes,
            "target_class_ids": self.target_class_ids,
            "ignore_class": self.ignore_class,
            "sparse_y_true": self.sparse_y_true,
            "sparse_y_pred": self.sparse_y_pred,
            "axis": self.axis,
        }


class BinaryIoU(IoU):
    """IoU of binary labels against predictions thresholded at `threshold` (p ≥ threshold is 1).

    >>> m = BinaryIoU(target_class_ids=[0, 1], threshold=0.3)
    >>> round(float(m([0, 1, 0, 1], [0.1, 0.2, 0.4, 0.7])), 4)
    0.3333
    """

    _direction = "up"

    def __init__(self, target_class_ids=(0, 1), threshold=0.5, name=None, dtype=None):
        super().__init__(num_classes=2, target_class_ids=target_class_ids, name=name, dtype=dtype)
        self.threshold = threshold

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true = np.asarray(y_true).astype(self.dtype)
        y_pred = (np.asarray(y_pred).astype(np.float32) >= self.threshold).astype(self.dtype)
        return super().update_state(y_true, y_pred, sample_weight)

    def get_config(self):
        return {
            "target_class_ids": self.target_class_ids,
            "threshold": self.threshold,
            "name": self.name,
            "dtype": self.dtype,
        }


class MeanIoU(IoU):
    """The mean IoU over every class.

    >>> m = MeanIoU(num_classes=2)
    >>> round(float(m([0, 0, 1, 1], [0, 1, 0, 1])), 4)
    0.3333
    """

    _direction = "up"

    def __init__(
        self,
        num_classes,
        name=None,
        dtype=None,
        ignore_class=None,
        sparse_y_true=True,
        sparse_y_pred=True,
        axis=-1,
    ):
        super().__init__(
            name=name,
            num_classes=num_classes,
            target_class_ids=list(range(num_classes)),
            axis=axis,
            dtype=dtype,
            ignore_class=ignore_class,
            sparse_y_true=sparse_y_true,
            sparse_y_pred=sparse_y_pred,
        )

    def get_config(self):
        return {
            "num_classes": self.num_classes,
            "name": self.name,
            "dtype": self.dtype,
            "ignore_class": self.ignore_class,
            "sparse_y_true": self.sparse_y_true,
            "sparse_y_pred": self.sparse_y_pred,
            "axis": self.axis,
        }


class OneHotIoU(IoU):
    """IoU with one-hot labels (and, unless `sparse_y_pred`, scores whose argmax is the class)."""

    _direction = "up"

    def __init__(
        self,
        num_classes,
        target_class_ids,
        name=None,
        dtype=None,
        ignore_class=None,
        sparse_y_pred=False,
        axis=-1,
    ):
        super().__init__(
            num_classes=num_classes,
            target_class_ids=target_class_ids,
            name=name,
            dtype=dtype,
            ignore_class=ignore_class,
            sparse_y_true=False,
            sparse_y_pred=sparse_y_pred,
            axis=axis,
        )

    def get_config(self):
        return {
            "num_classes": self.num_classes,
            "target_class_ids": self.target_class_ids,
            "name": self.name,
            "dtype": self.dtype,
            "ignore_class": self.ignore_class,
            "sparse_y_pred": self.sparse_y_pred,
            "axis": self.axis,
        }


class OneHotMeanIoU(MeanIoU):
    """The mean IoU over every class, with one-hot labels."""

    _direction = "up"

    def __init__(
        self, num_classes, name=None, dtype=None, ignore_class=None, sparse_y_pred=False, axis=-1
    ):
        super().__init__(
            num_classes=num_classes,
            axis=axis,
            name=name,
            dtype=dtype,
            ignore_class=ignore_class,
            sparse_y_true=False,
            sparse_y_pred=sparse_y_pred,
        )

    def get_config(self):
        return {
            "num_classes": self.num_classes,
            "name": self.name,
            "dtype": self.dtype,
            "ignore_class": self.ignore_class,
            "sparse_y_pred": self.sparse_y_pred,
            "axis": self.axis,
        }
