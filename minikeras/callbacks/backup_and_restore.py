"""BackupAndRestore: resume an interrupted fit from its last completed epoch."""

import json
import os
import shutil

from minikeras.callbacks.callback import Callback


class BackupAndRestore(Callback):
    """Back up the training state at the end of every epoch (or every `save_freq` batches), so
    that a `fit` interrupted by an error or a kill resumes from the last backup when run again,
    as Keras 3's BackupAndRestore (keras/src/callbacks/backup_and_restore.py).

    In `backup_dir`: `latest.weights.h5` (weights and optimizer state, Keras's weights format)
    and `training_metadata.json` ({"epoch": epochs done, "batch": ...}). At the next `fit`'s
    start they are loaded and `fit` goes on from that epoch (`model._initial_epoch`). After a
    `fit` that completes, the directory is deleted (unless `delete_checkpoint=False`).

    Args:
        backup_dir: a directory used by this callback only.
        save_freq: "epoch" or a number of batches.
        double_checkpoint: also keep the previous backup (`*.bkp`), used if the latest one
            cannot be read.
        delete_checkpoint: delete `backup_dir` when training completes.

    >>> import tempfile
    >>> BackupAndRestore(backup_dir=tempfile.mkdtemp()).save_freq
    'epoch'
    """

    def __init__(
        self, backup_dir, save_freq="epoch", double_checkpoint=False, delete_checkpoint=True
    ):
        super().__init__()
        if not backup_dir:
            raise ValueError("Empty `backup_dir` argument passed")
        if save_freq != "epoch" and not isinstance(save_freq, int):
            raise ValueError(
                f"Invalid value for argument `save_freq`. Received: save_freq={save_freq}. "
                "Expected either 'epoch' or an integer value."
            )
        self.backup_dir = os.fspath(backup_dir)
        self.save_freq = save_freq
        self.double_checkpoint = double_checkpoint
        self.delete_checkpoint = delete_checkpoint
        self._batches_seen_since_last_saving = 0
        self._last_batch_seen = 0
        self._current_epoch = 0
        self._weights_path = os.path.join(self.backup_dir, "latest.weights.h5")
        self._training_metadata_path = os.path.join(self.backup_dir, "training_metadata.json")
        self._prev_weights_path = f"{self._weights_path}.bkp"
        self._prev_training_metadata_path = f"{self._training_metadata_path}.bkp"

    def on_train_begin(self, logs=None):

        from minikeras.saving import BadFileError

        try:
            self._load_model()
        except (OSError, BadFileError):
            # the latest backup cannot be read: fall back on the previous one, if kept
            if not os.path.exists(self._prev_weights_path):
                raise
            shutil.copyfile(self._prev_weights_path, self._weights_path)
            if os.path.exists(self._prev_training_metadata_path):
                shutil.copyfile(self._prev_training_metadata_path, self._training_metadata_path)
            elif os.path.exists(self._training_metadata_path):
                os.remove(self._training_metadata_path)
            self._load_model()

    def _load_model(self):
        if not self.model.built:
            raise ValueError(
                "To use the BackupAndRestore callback, you model must be built before you call "
                f"`fit()`. Model {self.model} is unbuilt. You can build it beforehand by calling "
                "it on a batch of data."
            )
        if os.path.exists(self._weights_path):
            optimizer = getattr(self.model, "optimizer", None)
            if optimizer is not None and not optimizer.built:
                optimizer.build(self.model.trainable_weights)  # slots to load into
            self.model.load_weights(self._weights_path)
        if os.path.exists(self._training_metadata_path):
            with open(self._training_metadata_path) as f:
                self.model._initial_epoch = json.loads(f.read())["epoch"]

    def on_epoch_end(self, epoch, logs=None):
        self._current_epoch = epoch + 1
        self._last_batch_seen = 0
        if self.save_freq == "epoch":
            self._save_model()

    def on_train_batch_end(self, batch, logs=None):
        if self._should_save_on_batch(batch):
            self._save_model()

    def _should_save_on_batch(self, batch):
        if self.save_freq == "epoch":
            return False
        if batch <= self._last_batch_seen:  # a new epoch began
            add_batches = batch + 1
        else:
            add_batches = batch - self._last_batch_seen
        self._batches_seen_since_last_saving += add_batches
        self._last_batch_seen = batch
        if self._batches_seen_since_last_saving >= self.save_freq:
            self._batches_seen_since_last_saving = 0
            return True
        return False

    def _save_model(self):
        """Weights first, then the epoch count: a kill between the two leaves the count one
        behind (an epoch trained twice), never ahead (an epoch skipped). Both writes atomic."""

        from minikeras.saving import atomic_write

        os.makedirs(self.backup_dir, exist_ok=True)
        if self.double_checkpoint and os.path.exists(self._weights_path):
            shutil.copyfile(self._weights_path, self._prev_weights_path)
        if self.double_checkpoint and os.path.exists(self._training_metadata_path):
            shutil.copyfile(self._training_metadata_path, self._prev_training_metadata_path)
        self.model.save_weights(self._weights_path, overwrite=True)
        metadata = {"epoch": self._current_epoch, "batch": self._last_batch_seen}
        with atomic_write(self._training_metadata_path) as tmp:
            with open(tmp, "w") as f:
                f.write(json.dumps(metadata))

    def on_train_end(self, logs=None):
        if self.delete_checkpoint and os.path.exists(self.backup_dir):
            shutil.rmtree(self.backup_dir)
