"""Weight constraints are part of the optimizer's step, as in Keras: `optimizer.apply` projects
each constrained weight after its update, so a custom `train_step` that calls
`apply_gradients` gets constrained weights, and with gradient accumulation the projection runs
on every call. Compared with Keras 3 on the same weights.

Tolerances: float64; the projections (a norm and a division) and the updates round in the
same operations, so 1e-12 relative (1e-14 absolute for entries near zero) is ample; float64's
unit roundoff is 1.1e-16.
"""

import numpy as np
import pytest

import minikeras

RTOL, ATOL = 1e-12, 1e-14


@pytest.fixture
def float64(keras):
    from minikeras.parity.keras_env import floatx

    with floatx("float64"):
        yield keras


def dense_with_constraints(lib, kernel):
    layer = lib.layers.Dense(
        2,
        kernel_constraint=lib.constraints.MaxNorm(1.0),
        bias_constraint=lib.constraints.NonNeg(),
    )
    layer.build((None, 3))
    layer.set_weights([kernel, np.zeros(2)])
    return layer


@pytest.mark.parametrize(
    "make",
    [
        lambda lib: lib.optimizers.SGD(learning_rate=0.5),
        lambda lib: lib.optimizers.Adam(learning_rate=0.3, use_ema=True),
        lambda lib: lib.optimizers.SGD(learning_rate=0.5, gradient_accumulation_steps=2),
    ],
    ids=["sgd", "adam_ema", "accumulation"],
)
def test_apply_projects_after_the_update(float64, make):
    keras = float64
    rng = np.random.default_rng(0)
    kernel = rng.normal(size=(3, 2)) * 0.3
    ours = dense_with_constraints(minikeras, kernel)
    theirs = dense_with_constraints(keras, kernel)
    ours_opt, theirs_opt = make(minikeras), make(keras)
    for _ in range(3):
        grads = [rng.normal(size=(3, 2)) * 3, rng.normal(size=(2,))]
        ours_opt.apply([g.copy() for g in grads], ours.trainable_weights)
        theirs_opt.apply(grads, theirs.trainable_weights)
        for a, b in zip(ours.get_weights(), theirs.get_weights()):
            np.testing.assert_allclose(a, b, rtol=RTOL, atol=ATOL)
    # the projection did act: every kernel column's norm is at most 1, the bias ≥ 0
    assert np.all(np.linalg.norm(ours.get_weights()[0], axis=0) <= 1.0)
    assert np.all(ours.get_weights()[1] >= 0)


def custom_step_model(lib, tape_class):
    class CustomModel(lib.Model):
        def __init__(self):
            super().__init__()
            self.hidden = lib.layers.Dense(3, activation="tanh")
            self.out = lib.layers.Dense(1, kernel_constraint=lib.constraints.UnitNorm())

        def call(self, x):
            return self.out(self.hidden(x))

        def train_step(self, data):
            x, y = data
            with tape_class() as tape:
                loss = self.compute_loss(y=y, y_pred=self(x, training=True))
            grads = tape.gradient(loss, self.trainable_variables)
            self.optimizer.apply_gradients(zip(grads, self.trainable_variables))
            return {"loss": loss}

    return CustomModel()


def test_custom_train_step_gets_constrained_weights(float64):
    import tensorflow as tf

    keras = float64
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(16, 4)), rng.normal(size=(16, 1))
    theirs = custom_step_model(keras, tf.GradientTape)
    ours = custom_step_model(minikeras, minikeras.GradientTape)
    theirs(x[:1])
    ours(x[:1])
    ours.set_weights(theirs.get_weights())
    for lib, model in ((keras, theirs), (minikeras, ours)):
        model.compile(optimizer=lib.optimizers.SGD(learning_rate=0.2), loss="mse")
        model.fit(x, y, epochs=2, batch_size=4, shuffle=False, verbose=0)
    for a, b in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_allclose(a, b, rtol=RTOL, atol=ATOL)
    norm = np.linalg.norm(ours.out.kernel, axis=0)
    np.testing.assert_allclose(norm, 1.0, rtol=1e-6)  # UnitNorm: w/(ε + ‖w‖)
