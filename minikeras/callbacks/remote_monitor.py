"""RemoteMonitor: send each epoch's logs to a server by HTTP POST."""

import json
import warnings

import numpy as np

from minikeras.callbacks.callback import Callback


class RemoteMonitor(Callback):
    """POSTs `{"epoch": epoch, **logs}` to `root + path` at each epoch end.

    With `send_as_json=True` the body is that JSON (`Content-Type: application/json`); otherwise
    it is a form whose field `field` holds the JSON. It goes through `requests`, as Keras
    sends it, or through the standard library (urllib) where `requests` is not installed. A
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
        send = {"epoch": epoch}
        for key, value in (logs or {}).items():
            if isinstance(value, (np.ndarray, np.generic)):
                # a number as Keras sends it (`.item()`); a metric with several (F1Score per
                # class) as a list, where Keras's `.item()` would fail
                value = value.item() if value.size == 1 else value.tolist()
            send[key] = value
        try:
            import requests
        except ImportError:
            self._post_with_urllib(send)
            return
        # the calls Keras makes, so that a test that replaces `requests.post` sees them
        try:
            if self.send_as_json:
                requests.post(self.root + self.path, json=send, headers=self.headers)
            else:
                data = {self.field: json.dumps(send)}
                requests.post(self.root + self.path, data, headers=self.headers)
        except requests.exceptions.RequestException:
            self._warn_unreachable()

    def _post_with_urllib(self, send):
        """The same POST with the standard library, where `requests` is not installed."""
        # urllib.request brings http.client and email (~4 MB): loaded only by a monitor that sends
        import urllib.error
        import urllib.parse
        import urllib.request

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
            self._warn_unreachable()

    def _warn_unreachable(self):
        warnings.warn(f"Could not reach RemoteMonitor root server at {self.root}", stacklevel=3)
