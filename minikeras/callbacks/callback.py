"""The base class: every hook a callback can override, each doing nothing."""


class Callback:
    """Base class of callbacks: override the hooks you need; all others do nothing.

    `params` (a dict: `verbose`, `epochs`, `steps`) and `model` are set before training starts.
    `on_train_batch_begin/end` call `on_batch_begin/end`, Keras's older names, so overriding
    either works.

    >>> class CountBatches(Callback):
    ...     def on_train_begin(self, logs=None):
    ...         self.count = 0
    ...     def on_train_batch_end(self, batch, logs=None):
    ...         self.count += 1
    >>> counter = CountBatches()
    >>> counter.on_train_begin()
    >>> for step in range(3):
    ...     counter.on_train_batch_end(step, {"loss": 1.0})
    >>> counter.count
    3
    """

    def __init__(self):
        self.params = None
        self._model = None

    def set_params(self, params):
        self.params = params

    def set_model(self, model):
        self._model = model

    @property
    def model(self):
        """The model being trained, evaluated or used to predict."""
        return self._model

    def on_batch_begin(self, batch, logs=None):
        """Older name of `on_train_batch_begin`."""

    def on_batch_end(self, batch, logs=None):
        """Older name of `on_train_batch_end`."""

    def on_epoch_begin(self, epoch, logs=None):
        """Called at the start of epoch `epoch` (0-based) of `fit`."""

    def on_epoch_end(self, epoch, logs=None):
        """Called at the end of an epoch of `fit`; `logs` holds its metrics and `val_` ones."""

    def on_train_batch_begin(self, batch, logs=None):
        """Called before training batch `batch` (0-based, within the epoch)."""
        self.on_batch_begin(batch, logs=logs)

    def on_train_batch_end(self, batch, logs=None):
        """Called after a training batch; `logs` holds the epoch's running means so far."""
        self.on_batch_end(batch, logs=logs)

    def on_test_batch_begin(self, batch, logs=None):
        """Called before a batch of `evaluate` (or of `fit`'s validation)."""

    def on_test_batch_end(self, batch, logs=None):
        """Called after a batch of `evaluate`; `logs` holds the running means so far."""

    def on_predict_batch_begin(self, batch, logs=None):
        """Called before a batch of `predict`."""

    def on_predict_batch_end(self, batch, logs=None):
        """Called after a batch of `predict`; `logs` is `{"outputs": batch_predictions}`."""

    def on_train_begin(self, logs=None):
        """Called once when `fit` starts."""

    def on_train_end(self, logs=None):
        """Called once when `fit` ends; `logs` are the last epoch's logs."""

    def on_test_begin(self, logs=None):
        """Called when `evaluate` (or `fit`'s validation) starts."""

    def on_test_end(self, logs=None):
        """Called when `evaluate` ends; `logs` are its final metrics."""

    def on_predict_begin(self, logs=None):
        """Called when `predict` starts."""

    def on_predict_end(self, logs=None):
        """Called when `predict` ends."""


def learning_rates(optimizer):
    """The learning rate(s) the callbacks log: {"learning_rate": lr}, or for a MultiOptimizer
    one `learning_rate_<name>` per sub-optimizer, as Keras's callbacks name them."""
    if hasattr(optimizer, "optimizers"):
        return {
            f"learning_rate_{inner.name}": float(inner.learning_rate)
            for inner in optimizer.optimizers
        }
    return {"learning_rate": float(optimizer.learning_rate)}
