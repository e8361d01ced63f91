"""A loss object called on arrays computes in its own dtype (floatx unless given one), as
Keras's `Loss.__call__` converts y_true, y_pred and the weights to it; Keras's functional forms
(`losses.mean_squared_error(y, p)`) keep y_pred's own float dtype. A mask attached to y_pred
with `backend.set_keras_mask` joins the reduction as Keras's `apply_mask` does.

Values are compared with Keras at float32's precision (rtol 1e-6: a handful of roundings of
2⁻²⁴ on sums of four terms) when the loss computes in float32, and at 1e-12 in float64.
"""

import numpy as np
import pytest

from minikeras import backend, config, losses

Y_TRUE = np.array([1.0, 0.0, 1.0, 0.0])
Y_PRED = np.array([0.1, 0.2, 0.3, 0.4])
WEIGHTS = np.array([0.4, 0.3, 0.2, 0.1])
MASK = np.array([True, False, True, True])


@pytest.mark.parametrize("reduction", ["sum_over_batch_size", "sum", "none"])
def test_float64_arrays_give_a_floatx_loss_as_keras(keras, reduction):
    y_true, y_pred = Y_TRUE[:, None], Y_PRED[:, None]  # one loss per row
    ours = losses.MeanSquaredError(reduction=reduction)(y_true, y_pred, WEIGHTS)
    theirs = keras.losses.MeanSquaredError(reduction=reduction)(y_true, y_pred, WEIGHTS)
    assert backend.standardize_dtype(ours.dtype) == "float32"
    assert keras.backend.standardize_dtype(theirs.dtype) == "float32"
    np.testing.assert_allclose(ours, np.asarray(theirs), rtol=1e-6)


def test_floatx_float64_and_a_dtype_argument_are_followed(keras):
    config.set_floatx("float64")
    assert losses.MeanSquaredError()(Y_TRUE, Y_PRED).dtype == np.float64
    assert losses.MeanSquaredError(dtype="float16")(Y_TRUE, Y_PRED).dtype == np.float16
    theirs = keras.losses.MeanSquaredError(dtype="float16")(Y_TRUE, Y_PRED)
    assert keras.backend.standardize_dtype(theirs.dtype) == "float16"


@pytest.mark.parametrize(
    "name", ["mean_squared_error", "binary_crossentropy", "hinge", "kl_divergence"]
)
def test_functional_forms_keep_float64(keras, name):
    y_true = np.array([[1.0, 0.0, 1.0], [0.0, 1.0, 1.0]])
    y_pred = np.array([[0.6, 0.2, 0.7], [0.1, 0.8, 0.55]])
    ours = getattr(losses, name)(y_true, y_pred)
    theirs = getattr(keras.losses, name)(y_true, y_pred)
    assert ours.dtype == np.float64
    assert keras.backend.standardize_dtype(theirs.dtype) == "float64"
    np.testing.assert_allclose(ours, np.asarray(theirs), rtol=1e-12)


@pytest.mark.parametrize("uprank", [None, "mask", "sample_weight", "ys"])
def test_a_mask_attached_to_y_pred_joins_the_reduction_as_keras(keras, uprank):
    """One loss per row (N,); a column mask, column weights, or labels and predictions with
    one more axis (losses (N, 1)) meet (N,) partners."""
    y_true, y_pred, weights, mask = Y_TRUE[:, None], Y_PRED[:, None], WEIGHTS, MASK
    if uprank == "mask":
        mask = mask[:, None]
    elif uprank == "sample_weight":
        weights = weights[:, None]
    elif uprank == "ys":
        y_true, y_pred = y_true[:, None], y_pred[:, None]
    ours_pred = np.array(y_pred)
    backend.set_keras_mask(ours_pred, mask)
    ours = losses.MeanSquaredError()(y_true, ours_pred, sample_weight=weights)
    from keras.src import backend as keras_backend  # set_keras_mask is not public in Keras

    theirs_pred = keras.ops.convert_to_tensor(y_pred)
    keras_backend.set_keras_mask(theirs_pred, keras.ops.convert_to_tensor(mask))
    theirs = keras.losses.MeanSquaredError()(y_true, theirs_pred, sample_weight=weights)
    np.testing.assert_allclose(ours, np.asarray(theirs), rtol=1e-6)
    # the kept losses' weighted sum over the 3 kept of 4 (Keras's apply_mask, written out)
    kept = np.array([0, 2, 3])
    expected = np.sum(WEIGHTS[kept] * (Y_TRUE[kept] - Y_PRED[kept]) ** 2) / 3
    np.testing.assert_allclose(ours, expected, rtol=1e-6)


def test_everything_masked_gives_zero_not_nan(keras):
    y_pred = np.array(Y_PRED)
    backend.set_keras_mask(y_pred, np.zeros(4, dtype=bool))
    assert float(losses.MeanSquaredError()(Y_TRUE, y_pred)) == 0.0


@pytest.mark.parametrize("name", ["MeanSquaredError", "BinaryCrossentropy", "KLDivergence"])
def test_a_bfloat16_loss_computes_and_returns_bfloat16_as_keras(keras, name):
    """bfloat16 keeps 8 bits of mantissa: values agree to 2⁻⁷ relative."""
    y_true = np.array([[1.0, 0.0, 1.0], [0.0, 1.0, 1.0]])
    y_pred = np.array([[0.6, 0.2, 0.7], [0.1, 0.8, 0.55]], dtype="float32")
    ours = getattr(losses, name)(dtype="bfloat16")(y_true, y_pred)
    theirs = getattr(keras.losses, name)(dtype="bfloat16")(y_true, y_pred)
    assert backend.standardize_dtype(ours.dtype) == "bfloat16"
    assert keras.backend.standardize_dtype(theirs.dtype) == "bfloat16"
    np.testing.assert_allclose(float(ours), float(theirs), rtol=2**-7)


def test_the_dtype_is_fixed_when_the_loss_is_made_as_keras(keras):
    """Keras sets `dtype = dtype or floatx()` in `Loss.__init__`: a loss made under float32
    still computes in float32 after floatx becomes float64, and one made under float64 stays
    float64 after it returns to float32."""
    made_32 = (losses.MeanSquaredError(), keras.losses.MeanSquaredError())
    config.set_floatx("float64")
    keras.config.set_floatx("float64")
    made_64 = (losses.MeanSquaredError(), keras.losses.MeanSquaredError())
    values_32 = [loss(Y_TRUE, Y_PRED) for loss in made_32]
    config.set_floatx("float32")
    keras.config.set_floatx("float32")
    values_64 = [loss(Y_TRUE, Y_PRED) for loss in made_64]
    for (ours, theirs), dtype in ((values_32, "float32"), (values_64, "float64")):
        assert backend.standardize_dtype(ours.dtype) == dtype
        assert keras.backend.standardize_dtype(theirs.dtype) == dtype
    assert made_32[0].dtype == made_32[1].dtype == "float32"
    assert made_64[0].dtype == made_64[1].dtype == "float64"
