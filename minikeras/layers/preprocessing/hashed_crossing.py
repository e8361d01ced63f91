"""HashedCrossing: a tuple of categorical features → one bin of their combination."""

import numpy as np

from minikeras.layers.preprocessing.fingerprints import (
    MASK,
    as_hash_bytes,
    fingerprint64,
    fingerprint_cat64,
)
from minikeras.layers.preprocessing.preprocessing_layer import PreprocessingLayer
from minikeras.utils.numerical_utils import encode_categorical_inputs

HASH_KEY = 0xDECAFCAFFE  # tf.sparse.cross_hashed's default key, where each crossing starts


class HashedCrossing(PreprocessingLayer):
    """bin = h mod num_bins, h = cat(…cat(cat(key, f(x₁)), f(x₂))…, f(xₙ)), `cat` TensorFlow's
    FingerprintCat64 and f(x) = Fingerprint64 of a string, an integer itself (as uint64):
    what `tf.sparse.cross_hashed` computes, row by row, for inputs of shape (), (batch,) or
    (batch, 1). "one_hot" encodes the bin.

    >>> import numpy as np
    >>> from minikeras.layers import HashedCrossing
    >>> HashedCrossing(num_bins=5)((np.array([1, 2]), np.array(["A", "B"]))).shape
    (2,)
    """

    takes_several_inputs = True

    def __init__(self, num_bins, output_mode="int", sparse=False, name=None, dtype=None, **kwargs):
        if output_mode == "int" and dtype is None:
            dtype = "int64"
        if sparse:  # Keras's message on its backends without sparse tensors
            raise ValueError("`sparse=True` can only be used with the TensorFlow backend.")
        if output_mode not in ("int", "one_hot"):
            raise ValueError(
                "Unknown value for `output_mode` argument of layer HashedCrossing. Allowed "
                f"values are: ('int', 'one_hot'). Received: {output_mode}"
            )
        kwargs.pop("trainable", None)
        super().__init__(name=name, dtype=dtype, **kwargs)
        self.num_bins = num_bins
        self.output_mode = output_mode
        self.sparse = sparse

    @property
    def output_dtype(self):
        return self.dtype

    def call(self, inputs):
        if not isinstance(inputs, (list, tuple)):
            raise ValueError(
                "`HashedCrossing` should be called on a list or tuple of inputs. "
                f"Received: inputs={inputs}"
            )
        if len(inputs) < 2:
            raise ValueError(
                "`HashedCrossing` should be called on at least two inputs. "
                f"Received: inputs={inputs}"
            )
        inputs = [np.asarray(x) for x in inputs]
        shape = inputs[0].shape
        if len(shape) > 2 or (len(shape) == 2 and shape[-1] != 1):
            raise ValueError(
                "All `HashedCrossing` inputs should have shape `()`, `(batch_size)` or "
                f"`(batch_size, 1)`. Received: inputs={inputs}"
            )
        if any(x.shape != shape for x in inputs[1:]):
            raise ValueError(
                f"All `HashedCrossing` inputs should have equal shape. Received: inputs={inputs}"
            )
        if not all(x.dtype.kind in "iuUSO" for x in inputs):
            raise ValueError(
                "All `HashedCrossing` inputs should have an integer or string dtype. "
                f"Received: inputs={inputs}"
            )
        columns = [self._features(x.reshape(-1)) for x in inputs]
        bins = []
        for row in zip(*columns):
            crossed = HASH_KEY
            for feature in row:
                crossed = fingerprint_cat64(crossed, feature)
            bins.append(crossed % self.num_bins)
        bins = np.asarray(bins, dtype=np.int64).reshape(shape)
        return encode_categorical_inputs(bins, self.output_mode, self.num_bins, self.dtype)

    @staticmethod
    def _features(column):
        """What each value adds to a crossing: a string's Fingerprint64, an integer's bits."""
        if column.dtype.kind in "iu":
            return [int(v) & MASK for v in column.tolist()]
        return [fingerprint64(as_hash_bytes(v)) for v in column.tolist()]

    def compute_output_shape(self, input_shape):
        if (
            len(input_shape) != 2
            or not isinstance(input_shape[0], tuple)
            or not isinstance(input_shape[1], tuple)
        ):
            raise ValueError(
                f"Expected as input a list/tuple of 2 tensors. Received input_shape={input_shape}"
            )
        if input_shape[0][-1] != input_shape[1][-1]:
            raise ValueError(
                "Expected the two input tensors to have identical shapes. "
                f"Received input_shape={input_shape}"
            )
        if self.output_mode == "int":
            return tuple(input_shape[0])
        if input_shape[0][-1] != 1:
            return tuple(input_shape[0]) + (self.num_bins,)
        return tuple(input_shape[0])[:-1] + (self.num_bins,)

    def get_config(self):
        return {
            "num_bins": self.num_bins,
            "output_mode": self.output_mode,
            "sparse": self.sparse,
            "name": self.name,
            "dtype": self.dtype,
        }
