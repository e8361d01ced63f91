"""Where callbacks send things, as Keras's: RemoteMonitor through `requests.post` (the call
Keras makes, so a test that replaces it sees it), messages to the `logging` module once
interactive logging is off (`io_utils`), and the local-file helpers of `file_utils`."""

import logging
from unittest import mock

import numpy as np
import pytest

import minikeras
from minikeras.utils import file_utils, io_utils


@pytest.mark.parametrize("send_as_json", [True, False])
def test_remote_monitor_posts_through_requests_as_keras(send_as_json):
    monitor = minikeras.callbacks.RemoteMonitor(send_as_json=send_as_json, headers={"k": "v"})
    logs = {"loss": 0.5, "one": np.arange(1), "scalar": np.float32(2.0), "many": np.arange(2)}
    with mock.patch("requests.post") as post:
        monitor.on_epoch_end(3, logs=logs)
    # numbers as Keras sends them (`.item()`); several numbers as a list
    send = {"epoch": 3, "loss": 0.5, "one": 0, "scalar": 2.0, "many": [0, 1]}
    url = "http://localhost:9000/publish/epoch/end/"
    if send_as_json:
        post.assert_called_once_with(url, json=send, headers={"k": "v"})
    else:
        import json

        post.assert_called_once_with(url, {"data": json.dumps(send)}, headers={"k": "v"})


def test_disabled_interactive_logging_sends_messages_to_logging(caplog):
    model = minikeras.Sequential([minikeras.Input((2,)), minikeras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    scheduler = minikeras.callbacks.LearningRateScheduler(lambda epoch: 0.5, verbose=1)
    io_utils.disable_interactive_logging()
    try:
        io_utils.set_logging_verbosity("INFO")
        with caplog.at_level(logging.INFO):
            model.fit(np.ones((4, 2)), np.ones((4, 1)), callbacks=[scheduler], verbose=0)
    finally:
        io_utils.enable_interactive_logging()
        logging.getLogger("minikeras").setLevel(logging.NOTSET)
    assert any("setting learning rate to 0.5" in r.getMessage() for r in caplog.records)


def test_set_logging_verbosity_refuses_an_unknown_level():
    with pytest.raises(ValueError, match="valid level for logging verbosity"):
        io_utils.set_logging_verbosity("LOUD")


def test_file_utils_on_local_paths(tmp_path):
    path = file_utils.join(str(tmp_path), "sub")
    assert not file_utils.exists(path)
    file_utils.makedirs(path)
    assert file_utils.isdir(path)
    with file_utils.File(file_utils.join(path, "a.txt"), "w") as f:
        f.write("x")
    assert file_utils.listdir(path) == ["a.txt"]
    file_utils.remove(file_utils.join(path, "a.txt"))
    file_utils.rmtree(path)
    assert not file_utils.exists(path)
    assert file_utils.is_remote_path("gs://bucket/x") and not file_utils.is_remote_path(path)
