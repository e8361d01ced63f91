"""RemoteMonitor: send each epoch's logs to a server by HTTP POST."""

import json
import warnings

import numpy as np

from minikeras.callbacks.callback import Callback


class RemoteMonitor(Callback):
    """POSTs `{"epoch": epoch, **logs}` to `root + path` at each epoch end.

    With `send_as_json=True` the body is that JSON (`Content-Type: application/json`); otherwise
    it is a form whose field `field` holds the JSON, as Keras sends it through `requests`.
    minikeras sends it with the standard library (urllib), so it needs no extra package. A
    server that cannot be reached gives a warning, and training goes on.

    Args:
        root: the server's root URL.
        path: the path under `root` the events go to.
        field: the form field that holds the JSON (when not `send_as_json`).
        headers: extra HTTP headers, a dict.
        send_as_json: send the JSON itself as the body.
    """

    def __init__(
        self,
        root="http://localhost:9000",
        path="/publish/epoch/end/",
        field="data",
        headers=None,
        send_as_json=False,
    ):
        super().__init__()
        self.root = root
        self.path = path
        self.field = field
        self.headers = headers
        self.send_as_json = send_as_json

    def on_epoch_end(self, epoch, logs=None):
        # urllib.request brings http.client and email (~4 MB): loaded only by a monitor that sends
        import urllib.error
        import urllib.parse
        import urllib.request

        send = {"epoch": epoch}
        for key, value in (logs or {}).items():
            # a metric with several numbers (F1Score per class) goes as a list
            send[key] = value.tolist() if isinstance(value, (np.ndarray, np.generic)) else value
        headers = dict(self.headers or {})
        if self.send_as_json:
            body = json.dumps(send).encode("utf-8")
            headers.setdefault("Content-Type", "application/json")
        else:
            body = urllib.parse.urlencode({self.field: json.dumps(send)}).encode("utf-8")
            headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
        request = urllib.request.Request(
            self.root + self.path, data=body, headers=headers, method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                response.read()
        except (urllib.error.URLError, OSError):
            warnings.warn(f"Could not reach RemoteMonitor root server at {self.root}", stacklevel=2)
