"""Math ops (Keras's `keras.ops.math`): rsqrt, erf, erfc, erfinv, logsumexp, top_k, in_top_k,
the segment reductions, cdist, extract_sequences, logdet, the complex views; the Fourier
transforms (fft, rfft, stft, ...) are in spectral.py.

>>> import numpy as np
>>> from minikeras import ops
>>> values, indices = ops.top_k(np.array([1.0, 3.0, 2.0]), 2)
>>> values, indices
(array([3., 2.]), array([1, 2], dtype=int32))
"""

import numpy as np

from minikeras.autodiff import primitive, special, unwrap
from minikeras.ops import dtypes, shapes
from minikeras.ops.core import cast, convert_to_tensor
from minikeras.ops.linalg import slogdet
from minikeras.ops.numpy import _float, expand_dims, sqrt, square, subtract, take
from minikeras.ops.numpy import sum as _sum
from minikeras.ops.numpy_elementwise import ldexp  # noqa: F401 (Keras's numpy op)
from minikeras.ops.op_class import op_class
from minikeras.ops.spectral import fft, fft2, ifft2, irfft, istft, rfft, stft  # noqa: F401
from minikeras.ops.symbolic import symbolic_op


@symbolic_op
def rsqrt(x):
    """1 / √x."""
    return primitive("rsqrt", _rsqrt, _float(x))


def _rsqrt(x):
    return 1 / np.sqrt(x)


@symbolic_op
def erf(x):
    """The error function, 2/√π ∫₀ˣ e^(−t²) dt."""
    return primitive("erf", special.erf, _float(x))


@symbolic_op
def logsumexp(x, axis=None, keepdims=False):
    """ln Σ eˣ along `axis`, without overflow."""
    axis = tuple(axis) if isinstance(axis, list) else axis
    return primitive("logsumexp", special.logsumexp, _float(x), axis=axis, keepdims=keepdims)


@symbolic_op
def top_k(x, k, sorted=True):
    """The k largest entries along the last axis and their indices (int32), largest first."""
    return primitive("top_k", _top_k, convert_to_tensor(x), k=k, sorted=sorted)


def _top_k(x, k=1, sorted=True):
    # a stable sort of −x: ties keep their order, the lower index first (as TensorFlow)
    indices = np.argsort(-x, axis=-1, kind="stable")[..., :k].astype(np.int32)
    return np.take_along_axis(x, indices, axis=-1), indices


@symbolic_op(shape=shapes.segments)
def segment_sum(data, segment_ids, num_segments=None, sorted=False):
    """out[s] = Σ data[i] over the i with segment_ids[i] = s."""
    ids = np.asarray(unwrap(segment_ids)).astype(np.intp)
    _check_segments(data, ids)
    if num_segments is None:
        num_segments = int(ids.max()) + 1 if ids.size else 0
    return primitive(
        "segment_sum", _segment_sum, convert_to_tensor(data), ids, num_segments=num_segments
    )


def _segment_sum(data, ids, num_segments=None):
    out = np.zeros((num_segments,) + data.shape[1:], data.dtype)
    keep = (ids >= 0) & (ids < num_segments)  # ids out of range are dropped, as Keras
    np.add.at(out, ids[keep], data[keep])
    return out


def _segment_reduce(reduce, empty, data, segment_ids, num_segments):
    """out[s] = reduce of data[i] over the i with segment_ids[i] = s; `empty` where none is."""
    data = np.asarray(unwrap(convert_to_tensor(data)))
    ids = np.asarray(unwrap(segment_ids)).astype(np.intp)
    _check_segments(data, ids)
    if num_segments is None:
        num_segments = int(ids.max()) + 1 if ids.size else 0
    out = np.full((num_segments,) + data.shape[1:], empty(data.dtype), data.dtype)
    keep = (ids >= 0) & (ids < num_segments)  # ids out of range are dropped, as Keras
    reduce.at(out, ids[keep], data[keep])
    return out


def _check_segments(data, ids):
    """Keras's checks: one segment id per entry of data's first axis."""
    if ids.ndim > 1:
        raise ValueError(
            f"Argument `segment_ids` should be an 1-D vector, got shape: {ids.ndim}. Consider "
            "either flatten input with segment_ids.reshape((-1)) and "
            "data.reshape((-1, ) + data.shape[len(segment_ids.shape):]) or vectorize with vmap."
        )
    if np.shape(data)[:1] != ids.shape[:1]:
        raise ValueError(
            "Argument `segment_ids` and `data` should have same leading dimension. "
            f"Got {ids.shape} v.s. {np.shape(data)}."
        )


# An empty segment's maximum is the lowest finite number (its minimum the highest), as
# TensorFlow's. (Keras's NumPy backend gives ∓inf, and Keras's test expects that from any
# backend but TensorFlow's: minikeras keeps TensorFlow's numbers, which its parity tests check.)
def _lowest(dtype):
    return (np.iinfo if np.dtype(dtype).kind in "iu" else np.finfo)(dtype).min


def _highest(dtype):
    return (np.iinfo if np.dtype(dtype).kind in "iu" else np.finfo)(dtype).max


@symbolic_op(shape=shapes.segments)
def segment_max(data, segment_ids, num_segments=None, sorted=False):
    """out[s] = max of data[i] over the i with segment_ids[i] = s (the lowest number for an
    empty segment, as TensorFlow). No gradient."""
    return _segment_reduce(np.maximum, _lowest, data, segment_ids, num_segments)


@symbolic_op(shape=shapes.segments)
def segment_min(data, segment_ids, num_segments=None, sorted=False):
    """out[s] = min over segment s (the highest number for an empty one). No gradient."""
    return _segment_reduce(np.minimum, _highest, data, segment_ids, num_segments)


@symbolic_op(shape=shapes.segments)
def segment_prod(data, segment_ids, num_segments=None, sorted=False):
    """out[s] = Π over segment s (1 for an empty one). No gradient."""
    return _segment_reduce(np.multiply, lambda dtype: 1, data, segment_ids, num_segments)


@symbolic_op
def erfc(x):
    """The complementary error function, 1 − erf x."""
    return primitive("erfc", special.erfc, _float(x))


@symbolic_op
def in_top_k(targets, predictions, k):
    """True where the target's score is among the k highest of its row. As TensorFlow's
    `in_top_k` (not Keras's NumPy backend, which compares with the k-th value): a tie at the
    boundary counts as in (fewer than k scores strictly above), and a row with a non-finite
    score, or a target out of range, is never in."""
    predictions = np.asarray(unwrap(convert_to_tensor(predictions)))
    targets = np.asarray(unwrap(targets)).astype(np.int64)
    valid = (targets >= 0) & (targets < predictions.shape[-1])
    target_scores = np.take_along_axis(predictions, np.where(valid, targets, 0)[:, None], -1)
    above = np.sum(predictions > target_scores, axis=-1)
    return (above < k) & valid & np.all(np.isfinite(predictions), axis=-1)


@symbolic_op
def erfinv(x):
    """The inverse of erf on (−1, 1): erfinv(erf(y)) = y; ±inf at ±1."""
    return primitive("erfinv", _erfinv, _float(x))


def _erfinv(x):
    return np.asarray(special.erfinv(x)).astype(x.dtype)  # (bfloat16 is computed in float64)


@symbolic_op
def cdist(x, y):
    """out[..., i, j] = ‖x[..., i, :] − y[..., j, :]‖₂, the pairwise Euclidean distances.
    Made of ops, so its gradient is theirs (and, as TensorFlow's, not finite where a distance
    is 0)."""
    x, y = convert_to_tensor(x), convert_to_tensor(y)
    if len(x.shape) < 2 or len(y.shape) < 2:
        raise ValueError(
            "Inputs to `cdist` must have rank >= 2. "
            f"Received shapes: x.shape={x.shape}, y.shape={y.shape}"
        )
    if x.shape[-1] != y.shape[-1]:
        raise ValueError(
            "The last dimension of inputs to `cdist` must match. "
            f"Received shapes: x.shape={x.shape}, y.shape={y.shape}"
        )
    dtype = dtypes.result_type(x.dtype, y.dtype, float)
    x, y = cast(x, dtype), cast(y, dtype)
    diff = subtract(expand_dims(x, -2), expand_dims(y, -3))  # (..., m, 1, d) − (..., 1, n, d)
    return sqrt(_sum(square(diff), axis=-1))


@symbolic_op
def extract_sequences(x, sequence_length, sequence_stride):
    """Frames of `sequence_length` along the last axis, one every `sequence_stride`:
    (..., n) → (..., 1 + (n − sequence_length) // sequence_stride, sequence_length)."""
    x = convert_to_tensor(x)
    if len(x.shape) < 1:
        raise ValueError(f"Input should have rank >= 1. Received: input.shape = {x.shape}")
    count = max(0, 1 + (x.shape[-1] - sequence_length) // sequence_stride)
    frames = np.arange(count)[:, None] * sequence_stride + np.arange(sequence_length)[None, :]
    return take(x, frames, axis=-1)  # a gather: its gradient adds back where samples repeat


@symbolic_op
def logdet(x):
    """log det x of (a stack of) positive-definite matrices, as log |det x| from slogdet."""
    return slogdet(x)[1]


@symbolic_op
def view_as_complex(x):
    """(..., 2) real pairs as complex64 numbers (..., ). Not differentiable (complex)."""
    x = np.asarray(unwrap(convert_to_tensor(x)))
    if x.ndim < 1 or x.shape[-1] != 2:
        raise ValueError(
            "Last dimension of input must be size 2 (real and imaginary). "
            f"Received shape: {x.shape}"
        )
    return x[..., 0].astype(np.complex64) + 1j * x[..., 1].astype(np.complex64)


@symbolic_op
def view_as_real(x):
    """Complex numbers (..., ) as (..., 2) pairs (real part, imaginary part)."""
    x = np.asarray(unwrap(convert_to_tensor(x)))
    return np.stack([np.real(x), np.imag(x)], axis=-1)


# Keras's op classes (math_test builds them): each an op's options, called with its tensors
Rsqrt = op_class(rsqrt, "Rsqrt")
Erf = op_class(erf, "Erf")
Erfc = op_class(erfc, "Erfc")
Erfinv = op_class(erfinv, "Erfinv")
Logsumexp = op_class(logsumexp, "Logsumexp")
TopK = op_class(top_k, "TopK")
InTopK = op_class(in_top_k, "InTopK")
SegmentSum = op_class(segment_sum, "SegmentSum")
SegmentMax = op_class(segment_max, "SegmentMax")
SegmentMin = op_class(segment_min, "SegmentMin")
SegmentProd = op_class(segment_prod, "SegmentProd")
CDist = op_class(cdist, "CDist")
ExtractSequences = op_class(extract_sequences, "ExtractSequences")
Logdet = op_class(logdet, "Logdet")
FFT = op_class(fft, "FFT")
FFT2 = op_class(fft2, "FFT2")
IFFT2 = op_class(ifft2, "IFFT2")
RFFT = op_class(rfft, "RFFT")
IRFFT = op_class(irfft, "IRFFT")
STFT = op_class(stft, "STFT")
ISTFT = op_class(istft, "ISTFT")
ViewAsComplex = op_class(view_as_complex, "ViewAsComplex")
ViewAsReal = op_class(view_as_real, "ViewAsReal")
