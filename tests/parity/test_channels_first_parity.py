"""data_format='channels_first' against real Keras on TensorFlow, with the same weights: the
output, dL/dx and dL/dw (tf.GradientTape) of each layer that takes it, and configs.

TensorFlow's CPU kernels refuse channels_first convolutions ("Conv2DCustomBackpropInputOp only
supports NHWC"), so the Keras side is the same layer in channels_last on the transposed input,
its results transposed back: what channels_first means (and what Keras computes where it
runs). Configs are compared with Keras's own channels_first layers.

minikeras transposes a channels_first input to channels-last, runs the same kernels, and
transposes the results back, so the numbers are those of the channels-last layer: the
tolerances are test_conv_parity.py's (float64 1e-10, float32 1e-5, derived there).
"""

import json

import numpy as np
import pytest
from test_conv_parity import floatx, make, rel

import minikeras
from minikeras.parity.compare import tolerance

rng = np.random.default_rng(11)

# (class name, arguments, channels_first input shape)
CASES = [
    ("Conv2D", dict(filters=4, kernel_size=3, activation="relu"), (2, 3, 7, 6)),
    ("Conv2D", dict(filters=4, kernel_size=(3, 2), strides=2, padding="same"), (2, 2, 7, 8)),
    ("Conv1D", dict(filters=3, kernel_size=3, dilation_rate=2), (2, 2, 9)),
    ("Conv2DTranspose", dict(filters=2, kernel_size=3, strides=2), (2, 3, 4, 5)),
    ("Conv1DTranspose", dict(filters=2, kernel_size=3, strides=2), (2, 3, 5)),
    ("MaxPooling2D", dict(pool_size=2, padding="same"), (2, 3, 5, 5)),
    ("MaxPooling1D", dict(pool_size=2), (2, 3, 7)),
    ("AveragePooling2D", dict(pool_size=(2, 3), strides=1), (2, 2, 5, 6)),
    ("AveragePooling1D", dict(pool_size=3, padding="same"), (2, 2, 7)),
    ("GlobalMaxPooling2D", dict(), (2, 3, 4, 5)),
    ("GlobalAveragePooling2D", dict(keepdims=True), (2, 3, 4, 5)),
    ("GlobalAveragePooling1D", dict(), (2, 3, 6)),
    ("GlobalMaxPooling1D", dict(keepdims=True), (2, 3, 6)),
    ("Flatten", dict(), (2, 3, 4, 5)),
    ("ZeroPadding2D", dict(padding=((1, 2), (0, 1))), (2, 3, 4, 5)),
    ("Cropping2D", dict(cropping=((1, 0), (1, 2))), (2, 3, 4, 5)),
    ("UpSampling2D", dict(size=(2, 3)), (2, 3, 2, 2)),
    ("BatchNormalization", dict(axis=1), (4, 3, 2, 2)),
]
IDS = [f"{name}-{i}" for i, (name, _, _) in enumerate(CASES)]


def first_layer(name, args):
    extra = {"axis": 1} if name == "BatchNormalization" else {"data_format": "channels_first"}
    return make(minikeras, name, {**args, **extra})


def to_last(a):
    return np.moveaxis(np.asarray(a), 1, -1) if np.ndim(a) > 2 else np.asarray(a)


def to_first(a):
    return np.moveaxis(np.asarray(a), -1, 1) if np.ndim(a) > 2 else np.asarray(a)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name, args, shape", CASES, ids=IDS)
def test_channels_first_layers_match_tensorflow(keras, dtype, name, args, shape):
    import tensorflow as tf

    with floatx(keras, dtype):
        layer = first_layer(name, args)
        x = rng.standard_normal(shape).astype(dtype)
        y = layer(x)
        r = rng.standard_normal(y.shape).astype(dtype)
        layer.input_gradient_needed = True
        dx = layer.backward(r)
        config = layer.get_config()
        config.update({"axis": -1} if name == "BatchNormalization" else {"data_format": None})
        twin = getattr(keras.layers, name).from_config(config)
        twin.build(to_last(x).shape)
        twin.set_weights(layer.get_weights())
        x_tf = tf.constant(to_last(x))
        with tf.GradientTape() as tape:
            tape.watch(x_tf)
            y_tf = twin(x_tf)
            total = tf.reduce_sum(y_tf * to_last(r))
        grads = tape.gradient(total, [x_tf] + twin.trainable_weights)
        pairs = [(y, to_first(y_tf)), (dx, to_first(grads[0]))]
        pairs += [(g, t.numpy()) for g, t in zip(layer.grads, grads[1:])]
        assert len(layer.grads) == len(twin.trainable_weights)
        for ours, theirs in pairs:
            assert ours.shape == theirs.shape
            assert rel(ours, theirs) < tolerance(dtype)


@pytest.mark.parametrize("name, args, shape", CASES, ids=IDS)
def test_channels_first_configs_equal_keras_configs(keras, name, args, shape):
    extra = {"axis": 1} if name == "BatchNormalization" else {"data_format": "channels_first"}
    with floatx(keras, "float32"):
        ours = make(minikeras, name, {**args, **extra}).get_config()
        theirs = make(keras, name, {**args, **extra}).get_config()
        assert json.loads(json.dumps(ours)) == json.loads(json.dumps(theirs))


def test_channels_first_is_the_channels_last_layer_transposed():
    """Without Keras: the same weights give the transposed output and input gradient."""
    x = rng.standard_normal((2, 3, 6, 5))
    first = minikeras.layers.Conv2D(4, 3, strides=2, padding="same", data_format="channels_first")
    last = minikeras.layers.Conv2D(4, 3, strides=2, padding="same")
    y_first = first(x)
    last.build((None, 6, 5, 3))
    last.set_weights(first.get_weights())
    y_last = last(np.moveaxis(x, 1, -1))
    np.testing.assert_allclose(y_first, np.moveaxis(y_last, -1, 1), rtol=1e-6)
    dy = rng.standard_normal(y_first.shape).astype("float32")
    dx_first = first.backward(dy)
    dx_last = last.backward(np.ascontiguousarray(np.moveaxis(dy, 1, -1)))
    np.testing.assert_allclose(dx_first, np.moveaxis(dx_last, -1, 1), rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="expected axis 1 of input shape to have value 3"):
        first(np.zeros((2, 4, 6, 5), "float32"))
