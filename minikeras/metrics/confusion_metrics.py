"""Metrics read from confusion-matrix counts (true/false positives/negatives at thresholds):
the counts themselves, Precision, Recall, the "X at a given Y" metrics, and AUC.

A prediction p counts as positive at threshold t when p > t; a label counts as positive when
it is non-zero. Counts are weighted sums over every entry seen (each entry of a multi-column
output is one decision, unless AUC's `multi_label`).
"""

import numpy as np

from minikeras import config
from minikeras.metrics import metrics_utils
from minikeras.metrics.metric import Metric
from minikeras.metrics.metrics_utils import divide_no_nan


class _ConfusionMatrixConditionCount(Metric):
    """One count ('tp', 'fp', 'tn' or 'fn') per threshold."""

    def __init__(self, confusion_matrix_cond, thresholds=None, name=None, dtype=None):
        super().__init__(name=name, dtype=dtype)
        self._confusion_matrix_cond = confusion_matrix_cond
        self.init_thresholds = thresholds
        self.thresholds = metrics_utils.parse_init_thresholds(thresholds, default_threshold=0.5)
        self._thresholds_distributed_evenly = metrics_utils.is_evenly_distributed_thresholds(
            self.thresholds
        )
        self.accumulator = self.add_variable(
            shape=(len(self.thresholds),), initializer="zeros", name="accumulator"
        )

    def update_state(self, y_true, y_pred, sample_weight=None):
        metrics_utils.update_confusion_matrix_variables(
            {self._confusion_matrix_cond: self.accumulator},
            y_true,
            y_pred,
            thresholds=self.thresholds,
            thresholds_distributed_evenly=self._thresholds_distributed_evenly,
            sample_weight=sample_weight,
        )

    def result(self):
        return self.accumulator[0] if len(self.thresholds) == 1 else self.accumulator.numpy()

    def get_config(self):
        return {**super().get_config(), "thresholds": self.init_thresholds}


class FalsePositives(_ConfusionMatrixConditionCount):
    """The weighted number of negative labels predicted positive.

    >>> float(FalsePositives()([0, 1, 0, 0], [0, 0, 1, 1]))
    2.0
    """

    def __init__(self, thresholds=None, name=None, dtype=None):
        super().__init__("fp", thresholds=thresholds, name=name, dtype=dtype)


class FalseNegatives(_ConfusionMatrixConditionCount):
    """The weighted number of positive labels predicted negative."""

    def __init__(self, thresholds=None, name=None, dtype=None):
        super().__init__("fn", thresholds=thresholds, name=name, dtype=dtype)


class TrueNegatives(_ConfusionMatrixConditionCount):
    """The weighted number of negative labels predicted negative."""

    def __init__(self, thresholds=None, name=None, dtype=None):
        super().__init__("tn", thresholds=thresholds, name=name, dtype=dtype)


class TruePositives(_ConfusionMatrixConditionCount):
    """The weighted number of positive labels predicted positive."""

    def __init__(self, thresholds=None, name=None, dtype=None):
        super().__init__("tp", thresholds=thresholds, name=name, dtype=dtype)


def _top_k_thresholds(metric, thresholds, top_k, class_id):
    """Precision's and Recall's threshold arguments (with `top_k`, by default every prediction
    kept by top_k is positive: the threshold is NEG_INF)."""
    metric.init_thresholds = thresholds
    metric.top_k = top_k
    metric.class_id = class_id
    default_threshold = 0.5 if top_k is None else metrics_utils.NEG_INF
    metric.thresholds = metrics_utils.parse_init_thresholds(thresholds, default_threshold)
    metric._thresholds_distributed_evenly = metrics_utils.is_evenly_distributed_thresholds(
        metric.thresholds
    )


class Precision(Metric):
    """tp / (tp + fp) per threshold; with `top_k`, only the k highest predictions of each row
    count as positive; with `class_id`, only that column is read.

    >>> round(float(Precision()([0, 1, 1, 1], [1, 0, 1, 1])), 4)
    0.6667
    """

    _direction = "up"

    def __init__(self, thresholds=None, top_k=None, class_id=None, name=None, dtype=None):
        super().__init__(name=name, dtype=dtype)
        _top_k_thresholds(self, thresholds, top_k, class_id)
        shape = (len(self.thresholds),)
        self.true_positives = self.add_variable(shape, "zeros", name="true_positives")
        self.false_positives = self.add_variable(shape, "zeros", name="false_positives")

    def update_state(self, y_true, y_pred, sample_weight=None):
        metrics_utils.update_confusion_matrix_variables(
            {"tp": self.true_positives, "fp": self.false_positives},
            y_true,
            y_pred,
            thresholds=self.thresholds,
            thresholds_distributed_evenly=self._thresholds_distributed_evenly,
            top_k=self.top_k,
            class_id=self.class_id,
            sample_weight=sample_weight,
        )

    def result(self):
        tp, fp = self.true_positives, self.false_positives
        result = divide_no_nan(tp, tp + fp)
        return result[0] if len(self.thresholds) == 1 else result

    def get_config(self):
        return {
            **super().get_config(),
            "thresholds": self.init_thresholds,
            "top_k": self.top_k,
            "class_id": self.class_id,
        }


class Recall(Metric):
    """tp / (tp + fn) per threshold, with Precision's `top_k` and `class_id`.

    >>> round(float(Recall()([0, 1, 1, 1], [1, 0, 1, 1])), 4)
    0.6667
    """

    _direction = "up"

    def __init__(self, thresholds=None, top_k=None, class_id=None, name=None, dtype=None):
        super().__init__(name=name, dtype=dtype)
        _top_k_thresholds(self, thresholds, top_k, class_id)
        shape = (len(self.thresholds),)
        self.true_positives = self.add_variable(shape, "zeros", name="true_positives")
        self.false_negatives = self.add_variable(shape, "zeros", name="false_negatives")

    def update_state(self, y_true, y_pred, sample_weight=None):
        metrics_utils.update_confusion_matrix_variables(
            {"tp": self.true_positives, "fn": self.false_negatives},
            y_true,
            y_pred,
            thresholds=self.thresholds,
            thresholds_distributed_evenly=self._thresholds_distributed_evenly,
            top_k=self.top_k,
            class_id=self.class_id,
            sample_weight=sample_weight,
        )

    def result(self):
        tp, fn = self.true_positives, self.false_negatives
        result = divide_no_nan(tp, tp + fn)
        return result[0] if len(self.thresholds) == 1 else result

    def get_config(self):
        return {
            **super().get_config(),
            "thresholds": self.init_thresholds,
            "top_k": self.top_k,
            "class_id": self.class_id,
        }


def _rates(metric):
    """(sensitivity = recall, specificity, precision) per threshold."""
    tp, fp, tn, fn = (
        metric.true_positives,
        metric.false_positives,
        metric.true_negatives,
        metric.false_negatives,
    )
    return divide_no_nan(tp, tp + fn), divide_no_nan(tn, tn + fp), divide_no_nan(tp, tp + fp)


class SensitivitySpecificityBase(Metric):
    """The four counts at `num_thresholds` thresholds evenly spread over [0, 1]; subclasses read
    the best of one rate among the thresholds where another reaches `value`."""

    def __init__(self, value, num_thresholds=200, class_id=None, name=None, dtype=None):
        super().__init__(name=name, dtype=dtype)
        if num_thresholds <= 0:
            raise ValueError(
                "Argument `num_thresholds` must be an integer > 0. "
                f"Received: num_thresholds={num_thresholds}"
            )
        self.value = value
        self.class_id = class_id
        if num_thresholds == 1:
            self.thresholds = [0.5]
            self._thresholds_distributed_evenly = False
        else:
            inner = [(i + 1) * 1.0 / (num_thresholds - 1) for i in range(num_thresholds - 2)]
            self.thresholds = [0.0] + inner + [1.0]
            self._thresholds_distributed_evenly = True
        shape = (len(self.thresholds),)
        self.true_positives = self.add_variable(shape, "zeros", name="true_positives")
        self.false_positives = self.add_variable(shape, "zeros", name="false_positives")
        self.true_negatives = self.add_variable(shape, "zeros", name="true_negatives")
        self.false_negatives = self.add_variable(shape, "zeros", name="false_negatives")

    def update_state(self, y_true, y_pred, sample_weight=None):
        metrics_utils.update_confusion_matrix_variables(
            {
                "tp": self.true_positives,
                "tn": self.true_negatives,
                "fp": self.false_positives,
                "fn": self.false_negatives,
            },
            y_true,
            y_pred,
            thresholds=self.thresholds,
            thresholds_distributed_evenly=self._thresholds_distributed_evenly,
            class_id=self.class_id,
            sample_weight=sample_weight,
        )

    def _find_max_under_constraint(self, constrained, dependent):
        """The largest `dependent` among thresholds where `constrained` ≥ value (0 if none)."""
        feasible = constrained >= self.value
        return np.max(np.where(feasible, dependent, 0), initial=0)

    def get_config(self):
        return {**super().get_config(), "class_id": self.class_id}


def _check_rate(argument, value):
    if value < 0 or value > 1:
        raise ValueError(
            f"Argument `{argument}` must be in the range [0, 1]. Received: {argument}={value}"
        )


class SensitivityAtSpecificity(SensitivitySpecificityBase):
    """The best sensitivity (recall) where the specificity is at least `specificity`."""

    _direction = "up"

    def __init__(self, specificity, num_thresholds=200, class_id=None, name=None, dtype=None):
        _check_rate("specificity", specificity)
        self.specificity = specificity
        self.num_thresholds = num_thresholds
        super().__init__(specificity, num_thresholds, class_id, name=name, dtype=dtype)

    def result(self):
        sensitivities, specificities, _ = _rates(self)
        return self._find_max_under_constraint(specificities, sensitivities)

    def get_config(self):
        return {
            **super().get_config(),
            "num_thresholds": self.num_thresholds,
            "specificity": self.specificity,
        }


class SpecificityAtSensitivity(SensitivitySpecificityBase):
    """The best specificity where the sensitivity (recall) is at least `sensitivity`."""

    _direction = "up"

    def __init__(self, sensitivity, num_thresholds=200, class_id=None, name=None, dtype=None):
        _check_rate("sensitivity", sensitivity)
        self.sensitivity = sensitivity
        self.num_thresholds = num_thresholds
        super().__init__(sensitivity, num_thresholds, class_id, name=name, dtype=dtype)

    def result(self):
        sensitivities, specificities, _ = _rates(self)
        return self._find_max_under_constraint(sensitivities, specificities)

    def get_config(self):
        return {
            **super().get_config(),
            "num_thresholds": self.num_thresholds,
            "sensitivity": self.sensitivity,
        }


class PrecisionAtRecall(SensitivitySpecificityBase):
    """The best precision where the recall is at least `recall`."""

    _direction = "up"

    def __init__(self, recall, num_thresholds=200, class_id=None, name=None, dtype=None):
        _check_rate("recall", recall)
        self.recall = recall
        self.num_thresholds = num_thresholds
        super().__init__(recall, num_thresholds, class_id, name=name, dtype=dtype)

    def result(self):
        recalls, _, precisions = _rates(self)
        return self._find_max_under_constraint(recalls, precisions)

    def get_config(self):
        return {
            **super().get_config(),
            "num_thresholds": self.num_thresholds,
            "recall": self.recall,
        }


class RecallAtPrecision(SensitivitySpecificityBase):
    """The best recall where the precision is at least `precision`."""

    _direction = "up"

    def __init__(self, precision, num_thresholds=200, class_id=None, name=None, dtype=None):
        _check_rate("precision", precision)
        self.precision = precision
        self.num_thresholds = num_thresholds
        super().__init__(precision, num_thresholds, class_id, name=name, dtype=dtype)

    def result(self):
        recalls, _, precisions = _rates(self)
        return self._find_max_under_constraint(precisions, recalls)

    def get_config(self):
        return {
            **super().get_config(),
            "num_thresholds": self.num_thresholds,
            "precision": self.precision,
        }


_CURVES = {"roc": "ROC", "pr": "PR", "prgain": "PRGAIN"}
_SUMMATIONS = ("interpolation", "majoring", "minoring")


def _sigmoid(x):
    return (1 / (1 + np.exp(-x))).astype(x.dtype)


class AUC(Metric):
    """The area under the ROC curve (x: false positive rate, y: recall) or the PR curve
    (x: recall, y: precision), a Riemann sum over `num_thresholds` thresholds: [−ε, 1/(T−1), ...,
    (T−2)/(T−1), 1 + ε], or the given `thresholds` between −ε and 1 + ε.

    summation_method 'interpolation' takes the mean height of each interval (for PR: Davis &
    Goadrich's interpolation of the counts, not of precision), 'minoring' the lower and
    'majoring' the higher end. `multi_label` keeps one curve per column and averages the areas
    (weighted by `label_weights`); otherwise every entry is one decision.

    >>> m = AUC(num_thresholds=3)
    >>> float(m([0, 0, 1, 1], [0, 0.5, 0.3, 0.9]))
    0.75
    """

    _direction = "up"

    def __init__(
        self,
        num_thresholds=200,
        curve="ROC",
        summation_method="interpolation",
        name=None,
        dtype=None,
        thresholds=None,
        multi_label=False,
        num_labels=None,
        label_weights=None,
        from_logits=False,
    ):
        self._init_from_thresholds = thresholds is not None
        if thresholds is not None:
            self.num_thresholds = len(thresholds) + 2
            thresholds = sorted(thresholds)
            self._thresholds_distributed_evenly = metrics_utils.is_evenly_distributed_thresholds(
                np.array([0.0] + thresholds + [1.0])
            )
        else:
            if num_thresholds <= 1:
                raise ValueError(
                    "Argument `num_thresholds` must be an integer > 1. "
                    f"Received: num_thresholds={num_thresholds}"
                )
            self.num_thresholds = num_thresholds
            thresholds = [(i + 1) * 1.0 / (num_thresholds - 1) for i in range(num_thresholds - 2)]
            self._thresholds_distributed_evenly = True
        eps = config.epsilon()
        self._thresholds = np.array([0.0 - eps] + thresholds + [1.0 + eps])
        if str(curve).lower() not in _CURVES:
            raise ValueError(
                f'Invalid AUC curve value: "{curve}". Expected values are ["PR", "ROC", "PRGAIN"]'
            )
        self.curve = _CURVES[str(curve).lower()]
        if str(summation_method).lower() not in _SUMMATIONS:
            raise ValueError(
                f'Invalid AUC summation method value: "{summation_method}". '
                'Expected values are ["interpolation", "majoring", "minoring"]'
            )
        self.summation_method = str(summation_method).lower()
        super().__init__(name=name, dtype=dtype)
        self.multi_label = multi_label
        self.num_labels = num_labels
        self.label_weights = None
        if label_weights is not None:
            self.label_weights = np.asarray(label_weights, dtype=self.dtype)
        self._from_logits = from_logits
        self._built = False
        if multi_label:
            if num_labels:
                self._build([None, num_labels])
        else:
            if num_labels:
                raise ValueError("`num_labels` is needed only when `multi_label` is True.")
            self._build(None)

    @property
    def thresholds(self):
        return list(self._thresholds)

    def _build(self, shape):
        """The four counts: (thresholds,), or (thresholds, labels) with `multi_label`."""
        if self.multi_label:
            if len(shape) != 2:
                raise ValueError(
                    "`y_pred` must have rank 2 when `multi_label=True`. Found rank "
                    f"{len(shape)}. Full shape received for `y_pred`: {shape}"
                )
            self._num_labels = shape[1]
            variable_shape = (self.num_thresholds, self._num_labels)
        else:
            variable_shape = (self.num_thresholds,)
        self.true_positives = self.add_variable(variable_shape, "zeros", name="true_positives")
        self.false_positives = self.add_variable(variable_shape, "zeros", name="false_positives")
        self.true_negatives = self.add_variable(variable_shape, "zeros", name="true_negatives")
        self.false_negatives = self.add_variable(variable_shape, "zeros", name="false_negatives")
        self._built = True

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_pred = np.asarray(y_pred)
        if not self._built:
            self._build(y_pred.shape)
        if self.multi_label and y_pred.shape[-1] != self._num_labels:
            # TensorFlow fails on its shapes; a clear ValueError here
            raise ValueError(
                f"AUC was built for {self._num_labels} labels (`num_labels` or its first "
                f"batch); received predictions of shape {y_pred.shape}."
            )
        if self._from_logits:
            y_pred = _sigmoid(y_pred.astype(self.true_positives.dtype))
        metrics_utils.update_confusion_matrix_variables(
            {
                "tp": self.true_positives,
                "tn": self.true_negatives,
                "fp": self.false_positives,
                "fn": self.false_negatives,
            },
            y_true,
            y_pred,
            self._thresholds,
            thresholds_distributed_evenly=self._thresholds_distributed_evenly,
            sample_weight=sample_weight,
            multi_label=self.multi_label,
            label_weights=None if self.multi_label else self.label_weights,
        )

    def _average_over_labels(self, by_threshold):
        """Sum a curve's pieces over thresholds; with multi_label, average the labels' areas."""
        if not self.multi_label:
            return np.sum(by_threshold)
        by_label = np.sum(by_threshold, axis=0)
        if self.label_weights is None:
            return np.mean(by_label)
        return divide_no_nan(np.sum(by_label * self.label_weights), np.sum(self.label_weights))

    def interpolate_pr_auc(self):
        """PR area with the counts interpolated linearly between thresholds (Davis & Goadrich
        2006): on an interval where tp rises by dtp while tp + fp rises by dp, precision is
        tp/p with tp = slope·p + intercept, whose integral over recall is
        slope·(dtp + intercept·log(p₀/p₁)) / (tp + fn)."""
        tp, fp, fn = self.true_positives, self.false_positives, self.false_negatives
        n = self.num_thresholds
        dtp = tp[: n - 1] - tp[1:]
        p = tp + fp
        dp = p[: n - 1] - p[1:]
        prec_slope = divide_no_nan(dtp, np.maximum(dp, 0))
        intercept = tp[1:] - prec_slope * p[1:]
        both_positive = (p[: n - 1] > 0) & (p[1:] > 0)
        safe_p_ratio = np.where(
            both_positive, divide_no_nan(p[: n - 1], np.maximum(p[1:], 0)), np.ones_like(p[1:])
        )
        pr_auc_increment = divide_no_nan(
            prec_slope * (dtp + intercept * np.log(safe_p_ratio)),
            np.maximum(tp[1:] + fn[1:], 0),
        )
        return self._average_over_labels(pr_auc_increment)

    def result(self):
        if self.curve == "PR" and self.summation_method == "interpolation":
            return self.interpolate_pr_auc()
        tp, fp = self.true_positives, self.false_positives
        tn, fn = self.true_negatives, self.false_negatives
        recall = divide_no_nan(tp, tp + fn)
        if self.curve == "ROC":
            x, y = divide_no_nan(fp, fp + tn), recall
        elif self.curve == "PR":
            x, y = recall, divide_no_nan(tp, tp + fp)
        else:  # PRGAIN: precision and recall gains (Flach & Kull 2015)
            scaling_factor = divide_no_nan(tp + fn, tn + fp)
            recall_gain = 1.0 - scaling_factor * divide_no_nan(fn, tp)
            precision_gain = 1.0 - scaling_factor * divide_no_nan(fp, tp)
            recall_gain = np.where(tp == 0, 0.0, recall_gain).astype(tp.dtype)
            precision_gain = np.where(tp == 0, 1.0, precision_gain).astype(tp.dtype)
            x, y = np.maximum(recall_gain, 0), precision_gain
        n = self.num_thresholds
        if self.summation_method == "interpolation":
            heights = (y[: n - 1] + y[1:]) / 2
        elif self.summation_method == "minoring":
            heights = np.minimum(y[: n - 1], y[1:])
        else:
            heights = np.maximum(y[: n - 1], y[1:])
        return self._average_over_labels((x[: n - 1] - x[1:]) * heights)

    def reset_state(self):
        if self._built:
            for variable in self.variables:
                variable.assign(0)

    def get_config(self):
        label_weights = self.label_weights
        config = {
            "num_thresholds": self.num_thresholds,
            "curve": self.curve,
            "summation_method": self.summation_method,
            "multi_label": self.multi_label,
            "num_labels": self.num_labels,
            "label_weights": None if label_weights is None else label_weights.tolist(),
            "from_logits": self._from_logits,
        }
        if self._init_from_thresholds:
            # the thresholds given, without the −ε and 1 + ε added at the ends
            config["thresholds"] = self.thresholds[1:-1]
        return {**super().get_config(), **config}
