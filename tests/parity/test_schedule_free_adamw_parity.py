"""ScheduleFreeAdamW against Keras 3: weights and both slots after several steps in float64 (the
same elementwise arithmetic in the same order, so equal to 1e-12 relative; a constant rounded
through float32 alone would differ by ~1e-8), its config, and a float32 fit."""

import numpy as np
import pytest

from minikeras import config, optimizers

OPTIONS = [
    {"learning_rate": 0.5},
    {"learning_rate": 0.05, "warmup_steps": 3, "weight_decay": 0.01},
    {"learning_rate": 0.1, "beta_1": 0.8, "beta_2": 0.99, "epsilon": 1e-6, "clipnorm": 1.0},
]


@pytest.mark.parametrize("options", OPTIONS, ids=str)
def test_steps_match_keras_in_float64(keras, options):
    config.set_floatx("float64")
    keras.config.set_floatx("float64")
    rng = np.random.default_rng(0)
    start = [rng.normal(size=(3, 2)), rng.normal(size=(2,))]
    ours_w = [w.copy() for w in start]
    theirs_w = [keras.Variable(w) for w in start]
    ours = optimizers.ScheduleFreeAdamW(**options)
    theirs = keras.optimizers.ScheduleFreeAdamW(**options)
    for _ in range(6):
        grads = [rng.normal(size=w.shape) for w in start]
        ours.apply([g.copy() for g in grads], ours_w)
        theirs.apply_gradients(zip(grads, theirs_w))
        for a, b in zip(ours_w, theirs_w):
            np.testing.assert_allclose(a, b.numpy(), rtol=1e-12, atol=1e-15)
    assert len(ours.variables) == len(theirs.variables)
    for a, b in zip(ours.variables, theirs.variables):
        np.testing.assert_allclose(a, np.asarray(b), rtol=1e-12, atol=1e-15)


def test_config_matches_keras(keras):
    ours = optimizers.ScheduleFreeAdamW(warmup_steps=5, name="sf").get_config()
    theirs = keras.optimizers.ScheduleFreeAdamW(warmup_steps=5, name="sf").get_config()
    assert ours == theirs
    again = optimizers.get({"class_name": "ScheduleFreeAdamW", "config": ours})
    assert again.get_config() == ours


def test_fit_matches_keras_in_float32(keras):
    """Three epochs of a Dense layer; float32, 1e-5 relative (test_parity_properties.py).

    Keras's `fit` builds the optimizer inside a stateless scope, where the copy of the weights
    into z is dropped: z would start at zeros, unlike a direct `apply_gradients`. Built before
    `fit`, Keras's z starts at the weights, as minikeras's always does."""
    import minikeras as mk

    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(16, 3)).astype("float32"), rng.normal(size=(16, 1)).astype("float32")
    kernel = rng.normal(size=(3, 1)).astype("float32")
    models = []
    for lib in (mk, keras):
        model = lib.Sequential([lib.Input((3,)), lib.layers.Dense(1)])
        model.set_weights([kernel, np.zeros(1, "float32")])
        optimizer = lib.optimizers.ScheduleFreeAdamW(learning_rate=0.05)
        optimizer.build(model.trainable_variables)
        model.compile(optimizer=optimizer, loss="mse")
        model.fit(x, y, batch_size=4, epochs=3, shuffle=False, verbose=0)
        models.append(model)
    for a, b in zip(models[0].get_weights(), models[1].get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
