"""Keras's `keras.src.utils.dtype_utils`: a dtype's size in bits, whether it is a float, and a
list of tensors brought to one float dtype (the helper Keras's merge layers use).

>>> import numpy as np
>>> from minikeras.utils import dtype_utils
>>> dtype_utils.dtype_size("bfloat16"), dtype_utils.is_float("int8")
(16, False)
>>> ints, halves = np.ones(2, "int32"), np.ones(2, "float16")
>>> [x.dtype.name for x in dtype_utils.cast_to_common_dtype([ints, halves])]
['float16', 'float16']
"""

from minikeras import backend, ops

# bits per element; bool counts as one bit, as Keras counts it
DTYPE_TO_SIZE = {
    "bool": 1,
    "bfloat16": 16,
    **{f"float{bits}": bits for bits in (16, 32, 64)},
    **{f"{kind}{bits}": bits for kind in ("int", "uint") for bits in (8, 16, 32, 64)},
}


def dtype_size(dtype):
    """The number of bits of one element of `dtype` (a standardized name: "float32")."""
    if dtype not in DTYPE_TO_SIZE:
        raise ValueError(f"Invalid dtype: {dtype}")
    return DTYPE_TO_SIZE[dtype]


def is_float(dtype):
    """Whether the dtype name is a floating one (float16/32/64, bfloat16)."""
    return "float" in dtype


def cast_to_common_dtype(tensors):
    """`tensors` cast to the widest float dtype among them; float16 beside bfloat16 (neither
    holds the other) meet at float32, unless a wider float is there. Without any float
    tensor, `tensors` are returned as they are."""
    floats = [
        dtype for dtype in (backend.standardize_dtype(x.dtype) for x in tensors) if is_float(dtype)
    ]
    if not floats:
        return tensors
    target = max(floats, key=dtype_size)  # the first of the widest, as Keras picks it
    if {"float16", "bfloat16"} <= set(floats) and dtype_size(target) < 32:
        target = "float32"
    return [ops.cast(x, target) for x in tensors]
