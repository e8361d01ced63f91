"""Ops on symbolic tensors: every op of `minikeras.ops`, called on a KerasTensor, is one node.

`@symbolic_op` marks a function of `minikeras.ops`. On arrays the function runs as written. When
a KerasTensor is among its arguments it computes nothing: the call becomes one node of the graph
(an `OpLayer`, layers/op_layer.py), whatever the function is made of (`ops.norm` is several
primitives on arrays, one `Norm` node in a graph, as in Keras), and its output is a KerasTensor
of the shape and dtype the function would give.

That shape and dtype are found as Keras's NumPy backend finds them (its `compute_output_spec`):
the function is run on stand-in arrays, once with every unknown axis (None) of size 83 and once
of size 89; an output axis whose size differs between the two runs depends on an unknown axis,
and is unknown (None) too. Those runs are wrong where an unknown axis meets a known one: Keras
(on TensorFlow) adds shapes (None, 3) and (2, None) to (2, 3), while an array of 83 rows does not
broadcast with one of 2. An op whose shape the runs get wrong names its shape rule
(`@symbolic_op(shape=rule)`, ops/shapes.py): the rule is called as the op is, KerasTensors in
place of arrays, and returns the output's shape; the stand-in run then gives only the dtype.

>>> from minikeras import ops
>>> from minikeras.backend import KerasTensor
>>> y = ops.argmax(KerasTensor((None, 3)), axis=1)
>>> y.shape, y.dtype
((None,), 'int32')
"""

import functools
import inspect
import sys
import warnings

import numpy as np

from minikeras.ops.dtypes import result_type

# The parameters of ops that hold arrays: a node's call arguments (Keras's `Operation.call`
# takes them: `Add.call(x1, x2)`); every other parameter is an option of the op (Keras's
# `Operation.__init__` takes those: `Mean(axis, keepdims)`), written in the node's config.
TENSOR_PARAMETERS = frozenset(
    "x x1 x2 x3 xs y a b condition condlist choicelist default target output targets "
    "predictions mean variance offset scale gamma beta inputs indices updates values value "
    "start_indices data segment_ids variable weights elements fill_value kernel bias mask "
    "key sorted_sequence array operands depthwise_kernel pointwise_kernel query "
    "target_length output_length sequence_lengths abs_ angle start stop tensor".split()
)

# the sizes that stand for an unknown axis in the two runs (Keras's choice: two primes that
# no op is likely to produce from other sizes)
_SIZES = (83, 89)


def _keras_tensor_class():
    node = sys.modules.get("minikeras.layers.node")  # no KerasTensor exists before it is imported
    return None if node is None else node.KerasTensor


def has_symbolic(value, kind=None):
    """Whether a KerasTensor is in `value` (nested in lists, tuples and dicts)."""
    kind = kind or _keras_tensor_class()
    if kind is None:
        return False
    if isinstance(value, kind):
        return True
    if isinstance(value, (list, tuple)):
        return any(has_symbolic(item, kind) for item in value)
    if isinstance(value, dict):
        return any(has_symbolic(item, kind) for item in value.values())
    return False


def symbolic_op(function=None, *, shape=None):
    """`function` (an op), made to build one graph node when called on KerasTensors; `shape`,
    its shape rule where the stand-in runs give a wrong shape (`@symbolic_op(shape=rule)`)."""
    if function is None:
        return functools.partial(symbolic_op, shape=shape)
    signature = inspect.signature(function)

    @functools.wraps(function)
    def op(*args, **kwargs):
        kind = _keras_tensor_class()
        if kind is None or not (has_symbolic(args, kind) or has_symbolic(kwargs, kind)):
            return function(*args, **kwargs)
        from minikeras.layers.op_layer import call_op_symbolic  # (layers import ops)

        return call_op_symbolic(function.__name__, function, signature, args, kwargs, rule=shape)

    op.shape_rule = shape
    return op


def split_arguments(signature, args, kwargs):
    """The call's (tensor arguments, options): the first as [(parameter name, value)] in the
    signature's order, a `*operands` parameter giving one pair per item (its name with its
    position, "operands[0]"); the second as {name: value}, only those the caller gave."""
    bound = signature.bind(*args, **kwargs)
    tensors, options = [], {}
    for name, value in bound.arguments.items():
        kind = signature.parameters[name].kind
        if kind is inspect.Parameter.VAR_POSITIONAL:
            tensors.extend((f"{name}[{i}]", item) for i, item in enumerate(value))
        elif kind is inspect.Parameter.VAR_KEYWORD:
            options.update(value)
        elif name in TENSOR_PARAMETERS or has_symbolic(value):
            tensors.append((name, value))
        else:
            options[name] = value
    return tensors, options


def call_with(function, signature, names, values, options):
    """`function` called with the tensor arguments `names` = `values` and the `options`."""
    arguments = {}
    for name, value in zip(names, values):
        if name.endswith("]"):  # an item of a *operands parameter
            arguments.setdefault(name.split("[")[0], []).append(value)
        else:
            arguments[name] = value
    arguments.update(options)
    args, kwargs = [], {}
    for name, parameter in signature.parameters.items():
        if parameter.kind is inspect.Parameter.VAR_POSITIONAL:
            args.extend(arguments.pop(name, []))
            # the parameters before *operands are positional, so they go before it
            args[:0] = [kwargs.pop(n) for n in list(kwargs) if n in signature.parameters]
        elif parameter.kind is inspect.Parameter.VAR_KEYWORD:
            continue
        elif name in arguments:
            kwargs[name] = arguments.pop(name)
    kwargs.update(arguments)  # what **kwargs took
    return function(*args, **kwargs)


def output_spec(run, tensors, rule=None):
    """[(shape, dtype)] of each output of `run(arrays)`, for the KerasTensors `tensors` (a
    stand-in array each), and the type of the container of several outputs (tuple or list),
    None for one output. `rule(tensors)`, when given, is the output's shape (a list of shapes
    for several outputs); the stand-ins then give only the dtypes."""
    if rule is not None:
        return _ruled_spec(rule(tensors), run, tensors)
    unknown = any(None in t.shape for t in tensors)
    first = _quietly(run, [_stand_in(t, _SIZES[0]) for t in tensors])
    several = type(first) if isinstance(first, (tuple, list)) else None
    outputs = list(first) if several else [first]
    dtypes = [np.asarray(out).dtype.name for out in outputs]
    shapes = [np.shape(out) for out in outputs]
    if unknown:
        second = _quietly(run, [_stand_in(t, _SIZES[1]) for t in tensors])
        second = list(second) if several else [second]
        shapes = [
            tuple(a if a == b else None for a, b in zip(s1, np.shape(s2)))
            for s1, s2 in zip(shapes, second)
        ]
    return list(zip(shapes, dtypes)), several


def _ruled_spec(shapes, run, tensors):
    """output_spec of an op with a shape rule, which gave `shapes`: one shape (a tuple), or a
    list of shapes for several outputs. The dtype comes from a run on stand-ins: unknown axes
    of size 83, or, where those do not fit the known axes they meet ((83, 3) + (2, 83)), of
    size 1, which broadcasts with any. Where the op refuses even those (a bitwise op on float
    stand-ins, float indices), the dtype is the arguments' common one, as Keras's spec gives."""
    several = list if isinstance(shapes, list) else None
    shapes = [tuple(s) for s in shapes] if several else [tuple(shapes)]
    try:
        try:
            first = _quietly(run, [_stand_in(t, _SIZES[0]) for t in tensors])
        except (ValueError, IndexError):
            first = _quietly(run, [_stand_in(t, 1) for t in tensors])
        outputs = list(first) if isinstance(first, (tuple, list)) else [first]
        dtypes = [np.asarray(out).dtype.name for out in outputs]
    except (ValueError, IndexError, TypeError):
        dtypes = [result_type(*(t.dtype for t in tensors))]
    dtypes = dtypes + dtypes[-1:] * (len(shapes) - len(dtypes))
    return list(zip(shapes, dtypes)), several


def _quietly(run, arrays):
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return run(arrays)


def _stand_in(tensor, size):
    """An array of the KerasTensor's dtype and shape (`size` for an unknown axis): integers
    zero (a valid index anywhere), floats one plus the identity on the last two axes (a log
    stays finite, a square matrix is invertible and positive definite)."""
    shape = tuple(size if d is None else d for d in tensor.shape)
    dtype = np.dtype(tensor.dtype)
    if dtype.kind in "iub":
        return np.zeros(shape, dtype=dtype)
    array = np.ones(shape, dtype=dtype)
    if len(shape) >= 2 and shape[-1] == shape[-2]:
        array += np.eye(shape[-1], dtype=dtype)
    return array
