"""More elementwise ops of Keras's numpy group: inverse hyperbolic functions, arctan2, hypot,
logaddexp, rounding toward zero, bitwise operations, float tests. (numpy.py re-exports them.)

The differentiable ones are written with the ops of numpy.py, so that the tape differentiates
them through the VJPs of those ops; the others (bitwise, tests, gcd) compute on arrays.

>>> import numpy as np
>>> from minikeras import ops
>>> ops.arctan2(np.array([1.0]), np.array([1.0]))
array([0.78539816])
"""

import numpy as np

from minikeras import config
from minikeras.autodiff import primitive, unwrap
from minikeras.ops import numpy as onp
from minikeras.ops.core import cast, convert_to_tensor
from minikeras.ops.dtypes import float_keeping_64_bits, result_type, standardize_dtype
from minikeras.ops.shapes import broadcasting, elementwise, scalar
from minikeras.ops.symbolic import symbolic_op


def _floats(x1, x2):
    """Both arguments in their common dtype, made float (Keras: int32 + int32 → float32)."""
    dtype = result_type(onp._dtype_of(x1), onp._dtype_of(x2), float)
    return onp._promote(x1, x2, dtype=dtype)


def _plain(x):
    return unwrap(convert_to_tensor(x))


def _float_keeping_64_bits(x):
    """x in the float type Keras's TensorFlow backend gives these ops: int64 becomes float64."""
    x = convert_to_tensor(x)
    return cast(x, float_keeping_64_bits(x.dtype))


# ---------------------------------------------------------------- differentiable
@symbolic_op
def arcsinh(x):
    """arsinh x = ln(x + √(x² + 1))."""
    return onp._unary("arcsinh", np.arcsinh)(x)


@symbolic_op
def arccosh(x):
    """arcosh x = ln(x + √(x² − 1)), x ≥ 1."""
    return onp._unary("arccosh", np.arccosh)(x)


@symbolic_op
def arctanh(x):
    """artanh x = ½ ln((1 + x)/(1 − x)), |x| < 1."""
    return onp._unary("arctanh", np.arctanh)(x)


@symbolic_op(shape=broadcasting)
def arctan2(x1, x2):
    """The angle of the point (x2, x1), in (−π, π]."""
    x1, x2 = _floats(x1, x2)
    return onp._binary("arctan2", np.arctan2, x1, x2)


@symbolic_op(shape=broadcasting)
def hypot(x1, x2):
    """√(x1² + x2²) (int64 operands give float64, as on TensorFlow)."""
    dtype = float_keeping_64_bits(result_type(onp._dtype_of(x1), onp._dtype_of(x2)))
    x1, x2 = onp._promote(x1, x2, dtype=dtype)
    return onp._binary("hypot", np.hypot, x1, x2)


@symbolic_op(shape=broadcasting)
def logaddexp(x1, x2):
    """ln(e^x1 + e^x2), without overflow."""
    x1, x2 = _floats(x1, x2)
    return onp._binary("logaddexp", np.logaddexp, x1, x2)


@symbolic_op(shape=broadcasting)
def logaddexp2(x1, x2):
    """log₂(2^x1 + 2^x2)."""
    x1, x2 = _floats(x1, x2)
    return onp._binary("logaddexp2", np.logaddexp2, x1, x2)


@symbolic_op
def cbrt(x):
    """∛x (negative for negative x; int64 gives float64, as on TensorFlow)."""
    return primitive("cbrt", np.cbrt, _float_keeping_64_bits(x))


@symbolic_op
def exp2(x):
    """2ˣ."""
    return onp._unary("exp2", np.exp2)(x)


@symbolic_op
def deg2rad(x):
    """x degrees in radians: x·π/180."""
    return onp.multiply(_float_keeping_64_bits(x), np.pi / 180)


@symbolic_op
def rad2deg(x):
    """x radians in degrees: x·180/π."""
    return onp.multiply(_float_keeping_64_bits(x), 180 / np.pi)


@symbolic_op(shape=broadcasting)
def fmod(x1, x2):
    """The remainder of x1 / x2 with the sign of x1 (C's fmod)."""
    x1, x2 = onp._promote(x1, x2)
    if x1.dtype == bool:
        x1, x2 = cast(x1, "int32"), cast(x2, "int32")
    return onp.subtract(x1, onp.multiply(x2, trunc(onp.divide(x1, x2))).astype(x1.dtype))


@symbolic_op(shape=broadcasting)
def fmax(x1, x2):
    """The larger of x1 and x2, ignoring NaN."""
    x1, x2 = onp._promote(x1, x2)
    return onp.where(onp.isnan(x2), x1, onp.where(onp.isnan(x1), x2, onp.maximum(x1, x2)))


@symbolic_op(shape=broadcasting)
def fmin(x1, x2):
    """The smaller of x1 and x2, ignoring NaN."""
    x1, x2 = onp._promote(x1, x2)
    return onp.where(onp.isnan(x2), x1, onp.where(onp.isnan(x1), x2, onp.minimum(x1, x2)))


@symbolic_op(shape=broadcasting)
def divide_no_nan(x1, x2):
    """x1 / x2, and 0 where x2 is 0."""
    dtype = result_type(onp._dtype_of(x1), onp._dtype_of(x2), float)
    x1, x2 = onp._promote(x1, x2, dtype=dtype)
    safe = onp.where(onp.equal(x2, 0), onp.ones_like(x2), x2)
    return onp.where(onp.equal(x2, 0), onp.zeros_like(x1), onp.divide(x1, safe))


@symbolic_op
def sinc(x):
    """sin(πx)/(πx), 1 at 0."""
    x = onp._float(x)
    return onp._unary("sinc", _sinc)(x)


def _sinc(x):
    return np.sinc(x).astype(x.dtype, copy=False)  # (NumPy computes bfloat16 in float32)


@symbolic_op(shape=broadcasting)
def ldexp(x1, x2):
    """x1·2^x2, x2 an integer array; in result_type(x1, x2, float)."""
    x1, x2 = convert_to_tensor(x1), convert_to_tensor(x2)
    if np.dtype(x2.dtype).kind not in "iu":
        raise TypeError(f"ldexp exponent must be an integer type. Received: x2 dtype={x2.dtype}")
    return primitive("ldexp", _ldexp, cast(x1, result_type(x1.dtype, x2.dtype, float)), x2)


def _ldexp(x1, x2):
    return np.ldexp(x1, x2.astype(np.int32)).astype(x1.dtype)


# ---------------------------------------------------------------- no gradient
@symbolic_op
def trunc(x):
    """x rounded toward zero (integers kept)."""
    x = _plain(x)
    return x.copy() if x.dtype.kind in "iub" else np.trunc(x)


@symbolic_op
def signbit(x):
    """Whether the sign bit of x is set (−0.0 included)."""
    return np.signbit(_plain(x))


@symbolic_op
def isneginf(x):
    """Whether each entry is −inf."""
    return np.isneginf(_plain(x))


@symbolic_op
def isposinf(x):
    """Whether each entry is +inf."""
    return np.isposinf(_plain(x))


@symbolic_op
def isreal(x):
    """Whether each entry has no imaginary part."""
    return np.isreal(_plain(x))


@symbolic_op(shape=broadcasting)
def isclose(x1, x2, rtol=1e-5, atol=1e-8, equal_nan=False):
    """|x1 − x2| ≤ atol + rtol·|x2|, elementwise."""
    x1, x2 = onp._promote(x1, x2)
    return np.isclose(unwrap(x1), unwrap(x2), rtol=rtol, atol=atol, equal_nan=equal_nan)


@symbolic_op(shape=scalar)
def allclose(x1, x2, rtol=1e-5, atol=1e-8, equal_nan=False):
    """Whether isclose holds everywhere."""
    return np.asarray(np.all(isclose(x1, x2, rtol=rtol, atol=atol, equal_nan=equal_nan)))


@symbolic_op(shape=broadcasting)
def logical_xor(x1, x2):
    """x1 xor x2, elementwise."""
    return np.logical_xor(_plain(x1), _plain(x2))


@symbolic_op(shape=broadcasting)
def heaviside(x1, x2):
    """0 where x1 < 0, x2 where x1 = 0, 1 where x1 > 0."""
    dtype = result_type(onp._dtype_of(x1), onp._dtype_of(x2))
    # Keras computes it in floats: integers become floatx (int64 float64)
    if dtype == "int64":
        dtype = "float64"
    elif dtype in ("bool", "int8", "int16", "int32", "uint8", "uint16", "uint32"):
        dtype = config.floatx()
    return np.heaviside(_plain(x1), _plain(x2)).astype(dtype)


@symbolic_op(shape=broadcasting)
def nextafter(x1, x2):
    """The next float after x1 toward x2."""
    dtype = result_type(onp._dtype_of(x1), onp._dtype_of(x2), float)
    return np.nextafter(_plain(x1).astype(dtype), _plain(x2).astype(dtype))


def _integers(name, forward, x1, x2):
    x1, x2 = onp._promote(x1, x2)
    return forward(unwrap(x1), unwrap(x2))


@symbolic_op(shape=broadcasting)
def gcd(x1, x2):
    """The greatest common divisor of x1 and x2."""
    return _integers("gcd", np.gcd, x1, x2)


@symbolic_op(shape=broadcasting)
def lcm(x1, x2):
    """The least common multiple of x1 and x2."""
    return _integers("lcm", np.lcm, x1, x2)


@symbolic_op(shape=broadcasting)
def bitwise_and(x, y):
    """x & y, bit by bit."""
    return _integers("bitwise_and", np.bitwise_and, x, y)


@symbolic_op(shape=broadcasting)
def bitwise_or(x, y):
    """x | y, bit by bit."""
    return _integers("bitwise_or", np.bitwise_or, x, y)


@symbolic_op(shape=broadcasting)
def bitwise_xor(x, y):
    """x ^ y, bit by bit."""
    return _integers("bitwise_xor", np.bitwise_xor, x, y)


@symbolic_op(shape=elementwise)
def bitwise_invert(x):
    """~x, bit by bit."""
    return np.invert(_plain(x))


bitwise_not = bitwise_invert


@symbolic_op(shape=broadcasting)
def bitwise_left_shift(x, y):
    """x << y."""
    return _integers("left_shift", np.left_shift, x, y)


@symbolic_op(shape=broadcasting)
def bitwise_right_shift(x, y):
    """x >> y."""
    return _integers("right_shift", np.right_shift, x, y)


left_shift, right_shift = bitwise_left_shift, bitwise_right_shift


# ---------------------------------------------------------------- complex parts
@symbolic_op
def real(x):
    """The real part of x."""
    return np.real(_plain(x))


@symbolic_op
def imag(x):
    """The imaginary part of x."""
    return np.imag(_plain(x))


@symbolic_op
def conjugate(x):
    """The complex conjugate of x (x itself for real x)."""
    return np.conjugate(_plain(x))


conj = conjugate


@symbolic_op
def angle(x):
    """The argument of the complex x (0 or π for reals), floatx for integers."""
    x = _plain(x)
    dtype = standardize_dtype(x.dtype)
    if dtype == "bool" or "int" in dtype:
        x = x.astype(config.floatx())
    return np.angle(x)


@symbolic_op
def fabs(x):
    """|x| as a float (integers become floatx)."""
    return onp.absolute(onp._float(x))
