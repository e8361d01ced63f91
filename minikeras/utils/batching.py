"""Splitting data into a validation part, an order for each epoch, and batches."""

import math

import numpy as np


def train_validation_split(arrays, validation_split):
    """Split every array at the same place: the last `validation_split` fraction is validation.

    It happens before any shuffling, so validation samples are always the last ones, as in Keras.
    """
    n = len(arrays[0])
    split_at = int(math.floor(n * (1.0 - validation_split)))
    if split_at == 0 or split_at == n:
        raise ValueError(
            f"Training data contains {n} samples, which is not sufficient to split it into a "
            f"validation and training set as specified by `validation_split={validation_split}`. "
            "Either provide more data, or a different value for the `validation_split` argument."
        )
    train = [None if a is None else a[:split_at] for a in arrays]
    val = [None if a is None else a[split_at:] for a in arrays]
    return train, val


def num_batches(n, batch_size):
    """⌈n / batch_size⌉: the last batch keeps the remainder."""
    return (n + batch_size - 1) // batch_size


def epoch_order(n, shuffle, rng, batch_size=None):
    """The sample order of one epoch: a fresh permutation when shuffling, else 0..n−1.
    `shuffle="batch"` (Keras's, for data read in chunks): the batches keep their place and
    the samples are shuffled inside each one."""
    if shuffle == "batch":
        order = np.arange(n)
        for start, stop in batch_slices(n, batch_size):
            order[start:stop] = start + rng.permutation(stop - start)
        return order
    return rng.permutation(n) if shuffle else np.arange(n)


def batch_slices(n, batch_size, first=0):
    """(start, stop) of each batch from batch number `first` on, the last one possibly
    shorter."""
    for start in range(first * batch_size, n, batch_size):
        yield start, min(start + batch_size, n)
