"""Checking hand-written gradients: the model's backward against central differences.

Every layer's `backward` is written by hand, so it can be wrong. `check_gradients` compares what
backward gives with what the loss itself says, entry by entry:

    ∂L/∂wᵢ ≈ (L(w + ε·eᵢ) − L(w − ε·eᵢ)) / 2ε         (central differences, ε = 1e-6)

in float64, on a copy of the model (yours is left untouched, whatever its dtype). The estimate
is off by about ε²·|L'''| (truncation) plus 1e-16·|L|/ε (rounding): around 1e-10, far below
the error of a wrong formula.

>>> import numpy as np
>>> from minikeras import Sequential, testing
>>> from minikeras.layers import Dense, Input
>>> model = Sequential([Input(shape=(3,)), Dense(4, activation="tanh"), Dense(2)])
>>> x, y = np.random.default_rng(0).normal(size=(5, 3)), np.zeros((5, 2))
>>> worst = testing.check_gradients(model, x, y, loss="mse", verbose=False)
>>> max(worst.values()) < 1e-6
True
"""

import contextlib
import copy

import numpy as np

from minikeras import config, tree
from minikeras.autodiff import Variable
from minikeras.models.model import Model

EPSILON = 1e-6


def central_difference(f, x, index, epsilon=EPSILON):
    """(f(x + ε·eᵢ) − f(x − ε·eᵢ)) / 2ε for the scalar function f of the array x, at the entry
    `index`. `x` is nudged in place and restored, so f may read it through a reference (a
    layer's weight, say)."""
    saved = x[index]
    x[index] = saved + epsilon
    plus = float(f())
    x[index] = saved - epsilon
    minus = float(f())
    x[index] = saved
    return (plus - minus) / (2 * epsilon)


def numerical_gradient(f, x, epsilon=EPSILON):
    """∂f/∂x for a scalar function f of the float64 array x, one entry at a time."""
    grad = np.zeros(x.shape, dtype=np.float64)
    for index in np.ndindex(x.shape):
        grad[index] = central_difference(f, x, index, epsilon)
    return grad


def loss_and_gradients(model, x, y, sample_weight=None, training=True):
    """One training step without the update, exactly as `fit` takes it (the softmax-logits
    shortcut included): returns (loss, [dL/dw for w in model.trainable_weights]).

    The model must be compiled (it gives the loss).
    """
    x, y, w = model.prepare_data(x, y, sample_weight)
    _, loss, grads = model.compute_gradients(x, y, w, training=training)
    return float(loss), [np.array(g) for g in grads]


def weight_labels(model):
    """'layer/weight' for every trainable weight of the model, in `trainable_weights` order."""
    labels = []
    for layer in model.layers:
        if not layer.trainable:
            continue
        if isinstance(layer, Model):  # a model used as a layer
            labels += [f"{layer.name}/{label}" for label in weight_labels(layer)]
            continue
        names = _weight_names(layer)
        labels += [f"{layer.name}/{names[id(w)]}" for w in layer.trainable_weights]
    return labels


def _weight_names(layer):
    """{id(weight): name} for every weight of the layer. A weight of one of several sublayers
    (a Bidirectional's two sides, a layer of yours holding two Dense) is named through that
    sublayer, as in Keras's weight paths ('forward_lstm/kernel', 'backward_lstm/kernel'), so
    that no two weights share a name; a single sublayer (an RNN's cell) adds nothing."""
    sublayers = layer._sublayers()
    names = {}
    for sub in sublayers:
        for key, name in _weight_names(sub).items():
            names.setdefault(key, f"{sub.name}/{name}" if len(sublayers) > 1 else name)
    for w in layer._trainable_variables + layer._non_trainable_variables:
        names[id(w)] = w.name
    return names


def check_gradients(
    model,
    x,
    y,
    loss=None,
    sample_weight=None,
    epsilon=EPSILON,
    max_entries=50,
    seed=0,
    training=False,
    tolerance=None,
    verbose=True,
):
    """Compare the model's backward with central differences on every weight, in float64.

    Args:
        model: a built minikeras model (or a single layer, which is wrapped in a Sequential).
            It may hold your own layers: each needs `call` and `backward` (and `add_weight` for
            its weights). It is not changed: the check runs on a float64 copy.
        x, y: a small batch of inputs and labels (arrays, or the structures the model takes:
            a dict of inputs by name, a list of labels per output).
        loss: the loss to differentiate (a name or Loss); default: the model's compiled loss,
            or 'mean_squared_error' for a model that is not compiled.
        sample_weight: optional weights per sample, as in `fit`.
        epsilon: the step ε of the central differences.
        max_entries: weights with more entries are checked on this many, drawn at random.
        seed: the seed of that draw.
        training: the `training` flag of the forward pass (False keeps Dropout deterministic).
        tolerance: if given, raise AssertionError when a weight's worst error exceeds it.
        verbose: print a table, one line per weight.

    Returns:
        {'layer/weight': worst relative error}, where an entry's relative error is
        |analytic − numeric| / max(|analytic|, |numeric|, τ), τ = 1e-3·max(1, |L|): the
        differences are off by ~1e-10·max(1, |L|) in absolute terms, so entries whose gradient
        is tiny (or 0) are measured against τ rather than against their own noise.
        A right backward gives ≲ 1e-7; a wrong formula ~1e-2 or more. An isolated larger error
        next to a ReLU may be a step of ±ε crossing its kink: try another x.
    """
    if not isinstance(model, Model):
        from minikeras.models.sequential import Sequential

        model = Sequential([model])
    with _floatx("float64"):
        model = _float64_copy(model)
        # inputs and labels may be structures (a dict of inputs, a list of outputs' labels)
        x, y = tree.map_structure(_as_float64, x), tree.map_structure(_as_float64, y)
        if not model.built:
            model.build((None,) + x.shape[1:])
        loss = loss if loss is not None else (model.loss if model.compiled else None)
        model.compile(optimizer="sgd", loss=loss or "mean_squared_error")
        value, analytic = loss_and_gradients(model, x, y, sample_weight, training)
        floor = 1e-3 * max(1.0, abs(value))

        x, y, sample_weight = model.prepare_data(x, y, sample_weight)

        def loss_value():
            model.clear_losses()  # each call an outer call: activity penalties do not pile up
            y_pred = model.forward(x, training=training)
            return model.compute_loss(x, y, y_pred, sample_weight, training=training)

        rng = np.random.default_rng(seed)
        report = {}
        rows = []
        for label, w, g in zip(weight_labels(model), model.trainable_weights, analytic):
            flat = w.reshape(-1)  # a view: writing into it changes the weight the layer reads
            entries = np.arange(flat.size)
            if flat.size > max_entries:
                entries = np.sort(rng.choice(flat.size, max_entries, replace=False))
            worst, worst_at = 0.0, None
            for i in entries:
                numeric = central_difference(loss_value, flat, i, epsilon)
                a = float(g.reshape(-1)[i])
                error = abs(a - numeric) / max(abs(a), abs(numeric), floor)
                if error > worst or worst_at is None:
                    worst, worst_at = error, (np.unravel_index(i, w.shape), a, numeric)
            report[label] = worst
            rows.append((label, w.shape, len(entries), flat.size, worst, worst_at))
    if verbose:
        _print_report(rows, value)
    if tolerance is not None:
        bad = {label: error for label, error in report.items() if not error <= tolerance}
        if bad:
            raise AssertionError(
                f"backward disagrees with central differences beyond {tolerance:g}: "
                + ", ".join(f"{label} {error:.2e}" for label, error in bad.items())
            )
    return report


def _as_float64(array):
    return np.asarray(array, dtype=np.float64)


def _print_report(rows, value):
    print(f"gradient check (float64, central differences), loss = {value:.6g}")
    header = f"{'weight':<28} {'shape':<12} {'checked':>9} {'worst rel. error':>17}  at"
    print(header)
    print("-" * len(header))
    for label, shape, checked, size, worst, (index, a, numeric) in rows:
        where = f"{tuple(int(i) for i in index)} backward {a:.6g} numeric {numeric:.6g}"
        print(
            f"{label:<28} {str(tuple(shape)):<12} {f'{checked}/{size}':>9} {worst:>17.2e}  {where}"
        )


@contextlib.contextmanager
def _floatx(dtype):
    before = config.floatx()
    config.set_floatx(dtype)
    try:
        yield
    finally:
        config.set_floatx(before)


def _float64_copy(model):
    """A deep copy of the model whose weights (and every layer's dtype) are float64.

    A layer may keep its weights as attributes too (`self.w = self.add_weight(...)`): those
    attributes are pointed at the new float64 arrays as well.
    """
    model = copy.deepcopy(model)
    layers = list(_all_layers(model))
    old = [w for layer in layers for w in layer.weights]
    new = {id(w): _float64_variable(w) for w in old}  # `old` keeps the ids alive meanwhile
    for layer in layers:
        for name, value in list(vars(layer).items()):
            if isinstance(value, np.ndarray) and id(value) in new:
                setattr(layer, name, new[id(value)])
            elif isinstance(value, list) and any(id(item) in new for item in value):
                setattr(layer, name, [new.get(id(item), item) for item in value])
        layer.weight_regularizers = [(new[id(w)], r) for w, r in layer.weight_regularizers]
        layer.weight_constraints = [(new[id(w)], c) for w, c in layer.weight_constraints]
        layer._dtype = "float64"
        layer._buffers = {}
    return model


def _float64_variable(w):
    return Variable.wrap(np.array(w, np.float64), trainable=w.trainable, name=w.name, path=w.path)


def _all_layers(model):
    """The model and every layer inside it, at any depth, each once."""
    seen, todo = [], [model]
    while todo:
        layer = todo.pop()
        if all(layer is not s for s in seen):
            seen.append(layer)
            todo.extend(layer._sublayers())
    return seen
