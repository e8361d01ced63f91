"""Merge layers called eagerly on inputs that carry masks (a Masking layer's outputs, or plain
arrays given one by `backend.set_keras_mask`), against Keras: the values (Maximum, Minimum and
Multiply treat masked steps apart) and the output's mask. Exact: these are a few elementwise
operations on small integers."""

import numpy as np
import pytest

import minikeras
from minikeras import backend

X1 = np.array([[[0, 0], [-1, 2], [0, 0], [3, -4]]], dtype="float32")
X2 = np.array([[[0, 0], [0, 0], [1, -2], [-3, 4]]], dtype="float32")


@pytest.mark.parametrize(
    "class_name", ["Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum", "Concatenate"]
)
@pytest.mark.parametrize("both_masked", [False, True])
def test_masked_merges_match_keras(keras, class_name, both_masked):
    results = []
    for lib in (minikeras, keras):
        masking = lib.layers.Masking()
        x1 = masking(X1)
        x2 = masking(X2) if both_masked else X2
        kwargs = {"axis": 1} if class_name == "Concatenate" else {}
        y = getattr(lib.layers, class_name)(**kwargs)([x1, x2])
        mask = backend.get_keras_mask(y) if lib is minikeras else getattr(y, "_keras_mask", None)
        results.append((np.asarray(y), None if mask is None else np.asarray(mask)))
    (ours, ours_mask), (theirs, theirs_mask) = results
    np.testing.assert_array_equal(ours, theirs)
    if theirs_mask is None:
        assert ours_mask is None
    else:
        np.testing.assert_array_equal(ours_mask, theirs_mask)


def test_a_mask_set_on_a_plain_array_reaches_the_merge(keras):
    """backend.set_keras_mask on a NumPy array (kept by the array's id) counts as its mask."""
    x1, x2 = X1.copy(), X2.copy()
    backend.set_keras_mask(x1, np.array([[False, True, False, True]]))
    backend.set_keras_mask(x2, np.array([[False, False, True, True]]))
    y = minikeras.layers.Maximum()([x1, x2])
    from keras.src.backend import set_keras_mask

    k1, k2 = keras.ops.convert_to_tensor(X1), keras.ops.convert_to_tensor(X2)
    set_keras_mask(k1, keras.ops.convert_to_tensor([[False, True, False, True]]))
    set_keras_mask(k2, keras.ops.convert_to_tensor([[False, False, True, True]]))
    ky = keras.layers.Maximum()([k1, k2])
    np.testing.assert_array_equal(y, ky.numpy())
    np.testing.assert_array_equal(backend.get_keras_mask(y), ky._keras_mask.numpy())
