"""minikeras.config's Keras 3 functions: each setting does what it says, and is put back."""

import logging
import warnings

import numpy as np
import pytest

import minikeras
from minikeras import config

X = np.ones((8, 3), "float32")
Y = np.ones((8, 1), "float32")


@pytest.fixture(autouse=True)
def restore(monkeypatch):
    # the global policy back to None afterwards (following floatx), whatever a test set
    monkeypatch.setattr(config, "_DTYPE_POLICY", None)
    yield
    config.set_image_data_format("channels_last")
    config.set_max_epochs(None)
    config.set_max_steps_per_epoch(None)
    config.enable_interactive_logging()


def model():
    m = minikeras.Sequential([minikeras.layers.Input((3,)), minikeras.layers.Dense(1)])
    m.compile(optimizer="sgd", loss="mse")
    return m


def test_dtype_policy_sets_the_dtype_of_new_layers():
    assert config.dtype_policy().name == "float32"
    config.set_dtype_policy("float64")
    assert repr(config.dtype_policy()) == '<DTypePolicy "float64">'
    assert minikeras.layers.Dense(2).dtype == "float64"
    assert config.floatx() == "float32"  # as in Keras, floatx stays
    with pytest.raises(NotImplementedError, match="mixed precision"):
        config.set_dtype_policy("mixed_float16")


def test_image_data_format_is_the_default_data_format_of_image_layers():
    config.set_image_data_format("channels_first")
    assert config.image_data_format() == "channels_first"
    assert minikeras.layers.Conv2D(2, 3).data_format == "channels_first"
    assert minikeras.layers.MaxPooling2D().data_format == "channels_first"
    assert minikeras.layers.Conv2D(2, 3, data_format="channels_last").data_format == "channels_last"


def test_max_epochs_and_max_steps_per_epoch_cap_fit():
    config.set_max_epochs(2)
    config.set_max_steps_per_epoch(1)
    m = model()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        history = m.fit(X, Y, epochs=5, batch_size=2, verbose=0)
    messages = {str(w.message) for w in caught}
    assert {"Limiting epochs to 2", "Limiting steps_per_epoch to 1"} <= messages
    assert len(history.history["loss"]) == 2 and m.optimizer.iterations == 2


def test_messages_go_to_logging_when_interactive_logging_is_off(capsys, caplog):
    config.disable_interactive_logging()
    assert not config.is_interactive_logging_enabled()
    with caplog.at_level(logging.INFO, logger="minikeras"):
        model().fit(X, Y, epochs=2, verbose=2)
    assert capsys.readouterr().out == ""
    assert "Epoch 2/2" in caplog.text


def test_one_backend():
    assert config.backend() == "numpy"
    config.set_backend("numpy")
    with pytest.raises(ValueError, match="Unable to import backend : jax"):
        config.set_backend("jax")
