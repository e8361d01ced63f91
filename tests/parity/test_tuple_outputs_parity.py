"""A layer of yours whose call returns a tuple (keras.io's Involution returns `output, kernel`),
unpacked in a functional model: each item is its own tensor at run time and in the backward,
as in Keras.

Tolerance: float64, a forward pass and two SGD steps of a few small products: rounding only
(~1e-16 per operation), compared at 1e-10 relative like the other float64 parity tests.
"""

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


def two_outputs(lib):
    layers, ops = lib.layers, lib.ops

    class Involution(layers.Layer):
        def build(self, input_shape):
            self.w = self.add_weight(shape=(input_shape[-1], 2), initializer="glorot_uniform")

        def call(self, x):
            kernel = ops.matmul(x, self.w)
            return x * ops.sum(kernel, axis=-1, keepdims=True), kernel

    inputs = lib.Input((4, 3))
    x, kernel = Involution()(inputs)
    x = layers.ReLU()(x)
    return lib.Model(inputs, [layers.Dense(2)(layers.Flatten()(x)), kernel])


def test_a_call_returning_a_tuple_predicts_and_trains_as_in_keras(float64):
    keras = float64
    ours, theirs = two_outputs(minikeras), two_outputs(keras)
    ours.set_weights([np.asarray(w) for w in theirs.get_weights()])
    rng = np.random.default_rng(0)
    x = rng.normal(size=(4, 4, 3))
    y = [rng.normal(size=(4, 2)), rng.normal(size=(4, 4, 2))]
    # before: ReLU was handed the tuple ("'tuple' object has no attribute 'dtype'")
    for a, b in zip(ours.predict(x, verbose=0), theirs.predict(x, verbose=0), strict=True):
        close(a, b)
    for model, lib in ((ours, minikeras), (theirs, keras)):
        model.compile(lib.optimizers.SGD(0.1), ["mse", "mse"])
        model.fit(x, y, batch_size=2, shuffle=False, verbose=0)
    for a, b in zip(ours.get_weights(), theirs.get_weights(), strict=True):
        close(a, b)
