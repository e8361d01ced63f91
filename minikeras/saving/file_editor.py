"""`KerasFileEditor`: look inside a `.keras` or `.weights.h5` file and repair it to fit a model
(Keras's `keras.saving.KerasFileEditor`, keras/src/saving/file_editor.py).

The file's weights are read into a nested dict that mirrors its groups, one level per object
and the arrays at the leaves ({"layers": {"dense": {"0": kernel, "1": bias}}, ...}); `compare`
lists where it differs from what a model would write, the edit methods change the dict, and
`save` writes it as a `.weights.h5` file the model loads.

    editor = KerasFileEditor("old.keras")
    editor.compare(model)                       # {"status": "error", "error_count": 2, ...}
    editor.rename_object("dense_3", "dense_2")
    editor.add_weights("dense_2", {"1": bias})
    editor.save("fixed.weights.h5"); model.load_weights("fixed.weights.h5")
"""

import io
import json
import math
import zipfile

from minikeras.saving import files, h5_state
from minikeras.saving.stores import H5IOStore

MAX_DATASET_BYTES = 1 << 32  # 4 GiB: a larger array in a weights file is refused (Keras's limit)


class KerasFileEditor:
    """The weights of a `.keras` or `.weights.h5` file, as a nested dict to compare and edit."""

    def __init__(self, filepath):
        self.filepath = filepath = str(filepath)
        self.metadata = self.config = None
        if filepath.endswith(".keras"):
            with zipfile.ZipFile(filepath, "r") as archive:
                self.config = json.loads(archive.read(files.CONFIG_NAME))
                self.metadata = json.loads(archive.read(files.METADATA_NAME))
                store = H5IOStore(files.WEIGHTS_NAME, archive=archive, mode="r")
                try:
                    self.weights_dict, self.object_metadata = _read_tree(store.h5_file)
                finally:
                    store.close()
        elif filepath.endswith(".weights.h5"):
            store = H5IOStore(filepath, mode="r")
            try:
                self.weights_dict, self.object_metadata = _read_tree(store.h5_file)
            finally:
                store.close()
        else:
            raise ValueError(
                "Invalid filename: expected a `.keras` `.weights.h5` extension. "
                f"Received: filepath={filepath}"
            )
        print(f"Keras model file '{filepath}'")
        if self.metadata is not None:
            print(
                f"Saved with Keras {self.metadata.get('keras_version')} - date: "
                f"{self.metadata.get('date_saved')}"
            )

    # ------------------------------------------------------------------ looking
    def summary(self):
        """Print the tree of objects and weights in the file (shape and dtype of each)."""
        print("Weights structure")
        _print_tree(self.weights_dict, "  ")

    def compare(self, reference_model):
        """Every difference between the file and what `reference_model` would save: an object
        or a weight on one side only, or a weight of another shape. Returns {"status":
        "success" or "error", "error_count", "match_count"}."""
        print("Running comparison")
        reference = _model_tree(reference_model)
        checked = set()
        errors, matches = _compare(
            self.weights_dict, reference, "", "saved file", "reference model", checked
        )
        # then what the file has and the model does not (each difference counted once)
        more, _ = _compare(
            reference, self.weights_dict, "", "reference model", "saved file", checked
        )
        errors += more
        print("─────────────────────")
        if errors:
            print(
                f"Found {errors} error{'s' if errors != 1 else ''}: saved file is not "
                "compatible with the reference model"
            )
        else:
            print("Comparison successful: saved file is compatible with the reference model")
            print(f"    Found {matches} matching weight{'s' if matches != 1 else ''}")
        return {
            "status": "error" if errors else "success",
            "error_count": errors,
            "match_count": matches,
        }

    # ------------------------------------------------------------------ editing
    def rename_object(self, object_name, new_name):
        """Rename an object (a name found once in the file, or a path like "layers/dense_2")."""

        def rename(parent, name):
            parent[new_name] = parent.pop(name)

        if "/" in new_name:
            raise ValueError(
                "Argument `target_name` should be a leaf name, not a full path name. "
                f"Received: target_name='{new_name}'"
            )
        self._edit(rename, object_name)

    def delete_object(self, object_name):
        """Remove an object (a layer, ...) and its weights."""
        self._edit(lambda parent, name: parent.pop(name), object_name)

    def add_object(self, object_path, weights):
        """Add an object at `object_path` ("layers/dense_2") with `weights` ({"0": array})."""
        _check_weights(weights)
        *parents, leaf = object_path.split("/")
        node = self.weights_dict
        for part in parents:
            if part not in node:
                raise ValueError(f"Path '{'/'.join(parents)}' not found in model.")
            node = node[part]
        node[leaf] = weights

    def delete_weight(self, object_name, weight_name):
        """Remove one weight ("0", "1", ...) of an object."""

        def delete(parent, name):
            if weight_name not in parent[name]:
                raise ValueError(
                    f"Weight {weight_name} not found in object {object_name}. Weights found: "
                    f"{list(parent[name].keys())}"
                )
            parent[name].pop(weight_name)

        self._edit(delete, object_name)

    def add_weights(self, object_name, weights):
        """Add weights ({"1": array}) to an existing object."""
        _check_weights(weights)
        self._edit(lambda parent, name: parent[name].update(weights), object_name)

    def save(self, filepath):
        """Write the (edited) weights to a `.weights.h5` file, atomically."""
        filepath = str(filepath)
        if not filepath.endswith(".weights.h5"):
            raise ValueError(
                "Invalid `filepath` argument: expected a `.weights.h5` extension. "
                f"Received: filepath={filepath}"
            )
        with files.atomic_write(filepath) as tmp:
            store = H5IOStore(tmp, mode="w")
            try:
                _write_tree(self.weights_dict, store, "")
            finally:
                store.close()

    resave_weights = save  # Keras's other name

    def _edit(self, edit, source_name):
        """Apply `edit(parent dict, key)` to the object named `source_name`: a path, or a name
        that must occur exactly once in the tree."""
        if "/" in source_name:
            *parents, leaf = source_name.split("/")
            node = self.weights_dict
            for part in parents:
                if part not in node:
                    raise ValueError(f"Path '{source_name}' not found in model.")
                node = node[part]
            if leaf not in node:
                raise ValueError(f"Path '{source_name}' not found in model.")
            edit(node, leaf)
            return
        parents = _parents_of(self.weights_dict, source_name)
        if len(parents) > 1:
            raise ValueError(
                f"Name '{source_name}' occurs more than once in the model; try passing a "
                "complete path"
            )
        if not parents:
            raise ValueError(
                f"Source name '{source_name}' does not appear in the model. Use "
                "`editor.summary()` to list all objects."
            )
        edit(parents[0], source_name)


# ---------------------------------------------------------------------- the tree
def _read_tree(group, path="", metadata=None):
    """(nested dict of the group's arrays, {path: attributes}); a `vars` group is read in
    place of its parent, empty groups are left out; links, external or virtual data and
    arrays past 4 GiB are refused with ValueError."""
    import h5py

    metadata = {} if metadata is None else metadata
    if group.attrs:
        metadata[path] = dict(group.attrs)
    tree = {}
    for key in group.keys():
        link = group.get(key, getclass=True, getlink=True)
        if link in (h5py.ExternalLink, h5py.SoftLink):
            raise ValueError(f"Not allowed: H5 file with {link.__name__}")
        value = group[key]
        inner = f"{path}/{key}"
        if isinstance(value, h5py.Group):
            if "vars" in value:
                value = value["vars"]
            if len(value):
                tree[key], metadata = _read_tree(value, inner, metadata)
            continue
        if not isinstance(value, h5py.Dataset):
            continue
        if value.external:
            raise ValueError(f"Not allowed: H5 file Dataset with external links: {value.external}")
        if value.is_virtual:
            raise ValueError(f"Not allowed: H5 file with virtual Dataset at {inner}")
        size = math.prod(value.shape) * value.dtype.itemsize
        if size > MAX_DATASET_BYTES:
            raise ValueError(
                f"HDF5 dataset too large to load safely ({size} bytes; limit is "
                f"{MAX_DATASET_BYTES})."
            )
        tree[key] = value[()]
    return tree, metadata


def _model_tree(model):
    """The tree of what `model.save_weights` would write (the same reader on the same layout)."""
    h5py = h5_state.import_h5py()
    buffer = io.BytesIO()
    with h5py.File(buffer, "w") as h5:
        h5_state.write_state(h5, model)
    with h5py.File(buffer, "r") as h5:
        return _read_tree(h5)[0]


def _compare(target, reference, path, target_name, reference_name, checked):
    """(errors, matches) of `target` against `reference`, printing each difference once."""
    errors = matches = 0
    for key, expected in reference.items():
        inner = f"{path}/{key}"
        if inner in checked:
            continue
        if key not in target:
            errors += 1
            checked.add(inner)
            kind = "Object" if isinstance(expected, dict) else "Weight"
            print(f"...{kind} {inner} present in {reference_name}, missing from {target_name}")
            if isinstance(expected, dict):
                keys = list(expected)
                print(f"    In {reference_name}, {inner} contains the following keys: {keys}")
        elif isinstance(expected, dict):
            e, m = _compare(target[key], expected, inner, target_name, reference_name, checked)
            errors, matches = errors + e, matches + m
        elif target[key].shape != expected.shape:
            errors += 1
            checked.add(inner)
            print(
                f"...Weight shape mismatch for {inner}\n    In {reference_name}: "
                f"shape={expected.shape}\n    In {target_name}: shape={target[key].shape}"
            )
        else:
            matches += 1
    return errors, matches


def _parents_of(tree, name):
    """Every dict in the tree that has `name` as a key."""
    found = [tree] if name in tree else []
    for value in tree.values():
        if isinstance(value, dict):
            found += _parents_of(value, name)
    return found


def _write_tree(tree, store, path):
    arrays = {name: value for name, value in tree.items() if not isinstance(value, dict)}
    for name, value in tree.items():
        if isinstance(value, dict) and value:
            _write_tree(value, store, f"{path}/{name}" if path else name)
    if arrays:
        group = store.make(path)
        for name, value in arrays.items():
            group[name] = value


def _print_tree(tree, prefix, first=True):
    for k, (key, value) in enumerate(tree.items()):
        last = k == len(tree) - 1
        connector = "> " if first and k == 0 else ("└─ " if last else "├─ ")
        if isinstance(value, dict):
            print(f"{prefix}{connector}{key}")
            _print_tree(value, prefix + ("    " if last else "│   "), first=False)
        else:
            print(f"{prefix}{connector}{key}: shape={value.shape}, dtype={value.dtype}")


def _check_weights(weights):
    if not isinstance(weights, dict):
        raise ValueError(
            "Argument `weights` should be a dict where keys are weight names (usually '0', "
            f"'1', etc.) and values are NumPy arrays. Received: type(weights)={type(weights)}"
        )


__all__ = ["KerasFileEditor"]
