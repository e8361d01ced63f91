"""One optimizer call for every weight: the slots and the gradient as flat arrays.

An optimizer that updates weight by weight makes one compiled call per weight (four for a
two-layer model) and finds each weight's slots on the way; at batch 32 those calls cost more
than the arithmetic. `FlatLayout` lays the optimizer's variables end to end, once, when the
optimizer is built:

    offsets     weight i occupies [offset_i, offset_i + size_i) of every flat array
    slots       each slot group (RMSprop's velocity, Adam's momentum, ...) is one flat array;
                `optimizer.slots[name][i]` is a view of weight i's part (the arrays files and
                `optimizer.variables` show, as before)
    gradient    one flat array; `gradient_views[i]` is weight i's part, shaped like it: a step
                that writes its gradients there (models/compiled_step.py) costs no copy
    weights     the weights' own memory, seen flat, as a tuple (they stay the layers' arrays)

`optimizer.update_all(weights, gradient, learning_rate)` then runs the optimizer's rule over
all of it in one compiled call (`kernels.<rule>_update_all`), with the same arithmetic on each
element as the weight-by-weight `update_step`: the results are bit-identical (a test checks
every optimizer both ways).

What still runs weight by weight, before that one call: the options (clipnorm's per-weight
norms, global_clipnorm's norm, weight decay, gradient accumulation) and, after it, the EMA. An
optimizer without `update_all` (Adafactor: its factored slots have the shapes of rows and
columns) and variables of mixed dtypes keep the weight-by-weight update.
"""

import numpy as np


class FlatLayout:
    """Where each weight's part of the flat slots and gradient lies (see the module)."""

    def __init__(self, variables):
        self.variables = list(variables)
        self.dtype = self.variables[0].dtype
        self.shapes = [v.shape for v in self.variables]
        sizes = [v.size for v in self.variables]
        self.offsets = np.concatenate([[0], np.cumsum(sizes)]).tolist()
        self.size = self.offsets[-1]
        self.weights = tuple(v.view(np.ndarray).reshape(-1) for v in self.variables)
        self.gradient = np.zeros(self.size, self.dtype)
        self.gradient_views = self.views(self.gradient)
        self.slots = {}  # slot name → its flat array

    @staticmethod
    def fits(variables):
        """Every variable C-contiguous and of one float dtype (then a flat layout works)."""
        return bool(variables) and all(
            v.dtype == variables[0].dtype and v.flags.c_contiguous for v in variables
        )

    def views(self, flat):
        """Each weight's part of `flat`, shaped like the weight."""
        return [
            flat[start:stop].reshape(shape)
            for start, stop, shape in zip(self.offsets, self.offsets[1:], self.shapes)
        ]

    def add_slot(self, name, initial_value):
        """A new flat slot array filled with `initial_value`; returns its per-weight views."""
        flat = np.full(self.size, initial_value, self.dtype)
        self.slots[name] = flat
        return self.views(flat)

    def matches(self, variables):
        """True when `variables` are the ones laid out (the same objects, in order)."""
        return len(variables) == len(self.variables) and all(
            a is b for a, b in zip(variables, self.variables)
        )

    def gather(self, grads):
        """The gradients as one flat array: no copy when they already are `gradient_views`."""
        for g, view in zip(grads, self.gradient_views):
            if g is not view:
                view[...] = g
        return self.gradient


def share_gradient_buffers(model, optimizer):
    """Once per model and optimizer: have the model's layers write their gradients straight into
    the optimizer's flat gradient, so that its one call reads them without a copy.

    A layer writes a gradient into one of its scratch buffers (`Layer.buffer`), which it fetches
    again at every step; putting the optimizer's view of that weight's gradient (same shape and
    dtype) in that buffer's place changes where the next gradients land, not their values. A
    gradient that is not one of its layer's buffers (a penalty added to it, a layer differentiated
    by the tape) stays where it is, and is copied.
    """
    if getattr(model, "_gradients_shared_with", None) is optimizer:
        return
    model._gradients_shared_with = optimizer
    views = optimizer.gradient_buffers(model.trainable_weights)
    if views is None:
        return
    views = iter(views)
    # (a layer mixed in with trainers.Trainer, holding no sublayers, keeps its own gradients)
    for layer in model._sublayers() or [model]:
        if not layer.trainable:
            continue
        for grad in layer.grads:
            view = next(views, None)
            if view is None or view.shape != grad.shape or view.dtype != grad.dtype:
                continue
            for key, buffer in layer._buffers.items():
                if buffer is grad:
                    layer._buffers[key] = view
