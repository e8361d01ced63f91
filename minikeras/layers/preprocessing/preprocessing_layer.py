"""What the categorical and text preprocessing layers share: data in, integers or a constant
encoding out, nothing to train.

These layers take what Keras's take: NumPy arrays of numbers or of strings (`str`, bytes or
object arrays), Python lists, and TensorFlow tensors (converted with `.numpy()`). Strings are
handled as NumPy `str` arrays; bytes are decoded as UTF-8. Their output does not depend on
any weight and is not differentiable in their input (an index, a count), so their backward
passes nothing on: a model stops its backward pass there, as it does at an Embedding's ids.
"""

import itertools

import numpy as np

from minikeras.layers import node as node_module
from minikeras.layers.layer import Layer


def to_numpy(data):
    """`data` as a NumPy array: a TensorFlow tensor through `.numpy()`, a list through
    np.asarray; bytes (TensorFlow's strings) decoded as UTF-8 into a `str` array."""
    if not isinstance(data, np.ndarray) and hasattr(data, "numpy"):
        data = data.numpy()
    array = np.asarray(data)
    if array.dtype.kind == "S":
        return np.char.decode(array, "utf-8")
    if array.dtype.kind == "O" and array.size:
        flat = array.reshape(-1)
        if all(isinstance(v, bytes) for v in flat):
            return np.char.decode(array.astype(bytes), "utf-8")
        if all(isinstance(v, str) for v in flat):
            return array.astype(str)
    return array


def is_tf_dataset(data):
    """A `tf.data.Dataset`, recognised without importing TensorFlow."""
    return type(data).__module__.startswith("tensorflow") and hasattr(data, "take")


def adapt_batches(data, steps=None):
    """The batches `adapt(data, steps)` learns from, as Keras reads them: a `tf.data.Dataset`
    or any other iterable that is not an array (a generator, a grain dataset) yields its
    batches (at most `steps` of them); an array, a list or a tensor is one batch.

    Returns (batches, is_one_array): Keras treats the elements of a single 1-D array as
    separate samples, but a 1-D batch from an iterable as one sample.
    """
    if is_tf_dataset(data):
        if steps is not None:
            data = data.take(steps)
        return (to_numpy(batch) for batch in data), False
    is_array = isinstance(data, (list, tuple, np.ndarray)) or hasattr(data, "numpy")
    if hasattr(data, "__iter__") and not is_array:
        batches = iter(data) if steps is None else itertools.islice(data, steps)
        return (to_numpy(batch) for batch in batches), False
    return iter([to_numpy(data)]), True


class PreprocessingLayer(Layer):
    """A layer that maps data to integers or to a fixed encoding of them (no weights, no
    gradient). It accepts lists, string arrays and TensorFlow tensors, which `Layer.__call__`
    would make float arrays; on a KerasTensor it records its node as any layer, the output
    taking `output_dtype`."""

    builds_at_init = True  # no weights to make: built as soon as it is made

    @property
    def output_dtype(self):
        """The dtype of the output (int64 indices by default)."""
        return "int64"

    def __call__(self, inputs, *args, **kwargs):
        if node_module.is_symbolic(inputs):
            outputs = super().__call__(inputs, *args, **kwargs)
            for tensor in node_module.flatten(outputs):
                tensor.dtype = self.output_dtype
            return outputs
        kwargs.pop("training", None)
        if _graph_tensors(inputs):  # inside `tf.data.Dataset.map`
            return self._call_in_graph(inputs, *args, **kwargs)
        if isinstance(inputs, (list, tuple)) and self.takes_several_inputs:
            inputs = [to_numpy(x) for x in inputs]
        else:
            inputs = to_numpy(inputs)
        if not self._built:
            self.input_shape = _shape_of(inputs)
            self._built = True
        return self.call(inputs, *args, **kwargs)

    takes_several_inputs = False  # HashedCrossing: a list is several inputs, not one array

    def _call_in_graph(self, inputs, *args, **kwargs):
        """The layer inside a TensorFlow graph (`dataset.map(layer)`): TensorFlow's side of it
        lives with the other TensorFlow interop, in minikeras/parity/tf_data.py."""
        from minikeras.parity.tf_data import call_in_tf_graph

        return call_in_tf_graph(self, inputs, args, kwargs)

    def backward(self, dy):
        """No gradient: the output is an index or an encoding of one, constant in the input."""
        self.grads = []
        return None

    @classmethod
    def _from_config(cls, config_):
        # these layers may compute in integers (Hashing's int64): their dtype is read as
        # Keras writes it, without the float-only check of the layers with weights
        config_ = dict(config_)
        dtype = config_.get("dtype")
        if isinstance(dtype, dict):
            config_["dtype"] = dtype.get("config", {}).get("name")
        return cls(**config_)

    # what a file keeps besides weights (minikeras/saving/layer_state.py): nothing, unless
    # the layer says (a lookup's vocabulary and idf weights)
    def save_own_variables(self, store):
        pass

    def load_own_variables(self, store):
        pass

    def save_assets(self, dir_path):
        pass

    def load_assets(self, dir_path):
        pass

    def compute_output_spec(self, inputs):
        """The output as a KerasTensor: its shape and dtype (Keras's method)."""
        shapes = [t.shape for t in inputs] if isinstance(inputs, (list, tuple)) else inputs.shape
        return node_module.KerasTensor(self.compute_output_shape(shapes), dtype=self.output_dtype)


def _graph_tensors(inputs):
    """Whether `inputs` are symbolic TensorFlow tensors (a graph's, no value yet)."""
    items = inputs if isinstance(inputs, (list, tuple)) else [inputs]
    return bool(items) and all(
        type(t).__module__.startswith("tensorflow") and not hasattr(t, "_numpy") for t in items
    )


def _shape_of(inputs):
    if isinstance(inputs, list):
        return [tuple(x.shape) for x in inputs]
    return (None,) + tuple(inputs.shape[1:]) if inputs.ndim else ()
