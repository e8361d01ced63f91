"""Files made to exhaust memory are refused before they are read, by Keras and by minikeras
alike (ValueError): a zip member declaring far more bytes than it stores (config, weights or
any other member) and an h5 dataset declaring a huge shape filled by its fill value. The
limits are Keras's (saving_lib's module constants, gigabytes); lowered here, in both libraries
at once, so that small files stand for the bombs."""

import contextlib
import os
import zipfile
from unittest import mock

import numpy as np
import pytest

import minikeras as mk
from minikeras.saving import saving_lib


@contextlib.contextmanager
def lowered(modules, **limits):
    """Each module's limits set to `limits` for a block, then put back."""
    with contextlib.ExitStack() as stack:
        for module in modules:
            for name, value in limits.items():
                stack.enter_context(mock.patch.object(module, name, value))
        yield


@pytest.fixture
def keras_saving_lib(keras):
    from keras.src.saving import saving_lib as theirs

    return theirs


def good_file(keras, path):
    keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)]).save(path)
    with zipfile.ZipFile(path) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


def write_zip(path, members, deflated=()):
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            info = zipfile.ZipInfo(name)
            info.compress_type = zipfile.ZIP_DEFLATED if name in deflated else zipfile.ZIP_STORED
            zf.writestr(info, data)


@pytest.mark.parametrize("member", ["config.json", "model.weights.h5", "assets/extra.bin"])
def test_a_zip_bomb_member_is_refused_as_keras(keras, keras_saving_lib, tmp_path, member):
    members = good_file(keras, str(tmp_path / "good.keras"))
    members[member] = (
        b'{"x": "' + b" " * 200_000 + b'"}' if member == "config.json" else b"\0" * 200_000
    )
    path = str(tmp_path / "evil.keras")
    write_zip(path, members, deflated=[member])
    limits = dict(
        _ZIP_MEMBER_BOMB_FLOOR_BYTES=64,
        _ZIP_MEMBER_MAX_EXPANSION=10,
        _ZIP_EXTRACT_BOMB_FLOOR_BYTES=64,
    )
    with lowered([saving_lib, keras_saving_lib], **limits):
        for lib in (keras, mk):
            with pytest.raises(ValueError, match="decompression bomb"):
                lib.saving.load_model(path)


def test_the_same_file_loads_under_the_normal_limits(keras, tmp_path):
    members = good_file(keras, str(tmp_path / "good.keras"))
    path = str(tmp_path / "fine.keras")
    write_zip(path, members, deflated=["config.json"])  # compressed a little: fine
    assert mk.saving.load_model(path).layers[0].units == 3


def test_an_h5_shape_bomb_is_refused_as_keras(keras, keras_saving_lib, h5py, tmp_path):
    path = str(tmp_path / "bomb.h5")
    with h5py.File(path, "w") as f:
        f.create_dataset("d", shape=(2**50,), dtype="float64", chunks=(1024,), fillvalue=0.0)
        f["plain"] = np.ones(3)
        f["link"] = h5py.SoftLink("/plain")
    assert os.path.getsize(path) < 1 << 20
    with h5py.File(path, "r") as f:
        for lib in (keras_saving_lib, saving_lib):
            with pytest.raises(ValueError, match="shape bomb"):
                lib.safe_get_h5_dataset(f, "d")
            with pytest.raises(ValueError, match="SoftLink"):
                lib.safe_get_h5_dataset(f, "link")
            np.testing.assert_array_equal(lib.safe_get_h5_dataset(f, "plain")[()], np.ones(3))
