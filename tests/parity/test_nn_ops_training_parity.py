"""Layers made of the nn ops (conv, pooling, attention) and the CTC loss train as in Keras:
the same code in both libraries, on the same weights, gives the same History and weights.

Tolerances:
- the conv/attention model, float64: a few epochs of Adam differ by rounding only (1e-15 per
  operation, amplified by Adam's division by √v on small gradients): 1e-9 relative, the float64
  bound of the other training parity tests.
- the CTC model: Keras's TensorFlow backend computes the CTC loss in float32 even for float64
  logits (tf.nn.ctc_loss refuses float64), minikeras in float64; two epochs of SGD carry that
  float32 rounding (6e-8 per operation over a recursion of 8 frames): 1e-5 relative.
- weights are compared relative to their array's scale (atol = rtol·max|w|): an entry that
  training brings near 0 is a sum of terms of the array's size, whose rounding that is (a
  CTC kernel entry of -3.9e-4 among entries of 0.7 differed by 2.2e-8 in one CI run).
"""

import numpy as np
import pytest

import minikeras
from minikeras import ops


def conv_attention_model(lib, o):
    """A subclassed model whose own layer is written with ops.conv, ops.max_pool and
    ops.dot_product_attention."""

    class ConvAttention(lib.layers.Layer):
        def build(self, input_shape):
            self.kernel = self.add_weight(
                shape=(3, 3, input_shape[-1], 4), initializer="glorot_uniform", name="kernel"
            )

        def call(self, x):
            h = o.max_pool(o.tanh(o.conv(x, self.kernel, padding="same")), 2)  # (B, 3, 3, 4)
            seq = o.reshape(h, (-1, 9, 2, 2))  # 9 steps, 2 heads of 2
            return o.dot_product_attention(seq, seq, seq, is_causal=True)

    class Net(lib.Model):
        def __init__(self):
            super().__init__()
            self.block = ConvAttention()
            self.flatten = lib.layers.Flatten()
            self.out = lib.layers.Dense(3, activation="softmax")

        def call(self, x):
            return self.out(self.flatten(self.block(x)))

    return Net()


@pytest.fixture
def float64(keras):
    from minikeras.parity.keras_env import floatx

    with floatx("float64"):
        yield keras


def _compare(ours, theirs, x, y, rtol, **fit):
    ours_history = ours.fit(x, y, shuffle=False, verbose=0, **fit).history
    theirs_history = theirs.fit(x, y, shuffle=False, verbose=0, **fit).history
    assert sorted(ours_history) == sorted(theirs_history)
    for key in ours_history:
        np.testing.assert_allclose(ours_history[key], theirs_history[key], rtol=rtol)
    for a, b in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_allclose(a, b, rtol=rtol, atol=rtol * np.abs(b).max())


def test_a_layer_of_conv_pool_and_attention_ops_trains_as_in_keras(float64):
    keras = float64
    rng = np.random.default_rng(2)
    x, y = rng.normal(size=(12, 6, 6, 2)), rng.integers(0, 3, 12)
    ours, theirs = conv_attention_model(minikeras, ops), conv_attention_model(keras, keras.ops)
    ours(x[:1])
    theirs(x[:1])
    theirs.set_weights(ours.get_weights())
    for model in (ours, theirs):
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    _compare(ours, theirs, x, y, 1e-9, epochs=3, batch_size=4)


def test_a_model_trained_with_the_ctc_loss_matches_keras(keras):
    rng = np.random.default_rng(3)
    x = rng.normal(size=(8, 8, 3)).astype("float32")
    y = np.array([[1, 2, 2], [3, 0, 0], [1, 1, 0], [2, 3, 1]] * 2)  # 0 pads (the blank)
    models = []
    for lib in (minikeras, keras):
        model = lib.Sequential([lib.Input((8, 3)), lib.layers.Dense(4)])
        model.compile(optimizer=lib.optimizers.SGD(0.1), loss=lib.losses.CTC())
        models.append(model)
    models[1].set_weights(models[0].get_weights())
    _compare(*models, x, y, 1e-5, epochs=2, batch_size=4)
