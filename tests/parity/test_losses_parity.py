"""Every loss against Keras 3 on TensorFlow: values, gradients, shapes, configs, names, and a
short `fit(shuffle=False)`; the regularizers and constraints likewise.

Values and gradients are compared in float64 (Keras's loss built with dtype="float64", so that
it does not cast the arrays to float32), normwise: max|a − b| ≤ rel·max(‖a‖∞, ‖b‖∞). Both sides
evaluate the same formula with correctly rounded elementwise functions and sums of at most a
few dozen terms, so they differ by a few ulps (2.2e-16 each); rel = 1e-10 leaves six orders of
magnitude and still catches a wrong constant or a missing clip (a factor rounded to float32
alone moves the result by ~1e-8). The gradient on Keras's side is tf.GradientTape's through
the loss as Keras writes it; for reduction='none' the tape differentiates the sum of the
losses, as `fit` does with an unreduced loss.

The fits run in float32, Keras's default. Their tolerance, 1e-5 relative, is the one derived in
test_parity_properties.py's docstring (one small dense layer, a few steps of SGD).
"""

import zlib

import numpy as np
import pytest

import minikeras as mk
from minikeras import constraints, losses, regularizers

REL64 = 1e-10
REL32 = 1e-5
REDUCTIONS = ["sum_over_batch_size", "sum", "none", None, "mean", "mean_with_sample_weight"]


def assert_close(actual, expected, rel, what=""):
    actual, expected = np.asarray(actual, np.float64), np.asarray(expected, np.float64)
    assert actual.shape == expected.shape, (what, actual.shape, expected.shape)
    scale = max(np.max(np.abs(actual), initial=0), np.max(np.abs(expected), initial=0), 1e-300)
    diff = np.max(np.abs(actual - expected), initial=0)
    assert diff <= rel * scale, f"{what}: max abs diff {diff:.3e}, relative {diff / scale:.3e}"


# ------------------------------------------------------------------ the data each loss takes
def _probabilities(rng, shape):
    e = np.exp(rng.normal(size=shape))
    return e / e.sum(axis=-1, keepdims=True)


def _one_hot(rng, n, c):
    return np.eye(c)[rng.integers(0, c, size=n)]


def data_for(kind, rng, n=6, c=4):
    """(y_true, y_pred) in float64 for one kind of loss, away from kinks (|1 − y·p| ≫ 0)."""
    if kind == "regression":
        return rng.normal(size=(n, c)), rng.normal(size=(n, c))
    if kind == "positive":  # MSLE (with a few negative predictions: clipped at ε)
        return rng.uniform(0, 3, size=(n, c)), rng.uniform(-0.2, 2, size=(n, c))
    if kind == "counts":  # Poisson: rates > 0
        return rng.integers(0, 4, size=(n, c)).astype(float), rng.uniform(0.1, 2, size=(n, c))
    if kind == "percent":  # MAPE: labels away from 0, and one exactly 0 (divided by ε)
        y = rng.uniform(0.5, 2, size=(n, c)) * rng.choice([-1, 1], size=(n, c))
        y[0, 0] = 0.0
        return y, rng.normal(size=(n, c))
    if kind == "distribution":  # KL divergence
        return _probabilities(rng, (n, c)), _probabilities(rng, (n, c))
    if kind == "binary_hinge":  # 0/1 labels, converted to −1/1 by Keras
        return rng.integers(0, 2, size=(n, c)).astype(float), rng.normal(size=(n, c))
    if kind == "signed_hinge":
        return rng.choice([-1.0, 1.0], size=(n, c)), rng.normal(size=(n, c))
    if kind == "one_hot_scores":
        return _one_hot(rng, n, c), rng.normal(size=(n, c))
    if kind == "one_hot":
        return _one_hot(rng, n, c), _probabilities(rng, (n, c))
    if kind == "one_hot_logits":
        return _one_hot(rng, n, c), 2 * rng.normal(size=(n, c))
    if kind == "binary":
        return rng.integers(0, 2, size=(n, c)).astype(float), rng.uniform(0.02, 0.98, (n, c))
    if kind == "binary_logits":
        return rng.integers(0, 2, size=(n, c)).astype(float), 2 * rng.normal(size=(n, c))
    if kind == "sparse":
        return rng.integers(0, c, size=n), _probabilities(rng, (n, c))
    if kind == "sparse_logits":
        return rng.integers(0, c, size=n), 2 * rng.normal(size=(n, c))
    raise ValueError(kind)


# (class name, constructor arguments, kind of data)
CASES = [
    ("Huber", {}, "regression"),
    ("Huber", {"delta": 0.4}, "regression"),
    ("LogCosh", {}, "regression"),
    ("KLDivergence", {}, "distribution"),
    ("Poisson", {}, "counts"),
    ("Hinge", {}, "binary_hinge"),
    ("Hinge", {}, "signed_hinge"),
    ("SquaredHinge", {}, "binary_hinge"),
    ("SquaredHinge", {}, "signed_hinge"),
    ("CategoricalHinge", {}, "one_hot_scores"),
    ("CosineSimilarity", {}, "regression"),
    ("CosineSimilarity", {"axis": 0}, "regression"),
    ("MeanSquaredLogarithmicError", {}, "positive"),
    ("MeanAbsolutePercentageError", {}, "percent"),
    ("BinaryFocalCrossentropy", {}, "binary"),
    ("BinaryFocalCrossentropy", {"apply_class_balancing": True, "alpha": 0.4}, "binary"),
    ("BinaryFocalCrossentropy", {"gamma": 1.5, "label_smoothing": 0.1}, "binary"),
    ("BinaryFocalCrossentropy", {"from_logits": True, "gamma": 3.0}, "binary_logits"),
    (
        "BinaryFocalCrossentropy",
        {"from_logits": True, "apply_class_balancing": True},
        "binary_logits",
    ),
    ("CategoricalFocalCrossentropy", {}, "one_hot"),
    (
        "CategoricalFocalCrossentropy",
        {"alpha": 0.5, "gamma": 1.0, "label_smoothing": 0.2},
        "one_hot",
    ),
    ("CategoricalFocalCrossentropy", {"from_logits": True}, "one_hot_logits"),
    ("CategoricalFocalCrossentropy", {"alpha": [0.1, 0.2, 0.3, 0.4]}, "one_hot"),
    ("SparseCategoricalCrossentropy", {"ignore_class": 1}, "sparse"),
    ("SparseCategoricalCrossentropy", {"ignore_class": 0, "from_logits": True}, "sparse_logits"),
    ("SparseCategoricalCrossentropy", {"ignore_class": -1}, "sparse"),
    ("CategoricalCrossentropy", {"axis": 0}, "one_hot"),
    ("CategoricalCrossentropy", {"axis": 0, "from_logits": True}, "one_hot_logits"),
    ("BinaryCrossentropy", {"axis": 0}, "binary"),
    ("BinaryCrossentropy", {"axis": 0, "from_logits": True}, "binary_logits"),
    ("MeanSquaredError", {}, "regression"),
    ("MeanAbsoluteError", {}, "regression"),
]


def _ids(case):
    name, kwargs, kind = case
    return f"{name}({', '.join(f'{k}={v}' for k, v in kwargs.items())})-{kind}"


def _weights(rng, n):
    """No weights, a scalar, one per sample (N,) and (N, 1)."""
    return [None, 2.5, rng.uniform(0, 2, size=n), rng.uniform(0, 2, size=(n, 1))]


def _keras_value_and_grad(keras, loss, y, p, sample_weight):
    import tensorflow as tf

    variable = tf.Variable(p)
    with tf.GradientTape() as tape:
        value = loss(y, variable, sample_weight=sample_weight)
    return value.numpy(), tape.gradient(value, variable).numpy()


def _data_with_ignored(name, kwargs, kind, rng):
    y, p = data_for(kind, rng)
    if kwargs.get("ignore_class") == -1:
        y[[1, 4]] = -1  # labels outside the classes, as a "void" class
    return y, p


@pytest.mark.parametrize("case", CASES, ids=_ids)
def test_value_gradient_and_shape_match_keras(keras, case):
    """Every reduction, each with one kind of sample weights (none, a scalar, (N,), (N, 1)): the
    value (and its shape) of a direct call, and value_and_grad's gradient against the tape's."""
    name, kwargs, kind = case
    rng = np.random.default_rng(zlib.crc32(_ids(case).encode()))
    y, p = _data_with_ignored(name, kwargs, kind, rng)
    none, scalar, per_sample, column = _weights(rng, len(p))
    if kwargs.get("axis") == 0:
        # the class axis first: losses (C,), which per-sample weights (N,) do not fit, in Keras
        # as here; the labels one-hot along that axis
        y, p = data_for(kind, rng, n=p.shape[1], c=p.shape[0])
        y, p, per_sample, column = y.T.copy(), p.T.copy(), none, scalar
    # one kind of weights per reduction; (N, 1) meets 'none', where it shapes the result
    pairs = zip(REDUCTIONS, [per_sample, scalar, column, none, column, per_sample])
    for reduction, sample_weight in pairs:
        ours = getattr(losses, name)(reduction=reduction, dtype="float64", **kwargs)
        theirs = getattr(keras.losses, name)(reduction=reduction, dtype="float64", **kwargs)
        what = f"{name} reduction={reduction} sample_weight={np.shape(sample_weight)}"
        expected, expected_grad = _keras_value_and_grad(keras, theirs, y, p, sample_weight)
        assert_close(ours(y, p, sample_weight=sample_weight), expected, REL64, what)
        value, grad = ours.value_and_grad(y, p.copy(), sample_weight)
        assert_close(value, expected, REL64, what + " value_and_grad")
        assert_close(grad, expected_grad, REL64, what + " gradient")


def test_none_reduction_with_column_weights_keeps_the_column(keras):
    """(N,) losses times (N, 1) weights come back (N, 1) in Keras (ranks matched first)."""
    rng = np.random.default_rng(0)
    y, p = data_for("regression", rng)
    w = rng.uniform(0, 2, size=(len(y), 1))
    expected = keras.losses.MeanSquaredError(reduction="none", dtype="float64")(y, p, w)
    ours = losses.MeanSquaredError(reduction="none", dtype="float64")(y, p, sample_weight=w)
    assert ours.shape == tuple(expected.shape) == (len(y), 1)
    assert_close(ours, expected, REL64)


def test_axis_other_than_last_is_refused_by_sparse_crossentropy(keras):
    rng = np.random.default_rng(1)
    y, p = data_for("sparse", rng)
    with pytest.raises(ValueError, match="Only axis=-1") as ours:
        losses.SparseCategoricalCrossentropy(axis=0)(y, p)
    with pytest.raises(ValueError, match="Only axis=-1") as theirs:
        keras.losses.SparseCategoricalCrossentropy(axis=0)(y, p)
    assert str(ours.value) == str(theirs.value)


def test_axis_on_three_dimensional_outputs(keras):
    """Class axis 1 of (N, C, T) outputs: losses (N, T), weights per sample spread over T."""
    rng = np.random.default_rng(2)
    p = _probabilities(rng, (3, 5, 4)).transpose(0, 2, 1)  # rows sum to 1 along axis 1
    y = np.eye(4)[rng.integers(0, 4, size=(3, 5))].transpose(0, 2, 1)
    for cls, kwargs in [
        ("CategoricalCrossentropy", {"label_smoothing": 0.1}),
        ("BinaryCrossentropy", {}),
        ("CategoricalFocalCrossentropy", {}),
        ("CosineSimilarity", {}),
    ]:
        ours = getattr(losses, cls)(axis=1, **kwargs)
        theirs = getattr(keras.losses, cls)(axis=1, dtype="float64", **kwargs)
        expected, expected_grad = _keras_value_and_grad(keras, theirs, y, p, None)
        value, grad = ours.value_and_grad(y, p.copy())
        assert_close(value, expected, REL64, cls)
        assert_close(grad, expected_grad, REL64, cls + " gradient")
        per_sample = getattr(losses, cls)(axis=1, reduction="none", **kwargs)(y, p)
        assert per_sample.shape == (3, 5)


# ------------------------------------------------------------------ functions, names, configs
FUNCTIONS = [
    ("huber", {"delta": 0.5}, "regression"),
    ("log_cosh", {}, "regression"),
    ("kl_divergence", {}, "distribution"),
    ("poisson", {}, "counts"),
    ("hinge", {}, "binary_hinge"),
    ("squared_hinge", {}, "signed_hinge"),
    ("categorical_hinge", {}, "one_hot_scores"),
    ("cosine_similarity", {"axis": 0}, "regression"),
    ("mean_squared_logarithmic_error", {}, "positive"),
    ("mean_absolute_percentage_error", {}, "percent"),
    ("binary_focal_crossentropy", {"apply_class_balancing": True, "gamma": 1.0}, "binary"),
    ("categorical_focal_crossentropy", {"alpha": 0.3}, "one_hot"),
    ("sparse_categorical_crossentropy", {"ignore_class": 2}, "sparse"),
    ("categorical_crossentropy", {"axis": 0}, "one_hot"),
    ("binary_crossentropy", {"axis": 0}, "binary"),
]


@pytest.mark.parametrize("name, kwargs, kind", FUNCTIONS, ids=[f[0] for f in FUNCTIONS])
def test_function_forms_match_keras(keras, name, kwargs, kind):
    y, p = data_for(kind, np.random.default_rng(3))
    ours = getattr(losses, name)(y, p, **kwargs)
    theirs = getattr(keras.losses, name)(y, p, **kwargs)  # float64 in, float64 out
    assert_close(ours, theirs, REL64, name)


def test_every_keras_loss_name_resolves_to_the_same_loss(keras):
    """Each name keras.losses.get knows (apart from the segmentation, similarity and sequence
    losses minikeras does not have) gives a loss with Keras's per-sample values."""
    from keras.src.losses import ALL_OBJECTS_DICT

    skipped = {
        "Dice",
        "Tversky",
        "Circle",
        "CTC",
        "dice",
        "tversky",
        "circle",
        "ctc",
        "CategoricalGeneralizedCrossEntropy",
        "categorical_generalized_cross_entropy",
        "Loss",
        "LossFunctionWrapper",
    }
    kinds = {
        "Huber": "regression",
        "huber": "regression",
        "LogCosh": "regression",
        "log_cosh": "regression",
        "CosineSimilarity": "regression",
        "cosine_similarity": "regression",
        "KLDivergence": "distribution",
        "kl_divergence": "distribution",
        "kld": "distribution",
        "KLD": "distribution",
        "Poisson": "counts",
        "poisson": "counts",
        "Hinge": "binary_hinge",
        "hinge": "binary_hinge",
        "SquaredHinge": "signed_hinge",
        "squared_hinge": "signed_hinge",
        "CategoricalHinge": "one_hot_scores",
        "categorical_hinge": "one_hot_scores",
    }
    mk.config.set_floatx("float64")  # a loss computes in floatx, as Keras's
    checked = 0
    for name in sorted(ALL_OBJECTS_DICT):
        if name in skipped:
            continue
        lowered = name.lower()
        kind = kinds.get(name) or (
            "sparse"
            if "sparse" in lowered
            else "binary"
            if "binary" in lowered or lowered == "bce"
            else "one_hot"
            if "categorical" in lowered
            else "positive"
            if "log" in lowered or lowered == "msle"
            else "percent"
            if "percent" in lowered or lowered == "mape"
            else "regression"
        )
        y, p = data_for(kind, np.random.default_rng(4))
        ours = losses.to_loss(name)
        reference = keras.losses.get(name)
        if isinstance(reference, keras.losses.Loss):
            reference = type(reference)(reduction="none", dtype="float64")
            expected = reference(y, p)
        else:
            expected = reference(y, p)
        ours.reduction = "none"
        assert_close(ours(y, p), expected, REL64, name)
        checked += 1
    assert checked >= 40  # every name of the 17 losses, their classes and short forms


CONFIGS = [
    ("Huber", {"delta": 2.0}),
    ("LogCosh", {}),
    ("KLDivergence", {"reduction": "sum"}),
    ("Poisson", {"name": "p"}),
    ("Hinge", {}),
    ("SquaredHinge", {}),
    ("CategoricalHinge", {}),
    ("CosineSimilarity", {"axis": 0}),
    ("MeanSquaredLogarithmicError", {}),
    ("MeanAbsolutePercentageError", {"reduction": None}),
    (
        "BinaryFocalCrossentropy",
        {
            "apply_class_balancing": True,
            "alpha": 0.3,
            "gamma": 1.0,
            "from_logits": True,
            "label_smoothing": 0.1,
            "axis": 0,
        },
    ),
    ("CategoricalFocalCrossentropy", {"alpha": 0.3, "gamma": 3.0, "label_smoothing": 0.2}),
    ("SparseCategoricalCrossentropy", {"ignore_class": 255, "from_logits": True}),
    ("CategoricalCrossentropy", {"axis": 0}),
    ("BinaryCrossentropy", {}),
    ("MeanSquaredError", {}),
    ("MeanAbsoluteError", {}),
]


@pytest.mark.parametrize("name, kwargs", CONFIGS, ids=[c[0] for c in CONFIGS])
def test_configs_equal_keras(keras, name, kwargs):
    ours = getattr(losses, name)(**kwargs)
    theirs = getattr(keras.losses, name)(**kwargs)
    assert ours.get_config() == theirs.get_config()
    assert losses.serialize(ours) == keras.losses.serialize(theirs)
    restored = keras.losses.deserialize(losses.serialize(ours))
    assert restored.get_config() == theirs.get_config()


def test_sparse_crossentropy_takes_keras_positional_order(keras):
    # (from_logits, ignore_class, reduction, axis): reduction before axis, as Keras
    ours = losses.SparseCategoricalCrossentropy(True, 3, "sum")
    theirs = keras.losses.SparseCategoricalCrossentropy(True, 3, "sum")
    assert ours.get_config() == theirs.get_config()


@pytest.mark.parametrize(
    "y_shape, output_shape",
    [
        ((8, 1), (8, 1)),
        ((8,), (8, 1)),
        ((8,), (8, 5)),
        ((8, 1), (8, 5)),
        ((8, 5), (8, 5)),
        ((8, 3), (8, 3, 5)),
    ],
)
@pytest.mark.parametrize("identifier", ["crossentropy", "ce", "CE"])
def test_crossentropy_is_chosen_from_the_data_as_keras(keras, identifier, y_shape, output_shape):
    from keras.src.trainers.compile_utils import get_loss

    theirs = get_loss(identifier, np.zeros(y_shape), np.zeros(output_shape))
    ours = losses.resolve(identifier, y_shape, output_shape)
    assert theirs.fn.__name__ == type(ours)().name  # e.g. binary_crossentropy


# ------------------------------------------------------------------ a short fit against Keras
def _fit_both(keras, loss_factory, activation, x, y, epochs=2, batch_size=4):
    """The same Dense(3) model in both, same weights, same SGD; fit without shuffling."""
    model = mk.Sequential([mk.Input((x.shape[1],)), mk.layers.Dense(3, activation=activation)])
    twin = keras.Sequential.from_config(model.get_config())
    twin.set_weights(model.get_weights())
    model.compile(optimizer=mk.optimizers.SGD(0.1), loss=loss_factory(mk))
    twin.compile(optimizer=keras.optimizers.SGD(0.1), loss=loss_factory(keras))
    ours = model.fit(x, y, batch_size=batch_size, epochs=epochs, shuffle=False, verbose=0)
    theirs = twin.fit(x, y, batch_size=batch_size, epochs=epochs, shuffle=False, verbose=0)
    return model, twin, ours.history, theirs.history


FITS = [
    ("huber", lambda k: k.losses.Huber(delta=0.5), "linear", "regression"),
    ("poisson", lambda k: k.losses.Poisson(), "softplus", "counts"),
    ("kl_divergence", lambda k: k.losses.KLDivergence(), "softmax", "distribution"),
    ("categorical_hinge", lambda k: k.losses.CategoricalHinge(), "linear", "one_hot_scores"),
    (
        "binary_focal",
        lambda k: k.losses.BinaryFocalCrossentropy(apply_class_balancing=True),
        "sigmoid",
        "binary",
    ),
    ("categorical_focal", lambda k: k.losses.CategoricalFocalCrossentropy(), "softmax", "one_hot"),
    (
        "ignore_class",
        lambda k: k.losses.SparseCategoricalCrossentropy(ignore_class=1),
        "softmax",
        "sparse",
    ),
]


@pytest.mark.parametrize("name, factory, activation, kind", FITS, ids=[f[0] for f in FITS])
def test_short_fit_matches_keras(keras, name, factory, activation, kind):
    """Two epochs of SGD on 10 samples in batches of 4 (a short last batch of 2): the History
    and the weights after, float32 (1e-5, see the module docstring)."""
    rng = np.random.default_rng(5)
    x = rng.normal(size=(10, 4)).astype("float32")
    y, _ = data_for(kind, rng, n=10, c=3)
    model, twin, ours, theirs = _fit_both(keras, factory, activation, x, y.astype("float32"))
    assert sorted(ours) == sorted(theirs)
    assert_close(ours["loss"], theirs["loss"], REL32, name + " History")
    for a, b in zip(model.get_weights(), twin.get_weights()):
        assert_close(a, b, REL32, name + " weights")


def test_unreduced_loss_trains_on_the_sum_as_keras(keras):
    """reduction='none' inside fit: Keras's tape differentiates the vector of losses, i.e. their
    sum, so the weights move as with reduction='sum'; the History reports their mean."""
    rng = np.random.default_rng(6)
    x = rng.normal(size=(8, 4)).astype("float32")
    y = rng.normal(size=(8, 3)).astype("float32")

    def factory(k):
        return k.losses.MeanSquaredError(reduction="none")

    model, twin, ours, theirs = _fit_both(keras, factory, "linear", x, y)
    for a, b in zip(model.get_weights(), twin.get_weights()):
        assert_close(a, b, REL32, "weights")
    assert_close(ours["loss"], theirs["loss"], REL32, "History (batches of equal size)")


def test_unreduced_loss_history_with_a_short_last_batch(keras):
    rng = np.random.default_rng(7)
    x = rng.normal(size=(10, 4)).astype("float32")
    y = rng.normal(size=(10, 3)).astype("float32")

    def factory(k):
        return k.losses.MeanSquaredError(reduction="none")

    _, _, ours, theirs = _fit_both(keras, factory, "linear", x, y)
    assert_close(ours["loss"], theirs["loss"], REL32, "History with a short last batch")


# ------------------------------------------------------------------ regularizers, constraints
REGULARIZERS = [
    ("L1", {}),
    ("L1", {"l1": 0.3}),
    ("L2", {"l2": 0.3}),
    ("L1L2", {"l1": 0.1, "l2": 0.2}),
    ("L1L2", {"l2": 0.05}),
    ("OrthogonalRegularizer", {"factor": 0.3}),
    ("OrthogonalRegularizer", {"factor": 0.2, "mode": "columns"}),
]


# Keras's OrthogonalRegularizer cannot take float64 weights (its float32 factor meets a float64
# tensor in a TensorFlow product): compared in float32 only; its float64 gradient is checked
# against central differences in tests/unit/test_losses_more.py.
REGULARIZER_CASES = [
    (name, kwargs, dtype)
    for name, kwargs in REGULARIZERS
    for dtype in ("float64", "float32")
    if not (name == "OrthogonalRegularizer" and dtype == "float64")
]


@pytest.mark.parametrize(
    "name, kwargs, dtype", REGULARIZER_CASES, ids=[f"{n}{k}-{d}" for n, k, d in REGULARIZER_CASES]
)
def test_regularizer_penalty_and_gradient_match_keras(keras, name, kwargs, dtype):
    """The penalty and its gradient (tape), in the weight's dtype; float32 to REL32 (sums of 20
    terms in another order), float64 to REL64. Configs equal."""
    import tensorflow as tf

    w = np.random.default_rng(8).normal(size=(4, 5)).astype(dtype)
    w[0, 0] = 0.0  # |w|'s gradient at 0: sign(0) = 0 on both sides
    ours = getattr(regularizers, name)(**kwargs)
    theirs = getattr(keras.regularizers, name)(**kwargs)
    variable = tf.Variable(w)
    with tf.GradientTape() as tape:
        penalty = theirs(variable)
    rel = REL64 if dtype == "float64" else REL32
    value = ours(w)
    assert np.asarray(value).dtype == np.dtype(dtype) == penalty.dtype.as_numpy_dtype
    assert_close(value, penalty.numpy(), rel, name)
    assert_close(ours.gradient(w), tape.gradient(penalty, variable).numpy(), rel, name + " grad")
    assert ours.get_config() == theirs.get_config()
    assert regularizers.serialize(ours) == keras.regularizers.serialize(theirs)


def test_regularizer_names_and_errors_match_keras(keras):
    for name in ["l1", "l2", "l1l2", "orthogonal_regularizer", "L1", "L1L2"]:
        ours, theirs = regularizers.get(name), keras.regularizers.get(name)
        assert type(ours).__name__ == type(theirs).__name__
        assert ours.get_config() == theirs.get_config()
    for bad in ["l1_l2", "nope"]:
        with pytest.raises(ValueError) as theirs:
            keras.regularizers.get(bad)
        with pytest.raises(ValueError) as ours:
            regularizers.get(bad)
        assert str(ours.value) == str(theirs.value)
    for make in [
        lambda r: r.L2(-1.0),
        lambda r: r.L1(float("nan")),
        lambda r: r.OrthogonalRegularizer(mode="diagonal"),
    ]:
        with pytest.raises(ValueError) as theirs:
            make(keras.regularizers)
        with pytest.raises(ValueError) as ours:
            make(regularizers)
        assert str(ours.value) == str(theirs.value)


CONSTRAINTS = [
    ("MaxNorm", {}),
    ("MaxNorm", {"max_value": 0.5, "axis": 1}),
    ("MinMaxNorm", {}),
    ("MinMaxNorm", {"min_value": 1.5, "max_value": 2.0, "rate": 0.5, "axis": [0, 1]}),
    ("NonNeg", {}),
    ("UnitNorm", {}),
    ("UnitNorm", {"axis": -1}),
]


@pytest.mark.parametrize("name, kwargs", CONSTRAINTS, ids=[f"{c[0]}{c[1]}" for c in CONSTRAINTS])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_constraint_outputs_and_configs_match_keras(keras, name, kwargs, dtype):
    w = (2 * np.random.default_rng(9).normal(size=(3, 4, 5))).astype(dtype)
    w[:, 0, 0] = 0.0  # a zero vector along axis 0 stays zero
    ours = getattr(constraints, name)(**kwargs)
    theirs = getattr(keras.constraints, name)(**kwargs)
    expected = np.asarray(theirs(keras.ops.convert_to_tensor(w)))
    projected = ours(w)
    assert projected.dtype == expected.dtype
    assert_close(projected, expected, REL64 if dtype == "float64" else REL32, name)
    assert ours.get_config() == theirs.get_config()
    assert constraints.serialize(ours) == keras.constraints.serialize(theirs)
    assert type(constraints.get(constraints.serialize(ours))) is type(ours)


def test_constraint_names_match_keras(keras):
    from keras.src.constraints import ALL_OBJECTS_DICT

    for name in ALL_OBJECTS_DICT:
        assert type(constraints.get(name)).__name__ == type(keras.constraints.get(name)).__name__


@pytest.mark.parametrize("identifier", ["crossentropy", "ce"])
def test_compile_with_crossentropy_trains_as_keras(keras, identifier):
    rng = np.random.default_rng(10)
    x = rng.normal(size=(10, 4)).astype("float32")
    y = rng.integers(0, 3, size=10)  # sparse labels: sparse categorical crossentropy
    _, _, ours, theirs = _fit_both(keras, lambda k: identifier, "softmax", x, y)
    assert_close(ours["loss"], theirs["loss"], REL32, identifier)


def test_fit_with_an_ignored_label_outside_the_classes(keras):
    rng = np.random.default_rng(11)
    x = rng.normal(size=(10, 4)).astype("float32")
    y = rng.integers(0, 3, size=10)
    y[[2, 7]] = -1

    def factory(k):
        return k.losses.SparseCategoricalCrossentropy(ignore_class=-1)

    _, _, ours, theirs = _fit_both(keras, factory, "softmax", x, y)
    assert_close(ours["loss"], theirs["loss"], REL32, "ignore_class=-1")


# ------------------------------------------------------------------ through the layer contract
def _scale_layers(keras, regularizer, constraint):
    """The same small layer y = x·W (W: (4, 3)) written for each framework, its weight given
    `regularizer` and `constraint` through add_weight, as Keras's layers do."""

    class MiniScale(mk.layers.Layer):
        def build(self, input_shape):
            self.add_weight(
                (input_shape[-1], 3),
                "glorot_uniform",
                name="kernel",
                regularizer=getattr(regularizers, regularizer[0])(**regularizer[1]),
                constraint=getattr(constraints, constraint[0])(**constraint[1]),
            )
            super().build(input_shape)

        def compute_output_shape(self, input_shape):
            return input_shape[:-1] + (3,)

        def call(self, x, training=False):
            self.x = x
            return x @ self.weights[0]

        def backward(self, dy):
            """dW = xᵀ·dy, dx = dy·Wᵀ"""
            self.grads = [self.x.T @ dy]  # (4, batch)@(batch, 3)
            return dy @ self.weights[0].T  # (batch, 3)@(3, 4)

    class KerasScale(keras.layers.Layer):
        def build(self, input_shape):
            self.kernel = self.add_weight(
                shape=(input_shape[-1], 3),
                name="kernel",
                regularizer=getattr(keras.regularizers, regularizer[0])(**regularizer[1]),
                constraint=getattr(keras.constraints, constraint[0])(**constraint[1]),
            )

        def call(self, x):
            return x @ self.kernel

    return MiniScale(), KerasScale()


@pytest.mark.parametrize(
    "regularizer, constraint",
    [
        (("L2", {"l2": 0.1}), ("MaxNorm", {"max_value": 0.6})),
        (("L1L2", {"l1": 0.05, "l2": 0.02}), ("UnitNorm", {})),
        (("OrthogonalRegularizer", {"factor": 0.5}), ("NonNeg", {})),
    ],
    ids=["l2-maxnorm", "l1l2-unitnorm", "orthogonal-nonneg"],
)
def test_penalty_and_constraint_train_as_keras(keras, regularizer, constraint):
    """A layer whose weight has a regularizer and a constraint (Layer.add_weight): the History
    (the penalty is part of the loss), the weights after two epochs (its gradient joins the
    weight's, the projection follows each update), float32 at 1e-5 as above."""
    rng = np.random.default_rng(12)
    x = rng.normal(size=(10, 4)).astype("float32")
    y = rng.normal(size=(10, 3)).astype("float32")
    ours_layer, theirs_layer = _scale_layers(keras, regularizer, constraint)
    model = mk.Sequential([mk.Input((4,)), ours_layer])
    twin = keras.Sequential([keras.Input((4,)), theirs_layer])
    twin.set_weights(model.get_weights())
    model.compile(optimizer=mk.optimizers.SGD(0.1), loss="mse")
    twin.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    ours = model.fit(x, y, batch_size=4, epochs=2, shuffle=False, verbose=0).history
    theirs = twin.fit(x, y, batch_size=4, epochs=2, shuffle=False, verbose=0).history
    assert_close(ours["loss"], theirs["loss"], REL32, "History with the penalty")
    assert_close(model.get_weights()[0], twin.get_weights()[0], REL32, "constrained weight")
    assert_close(model.evaluate(x, y, verbose=0), twin.evaluate(x, y, verbose=0), REL32)
