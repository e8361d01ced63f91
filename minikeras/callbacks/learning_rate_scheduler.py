"""LearningRateScheduler: set the learning rate at the start of each epoch."""

import numpy as np

from minikeras.callbacks.callback import Callback, learning_rates
from minikeras.utils.progbar import print_msg


class LearningRateScheduler(Callback):
    """Sets the optimizer's learning rate at the start of each epoch from `schedule`.

    `schedule(epoch, lr)` (epoch 0-based, lr the current rate as a float) or `schedule(epoch)`
    returns the new rate, a float. At each epoch end the rate is logged as `learning_rate`
    (so it appears in `History` and on the progress bar).

    Args:
        schedule: the function giving the learning rate.
        verbose: 1 prints each change.

    >>> from types import SimpleNamespace
    >>> model = SimpleNamespace(optimizer=SimpleNamespace(learning_rate=0.1))
    >>> halve = LearningRateScheduler(lambda epoch, lr: lr / 2 if epoch > 0 else lr)
    >>> halve.set_model(model)
    >>> for epoch in range(3):
    ...     halve.on_epoch_begin(epoch)
    >>> model.optimizer.learning_rate
    0.025
    """

    def __init__(self, schedule, verbose=0):
        super().__init__()
        self.schedule = schedule
        self.verbose = verbose

    def on_epoch_begin(self, epoch, logs=None):
        optimizer = self.model.optimizer
        if hasattr(optimizer, "optimizers"):  # a MultiOptimizer: each sub-optimizer's own rate
            for inner in optimizer.optimizers:
                learning_rate = self._update_learning_rate(inner, epoch)
                if self.verbose > 0:
                    print_msg(
                        f"\nEpoch {epoch + 1}: LearningRateScheduler setting {inner.name} "
                        f"learning rate to {learning_rate}."
                    )
            return
        learning_rate = self._update_learning_rate(optimizer, epoch)
        if self.verbose > 0:
            print_msg(
                f"\nEpoch {epoch + 1}: LearningRateScheduler setting learning rate to "
                f"{learning_rate}."
            )

    def _update_learning_rate(self, optimizer, epoch):
        if not hasattr(optimizer, "learning_rate"):
            raise ValueError('Optimizer must have a "learning_rate" attribute.')
        current = float(optimizer.learning_rate)
        try:
            learning_rate = self.schedule(epoch, current)
        except TypeError:  # a one-argument schedule(epoch), Keras's older form
            learning_rate = self.schedule(epoch)
        if not isinstance(learning_rate, (float, np.float32, np.float64)):
            raise ValueError(
                f"The output of the `schedule` function should be a float. Got: {learning_rate}"
            )
        optimizer.learning_rate = learning_rate
        return learning_rate

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:  # written into the dict the later callbacks receive
            logs.update(learning_rates(self.model.optimizer))
