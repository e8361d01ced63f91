"""Weights from Keras 2's `.h5` files (`model.load_weights("x.h5")`), the format of Keras's
pretrained ImageNet weights and of `keras_model.save("x.h5")`.

Such a file lists its layers in the attribute `layer_names` (in the group `model_weights`
when the file holds a whole model); each layer's group lists its arrays in `weight_names`.
Loading is by order, as Keras's `load_weights_from_hdf5_group`: the i-th saved layer that
has weights goes to the i-th layer of the model that has weights, its arrays in the legacy
order (trainable weights, then non-trainable ones). Everything is checked before anything
is copied, so a mismatched file leaves the model unchanged.
"""

import numpy as np

from minikeras.saving.h5_state import import_h5py


def _attribute_list(group, name):
    """A string list attribute; long lists are split by Keras into `name0`, `name1`, ..."""
    if name in group.attrs:
        values = list(group.attrs[name])
    else:
        values, chunk = [], 0
        while f"{name}{chunk}" in group.attrs:
            values.extend(group.attrs[f"{name}{chunk}"])
            chunk += 1
    return [v.decode("utf8") if hasattr(v, "decode") else str(v) for v in values]


def _legacy_weights(layer):
    """Keras 2's order: a layer's trainable weights, then its non-trainable ones."""
    return layer.trainable_weights + layer.non_trainable_weights


def load_weights(model, filepath, skip_mismatch=False):
    """Copy the weights of a legacy `.h5`/`.hdf5` file into `model`, layer by layer in order."""
    h5py = import_h5py()
    with h5py.File(filepath, "r") as f:
        group = f
        if "layer_names" not in f.attrs and "model_weights" in f:
            group = f["model_weights"]
        layers = [layer for layer in model.layers if _legacy_weights(layer)]
        names = [
            name
            for name in _attribute_list(group, "layer_names")
            if _attribute_list(group[name], "weight_names")
        ]
        if len(names) != len(layers):
            raise ValueError(
                "Layer count mismatch when loading weights from file. Model expected "
                f"{len(layers)} layers, found {len(names)} saved layers."
            )
        assignments = []
        for k, (name, layer) in enumerate(zip(names, layers)):
            weights = _legacy_weights(layer)
            values = [
                np.asarray(group[name][w]) for w in _attribute_list(group[name], "weight_names")
            ]
            if len(values) != len(weights):
                raise ValueError(
                    f"Weight count mismatch for layer #{k} (named {layer.name} in the current "
                    f"model, {name} in the save file). Layer expects {len(weights)} weight(s). "
                    f"Received {len(values)} saved weight(s)"
                )
            for weight, value in zip(weights, values):
                if weight.shape != value.shape:
                    if skip_mismatch:
                        continue
                    raise ValueError(
                        f"Shape mismatch in layer #{k} (named {layer.name}) for weight "
                        f"{weight.name}. Weight expects shape {weight.shape}. Received saved "
                        f"weight with shape {value.shape}"
                    )
                assignments.append((weight, value))
    for weight, value in assignments:
        weight[...] = value
