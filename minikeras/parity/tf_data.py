"""A minikeras preprocessing layer inside `tf.data.Dataset.map` (interop with TensorFlow, which
only this package imports): its NumPy call wrapped in `tf.numpy_function`."""

import numpy as np


def call_in_tf_graph(layer, inputs, args, kwargs):
    """`layer(inputs)` on a TensorFlow graph's tensors, the output given the static shape
    Keras's layer would give it."""
    import tensorflow as tf  # (the inputs are TensorFlow's: it is imported already)

    several = isinstance(inputs, (list, tuple))
    tensors = list(inputs) if several else [inputs]
    dtype = tf.string if layer.output_dtype == "string" else tf.as_dtype(layer.output_dtype)

    def run(*arrays):
        outputs = np.asarray(layer(list(arrays) if several else arrays[0], *args, **kwargs))
        if dtype == tf.string:
            return np.char.encode(outputs.astype(str), "utf-8").astype(object)
        return outputs.astype(dtype.as_numpy_dtype)

    outputs = tf.numpy_function(run, tensors, dtype, stateful=False)
    shapes = [tuple(t.shape) for t in tensors]
    try:
        outputs.set_shape(layer.compute_output_shape(shapes if several else shapes[0]))
    except (ValueError, TypeError, IndexError):
        pass  # a shape only the data says
    return outputs


def call_feature_space_in_tf_graph(feature_space, data):
    """`feature_space(data)` on a TensorFlow graph's dict of columns (`dataset.map(fs)`): the
    NumPy call in `tf.numpy_function`, its outputs shaped as Keras's (a batch axis when the
    columns have one, then each encoded feature's width)."""
    import tensorflow as tf

    names = list(data)
    encoded = feature_space.get_encoded_features()
    as_dict = isinstance(encoded, dict)
    keys = list(encoded) if as_dict else [None]
    specs = [encoded[key] if as_dict else encoded for key in keys]
    dtypes = [tf.string if s.dtype == "string" else tf.as_dtype(s.dtype) for s in specs]

    def run(*arrays):
        outputs = feature_space(dict(zip(names, arrays)))
        outputs = [outputs[key] for key in keys] if as_dict else [outputs]
        return [np.asarray(o).astype(d.as_numpy_dtype) for o, d in zip(outputs, dtypes)]

    outputs = tf.numpy_function(run, [data[n] for n in names], dtypes, stateful=False)
    batched = data[names[0]].shape.rank != 0  # a batch of rows, not one row
    for output, spec in zip(outputs, specs):
        width = tuple(spec.shape[1:])
        output.set_shape(((None,) if batched else ()) + width)
    return dict(zip(keys, outputs)) if as_dict else outputs[0]


def dataset_of_batches(new_pass, peeked=2):
    """A `tf.data.Dataset` of the batches `new_pass()` yields (NumPy arrays in tuples, lists
    and dicts), as Keras's adapters' `get_tf_dataset`: lists become tuples (tf.data has no
    lists), and each tensor's shape is that of the first `peeked` batches, an axis on which
    they differ left unknown, and the batch axis always (a last batch may be shorter)."""
    import tensorflow as tf

    def as_tuples(structure):
        if isinstance(structure, dict):
            return {key: as_tuples(value) for key, value in structure.items()}
        if isinstance(structure, (list, tuple)):
            return tuple(as_tuples(value) for value in structure)
        return np.asarray(structure)

    def batches():
        for batch in new_pass():
            yield as_tuples(batch)

    first = []
    for batch in batches():
        first.append(batch)
        if len(first) == peeked:
            break
    if not first:
        raise ValueError("The data has no batches: a tf.data.Dataset needs at least one")

    def spec(*arrays):
        shapes = [a.shape for a in arrays]
        if len({len(shape) for shape in shapes}) > 1:
            shape = None  # batches of different ranks
        else:
            shape = [d if all(s[i] == d for s in shapes) else None for i, d in enumerate(shapes[0])]
            shape = tuple([None] + shape[1:]) if shape else ()
        dtype = tf.string if arrays[0].dtype.kind in "SUO" else tf.as_dtype(arrays[0].dtype)
        return tf.TensorSpec(shape, dtype)

    signature = tf.nest.map_structure(spec, *first)
    return tf.data.Dataset.from_generator(batches, output_signature=signature)
