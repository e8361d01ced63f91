"""Attributes that Keras's own tests read off callbacks and optimizers, compared with Keras:
the learning rate's `.value`, the monitors' comparison functions, LambdaCallback's extra
keyword arguments. Exact comparisons (no arithmetic happens)."""

import numpy as np
import pytest

from minikeras import callbacks, ops, optimizers


@pytest.mark.parametrize("floatx", ["float32", "float64"])
def test_learning_rate_value_is_the_stored_rate_as_in_keras(keras, floatx):
    from minikeras import config

    config.set_floatx(floatx)
    keras.config.set_floatx(floatx)
    ours = optimizers.SGD(learning_rate=0.01).learning_rate
    theirs = keras.optimizers.SGD(learning_rate=0.01).learning_rate
    assert ours.value.dtype == np.dtype(floatx) == np.dtype(theirs.value.dtype.name)
    assert ours.value == theirs.numpy() and ours.numpy() == theirs.numpy()
    assert float(ours) == float(theirs.numpy())  # still a number for arithmetic


def test_a_schedule_reads_as_float32_as_in_keras(keras):
    ours = optimizers.SGD(learning_rate=optimizers.schedules.ExponentialDecay(0.1, 10, 0.5))
    theirs = keras.optimizers.SGD(
        learning_rate=keras.optimizers.schedules.ExponentialDecay(0.1, 10, 0.5)
    )
    assert ours.learning_rate.value.dtype == np.float32
    assert ours.learning_rate.value == theirs.learning_rate.numpy()


@pytest.mark.parametrize("mode, expected", [("min", "less"), ("max", "greater")])
def test_monitor_op_is_keras_ops_comparison(keras, mode, expected):
    for cls in ("EarlyStopping", "ReduceLROnPlateau"):
        ours = getattr(callbacks, cls)(monitor="val_loss", mode=mode)
        theirs = getattr(keras.callbacks, cls)(monitor="val_loss", mode=mode)
        for callback in (ours, theirs):
            if callback.monitor_op is None:  # Keras 3 picks it at the first epoch end
                callback._set_monitor_op()
        assert ours.monitor_op is getattr(ops, expected)
        assert theirs.monitor_op is getattr(keras.ops, expected)


def test_lambda_callback_keeps_extra_keyword_arguments_as_keras(keras):
    def custom(logs):
        return logs

    ours = callbacks.LambdaCallback(custom_method=custom)
    theirs = keras.callbacks.LambdaCallback(custom_method=custom)
    assert ours.custom_method is custom and theirs.custom_method is custom
    with pytest.raises(TypeError, match="unknown hook name: 'on_epoch_ends'"):
        callbacks.LambdaCallback(on_epoch_ends=custom)  # a misspelt hook is refused
