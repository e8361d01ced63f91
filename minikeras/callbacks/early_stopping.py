"""EarlyStopping: stop training when the monitored quantity stops improving."""

import warnings

from minikeras.callbacks.monitor_callback import MonitorCallback
from minikeras.utils.progbar import print_msg


class EarlyStopping(MonitorCallback):
    """Stops training when the monitored quantity has stopped improving.

    At each epoch end `wait` counts the epochs since the last improvement; once it reaches
    `patience` (and after the first epoch) `model.stop_training` is set. With a `baseline`, an
    improvement resets `wait` only if it also beats the baseline. Epochs before
    `start_from_epoch` are ignored. With `restore_best_weights`, the weights of the best epoch are
    put back when training ends, whether or not it stopped early.

    Args:
        monitor: the logged quantity to watch, e.g. "val_loss", "loss", "val_accuracy".
        min_delta: how much better a value must be to count as an improvement.
        patience: epochs without improvement after which training stops.
        verbose: 1 prints when it stops and when it restores weights.
        mode: "min", "max" or "auto" (from the monitor's name).
        baseline: a value the quantity must beat for its improvements to reset `wait`.
        restore_best_weights: put back the weights of the best epoch at the end.
        start_from_epoch: number of epochs of warm-up before watching starts.

    Typical use: `model.fit(x, y, validation_split=0.2, callbacks=[EarlyStopping(patience=2)])`.
    What `fit` does with it, by hand:

    >>> from types import SimpleNamespace
    >>> stopper = EarlyStopping(monitor="loss", patience=1)
    >>> stopper.set_model(SimpleNamespace(stop_training=False))
    >>> stopper.on_train_begin()
    >>> for epoch, loss in enumerate([0.9, 0.8, 0.85, 0.83]):
    ...     stopper.on_epoch_end(epoch, {"loss": loss})
    ...     if stopper.model.stop_training:
    ...         break
    >>> epoch, stopper.best, stopper.best_epoch
    (2, 0.8, 1)
    """

    def __init__(
        self,
        monitor="val_loss",
        min_delta=0,
        patience=0,
        verbose=0,
        mode="auto",
        baseline=None,
        restore_best_weights=False,
        start_from_epoch=0,
    ):
        super().__init__(monitor, mode, min_delta=min_delta)
        self.patience = patience
        self.verbose = verbose
        self.baseline = baseline
        self.restore_best_weights = restore_best_weights
        self.start_from_epoch = start_from_epoch
        self.wait = 0
        self.stopped_epoch = 0
        self.best_weights = None
        self.best_epoch = 0

    def on_train_begin(self, logs=None):
        # Reset, so one instance can serve several `fit` calls.
        self.wait = 0
        self.stopped_epoch = 0
        self.best = None
        self.best_weights = None
        self.best_epoch = 0

    def on_epoch_end(self, epoch, logs=None):
        if self.monitor_op is None:
            self._set_monitor_op()
        current = self.get_monitor_value(logs)
        if current is None or epoch < self.start_from_epoch:
            return
        if self.restore_best_weights and self.best_weights is None:
            self.best_weights = self.model.get_weights()  # the first watched epoch is the best yet
            self.best_epoch = epoch

        self.wait += 1
        if self._is_improvement(current, self.best):
            self.best = current
            self.best_epoch = epoch
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()
            if self.baseline is None or self._is_improvement(current, self.baseline):
                self.wait = 0
            return
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        if self.stopped_epoch > 0 and self.verbose > 0:
            print_msg(f"Epoch {self.stopped_epoch + 1}: early stopping")
        if self.restore_best_weights and self.best_weights is not None:
            if self.verbose > 0:
                print_msg(
                    "Restoring model weights from the end of the best epoch: "
                    f"{self.best_epoch + 1}."
                )
            self.model.set_weights(self.best_weights)

    def get_monitor_value(self, logs):
        """The monitored value in `logs`, or None with a warning naming the available keys."""
        logs = logs or {}
        value = logs.get(self.monitor)
        if value is None:
            warnings.warn(
                f"Early stopping conditioned on metric `{self.monitor}` which is not available. "
                f"Available metrics are: {','.join(logs)}",
                stacklevel=2,
            )
        return value
