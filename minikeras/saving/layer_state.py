"""What a preprocessing layer keeps besides weights, where Keras's files keep it.

A lookup layer's vocabulary is an asset, `assets/<layer path>/vocabulary.txt` in the zip (one
term a line, special tokens first), unless its config holds it; its "tf_idf" weights are a
dataset named `idf_weights` in the layer's `vars` group of `model.weights.h5`. Keras's layers
write them with `save_assets(dir)` and `save_own_variables(store)`, and read them back with
`load_own_variables` then `load_assets`, after the model is built: so do these.
"""

import os
import posixpath
import tempfile

ASSETS = "assets"
MAX_ASSET_BYTES = 1 << 30  # a vocabulary file larger than this is refused, not read


def has_own_state(layer):
    """Whether the layer saves its state itself: the preprocessing layers, and a layer of yours
    whose class overrides `save_own_variables` or `load_own_variables`."""
    from minikeras.layers.preprocessing.preprocessing_layer import PreprocessingLayer

    return isinstance(layer, PreprocessingLayer) or saves_own_variables(layer)


def saves_own_variables(layer):
    """Whether a class of yours decides what the layer's `vars` group holds (its weights too)."""
    return _overrides(layer, "save_own_variables", "load_own_variables")


def has_assets(layer):
    """Whether the layer writes asset files: the preprocessing layers, and a layer of yours
    with `save_assets`/`load_assets`."""
    from minikeras.layers.preprocessing.preprocessing_layer import PreprocessingLayer

    return isinstance(layer, PreprocessingLayer) or _overrides(layer, "save_assets", "load_assets")


def _overrides(layer, *names):
    """Whether a class outside minikeras, in the layer's class hierarchy, defines one of names."""
    return any(
        name in vars(cls) and not cls.__module__.startswith("minikeras.")
        for cls in type(layer).__mro__
        for name in names
    )


def write_own_variables(group, layer):
    """The layer's named variables (`save_own_variables`) into its open h5 `vars` group."""
    store = {}
    layer.save_own_variables(store)
    for key, value in store.items():
        group[key] = value


def read_own_variables(h5py, h5, path):
    """{name: array} of the datasets in `<path>/vars` (empty when there are none)."""
    group = h5.get(f"{path}/vars" if path else "vars")
    if group is None:
        return {}
    found = {}
    for name in group:
        dataset = group.get(name, getlink=True)
        if isinstance(dataset, h5py.HardLink) and isinstance(group[name], h5py.Dataset):
            found[name] = group[name][()]
    return found


def asset_members(groups):
    """[(zip member name, bytes)] of every asset the layers write, for (path, layer) groups."""
    members = []
    for path, layer in groups:
        if not has_assets(layer) or not hasattr(layer, "save_assets"):
            continue
        with tempfile.TemporaryDirectory() as directory:
            layer.save_assets(directory)
            for name in sorted(os.listdir(directory)):
                with open(os.path.join(directory, name), "rb") as file:
                    members.append((posixpath.join(ASSETS, path, name), file.read()))
    return members


def load_assets(zf, groups, source):
    """Give each layer the asset files the zip holds for it (plain names only, no paths)."""
    names = set(zf.namelist())
    for path, layer in groups:
        if not has_assets(layer) or not hasattr(layer, "load_assets"):
            continue
        prefix = posixpath.join(ASSETS, path) + "/"
        mine = [n for n in names if n.startswith(prefix) and "/" not in n[len(prefix) :]]
        with tempfile.TemporaryDirectory() as directory:
            for name in mine:
                base = name[len(prefix) :]
                if not base or base in (".", ".."):
                    continue
                if zf.getinfo(name).file_size > MAX_ASSET_BYTES:
                    raise ValueError(f"{source}: the asset {name} is too large")
                with open(os.path.join(directory, base), "wb") as file:
                    file.write(zf.read(name))
            if mine:
                layer.load_assets(directory)
