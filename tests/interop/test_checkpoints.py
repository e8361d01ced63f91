"""ModelCheckpoint and BackupAndRestore: the same decisions and messages as Keras's, and end to
end: the best model is the one saved, and an interrupted fit resumes where it stopped, giving the
weights an uninterrupted fit gives (also when Keras resumes from minikeras's backup)."""

import json
import os
import warnings

import numpy as np
import pytest

import minikeras as mk
from minikeras.callbacks import BackupAndRestore, Callback, ModelCheckpoint
from minikeras.layers import Dense, Input


class RecordingModel:
    """Just enough of a model for a checkpoint callback: records what it is asked to save."""

    def __init__(self):
        self.metrics = []
        self.saved = []

    def save(self, filepath, overwrite=True):
        self.saved.append(("model", os.path.basename(filepath)))

    def save_weights(self, filepath, overwrite=True):
        self.saved.append(("weights", os.path.basename(filepath)))


VAL_LOSSES = [0.9, 0.7, 0.8, 0.7, 0.5]
CHECKPOINT_CASES = {
    "every-epoch": dict(filepath="m-{epoch:02d}.keras"),
    "best-only": dict(filepath="best.keras", save_best_only=True),
    "best-only-max-weights": dict(
        filepath="w-{epoch}-{val_loss:.1f}.weights.h5",
        save_best_only=True,
        save_weights_only=True,
        mode="max",
    ),
    "threshold": dict(filepath="t.keras", save_best_only=True, initial_value_threshold=0.75),
    "accuracy-max": dict(
        filepath="a.keras", monitor="val_accuracy", save_best_only=True, mode="max"
    ),
    "missing-monitor": dict(filepath="x.keras", monitor="val_auc", mode="min", save_best_only=True),
    "batches": dict(filepath="b-{epoch}-{batch}.keras", save_freq=3),
}


def drive(callback, capsys):
    """Five epochs of three batches, with VAL_LOSSES; returns (saves, printed text, warnings)."""
    model = RecordingModel()
    callback.set_model(model)
    callback.on_train_begin()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for epoch, val_loss in enumerate(VAL_LOSSES):
            callback.on_epoch_begin(epoch)
            for batch in range(3):
                callback.on_train_batch_end(batch, {"loss": 1.0})
            logs = {"loss": 1.0, "val_loss": val_loss, "val_accuracy": 1 - val_loss}
            callback.on_epoch_end(epoch, logs)
    return model.saved, capsys.readouterr().out, [str(w.message) for w in caught]


@pytest.mark.parametrize("verbose", [0, 1])
@pytest.mark.parametrize("case", CHECKPOINT_CASES, ids=list(CHECKPOINT_CASES))
def test_model_checkpoint_decides_and_speaks_as_keras(keras, capsys, tmp_path, case, verbose):
    kwargs = dict(CHECKPOINT_CASES[case], verbose=verbose)
    kwargs["filepath"] = str(tmp_path / kwargs["filepath"])
    ours = drive(ModelCheckpoint(**kwargs), capsys)
    theirs = drive(keras.callbacks.ModelCheckpoint(**kwargs), capsys)
    assert ours[0] == theirs[0]
    assert ours[1] == theirs[1]
    assert [w for w in ours[2] if "best" in w] == [w for w in theirs[2] if "best" in w]


def test_model_checkpoint_knows_accuracy_is_maximised(capsys, tmp_path):
    # Keras decides from the model's metric objects; minikeras also knows Keras's metric names
    path = str(tmp_path / "a.keras")
    saves, _, _ = drive(ModelCheckpoint(path, monitor="val_accuracy", save_best_only=True), capsys)
    assert len(saves) == 3  # accuracies 0.1, 0.3, 0.2, 0.3, 0.5: three improvements


def test_model_checkpoint_argument_errors(keras):
    for kwargs in (
        dict(filepath="m.h5", save_weights_only=True),
        dict(filepath="m.txt"),
        dict(filepath="m.keras", save_freq="batch"),
    ):
        with pytest.raises(ValueError) as ours:
            ModelCheckpoint(**kwargs)
        with pytest.raises(ValueError) as theirs:
            keras.callbacks.ModelCheckpoint(**kwargs)
        assert str(ours.value)[:40] == str(theirs.value)[:40]


def make_model(seed=1):
    mk.utils.set_random_seed(seed)
    model = mk.Sequential([Input(shape=(3,)), Dense(4, activation="tanh"), Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    return model


def data():
    rng = np.random.default_rng(0)
    return rng.normal(size=(40, 3)).astype("float32"), rng.normal(size=(40, 1)).astype("float32")


def test_model_checkpoint_end_to_end_keeps_the_best_model(keras, tmp_path):
    x, y = data()
    model = make_model()
    best = tmp_path / "best.keras"
    every = tmp_path / "epochs" / "e{epoch:02d}.weights.h5"
    history = model.fit(
        x,
        y,
        epochs=5,
        validation_split=0.25,
        verbose=0,
        callbacks=[
            ModelCheckpoint(best, save_best_only=True),
            ModelCheckpoint(every, save_weights_only=True),
        ],
    )
    assert sorted(os.listdir(tmp_path / "epochs")) == [f"e0{i}.weights.h5" for i in range(1, 6)]
    val_losses = history.history["val_loss"]
    best_epoch = int(np.argmin(val_losses)) + 1
    restored = make_model(seed=9)
    restored.load_weights(tmp_path / "epochs" / f"e0{best_epoch}.weights.h5")
    in_keras = keras.saving.load_model(best)
    np.testing.assert_allclose(
        np.asarray(in_keras(x[30:])), restored.predict(x[30:], verbose=0), atol=1e-6
    )
    assert in_keras.evaluate(x[30:], y[30:], verbose=0) == pytest.approx(min(val_losses), 1e-5)


class Interrupt(Callback):
    def __init__(self, at_epoch):
        super().__init__()
        self.at_epoch = at_epoch

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == self.at_epoch:
            raise KeyboardInterrupt(f"stopped at epoch {epoch}")


def test_backup_and_restore_resumes_an_interrupted_fit(tmp_path):
    x, y = data()
    fit = dict(epochs=6, batch_size=8, shuffle=False, verbose=0)
    reference = make_model()
    reference.fit(x, y, **fit)

    backup = tmp_path / "backup"
    model = make_model()
    with pytest.raises(KeyboardInterrupt):
        model.fit(x, y, callbacks=[BackupAndRestore(backup), Interrupt(at_epoch=4)], **fit)
    assert sorted(os.listdir(backup)) == ["latest.weights.h5", "training_metadata.json"]
    assert json.loads((backup / "training_metadata.json").read_text()) == {"epoch": 4, "batch": 0}

    resumed = make_model()  # a fresh process would start from a fresh model too
    history = resumed.fit(x, y, callbacks=[BackupAndRestore(backup)], **fit)
    assert history.epoch == [4, 5]
    assert resumed.optimizer.iterations == reference.optimizer.iterations == 30
    for a, b in zip(resumed.get_weights(), reference.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    assert not backup.exists()  # deleted once training completed
    again = resumed.fit(x, y, epochs=1, verbose=0)  # used once: the next fit starts afresh
    assert again.epoch == [0]


def test_backup_every_few_batches_and_keep_checkpoint(tmp_path):
    x, y = data()
    backup = tmp_path / "backup"
    model = make_model()
    callback = BackupAndRestore(backup, save_freq=3, delete_checkpoint=False)
    with pytest.raises(KeyboardInterrupt):
        model.fit(x, y, epochs=5, batch_size=8, verbose=0, callbacks=[callback, Interrupt(2)])
    # five batches an epoch, a backup every third: after epoch 0's batch 2, epoch 1's batches 0
    # and 3. Keras records the epoch in progress and resumes from its start, as here.
    metadata = json.loads((backup / "training_metadata.json").read_text())
    assert metadata == {"epoch": 1, "batch": 3}
    resumed = make_model()
    history = resumed.fit(
        x,
        y,
        epochs=5,
        batch_size=8,
        verbose=0,
        callbacks=[BackupAndRestore(backup, save_freq=3, delete_checkpoint=False)],
    )
    assert history.epoch == [1, 2, 3, 4]
    assert backup.exists()


def test_double_checkpoint_falls_back_on_the_previous_backup(tmp_path):
    x, y = data()
    backup = tmp_path / "backup"
    model = make_model()
    with pytest.raises(KeyboardInterrupt):
        model.fit(
            x,
            y,
            epochs=5,
            verbose=0,
            callbacks=[BackupAndRestore(backup, double_checkpoint=True), Interrupt(3)],
        )
    (backup / "latest.weights.h5").write_bytes(b"damaged")
    history = make_model().fit(
        x, y, epochs=5, verbose=0, callbacks=[BackupAndRestore(backup, double_checkpoint=True)]
    )
    assert history.epoch == [2, 3, 4]  # from the previous backup, one epoch earlier


def test_keras_resumes_from_a_minikeras_backup(keras, tmp_path):
    """The backup directory is Keras's own: Keras's BackupAndRestore picks up where minikeras's
    fit was interrupted, optimizer state included, and ends where minikeras would have."""
    x, y = data()
    fit = dict(epochs=5, batch_size=8, shuffle=False, verbose=0)
    reference = make_model()
    reference.fit(x, y, **fit)

    backup = tmp_path / "backup"
    model = make_model()
    with pytest.raises(KeyboardInterrupt):
        model.fit(x, y, callbacks=[BackupAndRestore(backup), Interrupt(3)], **fit)
    model.save(tmp_path / "architecture.keras")  # weights here are rolled back: only the config
    keras_model = keras.saving.load_model(tmp_path / "architecture.keras")
    history = keras_model.fit(x, y, callbacks=[keras.callbacks.BackupAndRestore(backup)], **fit)
    assert history.epoch == [3, 4]
    assert int(keras_model.optimizer.iterations.numpy()) == reference.optimizer.iterations
    for a, b in zip(keras_model.get_weights(), reference.get_weights(), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_minikeras_resumes_from_a_keras_backup(keras, tmp_path):
    x, y = data()
    fit = dict(epochs=5, batch_size=8, shuffle=False, verbose=0)
    reference = make_model()
    reference.save(tmp_path / "start.keras")
    reference.fit(x, y, **fit)

    class KerasInterrupt(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            if epoch == 2:
                raise KeyboardInterrupt

    backup = tmp_path / "backup"
    keras_model = keras.saving.load_model(tmp_path / "start.keras")
    with pytest.raises(KeyboardInterrupt):
        keras_model.fit(
            x, y, callbacks=[keras.callbacks.BackupAndRestore(backup), KerasInterrupt()], **fit
        )
    model = make_model(seed=4)  # other initial weights: the backup replaces them
    history = model.fit(x, y, callbacks=[BackupAndRestore(backup)], **fit)
    assert history.epoch == [2, 3, 4]
    assert model.optimizer.iterations == reference.optimizer.iterations
    for a, b in zip(model.get_weights(), reference.get_weights(), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
