"""Depthwise and separable convolutions, adaptive pooling, Dot, and the noise and regularization
layers against real Keras on TensorFlow, with the same weights: each layer's output, dL/dx and
dL/dw (tf.GradientTape on L = Σ r ⊙ y for a fixed random r), configs, and a short
`fit(shuffle=False)` History.

Tolerances are the parity suite's (minikeras/parity/compare.py, docs/parity.md), normwise:
- float64: 1e-10. Each output or gradient entry is a sum of at most kh·kw·in ≤ 40 (depthwise),
  in·M ≤ 12 (pointwise), k ≤ 6 (Dot) or ≤ 200 (a weight gradient over batch positions) terms,
  added in a different order on each side: a few hundred roundings of 2⁻⁵³ at worst, < 1e-13.
- after k optimizer steps: the suite's `tolerance(dtype, k)` (1e-10 plus 1e-12 a step).
Random layers cannot draw TensorFlow's numbers; they are compared where that is possible: the
inference path (exact), the training output's statistics (GaussianNoise, GaussianDropout,
AlphaDropout: a few percent, from 10 000 draws), and the gradient given the same mask, read
off Keras's own training output.
"""

import numpy as np
import pytest
from layer_twins import as_json, assert_pairs_close, floatx, rel, run_both, twins

import minikeras
from minikeras.parity.compare import tolerance

rng = np.random.default_rng(11)

# (class name, arguments, input shape without the batch): every option once, odd sizes,
# strides that do not divide, strides with dilation (which TensorFlow's depthwise takes)
LAYER_CASES = [
    ("DepthwiseConv1D", dict(kernel_size=3, depth_multiplier=2), (7, 3)),
    (
        "DepthwiseConv1D",
        dict(kernel_size=2, strides=2, dilation_rate=2, padding="same", activation="tanh"),
        (9, 2),
    ),
    ("DepthwiseConv1D", dict(kernel_size=2, data_format="channels_first", use_bias=False), (3, 6)),
    ("DepthwiseConv2D", dict(kernel_size=(3, 2), depth_multiplier=3), (5, 6, 2)),
    (
        "DepthwiseConv2D",
        dict(kernel_size=3, strides=2, padding="same", activation="relu"),
        (6, 5, 3),
    ),
    ("DepthwiseConv2D", dict(kernel_size=2, data_format="channels_first"), (2, 5, 4)),
    ("SeparableConv1D", dict(filters=4, kernel_size=3, depth_multiplier=2), (8, 3)),
    (
        "SeparableConv1D",
        dict(filters=3, kernel_size=2, strides=2, padding="same", activation="sigmoid"),
        (7, 2),
    ),
    ("SeparableConv2D", dict(filters=5, kernel_size=2, dilation_rate=2), (6, 5, 2)),
    (
        "SeparableConv2D",
        dict(filters=2, kernel_size=3, data_format="channels_first", use_bias=False),
        (3, 5, 5),
    ),
    # Keras's long names for the separable classes
    ("SeparableConvolution1D", dict(filters=2, kernel_size=2, padding="same"), (5, 2)),
    ("SeparableConvolution2D", dict(filters=2, kernel_size=2, strides=2), (4, 5, 2)),
    ("AdaptiveAveragePooling1D", dict(output_size=3), (7, 2)),
    ("AdaptiveMaxPooling1D", dict(output_size=4), (9, 2)),
    ("AdaptiveAveragePooling2D", dict(output_size=(2, 3)), (5, 7, 2)),
    ("AdaptiveMaxPooling2D", dict(output_size=3, data_format="channels_first"), (2, 7, 5)),
    ("AdaptiveAveragePooling3D", dict(output_size=(2, 3, 2)), (4, 5, 3, 2)),
    ("AdaptiveMaxPooling3D", dict(output_size=2), (3, 4, 5, 2)),
]


@pytest.mark.parametrize("name, args, shape", LAYER_CASES)
def test_forward_and_gradients_match_tensorflow(keras, name, args, shape):
    # TensorFlow's CPU kernels pool 3-D windows in float32 only: those cases are float32,
    # where a mean of at most 4 inputs and a max are exact to a few units of 2⁻²⁴
    # largest measured: float64 4.3e-16, float32 8.5e-8
    dtype = "float32" if name.endswith("3D") else "float64"
    ours, theirs = twins(keras, name, args, shape, rng, dtype)
    x = rng.standard_normal((2, *shape))
    dy = rng.standard_normal(ours.compute_output_shape((2, *shape)))
    pairs = run_both(keras, ours, theirs, x, dy, training=True)
    assert assert_pairs_close(pairs, dtype) < tolerance(dtype)


@pytest.mark.parametrize("name, args, shape", LAYER_CASES)
def test_weights_and_config_are_keras_s(keras, name, args, shape):
    ours = getattr(minikeras.layers, name)(**args)
    theirs = getattr(keras.layers, name)(**args)
    ours.build((None, *shape))
    theirs.build((None, *shape))
    assert [(w.name, w.shape) for w in ours.weights] == [
        (w.name, tuple(w.shape)) for w in theirs.weights
    ]
    ours_config, theirs_config = ours.get_config(), theirs.get_config()
    ours_config.pop("name"), theirs_config.pop("name")
    assert as_json(ours_config) == as_json(theirs_config)
    assert list(ours_config) == list(theirs_config)  # Keras's key order too
    # each side builds the other's layer from its config
    getattr(keras.layers, name).from_config(ours.get_config())
    getattr(minikeras.layers, name).from_config(theirs.get_config())


# (axes, normalize, two input shapes without the batch): Keras's default axes, both signs,
# each input's own axis, higher ranks, and the cosine similarity (normalize=True)
DOT_CASES = [
    (-1, False, (4,), (4,)),
    (1, True, (5,), (5,)),
    (-1, False, (3, 4), (2, 4)),
    ((1, 2), False, (3, 4), (5, 3)),
    ((-2, -1), True, (3, 2), (1, 2, 3)),
    (2, True, (2, 3), (4, 3)),
]


@pytest.mark.parametrize("axes, normalize, shape1, shape2", DOT_CASES)
def test_dot_forward_and_gradients_match_tensorflow(keras, axes, normalize, shape1, shape2):
    import tensorflow as tf

    # largest measured: 2.9e-16
    x1, x2 = rng.standard_normal((3, *shape1)), rng.standard_normal((3, *shape2))
    with floatx(keras, "float64"):
        ours = minikeras.layers.Dot(axes=axes, normalize=normalize)
        theirs = keras.layers.Dot(axes=axes, normalize=normalize)
        y = ours([x1, x2])
        r = rng.standard_normal(y.shape)
        dx1, dx2 = ours.backward(r)
        t1, t2 = tf.Variable(x1), tf.Variable(x2)
        with tf.GradientTape() as tape:
            yk = theirs([t1, t2])
            loss = tf.reduce_sum(yk * r)
        g1, g2 = tape.gradient(loss, [t1, t2])
        assert ours.get_config() | {"name": None} == theirs.get_config() | {"name": None}
    assert y.shape == tuple(yk.shape)
    for a, b in [(y, yk), (dx1, g1), (dx2, g2)]:
        assert rel(a, b.numpy()) < tolerance("float64")


@pytest.mark.parametrize(
    "make",
    [
        lambda K: K.layers.Dot(axes=1)([np.ones((2, 3)), np.ones((2, 4))]),
        lambda K: K.layers.Dot(axes="1"),
        lambda K: K.layers.Dot(axes=(1, 2, 3)),
        lambda K: K.layers.Dot(axes=(1, 1.0)),
        lambda K: K.layers.DepthwiseConv2D(3, depth_multiplier=0),
        lambda K: K.layers.SeparableConv1D(0, 3),
        lambda K: K.layers.SeparableConv2D(2, (1, 0)),
        lambda K: K.layers.DepthwiseConv1D(2, padding="causal"),
        lambda K: K.layers.DepthwiseConv1D(5)(np.ones((1, 4, 2))),
        lambda K: K.layers.AdaptiveAveragePooling1D((2, 2)),
        lambda K: K.layers.AdaptiveMaxPooling2D(2.0),
        lambda K: K.layers.AdaptiveMaxPooling3D((2, 2)),
        lambda K: K.layers.AdaptiveAveragePooling2D(2, data_format="nhwc"),
        lambda K: K.layers.GaussianNoise(1.5),
        lambda K: K.layers.GaussianDropout(-0.1),
        lambda K: K.layers.AlphaDropout(2),
        lambda K: K.layers.Wrapper("not a layer"),
    ],
)
def test_bad_arguments_raise_keras_s_exception_type(keras, make):
    with pytest.raises(Exception) as theirs:
        make(keras)
    with pytest.raises(type(theirs.value)):
        make(minikeras)


# ---------------------------------------------------------------- the random layers
@pytest.mark.parametrize(
    "name, args",
    [
        ("GaussianNoise", dict(stddev=0.3)),
        ("GaussianDropout", dict(rate=0.3)),
        ("AlphaDropout", dict(rate=0.3)),
        ("ActivityRegularization", dict(l1=0.1, l2=0.2)),
        ("Identity", {}),
        ("SpatialDropout3D", dict(rate=0.4)),
    ],
)
def test_inference_path_and_config_are_keras_s(keras, name, args):
    x = rng.standard_normal((2, 3, 4, 2, 3)).astype(np.float32)
    ours, theirs = getattr(minikeras.layers, name)(**args), getattr(keras.layers, name)(**args)
    np.testing.assert_array_equal(ours(x), np.asarray(theirs(x)))
    ours_config, theirs_config = ours.get_config(), theirs.get_config()
    ours_config.pop("name"), theirs_config.pop("name")
    assert as_json(ours_config) == as_json(theirs_config)
    assert ours.built == theirs.built and ours.supports_masking == theirs.supports_masking


@pytest.mark.parametrize(
    "name, args, x, mean, std",
    [
        # y = x + N(0, 0.3²) on zeros: mean 0, std 0.3
        ("GaussianNoise", dict(stddev=0.3), np.zeros((100, 100)), 0.0, 0.3),
        # y = x·N(1, rate/(1 − rate)) on ones: mean 1, std √(0.3/0.7)
        ("GaussianDropout", dict(rate=0.3), np.ones((100, 100)), 1.0, np.sqrt(0.3 / 0.7)),
        # on N(0, 1) inputs AlphaDropout keeps mean 0 and variance 1
        ("AlphaDropout", dict(rate=0.3), rng.standard_normal((100, 100)), 0.0, 1.0),
    ],
)
def test_training_output_statistics_are_keras_s(keras, name, args, x, mean, std):
    # 10 000 draws: the sample mean is off by ~std/100, the sample std by ~std/140; 0.03 is
    # more than 4 such deviations for every case
    ours = getattr(minikeras.layers, name)(seed=1, **args)(x.astype(np.float32), training=True)
    theirs = np.asarray(
        getattr(keras.layers, name)(seed=1, **args)(x.astype(np.float32), training=True)
    )
    for y in (ours, theirs):
        assert abs(y.mean() - mean) < 0.03 and abs(y.std() - std) < 0.03
    assert ours.dtype == theirs.dtype


def test_gaussian_dropout_gradient_given_keras_s_noise(keras):
    """Keras's noise is its training output over its input; given that same noise, the
    hand-written backward is TensorFlow's gradient."""
    import tensorflow as tf

    x = rng.uniform(0.5, 1.5, (4, 5))
    r = rng.standard_normal((4, 5))
    with floatx(keras, "float64"):
        theirs = keras.layers.GaussianDropout(0.4, seed=3)
        t = tf.Variable(x)
        with tf.GradientTape() as tape:
            y = theirs(t, training=True)
            loss = tf.reduce_sum(y * r)
        expected = tape.gradient(loss, t).numpy()
        ours = minikeras.layers.GaussianDropout(0.4)
        ours(x, training=True)
        ours.noise = y.numpy() / x  # the same noise as Keras's call
        assert rel(ours.backward(r), expected) < tolerance("float64")


def test_alpha_dropout_gradient_given_keras_s_mask(keras):
    """The dropped units of Keras's output sit at a·α' + b; given that same mask, the
    hand-written backward (a·keep ⊙ dy) is TensorFlow's gradient."""
    import tensorflow as tf

    from minikeras.layers.alpha_dropout import SELU_ALPHA, SELU_SCALE

    rate = 0.4
    x = rng.standard_normal((6, 5))
    r = rng.standard_normal((6, 5))
    with floatx(keras, "float64"):
        theirs = keras.layers.AlphaDropout(rate, seed=3)
        t = tf.Variable(x)
        with tf.GradientTape() as tape:
            y = theirs(t, training=True)
            loss = tf.reduce_sum(y * r)
        expected = tape.gradient(loss, t).numpy()
        ours = minikeras.layers.AlphaDropout(rate)
        ours(x, training=True)
        alpha_p = -SELU_ALPHA * SELU_SCALE
        a = ((1 - rate) * (1 + rate * alpha_p**2)) ** -0.5
        dropped = np.isclose(y.numpy(), a * alpha_p - a * alpha_p * rate, rtol=0, atol=1e-12)
        assert 0 < dropped.sum() < dropped.size  # some kept, some dropped
        ours.keep = (~dropped).astype(np.float64)
        assert rel(ours.backward(r), expected) < tolerance("float64")


def test_activity_regularization_loss_is_keras_s(keras):
    x = rng.standard_normal((3, 4)).astype(np.float32)
    ours = minikeras.layers.ActivityRegularization(0.1, 0.2)
    theirs = keras.layers.ActivityRegularization(0.1, 0.2)
    ours(x), theirs(x)
    assert len(ours.losses) == len(theirs.losses) == 1
    assert rel(ours.losses[0], np.asarray(theirs.losses[0])) < 1e-6  # float32 sums of 12 terms


# ---------------------------------------------------------------- models: gradients and fit
def separable_convnet(K):
    return K.Sequential(
        [
            K.Input((9, 8, 2)),
            K.layers.DepthwiseConv2D(3, depth_multiplier=2, activation="tanh"),
            K.layers.SeparableConv2D(4, 2, padding="same", activation="relu"),
            K.layers.AdaptiveAveragePooling2D((2, 3)),
            K.layers.Flatten(),
            K.layers.ActivityRegularization(l2=0.01),
            K.layers.Dense(3, activation="softmax"),
        ]
    )


def sequence_dot(K):
    x = K.Input((7, 3))
    a = K.layers.SeparableConv1D(4, 3, depth_multiplier=2, activation="tanh")(x)
    b = K.layers.DepthwiseConv1D(3, depth_multiplier=2)(K.layers.GaussianNoise(0.1)(x))
    scores = K.layers.Dot(axes=1, normalize=True)([a, K.layers.AdaptiveMaxPooling1D(5)(b)])
    y = K.layers.Dense(3, activation="softmax")(K.layers.Flatten()(scores))
    return K.Model(x, y)


@pytest.mark.parametrize(
    "build, shape, optimizer",
    [(separable_convnet, (9, 8, 2), "rmsprop"), (sequence_dot, (7, 3), "adam")],
)
def test_fit_history_and_weights_match_keras(keras, build, shape, optimizer):
    """GaussianNoise is the identity outside training, and in these models only its training
    noise cannot be compared: `sequence_dot` trains with stddev 0.1 on both sides only after
    its noise is set to 0 here, so that both fits see the same function."""
    # largest measured (weights after 9 steps): 2.9e-15; History 3.8e-16
    x = rng.standard_normal((24, *shape))
    y = np.eye(3)[rng.integers(0, 3, 24)]
    with floatx(keras, "float64"):
        ours, theirs = build(minikeras), build(keras)
        for model in (ours, theirs):
            for layer in model.layers:
                if type(layer).__name__ == "GaussianNoise":
                    layer.stddev = 0.0  # see the docstring
        theirs.set_weights(ours.get_weights())
        for model in (ours, theirs):
            model.compile(optimizer=optimizer, loss="categorical_crossentropy")
        fit = dict(epochs=3, batch_size=8, shuffle=False, verbose=0)
        ours_history = ours.fit(x, y, **fit).history
        theirs_history = theirs.fit(x, y, **fit).history
    steps = 9
    for key, values in theirs_history.items():
        assert rel(ours_history[key], values) < tolerance("float64", steps), key
    for w, v in zip(ours.get_weights(), theirs.get_weights()):
        assert rel(w, v) < tolerance("float64", steps)


def test_keras_files_both_ways(keras, tmp_path):
    """A model saved by one library opens in the other and predicts the same (float32: one
    pass of the sums above at 2⁻²⁴, 1e-5)."""
    x = rng.standard_normal((6, 7, 3)).astype(np.float32)
    with floatx(keras, "float32"):
        ours, theirs = sequence_dot(minikeras), sequence_dot(keras)
        ours.compile(optimizer="adam", loss="categorical_crossentropy")
        ours.fit(x, np.eye(3)[[0, 1, 2, 0, 1, 2]], epochs=1, batch_size=3, verbose=0)
        ours.save(tmp_path / "ours.keras")
        opened = keras.saving.load_model(tmp_path / "ours.keras")
        assert rel(opened.predict(x, verbose=0), ours.predict(x, verbose=0)) < tolerance("float32")
        theirs.save(tmp_path / "theirs.keras")
        back = minikeras.models.load_model(tmp_path / "theirs.keras")
        assert [type(layer).__name__ for layer in back.layers] == [
            type(layer).__name__ for layer in theirs.layers
        ]
        assert rel(back.predict(x, verbose=0), theirs.predict(x, verbose=0)) < tolerance("float32")


def regularized(K):
    return K.Sequential(
        [
            K.Input((6, 5, 2)),
            K.layers.SeparableConv2D(
                3,
                2,
                depth_multiplier=2,
                depthwise_regularizer="l2",
                pointwise_regularizer="l1",
                bias_regularizer="l2",
                activity_regularizer="l2",
            ),
            K.layers.DepthwiseConv2D(2, depthwise_regularizer="l1", bias_regularizer="l1"),
            K.layers.Flatten(),
            K.layers.Dense(3, activation="softmax"),
        ]
    )


def test_regularized_loss_and_gradients_match_keras(keras):
    """Every penalty (weights' and output's) in the loss and in dL/dw, against
    tf.GradientTape on Keras's `compute_loss` (which adds `model.losses`), float64."""
    import tensorflow as tf

    # largest measured: 5.7e-16
    x = rng.standard_normal((4, 6, 5, 2))
    y = np.eye(3)[[0, 1, 2, 1]]
    with floatx(keras, "float64"):
        ours, theirs = regularized(minikeras), regularized(keras)
        theirs.set_weights(ours.get_weights())
        for model in (ours, theirs):
            model.compile(optimizer="sgd", loss="categorical_crossentropy")
        ours_x, ours_y, _ = ours.prepare_data(x, y)
        _, loss, grads = ours.compute_gradients(ours_x, ours_y)
        with tf.GradientTape() as tape:
            theirs_loss = theirs.compute_loss(x=x, y=y, y_pred=theirs(x, training=True))
        theirs_grads = tape.gradient(theirs_loss, theirs.trainable_weights)
    assert rel(loss, theirs_loss.numpy()) < tolerance("float64")
    assert len(grads) == len(theirs_grads) == 7
    for g, gk in zip(grads, theirs_grads):
        assert rel(g, gk.numpy()) < tolerance("float64")


@pytest.mark.parametrize(
    "name, args",
    [
        ("GaussianNoise", dict(stddev=0.1)),
        ("GaussianNoise", dict(stddev=0.0)),
        ("GaussianDropout", dict(rate=0.2)),
        ("AlphaDropout", dict(rate=0.3)),
        ("AlphaDropout", dict(rate=0.0)),
    ],
)
def test_noise_layers_hold_a_seed_generator_where_keras_s_do(keras, name, args):
    """One SeedGenerator (its state among `variables`, not among the weights) when there is
    noise to draw, none otherwise, as Keras's."""
    ours, theirs = getattr(minikeras.layers, name)(**args), getattr(keras.layers, name)(**args)
    assert len(ours.variables) == len(theirs.variables)
    assert len(ours.weights) == len(theirs.weights) == 0
