"""Tensor: the array that flows through code a GradientTape records.

A Tensor wraps one NumPy array (`.value`, never copied) and remembers nothing else: which op made
it is written on the tape, not on the tensor. Every operator (`+`, `*`, `@`, `t[0]`, `np.exp(t)`)
calls the matching `minikeras.ops` function, so it is recorded like any op.

>>> import numpy as np
>>> from minikeras.autodiff import GradientTape
>>> from minikeras.autodiff import Tensor
>>> x = Tensor(np.array([1.0, 2.0]))
>>> with GradientTape() as tape:
...     tape.watch(x)
...     y = np.exp(x) * x
>>> type(y).__name__, y.shape
('Tensor', (2,))
>>> tape.gradient(y, x)  # (1 + x)·eˣ
array([ 5.43656366, 22.1671683 ])
"""

import numpy as np


def _ops():
    # minikeras.ops imports this module (to wrap results), so it is imported on first use
    from minikeras import ops

    return ops


class Tensor:
    """An array traced by a GradientTape; `numpy()` gives the array back."""

    __slots__ = ("value", "_keras_logits", "_keras_mask", "__weakref__")
    __array_priority__ = 1000  # ndarray ⊕ Tensor asks the Tensor (its reflected operator)

    def __init__(self, value):
        self.value = value if isinstance(value, np.ndarray) else np.asarray(value)
        # the output of a softmax or sigmoid keeps that activation's input (a Tensor), as
        # Keras's does (`_keras_logits`): a crossentropy given this Tensor starts from there
        self._keras_logits = None
        # the mask a layer's output carries (Embedding(mask_zero=True)'s), as Keras's tensors
        # carry `_keras_mask`: the next layer reads it in a traced call too
        self._keras_mask = None

    # ------------------------------------------------------------ what the array is
    shape = property(lambda self: self.value.shape)
    dtype = property(lambda self: self.value.dtype)
    ndim = property(lambda self: self.value.ndim)
    size = property(lambda self: self.value.size)

    def numpy(self):
        return self.value

    def __array__(self, dtype=None, copy=None):
        if dtype is not None and dtype != self.value.dtype:
            return self.value.astype(dtype)
        return self.value.copy() if copy else self.value

    def __len__(self):
        if self.value.ndim == 0:
            raise TypeError("len() of unsized object (a 0-d Tensor)")
        return len(self.value)

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    def __float__(self):
        return float(self.value)

    def __int__(self):
        return int(self.value)

    def __index__(self):
        return self.value.__index__()

    def __bool__(self):
        return bool(self.value)

    def __format__(self, spec):  # f"{loss:.2f}", as a TensorFlow scalar formats
        return format(self.value.item() if self.value.ndim == 0 else self.value, spec)

    def __repr__(self):
        body = np.array2string(self.value, separator=", ", prefix="Tensor(")
        return f"Tensor({body}, shape={self.shape}, dtype={self.dtype})"

    def __hash__(self):  # identity, as a tape keys tensors (comparisons are elementwise)
        return id(self)

    @property
    def T(self):
        return _ops().transpose(self)

    # ------------------------------------------------------------ operators, all recorded
    def __add__(self, other):
        return _ops().add(self, other)

    def __radd__(self, other):
        return _ops().add(other, self)

    def __sub__(self, other):
        return _ops().subtract(self, other)

    def __rsub__(self, other):
        return _ops().subtract(other, self)

    def __mul__(self, other):
        return _ops().multiply(self, other)

    def __rmul__(self, other):
        return _ops().multiply(other, self)

    def __truediv__(self, other):
        return _ops().divide(self, other)

    def __rtruediv__(self, other):
        return _ops().divide(other, self)

    def __floordiv__(self, other):
        return _ops().floor_divide(self, other)

    def __rfloordiv__(self, other):
        return _ops().floor_divide(other, self)

    def __mod__(self, other):
        return _ops().mod(self, other)

    def __rmod__(self, other):
        return _ops().mod(other, self)

    def __pow__(self, other):
        return _ops().power(self, other)

    def __rpow__(self, other):
        return _ops().power(other, self)

    def __matmul__(self, other):
        return _ops().matmul(self, other)

    def __rmatmul__(self, other):
        return _ops().matmul(other, self)

    def __neg__(self):
        return _ops().negative(self)

    def __pos__(self):
        return self

    def __abs__(self):
        return _ops().absolute(self)

    def __eq__(self, other):
        return _ops().equal(self, other)

    def __ne__(self, other):
        return _ops().not_equal(self, other)

    def __lt__(self, other):
        return _ops().less(self, other)

    def __le__(self, other):
        return _ops().less_equal(self, other)

    def __gt__(self, other):
        return _ops().greater(self, other)

    def __ge__(self, other):
        return _ops().greater_equal(self, other)

    def __invert__(self):
        return _ops().logical_not(self)

    def __and__(self, other):
        return _ops().logical_and(self, other)

    def __or__(self, other):
        return _ops().logical_or(self, other)

    def __getitem__(self, index):
        return _ops().get_item(self, index)

    # ------------------------------------------------------------ NumPy functions on a Tensor
    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        """`np.exp(t)`, `ndarray + t`: the matching ops function, so the tape records it."""
        from minikeras.ops.dispatch import ufunc_to_op

        return ufunc_to_op(ufunc, method, inputs, kwargs)

    def __array_function__(self, func, types, args, kwargs):
        """`np.sum(t)`, `np.concatenate([t, ...])`: the ops function of the same name."""
        from minikeras.ops.dispatch import function_to_op

        return function_to_op(func, args, kwargs)
