"""CSVLogger: every epoch's logs as a row of a CSV file."""

import collections.abc
import csv
import os

import numpy as np

from minikeras.callbacks.callback import Callback


class CSVLogger(Callback):
    """Writes one CSV row per epoch: `epoch` then the logged values, in sorted key order.

    The columns are fixed at the first epoch. If it has no `val_` values, a `val_` column is
    still added for each key (left "NA"), as Keras does. Rows end in `\\r\\n` (the csv module's
    Excel dialect).

    Args:
        filename: the file to write, e.g. "training.log".
        separator: the column separator.
        append: add to an existing file (no second header) instead of overwriting it.

    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "log.csv")
    >>> logger = CSVLogger(path)
    >>> logger.on_train_begin()
    >>> logger.on_epoch_end(0, {"loss": 0.5, "accuracy": 0.75})
    >>> logger.on_train_end()
    >>> open(path, newline="").read()
    'epoch,accuracy,loss,val_accuracy,val_loss\\r\\n0,0.75,0.5,NA,NA\\r\\n'
    """

    def __init__(self, filename, separator=",", append=False):
        super().__init__()
        self.sep = separator
        self.filename = os.fspath(filename)
        self.append = append
        self.writer = None
        self.keys = None
        self.append_header = True
        self.csv_file = None

    def on_train_begin(self, logs=None):
        if self.append and os.path.exists(self.filename):
            with open(self.filename) as existing:
                self.append_header = not existing.readline()  # header only into an empty file
        if self.csv_file is not None and not self.csv_file.closed:
            self.csv_file.close()
        self.csv_file = open(self.filename, "a" if self.append else "w", newline="")
        self.writer = None
        self.keys = None

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self.keys is None:
            self.keys = sorted(logs)
            if self.keys and not any(key.startswith("val_") for key in self.keys):
                self.keys += [f"val_{key}" for key in self.keys]
        if self.writer is None:
            self.writer = csv.writer(self.csv_file, delimiter=self.sep)
            if self.append_header:
                self.writer.writerow(["epoch", *self.keys])
        self.writer.writerow([epoch, *(_csv_cell(logs.get(key, "NA")) for key in self.keys)])
        self.csv_file.flush()

    def on_train_end(self, logs=None):
        if self.csv_file is not None and not self.csv_file.closed:
            self.csv_file.close()
        self.writer = None


def _csv_cell(value):
    """A list or array becomes the text "[a, b]" (quoted); anything else is written as it is."""
    is_sequence = isinstance(value, collections.abc.Iterable) and not isinstance(value, str)
    if is_sequence and not (isinstance(value, np.ndarray) and value.ndim == 0):
        return f'"[{", ".join(map(str, value))}]"'
    return value
