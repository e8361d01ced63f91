"""A model's state as nested dicts by variable path, as Keras's `Model.get_state_tree()`:

    {"trainable_variables":     {"output_a": {"kernel": ..., "bias": ...}},
     "non_trainable_variables": {},
     "optimizer_variables":     {"adam": {"iteration": ..., "learning_rate": ...}},
     "metrics_variables":       {"loss": {"total": ..., "count": ...}}}

The path of a variable ("output_a/kernel", "adam/iteration") is split at its slashes.
`set_state_tree` writes such a tree back (any part of it), path by path.
"""

import numpy as np

GROUPS = (
    "trainable_variables",
    "non_trainable_variables",
    "optimizer_variables",
    "metrics_variables",
)


def group_variables(model, group):
    """The model's variables of one group of the tree ([] for an optimizer not yet made)."""
    if group == "optimizer_variables":
        return model.optimizer.variables if model.optimizer is not None else []
    return list(getattr(model, group))


def get_state_tree(model, value_format="backend_tensor"):
    """Each group's variables as nested dicts by path; leaves are the values (the arrays
    themselves for "backend_tensor", copies for "numpy_array": minikeras's tensors are
    NumPy arrays either way)."""
    if value_format not in ("backend_tensor", "numpy_array"):
        raise ValueError(
            "Invalid `value_format` argument. Expected one of {'numpy_array', "
            f"'backend_tensor'}}. Received: value_format={value_format}"
        )
    return {group: _nested(group_variables(model, group), value_format) for group in GROUPS}


def _nested(variables, value_format):
    flat = {}
    for variable in variables:
        if variable.path in flat:
            raise ValueError(
                f"The following variable path is found twice in the model: '{variable.path}'. "
                "`get_state_tree()` can only be called when all variable paths are unique. "
                "Make sure to give unique names to your layers (and other objects)."
            )
        flat[variable.path] = (
            variable.value if value_format == "backend_tensor" else (variable.numpy())
        )
    tree = {}
    for path, value in flat.items():
        *parents, leaf = path.split("/")
        node = tree
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
    return tree


def set_state_tree(model, state_tree):
    """Write each value of the tree into the variable of that path (paths the model does not
    have are passed over, as in Keras). The optimizer's iteration counter and learning rate
    are numbers it keeps, not arrays: they are set through `set_variables`."""
    for group, subtree in state_tree.items():
        if group not in GROUPS:
            raise ValueError(f"Unknown variable name: {group}")
        values = _flatten(subtree)
        if group == "optimizer_variables":
            if model.optimizer is not None:
                _set_optimizer_variables(model.optimizer, values)
            continue
        for variable in group_variables(model, group):
            if variable.path in values:
                variable.assign(np.asarray(values[variable.path], dtype=variable.dtype))


def _set_optimizer_variables(optimizer, values):
    variables = optimizer.variables
    new = [
        np.asarray(values[v.path], dtype=v.dtype).reshape(v.shape) if v.path in values else v
        for v in variables
    ]
    optimizer.set_variables(new)


def _flatten(tree, prefix=""):
    """{"a": {"b": 1}} → {"a/b": 1}."""
    flat = {}
    for key, value in tree.items():
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{prefix}{key}/"))
        else:
            flat[f"{prefix}{key}"] = value
    return flat
