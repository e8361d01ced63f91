"""EpochIterator: which batches each epoch of `fit` (or one `evaluate`/`predict`) takes.

Keras's rules (keras/src/trainers/epoch_iterator.py), which decide what a model trains on:

- Without `steps_per_epoch`, an epoch is one whole pass over the data (a generator: until it
  ends, which Keras reports with the "ran out of data" warning).
- With `steps_per_epoch`, an epoch is that many batches, and the next epoch goes on from where
  the last one stopped: a pass is not restarted at each epoch. When the pass ends first (its
  known number of batches is reached, or the generator stops), Keras warns that the input ran
  out, the epoch ends early, and the next epoch starts a new pass.
"""

import itertools
import warnings

RAN_OUT = (
    "Your input ran out of data; interrupting training. Make sure that your dataset or "
    "generator can generate at least `steps_per_epoch * epochs` batches. You may need to use "
    "the `.repeat()` function when building your dataset."
)


class EpochIterator:
    """The batches of each epoch from a data adapter (`trainers/data_adapters.py`), as
    `(step, batch)` pairs."""

    def __init__(self, adapter, steps_per_epoch=None):
        self.adapter = adapter
        self.steps_per_epoch = steps_per_epoch
        self._pass = None  # the pass in progress, kept across epochs with steps_per_epoch
        self._steps_seen = 0  # batches asked of the current pass
        self._num_batches = adapter.num_batches  # learnt at its end when the data does not say

    @property
    def num_batches(self):
        """Steps per epoch, as the progress bar and `History.params` show them (None: unknown)."""
        return self.steps_per_epoch or self._num_batches

    def reset(self):
        """Forget the pass in progress. Keras calls this before `fit` trains and before each
        `evaluate`, and it calls the dataset's `on_epoch_end` (so a PyDataset sees one more
        call than there are epochs, in both libraries)."""
        self._close_pass()
        self._num_batches = self.adapter.num_batches
        self._steps_seen = 0
        self.adapter.on_epoch_end()

    def enumerate_epoch(self):
        """(step, batch) for each batch of one epoch."""
        self.adapter.on_epoch_begin()
        steps = self.steps_per_epoch or self._num_batches
        if self._pass is None or self.steps_per_epoch is None:
            self._new_pass()
        for step in itertools.count() if steps is None else range(steps):
            if self._num_batches and self._steps_seen >= self._num_batches:
                if self.steps_per_epoch:
                    _ran_out_warning()
                self._close_pass()  # the next epoch starts a new pass
                break
            # counted before the batch is read, as Keras counts: a generator that stops at
            # its 6th request has 6 batches for the rest of the fit (5 read and 1 missing)
            self._steps_seen += 1
            try:
                batch = next(self._pass)
            except StopIteration:
                if self._num_batches is None:
                    self._num_batches = self._steps_seen
                _ran_out_warning()
                self._close_pass()
                break
            yield step, batch
        if self._num_batches and self._steps_seen >= self._num_batches:
            self._close_pass()  # a pass that ended with the epoch: the next starts anew
        self.adapter.on_epoch_end()

    def _new_pass(self):
        self._close_pass()
        self._pass = self.adapter.new_pass()
        self._steps_seen = 0

    def _close_pass(self):
        """End the pass in progress (a PyDataset's workers stop)."""
        if self._pass is not None:
            self._pass.close()
        self._pass = None

    def close(self):
        self._close_pass()


def _ran_out_warning():
    warnings.warn(RAN_OUT, stacklevel=4)
