"""The edge of the model: user data becomes contiguous arrays in the model's dtype,
or a clear error.

Everything here runs before training touches a weight, so bad input never leaves a model
half-changed.
"""

import numbers

import numpy as np


def positive_int(value, name):
    """`value` as an int ≥ 1, else ValueError naming the argument."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"`{name}` must be a positive integer. Received: {name}={value!r}")
    return int(value)


def to_array(data, dtype, name):
    """Data (array, nested lists, any numeric dtype or layout) → C-contiguous `dtype` array."""
    if data is None:
        raise ValueError(f"`{name}` is None; expected an array of samples.")
    if (
        isinstance(data, (list, tuple, dict))
        and len(data)
        and isinstance(data[0] if not isinstance(data, dict) else None, np.ndarray)
        and len({np.shape(d) for d in data}) > 1
    ):
        raise ValueError(
            f"`{name}` is a list of {len(data)} arrays of different shapes; this model takes a "
            "single array."
        )
    try:
        array = np.asarray(data)
    except ValueError as error:  # NumPy's message does not say which argument, nor why
        raise ValueError(
            f"`{name}` could not be read as one array of samples: its nested lists have "
            f"different lengths ({error})"
        ) from None
    is_real = np.issubdtype(array.dtype, np.number) or np.issubdtype(array.dtype, np.bool_)
    if array.dtype == object or not is_real or np.issubdtype(array.dtype, np.complexfloating):
        raise TypeError(
            f"`{name}` must hold real numbers; received an array of dtype {array.dtype} "
            f"(shape {array.shape})."
        )
    if array.ndim == 0:
        raise ValueError(f"`{name}` must have a batch axis; received a scalar {array!r}.")
    if array.shape[0] == 0:
        raise ValueError(f"`{name}` is empty (shape {array.shape}); expected at least one sample.")
    return np.ascontiguousarray(array, dtype=dtype)


def to_string_array(data, name):
    """Text data (a list, a `str`, bytes or object array, a TensorFlow string tensor) → a
    NumPy `str` array, for an `Input(dtype="string")`."""
    from minikeras.layers.preprocessing.preprocessing_layer import to_numpy

    if data is None:
        raise ValueError(f"`{name}` is None; expected an array of samples.")
    array = to_numpy(data)
    if array.dtype.kind != "U":
        raise TypeError(
            f"`{name}` goes to an Input of dtype string and must hold strings; received an "
            f"array of dtype {array.dtype} (shape {array.shape})."
        )
    if array.ndim == 0:
        raise ValueError(f"`{name}` must have a batch axis; received a scalar {array!r}.")
    if array.shape[0] == 0:
        raise ValueError(f"`{name}` is empty (shape {array.shape}); expected at least one sample.")
    return array


def is_structure(data):
    """Whether `data` is several inputs: a dict, or a list or tuple of arrays (or of dicts),
    rather than one array written as nested lists."""
    if isinstance(data, dict):
        return True
    return (
        isinstance(data, (list, tuple))
        and len(data) > 0
        and all(isinstance(item, (np.ndarray, dict)) for item in data)
    )


def with_batch_size(shapes, batch):
    """Shapes (one, or a list or dict of them) with their batch axis set to `batch`."""
    if isinstance(shapes, dict):
        return {key: with_batch_size(shape, batch) for key, shape in shapes.items()}
    if isinstance(shapes, list):
        return [with_batch_size(shape, batch) for shape in shapes]
    return (batch,) + tuple(shapes[1:])


def map_arrays(structure, dtype, name):
    """Each array of a list, tuple or dict of them made an array by `to_array` (None stays)."""
    if isinstance(structure, dict):
        return {
            key: map_arrays(value, dtype, f"{name}['{key}']") for key, value in structure.items()
        }
    if isinstance(structure, (list, tuple)):
        return type(structure)(
            map_arrays(value, dtype, f"{name}[{i}]") for i, value in enumerate(structure)
        )
    return None if structure is None else to_array(structure, dtype, name)


def check_same_length(**arrays):
    """Keras's 'Data cardinality is ambiguous' error, with every size named."""
    for name, a in arrays.items():
        if a is not None and np.ndim(a) == 0:  # None or a scalar: no samples to count
            value = a.item() if isinstance(a, np.ndarray) else a
            raise ValueError(f"`{name}` must be an array of samples; received {value!r}.")
    sizes = {name: len(a) for name, a in arrays.items() if a is not None}
    if len(set(sizes.values())) > 1:
        detail = "\n".join(f"'{name}' sizes: {size}" for name, size in sizes.items())
        raise ValueError(
            "Data cardinality is ambiguous. Make sure all arrays contain the same number of "
            f"samples.\n{detail}"
        )


def sample_weights(sample_weight, class_weight, y, n, dtype):
    """One weight per sample, from `sample_weight` or `class_weight` {class: weight}; or None.
    A 2-D `sample_weight` (samples, timesteps) weighs each timestep of a sequence output, as
    Keras takes it (a masked output's loss needs it: see `Model.output_masks`)."""
    if sample_weight is not None and class_weight is not None:
        raise ValueError("You cannot `class_weight` and `sample_weight` at the same time.")
    if sample_weight is not None:
        w = to_array(sample_weight, dtype, "sample_weight")
        if w.ndim == 2 and w.shape[1] == 1:
            w = w[:, 0]
        if w.ndim not in (1, 2) or w.shape[0] != n:
            raise ValueError(
                f"`sample_weight` must have shape ({n},), one weight per sample, or ({n}, "
                f"timesteps), one per timestep; received shape {w.shape}."
            )
        return w
    if class_weight is not None:
        if not isinstance(class_weight, dict):
            raise ValueError(
                f"`class_weight` must be a dict {{class: weight}}; received {class_weight!r}"
            )
        return class_weights_to_sample_weights(y, class_weight, dtype)
    return None


def class_weights_to_sample_weights(y, class_weight, dtype):
    """Each sample's weight is its class's: the argmax of a one-hot (or soft) row, a label
    rounded to the nearest class; a class the dict does not name weighs 1, as in Keras 3
    (`class_weight_to_sample_weights` in keras/src/trainers/data_adapters/)."""
    y = np.asarray(y)
    if y.ndim > 1:
        y = np.argmax(y, axis=-1) if y.shape[-1] != 1 else y[..., 0]
    classes = np.round(y).astype(np.int64)
    return np.array([class_weight.get(c, 1.0) for c in classes.tolist()], dtype=dtype)
