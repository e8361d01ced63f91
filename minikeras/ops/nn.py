"""Neural-network ops (Keras's `keras.ops.nn`): activations, crossentropies, normalization.

Most are one primitive with a VJP in `minikeras.autodiff.vjps`; the rest are written with other
ops exactly as Keras's TensorFlow backend composes them, so their gradients come out the same.

>>> import numpy as np
>>> from minikeras import ops
>>> ops.softmax(np.array([0.0, np.log(3.0)]))
array([0.25, 0.75])
"""

import math
import warnings

import numpy as np

from minikeras import config
from minikeras.autodiff import Tensor, primitive, special, unwrap
from minikeras.ops.core import cast, convert_to_tensor, stop_gradient
from minikeras.ops.numpy import (
    _float,
    _promote,
    add,
    clip,
    divide,
    exp,
    log,
    log1p,
    maximum,
    mean,
    minimum,
    multiply,
    negative,
    reshape,
    squeeze,
    subtract,
    sum,
    where,
)
from minikeras.ops.numpy import (
    tanh as _tanh,
)
from minikeras.ops.op_classes import operation_class, operation_classes
from minikeras.ops.symbolic import symbolic_op

SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


# ---------------------------------------------------------------- activations
@symbolic_op
def relu(x):
    """max(x, 0) (integers keep their type, as Keras)."""
    x = convert_to_tensor(x)
    return primitive("relu", _relu, x if x.dtype.kind in "iu" else _float(x))


def _relu(x):
    return np.maximum(x, np.zeros((), x.dtype))


@symbolic_op
def relu6(x):
    """min(max(x, 0), 6) (integers keep their type, as Keras)."""
    x = convert_to_tensor(x)
    return primitive("relu6", _relu6, x if x.dtype.kind in "iu" else _float(x))


def _relu6(x):
    # (np.clip gives bfloat16 back as float32)
    return np.clip(x, np.zeros((), x.dtype), np.asarray(6, x.dtype)).astype(x.dtype, copy=False)


@symbolic_op
def sigmoid(x):
    """1 / (1 + e^(−x))."""
    x = _float(x)
    return _keep_logits(primitive("sigmoid", special.sigmoid, x), x)


def _keep_logits(output, x):
    """A recorded output of softmax or sigmoid remembers its input, as Keras's does
    (`_keras_logits`): a crossentropy given it starts from x, exact where p rounds to 0 or 1."""
    if isinstance(output, Tensor) and isinstance(x, Tensor):
        output._keras_logits = x
    return output


@symbolic_op
def softplus(x):
    """ln(1 + eˣ), computed as max(x, 0) + ln(1 + e^(−|x|))."""
    return primitive("softplus", _softplus, _float(x))


def _softplus(x):
    return np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x)))


@symbolic_op
def softsign(x):
    """x / (1 + |x|)."""
    return primitive("softsign", _softsign, _float(x))


def _softsign(x):
    return x / (1 + np.abs(x))


@symbolic_op
def silu(x):
    """x·sigmoid(x) (also called swish)."""
    return primitive("silu", _silu, _float(x))


def _silu(x):
    return x * special.sigmoid(x)


swish = silu


@symbolic_op
def log_sigmoid(x):
    """ln sigmoid(x) = −softplus(−x)."""
    return negative(softplus(negative(x)))


@symbolic_op
def gelu(x, approximate=True):
    """x·Φ(x), Φ the standard normal CDF; `approximate`: ½x(1 + tanh(√(2/π)(x + 0.044715x³)))."""
    return primitive("gelu", _gelu, _float(x), approximate=approximate)


GELU_CUBIC, GELU_SQRT_HALF = special.GELU_CUBIC, special.GELU_SQRT_HALF


def _gelu(x, approximate=True):
    if approximate:
        c = math.sqrt(2 / math.pi)
        y = 0.5 * x * (1 + np.tanh(c * (x + GELU_CUBIC * x**3)))
    else:
        y = 0.5 * x * special.erfc(-x * GELU_SQRT_HALF)
    return y.astype(x.dtype, copy=False)  # (NumPy computes bfloat16 in float32)


@symbolic_op
def elu(x, alpha=1.0):
    """x for x > 0, alpha·(eˣ − 1) otherwise."""
    return primitive("elu", _elu, _float(x), alpha=alpha)


def _elu(x, alpha=1.0):
    return np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0))).astype(x.dtype)


@symbolic_op
def selu(x):
    """scale·elu(x, alpha) with Klambauer et al.'s constants."""
    return primitive("selu", _selu, _float(x))


def _selu(x):
    return (SELU_SCALE * np.where(x > 0, x, SELU_ALPHA * np.expm1(np.minimum(x, 0)))).astype(
        x.dtype
    )


@symbolic_op
def leaky_relu(x, negative_slope=0.2):
    """x for x > 0, negative_slope·x otherwise."""
    # TensorFlow keeps the slope as a float32 attribute, in float64 too: round it the same way
    slope = float(np.float32(negative_slope))
    return primitive("leaky_relu", _leaky_relu, _float(x), negative_slope=slope)


def _leaky_relu(x, negative_slope=0.2):
    return np.where(x > 0, x, x * negative_slope).astype(x.dtype)


@symbolic_op
def hard_sigmoid(x):
    """relu6(x + 3) / 6, as Keras composes it."""
    x = _float(x)
    return divide(relu6(add(x, 3.0)), 6.0)


@symbolic_op
def hard_silu(x):
    """x·hard_sigmoid(x)."""
    x = _float(x)
    return multiply(x, hard_sigmoid(x))


hard_swish = hard_silu


@symbolic_op
def tanh(x):
    """tanh x."""
    return _tanh(x)


@symbolic_op
def softmax(x, axis=-1):
    """e^(xᵢ) / Σⱼ e^(xⱼ) along `axis` (all axes when None)."""
    x = _float(x)
    shape = np.shape(unwrap(x))
    if isinstance(axis, int) and -len(shape) <= axis < len(shape) and shape[axis] == 1:
        warnings.warn(  # Keras's warning
            f"You are using a softmax over axis {axis} of a tensor of shape {shape}. This axis "
            "has size 1. The softmax operation will always return the value 1, which is likely "
            "not what you intended. Did you mean to use a sigmoid instead?",
            stacklevel=2,
        )
    return _keep_logits(primitive("softmax", _softmax, x, axis=_axis(axis)), x)


def _axis(axis):
    return tuple(axis) if isinstance(axis, list) else axis


def _softmax(x, axis=-1):
    e = np.exp(x - np.max(x, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)


@symbolic_op
def log_softmax(x, axis=-1):
    """x − ln Σ eˣ along `axis`."""
    return primitive("log_softmax", _log_softmax, _float(x), axis=_axis(axis))


def _log_softmax(x, axis=-1):
    return x - special.logsumexp(x, axis=axis, keepdims=True)


# ---------------------------------------------------------------- crossentropies
def _check_same_shape(target, output):
    t, o = np.shape(unwrap(target)), np.shape(unwrap(output))
    if len(t) != len(o):
        raise ValueError(
            "Arguments `target` and `output` must have the same rank (ndim). "
            f"Received: target.shape={t}, output.shape={o}"
        )
    if t != o:
        raise ValueError(
            "Arguments `target` and `output` must have the same shape. "
            f"Received: target.shape={t}, output.shape={o}"
        )


@symbolic_op
def categorical_crossentropy(target, output, from_logits=False, axis=-1):
    """−Σ target·ln(output) along `axis`. Probabilities are renormalised and clipped to
    [ε, 1 − ε]; from logits the log-softmax is used (TensorFlow's softmax_cross_entropy)."""
    target, output = _promote(target, output)
    if np.ndim(unwrap(target)) < 1:
        raise ValueError(
            "Arguments `target` and `output` must be at least rank 1. "
            f"Received: target.shape={np.shape(unwrap(target))}, "
            f"output.shape={np.shape(unwrap(output))}"
        )
    _check_same_shape(target, output)
    if from_logits:
        return primitive(
            "softmax_cross_entropy_with_logits", _softmax_xent, target, output, axis=axis
        )
    output = divide(output, sum(output, axis=axis, keepdims=True))
    eps = config.epsilon()
    output = clip(output, eps, 1.0 - eps)
    return negative(sum(multiply(target, log(output)), axis=axis))


def _softmax_xent(labels, logits, axis=-1):
    return -np.sum(labels * _log_softmax(logits, axis=axis), axis=axis)


@symbolic_op
def sparse_categorical_crossentropy(target, output, from_logits=False, axis=-1):
    """−ln(output[target]) for integer targets (from logits: −log_softmax(output)[target])."""
    output = _float(output)
    if axis != -1 and axis != np.ndim(unwrap(output)) - 1:
        raise ValueError(f"Only axis=-1 is currently supported. Received: axis={axis}")
    target = np.asarray(unwrap(target)).astype(np.int64)
    o_shape = np.shape(unwrap(output))
    if target.ndim == len(o_shape) and target.shape[-1:] == (1,):
        target = target[..., 0]
    if len(o_shape) < 1:
        raise ValueError(
            f"Argument `output` must be at least rank 1. Received: output.shape={o_shape}"
        )
    if target.shape != o_shape[:-1]:
        raise ValueError(
            "Arguments `target` and `output` must have the same shape up until the last "
            f"dimension: target.shape={target.shape}, output.shape={o_shape}"
        )
    if not from_logits:
        eps = config.epsilon()
        output = log(clip(output, eps, 1.0 - eps))
    return primitive(
        "sparse_softmax_cross_entropy_with_logits", _sparse_softmax_xent, target, output
    )


def _sparse_softmax_xent(labels, logits):
    log_p = _log_softmax(logits, axis=-1)
    return -np.take_along_axis(log_p, labels[..., None], axis=-1)[..., 0]


@symbolic_op
def binary_crossentropy(target, output, from_logits=False):
    """−(t·ln p + (1 − t)·ln(1 − p)), p clipped to [ε, 1 − ε]; from logits z:
    max(z, 0) − z·t + ln(1 + e^(−|z|)), as TensorFlow's sigmoid_cross_entropy_with_logits."""
    target, output = _promote(target, output)
    _check_same_shape(target, output)
    if from_logits:
        positive = output >= 0  # TensorFlow's branches (so the gradient at 0 matches too)
        relu_logits = where(positive, output, 0.0)
        neg_abs = where(positive, negative(output), output)
        return add(subtract(relu_logits, multiply(output, target)), log1p(exp(neg_abs)))
    eps = config.epsilon()
    output = clip(output, eps, 1.0 - eps)
    bce = add(
        multiply(target, log(output)), multiply(subtract(1.0, target), log(subtract(1.0, output)))
    )
    return negative(bce)


# ---------------------------------------------------------------- normalization
@symbolic_op
def moments(x, axes, keepdims=False, synchronized=False):
    """(mean, variance) of x over `axes` (the variance does not differentiate through the
    mean, as TensorFlow's: its gradient there is zero anyway)."""
    x = _float(x)
    axes = tuple(axes) if isinstance(axes, (list, tuple)) else (axes,)
    half = unwrap(x).dtype if unwrap(x).dtype.name in ("float16", "bfloat16") else None
    if half is not None:  # as Keras: 16 bits have too little range for statistics
        m, v = moments(cast(x, "float32"), axes, keepdims=keepdims)
        low, high = float(np.finfo(np.float16).min), float(np.finfo(np.float16).max)
        return cast(clip(m, low, high), half), cast(clip(v, low, high), half)
    m = mean(x, axis=axes, keepdims=True)
    v = mean(
        multiply(subtract(x, stop_gradient(m)), subtract(x, stop_gradient(m))),
        axis=axes,
        keepdims=True,
    )
    if not keepdims:
        m, v = squeeze(m, axis=axes), squeeze(v, axis=axes)
    return m, v


@symbolic_op
def batch_normalization(x, mean, variance, axis, offset=None, scale=None, epsilon=1e-3):
    """(x − mean)·scale / √(variance + ε) + offset, the statistics along `axis`."""
    x = convert_to_tensor(x)
    expected = (np.shape(unwrap(x))[axis],)
    named = {"mean": mean, "variance": variance, "offset": offset, "scale": scale}
    for name, stat in named.items():
        if stat is not None and tuple(np.shape(unwrap(stat))) != expected:
            raise ValueError(  # Keras's message (its BatchNorm spec)
                f"Arguments `{name}` must be a vector of length `x.shape[axis]`. Expected: "
                f"`{expected}`. Received: `{tuple(np.shape(unwrap(stat)))}."
            )
    shape = [1] * np.ndim(unwrap(x))
    shape[axis] = -1
    stats = [mean, variance, offset, scale]
    mean, variance, offset, scale = (
        None if s is None else reshape(convert_to_tensor(s), shape) for s in stats
    )
    from minikeras.ops.math import rsqrt

    inv = rsqrt(add(variance, epsilon))
    if scale is not None:
        inv = multiply(inv, scale)
    shift = (
        negative(multiply(mean, inv)) if offset is None else subtract(offset, multiply(mean, inv))
    )
    return add(multiply(x, inv), shift)


@symbolic_op
def normalize(x, axis=-1, order=2, epsilon=None):
    """x / max(‖x‖, ε) along `axis` (order 2: x·min(1/√Σx², 1/ε), as Keras)."""
    if not isinstance(order, int) or not order >= 1:
        raise ValueError(f"Argument `order` must be an int >= 1. Received: order={order}")
    x = convert_to_tensor(x)
    if np.ndim(unwrap(x)) == 0:
        x = reshape(x, (1,))
    epsilon = config.epsilon() if epsilon is None else epsilon
    if order == 2:
        from minikeras.ops.math import rsqrt
        from minikeras.ops.numpy import square

        inv_norm = minimum(rsqrt(sum(square(x), axis=axis, keepdims=True)), 1.0 / epsilon)
        return multiply(x, inv_norm)
    from minikeras.ops.linalg import norm

    return divide(x, maximum(norm(x, ord=order, axis=axis, keepdims=True), epsilon))


# ---------------------------------------------------------------- encodings (no gradient)
@symbolic_op
def one_hot(x, num_classes, axis=-1, dtype=None, sparse=False):
    """Rows of zeros with a one at each label of x (labels outside [0, num_classes) give zeros)."""
    if sparse:
        raise ValueError("minikeras has no sparse tensors: `sparse=True` is not supported")
    labels = np.asarray(unwrap(x)).astype(np.int64)
    out = (labels[..., None] == np.arange(num_classes)).astype(dtype or config.floatx())
    return np.moveaxis(out, -1, axis) if axis != -1 else out


@symbolic_op
def multi_hot(inputs, num_classes=None, axis=-1, dtype=None, sparse=False, **kwargs):
    """One row per sample with a one at each of its labels."""
    num_classes = num_classes if num_classes is not None else kwargs.pop("num_tokens", None)
    encoded = one_hot(inputs, num_classes, axis=axis, dtype=dtype, sparse=sparse)
    return np.max(encoded, axis=1 if np.ndim(unwrap(inputs)) > 1 else 0)


# ---------------------------------------------------------------- the rest of Keras's nn group
# (in files of their own: activations written with the ops above, imported last for that
# reason; convolution and pooling, attention, CTC, and the rearranging ops)
from minikeras.ops.nn_activations import (  # noqa: E402, F401
    celu,
    glu,
    hard_shrink,
    hard_tanh,
    layer_normalization,
    psnr,
    rms_normalization,
    soft_shrink,
    sparse_plus,
    sparse_sigmoid,
    sparsemax,
    squareplus,
    tanh_shrink,
    threshold,
)
from minikeras.ops.nn_attention import dot_product_attention  # noqa: E402, F401
from minikeras.ops.nn_blocks import (  # noqa: E402, F401
    depth_to_space,
    fold,
    polar,
    space_to_depth,
    unfold,
)
from minikeras.ops.nn_conv import (  # noqa: E402, F401
    adaptive_average_pool,
    adaptive_max_pool,
    average_pool,
    conv,
    conv_transpose,
    depthwise_conv,
    max_pool,
    separable_conv,
)
from minikeras.ops.nn_ctc import ctc_decode, ctc_loss  # noqa: E402, F401

# Keras's Operation classes (`Relu()(x)`, `CTCLoss(mask_index=0)(...)`), made from the ops
globals().update(operation_classes(globals(), __name__))


class CTCLoss(operation_class("CTCLoss", ctc_loss)):
    """Keras's CTCLoss Operation, whose spec checks that its arguments agree on the batch."""

    def _check_shape_first_dim(self, name1, shape1, name2, shape2):
        if shape1[0] != shape2[0]:
            raise ValueError(  # Keras's message
                f"Arguments `{name1}` and `{name2}` must have the same first dimension. "
                f"Received shapes: `{shape1}` and `{shape2}`."
            )

    def compute_output_spec(self, target, output, target_length, output_length):
        shape = {n: tuple(np.shape(t) if not hasattr(t, "shape") else t.shape) for n, t in
                 [("target", target), ("output", output), ("target_length", target_length),
                  ("output_length", output_length)]}  # fmt: skip
        self._check_shape_first_dim("target", shape["target"], "output", shape["output"])
        self._check_shape_first_dim(
            "target_length", shape["target_length"], "target", shape["target"]
        )
        self._check_shape_first_dim(
            "output_length", shape["output_length"], "output", shape["output"]
        )
        return super().compute_output_spec(target, output, target_length, output_length)
