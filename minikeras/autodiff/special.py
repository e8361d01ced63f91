"""Small numeric helpers shared by the ops and their VJPs (plain NumPy in, plain NumPy out)."""

import math
import string

import numpy as np

# TensorFlow's gelu makes its constants float32 tensors before casting them to x's dtype: in
# float64 too, 0.044715 and 1/√2 are the float32 numbers nearest them (matched to 1e-16)
GELU_CUBIC = float(np.float32(0.044715))
GELU_SQRT_HALF = float(np.float32(1 / math.sqrt(2)))

_erf = np.vectorize(math.erf, otypes=[np.float64])
_erfc = np.vectorize(math.erfc, otypes=[np.float64])


def erf(x):
    """erf(x) = 2/√π ∫₀ˣ e^(−t²) dt, elementwise, in x's float dtype."""
    x = np.asarray(x)
    return _erf(x).astype(x.dtype, copy=False) if x.size else np.zeros_like(x)


def erfc(x):
    """erfc(x) = 1 − erf(x), accurate where erf(x) is close to 1."""
    x = np.asarray(x)
    return _erfc(x).astype(x.dtype, copy=False) if x.size else np.zeros_like(x)


def erfinv(x):
    """The y with erf(y) = x, for x in [−1, 1] (±inf at ±1, NaN outside), in x's float dtype.

    A first guess from Giles's polynomials (2010, about 7 correct digits), then Newton steps
    on erf(y) = |x|; in the tails (|x| > 0.5) on log erfc(y) = log(1 − |x|) instead, where
    1 − |x| is exact and the logarithm keeps Newton's steps full-sized. Each step doubles the
    correct digits, to float64's last ones.
    """
    x = np.asarray(x)
    a = np.abs(x.astype(np.float64))
    with np.errstate(all="ignore"):
        w = -np.log((1 - a) * (1 + a))
        central, tail = w - 2.5, np.sqrt(w) - 3
        p_central = np.polyval(_GILES_CENTRAL, central)
        p_tail = np.polyval(_GILES_TAIL, tail)
        y = np.where(w < 5, p_central, p_tail) * a
        slope = 2 / math.sqrt(math.pi)
        for _ in range(4):
            rest = _erfc(y)
            central_step = (_erf(y) - a) / (slope * np.exp(-y * y))
            tail_step = (np.log(1 - a) - np.log(rest)) * rest / (slope * np.exp(-y * y))
            y = y - np.where(a <= 0.5, central_step, tail_step)
        y = np.where(a == 1, np.inf, np.where(a > 1, np.nan, y))
    return (np.sign(x) * y).astype(x.dtype if x.dtype.kind == "f" else np.float64)


# Giles's polynomial coefficients for erfinv's first guess, highest power first
_GILES_CENTRAL = [
    2.81022636e-08, 3.43273939e-07, -3.5233877e-06, -4.39150654e-06, 0.00021858087,
    -0.00125372503, -0.00417768164, 0.246640727, 1.50140941,
]  # fmt: skip
_GILES_TAIL = [
    -0.000200214257, 0.000100950558, 0.00134934322, -0.00367342844, 0.00573950773,
    -0.0076224613, 0.00943887047, 1.00167406, 2.83297682,
]  # fmt: skip


def sigmoid(x):
    """1 / (1 + e^(−x)), written so that e^(...) never overflows."""
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(np.asarray(x).dtype, copy=False)


def logsumexp(x, axis=None, keepdims=False):
    """log Σ e^x, with the maximum taken out first (same value, no overflow)."""
    top = np.max(x, axis=axis, keepdims=True)
    top = np.where(np.isfinite(top), top, 0)
    out = np.log(np.sum(np.exp(x - top), axis=axis, keepdims=True)) + top
    return out if keepdims else np.squeeze(out, axis=axis)


def einsum_explicit(subscripts, shapes):
    """Einstein subscripts with `...` spelled out and the output written: "ij,jk" → (["ij", "jk"],
    "ik"). Implicit outputs are the indices used once, sorted, as NumPy's rule."""
    subscripts = subscripts.replace(" ", "")
    left, arrow, output = subscripts.partition("->")
    inputs = left.split(",")
    free = [c for c in string.ascii_letters if c not in subscripts]
    n_ellipsis = max(
        (len(shape) - len(spec.replace("...", "")) for spec, shape in zip(inputs, shapes)),
        default=0,
    )
    n_ellipsis = max(n_ellipsis, 0)
    batch = "".join(free[:n_ellipsis])
    spelled = []
    for spec, shape in zip(inputs, shapes):
        n = len(shape) - len(spec.replace("...", ""))
        spelled.append(spec.replace("...", batch[n_ellipsis - n :] if n else ""))
    if arrow:
        output = output.replace("...", batch)
    else:
        letters = "".join(spelled)
        output = batch + "".join(
            sorted(c for c in set(letters) if letters.count(c) == 1 and c not in batch)
        )
    return spelled, output
