"""Correlations along an axis (by default each sample's row), averaged over samples."""

import numpy as np

from minikeras import config
from minikeras.metrics.metrics_utils import squeeze_or_expand_to_same_rank
from minikeras.metrics.reduction_metrics import MeanMetricWrapper


def _pair(y_true, y_pred):
    y_pred = np.asarray(y_pred)
    if y_pred.dtype.kind != "f":
        y_pred = y_pred.astype(config.floatx())
    y_true = np.asarray(y_true).astype(y_pred.dtype, copy=False)
    return squeeze_or_expand_to_same_rank(y_true, y_pred)


def pearson_correlation(y_true, y_pred, axis=-1):
    """mean(ỹ·p̃) with ỹ, p̃ centred and divided by their standard deviation along `axis`."""
    y_true, y_pred = _pair(y_true, y_pred)
    y_true = y_true - np.mean(y_true, axis=axis, keepdims=True)
    y_pred = y_pred - np.mean(y_pred, axis=axis, keepdims=True)
    y_true = y_true / np.std(y_true, axis=axis, keepdims=True)
    y_pred = y_pred / np.std(y_pred, axis=axis, keepdims=True)
    return np.mean(y_true * y_pred, axis=axis)


def concordance_correlation(y_true, y_pred, axis=-1):
    """Lin's concordance 2·cov / (var_y + var_p + (ȳ − p̄)² + ε), as Keras computes it: its
    covariance term centres y_true on the mean of y_pred, (y − p̄)(p − p̄), and so does this."""
    y_true, y_pred = _pair(y_true, y_pred)
    y_true_mean = np.mean(y_true, axis=axis, keepdims=True)
    y_pred_mean = np.mean(y_pred, axis=axis, keepdims=True)
    y_true_var = np.var(y_true - y_true_mean, axis=axis, keepdims=True)
    y_pred_var = np.var(y_pred - y_pred_mean, axis=axis, keepdims=True)
    covar = (y_true - y_pred_mean) * (y_pred - y_pred_mean)
    norm = y_true_var + y_pred_var + np.square(y_true_mean - y_pred_mean)
    return np.mean(2 * covar / (norm + y_pred.dtype.type(config.epsilon())), axis=axis)


class PearsonCorrelation(MeanMetricWrapper):
    """The mean Pearson correlation of labels and predictions."""

    _direction = "up"

    def __init__(self, name="pearson_correlation", dtype=None, axis=-1):
        super().__init__(fn=pearson_correlation, name=name, dtype=dtype, axis=axis)
        self.axis = axis

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype, "axis": self.axis}


class ConcordanceCorrelation(MeanMetricWrapper):
    """The mean concordance correlation of labels and predictions."""

    _direction = "up"

    def __init__(self, name="concordance_correlation", dtype=None, axis=-1):
        super().__init__(fn=concordance_correlation, name=name, dtype=dtype, axis=axis)
        self.axis = axis

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype, "axis": self.axis}
