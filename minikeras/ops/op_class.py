"""Keras's op classes (`keras.ops.math.FFT`, `keras.ops.image.Resize`, ...): an op as an
object, its options given when it is made and its tensors when it is called.

>>> import numpy as np
>>> from minikeras.ops.math import TopK
>>> values, indices = TopK(k=1)(np.array([[1.0, 3.0, 2.0]]))
>>> values
array([[3.]])

In minikeras the op is its function (`ops.top_k`); its class only holds the options:
`call(*tensors)` runs the function on arrays, `symbolic_call` on KerasTensors (one graph
node, as any op on KerasTensors), and `compute_output_spec` gives the KerasTensor(s) the
call would return, without computing anything.
"""

import inspect

import numpy as np


def op_class(function, class_name):
    """The Keras class of the op `function`: its parameters after the tensor arguments are the
    class's constructor arguments (`TopK(k, sorted=True)`)."""
    parameters = list(inspect.signature(function).parameters.values())
    tensor_count = next(
        (i for i, p in enumerate(parameters) if p.default is not inspect.Parameter.empty),
        len(parameters),
    )
    # the required options after the tensors (top_k's k) are the first non-default ones Keras
    # puts in its constructor: count the tensors as Keras's call signature has them
    tensor_count = min(tensor_count, _tensor_arity(function))
    option_names = [p.name for p in parameters[tensor_count:] if p.kind is not p.VAR_KEYWORD]

    class Operation:
        __doc__ = f"`ops.{function.__name__}` as an object: options now, tensors at call time."

        def __init__(self, *args, name=None, **kwargs):
            options = dict(zip(option_names, args))
            options.update(kwargs)
            self.name = name
            self._options = options
            for key, value in options.items():
                setattr(self, key, value)

        def call(self, *tensors):
            return function(*tensors, **self._options)

        __call__ = call
        symbolic_call = call

        def compute_output_spec(self, *tensors):
            """The KerasTensor(s) `call` would return on arrays or KerasTensors of these
            shapes and dtypes (arrays stand for themselves: only their shapes are read)."""
            return self.call(*[_symbolic(t) for t in tensors])

    Operation.__name__ = Operation.__qualname__ = class_name
    return Operation


# how many tensor arguments each op's Keras class takes in `call`
_ARITY = {
    "in_top_k": 2,
    "map_coordinates": 2,
    "affine_transform": 2,
    "ssim": 2,
    "perspective_transform": 3,
}


def _tensor_arity(function):
    name = function.__name__
    if name in _ARITY:
        return _ARITY[name]
    return 2 if name.startswith("segment_") else 1


def _symbolic(value):
    """Arrays (and pairs of them) as KerasTensors of their shapes and dtypes; other values
    (None, numbers, strings) as they are."""
    from minikeras.layers.node import KerasTensor

    if value is None or isinstance(value, (KerasTensor, bool, int, float, str)):
        return value  # (a Python number stays one: its type is weak in Keras's promotion)
    if isinstance(value, (tuple, list)):
        return type(value)(_symbolic(item) for item in value)
    array = np.asarray(value)
    return KerasTensor(array.shape, dtype=array.dtype.name)
