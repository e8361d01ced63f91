"""Sharded weights: `model.save_weights("model.weights.json", max_shard_size=2)` writes the
weights as Keras 3 does for a model too large for one file (keras/src/saving/saving_lib.py
`ShardedH5IOStore`):

    model.weights.json          {"metadata": {"total_size": bytes},
                                 "weight_map": {"/layers/dense/vars": "model_00000.weights.h5",
                                                "/layers/dense_1/vars": [shard, next shard], ...}}
    model_00000.weights.h5      the `.weights.h5` layout, cut into files of at most
    model_00001.weights.h5      max_shard_size gigabytes (a weight is never cut in two)

The weights are first written as one `.weights.h5` in memory, then dealt out to the shards in
order; loading gathers the shards the map names back into one, which is read as usual.
"""

import io
import json
import os
import pathlib
import warnings

from minikeras.saving import h5_state
from minikeras.saving.h5_state import BadFileError
from minikeras.saving.legacy_h5 import get_group

MAX_INDEX_BYTES = 64 << 20  # an index is kilobytes; more is not a Keras file


def index_path(filepath, mode):
    """The `.json` index path Keras uses for `filepath` (warning, as Keras, when it differs)."""
    path = pathlib.Path(filepath)
    if path.suffix != ".json":
        new = path.with_suffix(".json")
        method = "Saving" if mode == "w" else "Loading"
        warnings.warn(
            f"{method} sharded weights requires `*.json` as the extension. The original "
            f"path: {path} will be renamed to {new}.",
            stacklevel=4,
        )
        path = new
    return path


def save_sharded(model, filepath, max_shard_size, objects_to_skip=None):
    """The model's weights (and optimizer state) as an index and shard files."""
    from minikeras.saving.files import atomic_write

    h5py = h5_state.import_h5py()
    limit = float(max_shard_size) * 1024**3  # gigabytes, as Keras counts them
    path = index_path(filepath, "w")
    base = path.stem.replace(".weights", "")
    whole = io.BytesIO()
    with h5py.File(whole, "w") as h5:
        h5_state.write_state(h5, model, objects_to_skip)
    shards, weight_map, total = _deal(h5py, whole, limit)
    names = [f"{base}_{k:05}.weights.h5" for k in range(len(shards))]
    for name, entries in zip(names, shards):
        with atomic_write(path.with_name(name)) as tmp, h5py.File(tmp, "w") as shard:
            for group_path, attrs, key, value, value_attrs in entries:
                group = shard.require_group(group_path)
                group.attrs.update(attrs)
                shard[f"{group_path}/{key}"] = value
                shard[f"{group_path}/{key}"].attrs.update(value_attrs)
    index = {
        "metadata": {"total_size": total},
        "weight_map": {
            group: names[ks[0]] if len(ks) == 1 else [names[k] for k in ks]
            for group, ks in weight_map.items()
        },
    }
    with atomic_write(path) as tmp, open(tmp, "w") as f:  # last: it names finished shards
        f.write(json.dumps(index, indent=4))


def _deal(h5py, whole, limit):
    """The datasets of the in-memory file, dealt in order into shards of at most `limit`
    bytes: ([shard entries], {vars group: [shard indices]}, total bytes)."""
    shards, weight_map, total, size = [[]], {}, 0, 0
    with h5py.File(whole, "r") as h5:
        groups = []
        h5.visititems(lambda name, obj: groups.append(obj) if _is_vars(h5py, obj) else None)
        for group in groups:
            for key in sorted(group, key=lambda k: (len(k), k)):  # "0", "1", ..., "10"
                value = group[key][()]
                nbytes = value.size * value.dtype.itemsize
                total += nbytes
                if nbytes > limit:
                    raise ValueError(
                        f"The size of {key} is {nbytes} bytes which exceeds the maximum shard "
                        f"size {int(limit)} bytes. You can increase the `max_shard_size` "
                        "parameter to accommodate the size."
                    )
                if size + nbytes > limit:
                    shards.append([])
                    size = 0
                size += nbytes
                shards[-1].append(
                    (group.name, dict(group.attrs), key, value, dict(group[key].attrs))
                )
                where = weight_map.setdefault(group.name, [])
                if len(shards) - 1 not in where:
                    where.append(len(shards) - 1)
    return shards, weight_map, total


def _is_vars(h5py, obj):
    return isinstance(obj, h5py.Group) and obj.name.endswith("/vars") and len(obj)


def gather_shards(filepath):
    """The shards an index names, gathered into one in-memory `.weights.h5` (bytes). A shard
    outside the index's directory, a link, or a dataset made to exhaust memory is refused."""
    from minikeras.saving.saving_lib import safe_get_h5_dataset

    h5py = h5_state.import_h5py()
    path = index_path(filepath, "r")
    if not path.exists():
        raise FileNotFoundError(f"No such weights index: {path}")
    if path.stat().st_size > MAX_INDEX_BYTES:
        raise BadFileError(f"Cannot load weights from {path}: the index is too large")
    try:
        weight_map = json.loads(path.read_text())["weight_map"]
    except (json.JSONDecodeError, UnicodeDecodeError, KeyError, TypeError) as error:
        raise BadFileError(
            f"Cannot load weights from {path}: not a weights index ({error})"
        ) from None
    whole = io.BytesIO()
    with h5py.File(whole, "w") as merged:
        for group_path, names in weight_map.items():
            for name in names if isinstance(names, list) else [names]:
                if os.path.basename(name) != name or not name.endswith(".weights.h5"):
                    raise BadFileError(f"Cannot load weights from {path}: bad shard {name!r}")
                with h5py.File(path.with_name(name), "r") as shard:
                    group = get_group(shard, group_path.strip("/"))
                    target = merged.require_group(group_path)
                    target.attrs.update(group.attrs)
                    for key in group:
                        dataset = safe_get_h5_dataset(group, key)
                        target[key] = dataset[()]
                        target[key].attrs.update(dataset.attrs)
    return whole.getvalue()
