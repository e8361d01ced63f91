"""A metric's state: an array with Keras's Variable methods.

>>> import numpy as np
>>> from minikeras.metrics.variable import Variable
>>> total = Variable.create(np.zeros((), "float32"), name="total", path="mean/total")
>>> total.assign(total + 2.5)
<Variable path=mean/total, shape=(), dtype=float32, value=2.5>
>>> float(total.assign_add(1.0))
3.5

It is a NumPy array (so NumPy takes it unchanged); arithmetic on it gives plain arrays, never a
new Variable, and only `assign`, `assign_add` and `assign_sub` change it, in place.
"""

import numpy as np


class Variable(np.ndarray):
    """A NumPy array with `assign`, `assign_add`, `assign_sub`, `numpy()`, `value`, `name`,
    `path`, `trainable` (always False for a metric) and `aggregation`, as Keras's Variable."""

    @classmethod
    def create(cls, value, name=None, path=None, aggregation="sum"):
        variable = np.array(value).view(cls)
        variable.name = name
        variable.path = path or name
        variable.aggregation = aggregation
        return variable

    def __array_finalize__(self, obj):
        self.name = getattr(obj, "name", None)
        self.path = getattr(obj, "path", None)
        self.aggregation = getattr(obj, "aggregation", "sum")

    trainable = False

    # ------------------------------------------------------------------ Keras's methods
    def assign(self, value):
        """Write `value` (cast to this variable's dtype, broadcast to its shape); returns self."""
        np.copyto(self.view(np.ndarray), value, casting="unsafe")
        return self

    def assign_add(self, value):
        """Add `value` (cast to this variable's dtype first, as Keras); returns self."""
        plain = self.view(np.ndarray)
        if plain.ndim == 0:  # a running total: scalar arithmetic costs less than a ufunc call
            plain[()] = plain[()] + plain.dtype.type(value)
        else:
            np.add(plain, np.asarray(value).astype(plain.dtype, copy=False), out=plain)
        return self

    def assign_sub(self, value):
        return self.assign_add(-np.asarray(value))

    @property
    def value(self):
        """The plain array (a view, not a copy)."""
        return self.view(np.ndarray)

    def numpy(self):
        """A plain copy of the value."""
        return np.array(self.view(np.ndarray))

    # ------------------------------------------------------------------ plain results
    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        # arithmetic on a variable reads its value: the result is a plain array
        inputs = tuple(x.view(np.ndarray) if isinstance(x, Variable) else x for x in inputs)
        if "out" in kwargs:
            kwargs["out"] = tuple(
                x.view(np.ndarray) if isinstance(x, Variable) else x for x in kwargs["out"]
            )
        return getattr(ufunc, method)(*inputs, **kwargs)

    def __getitem__(self, key):
        return self.view(np.ndarray)[key]

    def copy(self, order="C"):
        return np.array(self.view(np.ndarray), order=order)

    def __reduce__(self):
        return (Variable.create, (self.numpy(), self.name, self.path, self.aggregation))

    def __repr__(self):
        value = str(self.numpy())  # as Keras's repr: 2.0, [0. 1.]
        return f"<Variable path={self.path}, shape={self.shape}, dtype={self.dtype}, value={value}>"

    __str__ = __repr__
