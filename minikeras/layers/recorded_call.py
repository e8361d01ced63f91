"""Where a layer's call meets the gradient tape (minikeras/autodiff/).

A built-in layer has its backward written by hand; a layer of yours may have none, being made
of `minikeras.ops` and other layers. Three situations, one function each:

    record_call     a layer without a backward, in a model's training step: its call runs on
                    Tensors under a tape of its own; `replay` (its `backward`) asks that tape
                    for dL/dx and dL/dw, given dL/dy
    on_the_tape     any layer called while a GradientTape records (a custom `train_step`):
                    a layer with a backward of its own becomes ONE entry of that tape, its call
                    run on plain arrays and its entry's gradient its hand-written backward (so
                    a model of built-in layers costs no more there); a layer without one simply
                    runs, its ops recording themselves
    probe_output_shape   a layer of yours in a Sequential: its output shape, from a call on zeros

>>> import numpy as np
>>> from minikeras import layers, ops
>>> class Scale(layers.Layer):
...     def build(self, input_shape):
...         self.s = self.add_weight(shape=(input_shape[-1],), initializer="ones")
...     def call(self, x):
...         return ops.exp(self.s) * x
>>> layer = Scale()
>>> y = layer.forward(np.ones((2, 3)), training=True) if layer(np.ones((1, 3))) is not None else 0
>>> dx = layer.backward(np.ones((2, 3)))      # the tape, replayed: dL/dx = e^s
>>> [round(float(v), 4) for v in dx[0]], [g.shape for g in layer.grads]
([2.7183, 2.7183, 2.7183], [(3,)])
"""

import contextlib

import numpy as np

from minikeras import autodiff
from minikeras.autodiff import GradientTape, Tensor
from minikeras.autodiff.recording import RECORDING
from minikeras.autodiff.vjps import VJPS

# ---------------------------------------------------------------------- training, inherited
_TRAINING = [False]  # the `training` of the calls under way, innermost last


@contextlib.contextmanager
def training_context(training):
    """Sublayers called without `training` inside this call take its value, as in Keras."""
    _TRAINING.append(bool(training))
    try:
        yield
    finally:
        _TRAINING.pop()


def current_training():
    return _TRAINING[-1]


_BACKWARD_FOLLOWS = [False]


@contextlib.contextmanager
def backward_follows():
    """Within this block a backward pass will follow each call (`Model.compute_gradients`),
    so layers without a backward of their own record their calls even when not training."""
    _BACKWARD_FOLLOWS.append(True)
    try:
        yield
    finally:
        _BACKWARD_FOLLOWS.pop()


def must_record(training):
    return training or _BACKWARD_FOLLOWS[-1]


# ---------------------------------------------------------------------- small helpers
def is_traced(x):
    """Whether x (or an item of a list or dict x) is a Tensor: recorded computation."""
    if isinstance(x, (list, tuple)):
        return any(isinstance(item, Tensor) for item in x)
    if isinstance(x, dict):
        return any(isinstance(item, Tensor) for item in x.values())
    return isinstance(x, Tensor)


def batch_shape(x):
    """The shape `build` receives: the batch axis as None (a list of shapes for a list)."""
    if isinstance(x, (list, tuple)):
        return [batch_shape(item) for item in x]
    if isinstance(x, dict):
        return {key: batch_shape(item) for key, item in x.items()}
    return (None,) + tuple(np.shape(x)[1:])


def fresh(y):
    """A copy of what a call returned (layers compute into scratch arrays they reuse)."""
    if isinstance(y, (list, tuple)):
        return type(y)(fresh(item) for item in y)
    if isinstance(y, dict):
        return {key: fresh(item) for key, item in y.items()}
    if isinstance(y, Tensor):
        return y
    return np.array(y) if isinstance(y, np.ndarray) else y


def _wrap(x):
    if isinstance(x, (list, tuple)):
        return type(x)(_wrap(item) for item in x)
    if isinstance(x, dict):
        return {key: _wrap(item) for key, item in x.items()}
    return x if isinstance(x, Tensor) or x is None else Tensor(np.asarray(x))


def _unwrap(y):
    if isinstance(y, (list, tuple)):
        return type(y)(_unwrap(item) for item in y)
    if isinstance(y, dict):
        return {key: _unwrap(item) for key, item in y.items()}
    return autodiff.unwrap(y)


def _flat(x):
    if isinstance(x, (list, tuple)):
        return [leaf for item in x for leaf in _flat(item)]
    if isinstance(x, dict):
        return [leaf for item in x.values() for leaf in _flat(item)]
    return [x]


def _regroup(like, flat):
    """`flat` (a list) shaped as `like` (one item, or a list/tuple/dict of them)."""
    if isinstance(like, (list, tuple)):
        out, i = [], 0
        for item in like:
            n = len(_flat(item))
            out.append(_regroup(item, flat[i : i + n]))
            i += n
        return out
    if isinstance(like, dict):
        return dict(zip(like, _regroup(list(like.values()), flat)))
    return flat[0]


# ---------------------------------------------------------------------- a layer without backward
class CallTape:
    """One recorded training call: the tape, the Tensors it started from and the outputs."""

    def __init__(self, tape, inputs, outputs, losses):
        self.tape, self.inputs, self.outputs = tape, inputs, outputs
        self.losses = losses  # the add_loss terms of the call: they count in its backward too


def record_call(layer, x, kwargs):
    """Run `layer.call` on Tensors under a tape of its own; return plain arrays."""
    tape = GradientTape()
    inputs = _wrap(x)
    with tape:
        tape.watch(_flat(inputs))
        outputs = layer.call(inputs, **kwargs)
    losses = [loss for loss in layer.losses if isinstance(loss, Tensor)]
    layer._call_tape = CallTape(tape, inputs, outputs, losses)
    return _unwrap(outputs)


def replay(layer, dy):
    """The backward of a recorded call: dL/dx from dL/dy, and `layer.grads` (dL/dw for each
    of `layer.trainable_weights`, zeros for a weight the output does not depend on)."""
    recorded = layer._call_tape
    if recorded is None:
        raise NotImplementedError(
            f"Layer '{layer.name}' ({type(layer).__name__}) has no `backward` of its own and "
            "no recorded training call: call it with training=True first"
        )
    layer._call_tape = None  # one backward per recorded call
    outputs = _flat(recorded.outputs)
    seeds = _flat(dy) if isinstance(recorded.outputs, (list, tuple, dict)) else [dy]
    if len(seeds) == 1 and isinstance(seeds[0], list) and len(outputs) == 1:
        seeds = seeds[0]  # a model's one output, given as [dL/dy]
    seeds = [
        np.zeros(np.shape(out), autodiff.unwrap(out).dtype) if d is None else np.asarray(d)
        for out, d in zip(outputs, seeds)
    ]
    for out, d in zip(outputs, seeds):
        if np.shape(d) != np.shape(out):
            raise ValueError(
                f"Layer '{layer.name}': the gradient given to backward has shape {np.shape(d)}, "
                f"but the layer's output has shape {np.shape(out)}."
            )
    weights = layer.trainable_weights
    inputs = _flat(recorded.inputs)
    traced = [(out, d) for out, d in zip(outputs, seeds) if isinstance(out, Tensor)]
    traced += [(loss, np.ones_like(loss.value)) for loss in recorded.losses]  # d(Σ terms) = 1
    if not traced:  # the output does not depend on anything recorded
        layer.grads = [np.zeros_like(w.value) for w in weights]
        return _regroup(recorded.inputs, [None] * len(inputs))
    grads = recorded.tape.gradient(
        [out for out, _ in traced], inputs + list(weights), output_gradients=[d for _, d in traced]
    )
    dx, dw = grads[: len(inputs)], grads[len(inputs) :]
    layer.grads = [np.zeros_like(w.value) if g is None else g for w, g in zip(weights, dw)]
    for x, g in zip(inputs, dx):
        if g is not None and g.shape != x.shape:
            raise ValueError(
                f"Layer '{layer.name}': dL/dx has shape {g.shape}; the input had {x.shape}."
            )
    return _regroup(recorded.inputs, dx)


# ---------------------------------------------------------------------- under a user's tape
def on_the_tape(layer, x, kwargs, mask=None):
    """A call while a GradientTape records: a layer with its own backward is one entry.

    Its entry's outputs are the call's outputs and, behind each output made by a softmax or
    sigmoid, that activation's input z (the output Tensor carries it as `_keras_logits`, as
    Keras's does). A crossentropy that starts from z sends its gradient there; the entry then
    runs the backward from the logits, with dL/dz = (that gradient) + (the activation's VJP of
    dL/dy).
    """
    if not layer.has_own_backward:
        with training_context(kwargs.get("training", current_training())):
            return layer.call(x, **kwargs)
    inputs = _flat(x)
    training = kwargs.get("training", current_training())
    # the first layer of a model skips dL/dx; here the input may come from another entry
    needs_dx = any(_traced_now(item) for item in inputs)
    members = [layer, *_nested_layers(layer)]
    paused = list(RECORDING)
    RECORDING.clear()  # its arithmetic is not recorded op by op
    try:
        for member in members:
            member._buffers = {}  # this call's own scratch arrays, kept for its backward
        previous = layer.input_gradient_needed
        layer.input_gradient_needed = previous or needs_dx
        y = layer.call(_unwrap(x), **kwargs)
        logits_layers = layer.output_logits(training)
        states = [(member, member.get_call_state()) for member in members]
        layer.input_gradient_needed = previous
    finally:
        RECORDING.extend(paused)
    outputs = [np.array(out) for out in _flat(y)]
    if len(logits_layers) != len(outputs):
        logits_layers = [None] * len(outputs)
    with_logits = [i for i, owner in enumerate(logits_layers) if owner is not None]
    logits = [np.array(logits_layers[i].logits) for i in with_logits]

    def vjp(output_grads):
        for member, state in states:  # each layer as this call left it
            member.set_call_state(state)
        dys, dzs = list(output_grads[: len(outputs)]), output_grads[len(outputs) :]
        path = [None] * len(outputs)
        for i, dz in zip(with_logits, dzs):
            if np.any(dz):  # a loss started from the logits: the backward starts there too
                activation = logits_layers[i].output_activation
                dys[i] = dz + VJPS[activation](dys[i], outputs[i], logits[with_logits.index(i)])[0]
                path[i] = logits_layers[i]
        layer.input_gradient_needed = previous or needs_dx
        try:
            dx = _backward(layer, y, dys, path, mask)
        finally:
            layer.input_gradient_needed = previous
        dx = _flat(dx) if isinstance(x, (list, tuple, dict)) else [dx]
        return dx, list(layer.grads)

    recorded = autodiff.record(
        inputs, outputs + logits, vjp, weights=layer.trainable_weights, name=f"layer {layer.name}"
    )
    recorded, behind = recorded[: len(outputs)], recorded[len(outputs) :]
    for i, z in zip(with_logits, behind):
        recorded[i]._keras_logits = z
    return _regroup(y, recorded) if isinstance(y, (list, tuple, dict)) else recorded[0]


def _backward(layer, y, dys, path, mask):
    """The layer's backward from dL/d(outputs), or, where `path` names a layer, from dL/dz at
    that layer's logits (a model's backward takes `from_logits`, a layer's `backward_logits`)."""
    several = isinstance(y, (list, tuple, dict))
    if all(owner is None for owner in path):
        return layer.backward_pass(_regroup(y, dys) if several else dys[0], mask)
    if "from_logits" in layer._backward_takes:
        return layer.backward(dys if several else dys[0], from_logits=path if several else path[0])
    return layer.backward_logits(dys[0])


def _traced_now(item):
    return any(id(item) in tape._traced for tape in RECORDING) or isinstance(item, Tensor)


def _nested_layers(layer):
    """Every layer inside a model (its layers' layers too): each keeps what one call left for
    its backward, saved and put back per call, so that a model called twice on one tape (a
    discriminator on real and on generated images) runs each call's backward on its own state."""
    found = []
    for sub in layer._sublayers():
        found += [sub, *_nested_layers(sub)]
    return found


# ---------------------------------------------------------------------- output shapes
def probe_output_shape(layer, input_shape):
    """The output shape of a layer of yours: its call on zeros (an unknown axis as size 1,
    the batch axis None again after)."""

    def zeros(shape):
        if isinstance(shape, (list, tuple)) and shape and isinstance(shape[0], (list, tuple)):
            return [zeros(one) for one in shape]
        return np.zeros(tuple(1 if d is None else d for d in shape), layer.dtype)

    def symbolic(y):
        if isinstance(y, (list, tuple)):
            return [symbolic(item) for item in y]
        return (None,) + tuple(np.shape(y)[1:])

    kwargs = {"training": False} if "training" in layer._call_takes else {}
    with training_context(False):
        y = layer.call(zeros(input_shape), **kwargs)
    return symbolic(_unwrap(y))
