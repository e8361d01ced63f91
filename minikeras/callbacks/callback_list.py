"""CallbackList: calls each hook on every callback, with the logs made plain."""

from minikeras.callbacks.callback import Callback
from minikeras.callbacks.history import History
from minikeras.callbacks.progbar_logger import ProgbarLogger


def pythonify_logs(logs):
    """Logs as every callback sees them: keys sorted, nested dicts flattened, numbers as floats.

    A nested dict's items take the place of its key in the sorted order. Values that `float()`
    cannot convert (arrays, strings) are passed on unchanged.

    >>> pythonify_logs({"loss": 0.5, "compile_metrics": {"accuracy": 1}})
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


def _looks_at_batches(callback, mode):
    """Whether `callback` overrides a `mode` ("train", "test" or "predict") batch hook."""
    names = [f"on_{mode}_batch_begin", f"on_{mode}_batch_end"]
    if mode == "train":
        names += ["on_batch_begin", "on_batch_end"]  # the older names, called by the new ones
    # a bound method of Callback's own does nothing; LambdaCallback sets plain functions
    return any(
        getattr(getattr(callback, name), "__func__", None) is not getattr(Callback, name)
        for name in names
    )


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
        return any(_looks_at_batches(callback, mode) for callback in self.callbacks)

    def progress_bar_only(self, mode):
        """The ProgbarLogger, when it is the only callback that looks at each `mode` batch (a
        subclass of it may do more: then None, as when another callback looks)."""
        looking = [callback for callback in self.callbacks if _looks_at_batches(callback, mode)]
        if len(looking) == 1 and type(looking[0]) is ProgbarLogger:
            return looking[0]
        return None

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
