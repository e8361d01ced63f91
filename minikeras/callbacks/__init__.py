"""Callbacks: code that `fit`, `evaluate` and `predict` call at fixed points of their loops.

The training loop calls, through one `CallbackList` (Keras 3's order)::

    on_train_begin()
    for epoch in range(initial_epoch, epochs):
        on_epoch_begin(epoch)
        for step, batch in enumerate(batches):
            on_train_batch_begin(step)
            logs = train_step(batch)               # running means since the epoch began
            on_train_batch_end(step, logs)
            if model.stop_training: break
        # validation: evaluate(..., callbacks=<the same CallbackList>), i.e.
        #   on_test_begin(), on_test_batch_begin/end(step, logs)..., on_test_end(val_logs)
        on_epoch_end(epoch, epoch_logs)            # train logs + val_* logs
        if model.stop_training: break
    on_train_end(last_epoch_logs)

Every hook receives `logs` as a flat dict of Python floats, keys sorted (`accuracy`, `loss`, ...):
the `CallbackList` converts what the model passes.

>>> history = History()
>>> hooks = CallbackList([history], model=None, verbose=0, epochs=2, steps=1)
>>> hooks.on_train_begin()
>>> for epoch, loss in enumerate([0.9, 0.7]):
...     hooks.on_epoch_begin(epoch)
...     hooks.on_epoch_end(epoch, {"loss": loss})
>>> hooks.on_train_end()
>>> history.history, history.epoch
({'loss': [0.9, 0.7]}, [0, 1])

One file per callback, as in Keras's keras/src/callbacks/.
"""

from minikeras.callbacks.backup_and_restore import BackupAndRestore
from minikeras.callbacks.callback import Callback
from minikeras.callbacks.callback_list import CallbackList, pythonify_logs
from minikeras.callbacks.csv_logger import CSVLogger
from minikeras.callbacks.early_stopping import EarlyStopping
from minikeras.callbacks.history import History
from minikeras.callbacks.lambda_callback import LambdaCallback
from minikeras.callbacks.learning_rate_scheduler import LearningRateScheduler
from minikeras.callbacks.model_checkpoint import ModelCheckpoint
from minikeras.callbacks.monitor_callback import MonitorCallback
from minikeras.callbacks.progbar_logger import ProgbarLogger
from minikeras.callbacks.reduce_lr_on_plateau import ReduceLROnPlateau
from minikeras.callbacks.remote_monitor import RemoteMonitor
from minikeras.callbacks.swap_ema_weights import SwapEMAWeights
from minikeras.callbacks.tensorboard import TensorBoard
from minikeras.callbacks.terminate_on_nan import TerminateOnNaN

__all__ = [
    "BackupAndRestore",
    "CSVLogger",
    "Callback",
    "CallbackList",
    "EarlyStopping",
    "History",
    "LambdaCallback",
    "LearningRateScheduler",
    "ModelCheckpoint",
    "MonitorCallback",
    "ProgbarLogger",
    "ReduceLROnPlateau",
    "RemoteMonitor",
    "SwapEMAWeights",
    "TensorBoard",
    "TerminateOnNaN",
    "pythonify_logs",
]
