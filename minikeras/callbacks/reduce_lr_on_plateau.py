"""ReduceLROnPlateau: lower the learning rate when the monitored quantity stops improving."""

import warnings

import numpy as np

from minikeras.callbacks.callback import learning_rates
from minikeras.callbacks.monitor_callback import MonitorCallback
from minikeras.utils.progbar import print_msg


class ReduceLROnPlateau(MonitorCallback):
    """Multiplies the learning rate by `factor` after `patience` epochs without improvement.

    At each epoch end the current rate is written into the logs as `learning_rate` (so
    `History` holds it, as in Keras 3). An improvement beats the best value so far by more than
    `min_delta`; it resets the count of epochs without one (`wait`). When `wait` reaches
    `patience` the rate becomes `max(lr·factor, min_lr)` (unless it is already at `min_lr`),
    and for the next `cooldown` epochs no epoch counts as stagnating.

    Args:
        monitor: the logged quantity to watch ("val_loss" by default).
        factor: what the rate is multiplied by, below 1.
        patience: epochs without improvement before the rate is lowered.
        verbose: 1 prints each change.
        mode: "min", "max" or "auto" (from the monitor's name).
        min_delta: how much better a value must be to count as an improvement.
        cooldown: epochs after a change during which no stagnation is counted.
        min_lr: the lowest rate it sets.

    >>> from types import SimpleNamespace
    >>> model = SimpleNamespace(optimizer=SimpleNamespace(learning_rate=0.1))
    >>> plateau = ReduceLROnPlateau(monitor="loss", factor=0.5, patience=1)
    >>> plateau.set_model(model)
    >>> plateau.on_train_begin()
    >>> for epoch, loss in enumerate([0.9, 0.8, 0.8, 0.8]):
    ...     plateau.on_epoch_end(epoch, {"loss": loss})
    >>> model.optimizer.learning_rate
    0.025
    """

    def __init__(
        self,
        monitor="val_loss",
        factor=0.1,
        patience=10,
        verbose=0,
        mode="auto",
        min_delta=1e-4,
        cooldown=0,
        min_lr=0.0,
        **kwargs,
    ):
        super().__init__(monitor, mode, min_delta=min_delta)
        if factor >= 1.0:
            raise ValueError(
                f"ReduceLROnPlateau does not support a factor >= 1.0. Received factor={factor}"
            )
        self.factor = factor
        self.min_lr = min_lr
        self.patience = patience
        self.verbose = verbose
        self.cooldown = cooldown
        self.cooldown_counter = 0  # epochs of cooldown left
        self.wait = 0  # epochs since the last improvement

    def on_train_begin(self, logs=None):
        self.best = None
        self.cooldown_counter = 0
        self.wait = 0

    def in_cooldown(self):
        return self.cooldown_counter > 0

    def on_epoch_end(self, epoch, logs=None):
        if self.monitor_op is None:
            self._set_monitor_op()
        logs = {} if logs is None else logs  # written into: later callbacks and History see it
        logs.update(learning_rates(self.model.optimizer))
        current = logs.get(self.monitor)
        if current is None:
            warnings.warn(
                f"Learning rate reduction is conditioned on metric `{self.monitor}` which is "
                f"not available. Available metrics are: {','.join(logs)}.",
                stacklevel=2,
            )
            return
        if self.in_cooldown():
            self.cooldown_counter -= 1
            self.wait = 0
        if self._is_improvement(current, self.best):
            self.best = current
            self.wait = 0
        elif not self.in_cooldown():
            self.wait += 1
            optimizer = self.model.optimizer
            # a MultiOptimizer: every sub-optimizer's rate is lowered, on one patience count
            targets = getattr(optimizer, "optimizers", [optimizer])
            if self.wait >= self.patience and any(
                [self._reduce_lr(epoch, target) for target in targets]
            ):
                self.cooldown_counter = self.cooldown
                self.wait = 0

    def _reduce_lr(self, epoch, optimizer):
        """Lower the rate unless it is at `min_lr` already (compared in float32, as Keras's
        variable holds it); True if it changed."""
        old_lr = float(optimizer.learning_rate)
        if not old_lr > np.float32(self.min_lr):
            return False
        new_lr = max(old_lr * self.factor, self.min_lr)
        optimizer.learning_rate = new_lr
        if self.verbose > 0:
            print_msg(f"\nEpoch {epoch + 1}: ReduceLROnPlateau reducing learning rate to {new_lr}.")
        return True
