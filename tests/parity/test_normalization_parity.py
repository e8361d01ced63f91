"""BatchNormalization and LayerNormalization against Keras: configs, forward, dx and dweights in
both training modes (float64 and float32, tolerances derived in layer_twins.py), the moving
statistics after training calls and after a whole `fit(shuffle=False)`, `get_weights` order and
`.weights.h5` files both ways."""

import warnings

import numpy as np
import pytest
from layer_twins import as_json, assert_pairs_close, floatx, rel, run_both, twins

import minikeras
import minikeras.saving
from minikeras.parity.compare import tolerance

BN_CASES = [
    ({}, (3,)),
    ({"axis": 1}, (3, 2)),
    ({"axis": -1}, (2, 2, 3)),
    ({"axis": 2, "momentum": 0.5, "epsilon": 0.01}, (2, 3, 2)),
    ({"center": False}, (4,)),
    ({"scale": False, "moving_mean_initializer": "ones"}, (4,)),
    ({"center": False, "scale": False}, (2, 3)),
]
LN_CASES = [
    ({}, (4,)),
    ({"axis": 1}, (3, 2)),
    ({"axis": [1, 2]}, (3, 2)),
    ({"axis": [-2, -1], "epsilon": 0.1}, (2, 2, 3)),
    ({"center": False}, (4,)),
    ({"scale": False}, (2, 3)),
    ({"rms_scaling": True}, (5,)),
]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize(
    "class_name, kwargs, shape",
    [("BatchNormalization", k, s) for k, s in BN_CASES]
    + [("LayerNormalization", k, s) for k, s in LN_CASES],
)
def test_forward_and_gradients_match_keras(keras, class_name, kwargs, shape, training, dtype):
    rng = np.random.default_rng(len(shape) + len(kwargs))
    ours, theirs = twins(keras, class_name, kwargs, shape, rng, dtype)
    x = rng.normal(loc=1.5, scale=2.0, size=(6,) + shape)
    dy = rng.normal(size=x.shape)
    # two calls: the second one normalizes with moving statistics the first one moved
    run_both(keras, ours, theirs, x, dy, training)
    pairs = run_both(keras, ours, theirs, x[::-1] * 0.5, dy, training)
    assert_pairs_close(pairs, dtype)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("training", [True, False])
def test_batch_normalization_with_a_mask_matches_keras(keras, training, dtype):
    """Masked steps are left out of the batch statistics (Keras weighs them by the mask, with
    its 1e-7 added to the count); the output still covers every step."""
    rng = np.random.default_rng(3)
    ours, theirs = twins(keras, "BatchNormalization", {"momentum": 0.8}, (4, 3), rng, dtype)
    x = rng.normal(size=(5, 4, 3))
    mask = rng.random((5, 4)) > 0.4
    pairs = run_both(keras, ours, theirs, x, rng.normal(size=x.shape), training, mask=mask)
    assert_pairs_close(pairs, dtype)


@pytest.mark.parametrize(
    "class_name, kwargs, shape",
    [("BatchNormalization", k, s) for k, s in BN_CASES]
    + [("LayerNormalization", k, s) for k, s in LN_CASES],
)
def test_configs_and_weights_equal_keras(keras, class_name, kwargs, shape):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours = getattr(minikeras.layers, class_name)(name="norm", **kwargs)
        theirs = getattr(keras.layers, class_name)(name="norm", **kwargs)
    assert as_json(ours.get_config()) == as_json(theirs.get_config())  # before build
    ours.build((None,) + shape)
    theirs.build((None,) + shape)
    assert as_json(ours.get_config()) == as_json(theirs.get_config())  # after (LN's axis list)
    assert ours.weight_names == [w.name for w in theirs.weights]
    assert [w.shape for w in ours.weights] == [tuple(w.shape) for w in theirs.weights]
    assert [len(ours.trainable_weights), len(ours.non_trainable_weights)] == [
        len(theirs.trainable_weights),
        len(theirs.non_trainable_weights),
    ]
    for a, b in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_array_equal(a, b)  # the initializers' values


def test_frozen_batch_normalization_uses_moving_statistics_like_keras(keras):
    """trainable=False: Keras normalizes with the moving statistics even in a training call,
    and leaves them alone."""
    rng = np.random.default_rng(5)
    ours, theirs = twins(keras, "BatchNormalization", {}, (3,), rng)
    ours.trainable = theirs.trainable = False
    x = rng.normal(size=(4, 3))
    pairs = run_both(keras, ours, theirs, x, rng.normal(size=x.shape), training=True)
    assert set(pairs) == {"output", "dx", "gamma", "beta", "moving_mean", "moving_variance"}
    assert_pairs_close(pairs, "float64")


# ------------------------------------------------------------------ a whole fit
def bn_model(K, dtype):
    return K.Sequential(
        [
            K.Input(shape=(4,)),
            K.layers.Dense(6, use_bias=False, name="hidden"),  # BN's β is the bias
            K.layers.BatchNormalization(momentum=0.8, name="bn"),
            K.layers.Activation("relu", name="act"),
            K.layers.Dense(3, activation="softmax", name="out"),
        ],
        name="bn_model",
    )


@pytest.mark.parametrize("dtype, optimizer", [("float64", "adam"), ("float32", "sgd")])
def test_fit_with_batch_normalization_matches_keras(keras, dtype, optimizer):
    """History, every weight (moving statistics too), evaluate and predict after 3 epochs of
    `fit(shuffle=False)`, 4 batches each (the last one partial: batch statistics of 4 rows)."""
    rng = np.random.default_rng(11)
    x = rng.normal(loc=2.0, scale=3.0, size=(28, 4))
    y = np.eye(3)[rng.integers(0, 3, size=28)]
    with floatx(keras, dtype):
        ours, theirs = bn_model(minikeras, dtype), bn_model(keras, dtype)
        theirs.set_weights(ours.get_weights())
        for model in (ours, theirs):
            opt = {
                "sgd": ("SGD", {"learning_rate": 0.05, "momentum": 0.9}),
                "adam": ("Adam", {"learning_rate": 0.01}),
            }[optimizer]
            module = keras if model is theirs else minikeras
            model.compile(
                getattr(module.optimizers, opt[0])(**opt[1]),
                "categorical_crossentropy",
                metrics=["accuracy"],
            )
        h_ours = ours.fit(x, y, batch_size=8, epochs=3, shuffle=False, verbose=0).history
        h_theirs = theirs.fit(x, y, batch_size=8, epochs=3, shuffle=False, verbose=0).history
        steps = 12
        tol = tolerance(dtype, steps)
        assert sorted(h_ours) == sorted(h_theirs)
        for key in h_ours:
            assert rel(h_ours[key], h_theirs[key]) <= tol, key
        names = [f"{layer.name}/{w}" for layer in ours.layers for w in layer.weight_names]
        for name, a, b in zip(names, ours.get_weights(), theirs.get_weights()):
            assert rel(a, b) <= tol, name
        bn = ours.get_layer("bn")
        assert not np.allclose(bn.moving_mean, 0) and not np.allclose(bn.moving_variance, 1)
        assert rel(ours.predict(x, verbose=0), theirs.predict(x, verbose=0)) <= tol
        assert rel(ours.evaluate(x, y, verbose=0), theirs.evaluate(x, y, verbose=0)) <= tol


def test_model_weights_order_and_trainable_split_match_keras(keras):
    """get_weights, trainable_weights and non_trainable_weights list the same weights, in the
    same order, as Keras's (by path: layer/weight)."""
    with floatx(keras, "float32"):
        ours, theirs = bn_model(minikeras, "float32"), bn_model(keras, "float32")

    def paths(weights):  # Keras's paths start with the model's name when it is built at once
        return [w.path.removeprefix("bn_model/") for w in weights]

    def our_paths(trainable):
        return [
            f"{layer.name}/{w.name}"
            for layer in ours.layers
            for w in layer.weights
            if trainable is None or w.trainable == trainable
        ]

    assert our_paths(None) == paths(theirs.weights)
    assert our_paths(True) == paths(theirs.trainable_weights)
    assert our_paths(False) == paths(theirs.non_trainable_weights)
    assert [w.shape for w in ours.get_weights()] == [w.shape for w in theirs.get_weights()]
    assert len(ours.trainable_weights) == len(theirs.trainable_weights)
    assert len(ours.non_trainable_weights) == len(theirs.non_trainable_weights)
    assert ours.count_params() == theirs.count_params()


@pytest.mark.parametrize("direction", ["minikeras to keras", "keras to minikeras"])
def test_weights_files_with_batch_normalization_both_ways(keras, tmp_path, direction):
    path = str(tmp_path / "bn.weights.h5")
    rng = np.random.default_rng(2)
    with floatx(keras, "float32"):
        ours, theirs = bn_model(minikeras, "float32"), bn_model(keras, "float32")
        source, target = (ours, theirs) if direction == "minikeras to keras" else (theirs, ours)
        source.set_weights(
            [rng.normal(size=w.shape).astype("float32") for w in source.get_weights()]
        )
        source.save_weights(path)
        target.load_weights(path)
    for a, b in zip(source.get_weights(), target.get_weights()):
        np.testing.assert_array_equal(a, b)


def shared_graph(K):
    """A functional graph: one BatchNormalization called twice a step (its moving statistics
    move twice, in call order), LayerNormalization, PReLU and a final Softmax layer."""
    a = K.Input(shape=(4,), name="a")
    bn = K.layers.BatchNormalization(momentum=0.7, name="bn")
    h1 = bn(a)
    h2 = bn(K.layers.Dense(4, use_bias=False, name="d")(a))
    h = K.layers.Concatenate(name="cat")([h1, h2])
    h = K.layers.PReLU(name="prelu")(K.layers.LayerNormalization(name="ln")(h))
    out = K.layers.Softmax(name="sm")(K.layers.Dense(3, name="out")(h))
    return K.Model(a, out, name="shared_graph")


def test_functional_graph_with_a_shared_batch_normalization_matches_keras(keras, tmp_path):
    """float64 fit (History and weights within 1e-10), then `.keras` files both ways."""
    rng = np.random.default_rng(0)
    x = rng.normal(loc=1.0, size=(20, 4))
    y = np.eye(3)[rng.integers(0, 3, 20)]
    with floatx(keras, "float64"):
        ours, theirs = shared_graph(minikeras), shared_graph(keras)
        theirs.set_weights(ours.get_weights())
        for model, K in ((ours, minikeras), (theirs, keras)):
            model.compile(K.optimizers.Adam(0.01), "categorical_crossentropy")
        h_ours = ours.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0).history
        h_theirs = theirs.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0).history
        assert rel(h_ours["loss"], h_theirs["loss"]) <= tolerance("float64")
        for a, b in zip(ours.get_weights(), theirs.get_weights()):
            assert rel(a, b) <= tolerance("float64")
        ours.save(str(tmp_path / "ours.keras"))
        theirs.save(str(tmp_path / "theirs.keras"))
        loaded_by_keras = keras.saving.load_model(str(tmp_path / "ours.keras"))
        loaded_by_us = minikeras.saving.load_model(str(tmp_path / "theirs.keras"))
        for a, b in zip(ours.get_weights(), loaded_by_keras.get_weights()):
            np.testing.assert_array_equal(a, b)
        for a, b in zip(theirs.get_weights(), loaded_by_us.get_weights()):
            np.testing.assert_array_equal(a, b)
        assert rel(loaded_by_us.predict(x, verbose=0), theirs.predict(x, verbose=0)) <= 1e-10
