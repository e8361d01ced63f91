"""Keras's `keras.src.saving.saving_lib` names over minikeras's files (files.py does the work):
the members of a `.keras` zip, whole-model and weights-only saving and loading, and the
storage classes (stores.py)."""

from minikeras.saving import files, h5_state
from minikeras.saving.legacy_h5 import get_group as safe_get_h5_group  # noqa: F401 (Keras's name)
from minikeras.saving.stores import (  # noqa: F401 (Keras's names)
    DiskIOStore,
    H5IOStore,
    NpzIOStore,
    ShardedH5IOStore,
)

_CONFIG_FILENAME = files.CONFIG_NAME  # "config.json"
_METADATA_FILENAME = files.METADATA_NAME  # "metadata.json"
_VARS_FNAME_H5 = files.WEIGHTS_NAME  # "model.weights.h5"
_VARS_FNAME = _VARS_FNAME_H5.removesuffix(".h5")

# Guards against files made to exhaust memory or disk (Keras's, with its limits; loading reads
# them here at each call): a zip member declaring more than the floor and more than
# MAX_EXPANSION times the bytes stored for it is a decompression bomb; every member counts, with
# a lower floor, as Keras counts them before extracting; an h5 dataset likewise (h5_state.py).
_ZIP_MEMBER_BOMB_FLOOR_BYTES = 1 << 32  # 4 GiB
_ZIP_MEMBER_MAX_EXPANSION = 100
_ZIP_EXTRACT_BOMB_FLOOR_BYTES = 1 << 28  # 256 MiB
_H5_DATASET_BOMB_FLOOR_BYTES = h5_state.BOMB_FLOOR_BYTES
_H5_DATASET_MAX_EXPANSION = h5_state.BOMB_MAX_EXPANSION


def _reject_zip_bomb(archive, name, floor=None):
    """ValueError (Keras's words) if the member `name` of the open zip is a decompression bomb."""
    info = archive.getinfo(name)
    floor = _ZIP_MEMBER_BOMB_FLOOR_BYTES if floor is None else floor
    if info.file_size > floor and info.file_size > _ZIP_MEMBER_MAX_EXPANSION * info.compress_size:
        raise ValueError(
            f"Not allowed: ZIP member '{name}' declares {info.file_size} bytes but only "
            f"{info.compress_size} are stored on disk; refusing to load a potential "
            "decompression bomb."
        )


def _safe_zip_read(archive, name):
    """The member's bytes, once `_reject_zip_bomb` let it through."""
    _reject_zip_bomb(archive, name)
    with archive.open(name, "r") as f:
        return f.read()


def _reject_zip_extract_bomb(archive):
    """`_reject_zip_bomb` on every member, with the lower floor of extraction."""
    for name in archive.namelist():
        _reject_zip_bomb(archive, name, floor=_ZIP_EXTRACT_BOMB_FLOOR_BYTES)


def safe_get_h5_dataset(group, name):
    """The dataset `name` of an open h5py group, refusing links, external or virtual data and
    shape bombs with ValueError, as Keras's `safe_get_h5_dataset`; KeyError if absent."""
    import h5py

    if name not in group:
        raise KeyError(name)
    link = group.get(name, getclass=True, getlink=True)
    if link in (h5py.ExternalLink, h5py.SoftLink):
        raise ValueError(f"Not allowed: H5 file with {link.__name__}")
    dataset = group[name]
    if not isinstance(dataset, h5py.Dataset):
        raise ValueError(f"Invalid H5 file, expected Dataset, received {type(dataset)}")
    if dataset.external:
        raise ValueError(f"Not allowed: H5 file with external Dataset: {dataset.external}")
    if dataset.is_virtual:
        raise ValueError("Not allowed: H5 file with virtual Dataset")
    problem = h5_state.shape_bomb(
        dataset, name, _H5_DATASET_BOMB_FLOOR_BYTES, _H5_DATASET_MAX_EXPANSION
    )
    if problem:
        raise ValueError(problem)
    return dataset


def save_model(model, filepath, weights_format="h5", zipped=True):
    """The model to a `.keras` zip (Keras's `saving_lib.save_model`); weights in h5 only."""
    if weights_format != "h5":
        raise NotImplementedError(
            f"weights_format={weights_format!r} is not supported by minikeras: it writes h5"
        )
    files.save_model(model, filepath, zipped=zipped)


def load_model(filepath, custom_objects=None, compile=True, safe_mode=True):
    return files.load_model(filepath, custom_objects, compile, safe_mode)


def save_weights_only(model, filepath, max_shard_size=None, objects_to_skip=None):
    """The weights (and optimizer state) to a `.weights.h5` file (or an index and shards)."""
    files.save_weights(
        model, filepath, max_shard_size=max_shard_size, objects_to_skip=objects_to_skip
    )


def load_weights_only(model, filepath, skip_mismatch=False, objects_to_skip=None):
    """The weights of a `.weights.h5`, `.weights.json` or `.keras` file into the model."""
    files.load_weights(
        model, filepath, skip_mismatch=skip_mismatch, objects_to_skip=objects_to_skip
    )
