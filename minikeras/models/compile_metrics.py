"""The metrics given to `compile`, as one metric: Keras's `compile_metrics`.

`model.metrics` lists the loss tracker, then this container, then each output's loss tracker,
then metrics of your own kept in the model's attributes, as Keras lists them; a custom
`train_step` updates them all the same way:

    for metric in self.metrics:
        if metric.name == "loss":
            metric.update_state(loss)
        else:
            metric.update_state(y, y_pred)
    return {m.name: m.result() for m in self.metrics}     # this one's result is a dict
"""

import copy

import numpy as np

from minikeras.losses.loss import apply_mask
from minikeras.metrics.reduction_metrics import MeanMetricWrapper
from minikeras.models.arrays import Arrays, as_list


class CompileMetrics:
    """Every compiled metric, each for its output; `result()` is a dict by their log names.

    Made by `compile` (so `model.metrics` lists it at once, as Keras's), built by `build` once
    the labels' shapes are known ('accuracy' depends on them); until then it holds no metric.
    """

    name = "compile_metrics"

    def __init__(self, entries=None, keys=None):
        self.entries = entries  # [(metric, output index)], named for the logs; None: not built
        self.keys = keys  # the outputs' keys, to read labels and outputs given as a dict

    @property
    def built(self):
        return self.entries is not None

    def build(self, entries, keys=None):
        self.entries, self.keys = entries, keys

    @property
    def metrics(self):
        return [metric for metric, _ in self.entries or []]

    @property
    def variables(self):
        return [variable for metric in self.metrics for variable in metric.variables]

    def update_state(self, y_true, y_pred, sample_weight=None, masks=None):
        """compile(metrics=...) are unweighted in Keras: sample weights reach only the loss
        and `weighted_metrics` (CompileMetrics.update_state, keras/src/trainers/).

        masks: each output's mask or None. Keras's metrics made of a function (accuracy, mae,
        ...: MeanMetricWrapper) weigh a masked timestep 0; the others do not read masks."""
        ys, preds = self._per_output(y_true), self._per_output(y_pred)
        masks = masks or [None] * len(preds)
        for metric, i in self.entries:
            weights = None
            if metric.weighted:
                weights = (
                    sample_weight.arrays[i]
                    if isinstance(sample_weight, Arrays)
                    else (sample_weight)
                )
            if masks[i] is not None and isinstance(metric, MeanMetricWrapper):
                weights = apply_mask(weights, masks[i], metric.dtype)
            if weights is None:
                metric.update_state(ys[i], preds[i])
            else:
                metric.update_state(ys[i], preds[i], sample_weight=weights)

    def _per_output(self, values):
        """One array, an Arrays, or (in a train_step of yours) a list or a dict by output key,
        as a list in the outputs' order."""
        if isinstance(values, dict):
            return [values.get(key) for key in self.keys]
        if isinstance(values, (list, tuple)) and self.keys is not None and len(self.keys) > 1:
            return list(values)
        return as_list(values)

    def check_shapes(self, ys, output_shapes, dtype):
        """Update a copy of each metric with one sample's labels and a prediction of its
        output's shape (zeros): a metric given labels it cannot take raises its error here."""
        for metric, i in self.entries:
            if ys[i] is None:
                continue
            shape = (1,) + tuple(1 if d is None else d for d in output_shapes[i][1:])
            copy.deepcopy(metric).update_state(ys[i][:1], np.zeros(shape, dtype))

    def result(self):
        if not self.built:  # Keras's message (CompileMetrics.result)
            raise ValueError("Cannot get result() since the metric has not yet been built.")
        return {metric.name: metric.result() for metric, _ in self.entries}

    def reset_state(self):
        for metric in self.metrics:
            metric.reset_state()

    def __repr__(self):
        return f"<CompileMetrics name=compile_metrics, metrics={[m.name for m in self.metrics]}>"
