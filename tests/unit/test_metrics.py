"""Metrics: Keras's golden values (keras/src/metrics/*_test.py, copied as data), running means
over the samples seen, and how 'accuracy' is resolved from the shapes."""

import numpy as np
import pytest

from minikeras import metrics


# ------------------------------------------------------------------ Keras's golden values
def test_mean_golden_values():
    # reduction_metrics_test.MeanTest
    assert metrics.Mean()([1, 3, 5, 7]) == pytest.approx(4.0)
    assert metrics.Mean()([1, 3, 5, 7], sample_weight=[1, 1, 0, 0]) == pytest.approx(2.0)
    assert metrics.Mean()([1, 3, 5, 7], sample_weight=[-1, -1, 0, 0]) == pytest.approx(2.0)
    assert metrics.Mean()([[1, 3], [5, 7]], sample_weight=[[1, 1], [1, 0]]) == pytest.approx(3.0)
    assert metrics.Mean()([[1, 3], [5, 7]], sample_weight=[[1, 0]]) == pytest.approx(3.0)


def test_binary_accuracy_golden_values():
    # accuracy_metrics_test.BinaryAccuracyTest
    y_true, y_pred = np.array([[1], [1], [0], [0]]), np.array([[0.98], [1], [0], [0.6]])
    assert metrics.BinaryAccuracy()(y_true, y_pred) == pytest.approx(0.75)
    assert metrics.BinaryAccuracy()(np.array([1, 1, 0, 0]), y_pred) == pytest.approx(0.75)
    weighted = metrics.BinaryAccuracy()(y_true, y_pred, sample_weight=np.array([1, 0, 0, 1]))
    assert weighted == pytest.approx(0.5)
    rank_1 = metrics.BinaryAccuracy()(
        np.array([1, 1, 0, 0]), np.array([0.98, 1, 0, 0.6]), sample_weight=np.array([1, 0, 0, 1])
    )
    assert rank_1 == pytest.approx(0.5)
    nd = metrics.BinaryAccuracy()(
        np.array([[1, 1], [0, 0]]),
        np.array([[0.98, 1], [0, 0.6]]),
        sample_weight=np.array([[1, 0], [0, 1]]),
    )
    assert nd == pytest.approx(0.5)
    # test_threshold
    y_true, y_pred = np.array([[1], [1], [0], [0]]), np.array([[0.98], [0.5], [0.1], [0.2]])
    assert metrics.BinaryAccuracy(threshold=0.3)(y_true, y_pred) == pytest.approx(1.0)
    assert metrics.BinaryAccuracy(threshold=0.9)(y_true, y_pred) == pytest.approx(0.75)


def test_categorical_accuracy_golden_values():
    # accuracy_metrics_test.CategoricalAccuracyTest
    y_true = np.array([[0, 0, 1], [0, 1, 0]])
    y_pred = np.array([[0.1, 0.9, 0.8], [0.05, 0.95, 0]])
    assert metrics.CategoricalAccuracy()(y_true, y_pred) == pytest.approx(0.5)
    weighted = metrics.CategoricalAccuracy()(y_true, y_pred, sample_weight=np.array([0.7, 0.3]))
    assert weighted == pytest.approx(0.3)


def test_sparse_categorical_accuracy_golden_values():
    # accuracy_metrics_test.SparseCategoricalAccuracyTest
    y_true = np.array([[2], [1]])
    y_pred = np.array([[0.1, 0.6, 0.3], [0.05, 0.95, 0]])
    assert metrics.SparseCategoricalAccuracy()(y_true, y_pred) == pytest.approx(0.5)
    weighted = metrics.SparseCategoricalAccuracy()(
        y_true, y_pred, sample_weight=np.array([0.7, 0.3])
    )
    assert weighted == pytest.approx(0.3)
    eye = np.eye(3)
    assert metrics.SparseCategoricalAccuracy()(np.array([[0], [1], [2]]), eye) == 1.0
    assert metrics.SparseCategoricalAccuracy()(np.array([0, 1], np.int64), eye[:2, :2]) == 1.0


def test_mean_squared_error_golden_values():
    # regression_metrics_test.MeanSquaredErrorTest
    y_true = np.array([[0, 1, 0, 1, 0], [0, 0, 1, 1, 1], [1, 1, 1, 1, 0], [0, 0, 0, 0, 1]])
    y_pred = np.array([[0, 0, 1, 1, 0], [1, 1, 1, 1, 1], [0, 1, 0, 1, 0], [1, 1, 1, 1, 1]])
    assert metrics.MeanSquaredError()(y_true, y_pred) == pytest.approx(0.5)
    weighted = metrics.MeanSquaredError()(
        y_true, y_pred, sample_weight=np.array([1.0, 1.5, 2.0, 2.5])
    )
    assert weighted == pytest.approx(0.54285, abs=1e-5)
    # the same data, absolute errors: per-sample means 0.4, 0.4, 0.4, 0.8
    assert metrics.MeanAbsoluteError()(y_true, y_pred) == pytest.approx(0.5)


# ------------------------------------------------------------------ running means
def test_state_accumulates_over_batches_and_resets():
    metric = metrics.CategoricalAccuracy()
    eye = np.eye(3)
    metric.update_state(eye, eye)  # 3 right
    metric.update_state(eye[:1], eye[1:2])  # 1 wrong
    assert metric.result() == pytest.approx(3 / 4)  # correct / seen, not a mean of batch means
    metric.reset_state()
    assert metric.result() == 0.0
    metric.update_state(eye[:1], eye[1:2])
    assert metric.result() == 0.0


def test_ties_go_to_the_first_maximum_as_keras():
    assert metrics.categorical_accuracy(np.array([[1, 0]]), np.array([[0.5, 0.5]]))[0] == 1.0
    assert metrics.categorical_accuracy(np.array([[0, 1]]), np.array([[0.5, 0.5]]))[0] == 0.0


def test_per_sample_functions():
    y_true, y_pred = np.array([[0.0, 2.0], [1.0, 1.0]]), np.array([[1.0, 0.0], [1.0, 3.0]])
    np.testing.assert_allclose(metrics.mse(y_true, y_pred), [2.5, 2.0])
    np.testing.assert_allclose(metrics.mae(y_true, y_pred), [1.5, 1.0])


# ------------------------------------------------------------------ names and resolution
@pytest.mark.parametrize(
    "name, cls",
    [
        ("mse", metrics.MeanSquaredError),
        ("mean_squared_error", metrics.MeanSquaredError),
        ("mae", metrics.MeanAbsoluteError),
        ("mean_absolute_error", metrics.MeanAbsoluteError),
        ("binary_accuracy", metrics.BinaryAccuracy),
        ("categorical_accuracy", metrics.CategoricalAccuracy),
        ("sparse_categorical_accuracy", metrics.SparseCategoricalAccuracy),
        ("CategoricalAccuracy", metrics.CategoricalAccuracy),
    ],
)
def test_get_by_name(name, cls):
    assert type(metrics.get(name)) is cls


def test_get_functions_objects_and_callables():
    # keras.metrics.get returns a function as it is; compile (resolve) wraps it, named by it
    assert metrics.get(metrics.categorical_accuracy) is metrics.categorical_accuracy
    resolved = metrics.resolve(metrics.categorical_accuracy, (2, 3), (2, 3))
    assert type(resolved) is metrics.CategoricalAccuracy
    assert resolved.name == "categorical_accuracy"
    metric = metrics.BinaryAccuracy()
    assert metrics.get(metric) is metric
    assert type(metrics.get(metrics.Precision)) is metrics.Precision

    def fraction_positive(y_true, y_pred):
        return (np.asarray(y_pred) > 0).mean(axis=-1)

    wrapped = metrics.resolve(fraction_positive, (2, 2), (2, 2))
    assert type(wrapped) is metrics.MeanMetricWrapper
    assert wrapped.name == "fraction_positive"
    assert wrapped(np.zeros((2, 2)), np.array([[1.0, -1.0], [1.0, 1.0]])) == pytest.approx(0.75)


def test_unknown_metric_lists_the_valid_names():
    with pytest.raises(ValueError, match="acuracy") as info:
        metrics.get("acuracy")
    assert "'accuracy'" in str(info.value) and "'mse'" in str(info.value)


@pytest.mark.parametrize(
    "y_true_shape, y_pred_shape, expected",
    [
        ((8, 1), (8, 1), metrics.BinaryAccuracy),  # one output unit
        ((8,), (8, 1), metrics.BinaryAccuracy),
        ((8,), (8, 5), metrics.SparseCategoricalAccuracy),  # labels of lower rank
        ((8, 1), (8, 5), metrics.SparseCategoricalAccuracy),  # one label column, several units
        ((8, 5), (8, 5), metrics.CategoricalAccuracy),  # one-hot rows
    ],
)
def test_accuracy_resolution_follows_keras(y_true_shape, y_pred_shape, expected):
    for name in ("accuracy", "acc"):
        metric = metrics.resolve(name, y_true_shape, y_pred_shape)
        assert type(metric) is expected
        assert metric.name == name  # logged under the name given to compile


def test_config_round_trip():
    metric = metrics.BinaryAccuracy(name="bin", threshold=0.7)
    again = metrics.BinaryAccuracy.from_config(metric.get_config())
    assert again.name == "bin" and again.get_config() == metric.get_config()
    y_true, y_pred = np.array([[1], [0]]), np.array([[0.6], [0.2]])
    assert again(y_true, y_pred) == pytest.approx(0.5)  # 0.6 is below the threshold 0.7
