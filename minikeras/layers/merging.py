"""Merge layers: several tensors in, one out. Where branches of a graph meet.

    Add        y = x₁ + x₂ + ...            dxᵢ = dy
    Subtract   y = x₁ − x₂                  dx₁ = dy, dx₂ = −dy
    Multiply   y = x₁ ⊙ x₂ ⊙ ...            dxᵢ = dy ⊙ Πⱼ≠ᵢ xⱼ
    Average    y = (x₁ + ... + xₙ) / n      dxᵢ = dy / n
    Maximum    y = max(x₁, x₂, ...)         dxᵢ = dy where xᵢ is the first input to reach y, else 0
    Minimum    y = min(x₁, x₂, ...)         the same, for the minimum
    Concatenate(axis)  y = [x₁ x₂ ...]     dxᵢ = the slice of dy that xᵢ filled

The elementwise merges accept shapes that broadcast, as Keras's do: a lower-rank input gets new
axes after the batch axis, and an axis of length 1 stretches. Where an input was stretched, its
gradient is summed back over the stretched axes (`_unbroadcast`).

>>> import numpy as np
>>> from minikeras.layers import Add, Concatenate
>>> Add()([np.ones((2, 3)), np.ones((2, 3))]).tolist()
[[2.0, 2.0, 2.0], [2.0, 2.0, 2.0]]
>>> Concatenate()([np.ones((2, 3)), np.zeros((2, 1))]).shape
(2, 4)
"""

import numpy as np

from minikeras.layers import keras_mask
from minikeras.layers import node as node_module
from minikeras.layers.layer import Layer


class Merge(Layer):
    """Base of the elementwise merges. Subclasses write `merge(xs)` and `merge_backward(dy)`,
    on inputs already brought to one rank."""

    # ------------------------------------------------------------------ shapes
    def build(self, input_shape):
        self.check_input_shape(input_shape)
        super().build([tuple(shape) for shape in input_shape])

    def check_input_shape(self, shape):
        """ValueError unless `shape` is a list of shapes that can merge (naming them)."""
        _check_list(shape)
        self.compute_output_shape(shape)

    def compute_output_shape(self, input_shape):
        """The broadcast of the shapes after the batch axis, aligned on the right (Keras's
        `Merge._compute_elemwise_op_output_shape`); ValueError naming both shapes if they clash."""
        shape = tuple(input_shape[0][1:])
        for other in input_shape[1:]:
            shape = _broadcast_shape(shape, tuple(other[1:]))
        batch_sizes = {s[0] for s in input_shape} - {None}
        batch = batch_sizes.pop() if len(batch_sizes) == 1 else None
        return (batch,) + shape

    # ------------------------------------------------------------------ forward / backward
    def __call__(self, inputs, training=None):
        """On a list of arrays: build on first use, check the shapes, merge; a fresh array."""
        if node_module.is_symbolic(inputs) or not isinstance(inputs, (list, tuple)):
            # only a `training` the caller gave goes on the node, as Keras records the call
            given = {} if training is None else {"training": training}
            return super().__call__(inputs, **given)
        masks = [_mask_of(x) for x in inputs]  # read before NumPy drops them
        arrays = [np.ascontiguousarray(x, dtype=self.dtype) for x in inputs]
        shapes = [(None,) + a.shape[1:] for a in arrays]
        if not self.built:
            self.build(shapes)
        self.check_input_shape([a.shape for a in arrays])
        y = self.call(arrays, training=training).copy()
        if all(m is None for m in masks):
            return y
        y = self.merge_masked(arrays, masks, y)
        return keras_mask.attach(y, self.compute_mask(arrays, masks))

    def merge_masked(self, xs, masks, y):
        """The merge of inputs that carry masks (None for one without), as Keras merges them
        eagerly: the plain merge `y` for most; Maximum, Minimum and Multiply differ."""
        return y

    def call(self, inputs, training=False):
        self.input_shapes = [x.shape for x in inputs]
        rank = max(x.ndim for x in inputs)
        # a lower-rank input gets axes of length 1 after the batch axis: (b, 3) → (b, 1, 3)
        self.xs = [x.reshape(x.shape[:1] + (1,) * (rank - x.ndim) + x.shape[1:]) for x in inputs]
        self.y = self.merge(self.xs)
        return self.y

    def backward(self, dy):
        """One gradient per input, each summed back to its input's shape."""
        self.grads = []
        dxs = self.merge_backward(dy)
        return [
            _unbroadcast(dx, x.shape).reshape(shape)
            for dx, x, shape in zip(dxs, self.xs, self.input_shapes)
        ]

    def merge(self, xs):
        raise NotImplementedError

    def merge_backward(self, dy):
        raise NotImplementedError

    # ------------------------------------------------------------------ masks
    supports_masking = True

    def compute_mask(self, inputs, mask=None):
        """Keras's rule: a step is kept where any input keeps it (the OR of the masks); no
        mask if an input has none."""
        mask = _check_masks(inputs, mask)
        if mask is None or any(m is None for m in mask):
            return None
        return np.logical_or.reduce([np.asarray(m, dtype=bool) for m in mask])


class Add(Merge):
    """y = x₁ + x₂ + ...  (the residual connection's merge)

    >>> import numpy as np
    >>> from minikeras.layers import Add
    >>> Add()([np.array([[1.0, 2.0]]), np.array([[10.0, 20.0]])]).tolist()
    [[11.0, 22.0]]
    """

    def merge(self, xs):
        y = xs[0]
        for x in xs[1:]:
            y = y + x
        return y

    def merge_backward(self, dy):
        """dxᵢ = dy: each input moves y one for one."""
        return [dy for _ in self.xs]


class Subtract(Merge):
    """y = x₁ − x₂ (exactly two inputs).

    >>> import numpy as np
    >>> from minikeras.layers import Subtract
    >>> Subtract()([np.array([[5.0]]), np.array([[2.0]])]).tolist()
    [[3.0]]
    """

    def check_input_shape(self, shape):
        super().check_input_shape(shape)
        if len(shape) != 2:
            raise ValueError(
                "A `Subtract` layer should be called on exactly 2 inputs. "
                f"Received: input_shape={[tuple(s) for s in shape]}"
            )

    def merge(self, xs):
        return xs[0] - xs[1]

    def merge_backward(self, dy):
        """dx₁ = dy, dx₂ = −dy"""
        return [dy, -dy]


class Multiply(Merge):
    """y = x₁ ⊙ x₂ ⊙ ... (elementwise product).

    >>> import numpy as np
    >>> from minikeras.layers import Multiply
    >>> Multiply()([np.array([[2.0, 3.0]]), np.array([[4.0, 5.0]])]).tolist()
    [[8.0, 15.0]]
    """

    def merge(self, xs):
        y = xs[0]
        for x in xs[1:]:
            y = y * x
        return y

    def merge_masked(self, xs, masks, y):
        """Keras: a masked step of an input counts as 1; where every input has a mask, the
        steps no input keeps are 0."""
        every = all(m is not None for m in masks)
        out, keep = None, None
        for x, mask in zip(xs, masks):
            if mask is not None:
                mask = _steps(mask, x)
                x = np.where(mask, x, x.dtype.type(1))
                keep = mask if keep is None else keep | mask
            out = x if out is None else out * x
        return np.where(keep, out, out.dtype.type(0)) if every else out

    def merge_backward(self, dy):
        """dxᵢ = dy ⊙ Πⱼ≠ᵢ xⱼ: the product of the other inputs (no division, so zeros are safe)."""
        dxs = []
        for i in range(len(self.xs)):
            dx = dy
            for j, x in enumerate(self.xs):
                if j != i:
                    dx = dx * x
            dxs.append(dx)
        return dxs


class Average(Merge):
    """y = (x₁ + x₂ + ... + xₙ) / n

    >>> import numpy as np
    >>> from minikeras.layers import Average
    >>> Average()([np.array([[1.0]]), np.array([[4.0]])]).tolist()
    [[2.5]]
    """

    def merge(self, xs):
        return Add.merge(self, xs) / len(xs)

    def merge_backward(self, dy):
        """dxᵢ = dy / n"""
        dx = dy / len(self.xs)
        return [dx for _ in self.xs]


class _Extremum(Merge):
    """Maximum and Minimum: y = choose(x₁, x₂, ...) elementwise, choose = max or min.

    Gradient: all of dy goes to the input that holds the extremum. On a tie it goes to the
    first such input, as in TensorFlow (whose max(a, b) sends it to a where a ≥ b; Keras folds
    the inputs left to right, max(max(x₁, x₂), x₃), so the earliest input wins).
    """

    choose = None  # np.maximum or np.minimum: of two arrays, elementwise

    def merge(self, xs):
        y = xs[0]
        for x in xs[1:]:
            y = self.choose(y, x)
        return y

    def merge_masked(self, xs, masks, y):
        """Keras's fold: a masked step of one side takes the other side's value, so it never
        wins; the result is masked only where every input is."""
        out, out_mask = xs[0], None if masks[0] is None else _steps(masks[0], xs[0])
        for x, mask in zip(xs[1:], masks[1:]):
            mask = None if mask is None else _steps(mask, x)
            if mask is not None:
                x = np.where(mask, x, out)
            if out_mask is not None:
                out = np.where(out_mask, out, x)
            out_mask = out_mask | mask if mask is not None and out_mask is not None else None
            out = self.choose(out, x)
        return out

    def merge_backward(self, dy):
        """dxᵢ = dy where xᵢ is the first input equal to y, else 0."""
        taken = np.zeros(self.y.shape, dtype=bool)  # positions already given to an input
        dxs = []
        for x in self.xs:
            wins = (x == self.y) & ~taken
            taken |= wins
            dxs.append(np.where(wins, dy, 0).astype(dy.dtype))
        return dxs


class Maximum(_Extremum):
    """y = max(x₁, x₂, ...), elementwise; on a tie the gradient goes to the first input.

    >>> import numpy as np
    >>> from minikeras.layers import Maximum
    >>> Maximum()([np.array([[1.0, 5.0]]), np.array([[3.0, 2.0]])]).tolist()
    [[3.0, 5.0]]
    """

    choose = staticmethod(np.maximum)


class Minimum(_Extremum):
    """y = min(x₁, x₂, ...), elementwise; on a tie the gradient goes to the first input.

    >>> import numpy as np
    >>> from minikeras.layers import Minimum
    >>> Minimum()([np.array([[1.0, 5.0]]), np.array([[3.0, 2.0]])]).tolist()
    [[1.0, 2.0]]
    """

    choose = staticmethod(np.minimum)


class Concatenate(Merge):
    """y = [x₁ x₂ ...] along `axis`: the inputs side by side. All other axes must match.

    >>> import numpy as np
    >>> from minikeras.layers import Concatenate
    >>> Concatenate()([np.array([[1.0, 2.0]]), np.array([[3.0]])]).tolist()
    [[1.0, 2.0, 3.0]]
    """

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        self.axis = axis

    def check_input_shape(self, shape):
        _check_list(shape)
        rank = len(shape[0])
        axis = self.axis % rank if -rank <= self.axis < rank else None
        if axis == 0:
            raise ValueError(
                "`Concatenate` joins samples side by side: `axis` cannot be the batch axis. "
                f"Received: axis={self.axis}"
            )

        def others(s):  # every axis but the batch and the concatenation axes
            return [d for i, d in enumerate(s) if i not in (0, axis)]

        first = others(shape[0])
        if axis is None or any(
            len(s) != rank
            or any(a is not None and b is not None and a != b for a, b in zip(others(s), first))
            for s in shape
        ):
            raise ValueError(
                "A `Concatenate` layer requires inputs with matching shapes except for the "
                f"concatenation axis. Received: input_shape={[tuple(s) for s in shape]}"
            )

    def compute_output_shape(self, input_shape):
        shape = list(input_shape[0])
        sizes = [s[self.axis] for s in input_shape]
        shape[self.axis] = None if None in sizes else sum(sizes)
        return tuple(shape)

    def call(self, inputs, training=False):
        self.sizes = [x.shape[self.axis] for x in inputs]
        return np.concatenate(inputs, axis=self.axis)

    def backward(self, dy):
        """dxᵢ = dy[..., offsetᵢ : offsetᵢ + sizeᵢ] along the axis: each input gets back the
        part of the gradient that sits where its values sat."""
        self.grads = []
        cuts = np.cumsum(self.sizes)[:-1]
        # slices along the last axis are strided views: copies, so the kernels get contiguous rows
        return [np.ascontiguousarray(part) for part in np.split(dy, cuts, axis=self.axis)]

    def compute_mask(self, inputs, mask=None):
        """The masks side by side along `axis` (all True for an input without one; a mask of
        one axis less than its input stretched over the last axis), then any over the last
        axis, as Keras's Concatenate."""
        mask = _check_masks(inputs, mask)
        if mask is None or all(m is None for m in mask):
            return None
        if any(isinstance(x, node_module.KerasTensor) for x in inputs):
            shape = self.compute_output_shape([x.shape for x in inputs])[:-1]
            return node_module.KerasTensor(shape, dtype="bool")
        masks = []
        for x, m in zip(inputs, mask):
            x_shape = np.shape(x)
            m = np.ones(x_shape, bool) if m is None else np.asarray(m, dtype=bool)
            masks.append(np.broadcast_to(m[..., None], x_shape) if m.ndim < len(x_shape) else m)
        return np.any(np.concatenate(masks, axis=self.axis), axis=-1)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}


# every merge layer, for the tables that look layers up by class name (layers/serialization.py)
MERGE_LAYERS = (Add, Average, Concatenate, Maximum, Minimum, Multiply, Subtract)


# ---------------------------------------------------------------------- helpers
def _mask_of(x):
    """The mask x carries: `_keras_mask`, or one `backend.set_keras_mask` gave a plain array."""
    from minikeras import backend  # (backend imports the layers: import when needed)

    return backend.get_keras_mask(x)


def _steps(mask, x):
    """A (batch, steps) mask broadcast over x's features."""
    return np.broadcast_to(np.expand_dims(np.asarray(mask, dtype=bool), -1), x.shape)


def _check_masks(inputs, mask):
    """`mask` as a list beside the list `inputs` (Keras's checks and messages), or None."""
    if mask is None:
        return None
    if not isinstance(mask, (tuple, list)):
        raise ValueError(f"`mask` should be a list. Received: mask={mask}")
    if not isinstance(inputs, (tuple, list)):
        raise ValueError(f"`inputs` should be a list. Received: inputs={inputs}")
    if len(mask) != len(inputs):
        raise ValueError(
            "The lists `inputs` and `mask` should have the same length. "
            f"Received: inputs={inputs} of length {len(inputs)}, and "
            f"mask={mask} of length {len(mask)}"
        )
    return list(mask)


def _check_list(input_shape):
    """ValueError unless a merge is called on a list of shapes with one batch size."""
    if not isinstance(input_shape, (list, tuple)) or not all(
        isinstance(s, (list, tuple)) for s in input_shape
    ):
        raise ValueError(
            "A merge layer should be called on a list of inputs. "
            f"Received: input_shape={input_shape} (not a list of shapes)"
        )
    if not input_shape:
        raise ValueError("A merge layer should be called on a list of at least 1 input.")
    batch_sizes = {s[0] for s in input_shape if s} - {None}
    if len(batch_sizes) > 1:
        raise ValueError(
            "Cannot merge tensors with different batch sizes. Received tensors with shapes "
            f"{[tuple(s) for s in input_shape]}"
        )


def _broadcast_shape(shape1, shape2):
    """The shape of an elementwise op on the two (batch axis removed), right-aligned."""
    if len(shape1) < len(shape2):
        shape1, shape2 = shape2, shape1
    out = list(shape1[: len(shape1) - len(shape2)])
    for a, b in zip(shape1[len(shape1) - len(shape2) :], shape2):
        if a is None or b is None:
            out.append(None)
        elif a == 1 or b == 1:
            out.append(b if a == 1 else a)
        elif a != b:
            raise ValueError(
                f"Inputs have incompatible shapes. Received shapes {shape1} and {shape2}"
            )
        else:
            out.append(a)
    return tuple(out)


def _unbroadcast(grad, shape):
    """Sum `grad` over the axes where an input of `shape` was stretched (length 1 → n)."""
    axes = tuple(i for i, (g, s) in enumerate(zip(grad.shape, shape)) if s == 1 and g != 1)
    return grad.sum(axis=axes, keepdims=True) if axes else grad


# ---------------------------------------------------------------------- functional forms
def add(inputs, **kwargs):
    """`Add(**kwargs)(inputs)`"""
    return Add(**kwargs)(inputs)


def subtract(inputs, **kwargs):
    """`Subtract(**kwargs)(inputs)`"""
    return Subtract(**kwargs)(inputs)


def multiply(inputs, **kwargs):
    """`Multiply(**kwargs)(inputs)`"""
    return Multiply(**kwargs)(inputs)


def average(inputs, **kwargs):
    """`Average(**kwargs)(inputs)`"""
    return Average(**kwargs)(inputs)


def maximum(inputs, **kwargs):
    """`Maximum(**kwargs)(inputs)`"""
    return Maximum(**kwargs)(inputs)


def minimum(inputs, **kwargs):
    """`Minimum(**kwargs)(inputs)`"""
    return Minimum(**kwargs)(inputs)


def concatenate(inputs, axis=-1, **kwargs):
    """`Concatenate(axis=axis, **kwargs)(inputs)`"""
    return Concatenate(axis=axis, **kwargs)(inputs)
