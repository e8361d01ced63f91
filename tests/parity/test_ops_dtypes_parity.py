"""The dtype of each op's result against keras.ops on TensorFlow, for every input dtype (and
pair of dtypes) Keras promotes: int8 + uint8 is int16, bool + int8 is int8, a Python float
with float16 is float16, an integer argument of a float function becomes float32 (int64 and
float64 stay 64-bit on TensorFlow), as Keras's dtype rules say (backend/common/dtypes.py).

Only dtypes are compared, on arrays of ones (values are the other parity tests' business).
A dtype Keras refuses for an op (TensorFlow has no kernel for it) is left out of the
comparison; each test checks that most of its cases were compared.
"""

import itertools

import numpy as np
import pytest

from minikeras import backend
from minikeras import ops as mops

DTYPES = [
    "bool",
    "uint8",
    "uint16",
    "uint32",
    "int8",
    "int16",
    "int32",
    "int64",
    "bfloat16",
    "float16",
    "float32",
    "float64",
]


def _keras_dtype(keras, fn, arrays):
    # Keras's tensors, as Keras's tests make them (knp.ones): TensorFlow reads a list of NumPy
    # arrays by its own rules
    arrays = [keras.ops.convert_to_tensor(a) if isinstance(a, np.ndarray) else a for a in arrays]
    try:
        out = fn(keras.ops, *arrays)
    except Exception:  # noqa: BLE001 (TensorFlow has no kernel: not compared)
        return None
    out = out[0] if isinstance(out, (list, tuple)) else out
    return keras.backend.standardize_dtype(out.dtype)


def _mismatches(keras, fn, dtype_lists, make=None):
    make = make or (lambda dtype: np.ones((2, 2), dtype=dtype))
    wrong, compared = [], 0
    for dtypes in dtype_lists:
        arrays = [make(d) if isinstance(d, str) else d for d in dtypes]
        expected = _keras_dtype(keras, fn, arrays)
        if expected is None:
            continue
        compared += 1
        try:
            out = fn(mops, *arrays)
        except Exception as error:  # noqa: BLE001 (Keras computes it: a mismatch)
            wrong.append(f"{dtypes}: {type(error).__name__} {error} (Keras {expected})")
            continue
        out = out[0] if isinstance(out, (list, tuple)) else out
        got = backend.standardize_dtype(out.dtype) if hasattr(out, "dtype") else type(out)
        if got != expected:
            wrong.append(f"{dtypes}: {got} (Keras {expected})")
    return wrong, compared


def _ml_dtypes():
    import ml_dtypes  # noqa: F401 (NumPy reads "bfloat16" from here on)


BINARY = {
    "add": lambda o, x, y: o.add(x, y),
    "subtract": lambda o, x, y: o.subtract(x, y),
    "multiply": lambda o, x, y: o.multiply(x, y),
    "divide": lambda o, x, y: o.divide(x, y),
    "floor_divide": lambda o, x, y: o.floor_divide(x, y),
    "mod": lambda o, x, y: o.mod(x, y),
    "power": lambda o, x, y: o.power(x, y),
    "maximum": lambda o, x, y: o.maximum(x, y),
    "minimum": lambda o, x, y: o.minimum(x, y),
    "matmul": lambda o, x, y: o.matmul(x, y),
    "dot": lambda o, x, y: o.dot(x, y),
    "arctan2": lambda o, x, y: o.arctan2(x, y),
    "hypot": lambda o, x, y: o.hypot(x, y),
    "logaddexp": lambda o, x, y: o.logaddexp(x, y),
    "where": lambda o, x, y: o.where(True, x, y),
    "concatenate": lambda o, x, y: o.concatenate([x, y]),
    "stack": lambda o, x, y: o.stack([x, y]),
    "append": lambda o, x, y: o.append(x, y),
    "outer": lambda o, x, y: o.outer(x, y),
    "inner": lambda o, x, y: o.inner(x, y),
    "kron": lambda o, x, y: o.kron(x, y),
    "tensordot": lambda o, x, y: o.tensordot(x, y, axes=1),
    "vdot": lambda o, x, y: o.vdot(x, y),
    "cross": lambda o, x, y: o.cross(x, y),
    "einsum": lambda o, x, y: o.einsum("ij,jk->ik", x, y),
    "fmax": lambda o, x, y: o.fmax(x, y),
    "fmin": lambda o, x, y: o.fmin(x, y),
    "fmod": lambda o, x, y: o.fmod(x, y),
    "heaviside": lambda o, x, y: o.heaviside(x, y),
    "correlate": lambda o, x, y: o.correlate(o.ravel(x), o.ravel(y)),
}
PAIRS = list(itertools.combinations_with_replacement(DTYPES, 2))


@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_result_dtypes(keras, name):
    _ml_dtypes()
    wrong, compared = _mismatches(keras, BINARY[name], PAIRS)
    assert compared >= len(PAIRS) // 2, compared
    assert not wrong, "\n".join(wrong)


PYTHON_SCALARS = {
    "add": lambda o, x, s: o.add(x, s),
    "subtract": lambda o, x, s: o.subtract(x, s),
    "multiply": lambda o, x, s: o.multiply(x, s),
    "divide": lambda o, x, s: o.divide(x, s),
    "floor_divide": lambda o, x, s: o.floor_divide(x, s),
    "power": lambda o, x, s: o.power(x, s),
    "maximum": lambda o, x, s: o.maximum(x, s),
    "minimum": lambda o, x, s: o.minimum(x, s),
    "where": lambda o, x, s: o.where(True, x, s),
}


@pytest.mark.parametrize("name", sorted(PYTHON_SCALARS))
def test_python_scalar_operands_are_weak(keras, name):
    _ml_dtypes()
    cases = [(d, s) for d in DTYPES for s in (1, 1.0, True)]
    wrong, compared = _mismatches(keras, PYTHON_SCALARS[name], cases)
    assert compared >= len(cases) // 2, compared
    assert not wrong, "\n".join(wrong)


def _method(name):
    return lambda o, x: getattr(o, name)(x)


UNARY = {
    name: _method(name)
    for name in (
        "abs absolute negative square sqrt exp exp2 expm1 log log2 log10 log1p sin cos tan "
        "arcsin arccos arctan arcsinh arccosh arctanh sinh cosh tanh sign floor ceil round "
        "trunc cbrt deg2rad rad2deg reciprocal fabs sinc signbit isnan isinf isfinite "
        "logical_not sum prod mean max min var std any all argmax argmin cumsum cumprod "
        "count_nonzero median ptp ravel flip sort argsort copy nonzero diag diagonal trace "
        "tril triu transpose isneginf isposinf isreal angle real imag conj "
        "nan_to_num nansum nanprod nanmax nanmin nanmean nanvar nanstd nanmedian "
        "nancumsum nancumprod nanargmax nanargmin corrcoef average zeros_like ones_like "
        "empty_like bitwise_invert"
    ).split()
}
UNARY.update(
    {
        "diff": lambda o, x: o.diff(x),
        "clip": lambda o, x: o.clip(x, 0, 1),
        "full_like": lambda o, x: o.full_like(x, 1),
        "quantile": lambda o, x: o.quantile(x, 0.5),
        "percentile": lambda o, x: o.percentile(x, 50),
        "nanquantile": lambda o, x: o.nanquantile(x, 0.5),
        "nanpercentile": lambda o, x: o.nanpercentile(x, 50),
        "vander": lambda o, x: o.vander(o.ravel(x)),
        "trapezoid": lambda o, x: o.trapezoid(x),
        "roll": lambda o, x: o.roll(x, 1),
        "repeat": lambda o, x: o.repeat(x, 2),
        "tile": lambda o, x: o.tile(x, 2),
        "pad": lambda o, x: o.pad(x, ((1, 1), (1, 1))),
        "take": lambda o, x: o.take(x, np.array([0, 1])),
        "split": lambda o, x: o.split(x, 2),
        "array_split": lambda o, x: o.array_split(x, 2),
        "searchsorted": lambda o, x: o.searchsorted(o.ravel(x), o.ravel(x)),
        "digitize": lambda o, x: o.digitize(x, np.array([0.0, 1.0])),
        "argpartition": lambda o, x: o.argpartition(x, 1),
        "logsumexp": lambda o, x: o.logsumexp(x),
        "sigmoid": lambda o, x: o.sigmoid(x),
        "relu": lambda o, x: o.relu(x),
        "relu6": lambda o, x: o.relu6(x),
        "hard_sigmoid": lambda o, x: o.hard_sigmoid(x),
        "hard_silu": lambda o, x: o.hard_silu(x),
        "softmax": lambda o, x: o.softmax(x),
        "log_softmax": lambda o, x: o.log_softmax(x),
        "gelu": lambda o, x: o.gelu(x),
        "erf": lambda o, x: o.erf(x),
        "erfinv": lambda o, x: o.erfinv(x),
        "rsqrt": lambda o, x: o.rsqrt(x),
        "norm": lambda o, x: o.norm(x),
        "square int": lambda o, x: o.square(x),
        "bincount": lambda o, x: o.bincount(o.ravel(x)),
    }
)


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_result_dtypes(keras, name):
    _ml_dtypes()
    wrong, compared = _mismatches(keras, UNARY[name], [(d,) for d in DTYPES])
    assert compared >= 1, compared
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("x_dtype", ["float16", "bfloat16", "float32"])
@pytest.mark.parametrize("name", ["layer_normalization", "rms_normalization"])
def test_normalizations_keep_the_inputs_dtype_whatever_the_weights(keras, name, x_dtype):
    _ml_dtypes()
    x, w = np.ones((2, 8), x_dtype), np.ones((8,), "float32")
    weights = (w, w) if name == "layer_normalization" else (w,)
    expected = getattr(keras.ops, name)(keras.ops.convert_to_tensor(x), *weights).dtype
    assert backend.standardize_dtype(getattr(mops, name)(x, *weights).dtype) == expected.name


@pytest.mark.parametrize("dtypes", [("bfloat16", "bfloat16"), ("float16", "bfloat16")])
def test_attention_in_bfloat16(keras, dtypes):
    _ml_dtypes()
    q, kv = np.ones((2, 3, 2, 4), dtypes[0]), np.ones((2, 3, 2, 4), dtypes[1])
    t = keras.ops.convert_to_tensor
    expected = keras.ops.dot_product_attention(t(q), t(kv), t(kv))
    got = mops.dot_product_attention(q, kv, kv)
    assert backend.standardize_dtype(got.dtype) == expected.dtype.name
    np.testing.assert_array_equal(got.astype("float32"), np.asarray(expected, "float32"))


def test_float16_moments_are_computed_in_float32_and_clipped(keras):
    # the variance overflows float16; Keras clips it to float16's largest value
    x = np.array([-741.0, 353.2, 1099.0, -1807.0, 502.8, -83.4, 333.5, -130.9], "float16")
    mean, variance = mops.moments(x, axes=[0])
    k_mean, k_variance = keras.ops.moments(keras.ops.convert_to_tensor(x), axes=[0])
    assert mean.dtype == variance.dtype == np.float16
    np.testing.assert_array_equal(mean, np.asarray(k_mean))
    np.testing.assert_array_equal(variance, np.asarray(k_variance))
