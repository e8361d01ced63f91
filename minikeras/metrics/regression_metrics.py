"""Regression metrics: running means of per-sample errors, the root of the mean squared error,
and the coefficient of determination R²."""

import warnings

import numpy as np

from minikeras import config, losses
from minikeras.metrics.metric import Metric
from minikeras.metrics.metrics_utils import squeeze_or_expand_to_same_rank
from minikeras.metrics.reduction_metrics import Mean, MeanMetricWrapper


def _pair(y_true, y_pred):
    """Both as arrays of y_pred's float type, their ranks made to agree."""
    y_pred = np.asarray(y_pred)
    if y_pred.dtype.kind != "f":
        y_pred = y_pred.astype(config.floatx())
    y_true = np.asarray(y_true).astype(y_pred.dtype, copy=False)
    return squeeze_or_expand_to_same_rank(y_true, y_pred)


def mean_squared_error(y_true, y_pred):
    """mean((y_pred − y_true)²) over the last axis."""
    return losses.mean_squared_error(y_true, y_pred)


def mean_absolute_error(y_true, y_pred):
    """mean(|y_pred − y_true|) over the last axis."""
    return losses.mean_absolute_error(y_true, y_pred)


def mean_absolute_percentage_error(y_true, y_pred):
    """100 · mean(|y_true − y_pred| / max(|y_true|, ε)) over the last axis."""
    y_true, y_pred = _pair(y_true, y_pred)
    eps = y_pred.dtype.type(config.epsilon())
    diff = np.abs((y_true - y_pred) / np.maximum(np.abs(y_true), eps))
    return y_pred.dtype.type(100.0) * np.mean(diff, axis=-1)


def mean_squared_logarithmic_error(y_true, y_pred):
    """mean((log(max(y_pred, ε) + 1) − log(max(y_true, ε) + 1))²) over the last axis."""
    y_true, y_pred = _pair(y_true, y_pred)
    eps = y_pred.dtype.type(config.epsilon())
    first_log = np.log(np.maximum(y_pred, eps) + 1)
    second_log = np.log(np.maximum(y_true, eps) + 1)
    return np.mean(np.square(first_log - second_log), axis=-1)


def log_cosh(y_true, y_pred):
    """mean(log(cosh(y_pred − y_true))) over the last axis, as x + softplus(−2x) − log 2, which
    does not overflow for large |x|."""
    y_true, y_pred = _pair(y_true, y_pred)
    x = y_pred - y_true
    log2 = y_pred.dtype.type(np.log(2.0))
    return np.mean(x + np.logaddexp(0, -2 * x).astype(x.dtype) - log2, axis=-1)


def normalize(x, axis=-1):
    """x · min(1/‖x‖₂, 1/ε) along `axis`, as Keras's `ops.normalize` (a zero row stays 0)."""
    with np.errstate(divide="ignore"):
        inv_norm = 1 / np.sqrt(np.sum(np.square(x), axis=axis, keepdims=True))
    return x * np.minimum(inv_norm, x.dtype.type(1 / config.epsilon()))


def cosine_similarity(y_true, y_pred, axis=-1):
    """Σ (y_true/‖y_true‖)·(y_pred/‖y_pred‖) along `axis`."""
    y_true, y_pred = _pair(y_true, y_pred)
    return np.sum(normalize(y_true, axis) * normalize(y_pred, axis), axis=axis)


class MeanSquaredError(MeanMetricWrapper):
    """The mean of the squared errors.

    >>> float(MeanSquaredError()([[0, 1], [0, 0]], [[1, 1], [0, 0]]))
    0.25
    """

    _direction = "down"

    def __init__(self, name="mean_squared_error", dtype=None):
        super().__init__(fn=mean_squared_error, name=name, dtype=dtype)

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}


class MeanAbsoluteError(MeanMetricWrapper):
    """The mean of the absolute errors."""

    _direction = "down"

    def __init__(self, name="mean_absolute_error", dtype=None):
        super().__init__(mean_absolute_error, name, dtype=dtype)

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}


class MeanAbsolutePercentageError(MeanMetricWrapper):
    """The mean of the absolute errors, in percent of the labels."""

    _direction = "down"

    def __init__(self, name="mean_absolute_percentage_error", dtype=None):
        super().__init__(mean_absolute_percentage_error, name, dtype=dtype)

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}


class MeanSquaredLogarithmicError(MeanMetricWrapper):
    """The mean of the squared differences of log(1 + y)."""

    _direction = "down"

    def __init__(self, name="mean_squared_logarithmic_error", dtype=None):
        super().__init__(mean_squared_logarithmic_error, name, dtype=dtype)

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}


class CosineSimilarity(MeanMetricWrapper):
    """The mean cosine of the angle between labels and predictions (along `axis`)."""

    _direction = "up"

    def __init__(self, name="cosine_similarity", dtype=None, axis=-1):
        super().__init__(cosine_similarity, name, dtype=dtype, axis=axis)

    def get_config(self):  # Keras leaves `axis` out of the config
        return {"name": self.name, "dtype": self.dtype}


class LogCoshError(MeanMetricWrapper):
    """The mean of log(cosh(error))."""

    _direction = "down"

    def __init__(self, name="logcosh", dtype=None):
        super().__init__(log_cosh, name, dtype=dtype)

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}


class RootMeanSquaredError(Mean):
    """√(Σ wᵢ·(y_pred − y_true)²ᵢ / Σ wᵢ): the root of the running mean, not a mean of roots.

    >>> float(RootMeanSquaredError()([[0, 1], [0, 0]], [[1, 1], [0, 0]]))
    0.5
    """

    _direction = "down"

    def __init__(self, name="root_mean_squared_error", dtype=None):
        super().__init__(name=name, dtype=dtype)

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true = np.asarray(y_true).astype(self.dtype)
        y_pred = np.asarray(y_pred).astype(self.dtype)
        y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
        return super().update_state(np.square(y_pred - y_true), sample_weight=sample_weight)

    def result(self):
        return np.sqrt(super().result())


class R2Score(Metric):
    """The coefficient of determination, per output column: 1 − Σ w(y − ŷ)² / Σ w(y − ȳ)²,
    then averaged over the columns ('uniform_average'), weighted by their variance
    ('variance_weighted_average') or not (None); `num_regressors` p > 0 adjusts it:
    1 − (1 − R²)(n − 1)/(n − p − 1), n the number of entries seen."""

    _direction = "up"

    def __init__(
        self, class_aggregation="uniform_average", num_regressors=0, name="r2_score", dtype=None
    ):
        super().__init__(name=name, dtype=dtype)
        valid = (None, "uniform_average", "variance_weighted_average")
        if class_aggregation not in valid:
            raise ValueError(
                "Invalid value for argument `class_aggregation`. Expected one of "
                f"{valid}. Received: class_aggregation={class_aggregation}"
            )
        if num_regressors < 0:
            raise ValueError(
                "Invalid value for argument `num_regressors`. Expected a value >= 0. "
                f"Received: num_regressors={num_regressors}"
            )
        self.class_aggregation = class_aggregation
        self.num_regressors = num_regressors
        self.num_samples = self.add_variable(shape=(), initializer="zeros", name="num_samples")
        self._built = False

    def _build(self, y_true_shape, y_pred_shape):
        if len(y_pred_shape) != 2 or len(y_true_shape) != 2:
            raise ValueError(
                "R2Score expects 2D inputs with shape (batch_size, output_dim). Received input "
                f"shapes: y_pred.shape={y_pred_shape} and y_true.shape={y_true_shape}."
            )
        columns = (y_pred_shape[-1],)
        self.squared_sum = self.add_variable(columns, "zeros", name="squared_sum")
        self.sum = self.add_variable(columns, "zeros", name="sum")
        self.total_mse = self.add_variable(columns, "zeros", name="residual")
        self.count = self.add_variable(columns, "zeros", name="count")
        self._built = True

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true = np.asarray(y_true).astype(self.dtype)
        y_pred = np.asarray(y_pred).astype(self.dtype)
        y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
        if not self._built:
            self._build(y_true.shape, y_pred.shape)
        w = np.asarray(1 if sample_weight is None else sample_weight).astype(self.dtype)
        if w.ndim == 1:
            w = w[:, None]
        w = np.broadcast_to(w, y_true.shape)
        weighted_y_true = y_true * w
        self.sum.assign(self.sum + np.sum(weighted_y_true, axis=0))
        self.squared_sum.assign(self.squared_sum + np.sum(y_true * weighted_y_true, axis=0))
        self.total_mse.assign(self.total_mse + np.sum((y_true - y_pred) ** 2 * w, axis=0))
        self.count.assign(self.count + np.sum(w, axis=0))
        self.num_samples.assign(self.num_samples + y_true.size)

    def result(self):
        with np.errstate(divide="ignore", invalid="ignore"):
            mean = self.sum / self.count
            total = self.squared_sum - self.sum * mean
            raw_scores = 1 - self.total_mse / total
        raw_scores = np.where(np.isinf(raw_scores), 0.0, raw_scores).astype(self.dtype)
        if self.class_aggregation == "uniform_average":
            r2 = np.mean(raw_scores)
        elif self.class_aggregation == "variance_weighted_average":
            r2 = np.sum(total * raw_scores) / np.sum(total)
        else:
            r2 = raw_scores
        if self.num_regressors != 0:
            n, p = float(self.num_samples), self.num_regressors
            if p > n - 1:
                warnings.warn(
                    "More independent predictors than datapoints in adjusted R2 score. Falling "
                    "back to standard R2 score.",
                    stacklevel=2,
                )
            elif p == n - 1:
                warnings.warn(
                    "Division by zero in Adjusted R2 score. Falling back to standard R2 score.",
                    stacklevel=2,
                )
            else:
                n, p = np.float32(n), np.float32(p)
                r2 = 1 - (1 - r2) * (n - 1) / (n - p - 1)
        return r2

    def reset_state(self):
        for variable in self.variables:
            variable.assign(0)

    def get_config(self):
        return {
            **super().get_config(),
            "class_aggregation": self.class_aggregation,
            "num_regressors": self.num_regressors,
        }
