"""Ops on symbolic tensors (the Functional API): `x + residual`, `ops.mean(x, axis=1)`.

Calling a `minikeras.ops` function (or an operator) on a KerasTensor computes nothing: as a layer
call does, it adds one node to the graph (ops/symbolic.py decides its output's shape and dtype).
That node's layer is an `OpLayer`: its `call` runs the op on arrays; its `backward` runs it again
on a GradientTape, which applies the vector–Jacobian products of the tape's table
(minikeras/autodiff/vjps.py) to the primitives the op is made of, so a Functional model with
ops trains like any other.

>>> from minikeras import layers, ops
>>> x = layers.Input(shape=(3,))
>>> h = layers.Dense(3)(x)
>>> y = ops.tanh(h + x)                   # two OpLayer nodes: add, then tanh
>>> y.shape, type(y.layer).__name__
((None, 3), 'OpLayer')
"""

import contextlib

import numpy as np

from minikeras.autodiff import GradientTape
from minikeras.autodiff.tensor import Tensor
from minikeras.layers import op_config
from minikeras.layers.layer import Layer
from minikeras.layers.node import KerasTensor, Node
from minikeras.ops.symbolic import call_with, has_symbolic, output_spec, split_arguments
from minikeras.utils.naming import auto_name


class OpLayer(Layer):
    """One call of an op of `minikeras.ops` in a graph: its tensor arguments are the node's
    inputs, its other arguments (constants, axes) are kept as given.

    `function` is the op itself (`ops.norm`), run on arrays in `call`; `arguments` its tensor
    arguments as (parameter name, value) pairs, `options` the rest ({"axis": 1})."""

    has_build_config = False
    rule = None  # the op's shape rule, where it has one (set by call_op_symbolic)

    def __init__(self, op_name, function, signature, arguments, options, **kwargs):
        spelling = _SPELLING[-1] if _SPELLING else None
        self.auto_name_prefix = spelling or op_name  # the counter an automatic name spends
        name = kwargs.pop("name", None) or auto_name(self.auto_name_prefix)
        super().__init__(name=name, **kwargs)
        # Keras's class for the op where the op's name does not give it (`x / y`: TrueDivide)
        self.keras_class = None if spelling is None else op_config.keras_class(spelling)
        self.op_name, self.function, self.signature = op_name, function, signature
        self.static = dict(options)
        self.arg_names = [name for name, _ in arguments]
        # each argument: ("tensor", k) for the node's k-th input, or ("value", constant);
        # a list argument (concatenate) is a list of those
        self.template = [_template(value, self) for _, value in arguments]
        self.n_inputs = getattr(self, "_count", 0)

    def _values(self, inputs):
        inputs = inputs if isinstance(inputs, (list, tuple)) else [inputs]

        def fill(item):
            if isinstance(item, list):
                return [fill(one) for one in item]
            kind, value = item
            return inputs[value] if kind == "tensor" else value

        return [fill(item) for item in self.template]

    def _run(self, values):
        return call_with(self.function, self.signature, self.arg_names, values, self.static)

    def shape_rule(self):
        """The op's shape rule as a function of the node's input KerasTensors, or None where
        the op has none (ops/symbolic.py)."""
        if self.rule is None:
            return None
        return lambda tensors: call_with(
            self.rule, self.signature, self.arg_names, self._values(tensors), self.static
        )

    def call(self, inputs):
        """y = op(arguments)"""
        self.inputs_seen = list(inputs) if isinstance(inputs, (list, tuple)) else [inputs]
        y = self._run(self._values(inputs))
        return list(y) if isinstance(y, (list, tuple)) else y

    def replay(self, inputs):
        """The op again, on other symbolic tensors (a clone of the model it is in): a new
        node, of a new OpLayer, with this one's options."""
        inputs = inputs if isinstance(inputs, (list, tuple)) else [inputs]
        if self.keras_class is None:
            return self._run(self._values(inputs))
        with spelled_as(self.auto_name_prefix):  # `x / y` stays Keras's true_divide
            return self._run(self._values(inputs))

    def backward(self, dy):
        """dL/d(each tensor argument): the op is run again on a GradientTape, which applies the
        VJP of each primitive the op is made of (minikeras/autodiff/vjps.py), newest first: one
        for `add`, several for `norm`; it undoes broadcasting and casts on the way."""
        inputs = [Tensor(np.asarray(x)) for x in self.inputs_seen]
        with GradientTape() as tape:
            for x in inputs:
                tape.watch(x)
            y = self._run(self._values(inputs))
        several = isinstance(y, (list, tuple))
        # several outputs (split): a model hands their gradients as `Arrays` (its `.arrays`),
        # None for an output no loss depends on
        dy = (
            [
                np.zeros_like(out.value) if d is None else d
                for d, out in zip(getattr(dy, "arrays", dy), y)
            ]
            if several
            else dy
        )
        grads = tape.gradient(list(y) if several else y, inputs, output_gradients=dy)
        dx = [
            np.zeros(x.value.shape, x.value.dtype) if g is None else np.asarray(g)
            for g, x in zip(grads, inputs)
        ]
        self.grads = []
        return dx[0] if self.n_inputs == 1 else dx

    def compute_output_shape(self, input_shape):
        shapes = input_shape if isinstance(input_shape, list) else [input_shape]
        tensors = [KerasTensor(shape, dtype=t.dtype) for shape, t in zip(shapes, self._tensors)]
        specs, several = output_spec(
            lambda arrays: self._run(self._values(arrays)), tensors, self.shape_rule()
        )
        return [shape for shape, _ in specs] if several else specs[0][0]

    def get_config(self):
        """Keras's Operation config: the op's name and its options (op_config.py writes the
        whole entry of a Functional's config)."""
        return op_config.entry(self)["config"]


def _template(arg, layer):
    if isinstance(arg, (list, tuple)) and has_symbolic(arg):  # (an index tuple is a constant)
        return [_template(item, layer) for item in arg]
    if isinstance(arg, KerasTensor):
        layer._count = getattr(layer, "_count", 0) + 1
        layer._tensors = getattr(layer, "_tensors", []) + [arg]
        return ("tensor", layer._count - 1)
    return ("value", arg)


_SPELLING = []  # the Keras spelling of the op being made, where it is not its name


@contextlib.contextmanager
def spelled_as(keras_name):
    """The op made inside this block is Keras's `keras_name` op (its name and class): Keras's
    `x / y` is its true_divide, `ops.divide` its divide; minikeras has one divide for both."""
    _SPELLING.append(keras_name)
    try:
        yield
    finally:
        _SPELLING.pop()


def call_op_symbolic(name, function, signature, args, kwargs, spec=None, rule=None):
    """The op `function` called with `args`, `kwargs`, some of them KerasTensors: one node of
    an OpLayer; returns its output KerasTensor (a list of them for an op with several).

    `spec`: the output's KerasTensor (or list of them) where the op knows its output's shape
    without running on stand-ins (Keras's `compute_output_spec`: `ops.slice`'s -1).
    `rule`: the op's shape rule, if it has one (ops/symbolic.py)."""
    arguments, options = split_arguments(signature, args, kwargs)
    layer = OpLayer(name, function, signature, arguments, options)
    layer.rule = rule
    tensors = getattr(layer, "_tensors", [])
    if has_symbolic(list(options.values())):
        raise ValueError(
            f"`ops.{name}` takes arrays for its arguments {layer.arg_names}; it received a "
            f"symbolic tensor for an option: {options}"
        )
    if spec is not None:
        several = type(spec) if isinstance(spec, (list, tuple)) else None
        flags = [(t.sparse, t.ragged) for t in (spec if several else [spec])]
        specs = [(t.shape, t.dtype) for t in (spec if several else [spec])]
    else:
        specs, several = output_spec(
            lambda arrays: layer._run(layer._values(arrays)), tensors, layer.shape_rule()
        )
        flags = [(False, False)] * len(specs)
    outputs = [
        KerasTensor(shape, dtype=dtype, sparse=sparse, ragged=ragged)
        for (shape, dtype), (sparse, ragged) in zip(specs, flags)
    ]
    layer.built = True
    Node(layer, tensors if len(tensors) > 1 else tensors[0], outputs)
    return several(outputs) if several else outputs[0]
