"""TensorFlow's tensors given to minikeras, as keras.io's scripts give them to Keras.

Keras on TensorFlow takes a `tf.Tensor` wherever it takes a tensor; minikeras converts one to
the array it holds, as `ops.convert_to_tensor` does (dtype kept). Its tape cannot see
TensorFlow's operations: a gradient asked through them is refused with a TypeError that says
so, before any weight changes, where zeros would train the model wrongly.

Tolerance: float64, a forward pass or one SGD step of a few small products: rounding only
(~1e-16 per operation), compared at 1e-10 relative like the other float64 parity tests.
"""

import numpy as np
import pytest

import minikeras
from minikeras import ops

RTOL = 1e-10


@pytest.fixture
def tf(keras):
    import tensorflow

    from minikeras.parity.keras_env import floatx

    with floatx("float64"):
        yield tensorflow


def close(ours, theirs):
    np.testing.assert_allclose(np.asarray(ours), np.asarray(theirs), rtol=RTOL, atol=1e-12)


class TfRelu:
    """A layer whose call is TensorFlow's ReLU (keras.io's researchers' guide writes these)."""

    @staticmethod
    def make(lib, tf):
        class Layer(lib.layers.Layer):
            def call(self, x):
                return tf.nn.relu(x)

        return Layer()


def tf_model(lib, tf):
    inputs = lib.Input((3,))
    hidden = lib.layers.Dense(4)(inputs)
    return lib.Model(inputs, lib.layers.Dense(2)(TfRelu.make(lib, tf)(hidden)))


def test_tf_tensors_in_calls_predict_and_fit_as_in_keras(tf, keras):
    x = tf.constant(np.random.default_rng(0).normal(size=(6, 3)))
    y = tf.constant([0, 1, 1, 0, 1, 0])
    ours, theirs = tf_model(minikeras, tf), tf_model(keras, tf)
    ours.set_weights([np.asarray(w) for w in theirs.get_weights()])
    # the model's output is an array, though the layer before the last returns a tf.Tensor
    assert isinstance(ours(x), np.ndarray)
    close(ours(x), theirs(x))
    close(ours.predict(x, verbose=0), theirs.predict(x, verbose=0))
    layer = minikeras.layers.Dense(2)
    assert isinstance(layer(x), np.ndarray) and layer(x).dtype == "float64"
    ours, theirs = (
        lib.Sequential([lib.Input((3,)), lib.layers.Dense(2, activation="softmax")])
        for lib in (minikeras, keras)
    )
    ours.set_weights([np.asarray(w) for w in theirs.get_weights()])
    for model, lib in ((ours, minikeras), (theirs, keras)):
        model.compile(lib.optimizers.SGD(0.1), "sparse_categorical_crossentropy")
        model.fit(x, y, batch_size=3, shuffle=False, verbose=0)
    for a, b in zip(ours.get_weights(), theirs.get_weights(), strict=True):
        close(a, b)


def test_a_tf_tensor_keeps_its_dtype_in_convert_to_tensor_as_in_keras(tf, keras):
    for value in (tf.ones(2, dtype="float64"), tf.ones(2, dtype="int64"), tf.ones(2)):
        ours, theirs = ops.convert_to_tensor(value), keras.ops.convert_to_tensor(value)
        assert ours.dtype == theirs.dtype.name
        close(ours, theirs)


def test_a_watched_tf_tensor_gets_its_gradient_through_ops(tf):
    rng = np.random.default_rng(1)
    a, b = tf.constant(rng.normal(size=(2, 2))), tf.constant(rng.normal(size=(2, 2)))
    with minikeras.GradientTape() as tape:
        tape.watch(a)  # refused before: "not a tensor or a variable"
        c = ops.sqrt(ops.square(a) + ops.square(b))
    ours = tape.gradient(c, a)
    with tf.GradientTape() as tf_tape:
        tf_tape.watch(a)
        c = tf.sqrt(tf.square(a) + tf.square(b))
    close(ours, tf_tape.gradient(c, a))


def test_a_gradient_through_tf_operations_is_refused(tf):
    a = tf.constant([[1.0, 2.0]], dtype="float64")
    with minikeras.GradientTape() as tape:
        tape.watch(a)
        c = tf.square(a)
    with pytest.raises(TypeError, match="went through tensorflow's operations"):
        tape.gradient(c, a)


def test_tf_gradients_given_to_the_optimizer_as_in_keras(tf, keras):
    weights = np.array([1.0, 2.0, 3.0])
    gradient = tf.constant([0.5, -1.0, 2.0], dtype="float64")
    ours, theirs = minikeras.Variable(weights.copy()), keras.Variable(weights.copy())
    minikeras.optimizers.SGD(0.1).apply_gradients([(gradient, ours)])
    keras.optimizers.SGD(0.1).apply_gradients([(gradient, theirs)])
    close(ours, theirs)


def standardized_conv(lib, tf):
    """keras.io's subclassing_conv_layers recipe as written there, with TensorFlow's ops."""

    class WithOverride(lib.layers.Conv2D):
        def convolution_op(self, inputs, kernel):
            mean, var = tf.nn.moments(kernel, axes=[0, 1, 2], keepdims=True)
            kernel = (kernel - mean) / tf.sqrt(var + 1e-10)
            return tf.nn.conv2d(inputs, kernel, padding="VALID", strides=list(self.strides))

    class WithCall(lib.layers.Conv2D):
        def call(self, inputs):
            mean, var = tf.nn.moments(self.kernel, axes=[0, 1, 2], keepdims=True)
            kernel = (self.kernel - mean) / tf.sqrt(var + 1e-10)
            return self.convolution_op(inputs, kernel) + self.bias

    return WithCall, WithOverride


def standardized_convnet(lib, tf, last):
    """WithCall, then WithOverride; `last` cuts the model after the first of them."""
    with_call, with_override = standardized_conv(lib, tf)
    convolutions = [with_call(2, 3, activation="relu"), lib.layers.MaxPooling2D(2)]
    if last == "with_override":
        convolutions.append(with_override(2, 2, activation="relu"))
    return lib.Sequential(
        [
            lib.Input((6, 6, 1)),
            *convolutions,
            lib.layers.Flatten(),
            lib.layers.Dense(2, activation="softmax"),
        ]
    )


@pytest.mark.parametrize("last", ["with_override", "with_call"])
def test_a_convolution_written_with_tf_ops_predicts_as_in_keras_and_refuses_to_train(
    tf, keras, last
):
    ours, theirs = standardized_convnet(minikeras, tf, last), standardized_convnet(keras, tf, last)
    ours.set_weights([np.asarray(w) for w in theirs.get_weights()])
    rng = np.random.default_rng(2)
    x, y = rng.normal(size=(4, 6, 6, 1)), rng.integers(0, 2, 4)
    close(ours.predict(x, verbose=0), theirs.predict(x, verbose=0))
    ours.compile("sgd", "sparse_categorical_crossentropy")
    before = [w.copy() for w in ours.get_weights()]
    # the last of them is the first the backward meets (before: MaxPooling2D's "cannot
    # reshape array of size 1", or zeros for WithCall's kernel)
    with pytest.raises(TypeError, match=rf"layer '{last}.*' \(.*\) went through tensorflow's"):
        ours.fit(x, y, verbose=0)
    for a, b in zip(ours.get_weights(), before, strict=True):
        np.testing.assert_array_equal(a, b)
