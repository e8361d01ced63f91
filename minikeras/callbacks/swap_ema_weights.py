"""SwapEMAWeights: evaluate (and predict) with the optimizer's moving averages of the weights."""

import numpy as np

from minikeras.callbacks.callback import Callback


class SwapEMAWeights(Callback):
    """Puts the optimizer's EMA weights into the model for evaluation, then the trained ones back.

    For an optimizer with `use_ema=True`, which keeps a ← μ·a + (1 − μ)·w for every weight.
    Before `evaluate` (and fit's validation) and `predict` the weights and their averages swap
    places, and swap back after. With `swap_on_epoch=True` they also swap at each epoch end (so
    that later callbacks, e.g. `ModelCheckpoint`, see the averages) and back at the next epoch's
    start; after the last epoch the averages stay, as `fit` leaves them anyway.

    The swap is exact here; Keras on TensorFlow swaps by sums and differences (w += a; a = w − a;
    w −= a), which can lose a last bit. After `predict`, Keras 3.15 leaves the averages in the
    model (its `on_predict_end` tests the flag the wrong way round); minikeras swaps back.

    Args:
        swap_on_epoch: also swap at each epoch end and back at the next epoch's start.

    Typical use: `model.fit(x, y, validation_split=0.2, callbacks=[SwapEMAWeights()])` with
    `optimizer=SGD(use_ema=True)`.
    """

    def __init__(self, swap_on_epoch=False):
        super().__init__()
        self.swap_on_epoch = swap_on_epoch
        self._ema_weights_in_model = False

    def _weights_and_averages(self):
        """(weight, its average) for every weight an optimizer with `use_ema` updates: the
        model's optimizer, a LossScaleOptimizer's inner one, or each sub-optimizer of a
        MultiOptimizer that has `use_ema` (the others' weights stay), as Keras looks for them."""
        optimizer = self.model.optimizer
        optimizer = getattr(optimizer, "inner_optimizer", optimizer)
        if hasattr(optimizer, "optimizers"):
            with_ema = [inner for inner in optimizer.optimizers if inner.use_ema]
            if not with_ema:
                raise ValueError(
                    "SwapEMAWeights must be used when at least one inner optimizer has "
                    "`use_ema=True` set. Received a MultiOptimizer with all inner optimizers "
                    "having `use_ema=False`."
                )
            return [
                pair
                for inner in with_ema
                for pair in zip(inner._built_variables(), inner.slots["average"])
            ]
        averages = optimizer.slots.get("average") if optimizer.use_ema else None
        if averages is None:
            raise ValueError(
                "SwapEMAWeights must be used when `use_ema=True` is set on the optimizer. "
                f"Received: use_ema={optimizer.use_ema}"
            )
        return list(zip(self.model.trainable_weights, averages))

    def _swap(self):
        for weight, average in self._weights_and_averages():
            trained = np.array(weight)
            weight[...] = average
            average[...] = trained

    def _put_averages_in(self):
        if not self._ema_weights_in_model:
            self._swap()
            self._ema_weights_in_model = True

    def _take_averages_out(self):
        if self._ema_weights_in_model:
            self._swap()
            self._ema_weights_in_model = False

    def on_epoch_begin(self, epoch, logs=None):
        if self.swap_on_epoch:
            self._take_averages_out()

    def on_epoch_end(self, epoch, logs=None):
        if self.swap_on_epoch and not self._ema_weights_in_model:
            self._put_averages_in()
            if epoch == self.params["epochs"] - 1:
                # the last epoch: the averages stay in the model and keep their value
                for weight, average in self._weights_and_averages():
                    average[...] = weight

    def on_test_begin(self, logs=None):
        self._put_averages_in()

    def on_test_end(self, logs=None):
        self._take_averages_out()

    def on_predict_begin(self, logs=None):
        self._put_averages_in()

    def on_predict_end(self, logs=None):
        self._take_averages_out()
