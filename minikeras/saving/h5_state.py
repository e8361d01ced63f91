"""The weights file (`model.weights.h5` in a `.keras` zip, or a `.weights.h5`), as Keras 3 lays it
out (keras/src/saving/saving_lib.py `_save_state`, `_save_container_state`, `H5IOStore`):

    vars                      attrs name="sequential"    the model's own variables: none
    layers/dense/vars         attrs name="dense"         0: kernel (in, units), 1: bias (units,)
    layers/dropout/vars       attrs name="dropout"       (no datasets)
    layers/dense_1/vars       attrs name="dense_1"       0: kernel, 1: bias
    optimizer/vars            attrs name="adam"          0: iterations (int64, shape ())
                                                         1: learning_rate (floatx, shape ())
                                                         2...: the slots, `Optimizer.variables`

A layer's group is named after its class, not its name: the snake_case class name, then `_1`,
`_2`, ... for the next layers of the same class (`_get_unique_name`); the layer's own name is only
the `name` attribute. A Sequential's InputLayer is not among `model.layers`, so it has no group; a
functional model's `layers` start with its InputLayers, so its file has empty groups for them,
in the order of `model.layers` (Keras 3.15, a shared Dense and two Inputs `a`, `b`):

    vars                          attrs name="two"
    layers/input_layer/vars       attrs name="a"             (no datasets)
    layers/input_layer_1/vars     attrs name="b"
    layers/dense/vars             attrs name="shared"        one group however often it is called
    layers/concatenate/vars       attrs name="concatenate"
    layers/dense_1/vars ...

A model used as a layer (a Sequential inside a functional model) has a group of the same kind
inside its own: `layers/sequential/vars` (none of its own), `layers/sequential/layers/dense/...`.

The slots are in the order Keras's optimizers create them (see `Optimizer.variables`). Keras
writes the optimizer group whenever the model has an optimizer (also in `.weights.h5` files).

Reading checks every group, count, shape and dtype before a single value is copied in, so a bad
file leaves the model as it was. h5 links to other files and external or virtual datasets are
refused, as Keras refuses them.
"""

import copy
import warnings

import numpy as np

from minikeras import config
from minikeras.saving import layer_state
from minikeras.utils.naming import to_snake_case

BOMB_FLOOR_BYTES = 1 << 32  # 4 GiB
BOMB_MAX_EXPANSION = 1000  # declared bytes per stored byte beyond which a dataset is refused


class BadFileError(ValueError):
    """A file that cannot be loaded: not a Keras file, damaged, or made for another model."""


def import_h5py():
    """h5py, imported only when a file is read or written; a clear message when it is missing."""
    try:
        import h5py
    except ImportError:
        raise ImportError(
            "Reading and writing Keras files (.keras, .weights.h5) needs h5py. "
            "Install it with: pip install 'minikeras[h5]'"
        ) from None
    return h5py


def layer_groups(layers, prefix="layers"):
    """(group path, layer) for each layer: layers/dense, layers/dense_1, layers/dropout, ...
    A layer that is itself a model is followed by its own layers, under `<its path>/layers`;
    its own group holds no weights (see `own_weights`)."""
    from minikeras.layers.op_layer import OpLayer

    used = {}
    out = []
    for layer in layers:
        if isinstance(layer, OpLayer):  # an op (`x + y`) is no layer in Keras: no group
            continue
        base = to_snake_case(type(layer).__name__)
        if base in used:
            used[base] += 1
            key = f"{base}_{used[base]}"
        else:
            used[base] = 0
            key = base
        out.append((f"{prefix}/{key}", layer))
        out.extend(_inner_groups(f"{prefix}/{key}", layer))
    return out


def _inner_groups(path, layer):
    """The groups inside a layer's own: a model's layers under `<path>/layers`, and the layers a
    wrapper holds under the attribute names Keras's saving walks (Keras 3.15):

        layers/time_distributed/layer/vars            the wrapped Dense's kernel and bias
        layers/lstm/cell/vars                         an RNN's weights are its cell's
        layers/bidirectional/forward_layer/cell/vars  each side an RNN, each with its cell
        layers/bidirectional/backward_layer/cell/vars

    The wrapper's own `vars` group is written, empty."""
    if is_graph_model(layer):
        return layer_groups(layer.layers, f"{path}/layers")
    if not layer._builtin:
        return attribute_groups(layer, path)
    out = []
    for attribute, inner in wrapped_layers(layer):
        out.append((f"{path}/{attribute}", inner))
        out.extend(_inner_groups(f"{path}/{attribute}", inner))
    return out


def is_model(layer):
    from minikeras.models.model import Model

    return isinstance(layer, Model)


def is_graph_model(layer):
    """A Sequential or Functional model: its file lists its `layers`. Any other model (a
    subclass of Model with its own `call`) is saved by its attributes, as any layer of yours."""
    from minikeras.models.functional import Functional
    from minikeras.models.sequential import Sequential

    return isinstance(layer, (Sequential, Functional))


def state_groups(model):
    """(group path, layer) for every layer of the model, in the layout Keras's saving walks:
    `layers/...` for a Sequential or Functional, attribute names for a subclassed model."""
    if is_graph_model(model):
        return layer_groups(model.layers)
    return attribute_groups(model, "")


def attribute_groups(layer, path, visited=None):
    """The groups of the layers a layer of yours holds in its attributes, as Keras's saving
    walks them (saving_lib.py `_walk_saveable`, `_save_container_state`): attributes by name,
    the private ones (`_x`) last; a layer at `<path>/<attribute>`; the layers of a list, tuple
    or dict at `<path>/<attribute>/<snake_case class name>` (`_1`, `_2`, ... for the next of
    a class); a layer reached twice is saved once, at its first path.

        dense1/vars                     MyDense's own weights (not its sublayers')
        dense1/nested_layer/vars        the Dense it holds in `self.nested_layer`
        blocks/dense/vars, blocks/dense_1/vars     `self.blocks = [Dense(2), Dense(2)]`
    """
    from minikeras.layers.layer import Layer

    visited = {id(layer)} if visited is None else visited
    out = []

    def add(group_path, inner):
        if id(inner) in visited:
            return
        visited.add(id(inner))
        out.append((group_path, inner))
        if is_graph_model(inner) or inner._builtin:
            out.extend(_inner_groups(group_path, inner))
        else:
            out.extend(attribute_groups(inner, group_path, visited))

    def add_container(container_path, container):
        # a container inside a container is `container`, `container_1`, ... (Keras's
        # `_save_container_state`); one that holds itself is walked once
        if id(container) in visited:
            return
        visited.add(id(container))
        used = {}
        items = container.values() if isinstance(container, dict) else container
        for item in items:
            if isinstance(item, Layer):
                add(f"{container_path}/{_unique(to_snake_case(type(item).__name__), used)}", item)
            elif isinstance(item, (list, tuple, dict)):
                add_container(f"{container_path}/{_unique('container', used)}", item)

    skip = _base_attributes(layer)
    for name in sorted(vars(layer), key=lambda n: f"~{n}" if n.startswith("_") else n):
        value = vars(layer)[name]
        if name in skip:
            continue
        attribute_path = f"{path}/{name}" if path else name
        if isinstance(value, Layer):
            add(attribute_path, value)
        elif isinstance(value, (list, tuple, dict)):
            add_container(attribute_path, value)
    return out


def _unique(base, used):
    """Keras's `_get_unique_name`: base, then base_1, base_2, ..."""
    if base in used:
        used[base] += 1
        return f"{base}_{used[base]}"
    used[base] = 0
    return base


_BASE_ATTRIBUTES = {}


def _base_attributes(layer):
    """The attributes minikeras's own Layer (or Model) sets on every instance: not the user's,
    so not walked (Keras skips the attributes of a bare `Layer()` likewise)."""
    from minikeras.layers.layer import Layer
    from minikeras.models.model import Model

    base = Model if isinstance(layer, Model) else Layer
    if base not in _BASE_ATTRIBUTES:
        _BASE_ATTRIBUTES[base] = set(vars(base()))
    return _BASE_ATTRIBUTES[base]


def wrapped_layers(layer):
    """(attribute, layer) for each layer a wrapper keeps its weights in, in Keras's order."""
    from minikeras.layers.multi_head_attention import MultiHeadAttention
    from minikeras.layers.preprocessing.text_vectorization import TextVectorization
    from minikeras.layers.rnn import RNN, Bidirectional
    from minikeras.layers.time_distributed import TimeDistributed

    if isinstance(layer, TimeDistributed):
        return [("layer", layer.layer)]
    if isinstance(layer, RNN):
        return [("cell", layer.cell)]
    if isinstance(layer, Bidirectional):
        return [("forward_layer", layer.forward_layer), ("backward_layer", layer.backward_layer)]
    if isinstance(layer, MultiHeadAttention):  # its projections, as layers/mha/query_dense/vars
        return layer.saved_sublayers()
    if isinstance(layer, TextVectorization):  # its StringLookup, as layers/tv/_lookup_layer
        return layer.saved_sublayers()
    return []


def is_wrapper(layer):
    return bool(wrapped_layers(layer))


def own_weights(layer):
    """The weights saved in a layer's own group: none for a Sequential, a Functional or a
    wrapper (the layers inside have them; a stateful RNN's carried states are not saved, as in
    Keras); for a layer or model of yours, the weights it made itself (its sublayers have
    groups of their own)."""
    if is_graph_model(layer) or is_wrapper(layer):
        return []
    if not layer._builtin:
        return layer._trainable_variables + layer._non_trainable_variables
    return layer.weights


def _weight_names(layer):
    if layer._builtin and not (is_graph_model(layer) or is_wrapper(layer)):
        return layer.weight_names
    return [getattr(w, "name", f"#{i}") for i, w in enumerate(own_weights(layer))]


def _vars_path(path):
    return f"{path}/vars" if path else "vars"


def optimizer_variables(model):
    """The optimizer's variables to save. An optimizer not built yet is saved as built (slots of
    zeros, exactly what its first step would start from) so that Keras's loader, which builds the
    optimizer before loading, finds every slot (Keras itself writes only iterations and learning
    rate then, and warns when loading such a file)."""
    return _built_optimizer(model).variables


def _built_optimizer(model):
    optimizer = model.optimizer
    if not optimizer.built and model.built:
        optimizer = copy.deepcopy(optimizer)
        optimizer.build(model.trainable_weights)
    return optimizer


# ---------------------------------------------------------------------- writing
def _skipping(groups, objects_to_skip):
    """A test of paths: True for the groups of the objects in `objects_to_skip` and of
    everything inside them (Keras's `objects_to_skip` leaves out an object's whole subtree)."""
    ids = {id(obj) for obj in objects_to_skip or ()}
    skipped = [path for path, layer in groups if id(layer) in ids]
    return lambda path: any(path == p or path.startswith(p + "/") for p in skipped)


def write_state(h5, model, objects_to_skip=None):
    """Write the model's weights (and its optimizer's state, if compiled) into an open h5 file;
    the layers in `objects_to_skip` (and their sublayers) are left out."""
    skip = _skipping(state_groups(model), objects_to_skip)
    for path, layer in [("", model), *state_groups(model)]:
        if path and skip(path):
            continue
        group = _vars_group(h5, _vars_path(path), layer.name)
        if not layer_state.saves_own_variables(layer):  # else its save_own_variables does
            for i, value in enumerate(own_weights(layer)):
                _write(group, str(i), value)
        if layer_state.has_own_state(layer):  # named variables (a lookup's idf weights)
            layer_state.write_own_variables(group, layer)
    optimizer = getattr(model, "optimizer", None)
    if (
        optimizer is not None
        and model.compiled
        and id(optimizer) not in map(id, objects_to_skip or ())
    ):
        optimizer = _built_optimizer(model)
        group = _vars_group(h5, "optimizer/vars", optimizer.name)
        for i, value in enumerate(optimizer.variables):
            _write(group, str(i), value)
        # a MultiOptimizer's list holds all its sub-optimizers' variables; Keras also writes
        # each sub-optimizer in a group of its own, named by its class ("adam", "sgd", "sgd_1")
        used = {}
        for inner in getattr(optimizer, "optimizers", ()):
            name = to_snake_case(type(inner).__name__)
            used[name] = used.get(name, -1) + 1
            key = f"{name}_{used[name]}" if used[name] else name
            group = _vars_group(h5, f"optimizer/optimizers/{key}/vars", inner.name)
            for i, value in enumerate(inner.variables):
                _write(group, str(i), value)


def _write(group, key, value):
    """One weight as a dataset. HDF5 has no bfloat16: Keras stores its two bytes as they are,
    marked with the attribute dtype="bfloat16" (saving_lib.py `H5Entry`), and so does this."""
    value = np.asarray(value)
    group[key] = value
    if value.dtype.name == "bfloat16":
        group[key].attrs["dtype"] = "bfloat16"


def _is_float(dtype):
    return np.issubdtype(dtype, np.floating) or dtype.name == "bfloat16"


def _vars_group(h5, path, name):
    group = h5.create_group(path)
    group.attrs["name"] = name
    return group


# ---------------------------------------------------------------------- reading
class LoadPlan:
    """What a file holds for a model, checked: `apply()` copies it in and cannot fail."""

    def __init__(self, model):
        self.model = model
        self.assignments = []  # (array in the model, value read from the file)
        self.optimizer_values = None  # [iterations, learning_rate, *slots] or None
        self.own_variables = []  # (layer, {name: array}) for `load_own_variables`

    def apply(self):
        for target, value in self.assignments:
            target[...] = value
        for layer, store in self.own_variables:
            layer.load_own_variables(store)
        if self.optimizer_values is not None:
            optimizer = self.model.optimizer
            if len(self.optimizer_values) > _counters(optimizer) and not optimizer.built:
                optimizer.build(self.model.trainable_weights)
            optimizer.set_variables(self.optimizer_values)


def plan_load(
    h5, model, source, optimizer_mismatch="raise", skip_mismatch=False, objects_to_skip=None
):
    """Read and check everything `model` needs from the open h5 file `h5`; returns a LoadPlan.

    source: how to name the file in messages. optimizer_mismatch: "raise", or "warn" to skip an
    optimizer state of another shape with Keras's warning (what `load_weights` does).
    skip_mismatch: skip (with a warning) a layer whose weights do not fit, as Keras's option.
    objects_to_skip: layers (and their sublayers) left as they are, whatever the file holds.
    """
    h5py = import_h5py()
    plan = LoadPlan(model)
    groups = state_groups(model)
    skip = _skipping(groups, objects_to_skip)
    for path, layer in [("", model), *groups]:
        if path and skip(path):
            continue
        if layer_state.has_own_state(layer):  # named variables, no weights
            store = layer_state.read_own_variables(h5py, h5, path)
            plan.own_variables.append((layer, store))
            continue
        values = _read_vars(h5py, h5, path, source)
        problem = _mismatch(layer, values)
        if problem and skip_mismatch:
            warnings.warn(
                f"Skipping loading weights for layer '{layer.name}': {problem}", stacklevel=3
            )
            continue
        if problem:
            raise BadFileError(f"{source}: layer '{layer.name}' ({path}): {problem}")
        plan.assignments.extend(zip(own_weights(layer), values))
    expected = {path for path, _ in groups}
    if "layers" in h5:
        for key in _children(h5py, h5["layers"], "layers", source):
            path = f"layers/{key}"
            if path not in expected and _read_vars(h5py, h5, path, source):
                raise BadFileError(
                    f"{source}: the file has weights for a layer the model does not have "
                    f"({path}); the model has {len(groups)} layers "
                    f"({', '.join(type(l).__name__ for _, l in groups)})"
                )
    optimizer = getattr(model, "optimizer", None)
    skip_optimizer = id(optimizer) in map(id, objects_to_skip or ())
    if "optimizer" in h5 and optimizer is not None and model.compiled and not skip_optimizer:
        values = _read_vars(h5py, h5, "optimizer", source)
        problem = _optimizer_mismatch(model, values)
        counters = _counters(model.optimizer)
        if optimizer_mismatch == "warn" and not model.optimizer.built and len(values) > counters:
            # load_weights into a freshly compiled model: Keras's optimizer has only its
            # counters yet, so it skips the file's state and keeps its own learning rate
            problem = (
                f"because it has {counters} variables whereas the saved optimizer has "
                f"{len(values)} variables."
            )
        if problem and optimizer_mismatch == "warn":
            # Keras's words (keras/src/optimizers/base_optimizer.py `load_own_variables`)
            warnings.warn(
                f"Skipping variable loading for optimizer '{model.optimizer.name}', {problem}",
                stacklevel=3,
            )
        elif problem:
            raise BadFileError(f"{source}: optimizer state: {problem}")
        else:
            plan.optimizer_values = values
    return plan


def _mismatch(layer, values):
    weights = own_weights(layer)
    names = _weight_names(layer)
    if len(values) != len(weights):
        return (
            f"expected {len(weights)} variables, but received {len(values)} variables: "
            f"the file has {len(values)} weights for it, the layer has {len(weights)} "
            f"({', '.join(names) or 'none'})"
        )
    for name, weight, value in zip(names, weights, values):
        if value.shape != weight.shape:
            return (
                f"weight '{name}' has shape {weight.shape} in the model but {value.shape} "
                "in the file; the shapes must match"
            )
        if _is_float(value.dtype) != _is_float(weight.dtype):  # Normalization's count: int64
            kind = "floats" if _is_float(weight.dtype) else "integers"
            return f"weight '{name}' is stored as {value.dtype}, not as {kind}"
    return None


def _counters(optimizer):
    """How many variables precede the slots: iterations, and the learning rate unless it is a
    schedule (Keras keeps no variable for a schedule). A MultiOptimizer lists its own two, then
    each sub-optimizer's variables: its counters are all of them but the sub-optimizers' slots."""
    if hasattr(optimizer, "optimizers"):
        return 2 + sum(_counters(inner) for inner in optimizer.optimizers)
    return len(optimizer.variables) - len(optimizer._slot_variables)


def _optimizer_mismatch(model, values):
    optimizer = model.optimizer
    expected = optimizer_variables(model)
    counters = _counters(optimizer)
    if not values or values[0].shape != () or not np.issubdtype(values[0].dtype, np.integer):
        return "the first variable must be the iteration count, an integer"
    if counters == 2 and (len(values) < 2 or values[1].shape != ()):
        return "the second variable must be the learning rate"
    if len(values) == counters:
        return None  # Keras's file of an optimizer that had not started: counters only
    if len(values) != len(expected):
        return (
            f"because it has {len(expected)} variables whereas the saved optimizer has "
            f"{len(values)} variables ({type(optimizer).__name__} for "
            f"{len(model.trainable_weights)} trainable weights)."
        )
    for i, (want, value) in enumerate(zip(expected[counters:], values[counters:]), start=counters):
        # floats, except Adafactor's int32 placeholders for the factors of a 1-D weight
        floats = np.issubdtype(want.dtype, np.floating)
        if want.shape != value.shape or _is_float(value.dtype) != floats:
            kind = "floats" if floats else "integers"
            return (
                f"variable {i} should be {kind} of shape {want.shape}; the file has "
                f"{value.dtype} of shape {value.shape}"
            )
    return None


def _children(h5py, group, path, source):
    """The names under a group, refusing links that leave the file (as Keras does)."""
    names = []
    for name in group:
        link = group.get(name, getlink=True)
        if not isinstance(link, h5py.HardLink):
            raise BadFileError(f"{source}: {path}/{name} is a {type(link).__name__}: not allowed")
        names.append(name)
    return names


def shape_bomb(dataset, name, floor=BOMB_FLOOR_BYTES, expansion=BOMB_MAX_EXPANSION):
    """Keras's words when `dataset` declares far more bytes than the file stores for it (a huge
    shape filled by a fill value: reading it would exhaust memory), else None."""
    declared = dataset.size * dataset.dtype.itemsize
    stored = dataset.id.get_storage_size()
    if declared > floor and declared > expansion * stored:
        return (
            f"Not allowed: H5 dataset '{name}' declares {declared} bytes but only {stored} are "
            "stored on disk; refusing to load a potential decompression/shape bomb."
        )
    return None


def _read_vars(h5py, h5, path, source):
    """The datasets of `<path>/vars`, "0", "1", ... in order, read into memory ([] if none)."""
    node = h5
    for part in _vars_path(path).split("/"):
        if part not in _children(h5py, node, path, source):
            return []
        node = node[part]
        if not isinstance(node, h5py.Group):
            raise BadFileError(f"{source}: {path} should be a group of weights")
    names = _children(h5py, node, path, source)
    if sorted(names, key=lambda n: (len(n), n)) != [str(i) for i in range(len(names))]:
        raise BadFileError(f"{source}: {path}/vars should hold datasets 0..n−1, found {names}")
    values = []
    for i in range(len(names)):
        dataset = node[str(i)]
        if not isinstance(dataset, h5py.Dataset) or dataset.external or dataset.is_virtual:
            raise BadFileError(f"{source}: {path}/vars/{i} is not a plain dataset in the file")
        bfloat16 = dataset.attrs.get("dtype") == "bfloat16" and dataset.dtype == "V2"
        if dataset.dtype.kind not in "fiu" and not bfloat16:
            raise BadFileError(f"{source}: {path}/vars/{i} holds {dataset.dtype}, not numbers")
        problem = shape_bomb(dataset, f"{path}/vars/{i}")
        if problem:
            raise BadFileError(f"{source}: {problem}")
        try:
            if bfloat16:
                config.learn_ml_dtypes("bfloat16")
                values.append(np.array(dataset, dtype="bfloat16"))
                continue
            values.append(np.asarray(dataset[()]))
        except OSError as error:  # a damaged chunk
            raise BadFileError(f"{source}: cannot read {path}/vars/{i}: {error}") from None
    return values
