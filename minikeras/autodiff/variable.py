"""Variable: a weight. A NumPy array (so kernels, NumPy and Numba take it unchanged) with Keras's
Variable API on top: `assign`, `assign_add`, `assign_sub`, `name`, `path`, `trainable`.

Arithmetic on a Variable gives plain arrays (`w * 2` is not a new weight); while a GradientTape
records, it gives recorded Tensors instead, so the tape sees how the loss used the weight.

>>> import numpy as np
>>> from minikeras.autodiff import Variable
>>> w = Variable(np.ones((2, 3)), name="kernel")
>>> w.assign_sub(np.full((2, 3), 0.5))
<Variable path=kernel, shape=(2, 3), dtype=float64, value=[[0.5 0.5 0.5]
 [0.5 0.5 0.5]]>
>>> type(w * 2).__name__
'ndarray'

`Variable(initializer, shape=None, dtype=None, trainable=True, name=None)` copies the value, as
Keras does; `Variable.wrap(array, ...)` makes a Variable that shares `array`'s memory instead.
"""

import numpy as np

from minikeras import config
from minikeras.autodiff.recording import RECORDING


def _plain(value):
    """The plain ndarray view of a Variable (anything else unchanged)."""
    return value.view(np.ndarray) if isinstance(value, Variable) else value


def _scoped(name):
    """`name` under the name scopes open (`backend.name_scope`, a layer's build or call), as
    Keras paths a Variable made there; None outside any scope (the path is then the name)."""
    # imported here: the layers' package imports this module
    from minikeras.layers.name_scope import current_path, join

    return join(current_path(), name) if current_path() else None


class Variable(np.ndarray):
    """A trainable array, as `keras.Variable`."""

    # Keras's flag for a weight the optimizer sets to its gradient instead of updating it
    overwrite_with_gradient = False
    # the projection the optimizer applies after each update (`add_weight(constraint=...)`)
    constraint = None

    def __new__(
        cls,
        initializer,
        shape=None,
        dtype=None,
        trainable=True,
        autocast=True,
        aggregation="none",
        synchronization="auto",
        name=None,
        path=None,
    ):
        # autocast, aggregation, synchronization: Keras's arguments, accepted; they concern
        # mixed precision and distribution, which minikeras does not do
        if isinstance(initializer, str):  # "ones", "glorot_uniform": an initializer's name
            from minikeras import initializers  # (initializers make Variables' values)

            initializer = initializers.get(initializer)
        config.learn_ml_dtypes(dtype)
        if callable(initializer):  # an initializer object or function, as Keras accepts
            if shape is None:
                raise ValueError(
                    "When creating a Variable from an initializer, the `shape` argument "
                    f"should be specified. Received: initializer={initializer} and shape={shape}"
                )
            value = initializer(shape, dtype=dtype) if dtype is not None else initializer(shape)
        elif dtype is None and not isinstance(initializer, (np.ndarray, np.generic)):
            # Python numbers and lists: Keras's convert_to_tensor (int32, float32)
            from minikeras.ops.core import convert_to_tensor  # (ops make Variables)

            value = convert_to_tensor(initializer)
        else:
            value = initializer
        array = np.array(value, dtype=dtype, copy=True)
        if shape is not None and array.shape != tuple(shape):
            raise ValueError(
                f"Initial value has shape {array.shape}, which is not the `shape` {tuple(shape)}."
            )
        if path is None and name is not None:
            path = _scoped(name)
        return cls.wrap(array, trainable=trainable, name=name, path=path)

    @classmethod
    def wrap(cls, array, trainable=True, name=None, path=None):
        """A Variable over `array`'s memory (no copy): writing one writes the other."""
        variable = np.asarray(array).view(cls)
        variable.trainable = bool(trainable)
        variable.name = name or "variable"
        variable._path = path
        variable._derived = False
        return variable

    def __array_finalize__(self, obj):
        # a view or copy NumPy makes of a Variable (a reshape, a deepcopy) is a Variable too, but
        # not the same weight: not trainable, so no tape takes it for the weight.
        self.trainable = False
        self.name = getattr(obj, "name", None)
        self._path = getattr(obj, "_path", None)
        self._derived = True

    # ------------------------------------------------------------ Keras's Variable API
    @property
    def path(self):
        return self._path or self.name

    @path.setter
    def path(self, value):
        self._path = value

    @property
    def value(self):
        """The weight as a plain ndarray (a view: no copy)."""
        return self.view(np.ndarray)

    def numpy(self):
        """A plain copy of the weight."""
        return np.array(self.view(np.ndarray))

    def assign(self, value):
        """Overwrite the weight in place with `value` (same shape); returns the Variable."""
        value = np.asarray(value)
        if value.shape != self.shape and value.size != self.size:
            raise ValueError(
                f"The shape of the target variable and the shape of the target value in "
                f"`variable.assign(value)` must match. variable.shape={self.shape}, "
                f"Received: value.shape={value.shape}. Target variable: {self!r}"
            )
        self.view(np.ndarray)[...] = value.reshape(self.shape)
        return self

    def assign_add(self, value):
        view = self.view(np.ndarray)
        view += np.asarray(value, dtype=self.dtype)
        return self

    def assign_sub(self, value):
        view = self.view(np.ndarray)
        view -= np.asarray(value, dtype=self.dtype)
        return self

    def copy(self, order="C"):
        return np.array(self.view(np.ndarray), order=order)

    def __deepcopy__(self, memo):
        return Variable.wrap(
            self.numpy(), trainable=self.trainable, name=self.name, path=self._path
        )

    def __reduce__(self):
        return (_rebuild, (self.numpy(), self.trainable, self.name, self._path))

    def __repr__(self):
        return (
            f"<Variable path={self.path}, shape={self.shape}, dtype={self.dtype}, "
            f"value={self.view(np.ndarray)}>"
        )

    # ------------------------------------------------------------ recorded while a tape records
    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        """Plain arrays out, unless a tape records (then the ops function, recorded)."""
        if RECORDING and "out" not in kwargs:
            from minikeras.ops.dispatch import ufunc_to_op

            return ufunc_to_op(ufunc, method, inputs, kwargs)
        inputs = [x.view(np.ndarray) if isinstance(x, Variable) else x for x in inputs]
        out = kwargs.get("out")
        if out is None:
            return getattr(ufunc, method)(*inputs, **kwargs)
        # in place (`w -= g`, `out=w`): computed on plain views, and `out` itself returned, as
        # NumPy does, so that `w` stays the Variable
        kwargs["out"] = tuple(_plain(o) for o in out)
        getattr(ufunc, method)(*inputs, **kwargs)
        return out[0] if len(out) == 1 else out

    def __array_function__(self, func, types, args, kwargs):
        if RECORDING:
            from minikeras.ops.dispatch import function_to_op

            return function_to_op(func, args, kwargs)
        result = super().__array_function__(func, types, args, kwargs)
        return _plain(result) if isinstance(result, Variable) else result

    def __getitem__(self, index):
        if RECORDING:
            from minikeras import ops

            return ops.get_item(self, index)
        return self.view(np.ndarray)[index]

    @property
    def T(self):
        return self.transpose()

    def transpose(self, *axes):
        axes = axes[0] if len(axes) == 1 and not isinstance(axes[0], int) else axes
        if RECORDING:
            from minikeras import ops

            return ops.transpose(self, axes or None)
        return self.view(np.ndarray).transpose(*axes)

    def reshape(self, *shape, **kwargs):
        shape = shape[0] if len(shape) == 1 else shape
        if RECORDING:
            from minikeras import ops

            return ops.reshape(self, shape)
        return self.view(np.ndarray).reshape(shape, **kwargs)

    def astype(self, dtype, **kwargs):
        return self.view(np.ndarray).astype(dtype, **kwargs)


def _rebuild(value, trainable, name, path):
    return Variable.wrap(value, trainable=trainable, name=name, path=path)
