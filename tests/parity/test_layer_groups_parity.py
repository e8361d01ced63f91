"""Behaviours of the core, pooling, normalization and activation layers that Keras's own layer
tests pin down, each compared with Keras itself: which layers take masks, which take inputs of
any rank after their first call, and the errors of a mask that does not fit.

Values are compared in float64 within the parity suite's 1e-10 (one elementwise pass or one
short normalization: a few roundings at 2⁻⁵³ on each side).
"""

import warnings

import numpy as np
import pytest
from layer_twins import floatx, rel

import minikeras
from minikeras.parity.compare import tolerance


def test_supports_masking_as_keras(keras):
    """Every layer both libraries build without arguments agrees on `supports_masking` (the
    global poolings other than GlobalAveragePooling1D take no mask in Keras)."""
    compared = []
    for name in sorted(dir(minikeras.layers)):
        ours_cls, keras_cls = getattr(minikeras.layers, name), getattr(keras.layers, name, None)
        if not (isinstance(ours_cls, type) and issubclass(ours_cls, minikeras.layers.Layer)):
            continue
        if keras_cls is None:
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                ours, theirs = ours_cls(), keras_cls()
            except (TypeError, ValueError):
                continue  # a layer with required arguments
        assert ours.supports_masking == theirs.supports_masking, name
        compared.append(name)
    assert {"GlobalMaxPooling1D", "GlobalAveragePooling1D", "GlobalAveragePooling3D"} <= set(
        compared
    )


@pytest.mark.parametrize(
    "class_name, kwargs",
    [("ReLU", {}), ("LeakyReLU", {}), ("ELU", {}), ("Softmax", {}), ("LayerNormalization", {})],
)
def test_layers_take_any_rank_after_their_first_call_as_keras(keras, class_name, kwargs):
    """Keras gives these layers no InputSpec: called (or built) on 2-D inputs, they still run
    on 3-D and 4-D ones that keep the last axis."""
    rng = np.random.default_rng(1)
    with floatx(keras, "float64"):
        ours = getattr(minikeras.layers, class_name)(**kwargs)
        theirs = getattr(keras.layers, class_name)(**kwargs)
        for shape in ((2, 4), (2, 3, 4), (5, 2, 3, 4)):
            x = rng.normal(size=shape)
            assert rel(ours(x), np.asarray(theirs(x))) < tolerance("float64")


@pytest.mark.parametrize(
    "mask",
    [np.array([[1.0, 0.0, 1.0], [0.0, 1.0, 0.0]]), np.array([[[1.0, 0.0, 1.0]]])],
    ids=["larger", "more axes"],
)
def test_softmax_refuses_a_mask_that_does_not_broadcast_as_keras(keras, mask):
    x = np.array([[1.0, 2.0, 1.0]])
    with pytest.raises(ValueError) as theirs:
        keras.layers.Softmax()(x, mask=mask)
    layer = minikeras.layers.Softmax()
    with pytest.raises(ValueError) as ours:
        layer(x, mask=mask)
    assert str(ours.value) in str(theirs.value)  # Keras wraps it in the call's context
    assert not hasattr(layer, "x")  # refused before anything was kept


@pytest.mark.parametrize(
    "axis, shape, mask_shape",
    [(1, (4, 3, 2, 2), (4, 3, 2)), (1, (5, 2, 3), (5, 2)), (-1, (2, 2, 3, 4), (2, 2, 1))],
)
def test_batch_normalization_with_a_mask_on_any_axis_as_keras(keras, axis, shape, mask_shape):
    """Keras broadcasts the mask along the input's last axis whatever the channel axis, so
    with axis=1 each channel has its own weights; a mask of size 1 on an axis covers it. The
    training output, dL/dx, dL/dγ, dL/dβ and the moving statistics, against Keras."""
    import tensorflow as tf

    rng = np.random.default_rng(4)
    x = rng.normal(2.0, 3.0, size=shape)
    mask = rng.random(mask_shape) > 0.3
    dy = rng.normal(size=shape)
    with floatx(keras, "float64"):
        ours = minikeras.layers.BatchNormalization(axis=axis, momentum=0.5)
        theirs = keras.layers.BatchNormalization(axis=axis, momentum=0.5)
        ours.build(shape)
        theirs.build(shape)
        weights = [rng.normal(size=w.shape) for w in ours.get_weights()[:2]]
        ours.set_weights(weights + ours.get_weights()[2:])
        theirs.set_weights(weights + ours.get_weights()[2:])
        y = ours(x, mask=mask, training=True)
        ours.input_gradient_needed = True
        dx = ours.backward(dy)
        x_t = tf.Variable(x)
        with tf.GradientTape() as tape:
            y_t = theirs(x_t, mask=tf.constant(mask), training=True)
            loss = tf.reduce_sum(y_t * dy)
        grads = tape.gradient(loss, [x_t, *theirs.trainable_weights])
        pairs = [(y, y_t), (dx, grads[0]), *zip(ours.grads, grads[1:])]
        pairs += list(zip(ours.get_weights()[2:], theirs.get_weights()[2:]))
        for mine, keras_value in pairs:
            assert rel(mine, np.asarray(keras_value)) < tolerance("float64")


@pytest.mark.parametrize(
    "kwargs",
    [{}, {"renorm_clipping": {"rmax": 1.2, "rmin": 0.9, "dmax": 0.1}, "center": False}],
)
def test_batch_renormalization_as_keras(keras, kwargs):
    """renorm=True: three training calls (the corrections r, d from statistics that moved),
    each output and dL/dx, dL/dγ, dL/dβ, then every one of the seven weights and an
    inference call, against Keras."""
    import tensorflow as tf

    rng = np.random.default_rng(6)
    with floatx(keras, "float64"):
        args = {"renorm": True, "momentum": 0.8, "renorm_momentum": 0.6, **kwargs}
        ours = minikeras.layers.BatchNormalization(**args)
        theirs = keras.layers.BatchNormalization(**args)
        ours.build((None, 3, 4))
        theirs.build((None, 3, 4))
        assert ours.weight_names == [w.path.split("/")[-1] for w in theirs.weights]
        for _ in range(3):
            x, dy = rng.normal(1.0, 2.0, size=(5, 3, 4)), rng.normal(size=(5, 3, 4))
            y = ours(x, training=True)
            ours.input_gradient_needed = True
            dx = ours.backward(dy)
            x_t = tf.Variable(x)
            with tf.GradientTape() as tape:
                y_t = theirs(x_t, training=True)
                loss = tf.reduce_sum(y_t * dy)
            grads = tape.gradient(loss, [x_t, *theirs.trainable_weights])
            for mine, keras_value in [(y, y_t), (dx, grads[0]), *zip(ours.grads, grads[1:])]:
                assert rel(mine, np.asarray(keras_value)) < tolerance("float64")
        for mine, keras_value in zip(ours.get_weights(), theirs.get_weights()):
            assert rel(mine, keras_value) < tolerance("float64")
        assert rel(ours(x), np.asarray(theirs(x))) < tolerance("float64")
        assert ours.get_config() == theirs.get_config() | {"name": ours.name}


def _mask_recorder(lib, seen):
    """A layer of yours that reads the mask and gives its output shape: each library's class."""

    class MaskRecorder(lib.layers.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.supports_masking = True

        def compute_output_shape(self, input_shape):
            return input_shape

        def call(self, inputs, mask=None):
            seen.append(np.asarray(mask))
            return inputs

    return MaskRecorder()


def test_a_layer_with_compute_output_shape_is_called_on_data_only_as_keras(keras):
    """After Masking in a Sequential model, a layer of yours with `compute_output_shape` is
    called once, on the data with its true mask: Keras takes the symbolic shape from
    `compute_output_shape` and never calls the layer on placeholders."""
    x = np.array([[[0.0, 0.0], [1.0, 2.0], [0.0, 0.0]], [[2.0, 2.0], [0.0, 0.0], [2.0, 1.0]]])
    seen = {"ours": [], "theirs": []}
    for lib, key in ((minikeras, "ours"), (keras, "theirs")):
        model = lib.Sequential([lib.layers.Masking(0.0), _mask_recorder(lib, seen[key])])
        model(x)
    assert len(seen["ours"]) == len(seen["theirs"]) == 1
    np.testing.assert_array_equal(seen["ours"][0], seen["theirs"][0])


def test_lambda_with_a_fixed_mask_has_keras_config(keras):
    """A Lambda's mask given as an array is written as Keras writes it ("__numpy__"), so the
    config is JSON; minikeras reads the array back from it."""
    mask = np.ones((2, 3))
    ours = minikeras.layers.Lambda(minikeras.ops.square, mask=mask)
    theirs = keras.layers.Lambda(keras.ops.square, mask=mask)
    assert ours.get_config()["mask"] == theirs.get_config()["mask"]
    revived = minikeras.layers.Lambda.from_config(
        ours.get_config(), custom_objects={"square": minikeras.ops.square}
    )
    np.testing.assert_array_equal(revived.compute_mask(np.ones((2, 3, 4))), mask)


def test_input_layer_call_takes_nothing_as_keras(keras):
    assert minikeras.layers.InputLayer(shape=(3,)).call() is None
    assert keras.layers.InputLayer(shape=(3,)).call() is None


@pytest.mark.parametrize("class_name", ["Dropout", "SpatialDropout1D"])
@pytest.mark.parametrize("rate", [0.0, 0.3])
def test_dropout_keeps_a_seed_generator_as_keras(keras, class_name, rate):
    """A dropout layer that drops anything keeps a SeedGenerator: its state is one variable
    (not a weight); two layers given the same seed draw the same masks."""
    ours = getattr(minikeras.layers, class_name)(rate, seed=7)
    theirs = getattr(keras.layers, class_name)(rate, seed=7)
    assert len(ours.variables) == len(theirs.variables) == (rate > 0)
    assert ours.weights == [] and theirs.weights == []
    x = np.ones((4, 5, 6))
    again = getattr(minikeras.layers, class_name)(rate, seed=7)
    np.testing.assert_array_equal(ours(x, training=True), again(x, training=True))
