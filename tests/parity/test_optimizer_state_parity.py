"""An optimizer's state as Keras's variables: `optimizer.variables` are Variables over the
optimizer's own memory (`.value`, `.assign`), `stateless_apply` computes a step from given
values and leaves the optimizer as it was, and a weight flagged `overwrite_with_gradient`
takes its gradient as its value (the largest one seen, with gradient accumulation).

Keras's TensorFlow backend has no `stateless_apply`, so its values are checked against the
same step taken by Keras's `apply`. All in float32, as Keras's variables; a few roundings of
2⁻²⁴ per step: rtol 1e-6.
"""

import numpy as np
import pytest

from minikeras import backend, optimizers

W = np.array([[1.0, 2.0], [3.0, 4.0]], dtype="float32")
G1 = np.array([[0.5, -1.0], [2.0, 0.25]], dtype="float32")
G2 = np.array([[-0.3, 0.7], [1.5, -2.0]], dtype="float32")


def _keras_steps(keras, make, grads_per_step, flags=(False,)):
    variables = [keras.Variable(W) for _ in flags]
    for v, flag in zip(variables, flags):
        v.overwrite_with_gradient = flag
    optimizer = make(keras.optimizers)
    for grads in grads_per_step:
        optimizer.apply([keras.ops.convert_to_tensor(g) for g in grads], variables)
    return [np.asarray(v) for v in variables], optimizer


def _ours(make, flags=(False,)):
    variables = [backend.Variable(W) for _ in flags]
    for v, flag in zip(variables, flags):
        v.overwrite_with_gradient = flag
    return variables, make(optimizers)


def test_variables_are_the_optimizers_own_memory():
    variables, optimizer = _ours(lambda o: o.Adam(learning_rate=0.01))
    optimizer.build(variables)
    iteration, learning_rate, momentum, velocity = optimizer.variables
    assert iteration.value == 0 and np.isclose(learning_rate.value, 0.01)
    iteration.assign(5)
    learning_rate.assign(0.5)
    momentum.assign(np.ones_like(W))
    assert optimizer.iterations == 5 and optimizer.iterations.value == 5
    assert float(optimizer.learning_rate) == 0.5
    np.testing.assert_array_equal(optimizer.variables[2].value, np.ones_like(W))
    optimizer.iterations.assign(2)
    assert int(optimizer.variables[0]) == 2


@pytest.mark.parametrize(
    "make",
    [
        lambda o: o.SGD(learning_rate=0.1, momentum=0.9),
        lambda o: o.Adam(learning_rate=0.01),
        lambda o: o.RMSprop(learning_rate=0.01, use_ema=True),
    ],
    ids=["sgd", "adam", "rmsprop_ema"],
)
def test_stateless_apply_takes_keras_step_and_changes_nothing(keras, make):
    expected, keras_optimizer = _keras_steps(keras, make, [[G1], [G2]])
    variables, optimizer = _ours(make)
    optimizer.build(variables)
    state = [v.value.copy() for v in optimizer.variables]
    weights = [W.copy()]
    for g in (G1, G2):
        weights, state = optimizer.stateless_apply(state, [g], weights)
        # the optimizer and its weights are as they were: the step lives in the returned lists
        np.testing.assert_array_equal(variables[0], W)
        assert optimizer.iterations == 0
    np.testing.assert_allclose(weights[0], expected[0], rtol=1e-6)
    for ours, theirs in zip(state, keras_optimizer.variables):
        np.testing.assert_allclose(ours, np.asarray(theirs), rtol=1e-6)


def test_stateless_apply_refuses_a_wrong_number_of_values():
    variables, optimizer = _ours(lambda o: o.SGD())
    with pytest.raises(ValueError, match="must be built"):
        optimizer.stateless_apply([], [G1], [W])
    optimizer.build(variables)
    with pytest.raises(ValueError, match="corresponding 1:1"):
        optimizer.stateless_apply([np.int64(0)], [G1], [W])


def test_overwrite_with_gradient_as_keras(keras):
    def make(o):
        return o.SGD(learning_rate=1.0)

    expected, _ = _keras_steps(keras, make, [[G1, G2]], flags=(True, False))
    variables, optimizer = _ours(make, flags=(True, False))
    optimizer.apply([G1, G2], variables)
    for ours, theirs in zip(variables, expected):
        np.testing.assert_allclose(ours, theirs, rtol=1e-6)


def test_overwrite_with_gradient_and_accumulation_as_keras(keras):
    def make(o):
        return o.SGD(learning_rate=1.0, gradient_accumulation_steps=2)

    steps = [[G1, G1], [G2, G2], [G1, G2]]
    expected, keras_optimizer = _keras_steps(keras, make, steps, flags=(True, False))
    variables, optimizer = _ours(make, flags=(True, False))
    for grads in steps:
        optimizer.apply(grads, variables)
    for ours, theirs in zip(variables, expected):
        np.testing.assert_allclose(ours, theirs, rtol=1e-6)
    for ours, theirs in zip(
        optimizer._accumulated_gradients, keras_optimizer._accumulated_gradients
    ):
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6)


@pytest.mark.parametrize("first", ["finite", "inf"])
def test_loss_scale_optimizer_stateless_apply_as_keras_apply(keras, first):
    g0 = G1 * 4.0 if first == "finite" else np.full_like(G1, np.inf)
    steps = [[g0], [G2 * 2.0], [G1]]

    def make(o):
        return o.LossScaleOptimizer(o.SGD(learning_rate=0.5), initial_scale=4.0)

    expected, keras_optimizer = _keras_steps(keras, make, steps)
    variables, optimizer = _ours(make)
    optimizer.build(variables)
    state = [v.value.copy() for v in optimizer.variables]
    weights = [W.copy()]
    for grads in steps:
        weights, state = optimizer.stateless_apply(state, grads, weights)
    np.testing.assert_allclose(weights[0], expected[0], rtol=1e-6)
    assert float(optimizer.dynamic_scale) == 4.0  # untouched
    for ours, theirs in zip(state, keras_optimizer.variables):
        np.testing.assert_allclose(ours, np.asarray(theirs), rtol=1e-6)


def test_loss_scale_optimizer_passes_an_overwritten_weight_its_unscaled_gradient(keras):
    def make(o):
        return o.LossScaleOptimizer(o.SGD(learning_rate=0.5), initial_scale=8.0)

    expected, _ = _keras_steps(keras, make, [[G1, G2]], flags=(True, False))
    variables, optimizer = _ours(make, flags=(True, False))
    optimizer.apply([G1, G2], variables)
    for ours, theirs in zip(variables, expected):
        np.testing.assert_allclose(ours, theirs, rtol=1e-6)
