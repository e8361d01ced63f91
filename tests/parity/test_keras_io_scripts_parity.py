"""Spellings keras.io's scripts use, run in Keras and in minikeras with the same weights.

- A layer built on one sequence length (or image size) runs on another: Keras's input specs
  fix only the rank and the axes its weights span (Dense's features, BatchNormalization's
  axis, every axis PReLU's alpha spans), so a Transformer block written as a custom layer
  runs on any length, and its output shape is probed on two lengths in a functional model.
- `Input(shape, dtype=tf.int32)`: a TensorFlow dtype is read by its name.

Tolerance: float64, one forward pass of a few small products: rounding only (~1e-16 per
operation), compared at 1e-10 relative like the other float64 parity tests.
"""

import re

import numpy as np
import pytest

import minikeras

RTOL = 1e-10


@pytest.fixture
def float64(keras):
    from minikeras.parity.keras_env import floatx

    with floatx("float64"):
        yield keras


def close(ours, theirs):
    np.testing.assert_allclose(np.asarray(ours), np.asarray(theirs), rtol=RTOL, atol=1e-12)


@pytest.mark.parametrize(
    "make, first, second",
    [
        (lambda lib: lib.layers.Dense(3), (2, 4, 5), (2, 7, 5)),
        (lambda lib: lib.layers.LayerNormalization(), (2, 4, 5), (2, 6, 5)),
        (lambda lib: lib.layers.BatchNormalization(), (2, 3, 3, 2), (2, 5, 4, 2)),
        (lambda lib: lib.layers.Dropout(0.5), (2, 4, 5), (2, 6, 5)),
    ],
    ids=["Dense", "LayerNormalization", "BatchNormalization", "Dropout"],
)
def test_a_layer_built_on_one_length_runs_on_another_as_in_keras(float64, make, first, second):
    keras = float64
    rng = np.random.default_rng(0)
    ours, theirs = make(minikeras), make(keras)
    x1, x2 = rng.normal(size=first), rng.normal(size=second)
    ours(x1), theirs(x1)
    ours.set_weights([np.asarray(w) for w in theirs.get_weights()])
    close(ours(x2), theirs(x2))


@pytest.mark.parametrize(
    "make, first, second",
    [
        (lambda lib: lib.layers.Dense(3), (2, 4, 5), (2, 4, 6)),
        (lambda lib: lib.layers.BatchNormalization(axis=1), (2, 3, 4), (2, 5, 4)),
    ],
    ids=["Dense features", "BatchNormalization axis"],
)
def test_an_axis_the_weights_span_is_still_checked_as_in_keras(keras, make, first, second):
    ours, theirs = make(minikeras), make(keras)
    ours(np.zeros(first, "float32")), theirs(np.zeros(first, "float32"))
    with pytest.raises(ValueError) as keras_error:
        theirs(np.zeros(second, "float32"))
    with pytest.raises(ValueError, match="incompatible with the layer") as error:
        ours(np.zeros(second, "float32"))
    # both name the axis that differs, as the layer gives it (Dense -1, axis=1 as 1)
    named = re.search(r"expected axis -?\d+ of input shape to have value \d+", str(error.value))
    assert named is not None and named.group(0) in str(keras_error.value)


def masked_block(lib):
    """keras.io's text-generation examples: an embedding that makes its own mask, then a
    block whose `call` reads that mask and runs Dense sublayers on a sequence of unknown
    length."""
    layers, ops = lib.layers, lib.ops

    class TokenEmbedding(layers.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.embed = layers.Embedding(20, 4)

        def call(self, x):
            return self.embed(x)

        def compute_mask(self, x, mask=None):
            return ops.not_equal(x, 0)

    class Block(layers.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.inner = layers.Dense(6, activation="relu")
            self.outer = layers.Dense(4)

        def call(self, x, mask=None):
            keep = ops.cast(mask, x.dtype)[:, :, None]  # no mask would fail here, as in Keras
            return self.outer(self.inner(x)) * keep

    ids = lib.Input(shape=(None,), dtype="int32")
    return lib.Model(ids, Block()(TokenEmbedding()(ids)))


def test_a_masked_block_of_dense_sublayers_on_any_length_as_in_keras(float64):
    keras = float64
    ours, theirs = masked_block(minikeras), masked_block(keras)
    assert ours.output_shape == theirs.output_shape == (None, None, 4)
    ours.set_weights([np.asarray(w) for w in theirs.get_weights()])
    rng = np.random.default_rng(1)
    for length in (3, 7):
        ids = rng.integers(0, 20, (2, length))
        ids[:, -1] = 0  # padding, masked out
        close(ours.predict(ids, verbose=0), theirs.predict(ids, verbose=0))


def test_an_input_given_a_tensorflow_dtype_as_in_keras(keras):
    import tensorflow as tf

    ours = minikeras.Input(shape=(3,), dtype=tf.int32)
    theirs = keras.Input(shape=(3,), dtype=tf.int32)
    assert ours.dtype == theirs.dtype == "int32"
    assert minikeras.layers.Dense(2, dtype=tf.float64).dtype == "float64"


def test_prelu_checks_every_axis_its_alpha_spans():
    """Keras's PReLU fails in its product (TensorFlow's InvalidArgumentError, "Incompatible
    shapes: [4,5] vs. [2,6,5]"); minikeras names the axis, as its input spec would."""
    layer = minikeras.layers.PReLU()
    layer(np.zeros((2, 4, 5), "float32"))
    with pytest.raises(ValueError, match="expected axis 1 of input shape to have value 4"):
        layer(np.zeros((2, 6, 5), "float32"))
    shared = minikeras.layers.PReLU(shared_axes=[1])  # alpha (1, 5): any length runs
    shared(np.zeros((2, 4, 5), "float32"))
    assert shared(np.zeros((2, 6, 5), "float32")).shape == (2, 6, 5)


def standardized_convnet(lib):
    """keras.io's subclassing_conv_layers recipe: both ways of changing the convolution."""
    layers, ops = lib.layers, lib.ops

    class WithCall(layers.Conv2D):
        def call(self, inputs):
            mean, var = ops.moments(self.kernel, axes=[0, 1, 2], keepdims=True)
            kernel = (self.kernel - mean) / ops.sqrt(var + 1e-10)
            return self.convolution_op(inputs, kernel) + self.bias

    class WithOverride(layers.Conv2D):
        def convolution_op(self, inputs, kernel):
            mean, var = ops.moments(kernel, axes=[0, 1, 2], keepdims=True)
            kernel = (kernel - mean) / ops.sqrt(var + 1e-10)
            return ops.conv(inputs, kernel, padding="valid", strides=list(self.strides))

    return lib.Sequential(
        [
            lib.Input((7, 7, 2)),
            WithCall(3, 3, activation="relu"),
            WithOverride(2, 2, activation="relu"),
            layers.Flatten(),
            layers.Dense(3, activation="softmax"),
        ]
    )


def test_the_standardized_conv_recipe_trains_as_in_keras(float64):
    keras = float64
    ours, theirs = standardized_convnet(minikeras), standardized_convnet(keras)
    ours.set_weights([np.asarray(w) for w in theirs.get_weights()])
    rng = np.random.default_rng(2)
    x, y = rng.normal(size=(6, 7, 7, 2)), rng.integers(0, 3, 6)
    close(ours.predict(x, verbose=0), theirs.predict(x, verbose=0))
    for model, lib in ((ours, minikeras), (theirs, keras)):
        model.compile(lib.optimizers.SGD(0.1), "sparse_categorical_crossentropy")
    ours_history = ours.fit(x, y, batch_size=3, epochs=2, shuffle=False, verbose=0)
    theirs_history = theirs.fit(x, y, batch_size=3, epochs=2, shuffle=False, verbose=0)
    close(ours_history.history["loss"], theirs_history.history["loss"])
    for a, b in zip(ours.get_weights(), theirs.get_weights(), strict=True):
        close(a, b)
