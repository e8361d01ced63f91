"""What `compile(loss=..., metrics=...)` becomes for outputs of any structure: Keras's
`CompileLoss` and `CompileMetrics` (keras/src/trainers/compile_utils.py).

Both are built from the first labels and predictions they see, `build(y_true, y_pred)`,
because what a name means can depend on the data ('accuracy', 'crossentropy').

A loss is given for every leaf of the outputs, or for a whole branch of them: a loss placed
where the outputs hold a dict or a tuple receives that dict or tuple. Several losses may sit
where one output is (`loss=["mse", ["mse", "binary_crossentropy"]]`): their sum counts.

    outputs: {"a": (y1, y2), "d": y3}
    loss:    {"a": [f, (None, g)], "d": h}     f(y_true["a"], y_pred["a"]) on the pair,
                                               g on y2 alone, h on y3
    names:   a_loss, a/y2_loss, d_loss         (each term's path; an index is replaced by
                                               the output's name)

The total is Σ weightᵢ · lossᵢ. With more than one term, each term's unweighted value is
also tracked as a `<name>_loss` mean, as Keras's logs show.

>>> import numpy as np
>>> compile_loss = CompileLoss(loss={"a": "mse", "b": "mae"}, loss_weights={"a": 1.0, "b": 0.5})
>>> y = {"a": np.zeros((2, 1)), "b": np.zeros((2, 1))}
>>> p = {"a": np.ones((2, 1)), "b": np.full((2, 1), 2.0)}
>>> float(compile_loss(y, p))  # 1·1 + 0.5·2
2.0
>>> [m.name for m in compile_loss.metrics]
['a_loss', 'b_loss']
"""

import collections

import numpy as np

from minikeras import autodiff, ops, tree
from minikeras import losses as losses_module
from minikeras import metrics as metrics_module
from minikeras.layers.node import KerasTensor


# ---------------------------------------------------------------------------- one metric
class MetricsList(metrics_module.Metric):
    """The metrics of one output, updated together; `output_name` prefixes their log names."""

    def __init__(self, metrics, name="metrics_list", output_name=None):
        super().__init__(name=name)
        self.metrics = metrics
        self.output_name = output_name

    def update_state(self, y_true, y_pred, sample_weight=None):
        for metric in self.metrics:
            metric.update_state(y_true, y_pred, sample_weight=sample_weight)

    def reset_state(self):
        for metric in self.metrics:
            metric.reset_state()

    def result(self):
        return {metric.name: metric.result() for metric in self.metrics}

    def get_config(self):
        raise NotImplementedError

    @classmethod
    def from_config(cls, config):
        raise NotImplementedError


def _shape(x):
    return tuple(np.shape(x)) if not isinstance(x, (KerasTensor, autodiff.Tensor)) else x.shape


def is_binary_or_sparse_categorical(y_true, y_pred):
    """(one output unit, labels of lower rank or one column against several units): what
    'accuracy' and 'crossentropy' are chosen by."""
    true_shape, pred_shape = _shape(y_true), _shape(y_pred)
    is_binary = pred_shape[-1] == 1
    is_sparse = len(true_shape) < len(pred_shape) or (true_shape[-1] == 1 and pred_shape[-1] > 1)
    return is_binary, is_sparse


def _object_name(obj):
    """Keras's `get_object_name`: a `name`, else `__name__`, else the class name in snake case."""
    if hasattr(obj, "name"):
        return obj.name
    if hasattr(obj, "__name__"):
        return obj.__name__
    return metrics_module.to_snake_case(type(obj).__name__)


def get_metric(identifier, y_true, y_pred):
    """The metric object for one identifier and one output. A name keeps its spelling in the
    logs ('acc' stays `acc`, though it measures categorical accuracy here); an object or a
    function is named by its own name."""
    if identifier is None:
        raise ValueError("Expected metric, received `None`")
    metric = metrics_module.resolve(identifier, _shape(y_true), _shape(y_pred))
    metric.name = identifier if isinstance(identifier, str) else _object_name(metric)
    return metric


def get_metrics_list(metrics, y_true, y_pred, output_name=None):
    """One output's metrics (one identifier or a list of them) as a MetricsList."""
    if metrics is None:
        return None
    identifiers = metrics if isinstance(metrics, (list, tuple)) else [metrics]
    return MetricsList(
        [get_metric(m, y_true, y_pred) for m in identifiers], output_name=output_name
    )


def get_loss(identifier, y_true, y_pred):
    """The Loss object for one identifier and one output (None: no loss there). A name
    becomes the loss it stands for, named as written; 'crossentropy' is chosen from the data."""
    if identifier is None:
        return None
    loss = losses_module.resolve(identifier, _shape(y_true), _shape(y_pred))
    if isinstance(identifier, str):
        loss.name = identifier
    elif not isinstance(losses_module.get(identifier), losses_module.Loss):
        loss.name = _object_name(identifier)  # a function (or a metric) of yours
    return loss


# ---------------------------------------------------------------------------- metrics
class CompileMetrics(metrics_module.Metric):
    """The `metrics` and `weighted_metrics` of `compile`, one list per output, as one metric
    whose `result()` is a dict by log name. Only `weighted_metrics` receive sample weights.

    `metrics` is one list for the only output, or a list (one entry per output) or a dict (by
    output name, a key for each output that has metrics), or the outputs' own nested
    structure."""

    def __init__(self, metrics, weighted_metrics, name="compile_metric", output_names=None):
        super().__init__(name=name)
        for argument, value in (("metrics", metrics), ("weighted_metrics", weighted_metrics)):
            if value and not isinstance(value, (list, tuple, dict)):
                raise ValueError(
                    f"Expected `{argument}` argument to be a list, tuple, or dict. "
                    f"Received instead: {argument}={value} of type {type(value)}"
                )
        self._user_metrics = metrics
        self._user_weighted_metrics = weighted_metrics
        self.built = False
        self.name = "compile_metrics"  # the name the logs know it by, whatever was passed
        self.output_names = output_names
        self._resolved_output_names = None

    @property
    def metrics(self):
        if not self.built:
            return []
        return [
            metric
            for metrics_list in self._flat_metrics + self._flat_weighted_metrics
            if metrics_list is not None
            for metric in metrics_list.metrics
        ]

    @property
    def variables(self):
        return [v for metric in self.metrics for v in metric.variables]

    def build(self, y_true, y_pred):
        count = len(tree.flatten(y_pred))
        # "flat": one list or dict of outputs, nothing nested deeper
        flat = tree.is_nested(y_pred) and len(y_pred) == count
        output_names = self.output_names
        if flat and isinstance(y_pred, dict):
            # a dict of outputs: its keys name the outputs, in the model's order when they
            # are the model's names, else the dict's own (an OrderedDict) or sorted
            if not (self.output_names and set(y_pred) == set(self.output_names)):
                ordered = isinstance(y_pred, collections.OrderedDict)
                output_names = list(y_pred) if ordered else sorted(y_pred)
        # the order `_flatten_y` reads a dict of labels or outputs in (several flat outputs)
        self._resolved_output_names = output_names if count > 1 and flat else None
        self._flat_metrics = self._build_metrics_set(
            self._user_metrics, count, output_names, y_true, y_pred, flat, "metrics"
        )
        self._flat_weighted_metrics = self._build_metrics_set(
            self._user_weighted_metrics,
            count,
            output_names,
            y_true,
            y_pred,
            flat,
            "weighted_metrics",
        )
        self.built = True

    def _build_metrics_set(self, metrics, count, output_names, y_true, y_pred, flat, argument):
        """One MetricsList (or None) per output, in the outputs' flat order."""
        if not metrics:
            return [None] * count
        if count == 1:  # every metric given, however nested, is the one output's
            return [
                get_metrics_list(
                    tree.flatten(metrics), tree.flatten(y_true)[0], tree.flatten(y_pred)[0]
                )
            ]
        per_output = None
        if flat and isinstance(metrics, (list, tuple)) and len(metrics) == count:
            per_output = list(metrics)
        elif (
            flat
            and output_names
            and isinstance(metrics, dict)
            and set(metrics) <= set(output_names)
        ):
            per_output = [metrics.get(name) for name in output_names]
        if per_output is not None:
            names = output_names or [None] * count
            try:
                return [
                    get_metrics_list(m, yt, yp, n)
                    for m, yt, yp, n in zip(
                        per_output, self._flatten_y(y_true), self._flatten_y(y_pred), names
                    )
                ]
            except ValueError as e:
                raise ValueError(f"{e}\nReceived: {argument}={metrics}") from e
        # nested deeper: `metrics` has the outputs' structure (lists and tuples alike)
        try:
            shallow = tree.lists_to_tuples(y_pred)
            names = tree.pack_sequence_as(shallow, output_names or [None] * count)
            return tree.flatten(
                tree.map_structure_up_to(
                    shallow,
                    get_metrics_list,
                    tree.lists_to_tuples(metrics),
                    tree.lists_to_tuples(y_true),
                    shallow,
                    names,
                )
            )
        except (ValueError, TypeError) as e:
            structure = tree.map_structure(lambda _: "X", y_pred)
            # the model's own names (not the dict keys, which the structure shows)
            names = (
                f"either be a dict or a list matching the output names of the functional "
                f"model {self.output_names} or "
                if self.output_names
                else ""
            )
            raise ValueError(
                f"{e}\nInvalid `{argument}`. `{argument}` should contain metrics objects and "
                f"{names}match the output structure of the model: {structure}.\n"
                f"Received: {argument}={metrics}"
            ) from e

    def _flatten_y(self, y):
        if isinstance(y, dict) and self._resolved_output_names is not None:
            return [y[name] for name in self._resolved_output_names]
        return tree.flatten(y)

    def update_state(self, y_true, y_pred, sample_weight=None):
        if not self.built:
            self.build(y_true, y_pred)
        y_true, y_pred = self._flatten_y(y_true), self._flatten_y(y_pred)
        for metrics_list, yt, yp in zip(self._flat_metrics, y_true, y_pred):
            if metrics_list:
                metrics_list.update_state(yt, yp)
        if sample_weight is None:
            weights = [None] * len(y_true)
        else:
            weights = self._flatten_y(sample_weight)
            if len(weights) < len(y_true):  # one weight array for every output
                weights = [weights[0]] * len(y_true)
        for metrics_list, yt, yp, w in zip(self._flat_weighted_metrics, y_true, y_pred, weights):
            if metrics_list:
                metrics_list.update_state(yt, yp, w)

    def reset_state(self):
        for metric in self.metrics:
            metric.reset_state()

    def result(self):
        """{log name: value}: `<output>_<metric>` with several outputs; a name seen before
        gets `_1`, `_2`...; a weighted metric whose name an unweighted one took is
        `weighted_<metric>` (then `_1`... if that too is taken)."""
        if not self.built:
            raise ValueError("Cannot get result() since the metric has not yet been built.")
        results, seen = {}, {}

        def unique(name):
            if name not in seen:
                seen[name] = 1
                return name
            seen[name] += 1
            return f"{name}_{seen[name] - 1}"

        for metrics_list in self._flat_metrics:
            for metric in metrics_list.metrics if metrics_list else []:
                prefix = f"{metrics_list.output_name}_" if metrics_list.output_name else ""
                results[unique(prefix + metric.name)] = metric.result()
        for metrics_list in self._flat_weighted_metrics:
            for metric in metrics_list.metrics if metrics_list else []:
                prefix = f"{metrics_list.output_name}_" if metrics_list.output_name else ""
                name = prefix + metric.name
                if name in seen:
                    name = f"{prefix}weighted_{metric.name}"
                results[unique(name)] = metric.result()
        return results

    def get_config(self):
        raise NotImplementedError

    @classmethod
    def from_config(cls, config):
        raise NotImplementedError


# ---------------------------------------------------------------------------- losses
class _WeightedLoss:
    """A loss and its weight, held together as one leaf while the structures are walked."""

    def __init__(self, loss, weight):
        self.loss, self.weight = loss, weight


def _weighted(loss, weight):
    return None if loss is None else _WeightedLoss(loss, weight)


def _resolve_path(path, structure):
    for key in path:
        structure = structure[key]
    return structure


def _is_sequence(x):
    return isinstance(x, (list, tuple))


class CompileLoss(losses_module.Loss):
    """The `loss` and `loss_weights` of `compile` as one loss over the outputs' structure.

    `flat_losses` (after `build`) lists each term as Loss(path, loss, loss_weights, name):
    where in the outputs it reads, the Loss object, its weight (None: 1) and its log name.
    """

    Loss = collections.namedtuple("Loss", ["path", "loss", "loss_weights", "name"])

    def __init__(self, loss, loss_weights=None, reduction="sum_over_batch_size", output_names=None):
        if loss_weights and not isinstance(loss_weights, (list, tuple, dict, float)):
            raise ValueError(
                "Expected `loss_weights` argument to be a float (single output case) or a "
                "list, tuple, or dict (multiple output case). "
                f"Received instead: loss_weights={loss_weights} of type {type(loss_weights)}"
            )
        super().__init__(name="compile_loss", reduction=reduction)
        self._user_loss = loss
        self._user_loss_weights = loss_weights
        self.output_names = output_names
        self.built = False
        self._flat_losses = None
        self._metrics = []
        self._y_pred_build_structure = None
        self._y_true_build_structure = None
        # a tracker counts each batch by its size, as Keras does when it knows the size
        # eagerly; a model's step counts each batch once (see Model._track_output_losses)
        self.track_batch_size = True

    @property
    def metrics(self):
        """One `Mean` per term, named `<term>_loss`, when there is more than one term."""
        return self._metrics

    @property
    def flat_losses(self):
        return self._flat_losses

    @property
    def variables(self):
        return [v for metric in self._metrics for v in metric.variables]

    # -------------------------------------------------------------------- build
    def build(self, y_true, y_pred):
        loss, loss_weights = self._user_loss, self._user_loss_weights
        names = self.output_names
        if names and isinstance(loss, dict) and not isinstance(y_pred, dict):
            # a dict of losses for outputs given as a list: by the model's output names
            if set(names) != set(loss):
                raise ValueError(
                    f"Expected keys {names} in loss dict, but found loss.keys()={list(loss)}"
                )
            loss = [loss[name] for name in names]
            if isinstance(loss_weights, dict):
                loss_weights = [loss_weights[name] for name in names]

        if loss_weights is None:
            loss = tree.map_structure(lambda one: _weighted(one, None), loss)
        else:
            try:
                tree.assert_same_structure(loss, loss_weights)
            except ValueError:
                flat_weights = tree.flatten(loss_weights)
                if len(tree.flatten(loss)) != len(flat_weights):
                    raise ValueError(
                        f"`loss_weights` must match the number of losses, got "
                        f"{len(tree.flatten(loss))} losses and {len(loss_weights)} weights."
                    ) from None
                loss_weights = tree.pack_sequence_as(loss, flat_weights)
            loss = tree.map_structure(_weighted, loss, loss_weights)

        if isinstance(loss, dict) and names and set(loss) == set(names):
            # a dict of losses by output name, outputs as a list (or one output): as a dict
            if _is_sequence(y_pred) and len(y_pred) == len(names):
                y_pred, y_true = dict(zip(names, y_pred)), dict(zip(names, y_true))
            elif not tree.is_nested(y_pred) and len(names) == 1:
                y_pred, y_true = {names[0]: y_pred}, {names[0]: y_true}

        try:
            output_names = tree.pack_sequence_as(y_pred, names)
        except (ValueError, TypeError):
            output_names = tree.pack_sequence_as(y_pred, self._names_from_outputs(y_pred))

        if not tree.is_nested(loss):  # one loss for every output
            loss = tree.map_structure(lambda _: loss, y_pred)

        self._flat_losses = []
        self._build_nested(y_true, y_pred, loss, output_names, ())
        self._metrics = []
        if len(self._flat_losses) > 1:
            self._metrics = [metrics_module.Mean(name=f"{t.name}_loss") for t in self._flat_losses]
        self._y_pred_build_structure = tree.map_structure(lambda _: None, y_pred)
        self._y_true_build_structure = tree.map_structure(lambda _: None, y_true)
        self.built = True

    @staticmethod
    def _names_from_outputs(y_pred):
        """The outputs' names from the layers that made them (symbolic outputs), else None."""
        flat = tree.flatten(y_pred)
        if all(isinstance(x, KerasTensor) for x in flat):
            return [x.layer.name if getattr(x, "layer", None) else x.name for x in flat]
        return [None] * len(flat)

    def _build_nested(self, y_true, y_pred, loss, output_names, path):
        """Walk `loss` down the outputs' structure; each loss found becomes a term."""
        if not tree.is_nested(loss):
            self._add_term(y_true, y_pred, loss, output_names, path)
            return
        if _is_sequence(loss) and not any(map(tree.is_nested, loss)):
            if len(loss) == len(tree.flatten(y_pred)):  # one per output, in flat order
                loss = tree.pack_sequence_as(y_pred, loss)
            elif not isinstance(y_pred, type(loss)):  # several losses for this one place
                for one in loss:
                    self._build_nested(y_true, y_pred, one, output_names, path)
                return
        elif _is_sequence(loss) and not isinstance(y_pred, type(loss)):
            for one in loss:  # several (structured) losses for this one place
                self._build_nested(y_true, y_pred, one, output_names, path)
            return
        if not tree.is_nested(loss):
            self._add_term(y_true, y_pred, loss, output_names, path)
            return
        if not isinstance(loss, type(y_pred)):
            raise KeyError(
                f"The path: {path} in the `loss` argument, can't be found in the model's "
                "output (`y_pred`)."
            )
        if isinstance(loss, dict):
            items = loss.items()
            found = lambda key, obj: isinstance(obj, dict) and key in obj  # noqa: E731
        elif _is_sequence(loss):
            items = enumerate(loss)
            found = lambda key, obj: _is_sequence(obj) and key < len(obj)  # noqa: E731
        else:
            raise TypeError(f"Unsupported type {type(loss)} in the `loss` configuration.")
        for key, one in items:
            if one is None:
                continue
            if not (found(key, y_true) and found(key, y_pred)):
                raise KeyError(
                    f"The path: {path + (key,)} in the `loss` argument, can't be found in "
                    "either the model's output (`y_pred`) or in the labels (`y_true`)."
                )
            self._build_nested(y_true[key], y_pred[key], one, output_names[key], path + (key,))

    def _add_term(self, y_true, y_pred, weighted, output_names, path):
        if weighted is None or weighted.loss is None:
            return
        loss = get_loss(weighted.loss, y_true, y_pred)
        name_path = path
        if not tree.is_nested(output_names):
            # a term on one output is named by it: its name replaces a trailing index
            output_name = output_names if output_names is not None else loss.name
            if not name_path:
                name_path = (output_name,)
            elif isinstance(name_path[-1], int):
                name_path = name_path[:-1] + (output_name,)
        name = "/".join(str(key) for key in name_path)
        if name == "":  # a loss over all the outputs: named by all of them
            flat = list(output_names) if isinstance(output_names, dict) else output_names
            name = "_".join(str(n) for n in tree.flatten(flat))
        self._flat_losses.append(CompileLoss.Loss(path, loss, weighted.weight, name))

    # -------------------------------------------------------------------- call
    def __call__(self, y_true, y_pred, sample_weight=None):
        return self.call(y_true, y_pred, sample_weight)

    def call(self, y_true, y_pred, sample_weight=None):
        """Σ weightᵢ · lossᵢ(y_true at pathᵢ, y_pred at pathᵢ), or None without terms."""
        # one output and one label array: Keras's "fast path" (CompileLoss.call) returns the
        # FIRST term alone and updates no tracker, even with several losses for that output
        # (`loss=[["mse", "mae"]]` trains on the mse, and logs `output_a_loss: 0`); so here
        single = not tree.is_nested(y_true) and not tree.is_nested(y_pred)
        y_true, y_pred = self._prepared(y_true, y_pred)
        values = []
        trackers = (
            self._metrics if self._metrics and not single else [None] * len(self._flat_losses)
        )
        for term, tracker in zip(self._flat_losses, trackers):
            yt, yp = _resolve_path(term.path, y_true), _resolve_path(term.path, y_pred)
            weights = sample_weight
            if sample_weight is not None and tree.is_nested(sample_weight):
                weights = _resolve_path(term.path, sample_weight)
            value = self._term_value(term.loss, yt, yp, weights)
            if tracker is not None:  # each term's unweighted value
                count = np.shape(tree.flatten(yp)[0])[0] if self.track_batch_size else 1
                tracker.update_state(np.asarray(autodiff.unwrap(value)), sample_weight=count)
            if term.loss_weights is not None:
                value = ops.multiply(value, term.loss_weights)
            values.append(value)
        if not values:
            return None
        if single:
            return values[0]
        total = values[0]
        for value in values[1:]:
            total = total + value
        return total

    def _prepared(self, y_true, y_pred):
        """(y_true, y_pred) in the structures seen at `build` (built at the first call)."""
        if tree.is_nested(y_true) or tree.is_nested(y_pred):
            y_true = self._labels_like(y_true, y_pred)
        if not self.built:
            self.build(y_true, y_pred)
        y_pred = self._as_built(y_pred, self._y_pred_build_structure)
        return self._as_built(y_true, self._y_true_build_structure), y_pred

    def leaves_from_logits(self, y_true, y_pred):
        """For each leaf of y_pred (in flat order): whether a loss that can start from logits
        (a crossentropy) reads that leaf alone. Builds the loss if needed."""
        self._prepared(y_true, y_pred)
        paths = [path for path, _ in tree.flatten_with_path(self._y_pred_build_structure)]
        from_logits = {t.path for t in self._flat_losses if t.loss.logits_activation}
        return [path in from_logits for path in paths]

    @staticmethod
    def _term_value(loss, y_true, y_pred, sample_weight):
        """One term's reduced value. A loss over a branch of the outputs (a function of
        yours) receives that branch; its per-sample values are reduced here, with ops, so
        that a GradientTape records the whole."""
        if not tree.is_nested(y_pred):
            return loss(y_true, y_pred, sample_weight)
        values = loss.call(y_true, y_pred)
        if loss.reduction in ("none", None):
            return values if sample_weight is None else values * sample_weight
        if sample_weight is not None:
            weights = np.asarray(sample_weight)
            values = values * weights.reshape(weights.shape + (1,) * (np.ndim(values) - 1))
        total = ops.sum(values)
        if loss.reduction == "sum":
            return total
        if loss.reduction == "mean_with_sample_weight" and sample_weight is not None:
            return total / float(np.sum(sample_weight))
        return total / max(int(np.size(autodiff.unwrap(values))), 1)

    def _labels_like(self, y_true, y_pred):
        """y_true in y_pred's structure. Labels may come flat, as a leaf for a one-output
        list, as a dict by output name for a list of outputs, in other containers with the
        same paths, or only for the outputs that have a loss; else ValueError."""
        try:
            tree.assert_same_structure(y_pred, y_true)
            return y_true
        except ValueError:
            pass
        if not tree.is_nested(y_true) and hasattr(y_pred, "__len__") and len(y_pred) == 1:
            y_true = [y_true]
        elif isinstance(y_pred, (list, tuple)) and isinstance(y_true, dict):
            if self.output_names and set(self.output_names) == set(y_true):
                y_true = [y_true[name] for name in self.output_names]
        try:
            return tree.pack_sequence_as(y_pred, tree.flatten(y_true))
        except (ValueError, TypeError):
            pass
        try:
            tree.assert_same_paths(y_true, y_pred)
            return tree.pack_sequence_as(y_pred, tree.flatten(y_true))
        except (ValueError, TypeError):
            pass
        try:  # labels only where `loss` has a loss (None elsewhere)
            flat_true, flat_loss = tree.flatten(y_true), tree.flatten(self._user_loss)
            with_loss = [i for i, one in enumerate(flat_loss) if one is not None]
            if len(flat_true) != len(with_loss):
                raise ValueError("labels and losses differ in number")
            spread = [None] * len(flat_loss)
            for label, i in zip(flat_true, with_loss):
                spread[i] = label
            return tree.pack_sequence_as(self._user_loss, spread)
        except (ValueError, TypeError):
            stars = lambda structure: tree.map_structure(lambda _: "*", structure)  # noqa: E731
            raise ValueError(
                "y_true and y_pred have different structures.\n"
                f"y_true: {stars(y_true)}\n"
                f"y_pred: {stars(y_pred)}\n"
            ) from None

    @staticmethod
    def _as_built(value, built_structure):
        """`value` in the structure seen at `build` (same leaves, perhaps other containers)."""
        try:
            tree.assert_same_structure(built_structure, value)
            return value
        except ValueError:
            return tree.pack_sequence_as(built_structure, tree.flatten(value))

    def value_and_grads(self, y_true, y_pred, sample_weight=None, logits=None):
        """(total loss, [dL/d leaf for each leaf of y_pred, in flat order]) by the tape; each
        term's own gradient is the loss's (hand-written where it has one).

        logits: for each leaf, the logits of the softmax or sigmoid that made it, or None. A
        crossentropy on such a leaf starts from its logits, as in Keras's fit; then that
        leaf's gradient arrives at the logits, returned as a second list (None elsewhere).
        """
        flat = [np.asarray(a) for a in tree.flatten(y_pred)]
        outputs = [autodiff.Tensor(a) for a in flat]
        logits = logits or [None] * len(flat)
        starts = [None if z is None else autodiff.Tensor(np.asarray(z)) for z in logits]
        for output, start in zip(outputs, starts):
            output._keras_logits = start
        watched = outputs + [z for z in starts if z is not None]
        with autodiff.GradientTape() as tape:
            for tensor in watched:
                tape.watch(tensor)
            total = self.call(y_true, tree.pack_sequence_as(y_pred, outputs), sample_weight)
        if total is None:
            return None, [None] * len(flat), [None] * len(flat)
        grads = tape.gradient(total, watched)
        d_outputs = [
            np.zeros_like(a) if g is None else np.asarray(g, a.dtype)
            for a, g in zip(flat, grads[: len(outputs)])
        ]
        at_logits = iter(grads[len(outputs) :])
        d_logits = [None if z is None else next(at_logits) for z in starts]
        return np.asarray(autodiff.unwrap(total)), d_outputs, d_logits

    def get_config(self):
        raise NotImplementedError

    @classmethod
    def from_config(cls, config):
        raise NotImplementedError
