"""ReduceLROnPlateau, SwapEMAWeights and TensorBoard in a whole `fit`, against Keras on the same
weights: the History (with its `learning_rate`), the final weights, and what the event files
hold.

float64 in both libraries, 1e-10 relative (the parity suite's float64 bound): the same steps in
the same order. The event files hold float32 values: 1e-6 relative there (float32's rounding of
the same number, 6e-8, with room for float64 differences far below it)."""

import glob
import os

import numpy as np
import pytest
from needs import missing

import minikeras

RTOL = 1e-10
FLOAT32_RTOL = 1e-6


@pytest.fixture
def keras64(keras):
    from minikeras.parity.keras_env import floatx

    with floatx("float64"):
        yield keras


X = np.linspace(-1, 1, 30).reshape(10, 3)
Y = np.tanh(X @ np.array([[0.5], [-1.0], [2.0]])) + 0.25


def twins(keras, optimizer=lambda lib: lib.optimizers.SGD(0.1), metrics=("mae",), eager=True):
    def build(lib):
        return lib.Sequential(
            [lib.layers.Input((3,)), lib.layers.Dense(4, activation="tanh"), lib.layers.Dense(1)]
        )

    ours, theirs = build(minikeras), build(keras)
    theirs.set_weights(ours.get_weights())
    ours.compile(optimizer=optimizer(minikeras), loss="mse", metrics=list(metrics))
    # eagerly: the same steps, without tracing a graph for each of these tiny fits
    theirs.compile(optimizer=optimizer(keras), loss="mse", metrics=list(metrics), run_eagerly=eager)
    return ours, theirs


def assert_same(ours, theirs, h_ours, h_theirs):
    assert sorted(h_ours.history) == sorted(h_theirs.history)
    for name in h_ours.history:
        np.testing.assert_allclose(h_ours.history[name], h_theirs.history[name], rtol=RTOL)
    for a, b in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_allclose(a, b, rtol=RTOL, atol=1e-13)


PLATEAUS = {
    "val_loss, patience 1": dict(monitor="val_loss", factor=0.5, patience=1, min_delta=0.02),
    # min_lr is reached, then held (Keras compares the rate with float32(min_lr))
    "loss, min_delta, cooldown, min_lr": dict(
        monitor="loss", factor=0.2, patience=1, min_delta=0.1, cooldown=1, min_lr=0.05
    ),
    "mae in mode max (reduces at once)": dict(monitor="mae", mode="max", factor=0.5, patience=0),
}


@pytest.mark.parametrize("case", list(PLATEAUS))
def test_reduce_lr_on_plateau(keras64, case):
    ours, theirs = twins(keras64, eager=False)
    kwargs = dict(epochs=6, batch_size=4, shuffle=False, verbose=0, validation_data=(X, Y))
    h_ours = ours.fit(
        X, Y, callbacks=[minikeras.callbacks.ReduceLROnPlateau(**PLATEAUS[case])], **kwargs
    )
    h_theirs = theirs.fit(
        X, Y, callbacks=[keras64.callbacks.ReduceLROnPlateau(**PLATEAUS[case])], **kwargs
    )
    assert "learning_rate" in h_ours.history
    assert len(set(h_ours.history["learning_rate"])) > 1  # the rate did change
    assert_same(ours, theirs, h_ours, h_theirs)


@pytest.mark.parametrize("swap_on_epoch", [False, True])
def test_swap_ema_weights(keras64, swap_on_epoch):
    ours, theirs = twins(keras64, lambda lib: lib.optimizers.SGD(0.1, use_ema=True))
    kwargs = dict(epochs=3, batch_size=4, shuffle=False, verbose=0, validation_data=(X, Y))
    h_ours = ours.fit(X, Y, callbacks=[minikeras.callbacks.SwapEMAWeights(swap_on_epoch)], **kwargs)
    h_theirs = theirs.fit(
        X, Y, callbacks=[keras64.callbacks.SwapEMAWeights(swap_on_epoch)], **kwargs
    )
    assert_same(ours, theirs, h_ours, h_theirs)
    # evaluate with the averages, and the trained weights back after it
    weights = ours.get_weights()
    np.testing.assert_allclose(
        ours.evaluate(X, Y, verbose=0, callbacks=[minikeras.callbacks.SwapEMAWeights()]),
        theirs.evaluate(X, Y, verbose=0, callbacks=[keras64.callbacks.SwapEMAWeights()]),
        rtol=RTOL,
    )
    for a, b in zip(weights, ours.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_swap_ema_weights_needs_use_ema(keras64):
    ours, theirs = twins(keras64)
    errors = []
    for model, lib in ((ours, minikeras), (theirs, keras64)):
        model.fit(X, Y, epochs=1, verbose=0)
        with pytest.raises(ValueError) as caught:
            model.evaluate(X, Y, verbose=0, callbacks=[lib.callbacks.SwapEMAWeights()])
        errors.append(str(caught.value))
    assert errors[0] == errors[1]


# ---------------------------------------------------------------- TensorBoard
# What Keras 3.15's TensorBoard writes for fit(epochs=2, batch_size=4) on 10 samples (3 batches
# an epoch) with validation, read back with TensorBoard's EventAccumulator: tag → steps.
KERAS_TENSORBOARD_STEPS = {
    "epoch": {
        "train": {"epoch_loss": [0, 1], "epoch_mae": [0, 1], "epoch_learning_rate": [0, 1]},
        "validation": {
            "evaluation_loss_vs_iterations": [3, 6],
            "evaluation_mae_vs_iterations": [3, 6],
            "epoch_loss": [0, 1],
            "epoch_mae": [0, 1],
        },
    },
    "batch": {
        "train": {
            "batch_loss": [1, 2, 3, 4, 5, 6],
            "batch_mae": [1, 2, 3, 4, 5, 6],
            "epoch_loss": [0, 1],
            "epoch_mae": [0, 1],
            "epoch_learning_rate": [0, 1],
        },
        "validation": {
            "evaluation_loss_vs_iterations": [3, 6],
            "evaluation_mae_vs_iterations": [3, 6],
            "epoch_loss": [0, 1],
            "epoch_mae": [0, 1],
        },
    },
    # every 2nd batch count: the epoch values too are written only when it is even
    2: {
        "train": {
            "batch_loss": [2, 4, 6],
            "batch_mae": [2, 4, 6],
            "epoch_loss": [1],
            "epoch_mae": [1],
            "epoch_learning_rate": [1],
        },
        "validation": {
            "evaluation_loss_vs_iterations": [6],
            "evaluation_mae_vs_iterations": [6],
            "epoch_loss": [1],
            "epoch_mae": [1],
        },
    },
}


class BatchLogs:
    """Records the logs of every training batch (what `batch_<name>` should hold)."""

    @staticmethod
    def make(lib):
        class Recorder(lib.callbacks.Callback):
            def on_train_begin(self, logs=None):
                self.logs = []

            def on_train_batch_end(self, batch, logs=None):
                self.logs.append(dict(logs))

        return Recorder()


def read_with_tensorflow(run_dir, tf):
    """tag → [(step, value)] from every event file of a run, read by TensorFlow's own record
    reader (which checks each record's CRCs) and its Event message."""
    found = {}
    for path in sorted(glob.glob(os.path.join(run_dir, "events.out.tfevents.*"))):
        for record in tf.compat.v1.io.tf_record_iterator(path):
            event = tf.compat.v1.Event.FromString(record)
            for value in event.summary.value:
                if value.metadata.plugin_data.plugin_name != "scalars":
                    continue
                number = tf.make_ndarray(value.tensor)
                found.setdefault(value.tag, []).append((event.step, float(number)))
    return found


def expected_values(steps, history, batch_logs, run):
    """What each tag should hold: epoch values from Keras's History, batch values from the
    logs Keras's batches gave, evaluations from the val_ entries at the epoch they end."""
    out = {}
    for tag, tag_steps in steps.items():
        values = []
        for step in tag_steps:
            if tag.startswith("batch_"):
                values.append(batch_logs[step - 1][tag[6:]])
            elif tag.startswith("evaluation_"):
                name = tag[len("evaluation_") : -len("_vs_iterations")]
                values.append(history[f"val_{name}"][step // 3 - 1])
            else:
                name = tag[6:]
                key = name if run == "train" else f"val_{name}"
                values.append(history[key][step] if name != "learning_rate" else 0.1)
        out[tag] = list(zip(tag_steps, values))
    return out


@pytest.mark.parametrize("update_freq", ["epoch", "batch", 2])
def test_tensorboard_event_files(keras64, tmp_path, update_freq):
    import tensorflow as tf

    ours, theirs = twins(keras64)
    kwargs = dict(epochs=2, batch_size=4, shuffle=False, verbose=0, validation_data=(X, Y))
    ours.fit(
        X,
        Y,
        callbacks=[minikeras.callbacks.TensorBoard(tmp_path, update_freq=update_freq)],
        **kwargs,
    )
    recorder = BatchLogs.make(keras64)
    h_theirs = theirs.fit(X, Y, callbacks=[recorder], **kwargs)
    for run in ("train", "validation"):
        written = read_with_tensorflow(tmp_path / run, tf)
        steps = KERAS_TENSORBOARD_STEPS[update_freq][run]
        assert {tag: [s for s, _ in pairs] for tag, pairs in written.items()} == steps
        expected = expected_values(steps, h_theirs.history, recorder.logs, run)
        for tag, pairs in written.items():
            np.testing.assert_allclose(
                [v for _, v in pairs], [v for _, v in expected[tag]], rtol=FLOAT32_RTOL
            )


def test_tensorboard_files_read_by_tensorboard_as_keras_writes_them(keras64, tmp_path):
    """TensorBoard's own reader on the files of both libraries: the same runs, tags, steps
    and values (Keras's TensorBoard callback itself needs the `tensorboard` package)."""
    try:
        from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
        from tensorboard.util import tensor_util
    except ImportError as error:
        missing("tensorboard (pip install 'minikeras[tensorboard]')", str(error))

    def read(run_dir):
        accumulator = EventAccumulator(str(run_dir))
        accumulator.Reload()
        return {
            tag: [(e.step, float(tensor_util.make_ndarray(e.tensor_proto))) for e in events]
            for tag in accumulator.Tags()["tensors"]
            if tag != "keras"  # the model's config (write_graph)
            for events in [accumulator.Tensors(tag)]
        }

    ours, theirs = twins(keras64, eager=False)
    kwargs = dict(epochs=2, batch_size=4, shuffle=False, verbose=0, validation_data=(X, Y))
    for model, lib, where in ((ours, minikeras, "ours"), (theirs, keras64, "theirs")):
        model.fit(
            X,
            Y,
            callbacks=[lib.callbacks.TensorBoard(tmp_path / where, update_freq="batch")],
            **kwargs,
        )
    for run in ("train", "validation"):
        mine, keras_own = read(tmp_path / "ours" / run), read(tmp_path / "theirs" / run)
        assert sorted(mine) == sorted(keras_own)
        for tag in mine:
            assert [s for s, _ in mine[tag]] == [s for s, _ in keras_own[tag]]
            np.testing.assert_allclose(
                [v for _, v in mine[tag]], [v for _, v in keras_own[tag]], rtol=FLOAT32_RTOL
            )
