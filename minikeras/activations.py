"""Activation functions, each with its derivative written beside it.

Every activation `f(x)` has a partner `f_backward(x, y, dy)` that returns dL/dx given the
input x, the output y = f(x) and the incoming gradient dy = dL/dy. Layers find the partner
with `backward_of(f)`. A custom activation can carry its own as an attribute
(`my_fn.backward = my_backward`).

>>> import numpy as np
>>> from minikeras import activations
>>> activations.relu(np.array([-1.0, 2.0]))
array([0., 2.])
"""

import math

import numpy as np

# SELU's constants, from Klambauer et al. (2017), as Keras uses them
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


def linear(x):
    """f(x) = x"""
    return x


def linear_backward(x, y, dy):
    """f'(x) = 1"""
    return dy


def relu(x, negative_slope=0.0, max_value=None, threshold=0.0):
    """f(x) = max(x, 0); with Keras's options: slope below `threshold`, cap at `max_value`."""
    if negative_slope == 0.0 and max_value is None and threshold == 0.0:
        return np.maximum(x, 0)
    # Keras's order (activations.ReLU.static_call): x kept only strictly above the threshold
    # (x = threshold gives 0), clipped to [0, max_value], minus negative_slope·max(threshold − x, 0)
    y = np.where(x > threshold, x, 0) if threshold != 0 else np.maximum(x, 0)
    if max_value is not None:
        y = np.clip(y, 0, max_value)
    if negative_slope != 0:
        y = y - negative_slope * np.maximum(threshold - x, 0)
    return y.astype(np.asarray(x).dtype, copy=False)


def relu_backward(x, y, dy):
    """f'(x) = 1 where x > 0, else 0 (0 at the kink, as TensorFlow)"""
    return dy * (x > 0)


def _float32_slope(negative_slope):
    # TensorFlow's LeakyRelu op keeps its slope as a float32 attribute: in float64 too, Keras's
    # slope is float32(0.2) = 0.20000000298...; rounding it the same way matches Keras exactly.
    return float(np.float32(negative_slope))


def leaky_relu(x, negative_slope=0.2):
    """f(x) = x for x > 0, negative_slope·x otherwise (Keras's default slope is 0.2)"""
    slope = _float32_slope(negative_slope)
    return np.where(x > 0, x, x * slope).astype(np.asarray(x).dtype, copy=False)


def leaky_relu_backward(x, y, dy, negative_slope=0.2):
    """f'(x) = 1 for x > 0, negative_slope otherwise"""
    return dy * np.where(x > 0, 1.0, _float32_slope(negative_slope)).astype(dy.dtype)


def _is_tensor(x):
    from minikeras.autodiff import Tensor

    return isinstance(x, Tensor)


def _ops():
    from minikeras import ops  # ops imports nothing from here; imported on first use

    return ops


def sigmoid(x):
    """f(x) = 1 / (1 + e^(−x)), written so that e^(...) never overflows"""
    if _is_tensor(x):  # on a GradientTape: the op, whose output keeps its logits
        return _ops().sigmoid(x)
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(np.asarray(x).dtype, copy=False)


def sigmoid_backward(x, y, dy):
    """f'(x) = y·(1 − y)"""
    return dy * y * (1 - y)


def tanh(x):
    """f(x) = tanh(x)"""
    return np.tanh(x)


def tanh_backward(x, y, dy):
    """f'(x) = 1 − y²"""
    return dy * (1 - y * y)


def softmax(x, axis=-1):
    """f(x)ᵢ = e^(xᵢ) / Σⱼ e^(xⱼ) along `axis`
    (the row maximum is subtracted first: same value, no overflow)"""
    if _is_tensor(x):  # on a GradientTape: the op, whose output keeps its logits
        return _ops().softmax(x, axis=axis)
    e = np.exp(x - np.max(x, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)


def softmax_backward(x, y, dy):
    """dx = y ⊙ (dy − Σⱼ dyⱼ·yⱼ): the Jacobian diag(y) − y·yᵀ applied to dy, row by row"""
    return y * (dy - np.sum(dy * y, axis=-1, keepdims=True))


def elu(x, alpha=1.0):
    """f(x) = x for x > 0, alpha·(e^x − 1) otherwise"""
    return np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0))).astype(
        np.asarray(x).dtype, copy=False
    )


def elu_backward(x, y, dy, alpha=1.0):
    """f'(x) = 1 for x > 0, alpha·e^x = y + alpha otherwise"""
    return dy * np.where(x > 0, 1.0, y + alpha).astype(dy.dtype)


def selu(x):
    """f(x) = scale·elu(x, alpha) with SELU_SCALE ≈ 1.0507 and SELU_ALPHA ≈ 1.6733"""
    return (SELU_SCALE * elu(x, SELU_ALPHA)).astype(np.asarray(x).dtype, copy=False)


def selu_backward(x, y, dy):
    """f'(x) = scale for x > 0, y + scale·alpha otherwise"""
    return dy * np.where(x > 0, SELU_SCALE, y + SELU_SCALE * SELU_ALPHA).astype(dy.dtype)


def softplus(x):
    """f(x) = log(1 + e^x), computed as max(x, 0) + log(1 + e^(−|x|)) to stay finite"""
    return np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x)))


def softplus_backward(x, y, dy):
    """f'(x) = sigmoid(x)"""
    return dy * sigmoid(x)


def softsign(x):
    """f(x) = x / (1 + |x|)"""
    return x / (1 + np.abs(x))


def softsign_backward(x, y, dy):
    """f'(x) = 1 / (1 + |x|)²"""
    return dy / (1 + np.abs(x)) ** 2


def silu(x):
    """f(x) = x·sigmoid(x) (also called swish)"""
    return x * sigmoid(x)


def silu_backward(x, y, dy):
    """f'(x) = s·(1 + x·(1 − s)) with s = sigmoid(x)"""
    s = sigmoid(x)
    return dy * s * (1 + x * (1 - s))


swish = silu
swish_backward = silu_backward

_erfc = np.vectorize(math.erfc, otypes=[np.float64])
_SQRT_2_OVER_PI = math.sqrt(2 / math.pi)
# TensorFlow's gelu writes its constants 1/√2 and 0.044715 as `cast(python_float, dtype)`,
# which goes through float32: in float64 too, Keras uses their float32 roundings. So do we.
_GELU_C = float(np.float32(1 / math.sqrt(2)))  # ≈ 1/√2
_GELU_A = float(np.float32(0.044715))


def gelu(x, approximate=False):
    """Exact: f(x) = x·Φ(x) = ½x·(1 + erf(x/√2)) = ½x·erfc(−x/√2)
    (erfc keeps its precision where Φ(x) is tiny, x ≪ 0).
    approximate=True: ½x·(1 + tanh(√(2/π)·(x + 0.044715x³))).
    """
    x = np.asarray(x)
    if approximate:
        y = 0.5 * x * (1 + np.tanh(_SQRT_2_OVER_PI * (x + _GELU_A * x**3)))
    else:
        y = 0.5 * x * _erfc(-x * _GELU_C)
    return y.astype(x.dtype, copy=False)


def gelu_backward(x, y, dy, approximate=False):
    """Exact: f'(x) = Φ(x) + x·φ(x), φ(x) = e^(−x²/2)/√(2π); written with c = 1/√2 as
    f'(x) = ½·erfc(−c·x) + x·c·e^(−c²x²)/√π.
    approximate: with u = √(2/π)·(x + 0.044715x³) and t = tanh(u),
    f'(x) = ½(1 + t) + ½x·(1 − t²)·√(2/π)·(1 + 3·0.044715x²).
    """
    if approximate:
        t = np.tanh(_SQRT_2_OVER_PI * (x + _GELU_A * x**3))
        d = 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * _SQRT_2_OVER_PI * (1 + 3 * _GELU_A * x**2)
    else:
        cx = _GELU_C * x
        d = 0.5 * _erfc(-cx) + x * _GELU_C * np.exp(-cx * cx) / math.sqrt(math.pi)
    return (dy * d).astype(dy.dtype, copy=False)


def _as_float(x):
    """x as a floating array (integers become floatx, as Keras converts them)."""
    x = np.asarray(x)
    if np.issubdtype(x.dtype, np.floating):
        return x
    from minikeras import config

    return x.astype(config.floatx())


def _scalar(value, x):
    """A Python number as a scalar of x's dtype (float32 stays float32)."""
    return np.asarray(value, dtype=x.dtype)


def _on_tape(forward, backward, x, **options):
    """`forward(x)` as one entry of a recording GradientTape, differentiated by `backward`:
    the activations below are NumPy code, so on a Tensor they record themselves."""
    from minikeras import autodiff

    value = np.asarray(x.value)
    with autodiff.paused():
        y = forward(value, **options)

    def vjp(grads):
        return [backward(value, y, np.asarray(grads[0]), **options)], []

    (out,) = autodiff.record([x], [y], vjp, name=forward.__name__)
    return out


def _taped(backward_name):
    """Decorator: the activation records itself (with its backward) when given a Tensor."""

    def wrap(forward):
        def activation(x, *args, **options):
            if _is_tensor(x):
                names = forward.__code__.co_varnames[1 : forward.__code__.co_argcount]
                options.update(zip(names, args))
                return _on_tape(forward, globals()[backward_name], x, **options)
            return forward(x, *args, **options)

        activation.__name__ = activation.__qualname__ = forward.__name__
        activation.__doc__ = forward.__doc__
        activation.__wrapped__ = forward
        return activation

    return wrap


@_taped("relu6_backward")
def relu6(x):
    """f(x) = min(max(x, 0), 6)"""
    x = _as_float(x)
    return np.minimum(np.maximum(x, _scalar(0, x)), _scalar(6, x))


def relu6_backward(x, y, dy):
    """f'(x) = 1 for 0 < x < 6, else 0 (TensorFlow's Relu6Grad)"""
    return dy * ((x > 0) & (x < 6))


@_taped("celu_backward")
def celu(x, alpha=1.0):
    """f(x) = max(x, 0) + alpha·(e^(min(x, 0)/alpha) − 1)"""
    x = _as_float(x)
    alpha = _scalar(alpha, x)
    zero = _scalar(0, x)
    return np.maximum(x, zero) + alpha * np.expm1(np.minimum(x, zero) / alpha)


def celu_backward(x, y, dy, alpha=1.0):
    """f'(x) = 1 for x > 0, e^(x/alpha) = y/alpha + 1 otherwise"""
    return dy * np.where(x > 0, 1.0, np.exp(np.minimum(x, 0) / alpha)).astype(dy.dtype)


@_taped("glu_backward")
def glu(x, axis=-1):
    """f(x) = a ⊙ sigmoid(b), where x = [a, b] is split in two halves along `axis`"""
    x = _as_float(x)
    if x.shape[axis] % 2 != 0:
        raise ValueError(
            f"axis size must be divisible by 2. Received: x.shape={x.shape} with axis={axis}"
        )
    a, b = np.split(x, 2, axis)
    return (a * sigmoid(b)).astype(x.dtype, copy=False)


def glu_backward(x, y, dy, axis=-1):
    """da = dy ⊙ s, db = dy ⊙ a ⊙ s(1 − s) with s = sigmoid(b); dx = [da, db] along `axis`"""
    a, b = np.split(x, 2, axis)
    s = sigmoid(b)
    return np.concatenate([dy * s, dy * a * s * (1 - s)], axis=axis).astype(dy.dtype)


@_taped("hard_sigmoid_backward")
def hard_sigmoid(x):
    """f(x) = clip(x/6 + 1/2, 0, 1)"""
    x = _as_float(x)
    return np.clip(x / _scalar(6, x) + _scalar(0.5, x), _scalar(0, x), _scalar(1, x))


def hard_sigmoid_backward(x, y, dy):
    """f'(x) = 1/6 for −3 < x < 3, else 0"""
    return dy * np.where((x > -3) & (x < 3), 1 / 6, 0.0).astype(dy.dtype)


@_taped("hard_silu_backward")
def hard_silu(x):
    """f(x) = x·hard_sigmoid(x) (also called hard_swish)"""
    x = _as_float(x)
    return x * hard_sigmoid(x)


def hard_silu_backward(x, y, dy):
    """f'(x) = hard_sigmoid(x) + x/6 for −3 < x < 3; 0 below, 1 above"""
    inside = np.where((x > -3) & (x < 3), x / 6, 0.0)
    return (dy * (hard_sigmoid(x) + inside)).astype(dy.dtype)


hard_swish = hard_silu
hard_swish_backward = hard_silu_backward


@_taped("hard_tanh_backward")
def hard_tanh(x):
    """f(x) = clip(x, −1, 1)"""
    x = _as_float(x)
    return np.clip(x, _scalar(-1, x), _scalar(1, x))


def hard_tanh_backward(x, y, dy):
    """f'(x) = 1 for |x| < 1, else 0"""
    return dy * (np.abs(x) < 1)


@_taped("hard_shrink_backward")
def hard_shrink(x, threshold=0.5):
    """f(x) = x where |x| > threshold, else 0"""
    x = _as_float(x)
    return np.where(np.abs(x) > threshold, x, _scalar(0, x))


def hard_shrink_backward(x, y, dy, threshold=0.5):
    """f'(x) = 1 where |x| > threshold, else 0"""
    return dy * (np.abs(x) > threshold)


@_taped("soft_shrink_backward")
def soft_shrink(x, threshold=0.5):
    """f(x) = x − threshold above it, x + threshold below −threshold, 0 between"""
    x = _as_float(x)
    t = _scalar(threshold, x)
    return np.where(x > t, x - t, np.where(x < -t, x + t, _scalar(0, x)))


def soft_shrink_backward(x, y, dy, threshold=0.5):
    """f'(x) = 1 where |x| > threshold, else 0"""
    return dy * (np.abs(x) > threshold)


@_taped("tanh_shrink_backward")
def tanh_shrink(x):
    """f(x) = x − tanh(x)"""
    x = _as_float(x)
    return x - np.tanh(x)


def tanh_shrink_backward(x, y, dy):
    """f'(x) = 1 − (1 − tanh²x) = tanh²x"""
    return dy * np.tanh(x) ** 2


@_taped("threshold_backward")
def threshold(x, threshold, default_value):
    """f(x) = x where x > threshold, else default_value"""
    x = _as_float(x)
    return np.where(x > threshold, x, _scalar(default_value, x))


def threshold_backward(x, y, dy, threshold=0.0, default_value=0.0):
    """f'(x) = 1 where x > threshold, else 0"""
    return dy * (x > threshold)


@_taped("squareplus_backward")
def squareplus(x, b=4):
    """f(x) = (x + √(x² + b)) / 2"""
    x = _as_float(x)
    return (x + np.sqrt(x * x + _scalar(b, x))) / _scalar(2, x)


def squareplus_backward(x, y, dy, b=4):
    """f'(x) = (1 + x/√(x² + b)) / 2"""
    return dy * (1 + x / np.sqrt(x * x + b)) / 2


@_taped("sparse_plus_backward")
def sparse_plus(x):
    """f(x) = 0 for x ≤ −1, (x + 1)²/4 for −1 < x < 1, x for x ≥ 1"""
    x = _as_float(x)
    middle = (x + 1) ** 2 / _scalar(4, x)
    return np.where(x <= -1, _scalar(0, x), np.where(x < 1, middle, x))


def sparse_plus_backward(x, y, dy):
    """f'(x) = 0 for x ≤ −1, (x + 1)/2 for −1 < x < 1, 1 for x ≥ 1"""
    return dy * np.where(x <= -1, 0.0, np.where(x < 1, (x + 1) / 2, 1.0)).astype(dy.dtype)


@_taped("sparse_sigmoid_backward")
def sparse_sigmoid(x):
    """f(x) = 0 for x ≤ −1, (x + 1)/2 for −1 < x < 1, 1 for x ≥ 1"""
    x = _as_float(x)
    return np.clip((x + 1) / _scalar(2, x), _scalar(0, x), _scalar(1, x))


def sparse_sigmoid_backward(x, y, dy):
    """f'(x) = 1/2 for −1 < x < 1, else 0"""
    return dy * np.where((x > -1) & (x < 1), 0.5, 0.0).astype(dy.dtype)


@_taped("log_sigmoid_backward")
def log_sigmoid(x):
    """f(x) = ln sigmoid(x) = −softplus(−x)"""
    x = _as_float(x)
    return -softplus(-x)


def log_sigmoid_backward(x, y, dy):
    """f'(x) = 1 − sigmoid(x) = sigmoid(−x)"""
    return dy * sigmoid(-x)


@_taped("exponential_backward")
def exponential(x):
    """f(x) = e^x"""
    return np.exp(_as_float(x))


def exponential_backward(x, y, dy):
    """f'(x) = e^x = y"""
    return dy * y


@_taped("mish_backward")
def mish(x):
    """f(x) = x·tanh(softplus(x))"""
    x = _as_float(x)
    return x * np.tanh(softplus(x))


def mish_backward(x, y, dy):
    """f'(x) = t + x·(1 − t²)·sigmoid(x) with t = tanh(softplus(x))"""
    t = np.tanh(softplus(x))
    return dy * (t + x * (1 - t * t) * sigmoid(x))


@_taped("log_softmax_backward")
def log_softmax(x, axis=-1):
    """f(x)ᵢ = xᵢ − ln Σⱼ e^(xⱼ) along `axis` (an int or a tuple of axes; the maximum is
    subtracted first: same value, no overflow)"""
    x = _as_float(x)
    shifted = x - np.max(x, axis=axis, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))


def log_softmax_backward(x, y, dy, axis=-1):
    """dx = dy − softmax(x)·Σⱼ dyⱼ, with softmax(x) = e^y"""
    return dy - np.exp(y) * np.sum(dy, axis=axis, keepdims=True)


@_taped("sparsemax_backward")
def sparsemax(x, axis=-1):
    """f(x) = max(x − τ, 0), τ chosen so that the outputs sum to 1 along `axis` (Martins and
    Astudillo, 2016): the Euclidean projection of x onto the probability simplex.
    Keras 3.15 differs where the support holds two entries or more: its τ sums every
    cumulative sum over the support rather than taking the k-th, so its rows do not sum to 1.
    Both agree when one entry dominates (Keras's own test checks only such a case)."""
    x = _as_float(x)
    z = np.moveaxis(x, axis, -1)
    ranked = -np.sort(-z, axis=-1)  # descending
    cumulative = np.cumsum(ranked, axis=-1)
    k = np.arange(1, z.shape[-1] + 1, dtype=x.dtype)
    # the support: the k largest entries with ranked_k > (Σ_{j≤k} ranked_j − 1)/k
    support = ranked - (cumulative - 1) / k > 0
    size = np.sum(support, axis=-1, keepdims=True)
    tau = (np.take_along_axis(cumulative, size - 1, axis=-1) - 1) / size.astype(x.dtype)
    return np.moveaxis(np.maximum(z - tau, _scalar(0, x)), -1, axis)


def sparsemax_backward(x, y, dy, axis=-1):
    """On the support S (y > 0): dxᵢ = dyᵢ − mean_{j∈S} dyⱼ; 0 off it"""
    inside = (y > 0).astype(dy.dtype)
    size = np.sum(inside, axis=axis, keepdims=True)
    mean = np.sum(dy * inside, axis=axis, keepdims=True) / size
    return inside * (dy - mean)


# name → (forward, backward). Keras's names; 'swish' is silu's other name.
ALL_ACTIVATIONS = {
    "linear": (linear, linear_backward),
    "relu": (relu, relu_backward),
    "leaky_relu": (leaky_relu, leaky_relu_backward),
    "sigmoid": (sigmoid, sigmoid_backward),
    "tanh": (tanh, tanh_backward),
    "softmax": (softmax, softmax_backward),
    "elu": (elu, elu_backward),
    "selu": (selu, selu_backward),
    "softplus": (softplus, softplus_backward),
    "softsign": (softsign, softsign_backward),
    "silu": (silu, silu_backward),
    "swish": (swish, swish_backward),
    "gelu": (gelu, gelu_backward),
    "relu6": (relu6, relu6_backward),
    "celu": (celu, celu_backward),
    "glu": (glu, glu_backward),
    "hard_sigmoid": (hard_sigmoid, hard_sigmoid_backward),
    "hard_silu": (hard_silu, hard_silu_backward),
    "hard_swish": (hard_swish, hard_swish_backward),
    "hard_tanh": (hard_tanh, hard_tanh_backward),
    "hard_shrink": (hard_shrink, hard_shrink_backward),
    "soft_shrink": (soft_shrink, soft_shrink_backward),
    "tanh_shrink": (tanh_shrink, tanh_shrink_backward),
    "threshold": (threshold, threshold_backward),
    "squareplus": (squareplus, squareplus_backward),
    "sparse_plus": (sparse_plus, sparse_plus_backward),
    "sparse_sigmoid": (sparse_sigmoid, sparse_sigmoid_backward),
    "log_sigmoid": (log_sigmoid, log_sigmoid_backward),
    "exponential": (exponential, exponential_backward),
    "mish": (mish, mish_backward),
    "log_softmax": (log_softmax, log_softmax_backward),
    "sparsemax": (sparsemax, sparsemax_backward),
}
_BACKWARD = {forward: backward for forward, backward in ALL_ACTIVATIONS.values()}


def get(identifier):
    """The activation function for a name, a function or None (linear)."""
    if identifier is None:
        return linear
    if isinstance(identifier, str):
        if identifier not in ALL_ACTIVATIONS:
            raise ValueError(
                f"Could not interpret activation function identifier: {identifier!r}. "
                f"Expected one of {sorted(ALL_ACTIVATIONS)} or a callable."
            )
        return ALL_ACTIVATIONS[identifier][0]
    if isinstance(identifier, dict) and "config" in identifier:  # Keras's serialized form
        name = identifier["config"]
        if isinstance(name, str) and name not in ALL_ACTIVATIONS:
            # a function of yours registered as "package>name" (register_keras_serializable),
            # found as Keras's deserialize finds it: clone_model rebuilds Dense from its config
            from minikeras.utils.object_registration import get_registered_object

            found = get_registered_object(name)
            if found is not None:
                return found
        return get(name if isinstance(name, str) else None)
    if callable(identifier):
        return identifier
    raise ValueError(
        f"Could not interpret activation function identifier: {identifier!r}. "
        f"Expected one of {sorted(ALL_ACTIVATIONS)} or a callable."
    )


def backward_of(fn):
    """The backward of an activation (a custom one's `.backward` attribute)."""
    if fn in _BACKWARD:
        return _BACKWARD[fn]
    backward = getattr(fn, "backward", None)
    if backward is None:  # a function of yours written with ops (or operators): the tape's
        return _tape_backward(fn)
    return backward


def _tape_backward(fn):
    """The backward of an activation that has none written by hand: its call on x recorded by
    a gradient tape, and that tape's vector–Jacobian product given dy (as Keras differentiates
    `Dense(1, activation=custom_fn)` with its backend's autodiff)."""

    def backward(x, y, dy):
        from minikeras.autodiff import GradientTape, Tensor

        x = Tensor(np.asarray(x))
        with GradientTape() as tape:
            tape.watch(x)
            out = fn(x)
        (dx,) = tape.gradient(out, [x], output_gradients=[np.asarray(dy)])
        return np.zeros_like(x.value) if dx is None else np.asarray(dx, dtype=x.value.dtype)

    return backward


def serialize(fn) -> str:
    """The Keras name of an activation function: for one of yours, the name it is registered
    under (`package>name`, as Keras writes it), else its `__name__`."""
    from minikeras.utils import object_registration

    if fn in object_registration._GLOBAL_CUSTOM_NAMES:
        return object_registration.get_registered_name(fn)
    return getattr(fn, "__name__", str(fn))


def config_value(fn):
    """An activation as a layer's config holds it: a built-in one by name ("relu"); one of
    yours as Keras writes a function, {"class_name": "function", "config": its registered
    name, ...}, which Keras's `activations.get` reads back."""
    name = serialize(fn)
    if name in ALL_ACTIVATIONS and ALL_ACTIVATIONS[name][0] is fn:
        return name
    return {
        "module": "builtins",
        "class_name": "function",
        "config": name,
        "registered_name": "function",
    }


def deserialize(name):
    """Inverse of `serialize`."""
    return get(name)
