"""Keras's own golden values (keras_golden.json, copied from Keras 3's losses and optimizer tests)
reproduced by minikeras at the precision Keras's tests assert, and by the installed Keras too, so
that the data file itself is checked; then minikeras and Keras agree with each other far more
tightly (float32: 1e-6 relative) than the golden values' printed digits.
"""

import json
import pathlib

import numpy as np
import pytest

import minikeras as mk

GOLDEN = json.loads((pathlib.Path(__file__).parent / "keras_golden.json").read_text())


def assert_golden(actual, entry, expected=None):
    """Keras's assertion: assertAlmostEqual(decimal) or assertAllClose(atol, rtol)."""
    expected = entry["expected"] if expected is None else expected
    if "decimal" in entry:
        np.testing.assert_almost_equal(actual, expected, decimal=entry["decimal"])
    else:
        np.testing.assert_allclose(actual, expected, atol=entry["atol"], rtol=entry["rtol"])


def _loss_inputs(entry):
    y_pred = np.array(entry["y_pred"], dtype="float32")
    y_true = np.array(entry["y_true"])
    sample_weight = entry["sample_weight"]
    if isinstance(sample_weight, list):
        sample_weight = np.array(sample_weight, dtype="float32")
    return y_true, y_pred, sample_weight


@pytest.mark.parametrize("entry", GOLDEN["losses"], ids=[e["source"] for e in GOLDEN["losses"]])
def test_loss_golden_values(keras, entry):
    y_true, y_pred, sample_weight = _loss_inputs(entry)
    ours = getattr(mk.losses, entry["loss"])(**entry["config"])(y_true, y_pred, sample_weight)
    theirs = getattr(keras.losses, entry["loss"])(**entry["config"])(
        y_true, y_pred, sample_weight=sample_weight
    )
    assert_golden(ours, entry)
    assert_golden(np.asarray(theirs), entry)
    np.testing.assert_allclose(ours, np.asarray(theirs), rtol=1e-6, atol=1e-7)


def _trajectory(entry):
    """The gradients Keras's test feeds, and the values it expects after each of them (None:
    not checked there); the golden trajectories take one first step with g = 0.01, then
    g = arange(0.1, 1.1, 0.1)."""
    if "gradients" in entry:
        grads = [np.array(g, dtype="float32") for g in entry["gradients"]]
        if "expected_final" in entry:
            return grads, [None] * (len(grads) - 1) + [entry["expected_final"]]
        return grads, entry["expected"]
    size = len(entry["variable"])
    first = np.full(size, entry["first_gradient"], dtype="float32")
    then = np.arange(*entry["gradient_arange"], dtype="float32")
    if "expected_columns" in entry:
        expected = [[value] * size for value in entry["expected_columns"]]
    else:
        expected = entry["expected"]
    return [first] + [then] * (len(expected) - 1), expected


@pytest.mark.parametrize(
    "entry", GOLDEN["optimizers"], ids=[e["source"] for e in GOLDEN["optimizers"]]
)
def test_optimizer_golden_values(keras, entry):
    grads, expected = _trajectory(entry)
    ours_opt = getattr(mk.optimizers, entry["optimizer"])(**entry["config"])
    theirs_opt = getattr(keras.optimizers, entry["optimizer"])(**entry["config"])
    ours = np.array(entry["variable"], dtype="float32")
    theirs = keras.Variable(np.array(entry["variable"], dtype="float32"))
    fresh = entry.get("fresh_optimizer_each_step", False)
    for g, after in zip(grads, expected):
        if fresh:
            ours_opt = getattr(mk.optimizers, entry["optimizer"])(**entry["config"])
            theirs_opt = getattr(keras.optimizers, entry["optimizer"])(**entry["config"])
        ours_opt.apply([g.copy()], [ours])
        theirs_opt.apply([g], [theirs])
        if after is not None:
            assert_golden(ours, entry, after)
            assert_golden(theirs.numpy(), entry, after)
        np.testing.assert_allclose(ours, theirs.numpy(), rtol=1e-6, atol=1e-7)
    steps = 1 if fresh else len(grads)
    assert ours_opt.iterations == int(theirs_opt.iterations.numpy()) == steps


@pytest.mark.parametrize("entry", GOLDEN["clipping"], ids=[e["source"] for e in GOLDEN["clipping"]])
@pytest.mark.parametrize("optimizer", ["SGD", "RMSprop", "Adam"])
def test_gradient_clipping_golden_values(keras, entry, optimizer):
    grad = np.array(entry["gradient"], dtype="float32")
    ours = getattr(mk.optimizers, optimizer)(**entry["config"])._clip_gradients([grad])[0]
    theirs = getattr(keras.optimizers, optimizer)(**entry["config"])._clip_gradients([grad])[0]
    assert_golden(ours, entry)
    assert_golden(np.asarray(theirs), entry)
