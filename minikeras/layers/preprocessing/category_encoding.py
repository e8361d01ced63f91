"""CategoryEncoding: integer ids → one-hot, multi-hot or count vectors."""

import numpy as np

from minikeras.layers.preprocessing.preprocessing_layer import PreprocessingLayer, to_numpy
from minikeras.utils.numerical_utils import encode_categorical_inputs


class CategoryEncoding(PreprocessingLayer):
    """Encodes ids in [0, num_tokens): "one_hot" a row per id, "multi_hot" (the default) a row
    per sample (the last axis) with 1 where an id occurs, "count" the number of times (or the
    sum of `count_weights` given to the call). Ids outside the range count for nothing.

    >>> import numpy as np
    >>> from minikeras.layers import CategoryEncoding
    >>> CategoryEncoding(num_tokens=4, output_mode="count")(np.array([[0, 1], [0, 0]])).tolist()
    [[1.0, 1.0, 0.0, 0.0], [2.0, 0.0, 0.0, 0.0]]
    """

    def __init__(self, num_tokens=None, output_mode="multi_hot", sparse=False, **kwargs):
        if output_mode == "binary":  # Keras 2's name
            output_mode = "multi_hot"
        if output_mode not in ("count", "one_hot", "multi_hot"):
            raise ValueError(f"Unknown arg for output_mode: {output_mode}")
        if num_tokens is None:
            raise ValueError(
                "num_tokens must be set to use this layer. If the number of tokens is not "
                "known beforehand, use the IntegerLookup layer instead."
            )
        if num_tokens < 1:
            raise ValueError(f"`num_tokens` must be >= 1. Received: num_tokens={num_tokens}.")
        if sparse:
            raise NotImplementedError(
                "CategoryEncoding(sparse=True): minikeras has no sparse tensors"
            )
        super().__init__(**kwargs)
        self.num_tokens = num_tokens
        self.output_mode = output_mode
        self.sparse = sparse

    @property
    def output_dtype(self):
        return self.dtype

    def _encode(self, inputs, count_weights=None):
        inputs = np.asarray(to_numpy(inputs)).astype(np.int64)
        return encode_categorical_inputs(
            inputs, self.output_mode, self.num_tokens, self.dtype, count_weights
        )

    def call(self, inputs, count_weights=None):
        if count_weights is not None:
            if self.output_mode != "count":
                raise ValueError(
                    "`count_weights` is not used when `output_mode` is not `'count'`. "
                    f"Received `count_weights={count_weights}`."
                )
            count_weights = np.asarray(to_numpy(count_weights), dtype=self.dtype)
        return self._encode(inputs, count_weights)

    def compute_output_shape(self, input_shape):
        if input_shape is not None and len(input_shape) == 0:
            return (self.num_tokens,)
        if self.output_mode == "one_hot" and (input_shape[-1] != 1 or len(input_shape) == 1):
            return tuple(input_shape) + (self.num_tokens,)
        return tuple(input_shape[:-1]) + (self.num_tokens,)

    def get_config(self):
        return {
            **super().get_config(),
            "num_tokens": self.num_tokens,
            "output_mode": self.output_mode,
        }
