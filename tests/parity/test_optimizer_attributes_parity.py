"""Optimizer state that Keras's own tests read by name (EMA averages, gradient accumulators,
Nadam's momentum product), `set_weights` and `get(None)`, compared with Keras step by step.
float64 at 1e-12 relative: a few multiply-adds per step on both sides."""

import numpy as np
import pytest

from minikeras import config, optimizers

STEPS = 4


def _run(lib, make, floatx):
    """`make(lib)` applied STEPS times to one float64 weight; (weight, optimizer) after."""
    weight = lib.Variable(np.array([[3.0, -4.0], [5.0, 0.5]]), dtype=floatx)
    optimizer = make(lib)
    for step in range(STEPS):
        grad = np.array([[1.0, 0.5], [-2.0, 0.25]]) * (step + 1)
        optimizer.apply_gradients([(np.asarray(grad, floatx), weight)])
    return weight, optimizer


def _keras_run(keras, make):
    keras.config.set_floatx("float64")
    return _run(keras, lambda lib: make(lib.optimizers), "float64")


def _ours(make):
    config.set_floatx("float64")
    import minikeras

    return _run(minikeras, lambda lib: make(optimizers), "float64")


CASES = {
    "ema": (
        lambda o: o.SGD(learning_rate=0.1, use_ema=True, ema_momentum=0.9),
        "_model_variables_moving_average",
    ),
    "accumulation": (
        lambda o: o.SGD(learning_rate=0.1, gradient_accumulation_steps=3),
        "_accumulated_gradients",
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_state_read_by_keras_name_matches_keras(keras, case):
    make, attribute = CASES[case]
    our_weight, ours = _ours(make)
    their_weight, theirs = _keras_run(keras, make)
    np.testing.assert_allclose(np.asarray(our_weight), their_weight.numpy(), rtol=1e-12)
    for a, b in zip(getattr(ours, attribute), getattr(theirs, attribute), strict=True):
        np.testing.assert_allclose(np.asarray(a), b.numpy(), rtol=1e-12)


def test_nadam_u_product_matches_keras(keras):
    make = lambda o: o.Nadam(learning_rate=0.01)  # noqa: E731
    _, ours = _ours(make)
    _, theirs = _keras_run(keras, make)
    np.testing.assert_allclose(ours._u_product, theirs._u_product.numpy(), rtol=1e-12)
    empty = optimizers.Nadam()
    empty.build([])
    assert empty._u_product.dtype == np.dtype(config.floatx())


def test_set_weights_copies_variables_and_refuses_before_build(keras):
    make = lambda o: o.Adam(learning_rate=0.01)  # noqa: E731
    weight, first = _ours(make)
    second = optimizers.Adam(learning_rate=0.01)
    with pytest.raises(ValueError, match="You are calling `set_weights\\(\\)`"):
        second.set_weights(first.variables)
    with pytest.raises(ValueError, match="You are calling `set_weights\\(\\)`"):
        keras.optimizers.Adam().set_weights([])
    second.build([weight])
    second.set_weights(first.variables)
    for a, b in zip(first.variables, second.variables, strict=True):
        np.testing.assert_array_equal(a, b)


def test_get_none_is_none_as_in_keras(keras):
    assert optimizers.get(None) is None and keras.optimizers.get(None) is None
