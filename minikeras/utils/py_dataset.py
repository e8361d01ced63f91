"""PyDataset: a dataset written in Python, one batch per index (Keras's `keras.utils.PyDataset`)."""

import itertools
import warnings


class PyDataset:
    """Base class of datasets that hand out whole batches by index.

    Write `__len__` (the number of batches) and `__getitem__(index)` (batch `index`: `(x,)`,
    `(x, y)` or `(x, y, sample_weight)`); optionally `on_epoch_begin`/`on_epoch_end`, which
    `fit` calls around each epoch. `fit`, `evaluate` and `predict` read the batches in index
    order (shuffled by `fit` unless `shuffle=False`). With `workers > 1` the next batches are
    read ahead by that many threads (processes with `use_multiprocessing=True`) while the model
    trains, up to `max_queue_size` of them, and still handed out in order. Reading the dataset
    yourself (`for batch in dataset`) uses no workers.

    Args:
        workers: how many threads (or processes) read batches ahead; 1 reads them in turn.
        use_multiprocessing: read in processes (the dataset must pickle) instead of threads.
        max_queue_size: how many batches may be read ahead.

    >>> import numpy as np
    >>> class Squares(PyDataset):
    ...     def __init__(self, n, batch_size, **kwargs):
    ...         super().__init__(**kwargs)
    ...         self.x = np.arange(n, dtype="float32").reshape(n, 1)
    ...         self.batch_size = batch_size
    ...     def __len__(self):
    ...         return -(-len(self.x) // self.batch_size)
    ...     def __getitem__(self, index):
    ...         x = self.x[index * self.batch_size : (index + 1) * self.batch_size]
    ...         return x, x**2
    >>> data = Squares(5, batch_size=2)
    >>> len(data), [len(x) for x, y in data]
    (3, [2, 2, 1])
    """

    def __init__(self, workers=1, use_multiprocessing=False, max_queue_size=10):
        self._workers = workers
        self._use_multiprocessing = use_multiprocessing
        self._max_queue_size = max_queue_size

    def _warn_if_super_not_called(self):
        """A subclass whose __init__ forgot `super().__init__(**kwargs)` gets the defaults and
        Keras's warning."""
        defaults = {"_workers": 1, "_use_multiprocessing": False, "_max_queue_size": 10}
        missing = [name for name in defaults if not hasattr(self, name)]
        for name in missing:
            setattr(self, name, defaults[name])
        if missing:
            warnings.warn(
                "Your `PyDataset` class should call `super().__init__(**kwargs)` in its "
                "constructor. `**kwargs` can include `workers`, `use_multiprocessing`, "
                "`max_queue_size`. Do not pass these arguments to `fit()`, as they will be "
                "ignored.",
                stacklevel=3,
            )

    @property
    def workers(self):
        self._warn_if_super_not_called()
        return self._workers

    @workers.setter
    def workers(self, value):
        self._workers = value

    @property
    def use_multiprocessing(self):
        self._warn_if_super_not_called()
        return self._use_multiprocessing

    @use_multiprocessing.setter
    def use_multiprocessing(self, value):
        self._use_multiprocessing = value

    @property
    def max_queue_size(self):
        self._warn_if_super_not_called()
        return self._max_queue_size

    @max_queue_size.setter
    def max_queue_size(self, value):
        self._max_queue_size = value

    def __getitem__(self, index):
        """Batch number `index`."""
        raise NotImplementedError

    @property
    def num_batches(self):
        """The number of batches (`len(self)`), or None for a dataset without end."""
        if hasattr(self, "__len__"):
            return len(self)
        raise NotImplementedError(
            "You need to implement the `num_batches` property:\n\n"
            "@property\ndef num_batches(self):\n  return ..."
        )

    def __iter__(self):
        try:
            count = self.num_batches
        except NotImplementedError:
            count = None
        indices = itertools.count() if count is None else range(count)
        for index in indices:
            yield self[index]

    def on_epoch_begin(self):
        """Called before each epoch of `fit` (and before `evaluate`/`predict` read it)."""

    def on_epoch_end(self):
        """Called after each epoch: a place to reshuffle the samples."""


Sequence = PyDataset  # Keras exports the class under its older name too
