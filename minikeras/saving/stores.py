"""Keras's storage classes (keras/src/saving/saving_lib.py), for code that reads or writes the
pieces of a Keras file itself (keras_hub's LoRA weights, a layer's own `save_assets`):

    H5IOStore     arrays in an HDF5 file: `make(path)` / `get(path)` select the group
                  `<path>/vars`, then `store[name] = array`, `store[name]`, `del`, `in`
    DiskIOStore   a directory for a layer's asset files, nothing written outside it
    NpzIOStore    arrays in a NumPy `.npz` file: one dict of arrays per path
    ShardedH5IOStore  H5IOStore over several files of bounded size and a `.json` index

minikeras's own `.keras` files are written by files.py; these classes read the same layout.
Reading refuses links and files made to exhaust memory, as Keras's do.
"""

import io
import json
import math
import os
import pathlib
import shutil
import tempfile

import numpy as np

from minikeras.saving.h5_state import import_h5py

# an npz member whose header declares more than the floor and more than MAX_EXPANSION times the
# bytes stored for it is a decompression bomb (Keras's limits)
_NPZ_MEMBER_BOMB_FLOOR_BYTES = 1 << 32  # 4 GiB
_NPZ_MEMBER_MAX_EXPANSION = 100


class H5IOStore:
    """Arrays in an HDF5 file (a path, a BytesIO, or a member `path_or_io` of an open zip
    `archive`), under groups `<path>/vars`. mode "w" writes, "r" reads."""

    def __init__(self, path_or_io, archive=None, mode="r"):
        if mode not in ("w", "r"):
            raise ValueError(f"`mode` should be either 'w' or 'r'. Received: {mode}")
        if isinstance(path_or_io, (str, pathlib.Path)):
            path_or_io = pathlib.Path(path_or_io)
        elif isinstance(path_or_io, io.BytesIO):
            if archive is not None:
                raise ValueError(
                    "When `path_or_io` is an `io.BytesIO` object, `archive` should be `None`."
                )
        else:
            raise TypeError(
                "`path_or_io` should be a `str`, `pathlib.Path` or `io.BytesIO` object. "
                f"Received: path_or_io={path_or_io} of type {type(path_or_io)}."
            )
        h5py = import_h5py()
        self.path_or_io, self.archive, self.mode = path_or_io, archive, mode
        self.io_file = None
        if archive is not None:  # the h5 file is a member of the zip
            self.io_file = io.BytesIO() if mode == "w" else archive.open(str(path_or_io), "r")
            self.h5_file = h5py.File(self.io_file, mode=mode)
        else:
            self.h5_file = h5py.File(path_or_io, mode=mode)
        self._path = None
        self._group = {}  # the selected `vars` group; {} until one exists
        self._group_made = False

    def __bool__(self):
        return bool(self.h5_file)

    def make(self, path, metadata=None):
        """Select `<path>/vars` for writing. The group is created on the first write (so an
        unused store leaves no empty group), at once when there is `metadata` to attach."""
        if self.mode != "w":
            raise ValueError("`make` is only allowed in write mode.")
        if not isinstance(metadata, (dict, type(None))):
            raise ValueError(f"`metadata` should be a dict or `None`. Received: {metadata}")
        self._path, self._group, self._group_made = path, {}, False
        if metadata:
            self._make_group(metadata)
        return self

    def get(self, path):
        """Select `<path>/vars` for reading; an absent group reads as empty."""
        from minikeras.saving.legacy_h5 import get_group

        if self.mode != "r":
            raise ValueError("`get` is only allowed in read mode.")
        self._path, self._group, self._group_made = path, {}, True
        where = f"{path}/vars" if path else "vars"
        if where in self.h5_file:
            self._group = get_group(self.h5_file, where)
        return self

    def has_path(self, path):
        """Whether the file has a group at `path`."""
        return path in self.h5_file

    def close(self):
        self.h5_file.close()
        if self.mode == "w" and self.archive is not None:
            self.archive.writestr(str(self.path_or_io), self.io_file.getvalue())
        if self.io_file is not None:
            self.io_file.close()

    def _make_group(self, metadata=None):
        parent = self.h5_file.create_group(self._path) if self._path else self.h5_file
        self._group = parent.create_group("vars")
        for key, value in (metadata or {}).items():
            self._group.attrs[key] = value
        self._group_made = True

    # the selected group, as a dict of arrays
    def __len__(self):
        return len(self._group)

    def keys(self):
        return self._group.keys()

    def __contains__(self, name):
        return name in self._group

    def __getitem__(self, name):
        from minikeras.saving.saving_lib import safe_get_h5_dataset

        return np.asarray(safe_get_h5_dataset(self._group, name))

    def __setitem__(self, name, value):
        if self.mode != "w":
            raise ValueError("Setting a value is only allowed in write mode.")
        if not self._group_made:
            self._make_group()
        self._group[name] = np.asarray(value)

    def __delitem__(self, name):
        if self.mode != "w":
            raise ValueError("Deleting a value is only allowed in write mode.")
        del self._group[name]


class DiskIOStore:
    """A directory for asset files. Without `archive`: mode "r" reads `root_path` itself, mode
    "w" writes into a temporary directory. With an open zip `archive`, `root_path` is the
    folder inside it (extracted for "r", written back by `close` for "w")."""

    def __init__(self, root_path, archive=None, mode=None):
        from minikeras.saving.saving_lib import _reject_zip_extract_bomb

        self.root_path, self.archive, self.mode = root_path, archive, mode
        self.tmp_dir = None
        if archive is None and mode == "r":
            self.working_dir = root_path
            return
        self.tmp_dir = tempfile.mkdtemp()
        if archive is not None and mode == "r":
            _reject_zip_extract_bomb(archive)
            archive.extractall(self.tmp_dir)
        self.working_dir = os.path.join(self.tmp_dir, root_path).replace("\\", "/")
        if mode == "w":
            os.makedirs(self.working_dir, exist_ok=True)

    def _full_path(self, path):
        """`path` under the working directory; ValueError if it leads out of it (`..`, an
        absolute path, a backslash spelling of either)."""
        path = path.replace("\\", "/")
        refused = ValueError(f"Invalid asset path: '{path}' escapes the asset directory.")
        if "://" in self.working_dir:  # a remote directory: checked as text, not resolved
            if path.startswith("/") or "://" in path or ".." in path.split("/"):
                raise refused
            return f"{self.working_dir.rstrip('/')}/{path}"
        base = os.path.realpath(self.working_dir)
        full = os.path.realpath(os.path.join(base, path))
        if os.path.commonpath([full, base]) != base:
            raise refused
        return full.replace("\\", "/")

    def make(self, path):
        """The directory for `path` (made if missing)."""
        if not path:
            return self.working_dir
        full = self._full_path(path)
        os.makedirs(full, exist_ok=True)
        return full

    def get(self, path):
        """The directory for `path`, or None when it does not exist."""
        if not path:
            return self.working_dir
        full = self._full_path(path)
        return full if os.path.exists(full) else None

    def has_path(self, path):
        if not path:
            return os.path.exists(self.working_dir)
        try:
            return os.path.exists(self._full_path(path))
        except ValueError:
            return False

    def close(self):
        if self.mode == "w" and self.archive is not None:
            for folder, _, names in os.walk(self.working_dir):
                for name in names:
                    full = os.path.join(folder, name)
                    inside = os.path.relpath(full, self.working_dir)
                    self.archive.write(full, os.path.join(self.root_path, inside))
        if self.tmp_dir and os.path.exists(self.tmp_dir):
            shutil.rmtree(self.tmp_dir)


class NpzIOStore:
    """Arrays in a NumPy `.npz` file (a path, or a member `root_path` of an open zip
    `archive`): `make(path)` gives a dict to fill, written by `close` in mode "w"."""

    def __init__(self, root_path, archive=None, mode="r"):
        self.root_path, self.archive, self.mode = root_path, archive, mode
        if mode == "w":
            self.contents = {}
            return
        self.f = archive.open(root_path, "r") if archive is not None else open(root_path, "rb")
        self.contents = np.load(self.f, allow_pickle=False)

    def make(self, path, metadata=None):
        key = path or "__root__"
        self.contents[key] = {}
        return self.contents[key]

    def get(self, path):
        if not path:
            return dict(self.contents["__root__"]) if "__root__" in self.contents else {}
        if path not in self.contents:
            return {}
        self._reject_bomb(path)
        return self.contents[path].tolist()

    def _reject_bomb(self, path):
        """ValueError if the member's header declares far more bytes than it stores: NumPy
        would allocate the declared array before finding the data missing."""
        members = getattr(self.contents, "zip", None)
        if members is None or f"{path}.npy" not in members.namelist():
            return
        info = members.getinfo(f"{path}.npy")
        with members.open(info) as f:
            major, _ = np.lib.format.read_magic(f)
            read_header = (
                np.lib.format.read_array_header_1_0
                if major == 1
                else np.lib.format.read_array_header_2_0
            )
            shape, _, dtype = read_header(f)
        declared = math.prod(shape) * dtype.itemsize
        if declared > _NPZ_MEMBER_BOMB_FLOOR_BYTES and declared > _NPZ_MEMBER_MAX_EXPANSION * max(
            info.compress_size, 1
        ):
            raise ValueError(
                f"Refusing to load npz weight '{path}': its header declares {declared} bytes "
                f"but only {info.compress_size} are stored on disk; refusing to load a "
                "potential decompression bomb."
            )

    def has_path(self, path):
        return path in self.contents

    def close(self):
        if self.mode == "w":
            if self.archive is not None:
                self.f = self.archive.open(self.root_path, "w", force_zip64=True)
            else:
                self.f = open(self.root_path, "wb")
            np.savez(self.f, **self.contents)
        self.f.close()


class ShardedH5IOStore:
    """H5IOStore's interface over several files, none larger than `max_shard_size` gigabytes,
    and a `.json` index naming the file(s) of each group (the layout of sharding.py):
    `<base>_00000.weights.h5`, `<base>_00001.weights.h5`, ... beside the index `<base>.json`.
    Every shard stays open until `close`, so a value is read or deleted in whichever holds it."""

    def __init__(self, path_or_io, max_shard_size=5, archive=None, mode="r"):
        from minikeras.saving.sharding import index_path

        if mode not in ("w", "r"):
            raise ValueError(f"`mode` should be either 'w' or 'r'. Received: {mode}")
        if not isinstance(path_or_io, (str, pathlib.Path)):
            raise TypeError(
                "`path_or_io` should be a `str`, `pathlib.Path` object. "
                f"Received: path_or_io={path_or_io} of type {type(path_or_io)}."
            )
        if archive is not None:
            raise NotImplementedError("minikeras writes sharded weights to files, not into a zip")
        self.mode = mode
        self.path = index_path(path_or_io, mode)
        self.base_name = self.path.stem.replace(".weights", "")
        self.max_shard_size = float(max_shard_size) * 1024**3  # gigabytes, in bytes
        self._files = {}  # shard file name → open h5py.File
        self._path = None
        if mode == "w":
            self.sharding_config = {"metadata": {"total_size": 0}, "weight_map": {}}
            self.current_shard_size = 0
            self._new_shard()
        else:
            with open(self.path) as f:
                self.sharding_config = json.load(f)

    def _new_shard(self):
        h5py = import_h5py()
        name = f"{self.base_name}_{len(self._files):05}.weights.h5"
        self._files[name] = h5py.File(self.path.with_name(name), "w")
        self.current_shard = name
        self.current_shard_size = 0

    def _file(self, name):
        """An open shard; in mode "r" only the names of the index, in its directory."""
        if name not in self._files:
            if os.path.basename(name) != name:
                raise ValueError(f"Invalid shard name in {self.path}: {name!r}")
            self._files[name] = import_h5py().File(self.path.with_name(name), "r")
        return self._files[name]

    @property
    def _group_name(self):
        return f"/{self._path}/vars" if self._path else "/vars"

    def _shards(self):
        """The files holding the selected group, in order."""
        names = self.sharding_config["weight_map"].get(self._group_name, [])
        return names if isinstance(names, list) else [names]

    def _groups(self):
        from minikeras.saving.legacy_h5 import get_group

        for name in self._shards():
            f = self._file(name)
            if self._group_name in f:
                yield name, get_group(f, self._group_name.strip("/"))

    def make(self, path, metadata=None):
        if self.mode != "w":
            raise ValueError("`make` is only allowed in write mode.")
        if not isinstance(metadata, (dict, type(None))):
            raise ValueError(f"`metadata` should be a dict or `None`. Received: {metadata}")
        self._path = path
        if metadata:
            group = self._files[self.current_shard].require_group(self._group_name)
            group.attrs.update(metadata)
        return self

    def get(self, path):
        if self.mode != "r":
            raise ValueError("`get` is only allowed in read mode.")
        self._path = path
        return self

    def has_path(self, path):
        """Whether the index names a group at or under `path`."""
        return any(
            key == f"/{path}" or key.startswith(f"/{path}/")
            for key in self.sharding_config["weight_map"]
        )

    def __setitem__(self, key, value):
        if self.mode != "w":
            raise ValueError("Setting a value is only allowed in write mode.")
        value = np.asarray(value)
        nbytes = value.size * value.dtype.itemsize
        if nbytes > self.max_shard_size:
            raise ValueError(
                f"The size of {key} is {nbytes} bytes which exceeds the maximum shard size "
                f"{int(self.max_shard_size)} bytes. You can increase the `max_shard_size` "
                "parameter to accommodate the size."
            )
        self.sharding_config["metadata"]["total_size"] += nbytes
        if self.current_shard_size + nbytes > self.max_shard_size:
            self._new_shard()
        self.current_shard_size += nbytes
        self._files[self.current_shard].require_group(self._group_name)[key] = value
        shards = self._shards()
        if self.current_shard not in shards:
            shards = [*shards, self.current_shard]
        weight_map = self.sharding_config["weight_map"]
        weight_map[self._group_name] = shards[0] if len(shards) == 1 else shards

    def __getitem__(self, key):
        from minikeras.saving.saving_lib import safe_get_h5_dataset

        for _, group in self._groups():
            if key in group:
                return np.asarray(safe_get_h5_dataset(group, key))
        raise KeyError(f"Key '{key}' not found in any of the shards: {self._shards()}")

    def __delitem__(self, key):
        if self.mode != "w":
            raise ValueError("Deleting a value is only allowed in write mode.")
        for _, group in self._groups():
            if key in group:
                del group[key]
                return
        raise KeyError(f"Key '{key}' not found in any of the shards: {self._shards()}")

    def __contains__(self, key):
        return any(key in group for _, group in self._groups())

    def keys(self):
        return [key for _, group in self._groups() for key in group]

    def __len__(self):
        return len(self.keys())

    def close(self):
        for f in self._files.values():
            f.close()
        self._files = {}
        if self.mode == "w":
            with open(self.path, "w") as f:
                f.write(json.dumps(self.sharding_config, indent=4))
