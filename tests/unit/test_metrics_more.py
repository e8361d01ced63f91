"""Metrics past the accuracies: golden values (from keras/src/metrics/*_test.py, or, where marked
"Keras 3.15 gives", observed by running Keras on that data), the Metric base (variables,
add_variable, a user's subclass), names and identifiers."""

import json

import numpy as np
import pytest

from minikeras import metrics
from minikeras.metrics.variable import Variable
from minikeras.utils import clear_session

# AUCTest's data: thresholds [−ε, 0.5, 1 + ε] give tp = [2, 1, 0], fp = [2, 0, 0],
# fn = [0, 1, 2], tn = [0, 2, 2]; with the weights, tp = [7, 4, 0], fp = [3, 0, 0], ...
Y_TRUE = np.array([0, 0, 1, 1])
Y_PRED = np.array([0, 0.5, 0.3, 0.9], dtype="float32")
WEIGHTS = [1, 2, 3, 4]


# ------------------------------------------------------------------ golden values: AUC
@pytest.mark.parametrize(
    "kwargs, weighted, expected",
    [
        ({}, False, 0.75),
        ({"thresholds": [0.5]}, False, 0.75),
        ({}, True, 0.7855),
        ({"summation_method": "majoring"}, True, 1.0),
        ({"summation_method": "minoring"}, True, 0.571),
        ({"curve": "PR", "summation_method": "majoring"}, True, 0.429 + 0.571),
        ({"curve": "PR", "summation_method": "minoring"}, True, 0.7 * 0.429),
        ({"curve": "PR"}, True, 2.416 / 7 + 4 / 7),
    ],
)
def test_auc_golden_values(kwargs, weighted, expected):
    # confusion_metrics_test.AUCTest
    auc = metrics.AUC(**({"num_thresholds": 3} | kwargs))
    result = auc(Y_TRUE, Y_PRED, sample_weight=WEIGHTS if weighted else None)
    assert float(result) == pytest.approx(expected, abs=1e-3)


def test_auc_from_logits_all_correct_and_negative_weights():
    logits = -np.log(1.0 / (Y_PRED + 1e-12) - 1.0)
    assert float(metrics.AUC(num_thresholds=3, from_logits=True)(Y_TRUE, logits)) == (
        pytest.approx(0.75, abs=1e-3)
    )
    assert float(metrics.AUC()(Y_TRUE, Y_TRUE)) == 1.0
    negative = metrics.AUC(num_thresholds=3, curve="PR")(Y_TRUE, Y_PRED, [-1, -2, -3, -4])
    assert float(negative) == pytest.approx(0.0, abs=1e-3)


def test_auc_config_round_trip_and_thresholds():
    # AUCTest.test_config / test_config_manual_thresholds
    auc = metrics.AUC(
        num_thresholds=100,
        curve="PR",
        summation_method="majoring",
        name="auc_1",
        dtype="float64",
        multi_label=True,
        num_labels=2,
        from_logits=True,
    )
    assert len(auc.variables) == 4 and auc.dtype == "float64"
    config = auc.get_config()
    assert "thresholds" not in config and config == json.loads(json.dumps(config))
    assert metrics.AUC.from_config(config).get_config() == config
    manual = metrics.AUC(num_thresholds=None, curve="PR", thresholds=[0.3, 0.5])
    assert manual.num_thresholds == 4
    np.testing.assert_allclose(manual.thresholds, [0.0, 0.3, 0.5, 1.0], atol=1e-6)
    assert manual.get_config()["thresholds"] == [0.3, 0.5]


def test_auc_counts_by_buckets_equal_counts_by_comparison():
    """The evenly spaced path (one bucket index per prediction) and the comparison path
    (p > t for each t) count the same, given the same thresholds."""
    rng = np.random.default_rng(3)
    y_true, y_pred = rng.integers(0, 2, (50, 3)), rng.random((50, 3)).astype("float32")
    weights = rng.random(50)
    even = metrics.AUC(num_thresholds=11)
    inner = [i / 10 for i in range(1, 10)]
    listed = metrics.AUC(thresholds=inner[:4] + [0.5 + 2e-5] + inner[5:])  # not "even"
    assert even._thresholds_distributed_evenly and not listed._thresholds_distributed_evenly
    even.update_state(y_true, y_pred, weights)
    listed.update_state(y_true, y_pred, weights)
    for a, b in zip(even.variables, listed.variables):
        # the buckets' tn and fn are totals minus float32 cumulative sums (as in Keras): a few
        # float32 roundings of totals ≈ 40, so 2e-5 absolute
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-6, atol=2e-5)


# ------------------------------------------------------------------ Precision, Recall, counts
def test_precision_recall_golden_values():
    # confusion_metrics_test.PrecisionTest / RecallTest
    assert float(metrics.Precision()([0, 1, 1, 0], [1, 0, 1, 0])) == pytest.approx(0.5)
    p = metrics.Precision(top_k=3)(np.array([[0, 0, 1, 1, 1]]), np.array([[0.2, 0.1, 0.5, 0, 0.2]]))
    assert float(p) == pytest.approx(2 / 3)  # Keras 3.15 gives 0.6666667
    p = metrics.Precision(class_id=2)(np.array([[0, 1, 1, 0]]), np.array([[0.2, 0.1, 0.6, 0.2]]))
    assert float(p) == pytest.approx(1.0)
    r = metrics.Recall(thresholds=[0.5, 0.7])(np.array([[0, 1, 1, 0]]), np.array([[1, 0, 0.6, 0]]))
    np.testing.assert_allclose(r, [0.5, 0.0])
    weighted = metrics.Recall()(
        np.array([[0, 1, 0, 1], [0, 1, 0, 1]]),
        np.array([[1, 0, 1, 0], [0, 1, 0, 1]]),
        sample_weight=np.array([[1, 2, 3, 4], [4, 3, 2, 1]]),
    )
    assert float(weighted) == pytest.approx(4 / 10)  # tp = 3 + 1, fn = 2 + 4


def test_confusion_counts_golden_values():
    # confusion_metrics_test.TruePositivesTest etc.: the same 4×5 data
    y_true = np.array([[0, 1, 0, 1, 0], [0, 0, 1, 1, 1], [1, 1, 1, 1, 0], [0, 0, 0, 0, 1]])
    y_pred = np.array([[0, 0, 1, 1, 0], [1, 1, 1, 1, 1], [0, 1, 0, 1, 0], [1, 1, 1, 1, 1]])
    assert float(metrics.TruePositives()(y_true, y_pred)) == 7
    assert float(metrics.FalsePositives()(y_true, y_pred)) == 7
    assert float(metrics.TrueNegatives()(y_true, y_pred)) == 3
    assert float(metrics.FalseNegatives()(y_true, y_pred)) == 3
    weights = [1.0, 1.5, 2.0, 2.5]
    assert float(metrics.TruePositives()(y_true, y_pred, weights)) == 12.0
    assert float(metrics.FalsePositives()(y_true, y_pred, weights)) == 14.0
    thresholds = metrics.TruePositives(thresholds=[0.15, 0.5, 0.85])
    y_pred = np.array(
        [[0.9, 0.2, 0.8, 0.1], [0.2, 0.9, 0.7, 0.6], [0.1, 0.2, 0.4, 0.3], [0, 1, 0.7, 0.3]]
    )
    y_true = np.array([[0, 1, 1, 0], [1, 0, 0, 0], [0, 0, 0, 0], [0, 1, 1, 1]])
    np.testing.assert_array_equal(thresholds(y_true, y_pred), [6.0, 3.0, 1.0])


def test_at_metrics_golden_values():
    # SensitivityAtSpecificityTest / PrecisionAtRecallTest: unweighted, high specificity
    y_pred = np.array([0.0, 0.1, 0.2, 0.3, 0.4, 0.1, 0.45, 0.5, 0.8, 0.9], "float32")
    y_true = np.array([0, 0, 0, 0, 0, 1, 1, 1, 1, 1])
    assert float(metrics.SensitivityAtSpecificity(0.8)(y_true, y_pred)) == pytest.approx(0.8)
    # Keras 3.15 gives 1.0 and 1.0 for these two
    assert float(metrics.SpecificityAtSensitivity(0.8)(y_true, y_pred)) == pytest.approx(1.0)
    assert float(metrics.PrecisionAtRecall(0.8)(y_true, y_pred)) == pytest.approx(1.0)
    y_pred = np.array([0.0, 0.1, 0.2, 0.5, 0.6, 0.2, 0.5, 0.6, 0.7, 0.8], "float32")
    assert float(metrics.RecallAtPrecision(0.8)(y_true, y_pred)) == pytest.approx(0.4)  # Keras


@pytest.mark.parametrize(
    "cls, argument",
    [(metrics.SensitivityAtSpecificity, "specificity"), (metrics.PrecisionAtRecall, "recall")],
)
def test_at_metrics_check_their_arguments(cls, argument):
    with pytest.raises(ValueError, match=f"`{argument}` must be in the range"):
        cls(1.5)
    with pytest.raises(ValueError, match="`num_thresholds` must be an integer > 0"):
        cls(0.5, num_thresholds=-1)


def test_thresholds_out_of_range():
    with pytest.raises(ValueError, match=r"Threshold values must be in \[0, 1\]"):
        metrics.Precision(thresholds=[0.5, 1.5])


# ------------------------------------------------------------------ F-scores, IoU, regression
def test_f1_and_fbeta_golden_values():
    # f_score_metrics_test: the "correctness" cases
    y_true = np.array([[1, 1, 1], [1, 0, 0], [1, 1, 0]], "int32")
    y_pred = np.array([[0.7, 0.7, 0.7], [1, 0, 0], [0.9, 0.8, 0]], "float32")
    # every prediction above 0.5 is a true label: Keras 3.15 gives [1, 1, 0.9999998] and 1.0
    f1 = metrics.F1Score(threshold=0.5)(y_true, y_pred)
    np.testing.assert_allclose(f1, [1.0, 1.0, 0.9999998], rtol=1e-6)
    micro = metrics.FBetaScore(average="micro", beta=2.0, threshold=0.5)(y_true, y_pred)
    assert float(micro) == pytest.approx(1.0, rel=1e-6)
    with pytest.raises(ValueError, match="Invalid `beta` argument value"):
        metrics.FBetaScore(beta=2)
    with pytest.raises(ValueError, match="Invalid `average` argument value"):
        metrics.F1Score(average="samples")


def test_iou_golden_values():
    # iou_metrics_test
    iou = metrics.IoU(num_classes=2, target_class_ids=[0, 1])
    assert float(iou([0, 0, 1, 1], [0, 1, 0, 1])) == pytest.approx(1 / 3, abs=1e-3)
    weighted = metrics.IoU(num_classes=2, target_class_ids=[1, 0], dtype="float32")
    result = weighted([0, 0, 1, 1], np.array([0, 1, 0, 1], "float32"), [0.2, 0.3, 0.4, 0.1])
    assert float(result) == pytest.approx((0.1 / 0.8 + 0.2 / 0.9) / 2, abs=1e-3)
    ignored = metrics.MeanIoU(num_classes=3, ignore_class=255)([0, 1, 2, 255], [0, 1, 1, 1])
    assert float(ignored) == pytest.approx((1 + 1 / 2 + 0) / 3, abs=1e-3)
    assert metrics.MeanIoU(3).dtype == "int64"  # Keras's 'int'
    with pytest.raises(ValueError, match="Target class id 2 is out of range"):
        metrics.IoU(num_classes=2, target_class_ids=[2])


def test_regression_golden_values():
    # regression_metrics_test
    y_true = np.array(
        [[0, 1, 0, 1, 0], [0, 0, 1, 1, 1], [1, 1, 1, 1, 0], [0, 0, 0, 0, 1]], "float32"
    )
    y_pred = np.array(
        [[0, 0, 1, 1, 0], [1, 1, 1, 1, 1], [0, 1, 0, 1, 0], [1, 1, 1, 1, 1]], "float32"
    )
    assert float(metrics.RootMeanSquaredError()(y_true, y_pred)) == pytest.approx(np.sqrt(0.5))
    assert float(metrics.MeanAbsolutePercentageError()(y_true, y_pred)) == pytest.approx(
        35e7, rel=1e-6
    )
    assert float(metrics.MeanSquaredLogarithmicError()(y_true, y_pred)) == pytest.approx(
        0.24022, rel=1e-4
    )
    # Keras 3.15 gives 0.18721905 (on floats; on these integers it fails in rsqrt)
    cos = metrics.CosineSimilarity()(
        np.array([[1, 9, 2], [-5, -2, 6]]), np.array([[4, 8, 12], [8, 1, 3]])
    )
    assert float(cos) == pytest.approx(0.18721905, rel=1e-5)
    logcosh = metrics.LogCoshError()(
        np.array([[1, 9, 2], [-5, -2, 6]], "float32"), np.array([[4, 8, 12], [8, 1, 3]], "float32")
    )
    assert float(logcosh) == pytest.approx(4.829245, rel=1e-5)
    r2 = metrics.R2Score()(
        np.array([[1, 4, 3], [2, 1, 4]], "float32").T, np.array([[2, 3, 1], [1, 2, 3]], "float32").T
    )
    assert float(r2) == pytest.approx(0.03571427, rel=1e-5)  # Keras 3.15 gives 0.03571427


def test_hinge_and_probabilistic_golden_values():
    # hinge_metrics_test, probabilistic_metrics_test
    y_true = np.array([[0, 1, 0, 1], [0, 0, 1, 1]], "float32")
    y_pred = np.array([[-0.3, 0.2, -0.1, 1.6], [-0.25, -1.0, 0.5, 0.6]], "float32")
    # Keras 3.15 gives 0.50625, 0.3640625, 0.5960738, -3.3065822 and 3.9855962 below
    assert float(metrics.Hinge()(y_true, y_pred)) == pytest.approx(0.50625, rel=1e-6)
    assert float(metrics.SquaredHinge()(y_true, y_pred)) == pytest.approx(0.3640625, rel=1e-6)
    kld = metrics.KLDivergence()(
        np.array([[0.5, 0.8, 0.12], [0.7, 0.43, 0.8]]),
        np.array([[0.4, 0.9, 0.12], [0.36, 0.3, 0.4]]),
    )
    assert float(kld) == pytest.approx(0.5960738, rel=1e-5)
    poisson = metrics.Poisson()(
        np.array([[4, 8, 12], [8, 1, 3]], "float32"), np.array([[1, 9, 2], [5, 2, 6]], "float32")
    )
    assert float(poisson) == pytest.approx(-3.3065822, rel=1e-5)
    bce = metrics.BinaryCrossentropy()(
        np.array([[1, 0], [1, 0]], "float32"), np.array([[1, 1], [1, 0]], "float32")
    )
    assert float(bce) == pytest.approx(3.9855962, rel=1e-6)


def test_top_k_golden_values():
    # accuracy_metrics_test.TopKCategoricalAccuracyTest / SparseTopK...
    y_pred = np.array([[0.1, 0.9, 0.8], [0.05, 0.95, 0]], "float32")
    assert float(metrics.TopKCategoricalAccuracy(k=1)([[0, 0, 1], [0, 1, 0]], y_pred)) == 0.5
    weighted = metrics.TopKCategoricalAccuracy(k=1)([[0, 0, 1], [0, 1, 0]], y_pred, [0.7, 0.3])
    assert float(weighted) == pytest.approx(0.3)
    assert float(metrics.SparseTopKCategoricalAccuracy(k=1)([2, 1], y_pred)) == 0.5
    ids = metrics.SparseTopKCategoricalAccuracy(k=1, from_sorted_ids=True)(
        [2, 1], [[1, 0, 3], [1, 2, 3]]
    )
    assert float(ids) == 0.5
    assert metrics.get("top_k_categorical_accuracy").get_config()["k"] == 5


# ------------------------------------------------------------------ the Metric base
class BinaryTruePositives(metrics.Metric):
    """Keras's own example of a subclass (keras/src/metrics/metric.py), written over NumPy."""

    def __init__(self, name="binary_true_positives", **kwargs):
        super().__init__(name=name, **kwargs)
        self.true_positives = self.add_variable(
            shape=(), initializer="zeros", name="true_positives"
        )

    def update_state(self, y_true, y_pred, sample_weight=None):
        values = np.logical_and(np.asarray(y_true, bool), np.asarray(y_pred, bool))
        values = values.astype(self.dtype)
        if sample_weight is not None:
            values = values * np.broadcast_to(np.asarray(sample_weight, self.dtype), values.shape)
        self.true_positives.assign(self.true_positives + np.sum(values))

    def result(self):
        return self.true_positives


def test_a_users_subclass_keeps_state_in_variables():
    m = BinaryTruePositives()
    m.update_state([0, 1, 1, 1], [1, 0, 1, 1])
    m.update_state([1, 1], [1, 1], sample_weight=[0.5, 2])
    assert float(m.result()) == 4.5
    assert [v.path for v in m.variables] == ["binary_true_positives/true_positives"]
    assert m.variables[0].dtype == np.float32 and not m.variables[0].trainable
    m.reset_state()
    assert float(m.result()) == 0.0
    assert m.get_config() == {"name": "binary_true_positives", "dtype": "float32"}
    assert repr(m) == "<BinaryTruePositives name=binary_true_positives>"


def test_forgetting_super_init_is_reported():
    class Broken(metrics.Metric):
        def __init__(self):
            self.total = self.add_variable(shape=(), initializer="zeros", name="total")

    with pytest.raises(RuntimeError, match="forgot to call `super\\(\\).__init__\\(\\)`"):
        Broken()


def test_variables_are_arrays_whose_arithmetic_is_plain():
    m = metrics.Mean()
    total = m.variables[0]
    assert isinstance(total, np.ndarray) and not isinstance(total + 1, Variable)
    assert total.assign_add(2.0) is total and float(total) == 2.0
    assert total.numpy() is not total.value
    assert repr(total) == "<Variable path=mean/total, shape=(), dtype=float32, value=2.0>"


def test_sub_metrics_variables_are_tracked():
    class Both(metrics.Metric):
        def __init__(self):
            super().__init__(name="both")
            self.precision = metrics.Precision(name="p")
            self.recall = metrics.Recall(name="r")

    assert [v.path for v in Both().variables] == [
        "p/true_positives",
        "p/false_positives",
        "r/true_positives",
        "r/false_negatives",
    ]


def test_mean_reduces_extra_axes_before_weighing():
    # reduction_metrics_test.MeanTest: weights (N,) against values (N, 2)
    assert float(metrics.Mean()([[1, 3], [5, 7]], sample_weight=[1, 0])) == 2.0
    assert float(metrics.Sum()([[1, 3], [5, 7]], sample_weight=[1, 0])) == 4.0
    m = metrics.Mean(dtype="float64")
    assert m.dtype == "float64" and m.result().dtype == np.float64


# ------------------------------------------------------------------ names and identifiers
def test_automatic_names_count_per_class():
    clear_session()
    assert [metrics.Precision().name, metrics.Precision().name, metrics.AUC().name] == [
        "precision",
        "precision_1",
        "auc",
    ]
    assert metrics.IoU(2, [0]).name == "io_u" and metrics.LogCoshError().name == "logcosh"


@pytest.mark.parametrize(
    "name, cls",
    [
        ("auc", metrics.AUC),
        ("AUC", metrics.AUC),
        ("precision", metrics.Precision),
        ("top_k_categorical_accuracy", metrics.TopKCategoricalAccuracy),
        ("sparse_top_k_categorical_accuracy", metrics.SparseTopKCategoricalAccuracy),
        ("mape", metrics.MeanAbsolutePercentageError),
        ("msle", metrics.MeanSquaredLogarithmicError),
        ("bce", metrics.BinaryCrossentropy),
        ("f1_score", metrics.F1Score),
        ("r2_score", metrics.R2Score),
        ("kl_divergence", metrics.KLDivergence),
        ("accuracy", metrics.Accuracy),
    ],
)
def test_get_new_names(name, cls):
    assert type(metrics.get(name)) is cls


def test_resolve_names_as_compile_does():
    # a string keeps its spelling, an object its name, a function its __name__
    assert metrics.resolve("auc", (4, 1), (4, 1)).name == "auc"
    assert metrics.resolve("mape", (4, 1), (4, 1)).name == "mape"
    named = metrics.Precision(name="prec")
    assert metrics.resolve(named, (4, 1), (4, 1)) is named and named.name == "prec"
    assert metrics.resolve(metrics.hinge, (4, 1), (4, 1)).name == "hinge"


def test_serialize_and_deserialize():
    metric = metrics.AUC(num_thresholds=10, curve="PR", name="pr")
    entry = metrics.serialize(metric)
    assert entry["class_name"] == "AUC" and entry["module"] == "keras.metrics"
    again = metrics.deserialize(entry)
    assert type(again) is metrics.AUC and again.get_config() == metric.get_config()
    assert metrics.get(entry).get_config() == metric.get_config()
