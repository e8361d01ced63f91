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
