"""Callbacks, driven the way Keras 3's `fit` drives them, on a small fake model.

`fake_fit` below calls the hooks in the order Keras 3's `fit` does (validation through the same
CallbackList, as `fit` calls `evaluate`). Where Keras is installed the same runs are repeated with
Keras's own callbacks and the printed text, histories and files compared.
"""

import csv
import io
import re
import warnings
from unittest import mock

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from needs import missing

from minikeras import callbacks as mk
from minikeras.utils import progbar as progbar_module

BAR = "━"
HOOKS = [name for name in vars(mk.Callback) if name.startswith("on_")]


class FakeOptimizer:
    """An optimizer as Keras's: the learning rate is kept as a float32."""

    def __init__(self, learning_rate=0.01):
        self.learning_rate = learning_rate

    @property
    def learning_rate(self):
        return self._learning_rate

    @learning_rate.setter
    def learning_rate(self, value):
        self._learning_rate = np.float32(value)


class FakeModel:
    """What callbacks may use of a model: stop_training, get/set_weights, optimizer, history."""

    def __init__(self):
        self.stop_training = False
        self.weights = [np.zeros(2)]
        self.optimizer = FakeOptimizer()
        self.history = None

    def get_weights(self):
        return [w.copy() for w in self.weights]

    def set_weights(self, weights):
        self.weights = [np.array(w) for w in weights]


class FakeClock:
    def __init__(self, now=1000.0):
        self.now = now

    def __call__(self):
        return self.now


def fake_fit(model, callbacks, epoch_logs, steps=2, verbose=0, lib=mk, clock=None):
    """Call the hooks as Keras 3's `fit` does, for as many epochs as `epoch_logs` has entries.

    Each batch reports the epoch's train logs (as running means would end); the weights after
    epoch e are [e, e]; `val_*` entries are produced by a validation pass (on_test_* hooks).
    """
    clock = clock or FakeClock()
    with mock.patch("time.time", clock):
        hooks = lib.CallbackList(
            callbacks,
            add_history=True,
            add_progbar=verbose != 0,
            model=model,
            verbose=verbose,
            epochs=len(epoch_logs),
            steps=steps,
        )
        model.stop_training = False
        hooks.on_train_begin()
        training_logs = None
        for epoch, logs in enumerate(epoch_logs):
            hooks.on_epoch_begin(epoch)
            train = {k: v for k, v in logs.items() if not k.startswith("val_")}
            for step in range(steps):
                hooks.on_train_batch_begin(step)
                clock.now += 0.5
                hooks.on_train_batch_end(step, train)
                if model.stop_training:
                    break
            model.weights = [np.full(2, float(epoch))]
            val = {k[4:]: v for k, v in logs.items() if k.startswith("val_")}
            if val:
                hooks.on_test_begin()
                hooks.on_test_batch_begin(0)
                hooks.on_test_batch_end(0, val)
                hooks.on_test_end(val)
            hooks.on_epoch_end(epoch, dict(logs))
            training_logs = logs
            if model.stop_training:
                break
        hooks.on_train_end(training_logs)
    return model.history


def fake_loop(kind, model, steps, batch_logs, end_logs, seconds, verbose, lib, callbacks):
    """Call the hooks as Keras 3's `evaluate` (kind "test") or `predict` (kind "predict") does."""
    clock = FakeClock()
    with mock.patch("time.time", clock):
        hooks = lib.CallbackList(
            callbacks, add_progbar=verbose != 0, model=model, verbose=verbose, epochs=1, steps=steps
        )
        getattr(hooks, f"on_{kind}_begin")()
        for step in range(steps):
            getattr(hooks, f"on_{kind}_batch_begin")(step)
            clock.now += seconds
            getattr(hooks, f"on_{kind}_batch_end")(step, batch_logs)
        getattr(hooks, f"on_{kind}_end")(end_logs)


def fake_evaluate(model, logs, steps=2, verbose=1, lib=mk, callbacks=None):
    fake_loop("test", model, steps, logs, logs, 0.25, verbose, lib, callbacks)


def fake_predict(model, steps=3, verbose=1, lib=mk, callbacks=None):
    outputs = {"outputs": np.zeros((2, 3))}
    fake_loop("predict", model, steps, outputs, None, 0.002, verbose, lib, callbacks)


def recorder(base):
    """A callback class (subclass of `base`) that records every hook call it receives."""

    class Recorder(base):
        def __init__(self):
            super().__init__()
            self.calls = []

    for hook in HOOKS:

        def method(self, *args, _hook=hook, **kwargs):
            self.calls.append((_hook, args, kwargs))

        setattr(Recorder, hook, method)
    return Recorder


LOGS = [
    {"accuracy": 0.5, "loss": 1.0, "val_accuracy": 0.25, "val_loss": 2.0},
    {"accuracy": 0.75, "loss": 0.5, "val_accuracy": 0.5, "val_loss": 1.5},
]


# -- Callback ------------------------------------------------------------------------------------


def test_callback_batch_hooks_forward_to_the_older_names():
    class Old(mk.Callback):
        def __init__(self):
            super().__init__()
            self.seen = []

        def on_batch_begin(self, batch, logs=None):
            self.seen.append(("begin", batch))

        def on_batch_end(self, batch, logs=None):
            self.seen.append(("end", batch, logs))

    old = Old()
    old.on_train_batch_begin(3)
    old.on_train_batch_end(3, {"loss": 1.0})
    old.on_test_batch_end(4, {"loss": 2.0})  # not a training batch: not forwarded
    assert old.seen == [("begin", 3), ("end", 3, {"loss": 1.0})]


def test_callback_params_and_read_only_model():
    callback, model = mk.Callback(), FakeModel()
    assert callback.params is None and callback.model is None
    callback.set_params({"epochs": 3})
    callback.set_model(model)
    assert callback.params == {"epochs": 3} and callback.model is model
    with pytest.raises(AttributeError):
        callback.model = FakeModel()


def test_every_hook_has_keras_argument_names():
    import inspect

    for hook in HOOKS:
        params = list(inspect.signature(getattr(mk.Callback, hook)).parameters)
        if "batch" in hook:
            assert params == ["self", "batch", "logs"], hook
        elif "epoch" in hook:
            assert params == ["self", "epoch", "logs"], hook
        else:
            assert params == ["self", "logs"], hook
    assert len(HOOKS) == 16


# -- CallbackList --------------------------------------------------------------------------------


def test_history_then_progbar_are_added_after_the_users_callbacks():
    user = mk.Callback()
    hooks = mk.CallbackList([user], add_history=True, add_progbar=True, verbose=1)
    assert [type(c) for c in hooks.callbacks] == [mk.Callback, mk.History, mk.ProgbarLogger]


def test_a_users_history_or_progbar_is_not_added_twice():
    history, logger = mk.History(), mk.ProgbarLogger()
    hooks = mk.CallbackList(
        [[logger], history], add_history=True, add_progbar=True, model=FakeModel()
    )
    assert hooks.callbacks == [logger, history]
    assert hooks.model.history is history


def test_params_and_model_reach_every_callback():
    model, user = FakeModel(), mk.Callback()
    hooks = mk.CallbackList([user], add_history=True, model=model, verbose=2, epochs=3, steps=7)
    assert user.params == {"verbose": 2, "epochs": 3, "steps": 7}
    assert user.model is model and hooks.callbacks[1].model is model
    assert model.history is hooks.callbacks[1]  # set on construction, as Keras 3 does


def test_logs_reach_callbacks_as_sorted_python_floats():
    rec = recorder(mk.Callback)()
    hooks = mk.CallbackList([rec])
    hooks.on_epoch_end(0, {"loss": np.float32(0.5), "accuracy": np.float64(1.0), "note": "x"})
    hooks.on_train_batch_end(1, {"outputs": {"mse": np.array(2.0)}})
    (_, (epoch, logs), _), (_, (batch,), kwargs) = rec.calls
    assert list(logs) == ["accuracy", "loss", "note"]
    assert [type(v) for v in logs.values()] == [float, float, str]
    assert batch == 1 and kwargs == {"logs": {"mse": 2.0}}  # batch hooks get logs by keyword


def test_epoch_end_logs_are_one_dict_shared_by_the_callbacks_in_turn():
    class Writer(mk.Callback):
        def on_epoch_end(self, epoch, logs=None):
            logs["extra"] = 1.0

    history = mk.History()
    given_logs = {"loss": 1.0}
    mk.CallbackList([Writer(), history]).on_epoch_end(0, given_logs)
    assert history.history == {"loss": [1.0], "extra": [1.0]}
    assert given_logs == {"loss": 1.0}  # the caller's dict is not touched


def test_an_end_without_a_begin_is_an_error():
    hooks = mk.CallbackList([mk.Callback()])
    hooks.on_train_begin()
    hooks.on_test_begin()  # fit's validation, nested
    hooks.on_test_end()
    hooks.on_train_end()
    with pytest.raises(ValueError, match="on_predict_end"):
        hooks.on_predict_end()


def test_fit_sequence_of_hooks():
    rec = recorder(mk.Callback)()
    fake_fit(FakeModel(), [rec], LOGS[:1], steps=2)
    names = [name for name, _, _ in rec.calls]
    assert names == [
        "on_train_begin",
        "on_epoch_begin",
        "on_train_batch_begin",
        "on_train_batch_end",
        "on_train_batch_begin",
        "on_train_batch_end",
        "on_test_begin",
        "on_test_batch_begin",
        "on_test_batch_end",
        "on_test_end",
        "on_epoch_end",
        "on_train_end",
    ]


# -- History -------------------------------------------------------------------------------------


def test_history_records_each_epoch_and_becomes_model_history():
    model = FakeModel()
    history = fake_fit(model, None, [{"loss": np.float32(0.25)}, {"loss": 0.125}])
    assert isinstance(history, mk.History) and model.history is history
    assert history.history == {"loss": [0.25, 0.125]}
    assert all(type(v) is float for v in history.history["loss"])
    assert history.epoch == [0, 1]
    assert history.params == {"verbose": 0, "epochs": 2, "steps": 2}


def test_history_keys_are_sorted_with_validation_keys_after():
    history = fake_fit(FakeModel(), None, LOGS)
    assert list(history.history) == ["accuracy", "loss", "val_accuracy", "val_loss"]
    assert history.history["val_loss"] == [2.0, 1.5]


def test_history_sets_model_history_at_each_epoch_end():
    model, history = FakeModel(), mk.History()
    history.set_model(model)
    history.on_train_begin()
    history.on_epoch_end(0, {"loss": 1.0})
    assert model.history is history


def test_a_history_passed_to_two_fits_accumulates_but_restarts_its_epochs():
    history = mk.History()
    fake_fit(FakeModel(), [history], [{"loss": 1.0}])
    fake_fit(FakeModel(), [history], [{"loss": 2.0}])
    assert history.history == {"loss": [1.0, 2.0]}
    assert history.epoch == [0]


# -- ProgbarLogger -------------------------------------------------------------------------------


def test_fit_verbose1_prints_epoch_lines_and_a_bar_with_validation(capsys):
    fake_fit(FakeModel(), None, LOGS, verbose=1)
    out = capsys.readouterr().out
    bar = BAR * 20
    first_epoch = (
        "Epoch 1/2\n"
        f"\r1/2 {bar} 0s 500ms/step - accuracy: 0.5000 - loss: 1.0000"
        f"\r2/2 {bar} 0s 500ms/step - accuracy: 0.5000 - loss: 1.0000"
        f"\r2/2 {bar} 1s 500ms/step - accuracy: 0.5000 - loss: 1.0000"
        " - val_accuracy: 0.2500 - val_loss: 2.0000\n"
    )
    assert out.startswith(first_epoch)
    assert out.count("Epoch 2/2\n") == 1
    assert out.endswith(
        "- accuracy: 0.7500 - loss: 0.5000 - val_accuracy: 0.5000 - val_loss: 1.5000\n"
    )


def test_one_epoch_prints_no_epoch_line(capsys):
    fake_fit(FakeModel(), None, LOGS[:1], verbose="auto")  # "auto" is 1
    out = capsys.readouterr().out
    assert "Epoch" not in out
    assert out.startswith(f"\r1/2 {BAR * 20} 0s 500ms/step")


def test_fit_verbose2_prints_one_line_per_epoch(capsys):
    fake_fit(FakeModel(), None, LOGS, verbose=2)
    assert capsys.readouterr().out == (
        "Epoch 1/2\n2/2 - 1s - 500ms/step - accuracy: 0.5000 - loss: 1.0000"
        " - val_accuracy: 0.2500 - val_loss: 2.0000\n"
        "Epoch 2/2\n2/2 - 1s - 500ms/step - accuracy: 0.7500 - loss: 0.5000"
        " - val_accuracy: 0.5000 - val_loss: 1.5000\n"
    )


def test_fit_verbose0_prints_nothing_and_has_no_progbar(capsys):
    fake_fit(FakeModel(), [mk.EarlyStopping()], LOGS, verbose=0)
    assert capsys.readouterr().out == ""
    assert (
        mk.CallbackList(add_history=True, add_progbar=False).callbacks[-1].__class__ is mk.History
    )


def test_evaluate_bar(capsys):
    fake_evaluate(FakeModel(), {"loss": 0.5, "accuracy": 0.25}, steps=2, verbose=1)
    assert capsys.readouterr().out == (
        f"\r1/2 {BAR * 20} 0s 250ms/step - accuracy: 0.2500 - loss: 0.5000"
        f"\r2/2 {BAR * 20} 0s 250ms/step - accuracy: 0.2500 - loss: 0.5000"
        # on_test_end: the final drawing (0.5 s taken, shown as Keras rounds it: 0s)
        f"\r2/2 {BAR * 20} 0s 250ms/step - accuracy: 0.2500 - loss: 0.5000\n"
    )


def test_predict_bar_shows_no_values(capsys):
    fake_predict(FakeModel(), steps=3, verbose=2)
    assert capsys.readouterr().out == "3/3 - 0s - 2ms/step\n"


def test_progbar_colours_only_on_a_terminal(capsys, monkeypatch):
    fake_predict(FakeModel(), steps=1, verbose=1)
    assert "\x1b[" not in capsys.readouterr().out
    monkeypatch.setattr(progbar_module, "_colours_wanted", lambda: True)
    fake_predict(FakeModel(), steps=1, verbose=1)
    assert "\x1b[32m" in capsys.readouterr().out


# -- EarlyStopping -------------------------------------------------------------------------------


def stop_run(values, monitor="loss", **kwargs):
    """Fit through `values` of `monitor` with an EarlyStopping: (epochs run, stopper, model)."""
    model, stopper = FakeModel(), mk.EarlyStopping(monitor=monitor, **kwargs)
    history = fake_fit(model, [stopper], [{monitor: v} for v in values])
    return len(history.epoch), stopper, model


def test_patience_counts_epochs_without_improvement():
    assert stop_run([1.0, 0.9, 0.95, 0.96, 0.8], patience=2)[0] == 4
    assert stop_run([1.0, 0.9, 0.95, 0.89, 0.99, 0.98], patience=2)[0] == 6


def test_patience_0_stops_at_the_first_non_improvement_but_never_at_epoch_0():
    runs, stopper, _ = stop_run([1.0, 1.0, 0.5], patience=0)
    assert runs == 2 and stopper.stopped_epoch == 1 and stopper.best == 1.0


def test_min_delta_is_the_margin_to_beat():
    assert stop_run([1.0, 0.95, 0.9], min_delta=0.1, patience=1)[0] == 2
    assert stop_run([1.0, 0.85, 0.7], min_delta=0.1, patience=1)[0] == 3
    assert stop_run([1.0, 0.85, 0.7], min_delta=-0.1, patience=1)[0] == 3  # taken as |min_delta|


def test_mode_max_and_auto_for_accuracy():
    values = [0.5, 0.6, 0.55, 0.58]
    assert stop_run(values, monitor="accuracy", mode="max", patience=1)[0] == 3
    assert stop_run(values, monitor="val_accuracy", patience=1)[0] == 3  # auto: maximised
    assert stop_run(values, monitor="accuracy", mode="min", patience=1)[0] == 2


def test_auto_mode_reads_the_direction_of_the_models_metrics():
    from types import SimpleNamespace

    f1 = SimpleNamespace(name="f1", _direction="up")
    model, stopper = FakeModel(), mk.EarlyStopping(monitor="val_f1", patience=0)
    model.metrics = [SimpleNamespace(name="compile_metrics", metrics=[f1])]
    fake_fit(model, [stopper], [{"val_f1": 0.5}, {"val_f1": 0.6}, {"val_f1": 0.4}])
    assert stopper.best == 0.6 and stopper.stopped_epoch == 2


def test_auto_mode_with_an_unknown_metric_asks_for_a_mode():
    with pytest.raises(ValueError, match="Pass `mode='max'`"):
        stop_run([1.0, 2.0], monitor="val_f1")


def test_unknown_mode_warns_and_falls_back_to_auto():
    with pytest.warns(
        UserWarning, match="EarlyStopping mode 'up' is unknown, fallback to auto mode."
    ):
        stopper = mk.EarlyStopping(mode="up")
    assert stopper.mode == "auto"


def test_baseline_must_be_beaten_for_wait_to_reset():
    # Improving but never below the baseline 0.5: `wait` keeps counting (an improving epoch
    # itself never stops training), so the first epoch without improvement stops it.
    values = [1.0, 0.9, 0.8, 0.85, 0.86]
    runs, stopper, _ = stop_run(values, baseline=0.5, patience=2)
    assert runs == 4 and stopper.best == 0.8 and stopper.wait == 4
    assert stop_run(values, patience=2)[0] == 5
    # Once below the baseline, improvements reset the wait.
    assert stop_run([0.4, 0.3, 0.2, 0.1], baseline=0.5, patience=1)[0] == 4


def test_start_from_epoch_ignores_warm_up_epochs():
    runs, stopper, _ = stop_run([1.0, 2.0, 3.0, 2.5, 2.6, 2.7], start_from_epoch=2, patience=1)
    assert runs == 5 and stopper.best == 2.5 and stopper.best_epoch == 3


def test_restore_best_weights_when_stopped_with_messages(capsys):
    values = [1.0, 0.5, 0.7, 0.8]
    runs, _, model = stop_run(values, patience=1, restore_best_weights=True, verbose=1)
    assert runs == 3
    np.testing.assert_array_equal(model.weights[0], [1.0, 1.0])  # weights after epoch index 1
    assert capsys.readouterr().out == (
        "Epoch 3: early stopping\nRestoring model weights from the end of the best epoch: 2.\n"
    )


def test_restore_best_weights_also_when_training_ran_to_the_end(capsys):
    runs, _, model = stop_run([1.0, 0.5, 0.7], patience=5, restore_best_weights=True, verbose=1)
    assert runs == 3
    np.testing.assert_array_equal(model.weights[0], [1.0, 1.0])
    assert capsys.readouterr().out == "Restoring model weights from the end of the best epoch: 2.\n"


def test_without_restore_the_last_weights_stay_and_quiet_by_default(capsys):
    _, _, model = stop_run([1.0, 0.5, 0.7, 0.8], patience=1)
    np.testing.assert_array_equal(model.weights[0], [2.0, 2.0])
    assert capsys.readouterr().out == ""


def test_an_instance_is_reset_for_each_fit():
    model, stopper = FakeModel(), mk.EarlyStopping(monitor="loss", patience=0)
    fake_fit(model, [stopper], [{"loss": 1.0}, {"loss": 2.0}, {"loss": 0.1}])
    assert stopper.stopped_epoch == 1
    history = fake_fit(model, [stopper], [{"loss": 5.0}, {"loss": 4.0}, {"loss": 3.0}])
    assert len(history.epoch) == 3 and stopper.stopped_epoch == 0 and stopper.best == 3.0


def test_missing_monitor_warns_with_the_available_keys():
    with pytest.warns(UserWarning) as caught:
        model, stopper = FakeModel(), mk.EarlyStopping(patience=0)
        history = fake_fit(model, [stopper], [{"loss": 1.0, "accuracy": 0.5}] * 3)
    messages = {str(w.message) for w in caught}
    assert messages == {
        "Early stopping conditioned on metric `val_loss` which is not available. "
        "Available metrics are: accuracy,loss"
    }
    assert len(history.epoch) == 3 and not model.stop_training


def test_changes_below_float32_precision_are_no_improvement():
    # Keras compares in float32: 1 - 1e-9 is not below 1, 1 - 1e-6 is.
    assert stop_run([1.0, 1.0 - 1e-9, 5.0], patience=0)[0] == 2
    assert stop_run([1.0, 1.0 - 1e-6, 5.0], patience=0)[0] == 3


# -- TerminateOnNaN ------------------------------------------------------------------------------


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf")])
def test_terminate_on_nan_stops_after_the_batch(capsys, bad):
    model, seen = FakeModel(), []
    batches = mk.LambdaCallback(on_train_batch_end=lambda batch, logs: seen.append(batch))
    history = fake_fit(
        model, [mk.TerminateOnNaN(), batches], [{"loss": bad}, {"loss": 1.0}], steps=3
    )
    assert seen == [0] and history.epoch == [0] and model.stop_training
    assert capsys.readouterr().out == "Batch 0: Invalid loss, terminating training\n"


def test_terminate_on_nan_leaves_finite_losses_alone(capsys):
    model = FakeModel()
    history = fake_fit(model, [mk.TerminateOnNaN()], [{"loss": 1e30}, {"accuracy": float("nan")}])
    assert history.epoch == [0, 1] and not model.stop_training
    assert capsys.readouterr().out == ""


def test_terminate_on_nan_can_raise():
    guard = mk.TerminateOnNaN(raise_error=True)
    guard.set_model(FakeModel())
    with pytest.raises(
        RuntimeError, match="NaN or Inf loss encountered at batch 4. Loss value: nan"
    ):
        guard.on_train_batch_end(4, {"loss": float("nan")})


# -- LambdaCallback ------------------------------------------------------------------------------


def test_lambda_callback_calls_the_given_functions():
    calls = []
    callback = mk.LambdaCallback(
        on_train_begin=lambda logs: calls.append("train_begin"),
        on_epoch_end=lambda epoch, logs: calls.append(("epoch_end", epoch, logs["loss"])),
        on_train_batch_begin=lambda batch, logs: calls.append(("batch", batch)),
        on_test_end=lambda logs: calls.append(("test_end", logs["loss"])),  # any hook by name
    )
    fake_fit(FakeModel(), [callback], [{"loss": 1.0, "val_loss": 3.0}], steps=1)
    assert calls == ["train_begin", ("batch", 0), ("test_end", 3.0), ("epoch_end", 0, 1.0)]


def test_lambda_callback_rejects_a_misspelt_hook():
    with pytest.raises(TypeError, match="on_epoch_ned"):
        mk.LambdaCallback(on_epoch_ned=print)


# -- LearningRateScheduler -----------------------------------------------------------------------


def test_scheduler_with_epoch_and_lr():
    model = FakeModel()
    seen = []

    def schedule(epoch, lr):
        seen.append(lr)
        return lr * 0.5

    history = fake_fit(model, [mk.LearningRateScheduler(schedule)], [{"loss": 1.0}] * 3)
    assert seen[0] == float(np.float32(0.01))  # the current rate, as a Python float
    assert model.optimizer.learning_rate == np.float32(0.00125)
    assert history.history["learning_rate"] == [float(np.float32(0.01 * 0.5**k)) for k in (1, 2, 3)]


def test_scheduler_with_epoch_only():
    model = FakeModel()
    fake_fit(
        model, [mk.LearningRateScheduler(lambda epoch: 0.1 / (epoch + 1))], [{"loss": 1.0}] * 2
    )
    assert model.optimizer.learning_rate == np.float32(0.05)


def test_scheduler_must_return_a_float():
    model = FakeModel()
    with pytest.raises(ValueError, match="should be a float. Got: 1"):
        fake_fit(model, [mk.LearningRateScheduler(lambda epoch: 1)], [{"loss": 1.0}])


def test_scheduler_needs_an_optimizer_with_a_learning_rate():
    model = FakeModel()
    model.optimizer = object()
    with pytest.raises(ValueError, match='Optimizer must have a "learning_rate" attribute.'):
        fake_fit(model, [mk.LearningRateScheduler(lambda epoch: 0.1)], [{"loss": 1.0}])


def test_scheduler_message_and_learning_rate_on_the_bar(capsys):
    scheduler = mk.LearningRateScheduler(lambda epoch, lr: 0.25, verbose=1)
    fake_fit(FakeModel(), [scheduler], [{"loss": 1.0, "val_loss": 2.0}], verbose=2)
    assert capsys.readouterr().out == (
        "\nEpoch 1: LearningRateScheduler setting learning rate to 0.25.\n"
        "2/2 - 1s - 500ms/step - loss: 1.0000 - val_loss: 2.0000 - learning_rate: 0.2500\n"
    )


# -- CSVLogger -----------------------------------------------------------------------------------


def read_bytes(path):
    with open(path, "rb") as f:
        return f.read()


def test_csv_logger_columns_rows_and_line_ends(tmp_path):
    path = tmp_path / "log.csv"
    fake_fit(FakeModel(), [mk.CSVLogger(path)], LOGS)
    assert read_bytes(path) == (
        b"epoch,accuracy,loss,val_accuracy,val_loss\r\n0,0.5,1.0,0.25,2.0\r\n1,0.75,0.5,0.5,1.5\r\n"
    )


def test_csv_logger_adds_val_columns_even_without_validation(tmp_path):
    path = tmp_path / "log.csv"
    fake_fit(FakeModel(), [mk.CSVLogger(str(path), separator=";")], [{"loss": 0.5}, {"loss": 0.25}])
    assert read_bytes(path) == b"epoch;loss;val_loss\r\n0;0.5;NA\r\n1;0.25;NA\r\n"


def test_csv_logger_append_writes_no_second_header(tmp_path):
    path = tmp_path / "log.csv"
    fake_fit(FakeModel(), [mk.CSVLogger(path, append=True)], [{"loss": 0.5}])
    fake_fit(FakeModel(), [mk.CSVLogger(path, append=True)], [{"loss": 0.25}])
    assert read_bytes(path) == b"epoch,loss,val_loss\r\n0,0.5,NA\r\n0,0.25,NA\r\n"
    fake_fit(FakeModel(), [mk.CSVLogger(path)], [{"loss": 0.125}])  # no append: overwritten
    assert read_bytes(path) == b"epoch,loss,val_loss\r\n0,0.125,NA\r\n"


def test_csv_logger_columns_are_fixed_at_the_first_epoch_and_arrays_are_quoted(tmp_path):
    path = tmp_path / "log.csv"
    logger = mk.CSVLogger(path)
    logger.on_train_begin()
    logger.on_epoch_end(0, {"loss": 1.0, "val_loss": 2.0})
    logger.on_epoch_end(1, {"loss": 0.5, "extra": 3.0, "val_loss": np.array([1, 2])})
    logger.on_train_end()
    rows = list(csv.reader(io.StringIO(read_bytes(path).decode())))
    assert rows == [["epoch", "loss", "val_loss"], ["0", "1.0", "2.0"], ["1", "0.5", '"[1, 2]"']]
    assert logger.csv_file.closed


# -- side by side with Keras's own callbacks -----------------------------------------------------


def keras_or_skip():
    """keras.callbacks; a failure, not a skip, when MINIKERAS_REQUIRE_KERAS is set."""
    try:
        import keras
    except ImportError as error:
        missing("Keras", str(error))
    return keras.callbacks


def plain(text):
    return re.sub(r"\x1b\[[0-9;]*m", "", text.replace("\b", ""))


def run_both(capsys, make_callbacks, run):
    """`run(lib, callbacks)` with Keras's callbacks, then ours: (text, result, warnings) of each."""
    results = []
    for lib in (keras_or_skip(), mk):
        capsys.readouterr()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            result = run(lib, make_callbacks(lib))
        results.append((plain(capsys.readouterr().out), result, [str(w.message) for w in caught]))
    return results


def test_fit_evaluate_predict_print_and_record_as_keras(capsys, tmp_path):
    def make(lib):
        return [
            recorder(lib.Callback)(),
            lib.LearningRateScheduler(lambda epoch, lr: lr * 0.5, verbose=1),
            lib.CSVLogger(tmp_path / f"{lib.__name__}.csv"),
            lib.EarlyStopping(
                monitor="val_accuracy", mode="max", verbose=1, restore_best_weights=True
            ),
            lib.TerminateOnNaN(),
        ]

    def run(lib, callbacks):
        model = FakeModel()
        logs = [dict(LOGS[0]), dict(LOGS[1]), {**LOGS[1], "val_accuracy": 0.5}]
        history = fake_fit(model, callbacks, logs, steps=3, verbose=1, lib=lib)
        # (a recording callback in each run also keeps Keras from updating the bar in a thread)
        fake_evaluate(model, {"loss": 0.5, "accuracy": 0.25}, 4, lib=lib, callbacks=make(lib)[:1])
        fake_predict(model, steps=5, lib=lib, callbacks=make(lib)[:1])
        fake_fit(model, make(lib)[:1], LOGS, steps=40, verbose=2, lib=lib)
        csv_text = read_bytes(callbacks[2].filename)
        return history.history, history.epoch, history.params, callbacks[0].calls, csv_text

    (keras_out, keras_result, keras_warnings), (ours, our_result, our_warnings) = run_both(
        capsys, make, run
    )
    assert ours == keras_out
    assert "Restoring model weights from the end of the best epoch: 2." in ours
    assert our_result == keras_result
    assert our_warnings == keras_warnings == []


def test_missing_monitor_warning_as_keras(capsys):
    def run(lib, callbacks):
        return len(fake_fit(FakeModel(), callbacks, [{"loss": 1.0, "mse": 2.0}], lib=lib).epoch)

    (_, keras_runs, keras_warnings), (_, runs, our_warnings) = run_both(
        capsys, lambda lib: [lib.EarlyStopping()], run
    )
    assert runs == keras_runs == 1
    assert our_warnings == keras_warnings and len(our_warnings) == 1


@settings(max_examples=200, deadline=None)
@given(
    values=st.lists(
        st.one_of(st.sampled_from([0.5, 0.6, 0.7]), st.floats(0, 2), st.just(float("nan"))),
        min_size=1,
        max_size=9,
    ),
    mode=st.sampled_from(["min", "max", "auto"]),
    patience=st.integers(0, 3),
    min_delta=st.sampled_from([0, 0.1, -0.05, 1e-9]),
    baseline=st.sampled_from([None, 0.55, 1.5]),
    restore=st.booleans(),
    start=st.integers(0, 3),
)
def test_early_stopping_decides_as_keras(
    values, mode, patience, min_delta, baseline, restore, start
):
    keras_callbacks = keras_or_skip()
    outcomes = []
    for lib in (keras_callbacks, mk):
        model = FakeModel()
        stopper = lib.EarlyStopping(
            monitor="val_loss",
            min_delta=min_delta,
            patience=patience,
            verbose=1,
            mode=mode,
            baseline=baseline,
            restore_best_weights=restore,
            start_from_epoch=start,
        )
        with mock.patch("sys.stdout", io.StringIO()) as out:
            history = fake_fit(model, [stopper], [{"val_loss": v} for v in values], lib=lib)
        outcomes.append(
            (
                history.epoch,
                stopper.stopped_epoch,
                stopper.wait,
                stopper.best_epoch,
                repr(stopper.best),
                model.weights[0].tolist(),
                out.getvalue(),
            )
        )
    assert outcomes[1] == outcomes[0]


def test_docstring_examples_run():
    import doctest
    import importlib
    import pkgutil

    modules = [mk] + [
        importlib.import_module(f"minikeras.callbacks.{info.name}")
        for info in pkgutil.iter_modules(mk.__path__)
    ]
    results = [doctest.testmod(module) for module in modules]
    assert sum(r.attempted for r in results) > 10 and sum(r.failed for r in results) == 0
