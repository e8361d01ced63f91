"""What Keras's `losses.get` returns, a mask attached to an array with `backend.set_keras_mask`,
Keras's rank matching helper and a loss's `dtype`, compared with Keras. Values in float64 at
1e-12 relative (the same few multiplications and one sum on both sides)."""

import pickle

import numpy as np
import pytest

from minikeras import backend, losses
from minikeras.losses.loss import squeeze_or_expand_to_same_rank


@pytest.mark.parametrize(
    "name, cls",
    [
        ("mse", "MeanSquaredError"),
        ("MAE", "MeanAbsoluteError"),
        ("bce", "BinaryCrossentropy"),
        ("kld", "KLDivergence"),
        ("categorical_crossentropy", "CategoricalCrossentropy"),
        ("dice", "Dice"),
    ],
)
def test_get_of_a_function_name_is_the_function_as_in_keras(keras, name, cls):
    ours, theirs = losses.get(name), keras.losses.get(name)
    assert callable(ours) and not isinstance(ours, losses.Loss)
    assert ours.__name__ == theirs.__name__
    assert pickle.loads(pickle.dumps(ours)) is ours
    # training still finds the class that knows the gradient: the class Keras wraps it in
    assert getattr(keras.losses, cls)().fn is theirs
    assert type(losses.to_loss(name)).__name__ == cls


def test_get_of_a_class_name_and_of_none_as_in_keras(keras):
    assert type(losses.get("Tversky")).__name__ == type(keras.losses.get("Tversky")).__name__
    assert losses.get(None) is None and keras.losses.get(None) is None
    with pytest.raises(ValueError):
        losses.get("typo")


def _squared_error(base):
    """A loss of one squared error per entry (no mean over an axis), in either library."""

    class SquaredError(base):
        def call(self, y_true, y_pred):
            return (y_true - y_pred) ** 2

    return SquaredError


@pytest.mark.parametrize("mask_shape, y_shape", [((4,), (4,)), ((4, 1), (4,)), ((4,), (4, 1))])
def test_a_mask_set_on_an_array_masks_the_loss_as_in_keras(keras, mask_shape, y_shape):
    import tensorflow as tf

    mask = np.array([True, False, True, True]).reshape(mask_shape)
    y_true = np.array([1.0, 0.0, 1.0, 0.0]).reshape(y_shape)
    y_pred = np.array([0.1, 0.2, 0.3, 0.4]).reshape(y_shape)
    weights = np.array([0.4, 0.3, 0.2, 0.1])
    backend.set_keras_mask(y_pred, mask)
    theirs_pred = tf.constant(y_pred)
    keras.src.backend.set_keras_mask(theirs_pred, tf.constant(mask))
    # reduction=None with a mask of another rank than the losses: Keras's result takes the
    # mask's rank, minikeras's the losses' (same values); compared where the ranks agree
    reductions = ["sum_over_batch_size", "sum"] + ([None] if mask_shape == y_shape else [])
    for reduction in reductions:
        ours = _squared_error(losses.Loss)(reduction=reduction, dtype="float64")
        theirs = _squared_error(keras.losses.Loss)(reduction=reduction, dtype="float64")
        expected = theirs(y_true, theirs_pred, sample_weight=weights).numpy()
        actual = ours(y_true, y_pred, sample_weight=weights)
        np.testing.assert_allclose(actual, expected, rtol=1e-12)
    backend.set_keras_mask(y_pred, None)
    assert backend.get_keras_mask(y_pred) is None


def test_squeeze_or_expand_to_same_rank_as_in_keras(keras):
    from keras.src.losses.loss import squeeze_or_expand_to_same_rank as theirs

    for a, b in [((3,), (3, 1)), ((3, 2), (3, 2, 1)), ((3, 1), (3,)), ((3, 2, 1), (3, 2))]:
        for expand in (True, False):
            ours = squeeze_or_expand_to_same_rank(np.ones(a), np.ones(b), expand)
            expected = theirs(np.ones(a), np.ones(b), expand)
            assert [x.shape for x in ours] == [tuple(x.shape) for x in expected], (a, b, expand)


def test_dtype_given_to_a_loss_is_the_dtype_it_computes_in_as_keras(keras):
    y_true = np.array([1.0, 0.0, 1.0, 0.0], dtype="float32")
    y_pred = np.array([0.1, 0.2, 0.3, 0.4], dtype="float32")
    ours = losses.MeanSquaredError(dtype="float16")
    theirs = keras.losses.MeanSquaredError(dtype="float16")
    assert ours.dtype == theirs.dtype == "float16"
    assert ours(y_true, y_pred).dtype == np.float16 == theirs(y_true, y_pred).dtype
    assert losses.MeanSquaredError().dtype == keras.losses.MeanSquaredError().dtype == "float32"
    with pytest.raises(AttributeError):
        ours.dtype = "float64"
