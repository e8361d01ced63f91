"""A recurrent layer called in a subclassed model's `call` (Keras's `run_training_step` shape of
model), trained by `fit` in minikeras and Keras from the same weights: the layer goes on the
model's tape as one step with its own backward.

float64 on both sides (SGD, two epochs of two batches): within 1e-10 normwise, the float64
bound of layer_twins.py (a few dozen terms per output, rounded at 2⁻⁵³ on each side)."""

import numpy as np
import pytest
from layer_twins import floatx, rel

import minikeras

LAYERS = {
    "lstm": lambda lib: lib.layers.LSTM(3, return_sequences=True),
    "gru": lambda lib: lib.layers.GRU(3),
    "bidirectional": lambda lib: lib.layers.Bidirectional(lib.layers.SimpleRNN(2)),
}


def _subclassed(lib, layer):
    class Wrapper(lib.Model):
        def __init__(self, layer):
            super().__init__()
            self.layer = layer

        def call(self, x, training=False):
            return self.layer(x, training=training)

    return Wrapper(layer)


@pytest.mark.parametrize("kind", sorted(LAYERS))
def test_recurrent_layer_trains_in_a_subclassed_model(keras, kind):
    rng = np.random.default_rng(3)
    x = rng.normal(size=(8, 4, 5))
    with floatx(keras, "float64"):
        ours = _subclassed(minikeras, LAYERS[kind](minikeras))
        theirs = _subclassed(keras, LAYERS[kind](keras))
        y = np.asarray(theirs(x))
        y = rng.normal(size=y.shape)
        ours(x)
        ours.set_weights(theirs.get_weights())
        for model, lib in ((ours, minikeras), (theirs, keras)):
            model.compile(optimizer=lib.optimizers.SGD(0.1), loss="mse", run_eagerly=True)
        ours_history = ours.fit(x, y, batch_size=4, epochs=2, shuffle=False, verbose=0)
        theirs_history = theirs.fit(x, y, batch_size=4, epochs=2, shuffle=False, verbose=0)
        np.testing.assert_allclose(
            ours_history.history["loss"], theirs_history.history["loss"], rtol=1e-10
        )
        for w_ours, w_theirs in zip(ours.get_weights(), theirs.get_weights()):
            assert rel(w_ours, w_theirs) < 1e-10
