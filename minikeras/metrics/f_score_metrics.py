"""F-scores: Fβ = (1 + β²)·P·R / (β²·P + R) from counts per class, P = tp/(tp + fp),
R = tp/(tp + fn) (ε added to each denominator, as Keras).

`average`: None gives one score per class; 'micro' pools the counts of every class first;
'macro' averages the per-class scores; 'weighted' weighs them by each class's label total.
A prediction is positive where it exceeds `threshold`, or, with threshold None, where it is
its row's maximum (and not 0).
"""

import numpy as np

from minikeras import config
from minikeras.metrics.metric import Metric


class FBetaScore(Metric):
    """Fβ score (see the module docstring).

    >>> m = FBetaScore(beta=2.0, threshold=0.5)
    >>> m.update_state(np.array([[1, 1, 1], [1, 0, 0], [1, 1, 0]], np.int32),
    ...                np.array([[0.2, 0.6, 0.7], [0.2, 0.6, 0.6], [0.6, 0.8, 0.0]]))
    >>> [round(float(v), 4) for v in m.result()]
    [0.3846, 0.9091, 0.8333]
    """

    _direction = "up"

    def __init__(self, average=None, beta=1.0, threshold=None, name="fbeta_score", dtype=None):
        super().__init__(name=name, dtype=dtype)
        if average not in (None, "micro", "macro", "weighted"):
            raise ValueError(
                "Invalid `average` argument value. Expected one of: "
                f"{{None, 'micro', 'macro', 'weighted'}}. Received: average={average}"
            )
        if not isinstance(beta, float):
            raise ValueError(
                "Invalid `beta` argument value. It should be a Python float. "
                f"Received: beta={beta} of type '{type(beta)}'"
            )
        if beta <= 0.0:
            raise ValueError(
                f"Invalid `beta` argument value. It should be > 0. Received: beta={beta}"
            )
        if threshold is not None:
            if not isinstance(threshold, float):
                raise ValueError(
                    "Invalid `threshold` argument value. It should be a Python float. "
                    f"Received: threshold={threshold} of type '{type(threshold)}'"
                )
            if threshold > 1.0 or threshold <= 0.0:
                raise ValueError(
                    "Invalid `threshold` argument value. It should verify 0 < threshold <= 1. "
                    f"Received: threshold={threshold}"
                )
        self.average = average
        self.beta = beta
        self.threshold = threshold
        self.axis = None if average == "micro" else 0
        self._built = False

    def _build(self, y_true_shape, y_pred_shape):
        if len(y_pred_shape) != 2 or len(y_true_shape) != 2:
            raise ValueError(
                "FBetaScore expects 2D inputs with shape (batch_size, output_dim). Received "
                f"input shapes: y_pred.shape={y_pred_shape} and y_true.shape={y_true_shape}."
            )
        if y_pred_shape[-1] is None or y_true_shape[-1] is None:  # a symbolic shape
            raise ValueError(
                "FBetaScore expects 2D inputs with shape (batch_size, output_dim), with "
                "output_dim fully defined (not None). Received input shapes: "
                f"y_pred.shape={y_pred_shape} and y_true.shape={y_true_shape}."
            )
        shape = () if self.average == "micro" else (y_pred_shape[-1],)
        for name in ("true_positives", "false_positives", "false_negatives"):
            setattr(self, name, self.add_variable(shape, "zeros", dtype=self.dtype, name=name))
        self.intermediate_weights = self.add_variable(
            shape, "zeros", dtype=self.dtype, name="intermediate_weights"
        )
        self._built = True

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true = np.asarray(y_true).astype(self.dtype)
        y_pred = np.asarray(y_pred).astype(self.dtype)
        if not self._built:
            self._build(y_true.shape, y_pred.shape)
        if self.threshold is None:
            row_max = np.max(y_pred, axis=-1, keepdims=True)
            y_pred = (y_pred >= row_max) & (np.abs(y_pred) > 1e-9)
        else:
            y_pred = y_pred > self.threshold
        y_pred = y_pred.astype(self.dtype)
        if sample_weight is not None:
            sample_weight = np.asarray(sample_weight).astype(self.dtype)

        def weighted_sum(values):
            if sample_weight is not None:
                values = values * np.expand_dims(sample_weight, 1)
            return np.sum(values, axis=self.axis)

        self.true_positives.assign(self.true_positives + weighted_sum(y_pred * y_true))
        self.false_positives.assign(self.false_positives + weighted_sum(y_pred * (1 - y_true)))
        self.false_negatives.assign(self.false_negatives + weighted_sum((1 - y_pred) * y_true))
        self.intermediate_weights.assign(self.intermediate_weights + weighted_sum(y_true))

    def result(self):
        eps = config.epsilon()
        tp = self.true_positives
        precision = tp / (tp + self.false_positives + eps)
        recall = tp / (tp + self.false_negatives + eps)
        beta_squared = self.beta**2
        f_score = (
            precision * recall / (beta_squared * precision + recall + eps) * (1 + beta_squared)
        )
        f_score = np.asarray(f_score, self.dtype)
        if self.average == "weighted":
            weights = self.intermediate_weights / (np.sum(self.intermediate_weights) + eps)
            return np.sum(f_score * weights)
        if self.average is not None:  # 'macro', or 'micro' (one pooled score)
            return np.mean(f_score)
        return f_score

    def reset_state(self):
        for variable in self.variables:
            variable.assign(0)

    def get_config(self):
        return {
            **super().get_config(),
            "average": self.average,
            "beta": self.beta,
            "threshold": self.threshold,
        }


class F1Score(FBetaScore):
    """F1 = 2·P·R / (P + R): FBetaScore with β = 1.

    >>> m = F1Score(threshold=0.5)
    >>> m.update_state(np.array([[1, 1, 1], [1, 0, 0], [1, 1, 0]], np.int32),
    ...                np.array([[0.2, 0.6, 0.7], [0.2, 0.6, 0.6], [0.6, 0.8, 0.0]]))
    >>> [round(float(v), 4) for v in m.result()]
    [0.5, 0.8, 0.6667]
    """

    _direction = "up"

    def __init__(self, average=None, threshold=None, name="f1_score", dtype=None):
        super().__init__(average=average, beta=1.0, threshold=threshold, name=name, dtype=dtype)

    def get_config(self):
        config = super().get_config()
        del config["beta"]
        return config
