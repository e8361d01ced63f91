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
