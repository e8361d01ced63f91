"""GradientTape: record the ops of a computation, then walk them back for gradients.

The idea is micrograd's, for arrays. While a tape records, every op that reads something the
tape traces (a watched array, a trainable Variable, or a Tensor an earlier recorded op made)
appends one entry to the tape — which op, its arguments, its result — and returns its result as
a new Tensor, traced in turn. `tape.gradient(y, x)` then starts from dy/dy = 1 and visits the
entries newest first: each entry turns the gradient of its output into gradients of its inputs
(its vector–Jacobian product, from `vjps.VJPS`), which are added to what those inputs already
received. Entries are appended in the order they run, so newest-first visits every consumer of a
tensor before the entry that made it: its gradient is complete when its turn comes.

>>> import numpy as np
>>> from minikeras import ops
>>> from minikeras.autodiff import GradientTape
>>> x = np.array([1.0, 2.0, 3.0])
>>> with GradientTape() as tape:
...     tape.watch(x)
...     y = ops.sum(ops.square(x))
>>> tape.gradient(y, x)
array([2., 4., 6.])
"""

import contextlib

import numpy as np

from minikeras.autodiff.foreign import differentiation_error, foreign_name, is_foreign
from minikeras.autodiff.recording import RECORDING as _recording
from minikeras.autodiff.tensor import Tensor
from minikeras.autodiff.variable import Variable


def is_recording():
    """True while some GradientTape records (and has not paused with `stop_recording`)."""
    return bool(_recording)


def unbroadcast(grad, shape):
    """Undo NumPy broadcasting: sum `grad` down to `shape`.

    An input of shape (3,) added to a (2, 3) array was used twice, once per row: its gradient is
    the sum of the two rows' gradients. Leading axes broadcasting added are summed away, and axes
    where the input had size 1 are summed with keepdims.
    """
    if grad.shape == shape:
        return grad
    grad = grad.sum(axis=tuple(range(grad.ndim - len(shape)))) if grad.ndim > len(shape) else grad
    ones = tuple(axis for axis, size in enumerate(shape) if size == 1 and grad.shape[axis] != 1)
    return grad.sum(axis=ones, keepdims=True) if ones else grad


# Functions called with (entry, output_grads, input_grads) as `gradient` applies each entry's
# VJP: `minikeras.trace` shows a learner every op's VJP applied, one by one.
OBSERVERS = []


class _Entry:
    """One recorded op: its flat `inputs` (the objects read), `outputs` (the Tensors made) and
    `backward(output_grads) -> input_grads` (one gradient or None per input, flat)."""

    __slots__ = ("name", "inputs", "outputs", "backward")

    def __init__(self, name, inputs, outputs, backward):
        self.name, self.inputs, self.outputs, self.backward = name, inputs, outputs, backward


class GradientTape:
    """Records ops for automatic differentiation, as `tf.GradientTape`.

    Args:
        persistent: allow several `gradient` calls (else one, then the tape is spent).
        watch_accessed_variables: trace every trainable `Variable` an op reads, without `watch`.

    Watching: `tape.watch(x)` traces `x` — a Variable, a Tensor, or a plain NumPy array; it
    returns None, as TensorFlow's. A plain array is traced by identity: an op of
    `minikeras.ops` given that very object (not a copy or a slice) is recorded, and
    `tape.gradient(y, x)` is asked with the same object. NumPy's own operators on a plain array
    (`x * x`) never reach the tape — NumPy does not ask anyone — so on a plain array use ops
    (`ops.multiply(x, x)`), or wrap it first: `x = Tensor(x); tape.watch(x)`, after which
    `x * x`, `np.exp(x)` and `x[0]` are all recorded.
    """

    def __init__(self, persistent=False, watch_accessed_variables=True):
        self.persistent = persistent
        self.watch_accessed_variables = watch_accessed_variables
        self._entries = []
        self._traced = {}  # id -> the object, kept alive so its id is not reused
        self._used = False
        # another library's tensor an op read while this tape recorded ("tensorflow
        # EagerTensor"): a gradient that goes missing may have gone through that library
        self.foreign_input = None

    # ------------------------------------------------------------ recording
    def __enter__(self):
        _recording.append(self)
        return self

    def __exit__(self, *exc):
        _recording.remove(self)
        return False

    @contextlib.contextmanager
    def stop_recording(self):
        """Ops run inside this block are not recorded on this tape."""
        if self not in _recording:
            raise ValueError("Tape must be recording to call `stop_recording`.")
        position = _recording.index(self)
        _recording.remove(self)
        try:
            yield
        finally:
            _recording.insert(position, self)

    def reset(self):
        """Forget everything recorded so far (the tape keeps recording)."""
        self._entries, self._traced, self._used = [], {}, False

    def watch(self, tensor):
        """Trace `tensor` (a Variable, Tensor, array, or a nested list/tuple/dict of them).

        Another library's tensor (a `tf.Tensor`, as Keras on TensorFlow takes) is traced by
        identity, as a plain array is: an op of `minikeras.ops` given that very object is
        recorded."""
        for item in _flatten(tensor):
            if isinstance(item, (Tensor, np.ndarray)) or is_foreign(item):
                self._traced[id(item)] = item
            elif item is not None:
                raise ValueError(
                    f"Passed in object {item!r} of type {type(item).__name__!r}, not a tensor "
                    "or a variable, to `GradientTape.watch`."
                )

    def watched_variables(self):
        """The Variables this tape traces, in the order they were first seen."""
        return tuple(item for item in self._traced.values() if isinstance(item, Variable))

    def traces(self, item):
        """Whether ops on `item` are recorded on this tape (a trainable Variable an op reads is
        traced from then on when `watch_accessed_variables`)."""
        if id(item) in self._traced:
            return True
        if self.watch_accessed_variables and isinstance(item, Variable) and item.trainable:
            self._traced[id(item)] = item
            return True
        return False

    def _append(self, entry):
        self._entries.append(entry)
        for output in entry.outputs:
            self._traced[id(output)] = output

    # ------------------------------------------------------------ differentiating
    def gradient(self, target, sources, output_gradients=None):
        """d(target)/d(sources), with `sources` one source or a nested list/tuple/dict of them;
        the result has the same structure, None for a source `target` does not depend on.

        A non-scalar target is differentiated as the sum of its entries (as TensorFlow), unless
        `output_gradients` gives the gradient to start from (same shape as `target`).
        """
        if self._used and not self.persistent:
            raise RuntimeError(
                "A non-persistent GradientTape can only be used to compute one set of "
                "gradients (or jacobians)"
            )
        targets = _flatten(target)
        for item in targets:  # another library's ops made it: none of them is on this tape
            if is_foreign(item):
                raise differentiation_error("The gradient's target", foreign_name(item))
        self._used = True
        seeds = (
            _flatten(output_gradients) if output_gradients is not None else [None] * len(targets)
        )
        grads = {}  # id(object) -> its gradient so far
        for item, seed in zip(targets, seeds):
            if id(item) in self._traced:
                value = _value(item)
                seed = np.ones_like(value) if seed is None else np.asarray(_value(seed))
                _accumulate(grads, item, seed.astype(value.dtype, copy=False))
        for entry in reversed(self._entries):
            output_grads = [grads.get(id(output)) for output in entry.outputs]
            if all(g is None for g in output_grads):
                continue  # nothing the target depends on came out of this op
            output_grads = [
                np.zeros_like(out.value) if g is None else g
                for g, out in zip(output_grads, entry.outputs)
            ]
            input_grads = entry.backward(output_grads)
            for observe in OBSERVERS:
                observe(entry, output_grads, input_grads)
            for item, grad in zip(entry.inputs, input_grads):
                if grad is not None and id(item) in self._traced:
                    _accumulate(grads, item, grad)
        if not self.persistent:
            self._entries = []  # a spent tape lets its arrays go
        return _map_structure(lambda source: grads.get(id(source)), sources)


def _value(item):
    if isinstance(item, Tensor):
        return item.value
    return np.asarray(item)


def _accumulate(grads, item, grad):
    """grads[item] += grad, after undoing broadcasting and casting to the item's dtype; integer
    and boolean items get no gradient (as TensorFlow's None)."""
    value = _value(item)
    if value.dtype.kind not in "fc":
        return
    grad = np.asarray(grad)
    grad = np.asarray(unbroadcast(grad, value.shape)).astype(value.dtype, copy=False)
    key = id(item)
    grads[key] = grad if key not in grads else grads[key] + grad


def _flatten(structure):
    if isinstance(structure, dict):
        return [leaf for value in structure.values() for leaf in _flatten(value)]
    if isinstance(structure, (list, tuple)):
        return [leaf for value in structure for leaf in _flatten(value)]
    return [structure]


def _map_structure(fn, structure):
    if isinstance(structure, dict):
        return {key: _map_structure(fn, value) for key, value in structure.items()}
    if isinstance(structure, (list, tuple)):
        return type(structure)(_map_structure(fn, value) for value in structure)
    return fn(structure)


# ---------------------------------------------------------------- making entries
@contextlib.contextmanager
def paused():
    """No tape records inside this block: NumPy on Variables gives plain arrays again.

    For a computation that goes on the tape as one `record` entry: run its forward inside
    `paused()`, so that its own NumPy calls on weights are not recorded a second time.
    """
    saved = list(_recording)
    _recording.clear()
    try:
        yield
    finally:
        _recording[:] = saved


def record(inputs, outputs, vjp, weights=(), name="record"):
    """Put a computation with a hand-written backward on the tape as ONE entry.

    `inputs`: the Tensors/arrays it read; `outputs`: what it produced (arrays or Tensors);
    `weights`: the weight arrays (Variables, or plain arrays keyed by identity) it used, which a
    tape with `watch_accessed_variables` traces as it traces accessed Variables;
    `vjp(output_grads) -> (input_grads, weight_grads)`, lists in the orders given; `name`
    names the entry (a layer's: "layer dense").

    Returns the outputs as Tensors (a list) when a tape records any input or weight, else the
    outputs as given. Compute the outputs inside `paused()` (NumPy on a Variable would be
    recorded otherwise, and counted twice).
    """
    inputs, weights, outputs = list(inputs), list(weights), list(outputs)
    tapes = [
        tape
        for tape in _recording
        if any([tape.traces(item) for item in inputs])
        or (tape.watch_accessed_variables and weights)
        or any(id(w) in tape._traced for w in weights)
    ]
    if not tapes:
        return outputs
    n_inputs = len(inputs)

    def backward(output_grads):
        input_grads, weight_grads = vjp(output_grads)
        return list(input_grads)[:n_inputs] + list(weight_grads)

    tensors = [out if isinstance(out, Tensor) else Tensor(out) for out in outputs]
    entry = _Entry(name, inputs + weights, tensors, backward)
    for tape in tapes:
        if tape.watch_accessed_variables:
            for w in weights:
                if not isinstance(w, Variable) or w.trainable:
                    tape._traced[id(w)] = w
        tape._append(entry)
    return tensors
