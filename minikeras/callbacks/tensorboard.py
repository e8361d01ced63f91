"""TensorBoard: write the logs of `fit` as event files that TensorBoard reads."""

import os
import warnings

import numpy as np

from minikeras.callbacks.callback import Callback, learning_rates
from minikeras.utils.event_file import EventFileWriter


class TensorBoard(Callback):
    """Writes each epoch's logs (and, when asked, each batch's) to `log_dir` for TensorBoard.

    As Keras 3 writes them (keras/src/callbacks/tensorboard.py), in two runs:

    - `log_dir/train`: `epoch_<name>` for every training log and the learning rate
      (`epoch_learning_rate`), at step = epoch; with `update_freq` "batch" or N, also
      `batch_<name>` at step = the number of batches trained so far (counted from 1).
    - `log_dir/validation`: `epoch_<name>` for every `val_` log (prefix removed), at step =
      epoch, and `evaluation_<name>_vs_iterations` at the end of each evaluation, at step =
      the optimizer's iterations.

    With `update_freq=N` a value is written only when the current batch count is a multiple of
    N, the epoch values included (Keras records everything under `tf.summary.record_if` of that
    count). `write_graph` writes the model's config (what TensorBoard's graph tab draws for a
    Keras model). `tensorboard` is not needed to write, only to look:
    `pip install 'minikeras[tensorboard]'`, then `tensorboard --logdir logs`.

    Args:
        log_dir: where the runs' directories go.
        histogram_freq: 0 only: weight histograms are not written by minikeras.
        write_graph: write the model's config, as Keras does for Sequential and Functional.
        update_freq: "epoch", "batch", or an integer N (every N batches).
    """

    def __init__(
        self,
        log_dir="logs",
        histogram_freq=0,
        write_graph=True,
        write_images=False,
        write_steps_per_second=False,
        update_freq="epoch",
        profile_batch=0,
        embeddings_freq=0,
        embeddings_metadata=None,
    ):
        super().__init__()
        unsupported = {
            "histogram_freq": histogram_freq,
            "write_images": write_images,
            "write_steps_per_second": write_steps_per_second,
            "profile_batch": profile_batch,
            "embeddings_freq": embeddings_freq,
        }
        for name, value in unsupported.items():
            if value:
                raise NotImplementedError(
                    f"TensorBoard({name}={value!r}) is not supported by minikeras, which writes "
                    "scalars and the model's config only; leave it at its default."
                )
        if update_freq != "epoch" and update_freq != "batch":
            if isinstance(update_freq, bool) or not isinstance(update_freq, int):
                raise ValueError(
                    "`update_freq` must be 'epoch', 'batch' or a positive integer. "
                    f"Received: update_freq={update_freq!r}"
                )
        self.log_dir = str(log_dir)
        self.histogram_freq = histogram_freq
        self.write_graph = write_graph
        self.update_freq = 1 if update_freq == "batch" else update_freq
        self._global_train_batch = 0
        self._global_test_batch = 0
        self._writers = {}
        # the batch counts values are recorded under, innermost last (Keras's record_if stack)
        self._record_steps = []

    def set_model(self, model):
        super().set_model(model)
        self._writers = {}
        if self.write_graph and type(model).__name__ in ("Sequential", "Functional"):
            # Keras's `keras_model_summary`: the model's JSON under the graph_keras_model plugin
            try:
                config = model.to_json()
            except Exception as error:  # a layer that cannot be serialized: as Keras, go on
                warnings.warn(
                    f"Model failed to serialize as JSON. Ignoring... {error}", stacklevel=2
                )
                return
            self._writer("train").text(
                "keras", config, step=0, plugin_name="graph_keras_model", content=b"1"
            )

    def _writer(self, run):
        if run not in self._writers:
            self._writers[run] = EventFileWriter(os.path.join(self.log_dir, run))
        return self._writers[run]

    def _recording(self):
        """Whether a value written now is kept: always per epoch; every N-th batch count."""
        if self.update_freq == "epoch" or not self._record_steps:
            return True
        return self._record_steps[-1] % self.update_freq == 0

    def _push(self, step):
        if self.update_freq != "epoch":
            self._record_steps.append(step)

    def _pop(self):
        if self.update_freq != "epoch" and self._record_steps:
            self._record_steps.pop()

    def _scalars(self, run, prefix, logs, step, suffix=""):
        if not self._recording():
            return
        writer = self._writer(run)
        for name, value in logs.items():
            if np.ndim(value) != 0:  # a metric with several numbers is no scalar: left out
                continue
            writer.scalar(f"{prefix}{name}{suffix}", value, step)
        writer.flush()

    def on_train_begin(self, logs=None):
        self._global_train_batch = 0
        self._push(self._global_train_batch)

    def on_train_end(self, logs=None):
        self._pop()
        for writer in self._writers.values():
            writer.close()
        self._writers = {}

    def on_train_batch_begin(self, batch, logs=None):
        self._global_train_batch += 1
        self._pop()
        self._push(self._global_train_batch)

    def on_train_batch_end(self, batch, logs=None):
        if self.update_freq != "epoch" and logs:
            self._scalars("train", "batch_", logs, self._global_train_batch)

    def on_test_begin(self, logs=None):
        self._push(self._global_test_batch)

    def on_test_batch_begin(self, batch, logs=None):
        self._global_test_batch += 1
        self._pop()
        self._push(self._global_test_batch)

    def on_test_end(self, logs=None):
        if getattr(self.model, "optimizer", None) is not None and logs:
            step = self.model.optimizer.iterations
            self._scalars("validation", "evaluation_", logs, step, suffix="_vs_iterations")
        self._pop()

    def _collect_learning_rate(self, logs):
        """`logs` with the learning rate(s) added (a LossScaleOptimizer's inner optimizer's; a
        MultiOptimizer's sub-optimizers' as `learning_rate_<name>`), as Keras's TensorBoard."""
        optimizer = getattr(self.model, "optimizer", None)
        optimizer = getattr(optimizer, "inner_optimizer", optimizer)
        if optimizer is not None:
            logs.update(learning_rates(optimizer))
        return logs

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        train = {k: v for k, v in logs.items() if not k.startswith("val_")}
        val = {k[4:]: v for k, v in logs.items() if k.startswith("val_")}
        if not logs:
            return
        train = self._collect_learning_rate(train)
        if train:
            self._scalars("train", "epoch_", train, epoch)
        if val:
            self._scalars("validation", "epoch_", val, epoch)
