"""Every metric against Keras's: the same random float32 batches, three `update_state` calls of
different sizes, with and without per-sample weights; then `result()`, the config, and a fit
whose metrics (a user's `Metric` subclass among them) give Keras's History.

Tolerances. Both frameworks keep float32 state and add each batch's (weighted) sum to it; they
differ only in the order of the float32 additions inside a batch (NumPy sums pairwise, TensorFlow
by its own tree), ≤ √n·u relative for n ≤ 9 terms, u = 2⁻²⁴ ≈ 6e-8, times a few operations
(log, exp, division) after it: rel 1e-5 bounds it with room. Counts are exact: every decision
(p > t, the bucket ⌈p·(T−1)⌉ − 1 of evenly spaced thresholds, argmax, top-k) is made on the same
float32 numbers in both, so unweighted confusion counts, accuracies and IoU matrices must agree
to the last bit, and they are compared with equality.
"""

import numpy as np
import pytest

from minikeras import metrics as mk_metrics
from minikeras.utils import clear_session

SIZES = (7, 5, 9)  # three batches, the last two ragged against the first
RTOL = 1e-5  # float32 sums in a different order (module docstring)


# ---------------------------------------------------------------- random batches by kind
def _probabilities(rng, n, classes):
    logits = rng.normal(size=(n, classes)).astype(np.float32)
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    return (e / e.sum(axis=1, keepdims=True)).astype(np.float32)


def batch(kind, rng, n):
    """(y_true, y_pred) of one batch of `n` samples for a metric of this kind."""
    if kind == "binary":  # 0/1 labels, probabilities, 3 outputs
        return rng.integers(0, 2, (n, 3)).astype(np.float32), rng.random((n, 3), np.float32)
    if kind == "binary1":  # one output unit
        return rng.integers(0, 2, (n, 1)).astype(np.float32), rng.random((n, 1), np.float32)
    if kind == "logits":  # 0/1 labels, unbounded scores
        return rng.integers(0, 2, (n, 3)).astype(np.float32), rng.normal(size=(n, 3)).astype(
            np.float32
        )
    if kind == "onehot":
        labels = rng.integers(0, 4, n)
        return np.eye(4, dtype=np.float32)[labels], _probabilities(rng, n, 4)
    if kind == "sparse":
        return rng.integers(0, 4, (n, 1)).astype(np.float32), _probabilities(rng, n, 4)
    if kind == "sparse_flat":
        return rng.integers(0, 4, n).astype(np.int32), _probabilities(rng, n, 4)
    if kind == "regression":
        return rng.normal(size=(n, 3)).astype(np.float32), rng.normal(size=(n, 3)).astype(
            np.float32
        )
    if kind == "positive":  # counts and rates (Poisson, MSLE)
        return rng.poisson(2.0, (n, 3)).astype(np.float32), (rng.random((n, 3)) * 4 + 0.01).astype(
            np.float32
        )
    if kind == "hinge":  # -1/1 labels
        return (2 * rng.integers(0, 2, (n, 3)) - 1).astype(np.float32), rng.normal(
            size=(n, 3)
        ).astype(np.float32)
    if kind == "classes":  # class ids, both sides
        return rng.integers(0, 3, n).astype(np.int32), rng.integers(0, 3, n).astype(np.int32)
    if kind == "exact":  # small integers that often agree
        return rng.integers(0, 3, (n, 1)).astype(np.float32), rng.integers(0, 3, (n, 1)).astype(
            np.float32
        )
    raise ValueError(kind)


# (class name, constructor arguments, kind of data, counts compared exactly when unweighted)
CASES = [
    ("Accuracy", {}, "exact", True),
    ("BinaryAccuracy", {}, "binary", True),
    ("BinaryAccuracy", {"threshold": 0.3}, "binary1", True),
    ("CategoricalAccuracy", {}, "onehot", True),
    ("SparseCategoricalAccuracy", {}, "sparse", True),
    ("SparseCategoricalAccuracy", {}, "sparse_flat", True),
    ("TopKCategoricalAccuracy", {"k": 2}, "onehot", True),
    ("SparseTopKCategoricalAccuracy", {"k": 2}, "sparse_flat", True),
    ("SparseTopKCategoricalAccuracy", {}, "sparse", True),
    ("TruePositives", {}, "binary", True),
    ("TrueNegatives", {"thresholds": [0.2, 0.7]}, "binary", True),
    ("FalsePositives", {"thresholds": [0.0, 0.5, 1.0]}, "binary", True),
    ("FalseNegatives", {"thresholds": 0.35}, "binary", True),
    ("Precision", {}, "binary", True),
    ("Precision", {"dtype": "float64"}, "binary", True),
    ("Precision", {"thresholds": [0.1, 0.4, 0.8]}, "binary", True),
    ("Precision", {"top_k": 2}, "binary", True),
    ("Precision", {"class_id": 1}, "binary", True),
    ("Precision", {"top_k": 1, "class_id": 2, "thresholds": 0.2}, "binary", True),
    ("Recall", {}, "binary", True),
    ("Recall", {"thresholds": [0.0, 0.25, 0.5, 0.75, 1.0]}, "binary", True),
    ("Recall", {"top_k": 2, "class_id": 0}, "binary", True),
    ("AUC", {}, "binary", False),
    ("AUC", {"num_thresholds": 7, "curve": "PR"}, "binary", False),
    ("AUC", {"curve": "PR", "summation_method": "minoring"}, "binary", False),
    ("AUC", {"summation_method": "majoring"}, "binary", False),
    ("AUC", {"curve": "PRGAIN", "num_thresholds": 13}, "binary", False),
    ("AUC", {"thresholds": [0.15, 0.5, 0.62]}, "binary", False),
    (
        "AUC",
        {"multi_label": True, "num_labels": 3, "curve": "PR", "dtype": "float64"},
        "binary",
        False,
    ),
    ("AUC", {"multi_label": True, "label_weights": [0.2, 1.0, 0.5]}, "binary", False),
    ("AUC", {"label_weights": [0.2, 1.0, 0.5]}, "binary", False),
    ("AUC", {"from_logits": True}, "logits", False),
    ("PrecisionAtRecall", {"recall": 0.6}, "binary", False),
    ("RecallAtPrecision", {"precision": 0.5, "num_thresholds": 11}, "binary", False),
    ("SensitivityAtSpecificity", {"specificity": 0.4}, "binary", False),
    ("SpecificityAtSensitivity", {"sensitivity": 0.7, "class_id": 1}, "binary", False),
    ("SpecificityAtSensitivity", {"sensitivity": 0.5, "num_thresholds": 1}, "binary", False),
    ("F1Score", {}, "onehot", False),
    ("F1Score", {"average": "micro", "threshold": 0.3}, "binary", False),
    ("F1Score", {"average": "macro"}, "binary", False),
    ("FBetaScore", {"beta": 2.0, "average": "weighted", "threshold": 0.4}, "binary", False),
    ("MeanSquaredError", {}, "regression", False),
    ("MeanSquaredError", {"dtype": "float64"}, "regression", False),
    ("MeanAbsoluteError", {}, "regression", False),
    ("RootMeanSquaredError", {}, "regression", False),
    ("MeanAbsolutePercentageError", {}, "regression", False),
    ("MeanSquaredLogarithmicError", {}, "positive", False),
    ("CosineSimilarity", {}, "regression", False),
    ("LogCoshError", {}, "regression", False),
    ("PearsonCorrelation", {}, "regression", False),
    ("ConcordanceCorrelation", {}, "regression", False),
    ("R2Score", {}, "regression", False),
    ("R2Score", {"class_aggregation": "variance_weighted_average"}, "regression", False),
    ("R2Score", {"class_aggregation": None, "num_regressors": 2}, "regression", False),
    ("BinaryCrossentropy", {}, "binary", False),
    ("BinaryCrossentropy", {"from_logits": True, "label_smoothing": 0.1}, "logits", False),
    ("CategoricalCrossentropy", {}, "onehot", False),
    ("CategoricalCrossentropy", {"label_smoothing": 0.2}, "onehot", False),
    ("SparseCategoricalCrossentropy", {}, "sparse", False),
    ("SparseCategoricalCrossentropy", {"ignore_class": 2}, "sparse", False),
    (
        "SparseCategoricalCrossentropy",
        {"from_logits": True, "ignore_class": 0},
        "sparse_flat",
        False,
    ),
    ("KLDivergence", {}, "onehot", False),
    ("Poisson", {}, "positive", False),
    ("Hinge", {}, "hinge", False),
    ("Hinge", {}, "binary", False),
    ("SquaredHinge", {}, "hinge", False),
    ("CategoricalHinge", {}, "onehot", False),
    ("IoU", {"num_classes": 3, "target_class_ids": [0, 2]}, "classes", True),
    ("MeanIoU", {"num_classes": 3}, "classes", True),
    ("MeanIoU", {"num_classes": 3, "ignore_class": 1, "dtype": "float32"}, "classes", True),
    ("BinaryIoU", {"threshold": 0.4}, "binary1", True),
    ("OneHotIoU", {"num_classes": 4, "target_class_ids": [1, 3]}, "onehot", True),
    ("OneHotMeanIoU", {"num_classes": 4}, "onehot", True),
]


def _id(case):
    name, kwargs, kind, _ = case
    return f"{name}({', '.join(f'{k}={v}' for k, v in kwargs.items())})-{kind}"


def _run(metric, batches):
    for y_true, y_pred, weight in batches:
        metric.update_state(y_true, y_pred, sample_weight=weight)
    return np.asarray(metric.result(), dtype=np.float64)


def _batches(kind, weighted, seed, integer_weights=False):
    rng = np.random.default_rng(seed)
    out = []
    for n in SIZES:
        y_true, y_pred = batch(kind, rng, n)
        weight = None
        if weighted:  # integer weights for the integer confusion matrices (as Keras advises)
            weight = rng.integers(0, 3, n) if integer_weights else rng.random(n, np.float32) * 2
        out.append((y_true, y_pred, weight))
    return out


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("case", CASES, ids=[_id(c) for c in CASES])
def test_result_matches_keras(keras, case, weighted):
    """result() after three batches; then the variables (names, shapes, dtypes, values) and,
    after reset_state(), one batch again."""
    name, kwargs, kind, exact = case
    integer_weights = "IoU" in name and kwargs.get("dtype") is None
    seed = len(name) * 31 + len(kwargs)
    batches = _batches(kind, weighted, seed, integer_weights=integer_weights)
    ours, theirs = getattr(mk_metrics, name)(**kwargs), getattr(keras.metrics, name)(**kwargs)
    ours_result, theirs_result = _run(ours, batches), _run(theirs, batches)
    assert ours_result.shape == theirs_result.shape
    if exact and not weighted:
        np.testing.assert_array_equal(ours_result, theirs_result)
    else:
        np.testing.assert_allclose(ours_result, theirs_result, rtol=RTOL, atol=1e-6)
    assert [v.name for v in ours.variables] == [v.name for v in theirs.variables]
    for mine, keras_variable in zip(ours.variables, theirs.variables):
        assert mine.shape == tuple(keras_variable.shape)
        assert mine.dtype == np.dtype(keras_variable.dtype)
        np.testing.assert_allclose(mine.numpy(), keras_variable.numpy(), rtol=RTOL, atol=1e-5)
    ours.reset_state(), theirs.reset_state()
    np.testing.assert_allclose(
        _run(ours, batches[:1]), _run(theirs, batches[:1]), rtol=RTOL, atol=1e-6
    )


@pytest.mark.parametrize("cls", ["Mean", "Sum"])
@pytest.mark.parametrize("dtype", [None, "float64"])
def test_mean_and_sum_match_keras(keras, cls, dtype):
    """Values of rank 2 with weights of every shape Keras takes: none, per sample (N,) and
    (N, 1), per entry (N, 3), one for all; each batch reduced and weighed as Keras does."""
    rng = np.random.default_rng(1)
    ours, theirs = getattr(mk_metrics, cls)(dtype=dtype), getattr(keras.metrics, cls)(dtype=dtype)
    for weight_shape in (None, (6,), (6, 1), (6, 3), ()):
        values = rng.normal(size=(6, 3)).astype(np.float32)
        weight = None if weight_shape is None else rng.random(weight_shape).astype(np.float32)
        ours.update_state(values, sample_weight=weight)
        theirs.update_state(values, sample_weight=weight)
        np.testing.assert_allclose(ours.result(), theirs.result(), rtol=RTOL)
    assert np.asarray(ours.result()).dtype == theirs.result().numpy().dtype
    for mine, keras_variable in zip(ours.variables, theirs.variables):
        assert (mine.name, mine.dtype) == (keras_variable.name, np.dtype(keras_variable.dtype))


def _without_counter(name):
    """'precision_3' → 'precision': the automatic suffix depends on how many came before."""
    head, _, tail = name.rpartition("_")
    return head if tail.isdigit() and head else name


@pytest.mark.parametrize("case", CASES, ids=[_id(c) for c in CASES])
def test_config_matches_keras(keras, case):
    name, kwargs, _, _ = case
    ours_metric, theirs_metric = (
        getattr(mk_metrics, name)(**kwargs),
        getattr(keras.metrics, name)(**kwargs),
    )
    # whether higher is better, read by EarlyStopping(mode="auto")
    assert getattr(ours_metric, "_direction", None) == getattr(theirs_metric, "_direction", None)
    ours, theirs = ours_metric.get_config(), theirs_metric.get_config()
    ours["name"], theirs["name"] = _without_counter(ours["name"]), _without_counter(theirs["name"])
    if isinstance(theirs.get("label_weights"), object) and theirs.get("label_weights") is not None:
        theirs["label_weights"] = np.asarray(theirs["label_weights"]).tolist()
        ours["label_weights"] = np.asarray(ours["label_weights"], np.float32).tolist()
    assert ours == theirs
    again = getattr(mk_metrics, name).from_config(ours)
    assert again.get_config() == ours


def test_string_identifiers_match_keras(keras):
    """Every name keras.metrics.get understands gives the same class here."""
    from keras.src.metrics import ALL_OBJECTS_DICT

    assert set(mk_metrics.ALL_METRICS) == set(ALL_OBJECTS_DICT)
    for key, cls in ALL_OBJECTS_DICT.items():
        if cls.__name__ in ("Metric", "MeanMetricWrapper"):  # abstract, or needs a function
            assert mk_metrics.ALL_METRICS[key].__name__ == cls.__name__
            continue
        if cls.__name__ in ("IoU", "MeanIoU", "OneHotIoU", "OneHotMeanIoU"):
            assert mk_metrics.ALL_METRICS[key].__name__ == cls.__name__  # need num_classes
            continue
        try:
            theirs = keras.metrics.get(key)
        except TypeError:  # a required argument (the "X at Y" metrics): both refuse
            with pytest.raises(TypeError):
                mk_metrics.get(key)
            continue
        ours = mk_metrics.get(key)
        assert type(ours).__name__ == type(theirs).__name__, key
        assert ours.name == theirs.name or _without_counter(ours.name) == _without_counter(
            theirs.name
        ), key


def _custom_metric_class(base):
    """The same user code on either framework's Metric: hits of (p > 0.5) against the labels,
    weighted, over samples seen; two variables made with add_variable."""

    class WeightedHits(base):
        def __init__(self, name="weighted_hits", **kwargs):
            super().__init__(name=name, **kwargs)
            self.hits = self.add_variable(shape=(), initializer="zeros", name="hits")
            self.seen = self.add_variable(shape=(), initializer="zeros", name="seen")

        def update_state(self, y_true, y_pred, sample_weight=None):
            y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
            hits = ((y_pred > 0.5) == (y_true > 0.5)).astype("float32")
            weight = np.ones(len(y_true), "float32") if sample_weight is None else sample_weight
            weight = np.asarray(weight, "float32").reshape(-1, 1)
            self.hits.assign(self.hits + np.sum(hits * weight))
            self.seen.assign(self.seen + np.sum(weight) * hits.shape[-1])

        def result(self):
            return self.hits / self.seen

    return WeightedHits


def test_custom_metric_and_two_precisions_in_fit_match_keras(keras):
    """compile(metrics=[a user's Metric, Precision(), Precision(thresholds=0.3), AUC()]) + fit:
    History keys (Keras numbers the second Precision `precision_1`) and values as Keras's."""
    import minikeras

    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 5)).astype(np.float32)
    y = (x[:, :1] + 0.5 * rng.normal(size=(40, 1)) > 0).astype(np.float32)

    def train(framework, model):
        custom = _custom_metric_class(framework.metrics.Metric)()
        model.compile(
            optimizer=framework.optimizers.SGD(learning_rate=0.1),
            loss="binary_crossentropy",
            metrics=[
                custom,
                framework.metrics.Precision(),
                framework.metrics.Precision(thresholds=0.3),
                framework.metrics.AUC(num_thresholds=50),
            ],
            **({"run_eagerly": True} if framework is keras else {}),  # numpy in update_state
        )
        return model.fit(x, y, batch_size=8, epochs=3, shuffle=False, verbose=0).history

    clear_session()
    keras.utils.clear_session()
    ours_model = minikeras.Sequential(
        [minikeras.Input(shape=(5,)), minikeras.layers.Dense(1, activation="sigmoid")]
    )
    twin = keras.Sequential.from_config(ours_model.get_config())
    twin.set_weights(ours_model.get_weights())
    ours, theirs = train(minikeras, ours_model), train(keras, twin)
    assert (
        sorted(ours)
        == sorted(theirs)
        == [
            "auc",
            "loss",
            "precision",
            "precision_1",
            "weighted_hits",
        ]
    )
    for key in theirs:
        np.testing.assert_allclose(ours[key], theirs[key], rtol=RTOL, atol=1e-6, err_msg=key)


def test_repeated_metric_names_are_numbered_as_keras(keras):
    """A functional model compiled with metrics=["precision", "precision", "auc"]: Keras logs
    the second as `precision_1` (CompileMetrics.result); the values as Keras's."""
    import minikeras

    rng = np.random.default_rng(2)
    x = rng.normal(size=(24, 3)).astype(np.float32)
    y = (rng.random((24, 1)) > 0.5).astype(np.float32)
    clear_session()
    keras.utils.clear_session()
    inputs = minikeras.Input(shape=(3,))
    ours_model = minikeras.Model(inputs, minikeras.layers.Dense(1, activation="sigmoid")(inputs))
    twin = keras.Model.from_config(ours_model.get_config())
    twin.set_weights(ours_model.get_weights())
    histories = []
    for model in (ours_model, twin):
        model.compile(
            optimizer="sgd", loss="binary_crossentropy", metrics=["precision", "precision", "auc"]
        )
        histories.append(model.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0).history)
    ours, theirs = histories
    assert sorted(ours) == sorted(theirs) == ["auc", "loss", "precision", "precision_1"]
    for key in theirs:
        np.testing.assert_allclose(ours[key], theirs[key], rtol=RTOL, atol=1e-6, err_msg=key)
