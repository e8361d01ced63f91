"""Ops on symbolic tensors (the Functional API): `x + residual`, `ops.mean(x, axis=1)`.

Calling a `minikeras.ops` function (or an operator) on a KerasTensor computes nothing: as a layer
call does, it adds a node to the graph. That node's layer is an `OpLayer`: its `call` runs the op
on arrays, its `backward` is the op's vector–Jacobian product from the tape's table
(minikeras/autodiff/vjps.py), so a Functional model with ops trains like any other.

>>> from minikeras import layers, ops
>>> x = layers.Input(shape=(3,))
>>> h = layers.Dense(3)(x)
>>> y = ops.tanh(h + x)                   # two OpLayer nodes: add, then tanh
>>> y.shape, type(y.layer).__name__
((None, 3), 'OpLayer')
"""

import contextlib

import numpy as np

from minikeras.autodiff import VJPS, unbroadcast
from minikeras.layers import op_config
from minikeras.layers.layer import Layer
from minikeras.layers.node import KerasTensor, call_symbolic
from minikeras.utils.naming import auto_name


class OpLayer(Layer):
    """One op of `minikeras.ops` in a graph: its tensor arguments are the node's inputs, its
    other arguments (numbers, axes) are kept as given."""

    has_build_config = False

    def __init__(self, op_name, forward, args, static, **kwargs):
        spelling = _SPELLING[-1] if _SPELLING else None
        self.auto_name_prefix = spelling or op_name  # the counter an automatic name spends
        name = kwargs.pop("name", None) or auto_name(self.auto_name_prefix)
        super().__init__(name=name, **kwargs)
        # Keras's class for the op where the op's name does not give it (`x / y`: TrueDivide)
        self.keras_class = None if spelling is None else op_config.keras_class(spelling)
        self.op_name, self.forward_fn, self.static = op_name, forward, dict(static)
        # each argument: ("tensor", k) for the node's k-th input, or ("value", constant);
        # a list argument (concatenate) is a list of those
        self.template = [_template(arg, self) for arg in args]
        self.n_inputs = getattr(self, "_count", 0)

    def _values(self, inputs):
        inputs = inputs if isinstance(inputs, (list, tuple)) else [inputs]

        def fill(item):
            if isinstance(item, list):
                return [fill(one) for one in item]
            kind, value = item
            return inputs[value] if kind == "tensor" else value

        return [fill(item) for item in self.template]

    def call(self, inputs):
        """y = op(arguments)"""
        self.values = self._values(inputs)
        self.y = self.forward_fn(*self.values, **self.static)
        return self.y

    def backward(self, dy):
        """dL/d(each tensor argument) = the op's VJP, broadcasting undone."""
        grads = VJPS[self.op_name](dy, self.y, *self.values, **self.static)
        dx = [None] * self.n_inputs
        for item, value, grad in zip(self.template, self.values, grads):
            pairs = (
                zip(item, value, grad or [None] * len(item))
                if isinstance(item, list)
                else [(item, value, grad)]
            )
            for (kind, k), v, g in pairs:
                if kind == "tensor" and g is not None:
                    g = unbroadcast(np.asarray(g), np.shape(v)).astype(np.asarray(v).dtype)
                    dx[k] = g if dx[k] is None else dx[k] + g
        dx = [np.zeros(np.shape(v)) if d is None else d for d, v in zip(dx, self._inputs())]
        self.grads = []
        return dx[0] if self.n_inputs == 1 else dx

    def _inputs(self):
        flat = []

        def walk(item, value):
            if isinstance(item, list):
                for one, v in zip(item, value):
                    walk(one, v)
            elif item[0] == "tensor":
                flat.append((item[1], value))

        for item, value in zip(self.template, self.values):
            walk(item, value)
        return [v for _, v in sorted(flat, key=lambda pair: pair[0])]

    def compute_output_shape(self, input_shape):
        shapes = input_shape if isinstance(input_shape, list) else [input_shape]
        zeros = [np.zeros(tuple(1 if d is None else d for d in s), self.dtype) for s in shapes]
        y = np.asarray(self.forward_fn(*self._values(zeros), **self.static))
        batch = shapes[0][0] if shapes and len(shapes[0]) else None
        return (batch,) + y.shape[1:] if y.ndim else ()

    def get_config(self):
        """Keras's Operation config: the op's name and its options (op_config.py writes the
        whole entry of a Functional's config)."""
        return op_config.entry(self)["config"]


def _template(arg, layer):
    if isinstance(arg, (list, tuple)):
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


def call_op_symbolic(name, forward, args, static):
    """The op `name` on symbolic tensors: a node of an OpLayer; returns its KerasTensor."""
    layer = OpLayer(name, forward, args, static)
    tensors = layer._tensors
    return call_symbolic(layer, tensors if len(tensors) > 1 else tensors[0])
