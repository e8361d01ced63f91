"""Losses: Keras's own golden values, and every gradient against central differences.

The golden values come from Keras 3's test file keras/src/losses/losses_test.py (inputs and
expected numbers copied as data); the saturated-softmax numbers were obtained by running Keras
3.15.1 (TensorFlow 2.21 backend), as noted beside them.
"""

import numpy as np
import pytest
import strategies as sts
from gradcheck import assert_gradient_close, numerical_gradient
from hypothesis import given, settings

from minikeras import activations, config, losses


@pytest.fixture(autouse=True)
def float64_losses():
    """A loss called directly computes in floatx, as Keras's: float64 here, so that central
    differences (and the float64 gradients they check) keep their precision."""
    config.set_floatx("float64")


# ------------------------------------------------------------------ Keras's golden values
# keras/src/losses/losses_test.py, MeanSquaredErrorTest / MeanAbsoluteErrorTest
REG_TRUE = np.array([[1, 9, 2], [-5, -2, 6]])
REG_PRED = np.array([[4, 8, 12], [8, 1, 3]], dtype="float32")
# CategoricalCrossentropyTest / SparseCategoricalCrossentropyTest
CCE_TRUE = np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1]])
CCE_PRED = np.array([[0.9, 0.05, 0.05], [0.5, 0.89, 0.6], [0.05, 0.01, 0.94]], dtype="float32")
CCE_LOGITS = np.array([[8.0, 1.0, 1.0], [0.0, 9.0, 1.0], [2.0, 3.0, 5.0]])
# BinaryCrossentropyTest
BCE_TRUE = np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1]], dtype="float32")
BCE_PRED = np.array([[0.9, 0.1, 0.2], [0.3, 0.8, 0.1], [0.1, 0.2, 0.7]], dtype="float32")
BCE2_TRUE = np.array([1, 0, 1, 0]).reshape([2, 2])
BCE2_PRED = np.array([1, 1, 1, 0], dtype="float32").reshape([2, 2])
BCE_LOGITS_TRUE = np.array([[1, 0, 1], [0, 1, 1]])
BCE_LOGITS = np.array([[10.0, -10.0, 10.0], [10.0, 10.0, -10.0]])


@pytest.mark.parametrize(
    "loss, kwargs, expected",
    [
        (losses.MeanSquaredError(), {}, 49.5),
        (losses.MeanSquaredError(), {"sample_weight": 2.3}, 113.85),
        (losses.MeanSquaredError(), {"sample_weight": np.array([[1.2], [3.4]])}, 767.8 / 6),
        (losses.MeanSquaredError(), {"sample_weight": 0}, 0.0),
        (losses.MeanSquaredError(reduction="sum"), {"sample_weight": 2.3}, 227.69998),
        (
            losses.MeanSquaredError(reduction="mean_with_sample_weight"),
            {"sample_weight": np.array([[1.2], [3.4]])},
            (110 / 3 * 1.2 + 187 / 3 * 3.4) / (1.2 + 3.4),
        ),
        (losses.MeanAbsoluteError(), {}, 5.5),
    ],
)
def test_regression_golden_values(loss, kwargs, expected):
    assert float(loss(REG_TRUE, REG_PRED, **kwargs)) == pytest.approx(expected, rel=1e-6)


def test_mse_without_reduction():
    loss = losses.MeanSquaredError(reduction=None)(REG_TRUE, REG_PRED, sample_weight=2.3)
    np.testing.assert_allclose(loss, [84.3333, 143.3666], rtol=1e-5)


@pytest.mark.parametrize(
    "loss, y_true, y_pred, kwargs, expected",
    [
        (losses.CategoricalCrossentropy(), CCE_TRUE, CCE_PRED, {}, 0.3239),
        (losses.CategoricalCrossentropy(), CCE_TRUE, CCE_PRED, {"sample_weight": 2.3}, 0.7449),
        (
            losses.CategoricalCrossentropy(),
            CCE_TRUE,
            CCE_PRED,
            {"sample_weight": np.array([[1.2], [3.4], [5.6]])},
            1.0696,
        ),
        (losses.CategoricalCrossentropy(from_logits=True), CCE_TRUE, CCE_LOGITS, {}, 0.0573),
        (
            losses.CategoricalCrossentropy(from_logits=True),
            CCE_TRUE,
            CCE_LOGITS,
            {"sample_weight": 2.3},
            0.1317,
        ),
        (
            losses.CategoricalCrossentropy(from_logits=True),
            CCE_TRUE,
            CCE_LOGITS,
            {"sample_weight": np.array([[1.2], [3.4], [5.6]])},
            0.31829,
        ),
        (losses.SparseCategoricalCrossentropy(), np.array([0, 1, 2]), CCE_PRED, {}, 0.3239),
        (
            losses.SparseCategoricalCrossentropy(),
            np.array([[0], [1], [2]]),
            CCE_PRED,
            {"sample_weight": 2.3},
            0.7449,
        ),
        (
            losses.SparseCategoricalCrossentropy(from_logits=True),
            np.array([0, 1, 2]),
            CCE_LOGITS,
            {},
            0.0573,
        ),
        (losses.BinaryCrossentropy(), BCE_TRUE, BCE_PRED, {}, 0.20046903),
        (losses.BinaryCrossentropy(), BCE2_TRUE, BCE2_PRED, {}, 3.98559),
        (losses.BinaryCrossentropy(), BCE2_TRUE, BCE2_PRED, {"sample_weight": 2.3}, 9.1668),
        (
            losses.BinaryCrossentropy(),
            BCE2_TRUE,
            BCE2_PRED,
            {"sample_weight": np.array([1.2, 3.4]).reshape((2, 1))},
            4.7827,
        ),
        (losses.BinaryCrossentropy(from_logits=True), BCE_LOGITS_TRUE, BCE_LOGITS, {}, 3.3333),
        (
            losses.BinaryCrossentropy(from_logits=True),
            BCE_LOGITS_TRUE,
            BCE_LOGITS,
            {"sample_weight": np.array([4, 3])},
            10.0,
        ),
    ],
)
def test_crossentropy_golden_values(loss, y_true, y_pred, kwargs, expected):
    # Keras's test checks these with assertAlmostEqual(decimal=3): |actual − expected| < 1.5e-3,
    # under floatx float32: predictions of exactly 0 and 1 are clipped to [1e-7, 1 − 1e-7]
    # rounded to float32, so the values hold only in float32
    config.set_floatx("float32")
    assert float(loss(y_true, y_pred, **kwargs)) == pytest.approx(expected, abs=1.5e-3)


def test_the_issue_golden_values_tightly():
    """The numbers the issue names, to the digits given (BCE: Keras's assertAllClose, 1e-6)."""
    cce = losses.CategoricalCrossentropy()
    assert float(cce(CCE_TRUE, CCE_PRED)) == pytest.approx(0.3239, abs=1e-4)
    cce_logits = losses.CategoricalCrossentropy(from_logits=True)
    assert float(cce_logits(CCE_TRUE, CCE_LOGITS)) == pytest.approx(0.0573, abs=1e-4)
    assert float(losses.BinaryCrossentropy()(BCE_TRUE, BCE_PRED)) == pytest.approx(
        0.20046903, rel=1e-6
    )
    assert float(losses.MeanSquaredError()(REG_TRUE, REG_PRED)) == 49.5


def test_crossentropy_per_sample_golden_values():
    cce = losses.CategoricalCrossentropy(from_logits=True, reduction=None)
    np.testing.assert_allclose(cce(CCE_TRUE, CCE_LOGITS), [0.001822, 0.000459, 0.169846], rtol=1e-3)
    bce = losses.BinaryCrossentropy(from_logits=True, reduction=None)
    np.testing.assert_allclose(bce(BCE_LOGITS_TRUE, BCE_LOGITS), [0.0, 6.666], atol=1e-3)


def test_label_smoothing_golden_values():
    # CategoricalCrossentropyTest.test_label_smoothing: 400·s/3 for logits ±100
    cce = losses.CategoricalCrossentropy(from_logits=True, label_smoothing=0.1)
    loss = cce(np.array([[1, 0, 0]]), np.array([[100.0, -100.0, -100.0]]))
    assert float(loss) == pytest.approx(400.0 * 0.1 / 3.0, rel=1e-6)
    # BinaryCrossentropyTest.test_label_smoothing: (100 + 50·s)/3 for logits ±10, rounded
    bce = losses.BinaryCrossentropy(from_logits=True, label_smoothing=0.1)
    loss = bce(np.array([[1, 0, 1]]), np.array([[10.0, -10.0, -10.0]]))
    assert float(loss) == pytest.approx((10.0 + 5.0 * 0.1) / 3.0, abs=1e-3)


def test_functional_forms_give_one_loss_per_sample():
    np.testing.assert_allclose(losses.mean_squared_error(REG_TRUE, REG_PRED), [110 / 3, 187 / 3])
    np.testing.assert_allclose(
        losses.mean_absolute_error(REG_TRUE, REG_PRED), [14 / 3, 19 / 3], rtol=1e-6
    )
    per_sample = losses.categorical_crossentropy(CCE_TRUE, CCE_PRED)
    assert per_sample.shape == (3,)
    assert float(np.mean(per_sample)) == pytest.approx(0.3239, abs=1e-4)


# ------------------------------------------------------------------ saturation
# The saturated softmax: logits (100, 0) with the label on the second class.
# Keras 3.15.1 (TensorFlow 2.21), run for this test:
#   model.evaluate(x, y)  (a Dense softmax whose logits are [100, 0])   → 100.0
#   keras.losses.categorical_crossentropy([[0, 1]], [[1, 0]])           → 16.118095
SATURATED_LOGITS = np.array([[100.0, 0.0]])
SATURATED_LABELS = np.array([[0.0, 1.0]])
KERAS_SATURATED_FROM_LOGITS = 100.0
KERAS_SATURATED_CLIPPED = 16.118095


def test_saturated_softmax_from_logits_is_exact():
    loss, grad = losses.CategoricalCrossentropy().value_and_grad_from_logits(
        SATURATED_LABELS, SATURATED_LOGITS
    )
    assert float(loss) == pytest.approx(KERAS_SATURATED_FROM_LOGITS, rel=1e-12)
    np.testing.assert_allclose(grad, [[1.0, -1.0]])  # p − y, p = (1, e^−100) ≈ (1, 0)


def test_saturated_probabilities_are_clipped_as_keras():
    p = activations.softmax(SATURATED_LOGITS.astype("float32"))
    loss = losses.categorical_crossentropy(SATURATED_LABELS, p)
    assert float(loss[0]) == pytest.approx(KERAS_SATURATED_CLIPPED, rel=1e-6)
    value, grad = losses.CategoricalCrossentropy().value_and_grad(SATURATED_LABELS, p)
    assert np.isfinite(value) and np.all(np.isfinite(grad))


def test_clipped_probabilities_give_finite_losses_and_gradients():
    y = np.array([[1.0, 0.0], [0.0, 1.0]])
    p = np.array([[0.0, 1.0], [1.0, 0.0]])
    for loss in (
        losses.CategoricalCrossentropy(),
        losses.BinaryCrossentropy(),
        losses.SparseCategoricalCrossentropy(),
    ):
        labels = np.array([0, 1]) if isinstance(loss, losses.SparseCategoricalCrossentropy) else y
        value, grad = loss.value_and_grad(labels, p)
        assert np.isfinite(value) and np.all(np.isfinite(grad)), type(loss).__name__
        # −log(1e-7) = 16.118: the clip bounds each sample's loss
        assert float(value) == pytest.approx(16.118, abs=1e-3)


# ------------------------------------------------------------------ gradients
def _check_grad(loss, y_true, y_pred, sample_weight=None):
    """value_and_grad's gradient against ∂/∂y_pred of the reduced loss, by central differences."""
    value, analytic = loss.value_and_grad(y_true, y_pred.copy(), sample_weight)
    assert float(value) == pytest.approx(float(loss(y_true, y_pred, sample_weight)), rel=1e-12)
    probe = y_pred.copy()
    numeric = numerical_gradient(lambda: loss(y_true, probe, sample_weight), probe)
    assert_gradient_close(analytic, numeric)


def _weights(data, n):
    return data.draw(sts.st.one_of(sts.st.none(), sts.arrays((n,), sts.floats(0.0, 3.0))))


@settings(max_examples=20, deadline=None)
@given(data=sts.st.data())
def test_mse_gradient(data):
    y_pred = data.draw(sts.matrices())
    y_true = data.draw(sts.arrays(y_pred.shape))
    _check_grad(losses.MeanSquaredError(), y_true, y_pred, _weights(data, len(y_pred)))


@settings(max_examples=20, deadline=None)
@given(data=sts.st.data())
def test_mae_gradient(data):
    # |p − y| has a kink where p = y: keep them apart
    y_pred = data.draw(sts.matrices())
    offset = data.draw(sts.arrays(y_pred.shape, sts.off_kink_floats(gap=0.01)))
    _check_grad(losses.MeanAbsoluteError(), y_pred + offset, y_pred, _weights(data, len(y_pred)))


@settings(max_examples=20, deadline=None)
@given(data=sts.st.data())
def test_categorical_crossentropy_gradient_from_probabilities(data):
    """Rows need not sum to 1: the gradient goes through Keras's renormalisation p/Σp."""
    y_pred = data.draw(sts.matrices(sts.floats(0.05, 1.0)))
    y_true = data.draw(sts.one_hot(*y_pred.shape)) if y_pred.shape[1] > 1 else np.ones_like(y_pred)
    _check_grad(losses.CategoricalCrossentropy(), y_true, y_pred, _weights(data, len(y_pred)))


@settings(max_examples=20, deadline=None)
@given(data=sts.st.data(), smoothing=sts.st.sampled_from([0.0, 0.1]))
def test_categorical_crossentropy_gradient_from_logits(data, smoothing):
    z, y = data.draw(sts.logits_and_labels())
    loss = losses.CategoricalCrossentropy(from_logits=True, label_smoothing=smoothing)
    _check_grad(loss, y, z, _weights(data, len(z)))


@settings(max_examples=20, deadline=None)
@given(data=sts.st.data())
def test_sparse_categorical_crossentropy_gradients(data):
    z, y = data.draw(sts.logits_and_labels())
    labels = np.argmax(y, axis=1)
    w = _weights(data, len(z))
    _check_grad(losses.SparseCategoricalCrossentropy(from_logits=True), labels, z, w)
    p = data.draw(sts.arrays(z.shape, sts.floats(0.05, 0.95)))
    _check_grad(losses.SparseCategoricalCrossentropy(), labels[:, None], p, w)


@settings(max_examples=20, deadline=None)
@given(data=sts.st.data(), smoothing=sts.st.sampled_from([0.0, 0.2]))
def test_binary_crossentropy_gradients(data, smoothing):
    z = data.draw(sts.matrices(sts.floats(-5, 5)))
    y = data.draw(sts.arrays(z.shape, sts.st.sampled_from([0.0, 1.0])))
    w = _weights(data, len(z))
    _check_grad(losses.BinaryCrossentropy(from_logits=True, label_smoothing=smoothing), y, z, w)
    p = data.draw(sts.arrays(z.shape, sts.floats(0.05, 0.95)))
    _check_grad(losses.BinaryCrossentropy(label_smoothing=smoothing), y, p, w)


@settings(max_examples=20, deadline=None)
@given(data=sts.st.data())
def test_fused_logits_path_is_the_true_loss_and_its_gradient(data):
    """value_and_grad_from_logits (what fit uses after a softmax) = the loss of softmax(z),
    and its gradient (p − y)·w/N is ∂/∂z of that loss."""
    z, y = data.draw(sts.logits_and_labels())
    w = _weights(data, len(z))
    loss = losses.CategoricalCrossentropy()
    value, analytic = loss.value_and_grad_from_logits(y, z, w)
    probe = z.copy()
    true_loss = losses.CategoricalCrossentropy(from_logits=True)
    assert float(value) == pytest.approx(float(true_loss(y, z, w)), rel=1e-12)
    numeric = numerical_gradient(lambda: true_loss(y, probe, w), probe)
    assert_gradient_close(analytic, numeric)
    p = activations.softmax(z)
    scale = (np.ones(len(z)) if w is None else w) / len(z)
    np.testing.assert_allclose(analytic, (p - y) * scale[:, None], atol=1e-15)


@settings(max_examples=25, deadline=None)
@given(pair=sts.probabilities_and_labels())
def test_general_softmax_vjp_and_fused_path_agree(pair):
    """Where no probability is clipped, the two ways to dL/dz agree:
    general: dL/dp from the probabilities path, then the softmax VJP p ⊙ (g − Σ g·p);
    fused:   (p − y)/N straight from the logits."""
    p, y = pair
    z = np.log(p)  # softmax(log p) = p, since the rows of p sum to 1
    loss = losses.CategoricalCrossentropy()
    value_p, dl_dp = loss.value_and_grad(y, activations.softmax(z))
    general = activations.softmax_backward(z, activations.softmax(z), dl_dp)
    value_z, fused = loss.value_and_grad_from_logits(y, z)
    assert float(value_p) == pytest.approx(float(value_z), rel=1e-9)
    np.testing.assert_allclose(general, fused, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(fused, (p - y) / len(p), rtol=1e-9, atol=1e-12)


@settings(max_examples=20, deadline=None)
@given(data=sts.st.data())
def test_sigmoid_general_and_fused_paths_agree(data):
    z = data.draw(sts.matrices(sts.floats(-4, 4)))
    y = data.draw(sts.arrays(z.shape, sts.st.sampled_from([0.0, 1.0])))
    loss = losses.BinaryCrossentropy()
    p = activations.sigmoid(z)
    value_p, dl_dp = loss.value_and_grad(y, p)
    general = activations.sigmoid_backward(z, p, dl_dp)
    value_z, fused = loss.value_and_grad_from_logits(y, z)
    assert float(value_p) == pytest.approx(float(value_z), rel=1e-9)
    np.testing.assert_allclose(general, fused, rtol=1e-8, atol=1e-12)


def test_gradient_is_scaled_by_sample_weight_over_batch_size():
    y = np.array([[0.0], [0.0]])
    p = np.array([[1.0], [1.0]])
    _, grad = losses.MeanSquaredError().value_and_grad(y, p, np.array([1.0, 3.0]))
    np.testing.assert_allclose(grad, [[2 * 1 / 2], [2 * 3 / 2]])  # 2(p − y)·wᵢ/N


def test_value_and_grad_keeps_float32():
    y = np.eye(3, dtype="float32")
    value, grad = losses.CategoricalCrossentropy().value_and_grad_from_logits(
        y, CCE_LOGITS.astype("float32")
    )
    assert grad.dtype == np.float32
    assert float(value) == pytest.approx(0.0573, abs=1e-4)


# ------------------------------------------------------------------ lookup and config
@pytest.mark.parametrize(
    "name, cls",
    [
        ("categorical_crossentropy", losses.CategoricalCrossentropy),
        ("sparse_categorical_crossentropy", losses.SparseCategoricalCrossentropy),
        ("binary_crossentropy", losses.BinaryCrossentropy),
        ("mean_squared_error", losses.MeanSquaredError),
        ("mse", losses.MeanSquaredError),
        ("mean_absolute_error", losses.MeanAbsoluteError),
        ("mae", losses.MeanAbsoluteError),
        ("CategoricalCrossentropy", losses.CategoricalCrossentropy),
    ],
)
def test_get_by_name(name, cls):
    assert type(losses.to_loss(name)) is cls


def test_get_by_class_instance_and_function():
    assert type(losses.get(losses.MeanSquaredError)) is losses.MeanSquaredError
    instance = losses.BinaryCrossentropy(from_logits=True)
    assert losses.get(instance) is instance
    assert type(losses.to_loss(losses.categorical_crossentropy)) is losses.CategoricalCrossentropy


def test_unknown_loss_lists_the_valid_names():
    with pytest.raises(ValueError, match="categorical_crossentropi") as info:
        losses.get("categorical_crossentropi")
    assert "'categorical_crossentropy'" in str(info.value)


def test_unknown_reduction_is_rejected():
    with pytest.raises(ValueError, match="reduction"):
        losses.MeanSquaredError(reduction="average")


def test_config_round_trip():
    loss = losses.CategoricalCrossentropy(from_logits=True, label_smoothing=0.2, name="cce")
    again = losses.get(losses.serialize(loss))
    assert type(again) is losses.CategoricalCrossentropy
    assert again.get_config() == loss.get_config()
    assert again.from_logits is True and again.label_smoothing == 0.2


def test_sparse_labels_out_of_range_are_rejected():
    with pytest.raises(ValueError, match=r"\[0, 3\)"):
        losses.SparseCategoricalCrossentropy()(np.array([0, 3]), np.full((2, 3), 1 / 3))


# ------------------------------------------------------------------ shapes, as Keras aligns them
def test_labels_of_rank_one_meet_a_single_output_column():
    # keras/src/losses/losses_test.py test_base_function_reduction: one loss per sample, shape (3,)
    y_true, y_pred = np.array([4, 8, 12]), np.array([[3.0], [0.0], [1.0]])
    per_sample = losses.mean_squared_error(y_true, y_pred)
    assert per_sample.shape == (3,)
    # values from Keras 3.15.1, run for this test: (4−3)², (8−0)², (12−1)², not a broadcast
    np.testing.assert_allclose(per_sample, [1.0, 64.0, 121.0])
    assert float(losses.MeanSquaredError()(y_true, y_pred)) == pytest.approx(62.0)
    bce = losses.BinaryCrossentropy()(np.array([0, 1, 1]), np.array([[0.2], [0.7], [0.6]]))
    expected = -np.mean([np.log(0.8), np.log(0.7), np.log(0.6)])
    assert float(bce) == pytest.approx(expected, rel=1e-6)


def test_a_single_sample_without_batch_axis():
    # Keras 3.15.1 gives 0.25: the per-sample loss is a scalar, and the reduction keeps it
    assert float(losses.MeanSquaredError()(np.array([1.0, 2.0]), np.array([1.5, 2.5]))) == 0.25


def test_timestep_weighted_golden_value():
    # MeanSquaredErrorTest.test_timestep_weighted: losses (2, 3), weights (2, 3), Σ w·l / 6
    y_true = np.asarray([1, 9, 2, -5, -2, 6]).reshape(2, 3, 1)
    y_pred = np.asarray([4, 8, 12, 8, 1, 3]).reshape(2, 3, 1).astype("float32")
    sample_weight = np.array([3, 6, 5, 0, 4, 2]).reshape((2, 3))
    loss = losses.MeanSquaredError()(y_true, y_pred, sample_weight=sample_weight)
    assert float(loss) == pytest.approx(97.833336, abs=1.5e-3)


@settings(max_examples=15, deadline=None)
@given(data=sts.st.data())
def test_losses_over_timesteps_divide_by_every_loss(data):
    """Outputs (N, T, C): 'sum_over_batch_size' divides by N·T, the number of losses, as Keras;
    a weight per sample counts for each of its timesteps. Checked for value and gradient."""
    n, t, c = data.draw(sts.batch_sizes), data.draw(sts.st.integers(1, 3)), 3
    z = data.draw(sts.arrays((n, t, c), sts.floats(-4, 4)))
    y = np.eye(c)[data.draw(sts.hnp.arrays(np.int64, (n, t), elements=sts.st.integers(0, 2)))]
    w = data.draw(sts.arrays((n,), sts.floats(0.0, 2.0)))
    loss = losses.CategoricalCrossentropy()
    value, grad = loss.value_and_grad_from_logits(y, z, w)
    per_loss = losses.categorical_crossentropy(y, z, from_logits=True)  # (n, t)
    assert float(value) == pytest.approx(float(np.sum(per_loss * w[:, None]) / (n * t)), rel=1e-9)
    probe = z.copy()
    per_sample = losses.CategoricalCrossentropy(from_logits=True, reduction="none")
    numeric = numerical_gradient(lambda: np.sum(per_sample(y, probe) * w[:, None]) / (n * t), probe)
    assert_gradient_close(grad, numeric)
    _check_grad(losses.MeanSquaredError(), y, z, w)


@pytest.mark.parametrize(
    "loss, y_true, message",
    [
        # keras/src/losses/losses_test.py BinaryCrossentropyTest.test_shape_mismatch
        (losses.BinaryCrossentropy(), np.array([[0], [1], [2]]), "must have the same shape"),
        (losses.CategoricalCrossentropy(), np.eye(3)[:, :2], "must have the same shape"),
        (losses.CategoricalCrossentropy(), np.array([0, 1, 2]), "must have the same rank"),
    ],
)
def test_crossentropy_labels_must_match_the_outputs(loss, y_true, message):
    with pytest.raises(ValueError, match=message) as info:
        loss(y_true, CCE_PRED)
    assert str(y_true.shape) in str(info.value) and "(3, 3)" in str(info.value)
