"""Tensors of other libraries (TensorFlow's, PyTorch's, JAX's) where minikeras takes arrays.

Keras on TensorFlow takes a `tf.Tensor` wherever it takes a tensor: keras.io's scripts mix
`tf.ones`, `tf.nn.relu` and Keras layers freely. minikeras's tensors are NumPy arrays, so it
converts such a tensor through its `__array__`, as `ops.convert_to_tensor` does (values and
dtype kept). What it cannot do is differentiate through the other library's operations: its
tape records only its own ops, so a gradient asked through them is refused with
`differentiation_error` rather than silently missing.
"""

import numpy as np

from minikeras.autodiff.recording import RECORDING
from minikeras.autodiff.tensor import Tensor


def is_foreign(value):
    """Whether `value` is another library's tensor: an array-like (it has `__array__`) that is
    neither a NumPy array (a Variable is one) nor a minikeras Tensor."""
    return hasattr(type(value), "__array__") and not isinstance(
        value, (np.ndarray, np.generic, Tensor)
    )


def foreign_name(value):
    """`tensorflow EagerTensor`: the library and the class, for messages."""
    return f"{type(value).__module__.split('.')[0]} {type(value).__name__}"


def note_foreign(value):
    """Tell every recording tape that `value`, another library's tensor, came into minikeras:
    a gradient found missing later may have been lost in that library's ops."""
    for tape in RECORDING:
        tape.foreign_input = tape.foreign_input or foreign_name(value)


def convert_foreign(structure):
    """`structure` (a tensor, or a list/tuple/dict of them) with every foreign tensor turned
    into a NumPy array (noted on the recording tapes)."""
    if isinstance(structure, (list, tuple)):
        return type(structure)(convert_foreign(item) for item in structure)
    if isinstance(structure, dict):
        return {key: convert_foreign(item) for key, item in structure.items()}
    if is_foreign(structure):
        note_foreign(structure)
        return np.asarray(structure)
    return structure


def differentiation_error(what, name):
    """The TypeError for a gradient asked through the operations of another library: `what`
    went through them, `name` is the tensor they gave back (see `foreign_name`)."""
    library = name.split()[0]
    return TypeError(
        f"{what} went through {library}'s operations (a {name} came from them): "
        "minikeras's GradientTape records only its own operations, so no gradient can flow "
        "through those. Compute it with `minikeras.ops` (Keras's `keras.ops`: ops.sqrt, "
        "ops.moments, ops.conv, ...) or minikeras's layers, which the tape records."
    )
