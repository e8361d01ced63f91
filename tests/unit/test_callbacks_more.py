"""RemoteMonitor against a local HTTP server, the event-file encoding, an explicit
ProgbarLogger, and the arguments TensorBoard refuses."""

import http.server
import json
import struct
import threading
import urllib.parse

import numpy as np
import pytest

import minikeras
from minikeras.utils import event_file

X = np.linspace(-1, 1, 12).reshape(4, 3).astype("float32")
Y = X.sum(axis=1, keepdims=True)


def model():
    m = minikeras.Sequential([minikeras.layers.Input((3,)), minikeras.layers.Dense(1)])
    m.compile(optimizer="sgd", loss="mse")
    return m


@pytest.fixture
def server():
    """A local HTTP server that keeps what each POST carried."""
    received = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append((self.path, dict(self.headers), body))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    httpd = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}", received
    httpd.shutdown()
    httpd.server_close()


def test_remote_monitor_posts_each_epoch_as_a_form_field(server):
    root, received = server
    history = model().fit(
        X, Y, epochs=2, verbose=0, callbacks=[minikeras.callbacks.RemoteMonitor(root=root)]
    )
    assert [path for path, _, _ in received] == ["/publish/epoch/end/"] * 2
    for epoch, (_, headers, body) in enumerate(received):
        assert headers["Content-Type"] == "application/x-www-form-urlencoded"
        sent = json.loads(urllib.parse.parse_qs(body.decode())["data"][0])
        assert sent == {"epoch": epoch, "loss": history.history["loss"][epoch]}


def test_remote_monitor_as_json_with_headers(server):
    root, received = server
    monitor = minikeras.callbacks.RemoteMonitor(
        root=root, path="/logs", send_as_json=True, headers={"X-Run": "7"}
    )
    model().fit(X, Y, epochs=1, verbose=0, callbacks=[monitor])
    (path, headers, body) = received[0]
    assert path == "/logs" and headers["X-Run"] == "7"
    assert headers["Content-Type"] == "application/json"
    assert json.loads(body)["epoch"] == 0


def test_remote_monitor_warns_when_the_server_is_unreachable():
    monitor = minikeras.callbacks.RemoteMonitor(root="http://127.0.0.1:9")
    with pytest.warns(UserWarning, match="Could not reach RemoteMonitor root server"):
        model().fit(X, Y, epochs=1, verbose=0, callbacks=[monitor])


def test_crc32c_and_its_mask():
    # the check value of CRC-32C (RFC 3720, appendix B.4)
    assert event_file.crc32c(b"123456789") == 0xE3069283
    crc = 0xE3069283
    assert (
        event_file.masked_crc32c(b"123456789")
        == (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF
    )


def test_varint_and_record_layout():
    assert event_file.varint(1) == b"\x01"
    assert event_file.varint(300) == b"\xac\x02"  # the protobuf documentation's example
    assert len(event_file.varint(-1)) == 10  # an int64 -1 takes ten bytes
    data = b"abc"
    record = event_file.tfrecord(data)
    assert struct.unpack("<Q", record[:8]) == (3,)
    assert record[12:15] == data
    assert struct.unpack("<I", record[15:]) == (event_file.masked_crc32c(data),)


def test_explicit_progbar_logger_follows_verbose(capsys):
    model().fit(X, Y, epochs=1, verbose=0, callbacks=[minikeras.callbacks.ProgbarLogger()])
    assert capsys.readouterr().out == ""
    model().fit(X, Y, epochs=1, verbose=2, callbacks=[minikeras.callbacks.ProgbarLogger()])
    assert capsys.readouterr().out.count("1/1 - ") == 1  # one logger: the one given


@pytest.mark.parametrize(
    "kwargs, error",
    [
        (dict(histogram_freq=1), NotImplementedError),
        (dict(update_freq="often"), ValueError),
    ],
)
def test_tensorboard_refuses_what_it_cannot_write(tmp_path, kwargs, error):
    with pytest.raises(error):
        minikeras.callbacks.TensorBoard(tmp_path, **kwargs)
