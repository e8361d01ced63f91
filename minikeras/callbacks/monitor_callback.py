"""MonitorCallback: the base of callbacks that watch one logged quantity for improvement."""

import warnings

import numpy as np

from minikeras import ops
from minikeras.callbacks.callback import Callback


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
        # ops.less or ops.greater (Keras's own choice, which its tests compare against),
        # chosen at the first epoch end
        self.monitor_op = None

    def _set_monitor_op(self):
        if self.mode == "min" or (self.mode == "auto" and self._direction() == "down"):
            self.monitor_op = ops.less
            self.min_delta = -self.min_delta  # lower by more than min_delta: value + |d| < best
        else:
            self.monitor_op = ops.greater  # higher by more than min_delta: value - |d| > best

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
