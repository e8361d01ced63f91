"""Class ids to one-hot rows."""

import numpy as np


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
