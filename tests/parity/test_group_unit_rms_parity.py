"""GroupNormalization, UnitNormalization and RMSNormalization against Keras with the same
weights: output, dL/dx and dL/dw for L = Σ dy ⊙ y, configs before and after build, and a short
`fit`. Tolerances as layer_twins.py derives them (float64 1e-10; float32 1e-5: each output sums
a group's or a row's few dozen entries, rounded at 2⁻²⁴ in different orders)."""

import numpy as np
import pytest
from layer_twins import as_json, assert_pairs_close, floatx, rel, run_both, twins

import minikeras
from minikeras.parity.compare import tolerance

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


def _model(lib):
    inputs = lib.Input(shape=(4, 6))
    x = lib.layers.GroupNormalization(groups=3)(inputs)
    x = lib.layers.Dense(4)(x)
    x = lib.layers.RMSNormalization()(x)
    x = lib.layers.UnitNormalization()(lib.layers.Flatten()(x))
    return lib.Model(inputs, lib.layers.Dense(2)(x))


def test_a_model_of_the_three_fits_as_keras(keras):
    dtype = "float64"
    rng = np.random.default_rng(4)
    x, y = rng.normal(size=(12, 4, 6)), rng.normal(size=(12, 2))
    with floatx(keras, dtype):
        ours, theirs = _model(minikeras), _model(keras)
        weights = [rng.normal(scale=0.5, size=w.shape) for w in ours.weights]
        ours.set_weights(weights)
        theirs.set_weights(weights)
        for model in (ours, theirs):
            model.compile(optimizer="adam", loss="mse")
        history = ours.fit(x, y, batch_size=4, epochs=2, shuffle=False, verbose=0)
        khistory = theirs.fit(x, y, batch_size=4, epochs=2, shuffle=False, verbose=0)
        tol = tolerance(dtype, 6)
        np.testing.assert_allclose(history.history["loss"], khistory.history["loss"], rtol=tol)
        for w, kw in zip(ours.get_weights(), theirs.get_weights()):
            assert rel(w, kw) <= tol
