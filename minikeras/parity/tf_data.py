"""A minikeras preprocessing layer inside `tf.data.Dataset.map` (interop with TensorFlow, which
only this package imports): its NumPy call wrapped in `tf.numpy_function`."""

import numpy as np


def call_in_tf_graph(layer, inputs, args, kwargs):
    """`layer(inputs)` on a TensorFlow graph's tensors, the output given the static shape
    Keras's layer would give it (AutoGraph off, as in `map_in_tf_graph`)."""
    import tensorflow as tf  # (the inputs are TensorFlow's: it is imported already)

    return tf.autograph.experimental.do_not_convert(_call_in_tf_graph)(layer, inputs, args, kwargs)


def _call_in_tf_graph(layer, inputs, args, kwargs):
    import tensorflow as tf

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


def map_in_tf_graph(layer, data, call):
    """`call(data)` on a TensorFlow graph's tensors (see `_map_in_tf_graph`), with AutoGraph
    off: it would otherwise rewrite every minikeras function the call reaches, which is
    plain NumPy (a few seconds per layer, for nothing)."""
    import tensorflow as tf

    return tf.autograph.experimental.do_not_convert(_map_in_tf_graph)(layer, data, call)


def _map_in_tf_graph(layer, data, call):
    """`call(data)` (NumPy in and out, any nest of arrays: an image batch, or a dict of
    images, labels and boxes) on a TensorFlow graph's tensors, for an image layer inside
    `dataset.map`. The output's structure and dtypes are learnt from one call on zeros of the
    input's static shape (unknown sizes taken as 1), with the layer's random state put back
    after it, so that the probe draws nothing the data would have drawn."""
    import tensorflow as tf

    flat = tf.nest.flatten(data)
    zeros = [np.zeros([d or 1 for d in t.shape], t.dtype.as_numpy_dtype) for t in flat]
    generator = getattr(layer, "generator", None)
    state = None if generator is None else np.array(generator.state)
    probe_output = call(tf.nest.pack_sequence_as(data, zeros))
    if state is not None:
        generator.state.assign(state)
    probe = tf.nest.flatten(probe_output)
    # the array entries come from the data; the others (None, a seed generator) are constants
    arrays = [i for i, p in enumerate(probe) if p is not None and np.asarray(p).dtype != object]
    dtypes = [tf.as_dtype(np.asarray(probe[i]).dtype) for i in arrays]

    def run(*inputs):
        outputs = tf.nest.flatten(call(tf.nest.pack_sequence_as(data, list(inputs))))
        return [np.asarray(outputs[i]).astype(d.as_numpy_dtype) for i, d in zip(arrays, dtypes)]

    tensors = tf.numpy_function(run, flat, dtypes, stateful=True)
    for tensor, i in zip(tensors, arrays):
        tensor.set_shape([None] * np.ndim(probe[i]))  # the rank is known, the sizes are the data's
    if len(flat) == 1 and not isinstance(data, dict) and len(tensors) == 1:
        try:  # one image batch: the layer's output shape
            tensors[0].set_shape(layer.compute_output_shape(tuple(flat[0].shape)))
        except (ValueError, TypeError, IndexError):
            pass
    outputs = list(probe)
    for tensor, i in zip(tensors, arrays):
        outputs[i] = tensor
    return tf.nest.pack_sequence_as(probe_output, outputs)
