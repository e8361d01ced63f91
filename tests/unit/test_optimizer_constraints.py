"""The optimizer's step projects each constrained weight after its update (Keras's
`BaseOptimizer.apply`): w ← constraint(update(w)). Worked by hand with NonNeg (max(w, 0))."""

import numpy as np

from minikeras import backend, constraints, layers, optimizers


def nonneg_dense():
    layer = layers.Dense(2, use_bias=False, kernel_constraint="non_neg")
    layer.build((None, 1))
    layer.set_weights([np.array([[1.0, 1.0]], "float32")])
    return layer


def test_apply_projects_the_updated_weight():
    layer = nonneg_dense()
    optimizers.SGD(learning_rate=1.0).apply([np.array([[2.0, -1.0]], "float32")], [layer.kernel])
    np.testing.assert_array_equal(layer.kernel, [[0.0, 2.0]])  # [−1, 2] projected


def test_a_weight_without_constraint_or_a_plain_array_is_left_as_updated():
    w = np.array([1.0, 1.0])
    optimizers.SGD(learning_rate=1.0).apply([np.array([2.0, 0.0])], [w])
    np.testing.assert_array_equal(w, [-1.0, 1.0])


def test_a_skipped_step_projects_nothing():
    layer = nonneg_dense()
    layer.kernel.assign(np.array([[-1.0, 1.0]]))  # outside the set, as a user may put it
    wrapped = optimizers.LossScaleOptimizer(optimizers.SGD(learning_rate=1.0))
    wrapped.apply([np.array([[np.inf, 0.0]], "float32")], [layer.kernel])
    np.testing.assert_array_equal(layer.kernel, [[-1.0, 1.0]])  # Keras skips the whole step


def test_accumulating_calls_project_too():
    layer = nonneg_dense()
    layer.kernel.assign(np.array([[-1.0, 1.0]]))
    accumulate = optimizers.SGD(learning_rate=1.0, gradient_accumulation_steps=2)
    accumulate.apply([np.array([[4.0, 4.0]], "float32")], [layer.kernel])  # no update yet
    np.testing.assert_array_equal(layer.kernel, [[0.0, 1.0]])


def test_a_constraint_set_on_a_variable_by_hand_is_applied():
    """Keras reads `variable.constraint` at each step, so one set after the weight was made
    counts too; `backend.numpy.zeros` is Keras's name for the zeros op."""
    v = backend.Variable(np.array([[-0.5, 0.25], [0.75, -1.0]]))
    v.constraint = constraints.NonNeg()
    optimizers.SGD(learning_rate=1e-4).apply_gradients([(backend.numpy.zeros((2, 2)), v)])
    np.testing.assert_array_equal(v, [[0.0, 0.25], [0.75, 0.0]])
