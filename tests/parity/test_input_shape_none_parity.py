"""`input_shape` with an axis of any size, as keras.io's RNN guide builds its model
(`LSTM(units, input_shape=(None, input_dim))`): the Sequential's input takes any length.

Tolerance: float64, one forward pass of a few small products: rounding only (~1e-16 per
operation), compared at 1e-10 relative like the other float64 parity tests.
"""

import warnings

import numpy as np
import pytest

import minikeras


@pytest.fixture
def float64(keras):
    from minikeras.parity.keras_env import floatx

    with floatx("float64"):
        yield keras


def rnn_model(lib, kind):
    first = (
        lib.layers.LSTM(4, input_shape=(None, 3))
        if kind == "LSTM"
        else lib.layers.RNN(lib.layers.LSTMCell(4), input_shape=(None, 3))
    )
    return lib.Sequential([first, lib.layers.Dense(2)])


@pytest.mark.parametrize("kind", ["LSTM", "RNN"])
def test_an_input_shape_with_none_as_in_keras(float64, kind):
    keras = float64
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # both warn that input_shape is deprecated
        # before: "int() argument must be ... not 'NoneType'"
        ours, theirs = rnn_model(minikeras, kind), rnn_model(keras, kind)
    assert ours.input_shape == theirs.input_shape == (None, None, 3)
    ours.set_weights([np.asarray(w) for w in theirs.get_weights()])
    rng = np.random.default_rng(0)
    for length in (2, 5):
        x = rng.normal(size=(2, length, 3))
        np.testing.assert_allclose(
            ours.predict(x, verbose=0), theirs.predict(x, verbose=0), rtol=1e-10, atol=1e-12
        )
