"""Dice, Tversky, Circle and CategoricalGeneralizedCrossEntropy against Keras 3 on TensorFlow:
values and gradients in float64, over reductions and sample weights, and their configs.

Tolerance 1e-10 normwise, as in test_losses_parity.py (the same formulas on both sides, sums
of a few dozen terms, so a few ulps apart). Keras's side: the loss built with dtype="float64",
differentiated by tf.GradientTape; minikeras's: the hand-written `value_and_grad`, also checked
against central differences (ε = 1e-6: truncation and rounding ~1e-10, checked at 1e-6).
"""

import numpy as np
import pytest
from test_losses_parity import REL64, assert_close

from minikeras import losses
from minikeras.testing import numerical_gradient


def _segmentation(rng):
    return (rng.uniform(size=(2, 3, 3, 1)) > 0.5).astype(float), rng.uniform(size=(2, 3, 3, 1))


def _embeddings(rng):
    e = rng.normal(size=(7, 4))
    return np.array([0, 0, 1, 1, 1, 2, 3]), e / np.linalg.norm(e, axis=1, keepdims=True)


def _labelled_probabilities(rng):
    z = np.exp(rng.normal(size=(5, 3, 4)))
    return rng.integers(0, 4, size=(5, 3)), z / z.sum(-1, keepdims=True)


# (class name, arguments, data, sample weights that fit the losses' shape)
CASES = [
    ("Dice", {}, _segmentation, None),
    ("Dice", {"axis": (1, 2, 3)}, _segmentation, np.array([0.5, 2.0])),
    ("Tversky", {"alpha": 0.2, "beta": 0.8}, _segmentation, None),
    ("Tversky", {"axis": (1, 2)}, _segmentation, np.array([[0.5], [2.0]])),
    ("Circle", {}, _embeddings, np.linspace(0.5, 2, 7)),
    ("Circle", {"gamma": 8.0, "margin": 0.25}, _embeddings, None),
    ("Circle", {"gamma": 4.0, "remove_diagonal": False}, _embeddings, np.linspace(0.5, 2, 7)),
    ("CategoricalGeneralizedCrossEntropy", {"q": 0.3}, _labelled_probabilities, None),
    (
        "CategoricalGeneralizedCrossEntropy",
        {},
        _labelled_probabilities,
        np.linspace(0, 2, 15).reshape(5, 3),
    ),
]
REDUCTIONS = ["sum_over_batch_size", "sum", "mean_with_sample_weight", None]


def _ids(case):
    return f"{case[0]}({case[1]})"


def _keras_value_and_grad(loss, y, p, sample_weight):
    import tensorflow as tf

    variable = tf.Variable(p)
    with tf.GradientTape() as tape:
        value = loss(y, variable, sample_weight=sample_weight)
        total = tf.reduce_sum(value)  # reduction None: the sum of the losses, as fit does
    return value.numpy(), tape.gradient(total, variable).numpy()


@pytest.mark.parametrize("case", CASES, ids=_ids)
def test_value_and_gradient_match_keras(keras, case):
    name, kwargs, data, sample_weight = case
    y, p = data(np.random.default_rng(len(_ids(case))))
    for reduction in REDUCTIONS:
        ours = getattr(losses, name)(reduction=reduction, dtype="float64", **kwargs)
        theirs = getattr(keras.losses, name)(reduction=reduction, dtype="float64", **kwargs)
        what = f"{name} {kwargs} reduction={reduction}"
        expected, expected_grad = _keras_value_and_grad(theirs, y, p, sample_weight)
        assert_close(ours(y, p, sample_weight=sample_weight), expected, REL64, what)
        if reduction is None:
            continue  # fit reduces: the gradient of a sum is the 'sum' case's
        value, grad = ours.value_and_grad(y, p.copy(), sample_weight)
        assert_close(value, expected, REL64, what)
        assert_close(grad, expected_grad, REL64, what + " gradient")


@pytest.mark.parametrize("case", CASES, ids=_ids)
def test_gradient_matches_central_differences(case):
    name, kwargs, data, sample_weight = case
    y, p = data(np.random.default_rng(7))
    if name == "Circle":  # unit rows put each self-pair on the kink of max(1 − S, 0)
        p = 0.9 * p
    loss = getattr(losses, name)(dtype="float64", **kwargs)  # central differences in float64
    _, grad = loss.value_and_grad(y, p.copy(), sample_weight)
    numeric = numerical_gradient(lambda: float(loss(y, p, sample_weight=sample_weight)), p)
    np.testing.assert_allclose(grad, numeric, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("case", CASES, ids=_ids)
def test_config_matches_keras(keras, case):
    name, kwargs, _, _ = case
    ours = getattr(losses, name)(name="mine", **kwargs).get_config()
    theirs = getattr(keras.losses, name)(name="mine", **kwargs).get_config()
    assert ours == theirs


def test_circle_function_with_a_reference_set_matches_keras(keras):
    rng = np.random.default_rng(3)
    labels, e = _embeddings(rng)
    ref_labels, refs = _embeddings(rng)
    kwargs = {"gamma": 16.0, "margin": 0.3, "remove_diagonal": False}
    ours = losses.circle(labels, e, ref_labels=ref_labels, ref_embeddings=refs, **kwargs)
    theirs = keras.losses.circle(labels, e, ref_labels=ref_labels, ref_embeddings=refs, **kwargs)
    assert_close(ours, np.asarray(theirs), REL64, "circle")


def test_generalized_crossentropy_refuses_q_outside_the_open_interval(keras):
    for q in (0.0, 1.0):
        with pytest.raises(ValueError, match=r"q must be in the interval \(0, 1\)"):
            losses.CategoricalGeneralizedCrossEntropy(q=q)
        with pytest.raises(ValueError, match=r"q must be in the interval \(0, 1\)"):
            keras.losses.CategoricalGeneralizedCrossEntropy(q=q)
