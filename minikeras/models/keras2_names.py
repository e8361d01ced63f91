"""`model.compiled_loss` and `model.compiled_metrics`: Keras 2's names, which Keras 3 keeps (on
its TensorFlow backend) so that a Keras 2 `train_step` still runs:

    with GradientTape() as tape:
        y_pred = self(x, training=True)
        loss = self.compiled_loss(y, y_pred, regularization_losses=self.losses)
    ...
    self.compiled_metrics.update_state(y, y_pred)
    return {m.name: m.result() for m in self.metrics}

Both warn that they are deprecated, at every call, as Keras's do
(keras/src/backend/tensorflow/trainer.py, "Backwards compatibility shims"):

- `compiled_loss(y, y_pred, sample_weight)` is `compute_loss(x=None, y, y_pred, sample_weight)`.
  `regularization_losses` is ignored: `compute_loss` already adds `model.losses`.
- `compiled_metrics.update_state(y, y_pred, sample_weight)` updates every metric of
  `model.metrics`, and a `Mean` among them (the loss tracker first) with `y_pred` alone. So the
  `loss` this train_step reports is the mean of the predictions, not the loss: Keras 3 does
  exactly that, and minikeras reports what Keras reports.
"""

import warnings

from minikeras import metrics as metrics_module

METRICS_WARNING = (
    "`model.compiled_metrics()` is deprecated. Instead, use e.g.:\n"
    "```\n"
    "for metric in self.metrics:\n"
    "    metric.update_state(y, y_pred)\n"
    "```\n"
)
LOSS_WARNING = (
    "`model.compiled_loss()` is deprecated. Instead, use "
    "`model.compute_loss(x, y, y_pred, sample_weight, training)`."
)


def compiled_loss(model, y, y_pred, sample_weight=None, regularization_losses=None):
    """The total loss, as `compute_loss` gives it (recorded on the tape when one records)."""
    warnings.warn(LOSS_WARNING, UserWarning, stacklevel=3)
    return model.compute_loss(x=None, y=y, y_pred=y_pred, sample_weight=sample_weight)


class CompiledMetrics:
    """What `model.compiled_metrics` returns: an object whose `update_state` updates the
    model's metrics."""

    def __init__(self, model):
        self.model = model

    def update_state(self, y, y_pred, sample_weight=None):
        warnings.warn(METRICS_WARNING, UserWarning, stacklevel=2)
        model = self.model
        if model.compile_metrics is not None and not model.compile_metrics.built:
            model._build_metrics_from(y, y_pred)  # Keras builds its container at its first update
        for metric in model.metrics:
            if isinstance(metric, metrics_module.Mean):
                metric.update_state(y_pred, sample_weight=sample_weight)
            else:
                metric.update_state(y, y_pred, sample_weight=sample_weight)
