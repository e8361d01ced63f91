"""Class ids to one-hot rows; the label masks of pairwise losses; `normalize` (kept in
data_utils, found here too as in Keras)."""

import numpy as np

from minikeras.utils.data_utils import normalize  # noqa: F401 (Keras's place for it)


def to_categorical(x, num_classes=None):
    """One-hot encode integer class ids: shape (…, 1) or (…) → (…, num_classes), floats.

    A trailing axis of size 1 is dropped first, as Keras does, so labels of shape (1000, 1)
    become (1000, 10).

    >>> to_categorical([0, 2], num_classes=3)
    array([[1., 0., 0.],
           [0., 0., 1.]])
    """
    x = np.asarray(x)
    if x.dtype.kind == "f" and not np.all(np.isfinite(x) & (x == np.round(x))):
        raise ValueError(
            f"to_categorical expects integer class ids; received values like {x.ravel()[:5]}"
        )
    x = x.astype(np.int64)
    shape = x.shape
    if len(shape) > 1 and shape[-1] == 1:
        shape = shape[:-1]
    x = x.reshape(-1)
    if num_classes is None:
        num_classes = int(x.max()) + 1 if x.size else 0
    if x.size and (x.min() < 0 or x.max() >= num_classes):
        raise ValueError(
            f"to_categorical: class ids must lie in [0, {num_classes}); "
            f"received min {int(x.min())}, max {int(x.max())}."
        )
    one_hot = np.zeros((x.shape[0], num_classes))
    one_hot[np.arange(x.shape[0]), x] = 1
    return one_hot.reshape(shape + (num_classes,))


def one_hot_rows(indices, depth, dtype):
    """indices (…) → (…, depth): a 1 at each index; an index outside [0, depth) gives a row of
    zeros, as TensorFlow's one_hot (the lookup layers drop their mask tokens that way)."""
    indices = np.asarray(indices)
    inside = (indices >= 0) & (indices < depth)
    return (np.arange(depth) == np.where(inside, indices, -1)[..., None]).astype(dtype)


def encode_categorical_inputs(inputs, output_mode, depth, dtype, count_weights=None):
    """Integer ids → Keras's encodings, as `keras.src.utils.numerical_utils` encodes them:

    - "int": the ids, cast to `dtype`;
    - "one_hot": (…, 1) or (…) → (…, depth), one row per id;
    - "multi_hot": one row per sample, 1 where an id occurs: (batch, n) → (batch, depth);
    - "count": as multi_hot, the number of times it occurs (Σ of `count_weights` instead,
      when given).

    Both reduce axis 1 when there is more than one axis (a sample's ids), axis 0 otherwise,
    as Keras's backends do (for rank 3, (b, n, m) → (b, m, depth)).

    A 0-d input is one sample of one id.
    """
    inputs = np.asarray(inputs)
    if output_mode == "int":
        return inputs.astype(dtype)
    if inputs.ndim == 0:
        inputs = inputs[None]
    if output_mode == "one_hot":
        if inputs.ndim > 1 and inputs.shape[-1] == 1:
            inputs = inputs[..., 0]
        return one_hot_rows(inputs, depth, dtype)
    if output_mode == "multi_hot":
        return one_hot_rows(inputs, depth, dtype).max(axis=1 if inputs.ndim > 1 else 0, initial=0)
    if count_weights is not None:
        count_weights = np.asarray(count_weights)
        dtype = count_weights.dtype
    one_hot = one_hot_rows(inputs, depth, dtype)
    if count_weights is not None:
        one_hot = one_hot * count_weights[..., None]
    return one_hot.sum(axis=1 if inputs.ndim > 1 else 0).astype(dtype)


def build_pos_neg_masks(query_labels, key_labels, remove_diagonal=True):
    """(positive, negative) boolean masks of shape (queries, keys): positive where a query's
    label equals a key's, negative elsewhere; `remove_diagonal` takes each query's own
    position (i, i) out of the positives (a sample is not its own positive pair)."""
    query = np.asarray(query_labels).reshape(-1, 1)
    key = np.asarray(key_labels).reshape(1, -1)
    positive = query == key  # (queries, 1) == (1, keys)
    negative = ~positive
    if remove_diagonal:
        positive = positive & ~np.eye(query.shape[0], key.shape[1], dtype=bool)
    return positive, negative
