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

from minikeras.models.arrays import Arrays, as_list


class CompileMetrics:
    """Every compiled metric, each for its output; `result()` is a dict by their log names."""

    name = "compile_metrics"

    def __init__(self, entries):
        self.entries = entries  # [(metric, output index)], named for the logs

    @property
    def metrics(self):
        return [metric for metric, _ in self.entries]

    def update_state(self, y_true, y_pred, sample_weight=None):
        """compile(metrics=...) are unweighted in Keras: sample weights reach only the loss
        and `weighted_metrics` (CompileMetrics.update_state, keras/src/trainers/)."""
        ys, preds = as_list(y_true), as_list(y_pred)
        for metric, i in self.entries:
            if metric.weighted:
                weights = (
                    sample_weight.arrays[i]
                    if isinstance(sample_weight, Arrays)
                    else (sample_weight)
                )
                metric.update_state(ys[i], preds[i], sample_weight=weights)
            else:
                metric.update_state(ys[i], preds[i])

    def check_shapes(self, ys, output_shapes, dtype):
        """Update a copy of each metric with one sample's labels and a prediction of its
        output's shape (zeros): a metric given labels it cannot take raises its error here."""
        for metric, i in self.entries:
            if ys[i] is None:
                continue
            shape = (1,) + tuple(1 if d is None else d for d in output_shapes[i][1:])
            copy.deepcopy(metric).update_state(ys[i][:1], np.zeros(shape, dtype))

    def result(self):
        return {metric.name: metric.result() for metric, _ in self.entries}

    def reset_state(self):
        for metric, _ in self.entries:
            metric.reset_state()

    def __repr__(self):
        return f"<CompileMetrics name=compile_metrics, metrics={[m.name for m in self.metrics]}>"
