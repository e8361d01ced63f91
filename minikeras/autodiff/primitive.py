"""primitive: the one function every `minikeras.ops` op goes through.

`primitive("exp", np.exp, x)` computes `np.exp` on the arrays inside its arguments. When no
tape traces an argument, that is all: a plain ndarray comes back. When one does, the call is
written on that tape (the op's name, its arguments, its result, and its vector–Jacobian product
from `vjps.VJPS`) and the result comes back as a Tensor, traced in turn.
"""

import sys

import numpy as np

from minikeras.autodiff.foreign import is_foreign, note_foreign
from minikeras.autodiff.recording import RECORDING
from minikeras.autodiff.tape import _Entry
from minikeras.autodiff.tensor import Tensor
from minikeras.autodiff.variable import Variable
from minikeras.autodiff.vjps import VJPS


def unwrap(value):
    """The plain array inside a Tensor or Variable; lists and tuples element by element."""
    if isinstance(value, Tensor):
        return value.value
    if isinstance(value, Variable):
        return value.view(np.ndarray)
    if isinstance(value, (list, tuple)):
        return [unwrap(item) for item in value]
    return value


def _plain(result):
    """NumPy's scalars (np.sum's result) as 0-d arrays: every op returns ndarrays."""
    if isinstance(result, tuple):
        return tuple(_plain(item) for item in result)
    return np.asarray(result) if isinstance(result, np.generic) else result


def _flat(args):
    return [item for arg in args for item in (arg if isinstance(arg, (list, tuple)) else (arg,))]


def is_symbolic(items):
    node = sys.modules.get("minikeras.layers.node")  # no KerasTensor exists before it is imported
    return node is not None and any(isinstance(item, node.KerasTensor) for item in items)


def primitive(name, forward, *args, **static):
    """`forward(*arrays, **static)`, recorded on every recording tape that traces an argument.

    `args` are the array arguments (arrays, Tensors, Variables, scalars, or a list of them for
    ops such as concatenate); `static` the others (axis, keepdims, ...). A forward that returns a
    tuple (split, top_k) gives a tuple of Tensors. An op without a VJP (argmax, equal, floor) is
    never recorded: its result is a plain array, through which no gradient flows.
    """
    flat = _flat(args)
    # (on symbolic tensors an op never gets here: `ops.symbolic.symbolic_op` makes it a node)
    values = [unwrap(arg) for arg in args]
    result = forward(*values, **static)
    if not RECORDING or name not in VJPS:
        return _plain(result)
    for item in flat:
        if is_foreign(item):  # made by another library's ops, which no tape records
            note_foreign(item)
    # every argument is asked (no short-circuit): asking is what watches an accessed Variable
    tapes = [tape for tape in RECORDING if any([tape.traces(item) for item in flat])]
    if not tapes:
        return _plain(result)

    several = isinstance(result, tuple)
    answers = tuple(np.asarray(r) for r in result) if several else np.asarray(result)
    outputs = [Tensor(a) for a in answers] if several else [Tensor(answers)]
    vjp = VJPS[name]

    def backward(output_grads):
        g = output_grads if several else output_grads[0]
        grads = vjp(g, answers, *values, **static)
        # one gradient per argument, a list of them for a list argument: flatten like `flat`
        flat_grads = []
        for arg, grad in zip(args, grads):
            if isinstance(arg, (list, tuple)):
                flat_grads.extend(grad if grad is not None else [None] * len(arg))
            else:
                flat_grads.append(grad)
        return flat_grads

    entry = _Entry(name, flat, outputs, backward)
    for tape in tapes:
        tape._append(entry)
    return tuple(outputs) if several else outputs[0]
