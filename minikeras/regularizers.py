"""Regularizers: a penalty on a weight array, added to the loss, and its gradient.

A layer given `kernel_regularizer=L2(0.01)` adds `regularizer(kernel)` to the training loss,
and `regularizer.gradient(kernel)` to the kernel's gradient, at every step. Each penalty is
computed in the weight's dtype, with Keras's formula and Keras's rounding of the factor (see
docs/regularization.md).

>>> import numpy as np
>>> from minikeras import regularizers
>>> w = np.array([[1.0, -2.0], [0.5, 0.0]])
>>> float(regularizers.L2(0.25)(w))
1.3125
>>> regularizers.L2(0.25).gradient(w)
array([[ 0.5 , -1.  ],
       [ 0.25,  0.  ]])
"""

import math

import numpy as np

from minikeras import autodiff, config
from minikeras.utils import identifiers


def validate_float_arg(value, name):
    """A non-negative finite number, as a float (Keras's check, with its message)."""
    if not isinstance(value, (float, int)) or (math.isinf(value) or math.isnan(value)) or value < 0:
        raise ValueError(
            f"Invalid value for argument {name}: expected a non-negative float."
            f"Received: {name}={value}"
        )
    return float(value)


def _as_float32(value):
    # Keras computes every penalty with its factor rounded to float32, whatever the weight's
    # dtype: `ops.cast(0.3, "float64")` first makes a float32 tensor of the Python float. L1 and
    # OrthogonalRegularizer even keep the factor as a float32 tensor, so their configs report the
    # rounded value (L1(0.3) → {'l1': 0.30000001192092896}); L2 and L1L2 report the exact one.
    return float(np.float32(value))


class Regularizer:
    """Base class: `__call__(w)` is the penalty (a scalar of w's dtype), `gradient(w)` is
    d penalty / d w, shaped like w."""

    def __call__(self, x):
        return 0.0

    def gradient(self, x):
        """A regularizer of yours that writes only `__call__` (made of ops) is differentiated
        by the tape, as Keras differentiates any penalty."""
        if type(self).__call__ is Regularizer.__call__:
            return np.zeros_like(x)
        traced = autodiff.Tensor(np.asarray(x))
        with autodiff.GradientTape() as tape:
            tape.watch(traced)
            penalty = self(traced)
        grad = tape.gradient(penalty, traced)
        return np.zeros_like(x) if grad is None else np.asarray(grad, dtype=x.dtype)

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def get_config(self):
        raise NotImplementedError(f"{self} does not implement get_config()")


class L1L2(Regularizer):
    """penalty = l1·Σ|w| + l2·Σw²        d penalty / dw = l1·sign(w) + 2·l2·w

    A zero factor's term is left out entirely, as Keras does."""

    def __init__(self, l1=0.0, l2=0.0):
        self.l1 = validate_float_arg(0.0 if l1 is None else l1, name="l1")
        self.l2 = validate_float_arg(0.0 if l2 is None else l2, name="l2")

    def __call__(self, x):
        penalty = x.dtype.type(0.0)
        if self.l1 != 0.0:
            penalty += x.dtype.type(_as_float32(self.l1)) * np.sum(np.abs(x), dtype=x.dtype)
        if self.l2 != 0.0:
            penalty += x.dtype.type(_as_float32(self.l2)) * np.sum(np.square(x), dtype=x.dtype)
        return penalty

    def gradient(self, x):
        grad = np.zeros_like(x)
        if self.l1 != 0.0:
            grad += x.dtype.type(_as_float32(self.l1)) * np.sign(
                x
            )  # sign(0) = 0, as TensorFlow's |x|'
        if self.l2 != 0.0:
            grad += 2 * x.dtype.type(_as_float32(self.l2)) * x
        return grad

    def get_config(self):
        return {"l1": self.l1, "l2": self.l2}


class L1(Regularizer):
    """penalty = l1·Σ|w|        d penalty / dw = l1·sign(w)      (l1 rounded to float32)"""

    def __init__(self, l1=0.01):
        l1 = 0.01 if l1 is None else l1
        self.l1 = _as_float32(validate_float_arg(l1, name="l1"))

    def __call__(self, x):
        return x.dtype.type(self.l1) * np.sum(np.abs(x), dtype=x.dtype)

    def gradient(self, x):
        return x.dtype.type(self.l1) * np.sign(x)

    def get_config(self):
        return {"l1": self.l1}


class L2(Regularizer):
    """penalty = l2·Σw²        d penalty / dw = 2·l2·w      (no ½: Keras's L2 is l2·Σw²;
    l2 rounded to float32 in the arithmetic, as Keras)"""

    def __init__(self, l2=0.01):
        l2 = 0.01 if l2 is None else l2
        self.l2 = validate_float_arg(l2, name="l2")

    def __call__(self, x):
        return x.dtype.type(_as_float32(self.l2)) * np.sum(np.square(x), dtype=x.dtype)

    def gradient(self, x):
        return 2 * x.dtype.type(_as_float32(self.l2)) * x

    def get_config(self):
        return {"l2": self.l2}


def _normalize_rows(x):
    """(u, r): each row of x times r = min(1/|row|, 1/ε), as Keras's `normalize` (order 2)."""
    r = np.minimum(1 / np.sqrt(np.sum(x * x, axis=1, keepdims=True)), 1 / config.epsilon())
    r = r.astype(x.dtype, copy=False)
    return x * r, r


class OrthogonalRegularizer(Regularizer):
    """Pushes the rows (mode='rows') or columns ('columns') of a 2-D weight toward orthogonality.

    With U the rows normalised to unit length (u = w·r, r = 1/|w|), P = U·Uᵀ (n×n, the cosines
    between rows) and n(n − 1)/2 pairs:
        penalty = factor · ½·Σ_{i≠j} |Pᵢⱼ| / (n(n − 1)/2)
    Backward, with c = factor/(n(n − 1)) and G = c·sign(P) off the diagonal (0 on it):
        dU = (G + Gᵀ)·U = 2G·U                       (n, n)@(n, d)
        dwᵢ = r·(dUᵢ − uᵢ·(uᵢ·dUᵢ))                  through each row's normalisation
    ('columns' is the same on wᵀ.) factor is rounded to float32, as Keras keeps it.
    """

    def __init__(self, factor=0.01, mode="rows"):
        validate_float_arg(factor, name="factor")
        self.factor = _as_float32(factor)
        if mode not in {"rows", "columns"}:
            raise ValueError(
                'Invalid value for argument `mode`. Expected one of {"rows", "columns"}. '
                f"Received: mode={mode}"
            )
        self.mode = mode

    def _rows(self, x):
        if x.ndim != 2:
            raise ValueError(
                "Inputs to OrthogonalRegularizer must have rank 2. "
                f"Received: inputs.shape={x.shape}"
            )
        return x if self.mode == "rows" else x.T

    def __call__(self, inputs):
        u, _ = _normalize_rows(self._rows(inputs))
        n = u.shape[0]
        product = u @ u.T  # (n, d)@(d, n)
        off_diagonal = product * (1 - np.eye(n, dtype=u.dtype))
        pairs = n * (n - 1.0) / 2.0
        return (
            inputs.dtype.type(self.factor * 0.5)
            * np.sum(np.abs(off_diagonal), dtype=u.dtype)
            / inputs.dtype.type(pairs)
        )

    def gradient(self, inputs):
        w = self._rows(inputs)
        u, r = _normalize_rows(w)
        n = u.shape[0]
        c = w.dtype.type(self.factor / (n * (n - 1.0)))
        g = c * np.sign(u @ u.T) * (1 - np.eye(n, dtype=w.dtype))  # (n, n)
        du = 2 * (g @ u)  # (n, n)@(n, d)
        capped = r >= w.dtype.type(1 / config.epsilon())  # there u = w·r is linear in w
        along = np.where(capped, 0, u * np.sum(u * du, axis=1, keepdims=True))
        dw = r * (du - along)
        return dw if self.mode == "rows" else dw.T

    def get_config(self):
        return {"factor": self.factor, "mode": self.mode}


# Keras's lower-case spellings of the classes
l1 = L1
l2 = L2
l1_l2 = L1L2
orthogonal_regularizer = OrthogonalRegularizer

# The names `keras.regularizers.get` understands: the class names and their snake_case
# ('l1l2', not 'l1_l2', which is only a Python name in Keras)
ALL_OBJECTS = {
    "Regularizer": Regularizer,
    "L1": L1,
    "L2": L2,
    "L1L2": L1L2,
    "OrthogonalRegularizer": OrthogonalRegularizer,
    "regularizer": Regularizer,
    "l1": L1,
    "l2": L2,
    "l1l2": L1L2,
    "orthogonal_regularizer": OrthogonalRegularizer,
}


def penalty(regularizer, weight):
    """`regularizer(weight)`, the penalty `layer.losses` lists. While a GradientTape records,
    it is one entry on the tape whose backward is the regularizer's hand-written `gradient`, so
    that `tape.gradient(loss + sum(model.losses), w)` counts it (and `tape.gradient(loss, w)`
    does not), as TensorFlow differentiates Keras's penalty. A regularizer of yours without a
    `gradient` is simply called: its ops record themselves."""
    from minikeras import autodiff  # (the tape imports nothing of the layers' tools)

    has_gradient = isinstance(regularizer, Regularizer) and (
        type(regularizer).gradient is not Regularizer.gradient
    )
    if isinstance(regularizer, L1L2) and regularizer.l1 == regularizer.l2 == 0.0:
        has_gradient = False  # Keras's L1L2() is then a constant 0: TF's gradient is None
    if not (has_gradient and autodiff.is_recording()):
        return regularizer(weight)
    with autodiff.paused():
        value = np.asarray(regularizer(weight.view(np.ndarray)))

    def vjp(output_grads):  # d(g·penalty)/dw = g·penalty'(w)
        return [], [output_grads[0] * regularizer.gradient(weight.view(np.ndarray))]

    (tensor,) = autodiff.record([], [value], vjp, weights=[weight], name="regularizer")
    return tensor


def serialize(regularizer):
    return identifiers.serialize(regularizer, "keras.regularizers")


def deserialize(config, custom_objects=None):
    """A regularizer from `serialize`'s dict or a name."""
    return identifiers.deserialize(config, ALL_OBJECTS, "regularizer", custom_objects)


def get(identifier):
    """None, a name ('l2'), a config dict, a class, an instance or any callable, as Keras."""
    return identifiers.get(identifier, ALL_OBJECTS, "regularizer")
