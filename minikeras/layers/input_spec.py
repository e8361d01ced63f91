"""InputSpec: what a layer's input must look like, checked before each call (Keras's
`keras.InputSpec` and `keras.layers.InputSpec`).

A layer that sets `self.input_spec = InputSpec(ndim=2)` (or one spec per input, in a list) has
its first argument checked on every call, symbolic or eager, before `build` or `call` run: the
rank (`ndim`, `min_ndim`, `max_ndim`), the dtype, fixed axes (`axes={-1: 8}`) and the whole
`shape` (None matches any size). The messages are Keras's, so an error reads the same.

>>> import numpy as np
>>> from minikeras.layers import InputSpec, Layer
>>> class Pairs(Layer):
...     def __init__(self):
...         super().__init__()
...         self.input_spec = InputSpec(ndim=2, axes={-1: 2})
...     def call(self, x):
...         return x[:, :1] * x[:, 1:]
>>> Pairs()(np.ones((3, 2))).shape
(3, 1)
>>> try:
...     Pairs()(np.ones((3, 4)))
... except ValueError as error:
...     print(str(error).split(": ")[-1])
expected axis -1 of input shape to have value 2, but received input with shape (3, 4)
"""

from minikeras import backend


class InputSpec:
    """The rank, dtype and shape an input must have; None everywhere accepts anything.

    Args:
        dtype: the input's dtype name.
        shape: the whole shape, batch axis included (None: any size); sets `ndim`.
        ndim, max_ndim, min_ndim: the rank, exactly, at most or at least.
        axes: {axis: size} for axes whose size is fixed (`{-1: 8}`).
        allow_last_axis_squeeze: compare `shape` ignoring a last axis of size 1.
        name: the key of this input when inputs are given as a dict.
        optional: whether None may be passed for this input.
    """

    def __init__(
        self,
        dtype=None,
        shape=None,
        ndim=None,
        max_ndim=None,
        min_ndim=None,
        axes=None,
        allow_last_axis_squeeze=False,
        name=None,
        optional=False,
    ):
        self.dtype = None if dtype is None else backend.standardize_dtype(dtype)
        self.shape = None if shape is None else backend.standardize_shape(shape)
        self.ndim = ndim if shape is None else len(shape)
        self.max_ndim = max_ndim
        self.min_ndim = min_ndim
        self.name = name
        self.optional = optional
        self.allow_last_axis_squeeze = allow_last_axis_squeeze
        try:
            self.axes = {int(k): v for k, v in (axes or {}).items()}
        except (ValueError, TypeError, AttributeError):
            raise TypeError(
                f"Argument `axes` must be a dict with integer keys. Received: axes={axes}"
            ) from None
        rank = self.ndim if self.ndim else self.max_ndim
        if self.axes and rank is not None and max(self.axes) > rank - 1:
            raise ValueError(
                f"Axis {max(self.axes)} is greater than the maximum allowed value: {rank - 1}"
            )

    def __repr__(self):
        parts = [
            f"{key}={value}"
            for key, value in (
                ("dtype", self.dtype),
                ("shape", self.shape),
                ("ndim", self.ndim),
                ("max_ndim", self.max_ndim),
                ("min_ndim", self.min_ndim),
                ("axes", self.axes),
            )
            if value
        ]
        return f"InputSpec({', '.join(parts)})"

    def get_config(self):
        return {
            "dtype": self.dtype,
            "shape": self.shape,
            "ndim": self.ndim,
            "max_ndim": self.max_ndim,
            "min_ndim": self.min_ndim,
            "axes": self.axes,
            "optional": self.optional,
        }

    @classmethod
    def from_config(cls, config):
        return cls(**config)


def assert_input_compatibility(input_spec, inputs, layer_name):
    """Raise Keras's ValueError if `inputs` (one tensor, a list, or a dict by spec names) do
    not fit `input_spec` (one spec or a list of them)."""
    if not input_spec:
        return
    specs = flatten(input_spec)
    if isinstance(inputs, dict):
        names = [spec.name for spec in specs]
        if all(names):
            for name in names:
                if name not in inputs:
                    raise ValueError(
                        f'Missing data for input "{name}". You passed a data dictionary with '
                        f"keys {list(inputs)}. Expected the following keys: {names}"
                    )
            inputs = [inputs[name] for name in names]
    tensors = flatten(inputs)
    if len(tensors) != len(specs):
        names = [spec.name for spec in specs if spec is not None]
        if len(names) == len(specs) and all(names):  # Keras's message for named inputs
            example = ", ".join(f"'{name}': ..." for name in names)
            raise ValueError(
                f'Layer "{layer_name}" expects {len(specs)} named input(s) with keys {names}, '
                f"but it received {len(tensors)} input tensors. Pass inputs as a dict, e.g. "
                f"`layer({{{example}}})`."
            )
        raise ValueError(
            f'Layer "{layer_name}" expects {len(specs)} input(s), but it received '
            f"{len(tensors)} input tensors. Inputs received: {tensors}"
        )
    for index, (x, spec) in enumerate(zip(tensors, specs)):
        if spec is None or (x is None and spec.optional):
            continue
        if not hasattr(x, "shape"):
            raise ValueError(
                f"Inputs to a layer should be tensors. Got '{x}' (of type {type(x)}) as input "
                f"for layer '{layer_name}'."
            )
        _check_one(index, x, spec, layer_name)


def flatten(structure):
    """The leaves of nested lists, tuples and dicts (a dict's in sorted key order, as Keras's
    `tree.flatten`)."""
    if isinstance(structure, dict):
        return [leaf for key in sorted(structure) for leaf in flatten(structure[key])]
    if isinstance(structure, (list, tuple)):
        return [leaf for item in structure for leaf in flatten(item)]
    return [structure]


def _check_one(index, x, spec, layer_name):
    shape = backend.standardize_shape(x.shape)
    ndim = len(shape)
    where = f"Input {index} with name '{spec.name}' of layer '{layer_name}' is incompatible "
    where += "with the layer: "
    if spec.ndim is not None and not spec.allow_last_axis_squeeze and ndim != spec.ndim:
        raise ValueError(
            f"{where}expected ndim={spec.ndim}, found ndim={ndim}. Full shape received: {shape}"
        )
    if spec.max_ndim is not None and ndim > spec.max_ndim:
        raise ValueError(f"{where}expected max_ndim={spec.max_ndim}, found ndim={ndim}")
    if spec.min_ndim is not None and ndim < spec.min_ndim:
        raise ValueError(
            f"{where}expected min_ndim={spec.min_ndim}, found ndim={ndim}. "
            f"Full shape received: {shape}"
        )
    if spec.dtype is not None and backend.standardize_dtype(x.dtype) != spec.dtype:
        raise ValueError(
            f"{where}expected dtype={spec.dtype}, found dtype={backend.standardize_dtype(x.dtype)}"
        )
    for axis, size in spec.axes.items():
        if size is not None and shape[axis] not in (size, None):
            raise ValueError(
                f"{where}expected axis {axis} of input shape to have value {size}, but "
                f"received input with shape {shape}"
            )
    if spec.shape is not None:
        expected, found = spec.shape, shape
        if spec.allow_last_axis_squeeze:
            # a trailing axis of 1 on either side is ignored: (None, 28, 28) fits (None, 28, 28, 1)
            found = found[:-1] if found and found[-1] == 1 else found
            expected = expected[:-1] if expected and expected[-1] == 1 else expected
        for want, got in zip(expected, found):
            if want is not None and got is not None and want != got:
                raise ValueError(f"{where}expected shape={spec.shape}, found shape={found}")
