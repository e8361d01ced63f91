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

from minikeras import config
from minikeras.trainers import data_adapters

RAN_OUT = (
    "Your input ran out of data; interrupting training. Make sure that your dataset or "
    "generator can generate at least `steps_per_epoch * epochs` batches. You may need to use "
    "the `.repeat()` function when building your dataset."
)


class EpochIterator:
    """The batches of each epoch, grouped by execution: Keras's `EpochIterator(x, y, ...)`.

    `x` is data as `fit` takes it (arrays with `y`, a generator, a PyDataset, a tf.data.Dataset,
    a torch DataLoader) or a data adapter a model has made. Iterating gives, for each
    execution, `(begin_step, end_step, batches)`: `steps_per_execution` batches (fewer when
    the data runs out), numbered from `begin_step` to `end_step` (= begin + steps_per_execution
    − 1 even for a short last group, as Keras numbers it). The callbacks of `fit` see one batch
    per execution, at these two step numbers.
    """

    def __init__(
        self,
        x,
        y=None,
        sample_weight=None,
        batch_size=None,
        steps_per_epoch=None,
        shuffle=False,
        class_weight=None,
        steps_per_execution=1,
    ):
        cap = config.max_steps_per_epoch()  # a debugging cap (minikeras.config), as Keras's
        if cap and (not steps_per_epoch or cap < steps_per_epoch):
            warnings.warn(f"Limiting steps_per_epoch to {cap}", stacklevel=3)
            steps_per_epoch = cap
        if isinstance(x, data_adapters.DataAdapter):  # a model's, its batches checked
            self.data_adapter = x
        else:
            self.data_adapter = data_adapters.get_data_adapter(
                x, y, sample_weight, batch_size, steps_per_epoch, shuffle, class_weight
            )
        self.steps_per_epoch = steps_per_epoch
        self.steps_per_execution = steps_per_execution
        self._pass = None  # the pass in progress, kept across epochs with steps_per_epoch
        self._steps_seen = 0  # batches asked of the current pass
        self._num_batches = self.data_adapter.num_batches  # learnt at its end if unknown

    @property
    def adapter(self):
        return self.data_adapter

    @property
    def num_batches(self):
        """Steps per epoch, as the progress bar and `History.params` show them (None: unknown)."""
        return self.steps_per_epoch or self._num_batches

    def reset(self):
        """Forget the pass in progress. Keras calls this before `fit` trains and before each
        `evaluate`, and it calls the dataset's `on_epoch_end` (so a PyDataset sees one more
        call than there are epochs, in both libraries)."""
        self._close_pass()
        self._num_batches = self.data_adapter.num_batches
        self._steps_seen = 0
        self.data_adapter.on_epoch_end()

    def __iter__(self):
        return self.enumerate_epoch()

    def enumerate_epoch(self):
        """(begin_step, end_step, batches) for each execution of one epoch.

        Counted as Keras counts (keras/src/trainers/epoch_iterator.py): executions start at
        steps 0, n, 2n, ... below `steps_per_epoch` (or the pass's batches), so an epoch may
        take more batches than `steps_per_epoch` when n does not divide it; the batches asked
        of a pass are counted before they are read, n at a time, so a generator that stops
        within its 3rd execution of 2 has 6 batches for the rest of the fit."""
        self.data_adapter.on_epoch_begin()
        n = self.steps_per_execution
        steps = self.steps_per_epoch or self._num_batches
        if self._pass is None or self.steps_per_epoch is None:
            self._new_pass()
        for begin in itertools.count(0, n) if steps is None else range(0, steps, n):
            if self._num_batches and self._steps_seen >= self._num_batches:
                if self.steps_per_epoch:
                    _ran_out_warning()
                self._close_pass()  # the next epoch starts a new pass
                break
            self._steps_seen += n
            batches = list(itertools.islice(self._pass, n))
            if len(batches) < n:  # the pass ended within this execution
                # Keras warns when a stream's end is found, and whenever an execution finds
                # no batch at all (a generator's later epochs, which replay only the batches
                # read ahead); a pass of known length whose last execution is short ends
                # quietly, as Keras's TensorFlow step function stops at the data's end
                if self._num_batches is None or not batches:
                    _ran_out_warning()
                if self._num_batches is None:
                    self._num_batches = self._steps_seen
                self._close_pass()
                if batches:
                    yield begin, begin + n - 1, batches
                break
            yield begin, begin + n - 1, batches
        if self._num_batches and self._steps_seen >= self._num_batches:
            self._close_pass()  # a pass that ended with the epoch: the next starts anew
        self.data_adapter.on_epoch_end()

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
