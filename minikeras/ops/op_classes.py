"""Keras's Operation classes of the ops (`ops.numpy.Add`, `ops.numpy.Pad`): an op split in two.

Keras writes each op as a class: its options (axes, modes, widths) go to the constructor, its
tensors to the call, `Pad(pad_width=1)(x)` being `pad(x, pad_width=1)`. minikeras writes each op
as one function; the class is made from it: the function's tensor parameters (ops/symbolic.py's
TENSOR_PARAMETERS, and a `*operands` parameter) are the call's, the others the constructor's,
both in the function's order.

>>> import numpy as np
>>> from minikeras.ops import numpy as knp
>>> knp.Append(axis=0)(np.array([1, 2]), np.array([3])).tolist()
[1, 2, 3]
"""

import inspect

from minikeras.ops.symbolic import TENSOR_PARAMETERS


def operation_class(class_name, function):
    """The Operation class `class_name` of the op `function`."""
    parameters = inspect.signature(function).parameters
    variadic = [n for n, p in parameters.items() if p.kind is inspect.Parameter.VAR_POSITIONAL]
    names = [n for n, p in parameters.items() if p.kind is not inspect.Parameter.VAR_KEYWORD]
    tensors = [n for n in names if n in TENSOR_PARAMETERS]
    options = [n for n in names if n not in TENSOR_PARAMETERS and n not in variadic]

    def __init__(self, *args, name=None, **kwargs):
        self.name = name
        self.options = {**dict(zip(options, args)), **kwargs}

    def __call__(self, *args, **kwargs):
        if variadic:  # einsum(subscripts, *operands): the options before, the tensors after
            before = [self.options[n] for n in options if n in self.options][: len(options)]
            return function(*before, *args, **kwargs)
        # tensors first; a tensor minikeras counts as an option (digitize's bins) after them
        rest = [n for n in options if n not in self.options]
        given = dict(zip(tensors + rest, args))
        return function(**given, **self.options, **kwargs)

    doc = f"Keras's `{class_name}` Operation: `{function.__name__}` as a class (ops/op_classes.py)."
    # Keras's `call` computes and `symbolic_call` builds a node; in minikeras the op itself
    # does either, by what it is given (arrays or KerasTensors: ops/symbolic.py)
    methods = {"__init__": __init__, "__call__": __call__, "call": __call__}
    methods["symbolic_call"] = __call__

    def compute_output_spec(self, *args, **kwargs):
        """The KerasTensor(s) the call would give on arguments of these shapes and dtypes."""
        from minikeras.ops.op_class import _symbolic

        return self(*[_symbolic(a) for a in args], **kwargs)

    methods["compute_output_spec"] = compute_output_spec
    return type(class_name, (), {**methods, "__doc__": doc})


def operation_classes(namespace, module):
    """Keras's Operation classes of the ops in `namespace` (a module's globals) defined in
    `module` or its helper files (`minikeras.ops.nn` and `minikeras.ops.nn_conv`): one class
    for each op that becomes a graph node."""
    from minikeras.layers.op_config import keras_class

    ops = {
        name: f
        for name, f in namespace.items()
        if hasattr(f, "shape_rule") and name[0] != "_" and f.__module__.startswith(module)
    }
    return {keras_class(n): operation_class(keras_class(n), f) for n, f in ops.items()}
