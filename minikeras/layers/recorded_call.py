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
    probe_output_shape   a layer of yours in a Sequential: its output shape, from calls on zeros

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
from minikeras.layers.name_scope import layer_scope
from minikeras.layers.node import CallArguments

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


def run_call(layer, x, kwargs):
    """`layer.call(x, **kwargs)`; the arguments spread out for a call on several tensors."""
    if isinstance(x, CallArguments):
        return layer.call(*x, **kwargs)
    return layer.call(x, **kwargs)


def penalize_activity(layer, y):
    """Keras's activity penalty after a call: add_loss(regularizer(y) / batch size). A layer
    with its own backward adds the penalty's gradient there (`Layer.backward_pass`); for one
    without, the penalty is ops on y, which the tape differentiates."""
    if layer.activity_regularizer is None:
        return
    if layer.has_own_backward:
        layer._penalize_activity(_unwrap(y))
        return
    for output in _flat(y):  # every output of the call (an RNN's states too), as Keras
        penalty = layer.activity_regularizer(output)
        layer.add_loss(penalty / len(output) if np.ndim(output) > 0 else penalty)


def in_a_call():
    """Whether a layer's call is under way: a layer called now is an inner call, which keeps
    the losses added so far (Keras clears them only at the outer call)."""
    return len(_TRAINING) > 1


# ---------------------------------------------------------------------- super().call(x)
def builtin_call_on_the_tape(layer, owner, call, args, kwargs):
    """A built-in layer's `call` reached directly while a tape records: the `super().call(x)`
    of your subclass (`class MyDense(Dense)` whose `call` scales Dense's output), whose own
    call the tape differentiates op by op. The built-in call is ONE entry of that tape: it runs
    on plain arrays, and its gradient is the backward `owner` (the built-in class whose call
    this is) wrote for it, given dL/dy:

        y = owner.call(x)       dL/dx, dL/dw = owner.backward(dL/dy)

    What the call left on the layer for its backward (its inputs, its activation's output) is
    put back before that backward runs, so a layer called twice on one tape differentiates
    each call with its own.
    """
    before = dict(vars(layer))
    paused = list(RECORDING)
    RECORDING.clear()  # its arithmetic is not recorded op by op
    try:
        layer._buffers = {}  # this call's own scratch arrays, kept for its backward
        y = call(layer, *_unwrap(list(args)), **kwargs)
        left = {key: value for key, value in vars(layer).items() if before.get(key) is not value}
    finally:
        RECORDING.extend(paused)
    inputs = _flat(list(args))
    outputs = [np.array(out) for out in _flat(y)]
    several_in, several_out = len(args) > 1, isinstance(y, (list, tuple, dict))
    mask = kwargs.get("mask") if "mask" in owner._backward_takes else None

    def vjp(output_grads):
        vars(layer).update(left)
        needed = layer.input_gradient_needed
        layer.input_gradient_needed = True
        try:
            dy = _regroup(y, list(output_grads)) if several_out else output_grads[0]
            dx = owner.backward(layer, dy, mask) if mask is not None else owner.backward(layer, dy)
        finally:
            layer.input_gradient_needed = needed
        dx = _flat(dx) if several_in else [dx]
        return [None if d is None else np.array(d) for d in dx], [np.array(g) for g in layer.grads]

    recorded = autodiff.record(
        inputs, outputs, vjp, weights=layer.trainable_weights, name=f"{owner.__name__}.call"
    )
    return _regroup(y, list(recorded)) if several_out else recorded[0]


# ---------------------------------------------------------------------- add_loss terms' seeds
# While a model's backward runs for an entry of a user's GradientTape, d(target)/d(term) of
# each add_loss term of that call, by the term's id: 0 when the target left it out (Keras's
# `model.losses` are values the user sums in). Absent (fit's own step): 1, as fit sums them all.
_LOSS_SEEDS = {}


def loss_seed(term):
    """d(target)/d(term) for an add_loss term: 1 unless a user's tape says otherwise."""
    return _LOSS_SEEDS.get(id(term), 1)


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


def as_shape(shape):
    """A shape as a tuple, or a list or dict of shapes as a list or dict of tuples (a shape
    read from a file is a list)."""
    if isinstance(shape, dict):
        return {key: as_shape(one) for key, one in shape.items()}
    if isinstance(shape, (list, tuple)) and shape and isinstance(shape[0], (list, tuple, dict)):
        return [as_shape(one) for one in shape]
    return tuple(shape)


def fresh(y):
    """A copy of what a call returned (layers compute into scratch arrays they reuse)."""
    if isinstance(y, (list, tuple)):
        return type(y)(fresh(item) for item in y)
    if isinstance(y, dict):
        return {key: fresh(item) for key, item in y.items()}
    if isinstance(y, (Tensor, autodiff.Variable)):  # a weight returned is the weight, as Keras
        return y
    return np.array(y) if isinstance(y, np.ndarray) else y


def _wrap(x):
    if isinstance(x, (list, tuple)):
        return type(x)(_wrap(item) for item in x)
    if isinstance(x, dict):
        return {key: _wrap(item) for key, item in x.items()}
    return x if isinstance(x, Tensor) or x is None else Tensor(np.asarray(x))


def unwrap_all(y):
    """The plain arrays of a Tensor, or of the Tensors in a list or dict."""
    return _unwrap(y)


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

    def __init__(self, tape, inputs, outputs, losses, keyword_inputs=()):
        self.tape, self.inputs, self.outputs = tape, inputs, outputs
        self.losses = losses  # the add_loss terms of the call: they count in its backward too
        # Tensors given by keyword (an RNN's initial_state), flat, after the inputs
        self.keyword_inputs = list(keyword_inputs)


def _is_float_array(value):
    return isinstance(value, np.ndarray) and value.dtype.kind == "f"


def _keyword_tensors(kwargs):
    """The call's float arrays given by keyword (`initial_state=[h, c]` from a Functional
    model's node), as Tensors in kwargs: a node's keyword tensors are inputs of the node, and
    the model asks dL/d(each) after dL/dx. `training` and `mask` are not differentiated."""
    wrapped = []
    for key, value in kwargs.items():
        if key in ("training", "mask"):
            continue
        items = value if isinstance(value, (list, tuple)) else [value]
        if items and all(_is_float_array(item) for item in items):
            tensors = [Tensor(item) for item in items]
            kwargs[key] = tensors if isinstance(value, (list, tuple)) else tensors[0]
            wrapped += tensors
    return wrapped


def record_call(layer, x, kwargs):
    """Run `layer.call` on Tensors under a tape of its own; return plain arrays."""
    # persistent: a user's persistent tape may ask for the entry that holds this call twice
    tape = GradientTape(persistent=True)
    inputs = _wrap(x)
    kwargs = dict(kwargs)
    keyword_inputs = _keyword_tensors(kwargs)
    before = {id(loss) for loss in layer.added_losses()}  # an earlier call's (a shared layer)
    with tape:
        tape.watch(_flat(inputs) + keyword_inputs)
        outputs = run_call(layer, inputs, kwargs)
        penalize_activity(layer, outputs)
    losses = [
        loss for loss in layer.added_losses() if isinstance(loss, Tensor) and id(loss) not in before
    ]
    layer._call_tape = CallTape(tape, inputs, outputs, losses, keyword_inputs)
    return _unwrap(outputs)


class LogitsOf:
    """The logits a recorded output carries (`Tensor._keras_logits`), where a loss starts:
    `logits` the array, `tensor` where the replay starts (see `replay`'s `starts`)."""

    def __init__(self, tensor):
        self.tensor = tensor

    @property
    def logits(self):
        return self.tensor.value


def recorded_outputs(layer):
    """The outputs of the layer's last recorded call, flat (Tensors), or [] if none."""
    recorded = layer._call_tape
    return [] if recorded is None else _flat(recorded.outputs)


def replay(layer, dy, starts=None):
    """The backward of a recorded call: dL/dx from dL/dy, and `layer.grads` (dL/dw for each
    of `layer.trainable_weights`, zeros for a weight the output does not depend on).
    `starts`: per output, None, or the Tensor whose gradient `dy` is instead of the output's
    (its logits, when the loss was differentiated from them)."""
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
    if starts is not None:
        outputs = [out if z is None else z for out, z in zip(outputs, starts)]
    traced = [(out, d) for out, d in zip(outputs, seeds) if isinstance(out, Tensor)]
    for loss in recorded.losses:  # d(Σ terms)/d(term): 1 in fit, what a user's tape says
        seed = _LOSS_SEEDS.get(id(loss))
        if seed is None:
            traced.append((loss, np.ones_like(loss.value)))
        elif np.any(seed):  # a target that left the term out sends it nothing
            traced.append((loss, np.asarray(seed, loss.value.dtype)))
    keywords = recorded.keyword_inputs
    if not traced:  # the output does not depend on anything recorded
        layer.grads = [np.zeros_like(w.value) for w in weights]
        return _with_keywords(
            _regroup(recorded.inputs, [None] * len(inputs)), [None] * len(keywords)
        )
    sources = inputs + keywords + list(weights)
    grads = recorded.tape.gradient(
        [out for out, _ in traced], sources, output_gradients=[d for _, d in traced]
    )
    n = len(inputs) + len(keywords)
    dx, dk, dw = grads[: len(inputs)], grads[len(inputs) : n], grads[n:]
    layer.grads = [np.zeros_like(w.value) if g is None else g for w, g in zip(weights, dw)]
    for x, g in zip(inputs, dx):
        if g is not None and g.shape != x.shape:
            raise ValueError(
                f"Layer '{layer.name}': dL/dx has shape {g.shape}; the input had {x.shape}."
            )
    return _with_keywords(_regroup(recorded.inputs, dx), dk)


def _with_keywords(dx, d_keywords):
    """dL/dx, then dL/d(each keyword tensor) when the call had some: one flat list, in the
    order of a node's `input_tensors` (a built-in RNN's backward returns [dx, dh0, ...] too)."""
    if not d_keywords:
        return dx
    return [*_flat(dx), *d_keywords]


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
            y = run_call(layer, x, kwargs)
            penalize_activity(layer, y)
            return y
    inputs = _flat(x)
    before = {id(term) for term in layer.added_losses()}  # an earlier call's (a shared layer)
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
        # the tape may ask for this entry's backward even when the call is not a training
        # one (keras.io's VAE calls its encoder without training=True): sublayers without a
        # backward of their own must record their calls for it
        with backward_follows():
            y = run_call(layer, _unwrap(x), kwargs)
        from minikeras.models.arrays import Arrays  # (models import this module)

        packed = isinstance(y, Arrays)  # a functional model's several outputs
        y = y.arrays if packed else y
        penalize_activity(layer, y)
        # the add_loss terms of this call (its layers' activity penalties too): outputs of
        # its entry, so that `model.losses` are values on the user's tape
        terms = [term for term in layer.added_losses() if id(term) not in before]
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
        n_ends = len(outputs) + len(logits)
        dys, dzs = list(output_grads[: len(outputs)]), output_grads[len(outputs) : n_ends]
        # each term's gradient from the target: its seed in the layers' backward passes
        seeds = {id(term): g for term, g in zip(terms, output_grads[n_ends:])}
        path = [None] * len(outputs)
        for i, dz in zip(with_logits, dzs):
            if np.any(dz):  # a loss started from the logits: the backward starts there too
                activation = logits_layers[i].output_activation
                dys[i] = dz + VJPS[activation](dys[i], outputs[i], logits[with_logits.index(i)])[0]
                path[i] = logits_layers[i]
        layer.input_gradient_needed = previous or needs_dx
        _LOSS_SEEDS.update(seeds)
        try:
            dx = _backward(layer, y, dys, path, mask)
        finally:
            layer.input_gradient_needed = previous
            for key in seeds:
                del _LOSS_SEEDS[key]
        dx = _flat(dx) if isinstance(x, (list, tuple, dict)) else [dx]
        # copies: a layer writes its gradients into scratch arrays that its next backward
        # (a persistent tape asked again) would overwrite
        return [None if d is None else np.array(d) for d in dx], [np.array(g) for g in layer.grads]

    values = [np.asarray(autodiff.unwrap(term)) for term in terms]
    recorded = autodiff.record(
        inputs,
        outputs + logits + values,
        vjp,
        weights=layer.trainable_weights,
        name=f"layer {layer.name}",
    )
    if len(recorded) > len(outputs) + len(logits):  # on a tape: the terms, as its Tensors
        _terms_on_the_tape(states, terms, recorded[len(outputs) + len(logits) :])
    recorded = recorded[: len(outputs) + len(logits)]
    recorded, behind = recorded[: len(outputs)], recorded[len(outputs) :]
    for i, z in zip(with_logits, behind):
        recorded[i]._keras_logits = z
    if packed:  # in the structure the model's outputs were given in (a list, a dict)
        return layer._pack_outputs(recorded)
    return _regroup(y, recorded) if isinstance(y, (list, tuple, dict)) else recorded[0]


def _terms_on_the_tape(states, terms, tensors):
    """Each member's add_loss terms replaced by the entry's Tensors of them (kept so by the
    states its backward puts back): `model.losses` read under the tape are on it."""
    on_tape = {id(term): tensor for term, tensor in zip(terms, tensors)}
    for member, state in states:
        member._losses = [on_tape.get(id(term), term) for term in member._losses]
        state["_losses"] = member._losses


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
def _zeros_like_shape(shape, dtype, unknown=1):
    """Zeros standing in for data of `shape` (a list of shapes gives a list); None as
    `unknown`."""
    if isinstance(shape, dict):
        return {key: _zeros_like_shape(one, dtype, unknown) for key, one in shape.items()}
    if isinstance(shape, (list, tuple)) and shape and isinstance(shape[0], (list, tuple, dict)):
        return [_zeros_like_shape(one, dtype, unknown) for one in shape]
    return np.zeros(tuple(unknown if d is None else d for d in shape), dtype)


def probe_mask(layer, input_shape, mask_shape=None):
    """The number of axes of the mask `layer.compute_mask` makes for an input of
    `input_shape` (a list for a list of outputs; None: no mask), found on zeros."""
    x = _zeros_like_shape(input_shape, layer.dtype)
    mask = (
        None if mask_shape is None else np.ones([1 if d is None else d for d in mask_shape], bool)
    )
    try:
        found = layer.compute_mask(x, mask)
    except Exception:  # a compute_mask that needs real data: no symbolic mask, as unknown
        return None
    if isinstance(found, (list, tuple)):
        return [None if m is None else np.ndim(autodiff.unwrap(m)) for m in found]
    return None if found is None else np.ndim(autodiff.unwrap(found))


def probe_output_shape(layer, input_shape, spread=False, mask_shape=None):
    """The output shape of a layer of yours, found as Keras's NumPy backend finds it: its
    call on zeros whose unknown axes are 83, then 89; an output axis that differs between the
    two calls depends on an unknown axis and is unknown (None). Where those sizes do not fit
    (a weight of 4 added along an unknown axis), one call with unknown axes of 1 decides, the
    batch axis None again after. `spread`: one argument per shape of the list; `mask_shape`:
    the call is given a mask of ones of that shape."""
    try:
        first = _probe_call(layer, input_shape, spread, mask_shape, 83)
        second = _probe_call(layer, input_shape, spread, mask_shape, 89)
        return _compare_shapes(first, second)
    except (ValueError, IndexError, TypeError):
        y = _probe_call(layer, input_shape, spread, mask_shape, 1)
        return _batch_unknown(y)


def _probe_call(layer, input_shape, spread, mask_shape, unknown):
    def zeros(shape):
        return _zeros_like_shape(shape, layer.dtype, unknown)

    kwargs = {"training": False} if "training" in layer._call_takes else {}
    if mask_shape is not None:
        kwargs["mask"] = np.ones([unknown if d is None else d for d in mask_shape], bool)
    arguments = CallArguments(zeros(s) for s in input_shape) if spread else zeros(input_shape)
    # a call on stand-ins changes no variable (a counter's `assign_add`), as Keras's symbolic
    # call runs in a StatelessScope: the values from before are put back
    saved = [(v, np.array(v)) for v in layer.variables]
    try:
        with training_context(False), layer_scope(layer):  # its sublayers built here: its own
            y = run_call(layer, arguments, kwargs)
    finally:
        for v, value in saved:
            v[...] = value
    layer.clear_losses()  # a call on stand-ins adds no loss, as Keras's symbolic call adds none
    return _unwrap(y)


def _compare_shapes(first, second):
    if isinstance(first, (list, tuple)):
        return [_compare_shapes(a, b) for a, b in zip(first, second)]
    return tuple(a if a == b else None for a, b in zip(np.shape(first), np.shape(second)))


def _batch_unknown(y):
    if isinstance(y, (list, tuple)):
        return [_batch_unknown(item) for item in y]
    return (None,) + tuple(np.shape(y)[1:])
