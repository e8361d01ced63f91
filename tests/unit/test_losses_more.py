"""The losses beyond the crossentropies, MSE and MAE, the regularizers and the constraints:
every hand-written gradient against central differences (float64, tests/unit/gradcheck.py),
and the reduction rules (ignore_class's mask, unreduced shapes, axis) on small worked examples.

Central differences err by ~1e-10 (gradcheck.py's docstring); gradients are compared at
rtol 1e-6, atol 1e-8. The data keep every kink (|e| = δ of Huber, 1 − y·p = 0 of the hinges,
ties of categorical hinge's max, clip bounds) at least 1e-3 away, so ε = 1e-6 never crosses one.
"""

import doctest
import pathlib
from functools import partial

import numpy as np
import pytest
from gradcheck import assert_gradient_close, numerical_gradient

from minikeras import config, constraints, losses, regularizers

RNG = np.random.default_rng(1234)


@pytest.fixture(autouse=True)
def float64_losses():
    """A loss called directly computes in floatx, as Keras's: float64 here, so that central
    differences (and the float64 gradients they check) keep their precision."""
    config.set_floatx("float64")


def _probabilities(shape, rng=RNG):
    e = np.exp(rng.normal(size=shape))
    return e / e.sum(axis=-1, keepdims=True)


def _one_hot(n, c, rng=RNG):
    return np.eye(c)[rng.integers(0, c, size=n)]


def _away_from_kinks(p, kinks, margin=1e-3):
    """p nudged so that no entry is within `margin` of a kink (an array shaped like p)."""
    close = np.abs(p - kinks) < margin
    return np.where(close, p + 3 * margin, p)


def _hinge_data(signed):
    y = RNG.choice([-1.0, 1.0], size=(5, 3)) if signed else RNG.integers(0, 2, (5, 3)) * 1.0
    labels = y if signed else 2 * y - 1
    p = _away_from_kinks(RNG.normal(size=(5, 3)), 1 / labels)  # 1 − y·p = 0 at p = 1/y
    return y, p


Y_REG, P_REG = RNG.normal(size=(5, 3)), RNG.normal(size=(5, 3))
Y_POS, P_POS = RNG.uniform(0, 3, size=(5, 3)), RNG.uniform(0.05, 2, size=(5, 3))
Y_ONE_HOT, P_PROB = _one_hot(5, 4), _probabilities((5, 4))
Z_LOGITS = 2 * RNG.normal(size=(5, 4))
Y_BIN, P_BIN = RNG.integers(0, 2, (5, 3)) * 1.0, RNG.uniform(0.05, 0.95, (5, 3))
Z_BIN = 2 * RNG.normal(size=(5, 3))
Y_PCT = RNG.uniform(0.5, 2, (5, 3)) * RNG.choice([-1, 1], (5, 3))

# each case makes its loss inside the test, under the float64 floatx set above: a loss takes
# floatx when it is made, as Keras's (a list built at import would hold float32 losses)
GRADIENT_CASES = [
    ("huber", partial(losses.Huber), Y_REG, P_REG),
    (
        "huber delta 0.3",
        partial(losses.Huber, delta=0.3),
        Y_REG,
        _away_from_kinks(P_REG, Y_REG + 0.3),
    ),
    ("log_cosh", partial(losses.LogCosh), Y_REG, P_REG),
    ("kl_divergence", partial(losses.KLDivergence), _probabilities((5, 4)), P_PROB),
    ("poisson", partial(losses.Poisson), Y_POS, P_POS),
    ("hinge 0/1", partial(losses.Hinge), *_hinge_data(signed=False)),
    ("hinge ±1", partial(losses.Hinge), *_hinge_data(signed=True)),
    ("squared_hinge", partial(losses.SquaredHinge), *_hinge_data(signed=True)),
    ("categorical_hinge", partial(losses.CategoricalHinge), Y_ONE_HOT, RNG.normal(size=(5, 4))),
    ("cosine_similarity", partial(losses.CosineSimilarity), Y_REG, P_REG),
    ("cosine_similarity axis 0", partial(losses.CosineSimilarity, axis=0), Y_REG, P_REG),
    ("msle", partial(losses.MeanSquaredLogarithmicError), Y_POS, P_POS),
    ("mape", partial(losses.MeanAbsolutePercentageError), Y_PCT, _away_from_kinks(P_REG, Y_PCT)),
    ("binary_focal", partial(losses.BinaryFocalCrossentropy), Y_BIN, P_BIN),
    (
        "binary_focal balanced smoothed",
        partial(losses.BinaryFocalCrossentropy, apply_class_balancing=True, label_smoothing=0.1),
        Y_BIN,
        P_BIN,
    ),
    (
        "binary_focal logits",
        partial(losses.BinaryFocalCrossentropy, from_logits=True, gamma=3),
        Y_BIN,
        Z_BIN,
    ),
    ("categorical_focal", partial(losses.CategoricalFocalCrossentropy), Y_ONE_HOT, P_PROB),
    (
        "categorical_focal alpha per class",
        partial(losses.CategoricalFocalCrossentropy, alpha=[0.1, 0.2, 0.3, 0.4], gamma=1.5),
        Y_ONE_HOT,
        P_PROB * RNG.uniform(0.5, 1.5, (5, 1)),  # rows not summing to 1: renormalised
    ),
    (
        "categorical_focal logits",
        partial(losses.CategoricalFocalCrossentropy, from_logits=True, label_smoothing=0.1),
        Y_ONE_HOT,
        Z_LOGITS,
    ),
    (
        "sparse ignore_class",
        partial(losses.SparseCategoricalCrossentropy, ignore_class=2),
        RNG.integers(0, 4, size=5),
        P_PROB,
    ),
    (
        "sparse ignore_class logits",
        partial(losses.SparseCategoricalCrossentropy, ignore_class=-1, from_logits=True),
        np.array([0, -1, 3, -1, 1]),
        Z_LOGITS,
    ),
    ("categorical axis 0", partial(losses.CategoricalCrossentropy, axis=0), Y_ONE_HOT, P_PROB),
    ("binary axis 0", partial(losses.BinaryCrossentropy, axis=0), Y_BIN, P_BIN),
]


@pytest.mark.parametrize("sample_weight", [None, "per sample"])
@pytest.mark.parametrize(
    "name, make_loss, y, p", GRADIENT_CASES, ids=[c[0] for c in GRADIENT_CASES]
)
def test_gradient_matches_central_differences(name, make_loss, y, p, sample_weight):
    loss = make_loss()
    assert loss.dtype == "float64"
    p = np.array(p, dtype=np.float64)
    n_losses = p.shape[1] if getattr(loss, "axis", -1) == 0 else p.shape[0]
    w = None if sample_weight is None else np.linspace(0.5, 2, n_losses)
    _, analytic = loss.value_and_grad(y, p.copy(), w)
    numeric = numerical_gradient(lambda: loss(y, p, sample_weight=w), p)
    assert_gradient_close(analytic, numeric, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize(
    "loss",
    [
        losses.BinaryFocalCrossentropy(),
        losses.BinaryFocalCrossentropy(apply_class_balancing=True, alpha=0.4, gamma=1.5),
    ],
)
def test_binary_focal_from_a_sigmoid_layers_logits(loss):
    """Inside fit after a sigmoid, the loss starts from the logits z: its value is the loss of
    σ(z) with bce taken from z (exact), its gradient that of z."""
    z = Z_BIN.copy()
    value, analytic = loss.value_and_grad_from_logits(Y_BIN, z)
    as_logits = losses.BinaryFocalCrossentropy(
        apply_class_balancing=loss.apply_class_balancing,
        alpha=loss.alpha,
        gamma=loss.gamma,
        from_logits=True,
    )
    assert value == pytest.approx(float(as_logits(Y_BIN, z)), rel=1e-14)
    numeric = numerical_gradient(lambda: as_logits(Y_BIN, z), z)
    assert_gradient_close(analytic, numeric, rtol=1e-6, atol=1e-8)


def test_sparse_ignore_class_logits_gradient_from_value_and_grad_from_logits():
    loss = losses.SparseCategoricalCrossentropy(ignore_class=0, from_logits=True)
    y, z = np.array([0, 1, 3, 0, 2]), Z_LOGITS.copy()
    value, analytic = loss.value_and_grad_from_logits(y, z)
    assert value == pytest.approx(float(loss(y, z)), rel=1e-14)
    assert_gradient_close(analytic, numerical_gradient(lambda: loss(y, z), z), 1e-6, 1e-8)
    assert not analytic[[0, 3]].any()  # the ignored samples get no gradient


# ------------------------------------------------------------------ reductions, worked by hand
def test_ignore_class_means_divide_by_the_samples_kept():
    """Labels [0, 9, 1, 9] with ignore_class=9: the mean is over the two kept samples, the sum
    over them, and reduction='none' shows 0 for the ignored ones (Keras's masked losses)."""
    p = np.array([[0.8, 0.2], [0.5, 0.5], [0.3, 0.7], [0.9, 0.1]])
    y = np.array([0, 9, 1, 9])
    kept = np.array([-np.log(0.8), -np.log(0.7)])
    make = lambda reduction: losses.SparseCategoricalCrossentropy(  # noqa: E731
        ignore_class=9, reduction=reduction
    )
    np.testing.assert_allclose(make(None)(y, p), [kept[0], 0, kept[1], 0], rtol=1e-12)
    assert float(make("sum_over_batch_size")(y, p)) == pytest.approx(kept.mean(), rel=1e-12)
    assert float(make("sum")(y, p)) == pytest.approx(kept.sum(), rel=1e-12)
    w = np.array([1.0, 5.0, 3.0, 5.0])
    weighted = make("mean_with_sample_weight")(y, p, sample_weight=w)
    assert float(weighted) == pytest.approx((kept[0] + 3 * kept[1]) / 4, rel=1e-12)


def test_ignore_class_turns_off_the_logits_path():
    assert losses.SparseCategoricalCrossentropy().logits_activation == "softmax"
    assert losses.SparseCategoricalCrossentropy(ignore_class=0).logits_activation is None
    assert losses.BinaryFocalCrossentropy().logits_activation == "sigmoid"
    assert losses.BinaryFocalCrossentropy(from_logits=True).logits_activation is None
    assert losses.CategoricalFocalCrossentropy().logits_activation is None


def test_unreduced_losses_keep_the_weights_rank():
    y, p = Y_REG, P_REG
    per_sample = losses.MeanSquaredError(reduction="none")
    column = np.arange(1.0, 6.0)[:, None]
    assert per_sample(y, p, sample_weight=column).shape == (5, 1)
    assert per_sample(y, p, sample_weight=column[:, 0]).shape == (5,)
    np.testing.assert_allclose(
        per_sample(y, p, sample_weight=column)[:, 0], np.mean((y - p) ** 2, axis=1) * column[:, 0]
    )


def test_axis_names_the_class_axis():
    """CategoricalCrossentropy(axis=0) on y, p equals the default loss on their transposes."""
    y, p = Y_ONE_HOT.T, P_PROB.T
    along_0 = losses.CategoricalCrossentropy(axis=0, reduction="none")(y, p)
    along_last = losses.CategoricalCrossentropy(reduction="none")(y.T, p.T)
    np.testing.assert_array_equal(along_0, along_last)


def test_hinge_labels_0_1_become_minus_1_1_only_when_all_are():
    p = np.array([[0.3, -0.4]])
    assert float(losses.hinge(np.array([[1.0, 0.0]]), p)[0]) == pytest.approx((0.7 + 0.6) / 2)
    # a label 0.5 among them: used as given, 0 stays 0
    assert float(losses.hinge(np.array([[0.5, 0.0]]), p)[0]) == pytest.approx((0.85 + 1) / 2)


@pytest.mark.parametrize(
    "y_shape, output_shape, expected",
    [
        ((8, 1), (8, 1), losses.BinaryCrossentropy),
        ((8,), (8, 5), losses.SparseCategoricalCrossentropy),
        ((8, 1), (8, 5), losses.SparseCategoricalCrossentropy),
        ((8, 5), (8, 5), losses.CategoricalCrossentropy),
    ],
)
def test_crossentropy_resolves_from_the_shapes(y_shape, output_shape, expected):
    for name in ("crossentropy", "ce", "CrossEntropy"):
        assert type(losses.resolve(name, y_shape, output_shape)) is expected
    assert type(losses.resolve("huber", y_shape, output_shape)) is losses.Huber
    assert losses.chosen_from_data("CE") and not losses.chosen_from_data(losses.Huber())


def test_new_names_and_functions():
    assert isinstance(losses.to_loss("huber"), losses.Huber)
    assert isinstance(losses.to_loss("kld"), losses.KLDivergence)
    assert isinstance(losses.to_loss("MAPE"), losses.MeanAbsolutePercentageError)
    assert isinstance(losses.to_loss(losses.log_cosh), losses.LogCosh)
    with pytest.raises(ValueError, match="chosen from the data"):
        losses.get("crossentropy")
    restored = losses.deserialize(losses.serialize(losses.BinaryFocalCrossentropy(gamma=3.0)))
    assert restored.gamma == 3.0


# ------------------------------------------------------------------ regularizers
W = RNG.normal(size=(4, 6))
W[1, 2] = 0.0


@pytest.mark.parametrize(
    "regularizer",
    [
        regularizers.L1(0.3),
        regularizers.L2(0.2),
        regularizers.L1L2(l1=0.1, l2=0.05),
        regularizers.OrthogonalRegularizer(0.5),
        regularizers.OrthogonalRegularizer(0.5, mode="columns"),
    ],
    ids=["l1", "l2", "l1l2", "orthogonal rows", "orthogonal columns"],
)
def test_regularizer_gradient_matches_central_differences(regularizer):
    w = W.copy()
    w[1, 2] = 0.5 if isinstance(regularizer, regularizers.OrthogonalRegularizer) else 0.0
    analytic = regularizer.gradient(w)
    if not isinstance(regularizer, regularizers.OrthogonalRegularizer):
        w[1, 2] = 0.3  # |w| has no derivative at 0: checked separately below
        analytic = regularizer.gradient(w)
    numeric = numerical_gradient(lambda: regularizer(w), w)
    assert_gradient_close(analytic, numeric, rtol=1e-6, atol=1e-9)


def test_regularizer_values_by_hand():
    w = np.array([[1.0, -2.0], [0.5, 0.0]])
    l1, l2 = float(np.float32(0.01)), float(np.float32(0.02))
    assert float(regularizers.L1(0.01)(w)) == pytest.approx(l1 * 3.5, rel=1e-15)
    assert float(regularizers.L2(0.02)(w)) == pytest.approx(l2 * 5.25, rel=1e-15)
    assert regularizers.L1(0.01).gradient(w)[1, 1] == 0.0  # sign(0) = 0
    assert regularizers.L1L2()(w) == 0.0 and not regularizers.L1L2().gradient(w).any()
    assert regularizers.L2(0.01)(w.astype(np.float32)).dtype == np.float32


def test_orthogonal_rows_are_not_penalised():
    q, _ = np.linalg.qr(RNG.normal(size=(5, 5)))
    assert float(regularizers.OrthogonalRegularizer(1.0)(3 * q[:3])) == pytest.approx(0, abs=1e-15)
    with pytest.raises(ValueError, match="must have rank 2"):
        regularizers.OrthogonalRegularizer()(np.ones((2, 2, 2)))


def test_regularizer_get_and_serialize():
    assert isinstance(regularizers.get("l2"), regularizers.L2)
    assert isinstance(regularizers.get("l1l2"), regularizers.L1L2)
    assert regularizers.get(None) is None
    config = regularizers.serialize(regularizers.L1L2(0.1, 0.2))
    assert regularizers.deserialize(config).get_config() == {"l1": 0.1, "l2": 0.2}
    assert regularizers.l1_l2 is regularizers.L1L2


# ------------------------------------------------------------------ constraints
def test_constraints_by_hand():
    w = np.array([[3.0, 0.1], [4.0, 0.0]])  # column norms 5 and 0.1
    eps = 1e-7
    np.testing.assert_allclose(
        constraints.MaxNorm(1.0)(w), w * np.array([1 / (5 + eps), 0.1 / (0.1 + eps)])
    )
    np.testing.assert_allclose(constraints.UnitNorm()(w), w / (np.array([5, 0.1]) + eps))
    np.testing.assert_array_equal(constraints.NonNeg()(-w), np.zeros_like(w))
    min_max = constraints.MinMaxNorm(min_value=1.0, max_value=2.0, rate=0.5)
    desired = 0.5 * np.array([2.0, 1.0]) + 0.5 * np.array([5.0, 0.1])
    np.testing.assert_allclose(min_max(w), w * desired / (np.array([5.0, 0.1]) + eps))
    assert isinstance(constraints.get("max_norm"), constraints.MaxNorm)
    assert constraints.get(constraints.serialize(constraints.UnitNorm(1))).axis == 1


def test_the_regularization_page_examples_run():
    page = pathlib.Path(__file__).parents[2] / "docs" / "regularization.md"
    result = doctest.testfile(str(page), module_relative=False)
    assert result.attempted >= 6 and result.failed == 0


# ------------------------------------------------------------------ Keras's golden values
# keras/src/losses/losses_test.py (inputs and expected values copied as data; Keras asserts them
# to 3 decimals, as here)
REG_TRUE = np.array([[1, 9, 2], [-5, -2, 6]])
REG_PRED = np.array([[4, 8, 12], [8, 1, 3]], dtype="float32")
TIME_TRUE = np.asarray([1, 9, 2, -5, -2, 6]).reshape(2, 3, 1)
TIME_PRED = np.asarray([4, 8, 12, 8, 1, 3]).reshape(2, 3, 1)
TIME_WEIGHTS = np.array([3, 6, 5, 0, 4, 2]).reshape((2, 3))
HINGE_TRUE = np.array([[0.0, 1.0], [0.0, 0.0]])
HINGE_PRED = np.array([[0.6, 0.4], [0.4, 0.6]])
FOCAL_TRUE = np.asarray([1, 0, 1, 0]).reshape([2, 2])
FOCAL_PRED = np.asarray([0.9, 0.8, 0.7, 0.2], dtype=np.float32).reshape([2, 2])
FOCAL_LOGITS_TRUE = np.array([[1, 1, 0], [0, 1, 0]], dtype="float32")
FOCAL_LOGITS = np.array([[1.5, -2.7, 2.9], [-3.8, 1.2, -4.5]])
CCE_TRUE = np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1]])
CCE_PRED = np.array([[0.9, 0.05, 0.05], [0.5, 0.89, 0.6], [0.05, 0.01, 0.94]], dtype="float32")
CCE_LOGITS = np.array([[8.0, 1.0, 1.0], [0.0, 9.0, 1.0], [2.0, 3.0, 5.0]])

GOLDEN = [
    ("mape", losses.MeanAbsolutePercentageError(), REG_TRUE, REG_PRED, None, 211.8518),
    ("mape scalar", losses.MeanAbsolutePercentageError(), REG_TRUE, REG_PRED, 2.3, 487.259),
    (
        "mape column",
        losses.MeanAbsolutePercentageError(),
        REG_TRUE,
        REG_PRED,
        np.array([[1.2], [3.4]]),
        422.8888,
    ),
    (
        "mape timestep",
        losses.MeanAbsolutePercentageError(),
        TIME_TRUE,
        TIME_PRED,
        TIME_WEIGHTS,
        694.4444,
    ),
    (
        "mape none",
        losses.MeanAbsolutePercentageError(reduction=None),
        REG_TRUE,
        REG_PRED,
        2.3,
        [621.8518, 352.6666],
    ),
    (
        "mape mean_with_sample_weight",
        losses.MeanAbsolutePercentageError(reduction="mean_with_sample_weight"),
        REG_TRUE,
        REG_PRED,
        np.array([[1.2], [3.4]]),
        183.865,
    ),
    ("msle", losses.MeanSquaredLogarithmicError(), REG_TRUE, REG_PRED, None, 1.4370),
    ("msle scalar", losses.MeanSquaredLogarithmicError(), REG_TRUE, REG_PRED, 2.3, 3.3051),
    (
        "msle column",
        losses.MeanSquaredLogarithmicError(),
        REG_TRUE,
        REG_PRED,
        np.array([[1.2], [3.4]]),
        3.7856,
    ),
    (
        "msle timestep",
        losses.MeanSquaredLogarithmicError(),
        TIME_TRUE,
        TIME_PRED,
        TIME_WEIGHTS,
        2.647374,
    ),
    ("hinge", losses.Hinge(), HINGE_TRUE, HINGE_PRED, None, 1.3),
    ("hinge sum", losses.Hinge(reduction="sum"), HINGE_TRUE, HINGE_PRED, None, 2.6),
    ("hinge none", losses.Hinge(reduction=None), HINGE_TRUE, HINGE_PRED, None, [1.1, 1.5]),
    ("hinge weighted", losses.Hinge(), HINGE_TRUE, HINGE_PRED, [1, 0], 0.55),
    (
        "hinge none weighted",
        losses.Hinge(reduction=None),
        HINGE_TRUE,
        HINGE_PRED,
        [1, 0],
        [1.1, 0.0],
    ),
    ("squared hinge", losses.SquaredHinge(), HINGE_TRUE, HINGE_PRED, None, 1.86),
    (
        "squared hinge none",
        losses.SquaredHinge(reduction=None),
        HINGE_TRUE,
        HINGE_PRED,
        None,
        [1.46, 2.26],
    ),
    ("squared hinge weighted", losses.SquaredHinge(), HINGE_TRUE, HINGE_PRED, [1, 0], 0.73),
    ("categorical hinge", losses.CategoricalHinge(), HINGE_TRUE, HINGE_PRED, None, 1.4),
    (
        "categorical hinge none",
        losses.CategoricalHinge(reduction=None),
        HINGE_TRUE,
        HINGE_PRED,
        None,
        [1.2, 1.6],
    ),
    ("categorical hinge weighted", losses.CategoricalHinge(), HINGE_TRUE, HINGE_PRED, [1, 0], 0.6),
    ("binary focal", losses.BinaryFocalCrossentropy(), FOCAL_TRUE, FOCAL_PRED, None, 0.268),
    (
        "binary focal scalar",
        losses.BinaryFocalCrossentropy(),
        FOCAL_TRUE,
        FOCAL_PRED,
        1.23,
        0.3296,
    ),
    (
        "binary focal logits",
        losses.BinaryFocalCrossentropy(gamma=3.0, from_logits=True),
        FOCAL_LOGITS_TRUE,
        FOCAL_LOGITS,
        None,
        0.799,
    ),
    ("categorical focal", losses.CategoricalFocalCrossentropy(), CCE_TRUE, CCE_PRED, None, 0.02059),
    (
        "categorical focal logits",
        losses.CategoricalFocalCrossentropy(from_logits=True),
        CCE_TRUE,
        CCE_LOGITS,
        None,
        0.000345,
    ),
]


@pytest.mark.parametrize("name, loss, y, p, w, expected", GOLDEN, ids=[g[0] for g in GOLDEN])
def test_keras_golden_values(name, loss, y, p, w, expected):
    np.testing.assert_allclose(loss(y, p, sample_weight=w), expected, rtol=0, atol=1.5e-3)
