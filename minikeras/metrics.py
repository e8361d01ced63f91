"""Metrics: running means over the samples seen, as Keras's `Mean` and `MeanMetricWrapper`.

A metric function returns one value per sample; a metric object accumulates
total = Σ wᵢ·valueᵢ and count = Σ wᵢ, and its `result()` is total / count.

>>> import numpy as np
>>> from minikeras import metrics
>>> m = metrics.CategoricalAccuracy()
>>> m.update_state(np.eye(2), np.array([[0.9, 0.1], [0.8, 0.2]]))
>>> float(m.result())
0.5
"""

import numpy as np

from minikeras import losses


# -- per-sample metric functions (Keras's names)
def binary_accuracy(y_true, y_pred, threshold=0.5):
    """1 where (p > threshold) equals the label, entry by entry, as Keras 3 (the metric then
    averages them, so weights may be given per sample or per entry)."""
    y_true, y_pred = losses.same_rank(np.asarray(y_true), np.asarray(y_pred))
    return ((y_pred > threshold).astype(y_true.dtype) == y_true).astype(np.float64)


def categorical_accuracy(y_true, y_pred):
    """1 where argmax(p) equals argmax(y) (the first maximum wins a tie, as in Keras)."""
    return (np.argmax(y_true, axis=-1) == np.argmax(y_pred, axis=-1)).astype(np.float64)


def sparse_categorical_accuracy(y_true, y_pred):
    """1 where argmax(p) equals the integer label y."""
    y_true = np.asarray(y_true)
    y_pred = np.asarray(y_pred)
    if y_true.ndim == y_pred.ndim and y_true.shape[-1] == 1:
        y_true = y_true[..., 0]
    return (y_true.astype(np.int64) == np.argmax(y_pred, axis=-1)).astype(np.float64)


def mean_squared_error(y_true, y_pred):
    return losses.mean_squared_error(y_true, y_pred)


def mean_absolute_error(y_true, y_pred):
    return losses.mean_absolute_error(y_true, y_pred)


mse = mean_squared_error
mae = mean_absolute_error


# -- stateful metric objects
class Metric:
    """Base class: `update_state`, `result`, `reset_state`."""

    def __init__(self, name=None, dtype=None):
        self.name = name or type(self).__name__
        self.dtype = dtype

    def reset_state(self):
        raise NotImplementedError

    def update_state(self, *args, **kwargs):
        raise NotImplementedError

    def result(self):
        raise NotImplementedError

    def __call__(self, *args, **kwargs):
        """`update_state(...)` then `result()`, as Keras's metrics do when called."""
        self.update_state(*args, **kwargs)
        return self.result()

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


class Mean(Metric):
    """The weighted mean of every value given: Σ wᵢ·vᵢ / Σ wᵢ."""

    def __init__(self, name="mean", dtype=None):
        super().__init__(name, dtype)
        self.reset_state()

    def reset_state(self):
        self.total = 0.0
        self.count = 0.0

    def update_state(self, values, sample_weight=None):
        if isinstance(values, (float, np.floating)) and isinstance(sample_weight, int):
            # the loss tracker, every step: one number, weighted by the batch size; no array
            self.total += float(values) * float(sample_weight)
            self.count += float(sample_weight)
            return
        values = np.asarray(values, dtype=np.float64)
        if sample_weight is None or np.ndim(sample_weight) == 0:
            # one weight for every value (the loss tracker's is the batch size)
            w = 1.0 if sample_weight is None else float(sample_weight)
            self.total += float(values.sum()) * w
            self.count += values.size * w
            return
        w = np.asarray(sample_weight, dtype=np.float64)
        w = w.reshape(w.shape + (1,) * (values.ndim - w.ndim))  # per-sample → per-value
        w = np.broadcast_to(w, values.shape)
        self.total += float((values * w).sum())
        self.count += float(w.sum())

    def result(self):
        return self.total / self.count if self.count else 0.0


class MeanMetricWrapper(Mean):
    """Wraps a per-sample function `fn(y_true, y_pred)` into a running mean over samples."""

    def __init__(self, fn, name=None, dtype=None, **kwargs):
        super().__init__(name or getattr(fn, "__name__", "metric"), dtype)
        self.fn = fn
        self.fn_kwargs = kwargs

    def update_state(self, y_true, y_pred, sample_weight=None):
        super().update_state(self.fn(y_true, y_pred, **self.fn_kwargs), sample_weight)


class BinaryAccuracy(MeanMetricWrapper):
    def __init__(self, name="binary_accuracy", dtype=None, threshold=0.5):
        super().__init__(binary_accuracy, name, dtype, threshold=threshold)

    def get_config(self):
        return {**super().get_config(), "threshold": self.fn_kwargs["threshold"]}


class CategoricalAccuracy(MeanMetricWrapper):
    def __init__(self, name="categorical_accuracy", dtype=None):
        super().__init__(categorical_accuracy, name, dtype)
        self._argmax_buffers = {}  # batch shape → (argmax of y, argmax of p, hits), reused

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
        if sample_weight is not None or y_true.shape != y_pred.shape:
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
        self.total += float(np.count_nonzero(hits))
        self.count += float(hits.size)


class SparseCategoricalAccuracy(MeanMetricWrapper):
    def __init__(self, name="sparse_categorical_accuracy", dtype=None):
        super().__init__(sparse_categorical_accuracy, name, dtype)


class MeanSquaredError(MeanMetricWrapper):
    def __init__(self, name="mean_squared_error", dtype=None):
        super().__init__(mean_squared_error, name, dtype)


class MeanAbsoluteError(MeanMetricWrapper):
    def __init__(self, name="mean_absolute_error", dtype=None):
        super().__init__(mean_absolute_error, name, dtype)


ALL_METRICS = {
    "binary_accuracy": BinaryAccuracy,
    "categorical_accuracy": CategoricalAccuracy,
    "sparse_categorical_accuracy": SparseCategoricalAccuracy,
    "mean_squared_error": MeanSquaredError,
    "mse": MeanSquaredError,
    "mean_absolute_error": MeanAbsoluteError,
    "mae": MeanAbsoluteError,
}
_BY_FUNCTION = {
    binary_accuracy: BinaryAccuracy,
    categorical_accuracy: CategoricalAccuracy,
    sparse_categorical_accuracy: SparseCategoricalAccuracy,
    mean_squared_error: MeanSquaredError,
    mean_absolute_error: MeanAbsoluteError,
}
_BY_CLASS_NAME = {cls.__name__: cls for cls in ALL_METRICS.values()}


def get(identifier):
    """A Metric from a name, a class name, a per-sample function or a Metric."""
    if isinstance(identifier, Metric):
        return identifier
    if isinstance(identifier, str):
        cls = ALL_METRICS.get(identifier) or _BY_CLASS_NAME.get(identifier)
        if cls is None:
            raise ValueError(
                f"Could not interpret metric identifier: {identifier!r}. Expected one of "
                f"{sorted(ALL_METRICS) + ['accuracy', 'acc']}."
            )
        return cls()
    if identifier in _BY_FUNCTION:
        return _BY_FUNCTION[identifier]()
    if callable(identifier):
        return MeanMetricWrapper(identifier)
    raise ValueError(f"Could not interpret metric identifier: {identifier!r}")


def resolve(identifier, y_true_shape, y_pred_shape, loss=None):
    """The metric object `compile(metrics=[identifier])` stands for, named as the user wrote it.

    'accuracy' / 'acc' becomes binary accuracy when the output has one unit, sparse categorical
    when the labels have a lower rank (or one column against several outputs), else categorical,
    as Keras decides from the shapes.
    """
    if isinstance(identifier, str) and identifier.lower() in ("accuracy", "acc"):
        is_binary = y_pred_shape[-1] == 1
        is_sparse = len(y_true_shape) < len(y_pred_shape) or (
            y_true_shape[-1] == 1 and y_pred_shape[-1] > 1
        )
        if is_binary:
            metric = BinaryAccuracy()
        elif is_sparse:
            metric = SparseCategoricalAccuracy()
        else:
            metric = CategoricalAccuracy()
    else:
        metric = get(identifier)
    if isinstance(identifier, str):
        metric.name = identifier
    return metric
