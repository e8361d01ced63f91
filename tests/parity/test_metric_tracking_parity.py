"""A metric's `variables` as Keras tracks them: its own (`add_variable`), those of metrics and
variables set as attributes, alone or inside lists, tuples and dicts, nested too; and AUC's
`curve` and `summation_method` equal to `metrics_utils.AUCCurve` and `AUCSummationMethod`
members. Counts and names are compared with Keras's, no numbers."""

import numpy as np
import pytest

import minikeras
from minikeras import backend, metrics
from minikeras.metrics import metrics_utils


def _example(K):
    class Total(K.metrics.Metric):
        def __init__(self, name="total"):
            super().__init__(name=name)
            self.total = self.add_variable(shape=(), initializer="zeros", name="total")

        def update_state(self, values):
            self.total.assign(self.total + np.sum(values))

        def result(self):
            return self.total

    return Total


ATTRIBUTES = {
    "a metric": lambda K, T, V: T(),
    "a list of metrics": lambda K, T, V: [T(), T()],
    "a dict of metrics": lambda K, T, V: {"a": T(), "b": T()},
    "a metric two levels deep": lambda K, T, V: [{"inner": T()}],
    "a list of variables": lambda K, T, V: [V(0.0), V(1.0)],
    "a dict of variable lists": lambda K, T, V: {"a": [V(0.0), V(1.0)]},
}


@pytest.mark.parametrize("what", list(ATTRIBUTES))
def test_tracked_variables_count_as_keras(keras, what):
    counts = []
    for K, variable in ((minikeras, backend.Variable), (keras, keras.Variable)):
        Total = _example(K)
        metric = Total()
        metric.more = ATTRIBUTES[what](K, Total, variable)
        counts.append(len(metric.variables))
    assert counts[0] == counts[1] > 1


def test_an_own_variable_set_as_an_attribute_counts_once():
    Total = _example(minikeras)
    metric = Total()
    metric.again = metric.total
    assert len(metric.variables) == 1


def test_auc_curve_and_summation_are_keras_enums(keras):
    from keras.src.metrics import metrics_utils as keras_utils

    ours = metrics.AUC(curve="pr", summation_method="majoring")
    theirs = keras.metrics.AUC(curve="pr", summation_method="majoring")
    assert ours.curve == metrics_utils.AUCCurve.PR
    assert ours.summation_method == metrics_utils.AUCSummationMethod.MAJORING
    assert theirs.curve.value == metrics_utils.AUCCurve.PR.value
    assert (
        metrics_utils.AUCCurve.from_str("roc").value == keras_utils.AUCCurve.from_str("roc").value
    )
    assert ours.get_config()["curve"] == theirs.get_config()["curve"] == "PR"
    with pytest.raises(ValueError, match="Invalid AUC curve value"):
        metrics_utils.AUCCurve.from_str("auc")


def test_a_variable_may_start_from_a_given_array_as_keras(keras):
    """MeanIoU continuing from a confusion matrix given as the variable's initializer; counts
    are integers: equal exactly."""
    start = np.array([[5, 1, 0], [2, 7, 1], [0, 3, 9]])
    y_true, y_pred = np.array([0, 1, 2, 2, 1]), np.array([0, 2, 2, 1, 1])
    results = []
    for K in (minikeras, keras):
        metric = K.metrics.MeanIoU(num_classes=3)
        metric.total_cm = metric.add_variable(
            name="total_confusion_matrix", shape=(3, 3), initializer=start, dtype="int"
        )
        metric.update_state(y_true, y_pred)
        results.append((np.asarray(metric.total_cm), float(metric.result())))
    np.testing.assert_array_equal(results[0][0], results[1][0])
    assert results[0][1] == pytest.approx(results[1][1], rel=1e-6)


def test_fbeta_refuses_an_undefined_output_dim():
    with pytest.raises(ValueError, match="output_dim fully defined"):
        metrics.FBetaScore()._build((2, None), (2, None))
