"""`kl_divergence` and `poisson`: Keras exports one function each under both keras.losses and
keras.metrics. Unlike the Loss classes, the functions do not align the ranks of y_true and
y_pred (so (n, 1) against (n,) broadcasts), and a Python list becomes floatx.

Same formula, same float32 or float64 operations in the same order on both sides: 1e-6
relative in float32 (one rounding of a log and a short sum), 1e-12 in float64."""

import numpy as np
import pytest

import minikeras

CASES = {
    "float64": (np.array([[0.2, 0.8, 0.0], [1, 0, 0]]), np.array([[0.3, 0.3, 0.4], [0, 0.5, 0.5]])),
    "float32 and integer labels": (
        np.array([[0, 1, 0], [1, 0, 0]]),
        np.array([[0.3, 0.3, 0.4], [0.0, 0.5, 0.5]], "float32"),
    ),
    "ranks not aligned": (np.array([[0.2], [0.8]]), np.array([0.5, 0.5])),
    "python lists": ([[0.2, 0.8]], [[0.5, 0.5]]),
}


@pytest.mark.parametrize("name", ["kl_divergence", "poisson"])
def test_losses_and_metrics_share_one_function(keras, name):
    assert getattr(keras.metrics, name) is getattr(keras.losses, name)
    assert getattr(minikeras.metrics, name) is getattr(minikeras.losses, name)


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("name", ["kl_divergence", "poisson"])
def test_values_shapes_and_dtypes_as_keras(keras, name, case):
    y_true, y_pred = CASES[case]
    ours = getattr(minikeras.losses, name)(y_true, y_pred)
    theirs = np.asarray(getattr(keras.losses, name)(y_true, y_pred))
    assert ours.dtype == theirs.dtype
    assert ours.shape == theirs.shape
    rtol = 1e-6 if theirs.dtype == np.float32 else 1e-12
    np.testing.assert_allclose(ours, theirs, rtol=rtol)
