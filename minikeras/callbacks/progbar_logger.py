"""ProgbarLogger: Keras's progress bar (verbose=1) or one line per epoch (verbose=2)."""

from minikeras.callbacks.callback import Callback
from minikeras.utils.progbar import Progbar, print_msg


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

    def redraw_due_in(self) -> float:
        """Seconds until a batch's update would redraw the bar (Progbar's `redraw_due_in`)."""
        if self.progbar is None:
            self._new_bar()
        return self.progbar.redraw_due_in()

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
