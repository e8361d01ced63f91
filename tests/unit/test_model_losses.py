"""`model.losses` on a GradientTape, without Keras: each penalty's entry against central
differences, and fit's own step (every term counted once, seed 1) against a user's tape that
sums the terms in (`loss + sum(model.losses)`).

Tolerances: float64. Central differences with ε = 1e-6 on smooth penalties: 1e-7 relative
(truncation ε² plus rounding 1e-16/ε); the two paths of one step run the same arithmetic in
another order: 1e-12 relative.
"""

import numpy as np
import pytest

import minikeras
from minikeras import layers, ops, regularizers


@pytest.fixture(autouse=True)
def float64():
    minikeras.config.set_floatx("float64")


def central_differences(f, w, eps=1e-6):
    grad = np.zeros_like(w)
    for i in np.ndindex(w.shape):
        saved = w[i]
        w[i] = saved + eps
        up = f()
        w[i] = saved - eps
        down = f()
        w[i] = saved
        grad[i] = (up - down) / (2 * eps)
    return grad


@pytest.mark.parametrize(
    "regularizer",
    [
        regularizers.L2(0.3),
        regularizers.L1L2(l1=0.0, l2=0.2),
        regularizers.OrthogonalRegularizer(0.5),
    ],
    ids=["l2", "l1l2", "orthogonal"],
)
def test_a_penalty_read_under_a_tape_is_an_entry_with_its_gradient(regularizer):
    layer = layers.Dense(3, kernel_regularizer=regularizer)
    layer.build((None, 4))
    layer.kernel.assign(np.random.default_rng(1).normal(size=(4, 3)))
    with minikeras.GradientTape() as tape:
        (penalty,) = layer.losses
    assert isinstance(penalty, minikeras.autodiff.Tensor)
    grad = tape.gradient(penalty, layer.kernel)
    expected = central_differences(lambda: float(regularizer(layer.kernel.value)), layer.kernel)
    np.testing.assert_allclose(grad, expected, rtol=1e-7, atol=1e-9)
    assert not isinstance(layer.losses[0], minikeras.autodiff.Tensor)  # no tape: a number


class Penalty(layers.Layer):
    def call(self, x):
        self.add_loss(0.1 * ops.sum(ops.square(x)))
        return x


def test_fits_step_counts_each_term_once_as_a_tape_summing_them_in():
    x = np.random.default_rng(2).normal(size=(6, 3))
    y = np.random.default_rng(3).normal(size=(6, 2))
    inputs = minikeras.Input(shape=(3,))
    h = layers.Dense(4, activation="tanh", kernel_regularizer="l2")(inputs)
    h = layers.Dense(4, activity_regularizer="l1")(Penalty()(h))
    model = minikeras.Model(inputs, layers.Dense(2)(h))
    model.compile(optimizer="sgd", loss="mse")
    _, fit_loss, fit_grads = model.compute_gradients(x, y)
    with minikeras.GradientTape() as tape:
        pred = model(x, training=True)
        loss = ops.mean(ops.square(pred - y)) + sum(model.losses)
    grads = tape.gradient(loss, model.trainable_weights)
    np.testing.assert_allclose(float(loss), fit_loss, rtol=1e-12)
    for a, b in zip(grads, fit_grads):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-15)
