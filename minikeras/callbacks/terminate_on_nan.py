"""TerminateOnNaN: stop training at the first NaN or infinite loss."""

import numpy as np

from minikeras.callbacks.callback import Callback
from minikeras.utils.progbar import print_msg


class TerminateOnNaN(Callback):
    """Stops training as soon as a training batch's loss is NaN or infinite.

    It sets `model.stop_training` (the epoch then ends as usual, `on_train_end` runs), or with
    `raise_error=True` raises a RuntimeError at once.

    >>> from types import SimpleNamespace
    >>> guard = TerminateOnNaN()
    >>> guard.set_model(SimpleNamespace(stop_training=False))
    >>> guard.on_train_batch_end(7, {"loss": float("nan")})
    Batch 7: Invalid loss, terminating training
    >>> guard.model.stop_training
    True
    """

    def __init__(self, raise_error: bool = False):
        super().__init__()
        self.raise_error = raise_error

    def on_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is None or np.isfinite(loss):
            return
        if self.raise_error:
            raise RuntimeError(
                f"NaN or Inf loss encountered at batch {batch}. Loss value: {loss}. "
                "Terminating training immediately."
            )
        print_msg(f"Batch {batch}: Invalid loss, terminating training")
        self.model.stop_training = True
