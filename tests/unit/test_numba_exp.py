"""numba_exp's float32 sigmoid and tanh (a polynomial exp that LLVM vectorises), measured in ulp
against float64 libm over float32 inputs.

The inputs: every float32 in ±[1, 2) (16.8 million numbers; there the reduced argument r runs
through its whole interval, for sigmoid's e^−v and tanh's e^−2v both), and every 401st float32
bit pattern of [−87, 87] (5.3 million, every binade from the smallest subnormal up, where tanh's
e^−2v − 1 is the difference of two close numbers). Measured: sigmoid 2.83 ulp, tanh 2.49 ulp
at most (every 7th pattern of [−87, 87] gave the same). The bounds below are those, rounded up:
the float32 result is at most ~3 roundings from the float64 truth (the polynomial's, 2ⁿ·(1 + p)'s
and the division's).
The ulp is that of the float32 nearest the true value; below the smallest normal float32 the
ulp is the subnormal spacing.
"""

import math

import numpy as np
from numba import njit

from minikeras.kernels import numba_exp

SIGMOID_ULP, TANH_ULP = 3.0, 2.6


@njit(error_model="numpy")
def _worst_ulp(which, first_bits, last_bits, stride):
    """The largest error in float32 ulp of numba_exp's sigmoid (which=0) or tanh (1) over the
    float32 numbers whose bit patterns are first_bits, first_bits + stride, ..., < last_bits
    (both signs)."""
    worst, at = 0.0, 0.0
    for bits in range(first_bits, last_bits, stride):
        for sign in (1.0, -1.0):
            v = np.float32(sign) * np.int32(bits).view(np.float32)
            x = np.float64(v)
            if which == 0:
                got, want = numba_exp.sigmoid(v), 1.0 / (1.0 + math.exp(-x))
            else:
                got, want = numba_exp.tanh(v), math.tanh(x)
            exponent = math.frexp(np.float32(want))[1]
            ulp = math.ldexp(1.0, max(exponent, -125) - 24)
            error = abs(np.float64(got) - want) / ulp
            if error > worst:
                worst, at = error, x
    return worst, at


def _bits(x):
    return int(np.float32(x).view(np.int32))


def test_sigmoid_and_tanh_within_their_ulp_bounds_over_float32_inputs():
    for which, bound in ((0, SIGMOID_ULP), (1, TANH_ULP)):
        worst_near_one, at = _worst_ulp(which, _bits(1.0), _bits(2.0), 1)
        assert worst_near_one <= bound, (which, worst_near_one, at)
        worst_everywhere, at = _worst_ulp(which, 0, _bits(87.0), 401)
        assert worst_everywhere <= bound, (which, worst_everywhere, at)


def _series(r, coefficients):
    """r + r²·(c₂ + r·(c₃ + ...)) by Horner, in r's dtype."""
    tail = coefficients[-1]
    for c in reversed(coefficients[:-1]):
        tail = c + r * tail
    return r + r * r * tail


def test_one_term_fewer_would_miss_the_bound():
    """Negative control: e^r − 1 over the reduced interval to r⁷/7! is within 2 ulp, to r⁶/6!
    it is not, so the measurement can fail and the seventh term is needed."""
    r = np.linspace(-math.log(2) / 2, math.log(2) / 2, 100001, dtype=np.float32)
    truth = np.expm1(r.astype(np.float64))
    ulp = np.spacing(np.abs(truth).astype(np.float32))
    c = (numba_exp.C2, numba_exp.C3, numba_exp.C4, numba_exp.C5, numba_exp.C6, numba_exp.C7)
    assert np.max(np.abs(_series(r, c) - truth) / ulp) <= 2
    assert np.max(np.abs(_series(r, c[:-1]) - truth) / ulp) > 3


@njit(error_model="numpy")
def _apply(which, v, out):
    for i in range(v.size):
        out[i] = numba_exp.sigmoid(v[i]) if which == 0 else numba_exp.tanh(v[i])


def _compiled(which, v):
    out = np.empty_like(v)
    _apply(which, v, out)
    return out


def test_special_values_as_libm():
    v = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 100.0, -100.0], dtype=np.float32)
    sigmoid, tanh = _compiled(0, v), _compiled(1, v)
    assert np.isnan(sigmoid[0]) and np.isnan(tanh[0])
    np.testing.assert_array_equal(tanh[1:], [1, -1, 0, 0, 1, -1])
    assert not np.signbit(tanh[3]) and np.signbit(tanh[4])  # tanh(±0) = ±0
    np.testing.assert_array_equal(sigmoid[[1, 3, 4, 5]], [1, 0.5, 0.5, 1])
    # below −87 the polynomial's 2ⁿ stops at e^−87 (the module docstring): tiny either way
    assert 0 <= sigmoid[2] < 2e-38 and 0 <= sigmoid[6] < 2e-38


def test_float64_keeps_libm():
    v = np.random.default_rng(0).normal(0, 4, 1000)
    np.testing.assert_allclose(_compiled(0, v), 1 / (1 + np.exp(-v)), rtol=1e-15, atol=0)
    np.testing.assert_allclose(_compiled(1, v), np.tanh(v), rtol=2e-15, atol=0)


def test_plain_python_gives_the_compiled_numbers():
    """Under NUMBA_DISABLE_JIT the functions run as written, on NumPy float32 scalars: every
    step rounds to float32 as the compiled loop does (no fastmath, so no fused multiply-add),
    hence the same bits."""
    v = np.random.default_rng(1).normal(0, 5, 500).astype(np.float32)
    for which, function in ((0, numba_exp.sigmoid), (1, numba_exp.tanh)):
        python = np.array([function(x) for x in v])
        assert python.dtype == np.float32
        np.testing.assert_array_equal(python, _compiled(which, v))
