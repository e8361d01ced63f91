"""Metrics with Keras 3's names, arguments, configs and results.

A metric keeps its state in variables (`metric.variables`), adds each batch to it with
`update_state(y_true, y_pred, sample_weight=None)`, and reports `result()`; `reset_state()`
starts again. Calling a metric does both update and result:

>>> import numpy as np
>>> from minikeras import metrics
>>> m = metrics.CategoricalAccuracy()
>>> m.update_state(np.eye(2), np.array([[0.9, 0.1], [0.8, 0.2]]))
>>> float(m.result())
0.5

Files follow Keras's grouping: `metric.py` (the base), `reduction_metrics.py` (Sum, Mean,
MeanMetricWrapper), `accuracy_metrics.py`, `confusion_metrics.py` (counts, Precision, Recall,
AUC, ...), `correlation_metrics.py`, `f_score_metrics.py`, `regression_metrics.py`,
`probabilistic_metrics.py`, `hinge_metrics.py`, `iou_metrics.py`.
"""

# three loss functions Keras also exports as metrics functions (keras.metrics.huber, ...)
from minikeras.losses import binary_focal_crossentropy as binary_focal_crossentropy
from minikeras.losses import categorical_focal_crossentropy as categorical_focal_crossentropy
from minikeras.losses import huber as huber
from minikeras.metrics.accuracy_metrics import (
    Accuracy,
    BinaryAccuracy,
    CategoricalAccuracy,
    SparseCategoricalAccuracy,
    SparseTopKCategoricalAccuracy,
    TopKCategoricalAccuracy,
    accuracy,
    binary_accuracy,
    categorical_accuracy,
    sparse_categorical_accuracy,
    sparse_top_k_categorical_accuracy,
    top_k_categorical_accuracy,
)
from minikeras.metrics.confusion_metrics import (
    AUC,
    FalseNegatives,
    FalsePositives,
    Precision,
    PrecisionAtRecall,
    Recall,
    RecallAtPrecision,
    SensitivityAtSpecificity,
    SpecificityAtSensitivity,
    TrueNegatives,
    TruePositives,
)
from minikeras.metrics.correlation_metrics import (
    ConcordanceCorrelation,
    PearsonCorrelation,
    concordance_correlation,
    pearson_correlation,
)
from minikeras.metrics.f_score_metrics import F1Score, FBetaScore
from minikeras.metrics.hinge_metrics import (
    CategoricalHinge,
    Hinge,
    SquaredHinge,
    categorical_hinge,
    hinge,
    squared_hinge,
)
from minikeras.metrics.iou_metrics import BinaryIoU, IoU, MeanIoU, OneHotIoU, OneHotMeanIoU
from minikeras.metrics.metric import Metric
from minikeras.metrics.probabilistic_metrics import (
    BinaryCrossentropy,
    CategoricalCrossentropy,
    KLDivergence,
    Poisson,
    SparseCategoricalCrossentropy,
    binary_crossentropy,
    categorical_crossentropy,
    kl_divergence,
    poisson,
    sparse_categorical_crossentropy,
)
from minikeras.metrics.reduction_metrics import Mean, MeanMetricWrapper, Sum
from minikeras.metrics.regression_metrics import (
    CosineSimilarity,
    LogCoshError,
    MeanAbsoluteError,
    MeanAbsolutePercentageError,
    MeanSquaredError,
    MeanSquaredLogarithmicError,
    R2Score,
    RootMeanSquaredError,
    cosine_similarity,
    log_cosh,
    mean_absolute_error,
    mean_absolute_percentage_error,
    mean_squared_error,
    mean_squared_logarithmic_error,
)
from minikeras.utils.naming import to_snake_case

mse = MSE = mean_squared_error
mae = MAE = mean_absolute_error
mape = MAPE = mean_absolute_percentage_error
msle = MSLE = mean_squared_logarithmic_error

_CLASSES = (
    Metric,
    Mean,
    Sum,
    MeanMetricWrapper,
    MeanSquaredError,
    RootMeanSquaredError,
    MeanAbsoluteError,
    MeanAbsolutePercentageError,
    MeanSquaredLogarithmicError,
    CosineSimilarity,
    LogCoshError,
    R2Score,
    AUC,
    FalseNegatives,
    FalsePositives,
    Precision,
    PrecisionAtRecall,
    Recall,
    RecallAtPrecision,
    SensitivityAtSpecificity,
    SpecificityAtSensitivity,
    TrueNegatives,
    TruePositives,
    ConcordanceCorrelation,
    PearsonCorrelation,
    Hinge,
    SquaredHinge,
    CategoricalHinge,
    KLDivergence,
    Poisson,
    BinaryCrossentropy,
    CategoricalCrossentropy,
    SparseCategoricalCrossentropy,
    Accuracy,
    BinaryAccuracy,
    CategoricalAccuracy,
    SparseCategoricalAccuracy,
    TopKCategoricalAccuracy,
    SparseTopKCategoricalAccuracy,
    F1Score,
    FBetaScore,
    IoU,
    BinaryIoU,
    MeanIoU,
    OneHotIoU,
    OneHotMeanIoU,
)
# every string `get` understands, as Keras's ALL_OBJECTS_DICT: the class name, its snake_case
# ('top_k_categorical_accuracy', 'auc', 'io_u'), and the short aliases
ALL_METRICS = {cls.__name__: cls for cls in _CLASSES}
ALL_METRICS.update({to_snake_case(cls.__name__): cls for cls in _CLASSES})
ALL_METRICS.update(
    {
        "bce": BinaryCrossentropy,
        "BCE": BinaryCrossentropy,
        "mse": MeanSquaredError,
        "MSE": MeanSquaredError,
        "mae": MeanAbsoluteError,
        "MAE": MeanAbsoluteError,
        "mape": MeanAbsolutePercentageError,
        "MAPE": MeanAbsolutePercentageError,
        "msle": MeanSquaredLogarithmicError,
        "MSLE": MeanSquaredLogarithmicError,
    }
)
_BY_CLASS_NAME = {cls.__name__: cls for cls in _CLASSES}
# a built-in per-sample function given to compile becomes its metric class (same results)
_BY_FUNCTION = {
    accuracy: Accuracy,
    binary_accuracy: BinaryAccuracy,
    categorical_accuracy: CategoricalAccuracy,
    sparse_categorical_accuracy: SparseCategoricalAccuracy,
    top_k_categorical_accuracy: TopKCategoricalAccuracy,
    sparse_top_k_categorical_accuracy: SparseTopKCategoricalAccuracy,
    mean_squared_error: MeanSquaredError,
    mean_absolute_error: MeanAbsoluteError,
    mean_absolute_percentage_error: MeanAbsolutePercentageError,
    mean_squared_logarithmic_error: MeanSquaredLogarithmicError,
    log_cosh: LogCoshError,
    cosine_similarity: CosineSimilarity,
    pearson_correlation: PearsonCorrelation,
    concordance_correlation: ConcordanceCorrelation,
    hinge: Hinge,
    squared_hinge: SquaredHinge,
    categorical_hinge: CategoricalHinge,
    kl_divergence: KLDivergence,
    poisson: Poisson,
    binary_crossentropy: BinaryCrossentropy,
    categorical_crossentropy: CategoricalCrossentropy,
    sparse_categorical_crossentropy: SparseCategoricalCrossentropy,
}


def serialize(metric):
    """A metric's Keras config: {'module', 'class_name', 'config', 'registered_name'}."""
    return {
        "module": "keras.metrics",
        "class_name": type(metric).__name__,
        "config": metric.get_config(),
        "registered_name": None,
    }


def deserialize(config):
    """The metric a `serialize` dict (or a name) describes."""
    if isinstance(config, str):
        return get(config)
    cls = _BY_CLASS_NAME.get(config.get("class_name"))
    if cls is None:
        raise ValueError(f"Could not interpret metric identifier: {config}")
    return cls.from_config(config.get("config", {}))


def get(identifier):
    """As `keras.metrics.get`: a name or class name gives a new metric ('auc', 'AUC', 'mse',
    'top_k_categorical_accuracy'), a config dict its metric, a class an instance; a metric or
    a function is returned as it is."""
    if identifier is None:
        return None
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, str):
        cls = ALL_METRICS.get(identifier)
        if cls is None:
            raise ValueError(
                f"Could not interpret metric identifier: {identifier}. Expected one of "
                f"{sorted(name for name in ALL_METRICS if name.islower())}."
            )
        return cls()
    if isinstance(identifier, type) and issubclass(identifier, Metric):
        return identifier()
    if callable(identifier):
        return identifier
    raise ValueError(f"Could not interpret metric identifier: {identifier}")


def resolve(identifier, y_true_shape, y_pred_shape, loss=None):
    """The metric object `compile(metrics=[identifier])` stands for, named as Keras names it
    (`get_metric` in keras/src/trainers/compile_utils.py): a string keeps its own spelling
    ('mse', 'acc'); an object its name; a plain function its __name__, wrapped in a
    MeanMetricWrapper.

    'accuracy' / 'acc' becomes binary accuracy when the output has one unit, sparse categorical
    when the labels have a lower rank (or one column against several outputs), else categorical.
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
    elif identifier in _BY_FUNCTION:
        metric = _BY_FUNCTION[identifier](name=identifier.__name__)
    else:
        metric = get(identifier)
        if not isinstance(metric, Metric):
            metric = MeanMetricWrapper(metric, name=getattr(metric, "__name__", None))
    if isinstance(identifier, str):
        metric.name = identifier
    return metric


__all__ = sorted(
    {cls.__name__ for cls in _CLASSES}
    | {fn.__name__ for fn in _BY_FUNCTION}
    | {"get", "resolve", "serialize", "deserialize", "mse", "mae", "mape", "msle"}
    | {"binary_focal_crossentropy", "categorical_focal_crossentropy", "huber"}
)
