"""What a functional model is given, made into one value per Input, as Keras's Functional
standardizes its inputs (keras/src/models/functional.py `_standardize_inputs`).

A model built on `inputs` (one tensor, a list, a dict, nested) is called on data of that
structure. Keras also takes a few other forms, and so does minikeras:

    a dict for a list of Inputs        matched by the Inputs' names
    a dict for one Input               its value under the Input's name
    a list for a dict of Inputs        in the dict's order (a warning if the structures differ;
                                       an error when the dict's keys are not in sorted order,
                                       since the list could then not be matched reliably)
    extra dict keys                    ignored, with the same warning
    None for an `Input(optional=True)`  passed on as None; for any other Input, a ValueError
    one axis more or fewer             a trailing axis of 1 is squeezed or added
"""

import warnings

import numpy as np

from minikeras import tree
from minikeras.layers.node import KerasTensor


def flat_values(model, inputs, symbolic=False):
    """The values of `inputs`, one per Input, in `model.inputs` order.

    Warns (or raises, where Keras raises) when the structure given differs from the
    model's; a symbolic call (on KerasTensors) only matches names, as Keras's does."""
    struct = model._inputs_struct
    raise_exception = False
    if isinstance(inputs, dict) and isinstance(struct, dict):
        # Keras flattens what it is given; picking by the model's keys gives the same values
        # when the keys agree, and the right ones when extra keys sort between them
        if not symbolic and not _same_structure(inputs, struct):
            _mismatch(model, inputs, raise_exception=False)
        return [_pick(inputs, path, model) for path in _paths(struct)]
    if isinstance(struct, list) and len(struct) == 1 and _is_tensor(inputs):
        inputs = [inputs]
    elif isinstance(inputs, dict):
        if isinstance(struct, (list, tuple)) and all(isinstance(t, KerasTensor) for t in struct):
            names = [t.name for t in struct]
            if set(names) <= set(inputs):
                inputs = type(struct)(inputs[name] for name in names)
            else:
                raise_exception = True
        elif isinstance(struct, KerasTensor) and struct.name in inputs:
            inputs = inputs[struct.name]
        else:
            raise_exception = True
    if isinstance(struct, dict) and not isinstance(inputs, dict) and list(struct) != sorted(struct):
        raise_exception = True
    if raise_exception or (not symbolic and not _same_structure(inputs, struct)):
        _mismatch(model, inputs, raise_exception)
    return tree.flatten(inputs)


def check_not_none(model, values):
    """Keras's ValueError for None given to an Input that is not optional."""
    for value, tensor in zip(values, model.inputs):
        if value is None and not tensor.layer.optional:
            raise ValueError(
                f"The input '{tensor.name}' is not optional, but None was passed. "
                "Please provide a valid tensor."
            )


def adjust_rank(model, index, array):
    """`array` for Input `index`, a trailing axis of 1 squeezed or added when its rank is one
    off the Input's (Keras's `_adjust_input_rank`); else Keras's ValueError naming the input
    and its path in the model's inputs."""
    expected = model.inputs[index].shape
    rank = np.ndim(array)
    if rank == len(expected):
        return array
    if rank == len(expected) + 1 and np.shape(array)[-1] == 1:
        return np.squeeze(array, axis=-1)
    if rank == len(expected) - 1 and expected[-1] == 1:
        return np.expand_dims(array, axis=-1)
    path = ".".join(str(key) for key in _paths(model._inputs_struct)[index])
    raise ValueError(
        f"Invalid input shape for input {array!r} with name '{model.inputs[index].name}' and "
        f"path '{path}'. Expected shape {expected}, but input has incompatible shape "
        f"{np.shape(array)}"
    )


def _is_tensor(x):
    return isinstance(x, KerasTensor) or (hasattr(x, "shape") and hasattr(x, "dtype"))


def _paths(struct):
    return [path for path, _ in tree.flatten_with_path(struct)]


def _pick(inputs, path, model):
    value = inputs
    for key in path:
        if isinstance(value, dict) and key not in value:
            names = [".".join(map(str, p)) for p in _paths(model._inputs_struct)]
            raise ValueError(
                f'Missing data for input "{key}". You passed a data dictionary with keys '
                f"{list(value)}. Expected the following keys: {names}"
            )
        value = value[key]
    return value


def _same_structure(a, b):
    """Keras's check, lists and tuples alike."""
    try:
        tree.assert_same_structure(tree.lists_to_tuples(a), tree.lists_to_tuples(b))
    except (ValueError, TypeError):
        return False
    return True


def _mismatch(model, inputs, raise_exception):
    expected = tree.map_structure(lambda t: "None" if t is None else t.name, model._inputs_struct)
    received = tree.map_structure(
        lambda x: "None" if x is None else f"Tensor(shape={np.shape(x)})", inputs
    )
    message = (
        "The structure of `inputs` doesn't match the expected structure.\n"
        f"Expected: {expected}\nReceived: inputs={received}"
    )
    if raise_exception:
        raise ValueError(message)
    warnings.warn(message, stacklevel=4)
