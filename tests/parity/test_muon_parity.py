"""Muon against Keras 3: a whole fit of a model with Muon (2-D) and AdamW (biases, an
embedding, an excluded layer) weights in float64, the optimizer's variables in Keras's order,
the Newton–Schulz step alone, which weights take which step, and the config.

float64: the same arithmetic in the same order, so within 1e-12 relative (measured 1.2e-14
after three epochs of a Dense model); a constant rounded through float32 would show as ~1e-8."""

import numpy as np
import pytest

import minikeras
from minikeras import optimizers

RTOL = 1e-12


@pytest.fixture
def keras64(keras):
    from minikeras.parity.keras_env import floatx

    with floatx("float64"):
        yield keras


def model(lib):
    return lib.Sequential(
        [
            lib.Input((4,), dtype="int32"),
            lib.layers.Embedding(7, 3),
            lib.layers.Flatten(),
            lib.layers.Dense(5, activation="tanh"),
            lib.layers.Dense(2, name="last"),
        ]
    )


@pytest.mark.parametrize(
    "options",
    [
        {"learning_rate": 0.05, "exclude_layers": ["last"]},
        {"learning_rate": 0.02, "nesterov": False, "rms_rate": None, "weight_decay": 0.1},
        {"learning_rate": 0.03, "exclude_embeddings": False, "adam_lr_ratio": 0.5},
    ],
    ids=["exclude_last", "plain_momentum", "muon_embedding"],
)
def test_fit_matches_keras_in_float64(keras64, options):
    keras = keras64
    rng = np.random.default_rng(0)
    # distinct ids in a batch of one: TensorFlow squares an embedding's gradient per looked-up
    # row before summing repeated ids (its sparse gradient), where the dense gradient, which
    # minikeras (and Keras on JAX or torch) uses, is summed first; without repeats they agree
    x = np.stack([rng.permutation(7)[:4] for _ in range(12)]).astype("int32")
    y = rng.normal(size=(12, 2))
    theirs, ours = model(keras), model(minikeras)
    ours.set_weights(theirs.get_weights())
    histories = []
    for lib, m in ((keras, theirs), (minikeras, ours)):
        m.compile(lib.optimizers.Muon(**options), "mse")
        histories.append(m.fit(x, y, batch_size=1, epochs=2, shuffle=False, verbose=0).history)
    for a, b in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_allclose(a, b, rtol=RTOL, atol=1e-15)
    np.testing.assert_allclose(histories[1]["loss"], histories[0]["loss"], rtol=RTOL)
    assert [np.shape(v) for v in ours.optimizer.variables] == [
        tuple(v.shape) for v in theirs.optimizer.variables
    ]
    for a, b in zip(ours.optimizer.variables, theirs.optimizer.variables):
        np.testing.assert_allclose(a, np.asarray(b), rtol=RTOL, atol=1e-15)


@pytest.mark.parametrize("shape", [(3, 3), (2, 5), (6, 2), (2, 3, 4)])
def test_newton_schulz_matches_keras(keras, shape):
    x = np.random.default_rng(1).normal(size=shape)
    ours = optimizers.Muon().zeropower_via_newtonschulz5(x, 5)
    theirs = keras.optimizers.Muon().zeropower_via_newtonschulz5(keras.ops.array(x), 5)
    np.testing.assert_allclose(ours, keras.ops.convert_to_numpy(theirs), rtol=1e-12, atol=1e-15)


def test_which_weights_take_adamw_as_keras(keras):
    for lib in (minikeras, keras):
        m = model(lib)
        flags = [
            lib.optimizers.Muon(exclude_layers=["last"])._should_use_adamw(w) for w in m.weights
        ]
        # embedding, Dense kernel (Muon), its bias, the excluded layer's kernel and bias
        assert flags == [True, False, True, True, True], lib.__name__


def test_config_matches_keras(keras):
    options = {"learning_rate": 0.1, "exclude_layers": ["out"], "ns_steps": 3, "name": "mu"}
    ours = optimizers.Muon(**options).get_config()
    assert ours == keras.optimizers.Muon(**options).get_config()
    assert optimizers.get({"class_name": "Muon", "config": ours}).get_config() == ours
    assert isinstance(optimizers.get("muon"), optimizers.Muon)


def test_a_1d_input_to_newton_schulz_is_refused():
    with pytest.raises(ValueError, match="at least 2 dimensions"):
        optimizers.Muon().zeropower_via_newtonschulz5(np.ones(3), 5)
