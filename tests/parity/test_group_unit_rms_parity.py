"""GroupNormalization, UnitNormalization and RMSNormalization against Keras with the same
weights: output, dL/dx and dL/dw for L = Σ dy ⊙ y, configs before and after build (their `fit`
is in test_attention_parity.py's transformer block). Tolerances as layer_twins.py derives them
(float64 1e-10; float32 1e-5: each output sums a group's or a row's few dozen entries, rounded
at 2⁻²⁴ in different orders)."""

import numpy as np
import pytest
from layer_twins import as_json, assert_pairs_close, run_both, twins

import minikeras

CASES = [
    ("GroupNormalization", {"groups": 2}, (6,)),
    ("GroupNormalization", {"groups": 3, "axis": 1}, (6, 2)),
    ("GroupNormalization", {"groups": -1, "epsilon": 0.01}, (3, 4)),
    ("GroupNormalization", {"groups": 2, "center": False}, (2, 3, 4)),
    ("GroupNormalization", {"groups": 1, "scale": False}, (5, 2)),
    ("UnitNormalization", {}, (5,)),
    ("UnitNormalization", {"axis": [1, 2]}, (3, 4)),
    ("RMSNormalization", {}, (6,)),
    ("RMSNormalization", {"axis": -1, "epsilon": 0.1}, (3, 4)),
]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("class_name, kwargs, shape", CASES)
def test_forward_and_gradients_match_keras(keras, class_name, kwargs, shape, dtype):
    rng = np.random.default_rng(len(shape) + len(kwargs))
    ours, theirs = twins(keras, class_name, kwargs, shape, rng, dtype)
    x = rng.normal(loc=0.5, scale=2.0, size=(4,) + shape)
    pairs = run_both(keras, ours, theirs, x, rng.normal(size=x.shape), training=True)
    assert_pairs_close(pairs, dtype)
    assert as_json(ours.get_config()) == as_json(theirs.get_config())


@pytest.mark.parametrize("class_name, kwargs, shape", CASES[:1] + CASES[5:6] + CASES[7:8])
def test_configs_before_build_equal_keras(keras, class_name, kwargs, shape):
    ours = getattr(minikeras.layers, class_name)(name="norm", **kwargs)
    theirs = getattr(keras.layers, class_name)(name="norm", **kwargs)
    assert as_json(ours.get_config()) == as_json(theirs.get_config())
