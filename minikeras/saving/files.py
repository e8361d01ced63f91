"""Keras 3's files: the `.keras` zip and the `.weights.h5` weights file, written and read.

A `.keras` file is a zip of three members, stored uncompressed (keras/src/saving/saving_lib.py
`_save_model_to_fileobj`):

    metadata.json      {"keras_version": "3.15.1", "date_saved": "2025-01-31@12:00:00"}
    config.json        the model's config (see serialization.py)
    model.weights.h5   the weights and optimizer state (see h5_state.py)

Every save goes to a temporary file in the target's directory and is renamed onto the target only
once complete, so an exception or a kill mid-save leaves the previous file as it was.
"""

import contextlib
import datetime
import io
import json
import os
import shutil
import tempfile
import warnings
import zipfile
import zlib

from minikeras.saving import layer_state, legacy_h5, serialization, sharding
from minikeras.saving.h5_state import (
    BadFileError,
    import_h5py,
    plan_load,
    state_groups,
    write_state,
)
from minikeras.utils import object_registration
from minikeras.utils.object_registration import safe_mode_scope

KERAS_VERSION = "3.15.1"  # the Keras release whose file format this writes
CONFIG_NAME = "config.json"
METADATA_NAME = "metadata.json"
WEIGHTS_NAME = "model.weights.h5"
HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"
LEGACY_H5_WARNING = (  # Keras's words (keras/src/saving/saving_api.py)
    "You are saving your model as an HDF5 file via `model.save()` or "
    "`keras.saving.save_model(model)`. This file format is considered legacy. We recommend "
    "using instead the native Keras format, e.g. `model.save('my_model.keras')` or "
    "`keras.saving.save_model(model, 'my_model.keras')`. "
)
MAX_CONFIG_BYTES = 64 << 20  # a model's config is kilobytes; more is not a Keras file


# ---------------------------------------------------------------------- public functions
def _check_save_format(filepath, save_format):
    """Keras 2's `save_format`: Keras 3 infers the format from the file's extension, warns
    when that extension says it, and refuses a path without one (keras/src/saving/saving_api.py)."""
    if not save_format:
        return
    if str(filepath).endswith((".h5", ".hdf5", ".keras")):
        warnings.warn(
            "The `save_format` argument is deprecated in Keras 3. We recommend removing this "
            "argument as it can be inferred from the file path. "
            f"Received: save_format={save_format}",
            stacklevel=4,
        )
        return
    raise ValueError(
        "The `save_format` argument is deprecated in Keras 3. Please remove this argument and "
        "pass a file path with either `.keras` or `.h5` extension. "
        f"Received: save_format={save_format}"
    )


def save_model(model, filepath, overwrite=True, zipped=None, **kwargs):
    """Write `model` to a `.keras` file that `keras.saving.load_model` opens: architecture,
    weights, compile arguments and optimizer state (Keras then trains on from where it stopped).

    >>> import os, tempfile, minikeras
    >>> from minikeras.layers import Dense, Input
    >>> model = minikeras.Sequential([Input(shape=(3,)), Dense(2)])
    >>> path = os.path.join(tempfile.mkdtemp(), "model.keras")
    >>> model.save(path)
    >>> minikeras.models.load_model(path).layers[0].units
    2
    """
    include_optimizer = kwargs.pop("include_optimizer", True)
    _check_save_format(filepath, kwargs.pop("save_format", False))
    if kwargs:
        raise ValueError(f"The following argument(s) are not supported: {list(kwargs.keys())}")
    if isinstance(filepath, io.IOBase):  # an open binary file: the .keras zip written into it
        _write_keras_zip(filepath, model)
        return
    filepath = os.fspath(filepath)
    if zipped is False:  # a directory holding the zip's members, as Keras's `zipped=False`
        if filepath.endswith(".keras"):
            raise ValueError(
                "When using `zipped=False`, the `filepath` argument should not end in "
                f"`.keras`. Received: filepath={filepath}"
            )
        _check_overwrite(filepath, overwrite)
        _write_keras_dir(filepath, model)
        return
    if filepath.endswith((".h5", ".hdf5")):
        warnings.warn(LEGACY_H5_WARNING, stacklevel=3)
        legacy_h5.save_model(model, filepath, overwrite, include_optimizer)
        return
    if not filepath.endswith(".keras"):
        raise ValueError(
            "Invalid filepath extension for saving. Please add either a `.keras` extension for "
            "the native Keras format (recommended) or a `.h5` extension. "
            f"Received: filepath={filepath}."
        )
    if not model.built:
        warnings.warn(
            "You are saving a model that has not yet been built. It might not contain any "
            "weights yet. Consider building the model first by calling it on some data.",
            stacklevel=3,
        )
    _check_overwrite(filepath, overwrite)
    with atomic_write(filepath) as tmp:
        _write_keras_zip(tmp, model)


def _write_keras_zip(target, model):
    """The `.keras` zip of `model` into `target` (a path or an open binary file)."""
    h5py = import_h5py()
    config_json = serialization.to_json(model)
    metadata_json = json.dumps(
        {
            "keras_version": KERAS_VERSION,
            "date_saved": datetime.datetime.now().strftime("%Y-%m-%d@%H:%M:%S"),
        }
    )
    weights = io.BytesIO()
    with h5py.File(weights, "w") as h5:
        write_state(h5, model)
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_STORED) as zf:
        zf.writestr(METADATA_NAME, metadata_json)
        zf.writestr(CONFIG_NAME, config_json)
        zf.writestr(WEIGHTS_NAME, weights.getvalue())
        for name, data in layer_state.asset_members(state_groups(model)):
            zf.writestr(name, data)  # a lookup layer's vocabulary.txt


def _write_keras_dir(dirpath, model):
    """The zip's members as files of the directory `dirpath`, made complete beside it and then
    renamed into place (a directory already there is replaced only once the new one is whole)."""
    dirpath = os.path.abspath(dirpath)
    parent = os.path.dirname(dirpath)
    os.makedirs(parent, exist_ok=True)
    members = io.BytesIO()
    _write_keras_zip(members, model)
    tmp = tempfile.mkdtemp(prefix=f".{os.path.basename(dirpath)}.", dir=parent)
    try:
        with zipfile.ZipFile(members) as zf:
            zf.extractall(tmp)  # names minikeras wrote itself
        os.makedirs(os.path.join(tmp, "assets"), exist_ok=True)  # Keras's directory has one
        old = None
        if os.path.exists(dirpath):
            old = tempfile.mkdtemp(prefix=f".{os.path.basename(dirpath)}.old.", dir=parent)
            os.replace(dirpath, os.path.join(old, "previous"))
        os.replace(tmp, dirpath)
        if old is not None:
            shutil.rmtree(old)
    finally:
        if os.path.exists(tmp):
            shutil.rmtree(tmp)


def load_model(filepath, custom_objects=None, compile=True, safe_mode=True):
    """A model from a `.keras` file written by Keras 3 or minikeras, compiled as it was, with its
    optimizer state. A file that is not one, is damaged, or holds a model minikeras cannot build
    raises BadFileError (a ValueError) naming the file and the problem.

    custom_objects: your own classes and functions the file names ({name: object}), beside
    those registered with `register_keras_serializable`.
    safe_mode: as Keras: a `Lambda` layer's code is loaded only with safe_mode=False.
    """
    if isinstance(filepath, io.IOBase):  # an open binary file holding a .keras zip
        source = filepath
        filepath = getattr(filepath, "name", "<file object>")
    else:
        source = filepath = os.fspath(filepath)
    if isinstance(source, str) and not filepath.endswith(".keras"):
        if filepath.endswith((".h5", ".hdf5")):
            return legacy_h5.load_model(filepath, custom_objects, compile, safe_mode)
        if os.path.isdir(filepath) and os.path.exists(os.path.join(filepath, CONFIG_NAME)):
            source = _zip_of_dir(filepath)  # Keras's `zipped=False` directory
        else:
            raise ValueError(
                f"File format not supported: filepath={filepath}. minikeras opens Keras 3 "
                "`.keras` files, their unzipped directories and legacy H5 format files (`.h5` "
                "extension)."
            )
    config, weights = _read_keras_zip(source, where=filepath)
    try:
        with object_registration.custom_object_scope(custom_objects), safe_mode_scope(safe_mode):
            model = serialization.deserialize_model(config, compile=compile)
    except (ValueError, TypeError, KeyError, NotImplementedError) as error:
        raise BadFileError(f"Cannot load {filepath}: {error}") from None
    with _open_h5(weights, f"{filepath} ({WEIGHTS_NAME})") as h5:
        plan_load(h5, model, f"Cannot load {filepath}").apply()
    if not isinstance(source, str):
        source.seek(0)
    with zipfile.ZipFile(source) as zf:  # after the variables, as Keras loads assets
        layer_state.load_assets(zf, state_groups(model), f"Cannot load {filepath}")
    return model


def _zip_of_dir(dirpath):
    """A `zipped=False` directory read as the zip it stands for (an in-memory one), so that it
    goes through every check a `.keras` file does. Links are not followed out of it."""
    members = io.BytesIO()
    root = os.path.realpath(dirpath)
    with zipfile.ZipFile(members, "w") as zf:
        for folder, _, names in os.walk(root):
            for name in names:
                full = os.path.join(folder, name)
                if os.path.islink(full) or not os.path.realpath(full).startswith(root + os.sep):
                    raise BadFileError(f"Cannot load {dirpath}: {full} is a link")
                zf.write(full, os.path.relpath(full, root))
    members.seek(0)
    return members


def save_weights(model, filepath, overwrite=True, max_shard_size=None, objects_to_skip=None):
    """Write the weights (and optimizer state, if compiled) to a `.weights.h5` file in Keras 3's
    layout; `keras.Model.load_weights` reads it into the same architecture. With
    `max_shard_size` (gigabytes), a `.weights.json` index and shard files, as Keras's."""
    filepath = os.fspath(filepath)
    if max_shard_size is None and not filepath.endswith(".weights.h5"):
        raise ValueError(f"The filename must end in `.weights.h5`. Received: filepath={filepath}")
    if max_shard_size is not None and not filepath.endswith(("weights.h5", "weights.json")):
        raise ValueError(
            "The filename must end in `.weights.json` when `max_shard_size` is specified. "
            f"Received: filepath={filepath}"
        )
    if not model.built:
        raise ValueError(
            "You are saving a model that has not yet been built. Try building the model first "
            "by calling it on some data or by using `build()`."
        )
    _check_overwrite(filepath, overwrite)
    if max_shard_size is not None:  # an index and shard files (sharding.py)
        sharding.save_sharded(model, filepath, max_shard_size, objects_to_skip)
        return
    h5py = import_h5py()
    with atomic_write(filepath) as tmp:
        with h5py.File(tmp, "w") as h5:
            write_state(h5, model, objects_to_skip)


def load_weights(model, filepath, skip_mismatch=False, **kwargs):
    """Copy weights from a `.weights.h5` or `.keras` file (Keras's or minikeras's) into `model`.

    Everything is checked first: a file for another architecture, or a damaged one, raises
    BadFileError (a ValueError) naming the file and the problem, and the model is left unchanged.
    The optimizer state in the file is loaded too when the model's optimizer is built (has its
    slots), as Keras; a freshly compiled optimizer, or a state of another shape, is skipped with
    Keras's warning, so a model compiled for fine-tuning keeps its own learning rate.
    """
    objects_to_skip = kwargs.pop("objects_to_skip", None)
    by_name = kwargs.pop("by_name", None)
    if kwargs:
        raise ValueError(f"Invalid keyword arguments: {kwargs}")
    filepath = os.fspath(filepath)
    legacy = filepath.endswith((".h5", ".hdf5")) and not filepath.endswith(".weights.h5")
    if objects_to_skip is not None and not filepath.endswith((".weights.h5", ".weights.json")):
        raise ValueError(
            f"`objects_to_skip` only supports loading '.weights.h5' files.Received: {filepath}"
        )
    if by_name is not None and not legacy:  # (Keras checks it for .keras and .weights.h5)
        raise ValueError(
            f"`by_name` only supports loading legacy '.h5' or '.hdf5' files. Received: {filepath}"
        )
    if not model.built:
        raise ValueError(
            "You are loading weights into a model that has not yet been built. Try building the "
            "model first by calling it on some data or by using `build()`."
        )
    if filepath.endswith(".keras"):
        _, weights = _read_keras_zip(filepath, need_config=False)
        source = f"{filepath} ({WEIGHTS_NAME})"
    elif filepath.endswith(".weights.json"):  # an index of shards
        weights = sharding.gather_shards(filepath)
        source = filepath
    elif filepath.endswith(".weights.h5"):
        if not os.path.exists(filepath):
            raise FileNotFoundError(f"No such weights file: {filepath}")
        weights = filepath
        source = filepath
    elif filepath.endswith((".h5", ".hdf5")):  # Keras 2's format: by layer order, as Keras
        if not os.path.exists(filepath):
            raise FileNotFoundError(f"No such weights file: {filepath}")
        legacy_h5.load_weights(model, filepath, skip_mismatch=skip_mismatch, by_name=by_name)
        return
    else:
        raise ValueError(
            "File format not supported: filepath="
            f"{filepath}. minikeras loads weights from `.weights.h5`, `.keras` and legacy "
            "`.h5` files."
        )
    with _open_h5(weights, source) as h5:
        plan = plan_load(
            h5,
            model,
            f"Cannot load weights from {filepath}",
            optimizer_mismatch="warn",
            skip_mismatch=skip_mismatch,
            objects_to_skip=objects_to_skip,
        )
    plan.apply()


# ---------------------------------------------------------------------- atomic writes
@contextlib.contextmanager
def atomic_write(filepath):
    """Yield a temporary path beside `filepath`; when the block ends without an exception, the
    temporary file is flushed to disk and renamed onto `filepath` (one atomic step). On an
    exception it is deleted, and `filepath` is untouched. After a kill, a `.name.*.tmp` file may
    be left behind, never a half-written `filepath`."""
    filepath = os.path.abspath(filepath)
    if os.path.isdir(filepath):
        raise IsADirectoryError(f"Cannot save to {filepath}: it is a directory")
    directory, base = os.path.split(filepath)
    fd, tmp = tempfile.mkstemp(prefix=f".{base}.", suffix=".tmp", dir=directory)
    os.close(fd)
    try:
        yield tmp
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes it private; a saved file is not
        os.replace(tmp, filepath)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    with contextlib.suppress(OSError):  # make the rename itself durable, where supported
        dir_fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _check_overwrite(filepath, overwrite):
    # Keras asks on the terminal (`ask_to_proceed_with_overwrite`); a library call should not
    # wait for input, so minikeras refuses instead
    if not overwrite and os.path.exists(filepath):
        raise FileExistsError(f"{filepath} exists and overwrite=False")


# ---------------------------------------------------------------------- reading files
def _read_keras_zip(filepath, need_config=True, where=None):
    """(config dict or None, weights bytes) from a `.keras` file (a path or an open binary
    file), with every check a damaged or foreign file fails."""
    if isinstance(filepath, str) and not os.path.exists(filepath):
        raise ValueError(
            f"File not found: filepath={filepath}. Please ensure the file is an accessible "
            "`.keras` zip file."
        )
    where = f"Cannot load {where or filepath}"
    try:
        zf = zipfile.ZipFile(filepath, "r")
    except zipfile.BadZipFile:
        if isinstance(filepath, str):
            with open(filepath, "rb") as f:
                head = f.read(8)
        else:
            filepath.seek(0)
            head = filepath.read(8)
        if head == HDF5_SIGNATURE:
            raise BadFileError(
                f"{where}: it is an HDF5 file, not a `.keras` zip archive (a `.weights.h5` "
                "file? use `model.load_weights`)"
            ) from None
        raise BadFileError(
            f"{where}: not a zip archive (a `.keras` file is one), or truncated"
        ) from None
    from minikeras.saving import saving_lib  # its guards' limits, read at each call

    with zf:
        names = zf.namelist()
        try:
            saving_lib._reject_zip_extract_bomb(zf)
        except ValueError as error:
            raise BadFileError(f"{where}: {error}") from None
        config = None
        if need_config:
            if CONFIG_NAME not in names:
                raise BadFileError(f"{where}: the archive has no {CONFIG_NAME}")
            raw = _read_member(zf, CONFIG_NAME, where, MAX_CONFIG_BYTES)
            try:
                config = json.loads(raw)
            except (json.JSONDecodeError, UnicodeDecodeError) as error:
                raise BadFileError(f"{where}: {CONFIG_NAME} is not valid JSON ({error})") from None
        if WEIGHTS_NAME not in names:
            other = " (npz weights are not supported)" if "model.weights.npz" in names else ""
            raise BadFileError(f"{where}: the archive has no {WEIGHTS_NAME}{other}")
        weights = _read_member(zf, WEIGHTS_NAME, where)
    return config, weights


def _read_member(zf, name, where, max_bytes=None):
    from minikeras.saving import saving_lib

    info = zf.getinfo(name)
    if max_bytes is not None and info.file_size > max_bytes:
        raise BadFileError(f"{where}: {name} declares {info.file_size} bytes: refused")
    try:
        return saving_lib._safe_zip_read(zf, name)  # a decompression bomb is refused
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as error:
        raise BadFileError(f"{where}: {name} is damaged ({error})") from None
    except ValueError as error:
        raise BadFileError(f"{where}: {error}") from None


@contextlib.contextmanager
def _open_h5(source, where):
    """An open h5py.File of a path or of bytes; a damaged or foreign file is a BadFileError."""
    h5py = import_h5py()
    target = io.BytesIO(source) if isinstance(source, bytes) else source
    try:
        h5 = h5py.File(target, "r")
    except OSError as error:
        raise BadFileError(
            f"Cannot load {where}: not a valid HDF5 file, or truncated or damaged ({error})"
        ) from None
    with h5:
        if "layer_names" in h5.attrs or "model_weights" in h5:
            raise BadFileError(
                f"Cannot load {where}: Keras 2's legacy weights layout; minikeras reads Keras "
                "3's (open it in Keras and save_weights to a `.weights.h5`)"
            )
        if "vars" not in h5 and "layers" not in h5:
            raise BadFileError(f"Cannot load {where}: not a Keras weights file (no 'layers')")
        yield h5
