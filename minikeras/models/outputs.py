"""Several outputs: which loss, loss weight and metrics each output gets from `compile`, and
the names Keras gives them in the logs.

    compile(loss="mse")                              the same loss for every output
    compile(loss=["categorical_crossentropy", "mse"])   one per output, in the outputs' order
    compile(loss={"out_a": ..., "out_b": ...})       by output name (None: no loss there)
    loss_weights=[1.0, 0.5] or {"out_b": 0.5}        total loss = Σ weightᵢ · lossᵢ
    metrics=[["accuracy"], ["mae"]] or {"out_a": "accuracy"}

Log names (keras/src/trainers/compile_utils.py): with several outputs, each metric is prefixed
by its output's name (`out_a_accuracy`), and when more than one output has a loss, each output's
unweighted loss is tracked too (`out_a_loss`); `loss` is always the weighted total.

A loss that is more than one per output (several losses for one output, a loss over a branch
of nested outputs: `needs_compile_loss`) is Keras's CompileLoss instead
(minikeras/trainers/compile_utils.py); the outputs then get their metrics here, and no loss.
"""

import copy
import numbers
from collections import Counter
from dataclasses import dataclass, field

from minikeras import config
from minikeras import losses as losses_module
from minikeras import metrics as metrics_module

# The activations whose output remembers its input z in Keras (`output._keras_logits`, set in
# keras/src/activations/activations.py). Keras's crossentropies look for that attribute first
# (`_get_logits` in keras/src/backend/tensorflow/nn.py): after either activation, inside fit and
# evaluate, every crossentropy (categorical, sparse, binary) is computed from z with its own
# from-logits formula, and `from_logits=True` changes nothing.
LOGITS_ACTIVATIONS = ("softmax", "sigmoid")


def loss_dtype(loss):
    """The dtype a loss computes in: its own, else floatx. Keras's Loss casts y_pred to it,
    so a float64 output of a float32 model is scored in float32."""
    return loss.dtype or config.floatx()


def logits_layer(chain, loss, training):
    """The layer whose logits a crossentropy starts from, or None: the loss path, decided here.

    `chain`: the layers that lead to the output, last first. Layers that pass their input on
    unchanged in this mode (Dropout at inference) are looked through, as the tensor Keras gets
    back is the same object, still carrying `_keras_logits`; in training, Dropout makes a new
    tensor and the loss starts from the clipped probabilities, as in Keras.

    A layer of another dtype than the loss (`Dense(..., dtype="float64")` ending a float32
    model) loses the logits too: Keras casts its output to the loss's dtype (Loss.__call__),
    and the cast tensor carries no `_keras_logits`.
    """
    if loss is None or not loss.logits_activation:
        return None
    return activation_layer(chain, training, dtype=loss_dtype(loss))


def activation_layer(chain, training, dtype=None):
    """The layer of `chain` (last first) whose softmax or sigmoid makes the output, looking
    through layers that pass their input on unchanged in this mode; else None (also when a
    layer on the way computes in another dtype than `dtype`, if given)."""
    for layer in chain:
        if dtype is not None and layer.dtype != dtype:
            return None
        if layer.is_identity(training):
            continue
        return layer if layer.output_activation in LOGITS_ACTIVATIONS else None
    return None


@dataclass
class OutputSpec:
    """What one output is trained and measured with."""

    name: str  # its name in the logs: the output layer's name (or key, for a dict of outputs)
    loss: object = None  # a Loss, or None: this output does not count in the loss
    weight: float = None  # None: weight 1, as Keras multiplies only by a given weight
    metrics: list = field(default_factory=list)  # identifiers, resolved once labels are seen
    weighted_metrics: list = field(default_factory=list)  # the same, given sample weights

    def resolve_loss(self, y_shape, output_shape):
        """The loss, once the labels are seen: 'crossentropy' becomes binary, sparse or
        categorical from the shapes, as Keras's compile does (`losses.resolve`)."""
        if isinstance(self.loss, str):
            self.loss = losses_module.resolve(self.loss, y_shape, output_shape)
        return self.loss


class InvalidMetrics(ValueError):
    """`metrics` that match neither the outputs' names nor their number."""


def needs_compile_loss(loss, outputs_struct, names):
    """Whether `loss` asks for more than one loss for each output, so that Keras's CompileLoss
    (minikeras/trainers/compile_utils.py) computes it: several losses for one output
    (`["mse", ["mse", "bce"]]`), a loss over a branch of the outputs (a list for a tuple of
    outputs, a dict inside a list), more or fewer losses than outputs, a dict of losses naming
    keys a dict of outputs lacks, or outputs nested deeper than one list or dict."""
    if loss is None or (isinstance(loss, dict) and "class_name" in loss):
        return False
    children = outputs_struct.values() if isinstance(outputs_struct, dict) else outputs_struct
    if isinstance(outputs_struct, (list, tuple, dict)) and any(
        isinstance(child, (list, tuple, dict)) for child in children
    ):
        return len(names) > 1
    if isinstance(loss, dict):
        if isinstance(outputs_struct, dict) and not set(loss) <= set(names):
            return True
        if outputs_struct is None and set(loss) != set(names):
            # a subclassed model's outputs are known only once it runs: a dict of losses
            # keyed by the keys of the dict its call returns is matched to them then
            return True
        entries = list(loss.values())
    elif isinstance(loss, (list, tuple)):
        if len(loss) != len(names):
            return True
        entries = list(loss)
    else:
        return False
    # one loss, or a list of one loss, per output: each output's own (`resolve`)
    return not all(
        not isinstance(one, (list, tuple, dict))
        or (
            isinstance(one, (list, tuple))
            and len(one) == 1
            and not isinstance(one[0], (list, tuple, dict))
        )
        for one in entries
    )


def resolve(loss, loss_weights, metrics, names, weighted_metrics=None):
    """One OutputSpec per output name, from compile()'s arguments; ValueError on a mismatch."""
    losses = [_one_loss(one, name) for one, name in zip(_per_output(loss, names, "loss"), names)]
    # 'crossentropy' ('ce') waits for the labels' shapes to choose its kind (`resolve_loss`)
    resolved = [
        one if one is None or losses_module.chosen_from_data(one) else losses_module.to_loss(one)
        for one in losses
    ]
    weights = _loss_weights(loss_weights, loss, names)
    return [
        OutputSpec(name, one_loss, weight, one_metrics, weighted)
        for name, one_loss, weight, one_metrics, weighted in zip(
            names, resolved, weights, _metrics(metrics, names), _metrics(weighted_metrics, names)
        )
    ]


def _one_loss(value, name):
    """An output's loss given in a list of one (`loss={"out": ["mse"]}`, `["mse", ["bce"]]`)
    is that loss, as Keras reads the loss structure against the outputs'."""
    while isinstance(value, (list, tuple)) and len(value) == 1:
        (value,) = value
    if isinstance(value, (list, tuple)):
        # (compile hands such a loss to CompileLoss: `needs_compile_loss`)
        raise ValueError(f"Output {name!r} was given {len(value)} losses ({list(value)}).")
    return value


def _per_output(value, names, argument):
    """A single value for every output, a list in the outputs' order, or a dict by name (a
    serialized object, {"class_name": ..., "config": ...}, is a single value)."""
    if isinstance(value, dict) and "class_name" in value and "class_name" not in names:
        return [value] * len(names)
    if isinstance(value, dict):
        if set(value) != set(names):
            raise ValueError(
                f"Expected keys {names} in {argument} dict, but found "
                f"{argument}.keys()={list(value)}"
            )
        return [value[name] for name in names]
    if isinstance(value, (list, tuple)):
        if len(value) != len(names):
            raise ValueError(
                f"`{argument}` has {len(value)} entries for a model with {len(names)} outputs "
                f"{names}: give one per output (None for an output without one), a dict by "
                "output name, or a single value for every output."
            )
        return list(value)
    return [value] * len(names)


def _loss_weights(loss_weights, loss, names):
    """One weight (or None) per output. As in Keras, a list or dict of weights needs a list or
    dict of losses (one loss for every output takes one weight at most)."""
    if loss_weights is None:
        return [None] * len(names)
    if isinstance(loss_weights, numbers.Number):
        return [float(loss_weights)] * len(names)
    count = len(loss_weights)
    if not isinstance(loss, (list, tuple, dict)) and count != 1:
        raise ValueError(
            f"`loss_weights` must match the number of losses, got 1 losses and {count} weights."
        )
    if not isinstance(loss, (list, tuple, dict)):
        (weight,) = loss_weights.values() if isinstance(loss_weights, dict) else loss_weights
        return [float(weight)] * len(names)
    if isinstance(loss_weights, dict):
        unknown = set(loss_weights) - set(names)
        if unknown:
            raise ValueError(
                f"`loss_weights` names {sorted(unknown)}, which are not outputs of the model "
                f"{names}."
            )
        return [loss_weights.get(name) for name in names]
    return _per_output(list(loss_weights), names, "loss_weights")


def _metrics(metrics, names):
    """The metric identifiers of each output (a list per output)."""
    if not metrics:
        return [[] for _ in names]
    if len(names) == 1:  # every metric given is for the one output, however nested
        values = list(metrics.values()) if isinstance(metrics, dict) else metrics
        flat = []
        for value in values if isinstance(values, (list, tuple)) else [values]:
            flat.extend(value if isinstance(value, (list, tuple)) else [value])
        return [flat]
    if isinstance(metrics, dict) and set(metrics) <= set(names):
        per_output = [metrics.get(name) for name in names]
    elif isinstance(metrics, (list, tuple)) and len(metrics) == len(names):
        per_output = list(metrics)
    else:
        raise InvalidMetrics(
            "Invalid `metrics`. `metrics` should contain metrics objects and either be a dict "
            f"or a list matching the output names of the functional model {names}: one entry "
            f"per output (a metric or a list of them). Received: metrics={metrics}"
        )
    return [
        [] if one is None else list(one) if isinstance(one, (list, tuple)) else [one]
        for one in per_output
    ]


def check_metric_names(specs):
    """Fail at compile on an unknown metric name ('accuracy' is resolved later, from shapes)."""
    for spec in specs:
        for identifier in spec.metrics + spec.weighted_metrics:
            if not (isinstance(identifier, str) and identifier.lower() in ("accuracy", "acc")):
                metrics_module.get(identifier)


def build_metrics(specs, y_shapes, output_shapes):
    """The metric objects, named for the logs: [(metric, output index)] then the per-output loss
    trackers [(Mean, output index)]. A metric is prefixed by its output's name when the model
    has several outputs; a repeated name gets `_1`, `_2`, ... (Keras's CompileMetrics.result)."""
    several = len(specs) > 1
    entries, seen = [], Counter()
    for weighted in (False, True):  # the weighted metrics after the others, as Keras's
        for i, spec in enumerate(specs):
            for identifier in spec.weighted_metrics if weighted else spec.metrics:
                metric = copy.copy(
                    metrics_module.resolve(identifier, y_shapes[i], output_shapes[i], spec.loss)
                )
                metric.base_name = metric.name
                metric.weighted = weighted
                name = f"{spec.name}_{metric.name}" if several else metric.name
                if weighted and seen[name]:  # beside an unweighted twin: weighted_<name>
                    name = f"{spec.name}_weighted_{metric.name}" if several else f"weighted_{name}"
                metric.name = name if not seen[name] else f"{name}_{seen[name]}"
                seen[name] += 1
                entries.append((metric, i))
    with_loss = [i for i, spec in enumerate(specs) if spec.loss is not None]
    trackers = []
    if len(with_loss) > 1:
        trackers = [(metrics_module.Mean(name=f"{specs[i].name}_loss"), i) for i in with_loss]
    return entries, trackers
