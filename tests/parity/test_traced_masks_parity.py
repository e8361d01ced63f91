"""Masks in the training calls of subclassed models, against Keras: a layer whose output carries
a mask (Embedding(mask_zero=True)) feeds the next layer's `mask` argument when its `call` takes
one and none was given, in `fit` as in an eager call; the query's mask reaches
MultiHeadAttention. float64, a few SGD steps: 1e-10 (layer_twins.py)."""

import numpy as np
import pytest
from layer_twins import floatx, rel

import minikeras
from minikeras.parity.compare import tolerance

TOKENS = np.array([[1, 2, 0, 0], [3, 0, 0, 0], [4, 5, 1, 0], [2, 2, 2, 2]])
TARGETS = np.arange(4.0).reshape(4, 1)


def _pooled(lib):
    class Pooled(lib.Model):
        def __init__(self):
            super().__init__()
            self.embedding = lib.layers.Embedding(6, 3, mask_zero=True)
            self.pool = lib.layers.GlobalAveragePooling1D()
            self.dense = lib.layers.Dense(1)

        def call(self, x):
            return self.dense(self.pool(self.embedding(x)))

    return Pooled()


def _attending(lib):
    class MaskedMean(lib.layers.Layer):  # a layer of yours whose call reads the mask
        def call(self, x, mask=None):
            if mask is None:
                return lib.ops.mean(x, axis=1)
            weights = lib.ops.expand_dims(lib.ops.cast(mask, x.dtype), -1)
            return lib.ops.sum(x * weights, axis=1) / lib.ops.sum(weights, axis=1)

    class Attending(lib.Model):
        def __init__(self):
            super().__init__()
            self.embedding = lib.layers.Embedding(6, 4, mask_zero=True)
            self.attention = lib.layers.MultiHeadAttention(num_heads=2, key_dim=2)
            self.mean = MaskedMean()
            self.dense = lib.layers.Dense(1)

        def call(self, x):
            x = self.embedding(x)
            return self.dense(self.mean(self.attention(x, x)))

    return Attending()


@pytest.mark.parametrize("make", [_pooled, _attending])
def test_a_subclassed_model_passes_masks_in_fit_as_keras(keras, make):
    with floatx(keras, "float64"):
        ours, theirs = make(minikeras), make(keras)
        ours(TOKENS)
        theirs(TOKENS)
        weights = [np.random.default_rng(0).normal(size=w.shape) for w in ours.weights]
        ours.set_weights(weights)
        theirs.set_weights(weights)
        assert rel(ours(TOKENS), theirs(TOKENS).numpy()) < 1e-10
        for model in (ours, theirs):
            model.compile(optimizer="sgd", loss="mse")
        history = ours.fit(TOKENS, TARGETS, epochs=3, verbose=0, shuffle=False)
        khistory = theirs.fit(TOKENS, TARGETS, epochs=3, verbose=0, shuffle=False)
        tol = tolerance("float64", 3)
        np.testing.assert_allclose(history.history["loss"], khistory.history["loss"], rtol=tol)
        for w, kw in zip(ours.get_weights(), theirs.get_weights()):
            assert rel(w, kw) <= tol
