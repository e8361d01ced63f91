"""`rearrange` (Keras's `keras.ops.rearrange`, from einops): transpose, split and merge axes
by naming them.

>>> import numpy as np
>>> from minikeras import ops
>>> ops.rearrange(np.zeros((2, 6, 5)), "b (h w) c -> b c h w", h=2).shape
(2, 5, 2, 3)

Three steps, each an op (so the tape differentiates it): a reshape that splits every
"(h w)" group of the input into its axes, a transpose into the output's order of single
axes, a reshape that merges the output's groups.
"""

import math
import re

from minikeras.ops.core import convert_to_tensor
from minikeras.ops.numpy import reshape, transpose
from minikeras.ops.op_classes import operation_classes
from minikeras.ops.symbolic import symbolic_op


def _groups(side):
    """ "b (h w) c" → [["b"], ["h", "w"], ["c"]]."""
    return [token.strip("()").split() for token in re.findall(r"\w+|\(.*?\)", side)]


@symbolic_op
def rearrange(tensor, pattern, **axes_lengths):
    """`tensor` rearranged as `pattern` ("input axes -> output axes") says; `axes_lengths`
    gives the sizes of split axes that cannot be inferred."""
    tensor = convert_to_tensor(tensor)
    left, right = re.split(r"\s*->\s*", pattern)
    inputs, outputs = _groups(left), _groups(right)
    if len(inputs) != len(tensor.shape):
        raise ValueError(
            f"The pattern {pattern!r} names {len(inputs)} input axes; the tensor has "
            f"{len(tensor.shape)}: shape {tensor.shape}"
        )
    sizes = dict(axes_lengths)
    for group, dim in zip(inputs, tensor.shape):
        unknown = [axis for axis in group if axis not in sizes]
        known = math.prod(sizes[axis] for axis in group if axis in sizes)
        if len(unknown) > 1:
            raise ValueError(f"Cannot infer the sizes of {unknown} in {pattern!r}: give them.")
        if unknown:
            sizes[unknown[0]] = dim // known
        elif known != dim:
            raise ValueError(
                f"Axes {group} of sizes {[sizes[a] for a in group]} do not make up the "
                f"input axis of size {dim}."
            )
    single_in = [axis for group in inputs for axis in group]
    single_out = [axis for group in outputs for axis in group]
    if sorted(single_in) != sorted(single_out):
        raise ValueError(f"Both sides of {pattern!r} must name the same axes.")
    x = reshape(tensor, tuple(sizes[axis] for axis in single_in))  # split the input groups
    x = transpose(x, tuple(single_in.index(axis) for axis in single_out))
    return reshape(x, tuple(math.prod(sizes[a] for a in group) for group in outputs))


# Keras's Operation classes (`Rearrange(pattern)(x)`), made from the ops
globals().update(operation_classes(globals(), __name__))
