"""Math ops (Keras's `keras.ops.math`): rsqrt, erf, erfc, logsumexp, top_k, the segment
reductions.

>>> import numpy as np
>>> from minikeras import ops
>>> values, indices = ops.top_k(np.array([1.0, 3.0, 2.0]), 2)
>>> values, indices
(array([3., 2.]), array([1, 2], dtype=int32))
"""

import numpy as np

from minikeras.autodiff import primitive, special, unwrap
from minikeras.ops.core import convert_to_tensor
from minikeras.ops.numpy import _float
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


@symbolic_op
def segment_sum(data, segment_ids, num_segments=None, sorted=False):
    """out[s] = Σ data[i] over the i with segment_ids[i] = s."""
    ids = np.asarray(unwrap(segment_ids)).astype(np.intp)
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
    if num_segments is None:
        num_segments = int(ids.max()) + 1 if ids.size else 0
    out = np.full((num_segments,) + data.shape[1:], empty(data.dtype), data.dtype)
    keep = (ids >= 0) & (ids < num_segments)  # ids out of range are dropped, as Keras
    reduce.at(out, ids[keep], data[keep])
    return out


def _lowest(dtype):
    return (np.iinfo if np.dtype(dtype).kind in "iu" else np.finfo)(dtype).min


def _highest(dtype):
    return (np.iinfo if np.dtype(dtype).kind in "iu" else np.finfo)(dtype).max


@symbolic_op
def segment_max(data, segment_ids, num_segments=None, sorted=False):
    """out[s] = max of data[i] over the i with segment_ids[i] = s (the lowest number for an
    empty segment, as TensorFlow). No gradient."""
    return _segment_reduce(np.maximum, _lowest, data, segment_ids, num_segments)


@symbolic_op
def segment_min(data, segment_ids, num_segments=None, sorted=False):
    """out[s] = min over segment s (the highest number for an empty one). No gradient."""
    return _segment_reduce(np.minimum, _highest, data, segment_ids, num_segments)


@symbolic_op
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
