"""Watch one training step: every array of the forward pass, the loss, the backward pass and the
update, with its shape and values, and Keras's value of each beside it when Keras is installed.

    python -m minikeras trace                 the tutorial model shrunk to 4-3-2, on 2 samples
    python -m minikeras trace --no-keras      minikeras alone (TensorFlow is never imported)
    python -m minikeras trace --optimizer adam

In code or in a notebook, `step(model, x, y)` traces one step of any compiled model whose
layers keep the layer contract. It trains the model by that step, as `train_on_batch` would,
and returns a `Trace` whose `value(name)` and `keras_value(name)` give each array.

The step is the one `Model.train_step` takes (`Model.compute_gradients`, then the update), with
every layer's entry points watched so that each array can be kept:

    forward    a₀ = x;  for each layer: its output a (and z, when an activation makes a)
    loss       from the logits z of the last layer when it ends in the loss's activation
    backward   for each layer, last to first: dL/da at its output (dL/dz), its weights' grads
    update     optimizer.apply(grads, weights): slots before and after, the new weights
"""

import argparse
import contextlib
import importlib.util
import sys
from dataclasses import dataclass, field

import numpy as np

from minikeras import activations, autodiff
from minikeras.layers.dense import Dense

# where each quantity is computed, for the reader who wants to open the file
_WHERE = {
    "z": "minikeras/layers/dense.py  Dense.call  (kernels.dense_forward)",
    "a": "minikeras/activations.py  (fused in kernels.dense_forward)",
    "loss": "minikeras/losses/  value_and_grad / value_and_grad_from_logits",
    "dz": "minikeras/activations.py  *_backward  (fused in kernels.dense_backward)",
    "dz_logits": "minikeras/kernels/numpy_kernels.py  softmax_crossentropy",
    "dW": "minikeras/kernels/numpy_kernels.py  dense_backward  (xᵀ·dz)",
    "db": "minikeras/kernels/numpy_kernels.py  dense_backward  (Σ dz)",
    "dx": "minikeras/kernels/numpy_kernels.py  dense_backward  (dz·Wᵀ)",
    "slot": "minikeras/optimizers/  update_step  (kernels.*_update)",
}


@dataclass
class Entry:
    """One array of the step: its name, minikeras's value and (when compared) Keras's."""

    name: str
    value: np.ndarray
    keras: np.ndarray | None = None
    note: str = ""

    @property
    def difference(self):
        """max |minikeras − Keras|, or None when there is no Keras value."""
        if self.keras is None or self.value is None:
            return None
        return float(np.max(np.abs(np.asarray(self.value, np.float64) - self.keras)))


@dataclass
class Stage:
    """A stage of the step (forward through one layer, the loss, ...) and its arrays."""

    title: str
    entries: list = field(default_factory=list)


@dataclass
class Trace:
    """The record of one traced step; `str(trace)` is the printed report."""

    stages: list
    compared: bool = False
    keras_note: str = ""

    def entries(self):
        return [entry for stage in self.stages for entry in stage.entries]

    def _find(self, name):
        for entry in self.entries():
            if entry.name == name:
                return entry
        names = [entry.name for entry in self.entries()]
        raise KeyError(f"no array named {name!r} in the trace; the names are {names}")

    def value(self, name):
        """minikeras's value of the array called `name` (as printed, e.g. 'dense_1: z')."""
        return self._find(name).value

    def keras_value(self, name):
        """Keras's value of that array (None when Keras was not compared)."""
        return self._find(name).keras

    def max_difference(self):
        """The largest |minikeras − Keras| over every compared array."""
        diffs = [e.difference for e in self.entries() if e.difference is not None]
        return max(diffs) if diffs else None

    def __str__(self):
        return format_trace(self)


# ----------------------------------------------------------------------------- the step
def step(model, x, y, keras="auto", print_fn=print):
    """Train `model` by one step on (x, y) and print each array of it, stage by stage.

    Args:
        model: a compiled model whose layers keep the layer contract (any built-in layer, or
            your own with `call` and `backward`).
        x: the inputs of one batch (all of it is used; no shuffling).
        y: its labels.
        keras: True to compare with Keras (raises if it is missing), False not to, "auto" to
            compare when Keras is installed. Keras's value of each array is shown for a
            Sequential model; for other models, the loss, the gradients and the update.
        print_fn: called with the report (None: print nothing).

    Returns:
        The `Trace`.

    >>> import numpy as np
    >>> from minikeras import Sequential, trace
    >>> from minikeras.layers import Dense, Input
    >>> model = Sequential([Input(shape=(4,)), Dense(3, activation="relu"),
    ...                     Dense(2, activation="softmax")])
    >>> model.compile(optimizer="rmsprop", loss="categorical_crossentropy")
    >>> record = trace.step(model, x=np.ones((2, 4)), y=np.eye(2), keras=False, print_fn=None)
    >>> record.value("dense_1: dL/dz").shape
    (2, 2)
    """
    x, y, _ = model.prepare_data(x, y)  # the checks and conversions fit makes at its edge
    optimizer = model.optimizer
    variables = model.trainable_weights
    if not optimizer.built:
        optimizer.build(variables)  # what the first apply() would do: zero slots
    weights_before = model.get_weights()
    slots_before = {
        name: [a.copy() for a in optimizer.slots[name]] for name in optimizer.slot_names
    }
    iterations_before = optimizer.iterations

    stages = [Stage("inputs", [Entry("x", x.copy()), Entry("y", y.copy())])]
    stages.append(
        Stage(
            "weights before the step",
            [Entry(name, w.copy()) for name, w in zip(weight_names(model), variables)],
        )
    )
    # the very step train_step takes (forward, loss, backward), each layer watched on the way
    with _watching(model) as watched:
        _, loss, grads = model.compute_gradients(x, y)
    stages += watched.forward
    loss_stage = Stage(f"loss: {type(model.output_specs[0].loss).__name__}")
    loss_stage.entries.append(Entry("loss", np.asarray(loss).copy()))
    loss_stage.entries.append(watched.loss_gradient)
    stages.append(loss_stage)
    stages += watched.backward

    # update: the optimizer is the only place weights change
    names = weight_names(model)
    opt_stage = Stage(f"update: {type(optimizer).__name__} (step {iterations_before + 1})")
    for slot in optimizer.slot_names:
        for name, array in zip(names, slots_before[slot]):
            opt_stage.entries.append(Entry(f"{name}: {slot} before", array))
    optimizer.apply(grads, variables)  # constraints too, after the update
    for slot in optimizer.slot_names:
        for name, array in zip(names, optimizer.slots[slot]):
            opt_stage.entries.append(Entry(f"{name}: {slot} after", array.copy()))
    for name, w in zip(names, variables):
        opt_stage.entries.append(Entry(f"{name}: new value", w.copy()))
    stages.append(opt_stage)

    record = Trace(stages)
    if keras == "auto":
        keras = importlib.util.find_spec("keras") is not None
        if not keras:
            record.keras_note = (
                "Keras is not installed: minikeras alone (pip install 'minikeras[parity]')."
            )
    if keras:
        from minikeras.parity import trace_keras  # the only place that imports Keras

        trace_keras.compare_step(
            record, model, x, y, weights_before, slots_before, iterations_before
        )
    if print_fn is not None:
        print_fn(format_trace(record))
    return record


class _Watched:
    """What `_watching` saw: the forward and backward stages, and the loss's gradient."""

    def __init__(self):
        self.forward, self.backward, self.loss_gradient = [], [], None

    def saw_gradient(self, entry):
        """The first gradient a layer receives is the loss's: shown with the loss."""
        if self.loss_gradient is None:
            self.loss_gradient = entry
            return []
        return [entry]


@contextlib.contextmanager
def _watching(model):
    """Every layer's `forward`, `backward_pass` and `backward_logits` (the layer contract's
    entry points, which models call) wrapped so as to record what goes in and out."""
    watched = _Watched()
    layers = [layer for layer in model.layers if layer.trainable or not layer.weights]
    layers += [layer for layer in model.layers if layer not in layers]

    def forward(layer, call):
        def watched_forward(x, training=False, mask=None):
            a = call(x, training=training, mask=mask)
            stage = Stage(f"forward: {layer.name} ({type(layer).__name__})")
            if layer.output_activation is not None and layer.logits is not None:
                note = f"the input of {layer.output_activation}"
                stage.entries.append(Entry(f"{layer.name}: z", np.array(layer.logits), note=note))
            stage.entries.append(Entry(f"{layer.name}: a", np.array(a), note="the output"))
            watched.forward.append(stage)
            return a

        return watched_forward

    def backward(layer, run, at_logits):
        def watched_backward(d, *args, **kwargs):
            stage = Stage(f"backward: {layer.name}")
            if at_logits:
                note = f"at the logits: the loss and {layer.output_activation} together"
                entry = Entry(f"{layer.name}: dL/dz", np.array(d), note=note)
                stage.entries += watched.saw_gradient(entry)
            else:
                stage.entries += watched.saw_gradient(
                    Entry(f"{layer.name}: dL/da", np.array(d), note="at the output")
                )
                if layer.output_activation is not None and layer.logits is not None:
                    f = activations.get(layer.output_activation)
                    dz = activations.backward_of(f)(layer.logits, f(layer.logits), d)
                    stage.entries.append(
                        Entry(f"{layer.name}: dL/dz", np.array(dz), note="dL/da ⊙ f'(z)")
                    )
            dx = run(d, *args, **kwargs)
            names = [w.name for w in layer.trainable_weights]
            for name, g in zip(names, layer.grads):
                stage.entries.append(Entry(f"{layer.name}: dL/d{name}", np.array(g)))
            watched.backward.append(stage)
            return dx

        return watched_backward

    def op_applied(entry, output_grads, input_grads):
        """An op of a layer (or model) written with ops, as the tape applies its VJP."""
        if entry.name not in autodiff.VJPS:
            return  # a layer with its own backward: shown by its backward stage
        stage = Stage(f"backward: {entry.name} (an op on the tape, its VJP applied)")
        for g in output_grads:
            stage.entries.append(Entry(f"{entry.name}: dL/d(result)", np.array(g)))
        for i, (item, g) in enumerate(zip(entry.inputs, input_grads)):
            if g is None or not isinstance(item, (autodiff.Tensor, autodiff.Variable)):
                continue  # a constant: no gradient is wanted
            what = item.path if isinstance(item, autodiff.Variable) else f"argument {i}"
            note = f"VJPS[{entry.name!r}] (minikeras/autodiff/vjps.py)"
            stage.entries.append(Entry(f"{entry.name}: dL/d({what})", np.array(g), note=note))
        watched.backward.append(stage)

    for layer in layers:
        layer.forward = forward(layer, layer.forward)
        layer.backward_pass = backward(layer, layer.backward_pass, at_logits=False)
        layer.backward_logits = backward(layer, layer.backward_logits, at_logits=True)
    autodiff.tape.OBSERVERS.append(op_applied)
    try:
        yield watched
    finally:
        autodiff.tape.OBSERVERS.remove(op_applied)
        for layer in layers:
            for name in ("forward", "backward_pass", "backward_logits"):
                vars(layer).pop(name, None)


def weight_names(model):
    return [f"{layer.name}: {w.name}" for layer in model.layers for w in layer.trainable_weights]


# ----------------------------------------------------------------------------- printing
def _array_text(value, prefix):
    value = np.asarray(value) + 0.0  # + 0.0 prints −0.0 (a masked negative gradient) as 0.0
    if value.ndim == 0:
        return f"{prefix}{float(value):.8f}"
    return prefix + np.array2string(
        value,
        precision=6,
        floatmode="fixed",
        suppress_small=False,
        prefix=prefix,
        max_line_width=100,
    )


def format_trace(record: Trace) -> str:
    """The report: each stage, each array with its shape, Keras's value and the difference."""
    lines = []
    if record.keras_note:
        lines.append(record.keras_note)
    for number, stage in enumerate(record.stages, 1):
        lines.append("")
        lines.append(f"== {number}. {stage.title} ==")
        for entry in stage.entries:
            shape = np.shape(entry.value)
            note = f"   {entry.note}" if entry.note else ""
            lines.append(f"{entry.name}  shape {shape}{note}")
            if entry.keras is None:
                lines.append(_array_text(entry.value, "  "))
                continue
            lines.append(_array_text(entry.value, "  minikeras "))
            lines.append(_array_text(entry.keras, "  keras     "))
            lines.append(f"  max |diff| {entry.difference:.2e}")
    if record.compared:
        lines.append("")
        lines.append(f"largest difference over the whole step: {record.max_difference():.2e}")
    return "\n".join(lines)


# ----------------------------------------------------------------------------- the command line
# a seed whose ReLU keeps some units and zeroes others in each of the two samples
DEFAULT_SEED = 19


def tutorial_model(optimizer="rmsprop", seed=DEFAULT_SEED):
    """The tutorial model shrunk to 4-3-2 (relu, softmax), compiled as the tutorial compiles it.

    Its weights are Glorot-uniform draws rounded to 2 decimals, so that the forward pass can be
    followed by hand. Layer names restart (`clear_session`): its layers are 'dense' and 'dense_1'.
    """
    from minikeras import Sequential
    from minikeras.layers import Input
    from minikeras.utils import clear_session, set_random_seed

    clear_session()  # restart layer names at 'dense', 'dense_1', as the trace prints them
    set_random_seed(seed)
    model = Sequential(
        [Input(shape=(4,)), Dense(3, activation="relu"), Dense(2, activation="softmax")]
    )
    model.set_weights([np.round(w, 2) for w in model.get_weights()])
    model.compile(optimizer=optimizer, loss="categorical_crossentropy", metrics=["accuracy"])
    return model


def tutorial_data(seed=DEFAULT_SEED):
    """Two samples of 4 features in [0, 1) (1 decimal), and one-hot labels of 2 classes."""
    rng = np.random.default_rng(seed)
    x = np.round(rng.random((2, 4)), 1).astype("float32")
    y = np.eye(2, dtype="float32")[[0, 1]]
    return x, y


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="minikeras trace",
        description="One training step of a small model, array by array, beside Keras's.",
    )
    parser.add_argument("--no-keras", action="store_true", help="minikeras alone")
    parser.add_argument(
        "--seed", type=int, default=DEFAULT_SEED, help="seed of the weights and data"
    )
    parser.add_argument(
        "--optimizer",
        default="rmsprop",
        choices=("rmsprop", "sgd", "adam"),
        help="the optimizer whose slots and update are shown (default: rmsprop)",
    )
    args = parser.parse_args(argv)
    model = tutorial_model(args.optimizer, args.seed)
    x, y = tutorial_data(args.seed)
    if not args.no_keras and importlib.util.find_spec("keras") is None:
        print("Keras is not installed: showing minikeras alone (pip install 'minikeras[parity]').")
    print(
        "One training step of the tutorial model shrunk to 4-3-2 (Dense relu, Dense softmax), "
        f"{type(model.optimizer).__name__}, categorical crossentropy, on {len(x)} samples."
    )
    step(model, x, y, keras=False if args.no_keras else "auto")
    return 0


if __name__ == "__main__":
    sys.exit(main())
