"""Keras's small helpers around batches and arrays: how a batch is packed as `(x, y,
sample_weight)` and how rows are scaled to unit norm."""

import numpy as np


def pack_x_y_sample_weight(x, y=None, sample_weight=None):
    """The batch a `train_step` receives: `(x,)` (a lone tuple or list of inputs stays one
    element), `(x, y)` or `(x, y, sample_weight)`."""
    if y is None:
        # a tuple x alone would be read as (x, y, ...): keep it whole, as Keras does
        return x if not isinstance(x, (tuple, list)) else (x,)
    if sample_weight is None:
        return (x, y)
    return (x, y, sample_weight)


def normalize(x, axis=-1, order=2):
    """`x` divided by its `order`-norm along `axis`; a zero norm divides by 1 (the row stays
    zeros), as Keras's `keras.utils.normalize`. (Keras 3.15 puts the norms back on the last
    axis whatever `axis` is, so its `axis=0` divides by the wrong norms; this one does not.)"""
    x = np.asarray(x)
    norm = np.atleast_1d(np.linalg.norm(x, order, axis))
    norm[norm == 0] = 1
    return x / np.expand_dims(norm, axis)
