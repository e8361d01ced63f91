"""Callbacks: code that `fit`, `evaluate` and `predict` call at fixed points of their loops.

The training loop calls, through one `CallbackList` (Keras 3's order)::

    on_train_begin()
    for epoch in range(initial_epoch, epochs):
        on_epoch_begin(epoch)
        for step, batch in enumerate(batches):
            on_train_batch_begin(step)
            logs = train_step(batch)               # running means since the epoch began
            on_train_batch_end(step, logs)
            if model.stop_training: break
        # validation: evaluate(..., callbacks=<the same CallbackList>), i.e.
        #   on_test_begin(), on_test_batch_begin/end(step, logs)..., on_test_end(val_logs)
        on_epoch_end(epoch, epoch_logs)            # train logs + val_* logs
        if model.stop_training: break
    on_train_end(last_epoch_logs)

Every hook receives `logs` as a flat dict of Python floats, keys sorted (`accuracy`, `loss`, ...):
the `CallbackList` converts what the model passes.

>>> history = History()
>>> hooks = CallbackList([history], model=None, verbose=0, epochs=2, steps=1)
>>> hooks.on_train_begin()
>>> for epoch, loss in enumerate([0.9, 0.7]):
...     hooks.on_epoch_begin(epoch)
...     hooks.on_epoch_end(epoch, {"loss": loss})
>>> hooks.on_train_end()
>>> history.history, history.epoch
({'loss': [0.9, 0.7]}, [0, 1])
"""

import collections.abc
import csv
import operator
import os
import warnings

import numpy as np

from minikeras.utils.progbar import Progbar, print_msg


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


def pythonify_logs(logs):
    """Logs as every callback sees them: keys sorted, nested dicts flattened, numbers as floats.

    A nested dict's items take the place of its key in the sorted order. Values that `float()`
    cannot convert (arrays, strings) are passed on unchanged.

    >>> pythonify_logs({"loss": np.float32(0.5), "compile_metrics": {"accuracy": 1}})
    {'accuracy': 1.0, 'loss': 0.5}
    """
    result = {}
    for key, value in sorted((logs or {}).items()):
        if isinstance(value, dict):
            result.update(pythonify_logs(value))
            continue
        try:
            value = float(value)
        except (TypeError, ValueError):
            pass
        result[key] = value
    return result


def _flatten(callbacks):
    if isinstance(callbacks, (list, tuple)):
        return [leaf for item in callbacks for leaf in _flatten(item)]
    return [callbacks]


class CallbackList(Callback):
    """Calls every hook on each of a list of callbacks, in order, with logs made plain.

    `fit` builds one with `add_history=True` (its `History` is what `fit` returns and becomes
    `model.history`) and `add_progbar=verbose != 0`; `evaluate` and `predict` build one with
    `add_progbar=verbose != 0`. The added `History` comes after the user's callbacks, the
    `ProgbarLogger` last, so a callback that writes into `logs` at `on_epoch_end`
    (`LearningRateScheduler`) is seen in the history and on the bar.

    Args:
        callbacks: a list of `Callback`s (nested lists are flattened).
        add_history: add a `History` unless the list holds one.
        add_progbar: add a `ProgbarLogger` unless the list holds one.
        model: the model, given to each callback by `set_model`.
        **params: given to each callback by `set_params` (`verbose`, `epochs`, `steps`).

    >>> hooks = CallbackList(add_history=True, verbose=0, epochs=1, steps=10)
    >>> [type(callback).__name__ for callback in hooks.callbacks]
    ['History']
    >>> hooks.callbacks[0].params
    {'verbose': 0, 'epochs': 1, 'steps': 10}
    """

    def __init__(self, callbacks=None, add_history=False, add_progbar=False, model=None, **params):
        super().__init__()
        self.callbacks = _flatten(callbacks) if callbacks else []
        self._open_blocks = 0  # on_*_begin calls not yet matched by on_*_end
        self._history = next((cb for cb in self.callbacks if isinstance(cb, History)), None)
        self._progbar = next((cb for cb in self.callbacks if isinstance(cb, ProgbarLogger)), None)
        if self._history is None and add_history:
            self._history = History()
            self.callbacks.append(self._history)
        if self._progbar is None and add_progbar:
            self._progbar = ProgbarLogger()
            self.callbacks.append(self._progbar)
        self.set_model(model)
        self.set_params(params)

    def set_params(self, params):
        self.params = params
        if params:
            for callback in self.callbacks:
                callback.set_params(params)

    def set_model(self, model):
        if model is None:
            return
        super().set_model(model)
        if self._history is not None:
            model.history = self._history
        for callback in self.callbacks:
            callback.set_model(model)

    def has_batch_hooks(self, mode):
        """Whether any callback overrides a `mode` ("train", "test" or "predict") batch hook; the
        loops skip the per-batch calls when none does (nothing per batch at verbose=0)."""
        names = [f"on_{mode}_batch_begin", f"on_{mode}_batch_end"]
        if mode == "train":
            names += ["on_batch_begin", "on_batch_end"]  # the older names, called by the new ones
        return any(
            # a bound method of Callback's own does nothing; LambdaCallback sets plain functions
            getattr(getattr(callback, name), "__func__", None) is not getattr(Callback, name)
            for callback in self.callbacks
            for name in names
        )

    def _call(self, hook, logs, *args):
        logs = pythonify_logs(logs)  # one new dict, shared by all the callbacks in turn
        for callback in self.callbacks:
            getattr(callback, hook)(*args, logs)

    def _call_batch(self, hook, batch, logs):
        logs = pythonify_logs(logs)
        for callback in self.callbacks:
            getattr(callback, hook)(batch, logs=logs)  # by keyword for batch hooks, as Keras

    def _begin(self, hook, logs):
        self._open_blocks += 1
        self._call(hook, logs)

    def _end(self, hook, logs):
        self._call(hook, logs)
        self._open_blocks -= 1
        if self._open_blocks < 0:
            raise ValueError(f"`{hook}` was called without a matching `on_*_begin` call.")

    def on_batch_begin(self, batch, logs=None):
        self._call_batch("on_batch_begin", batch, logs)

    def on_batch_end(self, batch, logs=None):
        self._call_batch("on_batch_end", batch, logs)

    def on_epoch_begin(self, epoch, logs=None):
        self._call("on_epoch_begin", logs, epoch)

    def on_epoch_end(self, epoch, logs=None):
        self._call("on_epoch_end", logs, epoch)

    def on_train_batch_begin(self, batch, logs=None):
        self._call_batch("on_train_batch_begin", batch, logs)

    def on_train_batch_end(self, batch, logs=None):
        self._call_batch("on_train_batch_end", batch, logs)

    def on_test_batch_begin(self, batch, logs=None):
        self._call_batch("on_test_batch_begin", batch, logs)

    def on_test_batch_end(self, batch, logs=None):
        self._call_batch("on_test_batch_end", batch, logs)

    def on_predict_batch_begin(self, batch, logs=None):
        self._call_batch("on_predict_batch_begin", batch, logs)

    def on_predict_batch_end(self, batch, logs=None):
        self._call_batch("on_predict_batch_end", batch, logs)

    def on_train_begin(self, logs=None):
        self._begin("on_train_begin", logs)

    def on_train_end(self, logs=None):
        self._end("on_train_end", logs)

    def on_test_begin(self, logs=None):
        self._begin("on_test_begin", logs)

    def on_test_end(self, logs=None):
        self._end("on_test_end", logs)

    def on_predict_begin(self, logs=None):
        self._begin("on_predict_begin", logs)

    def on_predict_end(self, logs=None):
        self._end("on_predict_end", logs)


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


class ProgbarLogger(Callback):
    """Prints the progress bar of `fit` (with `Epoch i/N` when there are several epochs),
    of `evaluate` and of `predict`. Added by those methods unless `verbose=0`.

    Inside `fit` the validation pass is silent: its results appear as `val_*` on the epoch line.
    The values shown are those in the logs, as given (`fit` passes running means).

    >>> import contextlib, io, re
    >>> out = io.StringIO()
    >>> logger = ProgbarLogger()
    >>> logger.set_params({"verbose": 2, "epochs": 2, "steps": 1})
    >>> with contextlib.redirect_stdout(out):
    ...     logger.on_train_begin()
    ...     logger.on_epoch_begin(0)
    ...     logger.on_train_batch_end(0, {"loss": 0.5})
    ...     logger.on_epoch_end(0, {"loss": 0.5, "val_loss": 0.75})
    >>> print(re.sub(r"\\d+(s|ms|us)/", "T/", out.getvalue()), end="")  # time per step varies
    Epoch 1/2
    1/1 - 0s - T/step - loss: 0.5000 - val_loss: 0.7500
    """

    def __init__(self):
        super().__init__()
        self.seen = 0
        self.progbar = None
        self.target = None
        self.verbose = 1
        self.epochs = 1
        self._called_in_fit = False

    def set_params(self, params):
        super().set_params(params)
        verbose = params.get("verbose", 1)
        self.verbose = 1 if verbose == "auto" else verbose
        self.epochs = params.get("epochs", 1)
        self.target = params.get("steps")

    def on_train_begin(self, logs=None):
        self._called_in_fit = True  # from now on, evaluate's hooks are fit's validation

    def on_test_begin(self, logs=None):
        if not self._called_in_fit:
            self._new_bar()

    def on_predict_begin(self, logs=None):
        self._new_bar()

    def on_epoch_begin(self, epoch, logs=None):
        self._new_bar()
        if self.verbose and self.epochs > 1:
            print_msg(f"Epoch {epoch + 1}/{self.epochs}")

    def on_train_batch_end(self, batch, logs=None):
        self._update(batch, logs)

    def on_test_batch_end(self, batch, logs=None):
        if not self._called_in_fit:
            self._update(batch, logs)

    def on_predict_batch_end(self, batch, logs=None):
        self._update(batch, None)  # the predictions themselves are not shown

    def on_epoch_end(self, epoch, logs=None):
        self._finish(logs)

    def on_test_end(self, logs=None):
        if not self._called_in_fit:
            self._finish(logs)

    def on_predict_end(self, logs=None):
        self._finish(logs)

    def _new_bar(self):
        self.seen = 0
        # stateless_metrics=set(): show every value as given, never re-averaged
        self.progbar = Progbar(self.target, verbose=self.verbose, stateless_metrics=set())

    def _update(self, batch, logs):
        if self.progbar is None:
            self._new_bar()
        self.seen = batch + 1
        if self.verbose == 1:
            self.progbar.update(self.seen, list((logs or {}).items()), finalize=False)

    def _finish(self, logs):
        if self.progbar is None:
            self._new_bar()
        if self.target is None:  # unknown number of steps: now we know
            self.target = self.progbar.target = self.seen
        self.progbar.update(self.target, list((logs or {}).items()), finalize=True)


class MonitorCallback(Callback):
    """Base of callbacks that watch one logged quantity (`monitor`) for improvement.

    `mode` "min" wants it lower, "max" higher, "auto" decides from the name: `loss` and
    `val_loss` are minimised; another name is looked up among `model.metrics` (an object with that
    `name` and a `_direction` of "up" or "down"), then among Keras's well-known metric names.
    An improvement must beat the reference by more than `min_delta`.
    """

    # Directions of Keras's built-in metrics, used when the model's metric objects do not say.
    MAXIMISED = set(
        "accuracy acc binary_accuracy categorical_accuracy sparse_categorical_accuracy auc r2_score"
        " top_k_categorical_accuracy sparse_top_k_categorical_accuracy precision recall".split()
    )
    MINIMISED = set(
        "mse mae mean_squared_error mean_absolute_error mean_absolute_percentage_error"
        " mean_squared_logarithmic_error root_mean_squared_error binary_crossentropy"
        " categorical_crossentropy sparse_categorical_crossentropy hinge squared_hinge"
        " kl_divergence poisson log_cosh_error".split()
    )

    def __init__(self, monitor="val_loss", mode="auto", baseline=None, min_delta=0):
        super().__init__()
        if mode not in ("auto", "min", "max"):
            warnings.warn(
                f"{type(self).__name__} mode '{mode}' is unknown, fallback to auto mode.",
                stacklevel=2,
            )
            mode = "auto"
        self.monitor = monitor
        self.mode = mode
        self.best = baseline
        self.min_delta = abs(min_delta)
        self.monitor_op = None  # operator.lt or operator.gt, chosen at the first epoch end

    def _set_monitor_op(self):
        if self.mode == "min" or (self.mode == "auto" and self._direction() == "down"):
            self.monitor_op = operator.lt
            self.min_delta = -self.min_delta  # lower by more than min_delta: value + |d| < best
        else:
            self.monitor_op = operator.gt  # higher by more than min_delta: value - |d| > best

    def _direction(self):
        name = self.monitor.removeprefix("val_")
        if name == "loss":
            return "down"
        for metric in _all_metrics(self.model):
            if getattr(metric, "name", None) == name and hasattr(metric, "_direction"):
                return "up" if metric._direction == "up" else "down"
        if name in self.MAXIMISED or name in self.MINIMISED:
            return "up" if name in self.MAXIMISED else "down"
        raise ValueError(
            f"{type(self).__name__} callback received monitor={self.monitor}, but minikeras "
            "isn't able to automatically determine whether that metric should be maximized or "
            "minimized. Pass `mode='max'` in order to monitor based on the highest metric "
            "value, or pass `mode='min'` in order to use the lowest value."
        )

    def _is_improvement(self, value, reference):
        """True if `value` beats `reference` (None: anything does) by more than min_delta."""
        if reference is None:
            return True
        # Keras compares through its backend, which turns Python floats into float32: so do we,
        # or a change below float32's precision would count here and not in Keras.
        return bool(self.monitor_op(np.float32(value - self.min_delta), np.float32(reference)))


def _all_metrics(model):
    """The model's metric objects, with those inside containers (Keras's compile metrics)."""
    found = []
    for metric in getattr(model, "metrics", None) or []:
        found.append(metric)
        found.extend(getattr(metric, "metrics", None) or [])
    return found


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


class LambdaCallback(Callback):
    """A callback made of plain functions, one per hook, given by the hook's name.

    `on_epoch_begin`/`on_epoch_end` receive `(epoch, logs)`, `on_train_begin`/`on_train_end`
    `(logs)`, the batch hooks `(batch, logs)`; any other hook can be given by its name too.

    >>> seen = []
    >>> printer = LambdaCallback(on_epoch_end=lambda epoch, logs: seen.append(logs["loss"]))
    >>> printer.on_epoch_end(0, {"loss": 0.5})
    >>> seen
    [0.5]
    """

    def __init__(
        self,
        on_epoch_begin=None,
        on_epoch_end=None,
        on_train_begin=None,
        on_train_end=None,
        on_train_batch_begin=None,
        on_train_batch_end=None,
        **kwargs,
    ):
        super().__init__()
        hooks = dict(
            on_epoch_begin=on_epoch_begin,
            on_epoch_end=on_epoch_end,
            on_train_begin=on_train_begin,
            on_train_end=on_train_end,
            on_train_batch_begin=on_train_batch_begin,
            on_train_batch_end=on_train_batch_end,
            **kwargs,
        )
        for name, function in hooks.items():
            if not (name.startswith("on_") and hasattr(Callback, name)):
                # Keras silently accepts any name, so a typo'd hook never runs: we say so.
                raise TypeError(f"LambdaCallback got an unknown hook name: {name!r}")
            if function is not None:
                setattr(self, name, function)


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
        if self.verbose > 0:
            print_msg(
                f"\nEpoch {epoch + 1}: LearningRateScheduler setting learning rate to "
                f"{learning_rate}."
            )

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:  # written into the dict the later callbacks receive
            logs["learning_rate"] = float(self.model.optimizer.learning_rate)


class CSVLogger(Callback):
    """Writes one CSV row per epoch: `epoch` then the logged values, in sorted key order.

    The columns are fixed at the first epoch. If it has no `val_` values, a `val_` column is
    still added for each key (left "NA"), as Keras does. Rows end in `\\r\\n` (the csv module's
    Excel dialect).

    Args:
        filename: the file to write, e.g. "training.log".
        separator: the column separator.
        append: add to an existing file (no second header) instead of overwriting it.

    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "log.csv")
    >>> logger = CSVLogger(path)
    >>> logger.on_train_begin()
    >>> logger.on_epoch_end(0, {"loss": 0.5, "accuracy": 0.75})
    >>> logger.on_train_end()
    >>> open(path, newline="").read()
    'epoch,accuracy,loss,val_accuracy,val_loss\\r\\n0,0.75,0.5,NA,NA\\r\\n'
    """

    def __init__(self, filename, separator=",", append=False):
        super().__init__()
        self.sep = separator
        self.filename = os.fspath(filename)
        self.append = append
        self.writer = None
        self.keys = None
        self.append_header = True
        self.csv_file = None

    def on_train_begin(self, logs=None):
        if self.append and os.path.exists(self.filename):
            with open(self.filename) as existing:
                self.append_header = not existing.readline()  # header only into an empty file
        if self.csv_file is not None and not self.csv_file.closed:
            self.csv_file.close()
        self.csv_file = open(self.filename, "a" if self.append else "w", newline="")
        self.writer = None
        self.keys = None

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self.keys is None:
            self.keys = sorted(logs)
            if self.keys and not any(key.startswith("val_") for key in self.keys):
                self.keys += [f"val_{key}" for key in self.keys]
        if self.writer is None:
            self.writer = csv.writer(self.csv_file, delimiter=self.sep)
            if self.append_header:
                self.writer.writerow(["epoch", *self.keys])
        self.writer.writerow([epoch, *(_csv_cell(logs.get(key, "NA")) for key in self.keys)])
        self.csv_file.flush()

    def on_train_end(self, logs=None):
        if self.csv_file is not None and not self.csv_file.closed:
            self.csv_file.close()
        self.writer = None


def _csv_cell(value):
    """A list or array becomes the text "[a, b]" (quoted); anything else is written as it is."""
    is_sequence = isinstance(value, collections.abc.Iterable) and not isinstance(value, str)
    if is_sequence and not (isinstance(value, np.ndarray) and value.ndim == 0):
        return f'"[{", ".join(map(str, value))}]"'
    return value


class ModelCheckpoint(MonitorCallback):
    """Save the model (or its weights) during `fit`: every epoch, every `save_freq` batches, or
    only when `monitor` improves (`save_best_only`), as Keras 3's ModelCheckpoint
    (keras/src/callbacks/model_checkpoint.py). Each save is atomic (see `minikeras.saving`).

    Args:
        filepath: where to save; may hold `{epoch:02d}`, `{batch}` and logged values such as
            `{val_loss:.2f}`. Ends in `.keras`, or `.weights.h5` with `save_weights_only`.
        monitor, mode: the quantity and its direction ("auto": from the name), as EarlyStopping.
        verbose: 1 prints a line whenever the callback saves or decides not to.
        save_best_only: save only when `monitor` beats the best value so far.
        save_weights_only: `model.save_weights(filepath)` instead of `model.save(filepath)`.
        save_freq: "epoch" or a number of batches.
        initial_value_threshold: the best value to beat at the start (with save_best_only).

    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "best.keras")
    >>> checkpoint = ModelCheckpoint(path, save_best_only=True)
    >>> checkpoint.save_best_only, checkpoint.monitor
    (True, 'val_loss')
    """

    def __init__(
        self,
        filepath,
        monitor="val_loss",
        verbose=0,
        save_best_only=False,
        save_weights_only=False,
        mode="auto",
        save_freq="epoch",
        initial_value_threshold=None,
    ):
        super().__init__(monitor, mode, initial_value_threshold)
        self.verbose = verbose
        self.filepath = os.fspath(filepath)
        self.save_best_only = save_best_only
        self.save_weights_only = save_weights_only
        self.save_freq = save_freq
        self._batches_seen_since_last_saving = 0
        self._last_batch_seen = None
        self._current_epoch = 0
        if save_freq != "epoch" and not isinstance(save_freq, int):
            raise ValueError(
                f"Unrecognized save_freq: {save_freq}. Expected save_freq are 'epoch' or "
                "integer values"
            )
        if save_weights_only and not self.filepath.endswith(".weights.h5"):
            raise ValueError(
                "When using `save_weights_only=True` in `ModelCheckpoint`, the filepath "
                "provided must end in `.weights.h5` (Keras weights format). Received: "
                f"filepath={self.filepath}"
            )
        if not save_weights_only and not self.filepath.endswith(".keras"):
            # Keras also takes `.h5` (its legacy format), which minikeras does not write
            raise ValueError(
                "The filepath provided must end in `.keras` (Keras model format). Received: "
                f"filepath={self.filepath}"
            )

    def on_epoch_begin(self, epoch, logs=None):
        self._current_epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if self._should_save_on_batch(batch):
            self._save_model(self._current_epoch, batch, logs)

    def on_epoch_end(self, epoch, logs=None):
        if self.monitor_op is None:
            self._set_monitor_op()  # as Keras: even without save_best_only
        if self.save_freq == "epoch":
            self._save_model(epoch, None, logs)

    def _should_save_on_batch(self, batch):
        """Count batches (the step number restarts each epoch); True every `save_freq`."""
        if self.save_freq == "epoch":
            return False
        if self._last_batch_seen is None or batch <= self._last_batch_seen:
            add_batches = batch + 1  # a new epoch began
        else:
            add_batches = batch - self._last_batch_seen
        self._batches_seen_since_last_saving += add_batches
        self._last_batch_seen = batch
        if self._batches_seen_since_last_saving >= self.save_freq:
            self._batches_seen_since_last_saving = 0
            return True
        return False

    def _should_save_model(self, epoch, logs, filepath):
        """Keras's decision and messages (epochs are shown counting from 1)."""
        if not self.save_best_only:
            if self.verbose > 0:
                print_msg(f"\nEpoch {epoch + 1}: saving model to {filepath}")
            return True
        current = (logs or {}).get(self.monitor)
        if current is None:
            warnings.warn(f"Can save best model only with {self.monitor} available.", stacklevel=3)
            return True
        if isinstance(current, np.ndarray) and current.ndim > 0:
            warnings.warn(
                f"Can save best model only when `monitor` is a scalar value. Received: "
                f"{current}. Falling back to `save_best_only=False`.",
                stacklevel=3,
            )
            return True
        best_str = "None" if self.best is None else f"{self.best:.5f}"
        if self._is_improvement(current, self.best):
            if self.verbose > 0:
                print_msg(
                    f"\nEpoch {epoch + 1}: {self.monitor} improved from {best_str} to "
                    f"{current:.5f}, saving model to {filepath}"
                )
            self.best = current
            return True
        if self.verbose > 0:
            print_msg(f"\nEpoch {epoch + 1}: {self.monitor} did not improve from {best_str}")
        return False

    def _save_model(self, epoch, batch, logs):
        filepath = self._get_file_path(epoch, batch, logs or {})
        if not self._should_save_model(epoch, logs, filepath):
            return
        if os.path.isdir(filepath):
            raise OSError(
                "Please specify a non-directory filepath for ModelCheckpoint. Filepath used is "
                f"an existing directory: {filepath}"
            )
        dirname = os.path.dirname(filepath)
        if dirname:
            os.makedirs(dirname, exist_ok=True)
        if self.save_weights_only:
            self.model.save_weights(filepath, overwrite=True)
        else:
            self.model.save(filepath, overwrite=True)
        if self.verbose > 0:
            print_msg(f"\nEpoch {epoch + 1}: finished saving model to {filepath}")

    def _get_file_path(self, epoch, batch, logs):
        """The filepath with its placeholders filled: epoch and batch count from 1."""
        try:
            if batch is None or "batch" in logs:
                return self.filepath.format(epoch=epoch + 1, **logs)
            return self.filepath.format(epoch=epoch + 1, batch=batch + 1, **logs)
        except KeyError as error:
            raise KeyError(
                f'Failed to format this callback filepath: "{self.filepath}". Reason: {error}'
            ) from None


class BackupAndRestore(Callback):
    """Back up the training state at the end of every epoch (or every `save_freq` batches), so
    that a `fit` interrupted by an error or a kill resumes from the last backup when run again,
    as Keras 3's BackupAndRestore (keras/src/callbacks/backup_and_restore.py).

    In `backup_dir`: `latest.weights.h5` (weights and optimizer state, Keras's weights format)
    and `training_metadata.json` ({"epoch": epochs done, "batch": ...}). At the next `fit`'s
    start they are loaded and `fit` goes on from that epoch (`model._initial_epoch`). After a
    `fit` that completes, the directory is deleted (unless `delete_checkpoint=False`).

    Args:
        backup_dir: a directory used by this callback only.
        save_freq: "epoch" or a number of batches.
        double_checkpoint: also keep the previous backup (`*.bkp`), used if the latest one
            cannot be read.
        delete_checkpoint: delete `backup_dir` when training completes.

    >>> import tempfile
    >>> BackupAndRestore(backup_dir=tempfile.mkdtemp()).save_freq
    'epoch'
    """

    def __init__(
        self, backup_dir, save_freq="epoch", double_checkpoint=False, delete_checkpoint=True
    ):
        super().__init__()
        if not backup_dir:
            raise ValueError("Empty `backup_dir` argument passed")
        if save_freq != "epoch" and not isinstance(save_freq, int):
            raise ValueError(
                f"Invalid value for argument `save_freq`. Received: save_freq={save_freq}. "
                "Expected either 'epoch' or an integer value."
            )
        self.backup_dir = os.fspath(backup_dir)
        self.save_freq = save_freq
        self.double_checkpoint = double_checkpoint
        self.delete_checkpoint = delete_checkpoint
        self._batches_seen_since_last_saving = 0
        self._last_batch_seen = 0
        self._current_epoch = 0
        self._weights_path = os.path.join(self.backup_dir, "latest.weights.h5")
        self._training_metadata_path = os.path.join(self.backup_dir, "training_metadata.json")
        self._prev_weights_path = f"{self._weights_path}.bkp"
        self._prev_training_metadata_path = f"{self._training_metadata_path}.bkp"

    def on_train_begin(self, logs=None):
        import shutil

        from minikeras.saving import BadFileError

        try:
            self._load_model()
        except (OSError, BadFileError):
            # the latest backup cannot be read: fall back on the previous one, if kept
            if not os.path.exists(self._prev_weights_path):
                raise
            shutil.copyfile(self._prev_weights_path, self._weights_path)
            if os.path.exists(self._prev_training_metadata_path):
                shutil.copyfile(self._prev_training_metadata_path, self._training_metadata_path)
            elif os.path.exists(self._training_metadata_path):
                os.remove(self._training_metadata_path)
            self._load_model()

    def _load_model(self):
        if not self.model.built:
            raise ValueError(
                "To use the BackupAndRestore callback, you model must be built before you call "
                f"`fit()`. Model {self.model} is unbuilt. You can build it beforehand by calling "
                "it on a batch of data."
            )
        if os.path.exists(self._weights_path):
            optimizer = getattr(self.model, "optimizer", None)
            if optimizer is not None and not optimizer.built:
                optimizer.build(self.model.trainable_weights)  # slots to load into
            self.model.load_weights(self._weights_path)
        if os.path.exists(self._training_metadata_path):
            import json

            with open(self._training_metadata_path) as f:
                self.model._initial_epoch = json.loads(f.read())["epoch"]

    def on_epoch_end(self, epoch, logs=None):
        self._current_epoch = epoch + 1
        self._last_batch_seen = 0
        if self.save_freq == "epoch":
            self._save_model()

    def on_train_batch_end(self, batch, logs=None):
        if self._should_save_on_batch(batch):
            self._save_model()

    def _should_save_on_batch(self, batch):
        if self.save_freq == "epoch":
            return False
        if batch <= self._last_batch_seen:  # a new epoch began
            add_batches = batch + 1
        else:
            add_batches = batch - self._last_batch_seen
        self._batches_seen_since_last_saving += add_batches
        self._last_batch_seen = batch
        if self._batches_seen_since_last_saving >= self.save_freq:
            self._batches_seen_since_last_saving = 0
            return True
        return False

    def _save_model(self):
        """Weights first, then the epoch count: a kill between the two leaves the count one
        behind (an epoch trained twice), never ahead (an epoch skipped). Both writes atomic."""
        import json
        import shutil

        from minikeras.saving import atomic_write

        os.makedirs(self.backup_dir, exist_ok=True)
        if self.double_checkpoint and os.path.exists(self._weights_path):
            shutil.copyfile(self._weights_path, self._prev_weights_path)
        if self.double_checkpoint and os.path.exists(self._training_metadata_path):
            shutil.copyfile(self._training_metadata_path, self._prev_training_metadata_path)
        self.model.save_weights(self._weights_path, overwrite=True)
        metadata = {"epoch": self._current_epoch, "batch": self._last_batch_seen}
        with atomic_write(self._training_metadata_path) as tmp:
            with open(tmp, "w") as f:
                f.write(json.dumps(metadata))

    def on_train_end(self, logs=None):
        if self.delete_checkpoint and os.path.exists(self.backup_dir):
            import shutil

            shutil.rmtree(self.backup_dir)
