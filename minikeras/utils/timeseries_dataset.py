"""`timeseries_dataset_from_array`: sliding windows over a series, batched, as Keras's
`keras.utils.timeseries_dataset_from_array`.

Window `i` starts at `start_index + i * sequence_stride` and takes `sequence_length` steps,
`sampling_rate` apart; its target is `targets[start_index + i * sequence_stride]` (the target
of the window's first step, so a forecast of `k` steps ahead passes `targets=data[k:]`).

>>> import numpy as np
>>> from minikeras.utils import timeseries_dataset_from_array
>>> data = np.arange(10)
>>> windows = timeseries_dataset_from_array(data, data[3:], sequence_length=3, batch_size=4)
>>> x, y = windows[0]
>>> x.tolist(), y.tolist()
([[0, 1, 2], [1, 2, 3], [2, 3, 4], [3, 4, 5]], [3, 4, 5, 6])
>>> len(windows)
2
"""

import numpy as np

from minikeras.utils.py_dataset import PyDataset


def timeseries_dataset_from_array(
    data,
    targets,
    sequence_length,
    sequence_stride=1,
    sampling_rate=1,
    batch_size=128,
    shuffle=False,
    seed=None,
    start_index=None,
    end_index=None,
    format="tf",
):
    """A `PyDataset` of windows over `data` (and their targets), in batches of `batch_size`.

    Keras returns a `tf.data.Dataset` (or a grain dataset); minikeras returns a `PyDataset`
    that `fit`, `evaluate`, `predict` and a `for` loop read the same way, yielding NumPy
    arrays. `format` is checked as Keras checks it and otherwise ignored. With `shuffle`, the
    windows' order is drawn once from `seed` (Keras's tf.data path also shuffles again inside
    a buffer each epoch, an order no other library reproduces). With `batch_size=None` each
    item is one window.
    """
    _check_arguments(len(data), start_index, end_index, sampling_rate, sequence_stride, format)
    return TimeseriesDataset(
        data,
        targets,
        sequence_length,
        sequence_stride,
        sampling_rate,
        batch_size,
        shuffle,
        seed,
        start_index or 0,
        len(data) if end_index is None else end_index,
    )


def _check_arguments(length, start_index, end_index, sampling_rate, sequence_stride, format):
    """Keras's checks, with its messages, in its order."""
    if start_index:
        if start_index < 0:
            raise ValueError(
                f"`start_index` must be 0 or greater. Received: start_index={start_index}"
            )
        if start_index >= length:
            raise ValueError(
                "`start_index` must be lower than the length of the data. Received: "
                f"start_index={start_index}, for data of length {length}"
            )
    if end_index:
        if start_index and end_index <= start_index:
            raise ValueError(
                "`end_index` must be higher than `start_index`. Received: "
                f"start_index={start_index}, and end_index={end_index} "
            )
        if end_index >= length:
            raise ValueError(
                "`end_index` must be lower than the length of the data. Received: "
                f"end_index={end_index}, for data of length {length}"
            )
        if end_index <= 0:
            raise ValueError(f"`end_index` must be higher than 0. Received: end_index={end_index}")
    if sampling_rate <= 0:
        raise ValueError(
            f"`sampling_rate` must be higher than 0. Received: sampling_rate={sampling_rate}"
        )
    if sampling_rate >= length:
        raise ValueError(
            "`sampling_rate` must be lower than the length of the data. Received: "
            f"sampling_rate={sampling_rate}, for data of length {length}"
        )
    if sequence_stride <= 0:
        raise ValueError(
            f"`sequence_stride` must be higher than 0. Received: sequence_stride={sequence_stride}"
        )
    if sequence_stride >= length:
        raise ValueError(
            "`sequence_stride` must be lower than the length of the data. Received: "
            f"sequence_stride={sequence_stride}, for data of length {length}"
        )
    if format not in ("tf", "grain"):
        raise ValueError(f'`format` should be either "tf" or "grain". Received: format={format}')


class TimeseriesDataset(PyDataset):
    """The windows of `timeseries_dataset_from_array`, cut from the arrays batch by batch (a
    batch of windows is one fancy-indexing gather, so no window is stored twice)."""

    def __init__(
        self,
        data,
        targets,
        sequence_length,
        sequence_stride,
        sampling_rate,
        batch_size,
        shuffle,
        seed,
        start_index,
        end_index,
    ):
        super().__init__()
        self.data = np.asarray(data)[start_index:end_index]
        self.targets = None if targets is None else np.asarray(targets)[start_index:]
        windows = end_index - start_index - (sequence_length - 1) * sampling_rate
        if targets is not None:
            windows = min(windows, len(targets))
        self.starts = np.arange(0, max(windows, 0), sequence_stride)
        if shuffle:
            if seed is None:
                seed = np.random.randint(1e6)
            np.random.RandomState(seed).shuffle(self.starts)
        self.steps = np.arange(sequence_length) * sampling_rate
        self.batch_size = batch_size

    def __len__(self):
        if self.batch_size is None:
            return len(self.starts)
        return -(-len(self.starts) // self.batch_size)

    def __getitem__(self, index):
        if not 0 <= index < len(self):
            raise IndexError(f"Batch index {index} is out of range for {len(self)} batches.")
        if self.batch_size is None:
            starts = self.starts[index]
        else:
            starts = self.starts[index * self.batch_size : (index + 1) * self.batch_size]
        windows = self.data[np.add.outer(starts, self.steps)]
        if self.targets is None:
            return windows
        return windows, self.targets[starts]
