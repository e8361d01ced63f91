"""Automatic differentiation for code written with `minikeras.ops`: a tape, as TensorFlow's.

>>> import numpy as np
>>> from minikeras import ops
>>> from minikeras.autodiff import GradientTape, Variable
>>> w = Variable(np.array([1.0, -2.0]), name="w")
>>> with GradientTape() as tape:
...     loss = ops.sum(ops.square(w))
>>> tape.gradient(loss, w)
array([ 2., -4.])

- `tensor.Tensor`: what recorded ops return; `variable.Variable`: a weight (an ndarray).
- `tape.GradientTape`, `tape.record` (a layer with its own backward as one entry).
- `primitive.primitive`: the function every op goes through; `vjps.VJPS`: every op's gradient.
"""

from minikeras.autodiff.primitive import primitive, unwrap
from minikeras.autodiff.tape import GradientTape, is_recording, paused, record, unbroadcast
from minikeras.autodiff.tensor import Tensor
from minikeras.autodiff.variable import Variable
from minikeras.autodiff.vjps import VJPS

__all__ = [
    "VJPS",
    "GradientTape",
    "Tensor",
    "Variable",
    "is_recording",
    "paused",
    "primitive",
    "record",
    "unbroadcast",
    "unwrap",
]
