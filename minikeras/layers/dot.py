"""Dot: the dot product of two tensors along one axis each, sample by sample.

For each sample, x's axis a₀ and y's axis a₁ (of the same length k) are summed over, as
`np.tensordot`: with x's other axes flattened to P and y's to Q,

    X (batch, P, k),  Y (batch, k, Q)
    Z = X·Y           (batch, P, k)·(batch, k, Q) → (batch, P, Q), reshaped to
                      (batch, x's other axes..., y's other axes...), or (batch, 1) if none
    dX = dZ·Yᵀ        (batch, P, Q)·(batch, Q, k)
    dY = Xᵀ·dZ        (batch, k, P)·(batch, P, Q)

With `normalize=True` each input is first L2-normalized along its dot axis (the dot product
is then the cosine similarity), as Keras's `ops.normalize`: x̂ = x·min(1/√s, 1/ε), s = Σx²,
ε = 1e-7, whose backward is dx = (dx̂ − x̂·Σ dx̂ ⊙ x̂)/√s (and dx̂/ε where 1/√s was capped).
"""

import numpy as np

from minikeras.layers.merging import Merge, _check_list

EPSILON = 1e-7  # Keras's backend.epsilon(), the cap of ops.normalize's inverse norm


class Dot(Merge):
    """The dot product of two inputs along `axes` (an int for both, or one per input; counted
    with the batch axis, which cannot be one of them).

    >>> import numpy as np
    >>> from minikeras.layers import Dot
    >>> Dot(axes=1)([np.array([[1.0, 2.0]]), np.array([[3.0, 4.0]])]).tolist()
    [[11.0]]
    >>> Dot(axes=(1, 2))([np.ones((2, 3, 4)), np.ones((2, 5, 3))]).shape
    (2, 4, 5)
    """

    def __init__(self, axes, normalize=False, **kwargs):
        # Keras's checks and messages (keras/src/layers/merging/dot.py)
        if not isinstance(axes, int):
            if not isinstance(axes, (list, tuple)):
                raise TypeError(
                    "Invalid type for argument `axes`: it should be a list or an int. "
                    f"Received: axes={axes}"
                )
            if len(axes) != 2:
                raise ValueError(
                    "Invalid format for argument `axes`: it should contain two elements. "
                    f"Received: axes={axes}"
                )
            if not isinstance(axes[0], int) or not isinstance(axes[1], int):
                raise ValueError(
                    "Invalid format for argument `axes`: list elements should be integers. "
                    f"Received: axes={axes}"
                )
        super().__init__(**kwargs)
        self.axes, self.normalize = axes, normalize

    def _axes(self, rank1, rank2):
        """The two axes as non-negative indices, for inputs of these ranks."""
        axes = (self.axes, self.axes) if isinstance(self.axes, int) else self.axes
        return axes[0] % rank1, axes[1] % rank2

    # ------------------------------------------------------------------ shapes
    def check_input_shape(self, shape):
        if not isinstance(shape, (list, tuple)) or len(shape) != 2:
            raise ValueError(
                f"A `Dot` layer should be called on a list of 2 inputs. Received: "
                f"input_shape={shape}"
            )
        _check_list(shape)
        shape1, shape2 = (tuple(s) for s in shape)
        a0, a1 = self._axes(len(shape1), len(shape2))
        if a0 == 0 or a1 == 0:
            raise ValueError(
                "Cannot perform batch_dot over axis 0. If your inputs are not batched, add a "
                "dummy batch dimension to your inputs using keras.ops.expand_dims(x, 0)"
            )
        d1, d2 = shape1[a0], shape2[a1]
        if d1 is not None and d2 is not None and d1 != d2:
            raise ValueError(
                f"Incompatible input shapes: axis values {d1} (at axis {a0}) != {d2} (at axis "
                f"{a1}). Full input shapes: {shape1}, {shape2}"
            )

    def compute_output_shape(self, input_shape):
        shape1, shape2 = (list(s) for s in input_shape)
        a0, a1 = self._axes(len(shape1), len(shape2))
        shape1.pop(a0)
        shape2.pop(a1)
        output_shape = shape1 + shape2[1:]
        return tuple(output_shape + [1] if len(output_shape) == 1 else output_shape)

    # ------------------------------------------------------------------ forward / backward
    def call(self, inputs, training=False):
        """Z = X·Y per sample, X and Y the inputs with their dot axes moved inward."""
        x, y = inputs
        a0, a1 = self._axes(x.ndim, y.ndim)
        self.dot_axes, self.input_shapes = (a0, a1), (x.shape, y.shape)
        if self.normalize:
            x, self.x_scale = _l2_normalize(x, a0)
            y, self.y_scale = _l2_normalize(y, a1)
        self.xm = np.moveaxis(x, a0, -1)  # (batch, x's other axes..., k)
        self.ym = np.moveaxis(y, a1, 1)  # (batch, k, y's other axes...)
        batch, k = x.shape[0], x.shape[a0]
        z = np.matmul(self.xm.reshape(batch, -1, k), self.ym.reshape(batch, k, -1))
        return z.reshape(self.compute_output_shape((x.shape, y.shape)))

    def backward(self, dy):
        """dX = dZ·Yᵀ, dY = Xᵀ·dZ per sample, moved back to the inputs' axes."""
        self.grads = []
        (a0, a1), shape1 = self.dot_axes, self.input_shapes[0]
        batch, k = shape1[0], shape1[a0]
        x, y = self.xm.reshape(batch, -1, k), self.ym.reshape(batch, k, -1)
        dz = dy.reshape(batch, x.shape[1], y.shape[2])
        dx = np.matmul(dz, y.transpose(0, 2, 1))  # (batch, P, Q)·(batch, Q, k)
        dy_ = np.matmul(x.transpose(0, 2, 1), dz)  # (batch, k, P)·(batch, P, Q)
        dx = np.moveaxis(dx.reshape(self.xm.shape), -1, a0)
        dy_ = np.moveaxis(dy_.reshape(self.ym.shape), 1, a1)
        if self.normalize:
            dx = _l2_normalize_backward(dx, np.moveaxis(self.xm, -1, a0), self.x_scale, a0)
            dy_ = _l2_normalize_backward(dy_, np.moveaxis(self.ym, 1, a1), self.y_scale, a1)
        return [np.ascontiguousarray(dx), np.ascontiguousarray(dy_)]

    def compute_mask(self, inputs, mask=None):
        return None  # as Keras: a dot product has no steps left to mask

    def get_config(self):
        return {**super().get_config(), "axes": self.axes, "normalize": self.normalize}


def _l2_normalize(x, axis):
    """(x̂, r): x̂ = x·r, r = min(1/√Σx², 1/ε) along `axis` (kept as a length-1 axis)."""
    square_sum = np.sum(np.square(x), axis=axis, keepdims=True)
    with np.errstate(divide="ignore"):
        scale = np.minimum(1 / np.sqrt(square_sum), x.dtype.type(1 / EPSILON))
    return x * scale, scale


def _l2_normalize_backward(dxhat, xhat, scale, axis):
    """dx = (dx̂ − x̂·Σ dx̂ ⊙ x̂)·r where r = 1/√s; dx = dx̂/ε where r was capped at 1/ε."""
    projected = dxhat - xhat * np.sum(dxhat * xhat, axis=axis, keepdims=True)
    capped = scale >= 1 / EPSILON
    return np.where(capped, dxhat, projected) * scale


def dot(inputs, axes=-1, **kwargs):
    """`Dot(axes=axes, **kwargs)(inputs)`"""
    return Dot(axes=axes, **kwargs)(inputs)
