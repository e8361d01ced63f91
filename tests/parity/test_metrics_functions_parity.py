"""keras.metrics.huber, binary_focal_crossentropy and categorical_focal_crossentropy (loss
functions Keras also exports as metrics functions) against Keras's, per sample. float64,
1e-12: the same few elementwise operations on both sides (a few ulps)."""

import numpy as np
import pytest

from minikeras import metrics


@pytest.mark.parametrize(
    "name, kwargs",
    [
        ("huber", {"delta": 0.5}),
        ("binary_focal_crossentropy", {"gamma": 1.5, "from_logits": True}),
        ("binary_focal_crossentropy", {"apply_class_balancing": True, "alpha": 0.3}),
        ("categorical_focal_crossentropy", {"gamma": 2.0}),
    ],
)
def test_metrics_functions_match_keras(keras, name, kwargs):
    rng = np.random.default_rng(3)
    y_true = rng.integers(0, 2, (4, 3)).astype("float64")
    y_pred = rng.uniform(0.05, 0.95, (4, 3))
    theirs = keras.ops.convert_to_numpy(getattr(keras.metrics, name)(y_true, y_pred, **kwargs))
    ours = np.asarray(getattr(metrics, name)(y_true, y_pred, **kwargs))
    assert ours.shape == theirs.shape
    np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=0)
