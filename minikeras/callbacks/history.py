"""History: every epoch's logs, the object `fit` returns."""

from minikeras.callbacks.callback import Callback


class History(Callback):
    """Records each epoch's logs: what `fit` returns, also kept as `model.history`.

    Attributes:
        history: dict of lists, one value per epoch, e.g. `{"loss": [2.41, 2.30]}`.
        epoch: the epoch indices recorded, e.g. `[0, 1]`.
        params: the `fit` parameters, e.g. `{"verbose": 1, "epochs": 2, "steps": 25}`.

    >>> history = History()
    >>> history.on_train_begin()
    >>> history.on_epoch_end(0, {"loss": 2.41, "val_loss": 2.29})
    >>> history.history
    {'loss': [2.41], 'val_loss': [2.29]}
    """

    def __init__(self):
        super().__init__()
        self.history = {}
        self.epoch = []

    def on_train_begin(self, logs=None):
        self.epoch = []  # `history` itself is kept: a History passed to two fits accumulates

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(value)
        if self.model is not None:
            self.model.history = self
