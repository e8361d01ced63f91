"""minikeras.utils.numerical_utils's build_pos_neg_masks and normalize beside Keras's
(boolean masks: exact; normalize on float64: within 1e-12, a norm and one division)."""

import numpy as np
import pytest

from minikeras.utils import numerical_utils


@pytest.mark.parametrize("remove_diagonal", [True, False])
def test_build_pos_neg_masks(keras, remove_diagonal):
    query, key = np.array([0, 1, 2, 2, 0]), np.array([0, 1, 2, 0, 2, 1])
    theirs = keras.src.utils.numerical_utils.build_pos_neg_masks(query, key, remove_diagonal)
    ours = numerical_utils.build_pos_neg_masks(query, key, remove_diagonal)
    for a, b in zip(ours, theirs):
        np.testing.assert_array_equal(a, keras.ops.convert_to_numpy(b))


@pytest.mark.parametrize("order", [1, 2, 3])
def test_normalize_rows(keras, order):
    x = np.random.default_rng(0).uniform(size=(3, 4))
    x[1] = 0  # a zero row stays zeros
    theirs = keras.src.utils.numerical_utils.normalize(x, axis=-1, order=order)
    np.testing.assert_allclose(numerical_utils.normalize(x, -1, order), theirs, rtol=1e-12)
