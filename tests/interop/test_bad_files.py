"""Nothing lost, bad files refused: atomic saves (an exception or a kill mid-save leaves the
previous file intact), and truncated, damaged, foreign or wrong-architecture files raise a clear
error naming the file, with the model in memory unchanged. No Keras needed here, only h5py.
"""

import io
import json
import os
import signal
import subprocess
import sys
import zipfile

import numpy as np
import pytest

import minikeras as mk
from minikeras.layers import Dense, Input
from minikeras.saving import BadFileError

pytestmark = pytest.mark.usefixtures("h5py")


def trained_model(units=3, seed=0):
    mk.utils.set_random_seed(seed)
    model = mk.Sequential([Input(shape=(4,)), Dense(units, activation="relu"), Dense(2)])
    model.compile(optimizer="adam", loss="mse")
    x = np.random.default_rng(seed).normal(size=(16, 4)).astype("float32")
    model.fit(x, np.zeros((16, 2), "float32"), verbose=0)
    return model


def state(model):
    """Copies of everything a load could change: weights, optimizer counters and slots."""
    optimizer = model.optimizer
    return (
        [w.copy() for w in model.get_weights()],
        optimizer.iterations,
        optimizer.learning_rate,
        [v.copy() for v in optimizer.variables[2:]],
    )


def assert_same_state(a, b):
    weights_a, it_a, lr_a, slots_a = a
    weights_b, it_b, lr_b, slots_b = b
    assert (it_a, lr_a) == (it_b, lr_b)
    for x, y in zip(weights_a + slots_a, weights_b + slots_b, strict=True):
        np.testing.assert_array_equal(x, y)


@pytest.fixture
def saved(tmp_path):
    model = trained_model()
    model.save(tmp_path / "model.keras")
    model.save_weights(tmp_path / "model.weights.h5")
    return model, tmp_path


# ---------------------------------------------------------------------- damaged and foreign files
def rewrite_member(path, name, transform):
    with zipfile.ZipFile(path) as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    members[name] = transform(members[name])
    with zipfile.ZipFile(path, "w") as zf:
        for n, data in members.items():
            if data is not None:
                zf.writestr(n, data)


def test_truncated_keras_file(saved):
    _, tmp = saved
    data = (tmp / "model.keras").read_bytes()
    (tmp / "cut.keras").write_bytes(data[: len(data) // 2])
    with pytest.raises(BadFileError, match=r"cut\.keras.*(zip|truncated)"):
        mk.models.load_model(tmp / "cut.keras")


def test_flipped_byte_inside_the_weights_is_caught(saved):
    _, tmp = saved
    data = bytearray((tmp / "model.keras").read_bytes())
    start = data.index(b"\x89HDF")  # the weights member, stored uncompressed
    data[start + len(data[start:]) // 2] ^= 0xFF
    (tmp / "flipped.keras").write_bytes(bytes(data))
    with pytest.raises(BadFileError, match=r"flipped\.keras.*model\.weights\.h5 is damaged"):
        mk.models.load_model(tmp / "flipped.keras")


@pytest.mark.parametrize(
    "content, message",
    [
        (b"", "not a zip archive"),
        (b"hello, I am a text file\n" * 10, "not a zip archive"),
        (b"\x89HDF\r\n\x1a\n" + bytes(100), "it is an HDF5 file, not a `.keras` zip"),
    ],
    ids=["empty", "text", "hdf5"],
)
def test_wrong_format_keras_file(tmp_path, content, message):
    (tmp_path / "odd.keras").write_bytes(content)
    with pytest.raises(BadFileError, match=rf"odd\.keras: {message}"):
        mk.models.load_model(tmp_path / "odd.keras")


@pytest.mark.parametrize(
    "member, transform, message",
    [
        ("config.json", lambda b: None, "no config.json"),
        ("model.weights.h5", lambda b: None, "no model.weights.h5"),
        ("config.json", lambda b: b[:-5], "config.json is not valid JSON"),
        ("config.json", lambda b: b.replace(b'"Sequential"', b'"Dinosaur"'), "'Dinosaur'"),
        ("config.json", lambda b: b.replace(b'"Dense"', b'"Conv3D"'), "'Conv3D'"),
        ("config.json", lambda b: b.replace(b'"relu"', b'"relux"'), "'relux'"),
        ("model.weights.h5", lambda b: b[: len(b) // 2], "not a valid HDF5 file"),
        ("model.weights.h5", lambda b: b"not hdf5 at all", "not a valid HDF5 file"),
    ],
    ids=[
        "no-config",
        "no-weights",
        "bad-json",
        "unknown-model",
        "unsupported-layer",
        "unknown-activation",
        "truncated-h5",
        "foreign-h5",
    ],
)
def test_broken_members(saved, member, transform, message):
    _, tmp = saved
    rewrite_member(tmp / "model.keras", member, transform)
    with pytest.raises(BadFileError, match=rf"model\.keras.*{message}"):
        mk.models.load_model(tmp / "model.keras")


def test_code_in_a_config_is_never_run(saved):
    """A config naming a lambda, a module function, or a pickle-style object is refused: minikeras
    looks names up in its own tables and never imports or runs anything from a file."""
    _, tmp = saved
    lambda_entry = {"class_name": "__lambda__", "config": {"value": ["4wAAAA==", None, None]}}
    system = {"module": "os", "class_name": "function", "config": "system"}
    for activation, shown in ((lambda_entry, "__lambda__"), (system, "system")):
        config = json.loads(zipfile.ZipFile(tmp / "model.keras").read("config.json"))
        config["config"]["layers"][1]["config"]["activation"] = activation
        path = tmp / f"evil-{shown}.keras"
        (path).write_bytes((tmp / "model.keras").read_bytes())
        rewrite_member(path, "config.json", lambda _, c=config: json.dumps(c).encode())
        with pytest.raises(BadFileError, match=f"activation '{shown}'.*never loaded"):
            mk.models.load_model(path)
    config["config"]["layers"][1] = {"module": "os", "class_name": "system", "config": {}}
    rewrite_member(path, "config.json", lambda _: json.dumps(config).encode())
    with pytest.raises(BadFileError, match="'system' is not supported"):
        mk.models.load_model(path)


def test_h5_links_out_of_the_file_are_refused(saved, h5py):
    model, tmp = saved
    with h5py.File(tmp / "model.weights.h5", "a") as f:
        del f["layers/dense/vars/0"]
        f["layers/dense/vars/0"] = h5py.ExternalLink("/etc/passwd", "/x")
    before = state(model)
    with pytest.raises(BadFileError, match="ExternalLink: not allowed"):
        model.load_weights(tmp / "model.weights.h5")
    assert_same_state(before, state(model))


# ---------------------------------------------------------------------- wrong architecture
def test_weights_for_another_architecture_leave_the_model_unchanged(saved):
    _, tmp = saved
    other = trained_model(units=5, seed=1)
    before = state(other)
    with pytest.raises(
        BadFileError,
        match=r"model\.weights\.h5: layer 'dense_\d+' \(layers/dense\): weight 'kernel' has "
        r"shape \(4, 5\) in the model but \(4, 3\) in the file",
    ):
        other.load_weights(tmp / "model.weights.h5")
    assert_same_state(before, state(other))
    with pytest.raises(BadFileError, match="shape"):
        other.load_weights(tmp / "model.keras")
    assert_same_state(before, state(other))


def test_a_file_with_more_layers_is_refused(saved):
    _, tmp = saved
    mk.utils.set_random_seed(0)
    smaller = mk.Sequential([Input(shape=(4,)), Dense(3, activation="relu")])
    before = smaller.get_weights()
    with pytest.raises(BadFileError, match=r"a layer the model does not have \(layers/dense_1\)"):
        smaller.load_weights(tmp / "model.weights.h5")
    np.testing.assert_array_equal(before[0], smaller.get_weights()[0])


def test_truncated_weights_file_leaves_the_model_unchanged(saved):
    model, tmp = saved
    data = (tmp / "model.weights.h5").read_bytes()
    (tmp / "cut.weights.h5").write_bytes(data[: len(data) // 3])
    before = state(model)
    with pytest.raises(BadFileError, match=r"cut\.weights\.h5: not a valid HDF5 file"):
        model.load_weights(tmp / "cut.weights.h5")
    assert_same_state(before, state(model))


def test_optimizer_state_of_another_optimizer_is_skipped_with_keras_warning(saved):
    _, tmp = saved
    mk.utils.set_random_seed(0)
    model = mk.Sequential([Input(shape=(4,)), Dense(3, activation="relu"), Dense(2)])
    model.compile(optimizer="sgd", loss="mse")  # no slots; the file holds Adam's
    with pytest.warns(UserWarning, match=r"Skipping variable loading for optimizer 'sgd(_\d+)?'"):
        model.load_weights(tmp / "model.weights.h5")
    assert model.optimizer.iterations == 0


def test_load_weights_takes_the_optimizer_state_into_built_slots_only(saved):
    """As Keras: a freshly compiled optimizer (not built) keeps its own state, with Keras's
    warning; one whose slots exist takes the file's."""
    trained, tmp = saved
    mk.utils.set_random_seed(5)
    model = mk.Sequential([Input(shape=(4,)), Dense(3, activation="relu"), Dense(2)])
    model.compile(optimizer="adam", loss="mse")
    with pytest.warns(UserWarning, match="Skipping variable loading for optimizer"):
        model.load_weights(tmp / "model.weights.h5")
    assert model.optimizer.iterations == 0
    model.optimizer.build(model.trainable_weights)
    model.load_weights(tmp / "model.weights.h5")
    assert_same_state(state(trained), state(model))


# ---------------------------------------------------------------------- atomic saves
def test_failed_save_keeps_the_previous_file(saved, monkeypatch):
    model, tmp = saved
    previous_keras = (tmp / "model.keras").read_bytes()
    previous_weights = (tmp / "model.weights.h5").read_bytes()
    model.fit(np.ones((4, 4), "float32"), np.ones((4, 2), "float32"), verbose=0)

    real_writestr = zipfile.ZipFile.writestr

    def fail_on_weights(self, name, data, *args, **kwargs):
        if name == "model.weights.h5":  # metadata and config are written already
            real_writestr(self, name, data[: len(data) // 2])
            raise OSError("disk full")
        return real_writestr(self, name, data, *args, **kwargs)

    monkeypatch.setattr(zipfile.ZipFile, "writestr", fail_on_weights)
    with pytest.raises(OSError, match="disk full"):
        model.save(tmp / "model.keras")
    monkeypatch.undo()

    from minikeras.saving import h5_state

    real_write_state = h5_state.write_state

    def fail_halfway(h5, model_, objects_to_skip=None):
        h5.create_group("layers/dense/vars")["0"] = np.zeros(3)
        raise RuntimeError("killed halfway")

    monkeypatch.setattr("minikeras.saving.files.write_state", fail_halfway)
    with pytest.raises(RuntimeError, match="killed halfway"):
        model.save_weights(tmp / "model.weights.h5")
    assert real_write_state is not fail_halfway

    assert (tmp / "model.keras").read_bytes() == previous_keras
    assert (tmp / "model.weights.h5").read_bytes() == previous_weights
    assert sorted(p.name for p in tmp.iterdir()) == ["model.keras", "model.weights.h5"]
    mk.models.load_model(tmp / "model.keras")  # still a good file


KILLED_SAVE = """
import sys, time, zipfile
import numpy as np
import minikeras as mk
from minikeras.layers import Dense, Input
model = mk.Sequential([Input(shape=(4,)), Dense(3)])
real_writestr = zipfile.ZipFile.writestr
def hang(self, name, data, *args, **kwargs):
    real_writestr(self, name, data, *args, **kwargs)
    if name == "config.json":
        print("writing", flush=True)
        time.sleep(60)
zipfile.ZipFile.writestr = hang
model.save(sys.argv[1])
"""


def test_kill_mid_save_keeps_the_previous_file(saved):
    _, tmp = saved
    previous = (tmp / "model.keras").read_bytes()
    process = subprocess.Popen(
        [sys.executable, "-c", KILLED_SAVE, str(tmp / "model.keras")],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout.readline().strip() == "writing"
    finally:
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
    assert (tmp / "model.keras").read_bytes() == previous
    leftovers = [p.name for p in tmp.iterdir() if p.name.endswith(".tmp")]
    assert all(name.startswith(".model.keras.") for name in leftovers)  # never the file itself
    mk.models.load_model(tmp / "model.keras")


def test_saved_files_get_ordinary_permissions(saved):
    _, tmp = saved
    mask = os.umask(0)
    os.umask(mask)
    assert (tmp / "model.keras").stat().st_mode & 0o777 == 0o666 & ~mask


# ---------------------------------------------------------------------- arguments and extras
def test_argument_errors(saved):
    model, tmp = saved
    with pytest.raises(ValueError, match="must end in `.weights.h5`"):
        model.save_weights(tmp / "w.h5")
    with pytest.raises(ValueError, match="`.keras` extension"):
        model.save(tmp / "model.zip")
    with pytest.raises(FileExistsError, match="overwrite=False"):
        model.save(tmp / "model.keras", overwrite=False)
    with pytest.raises(ValueError, match="File not found"):
        mk.models.load_model(tmp / "missing.keras")
    with pytest.raises(ValueError, match="not yet been built"):
        mk.Sequential([Dense(2)]).load_weights(tmp / "model.weights.h5")


def test_h5py_missing_gives_the_install_command(saved, monkeypatch):
    model, tmp = saved
    monkeypatch.setitem(sys.modules, "h5py", None)
    with pytest.raises(ImportError, match=r"pip install 'minikeras\[h5\]'"):
        model.save(tmp / "again.keras")


def test_importing_minikeras_does_not_import_h5py():
    code = "import sys, minikeras, minikeras.models; print('h5py' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_round_trip_in_memory_is_exact(saved):
    model, tmp = saved
    loaded = mk.models.load_model(tmp / "model.keras")
    assert_same_state(state(model), state(loaded))
    assert loaded.get_config() == model.get_config()
    buffer = io.BytesIO((tmp / "model.keras").read_bytes())
    assert zipfile.ZipFile(buffer).namelist() == [
        "metadata.json",
        "config.json",
        "model.weights.h5",
    ]
