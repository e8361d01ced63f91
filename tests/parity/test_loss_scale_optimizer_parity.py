"""LossScaleOptimizer and `loss_scale_factor` against Keras 3: skipped steps, halving and
doubling of the scale, the weights and every optimizer variable after each call, a whole fit
(history, weights, scale), configs, errors, and a .keras file round trip.

Scales here are powers of two, so scaling and unscaling are exact in both libraries: float32
results are compared for equality up to the one-rounding differences of the inner update
(rtol 1e-6, atol 1e-7)."""

import numpy as np
import pytest

import minikeras
from minikeras import optimizers

RTOL, ATOL = 1e-6, 1e-7


def as_numpy(values):
    return [np.asarray(v) for v in values]


def test_steps_skips_and_scale_as_keras(keras):
    rng = np.random.default_rng(0)
    start = [rng.normal(size=(3, 2)).astype("float32"), rng.normal(size=(2,)).astype("float32")]
    ours_w = [w.copy() for w in start]
    theirs_w = [keras.Variable(w) for w in start]
    args = dict(initial_scale=8.0, dynamic_growth_steps=2)
    ours = optimizers.LossScaleOptimizer(optimizers.SGD(0.1, momentum=0.5), **args)
    theirs = keras.optimizers.LossScaleOptimizer(keras.optimizers.SGD(0.1, momentum=0.5), **args)
    for step in range(7):
        grads = [rng.normal(size=w.shape).astype("float32") * 8 for w in start]
        if step in (2, 5):  # a non-finite gradient: the step is skipped
            grads[step % 2][0] = np.inf if step == 2 else np.nan
        ours.apply([g.copy() for g in grads], ours_w)
        theirs.apply(grads, theirs_w)
        for a, b in zip(ours_w, theirs_w):
            np.testing.assert_allclose(a, b.numpy(), rtol=RTOL, atol=ATOL)
        assert len(ours.variables) == len(theirs.variables)
        for a, b in zip(ours.variables, as_numpy(theirs.variables)):
            assert a.dtype == b.dtype
            np.testing.assert_allclose(a, b, rtol=RTOL, atol=ATOL)
        assert int(ours.iterations) == int(theirs.iterations)


@pytest.mark.parametrize(
    "make",
    [
        lambda lib: lib.optimizers.LossScaleOptimizer(
            lib.optimizers.Adam(0.01), initial_scale=4.0, dynamic_growth_steps=3
        ),
        lambda lib: lib.optimizers.SGD(0.05, loss_scale_factor=16.0),
    ],
    ids=["dynamic", "factor"],
)
def test_fit_as_keras(keras, make):
    rng = np.random.default_rng(1)
    x = rng.normal(size=(40, 3)).astype("float32")
    y = rng.normal(size=(40, 1)).astype("float32")
    models = []
    for lib in (keras, minikeras):
        model = lib.Sequential(
            [lib.Input((3,)), lib.layers.Dense(4, activation="relu"), lib.layers.Dense(1)]
        )
        if models:
            model.set_weights(models[0].get_weights())
        model.compile(make(lib), "mse")
        models.append(model)
    histories = [
        m.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0).history for m in models
    ]
    np.testing.assert_allclose(histories[1]["loss"], histories[0]["loss"], rtol=RTOL)
    for a, b in zip(models[1].get_weights(), models[0].get_weights()):
        np.testing.assert_allclose(a, b, rtol=RTOL, atol=ATOL)
    for a, b in zip(models[1].optimizer.variables, as_numpy(models[0].optimizer.variables)):
        np.testing.assert_allclose(a, b, rtol=RTOL, atol=ATOL)


def test_config_as_keras(keras):
    # the inner optimizer named: an automatic name counts the optimizers made before
    inner = dict(learning_rate=0.5, momentum=0.06, nesterov=True, weight_decay=0.004, name="in")
    ours = optimizers.LossScaleOptimizer(optimizers.SGD(**inner), name="lso").get_config()
    theirs = keras.optimizers.LossScaleOptimizer(
        keras.optimizers.SGD(**inner), name="lso"
    ).get_config()
    assert ours == theirs
    again = optimizers.get({"class_name": "LossScaleOptimizer", "config": ours})
    assert isinstance(again.inner_optimizer, optimizers.SGD)
    assert again.get_config() == ours
    assert minikeras.mixed_precision.LossScaleOptimizer is optimizers.LossScaleOptimizer


@pytest.mark.parametrize(
    "kwargs", [{"dynamic": False}, {"clipnorm": 1.0}, {"use_ema": True}, {"foo": 1}]
)
def test_refused_arguments_as_keras(keras, kwargs):
    with pytest.raises(ValueError) as theirs:
        keras.optimizers.LossScaleOptimizer(keras.optimizers.SGD(), **kwargs)
    with pytest.raises(ValueError) as ours:
        optimizers.LossScaleOptimizer(optimizers.SGD(), **kwargs)
    assert str(ours.value) == str(theirs.value)


def test_scale_loss_as_keras(keras):
    for lib in (keras, minikeras):
        optimizer = lib.optimizers.LossScaleOptimizer(lib.optimizers.SGD(), initial_scale=8.0)
        assert float(optimizer.scale_loss(1.5)) == 12.0
    assert float(optimizers.SGD(loss_scale_factor=4.0).scale_loss(1.5)) == 6.0


def test_keras_file_round_trip(tmp_path):
    x = np.ones((8, 2), "float32")
    model = minikeras.Sequential([minikeras.Input((2,)), minikeras.layers.Dense(1)])
    model.compile(
        optimizers.LossScaleOptimizer(
            optimizers.RMSprop(), initial_scale=4.0, dynamic_growth_steps=2
        ),
        "mse",
    )
    model.fit(x, x[:, :1], batch_size=2, epochs=1, verbose=0)
    model.save(tmp_path / "m.keras")
    again = minikeras.saving.load_model(tmp_path / "m.keras")
    assert isinstance(again.optimizer, optimizers.LossScaleOptimizer)
    for a, b in zip(again.optimizer.variables, model.optimizer.variables):
        np.testing.assert_array_equal(a, b)
    assert float(again.optimizer.dynamic_scale) == 16.0  # 4 steps: doubled twice
