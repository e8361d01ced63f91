"""Hashing: values → one of `num_bins` bins by a fingerprint of their text."""

from minikeras import config
from minikeras.layers.preprocessing.fingerprints import hash_buckets
from minikeras.layers.preprocessing.preprocessing_layer import PreprocessingLayer
from minikeras.utils.numerical_utils import encode_categorical_inputs

OUTPUT_MODES = ("int", "one_hot", "multi_hot", "count")


class Hashing(PreprocessingLayer):
    """bin = Fingerprint64(text of the value) mod num_bins (FarmHash, as TensorFlow's
    `to_hash_bucket_fast`); with a `salt` (k0, k1), SipHash-2-4 keyed by it instead. Integers
    (and floats, truncated) are hashed through their decimal text, as Keras hashes them.

    With a `mask_value`, bin 0 is kept for it and the others are 1 + hash mod (num_bins − 1).
    `output_mode` other than "int" encodes the bins ("one_hot", "multi_hot", "count").

    >>> from minikeras.layers import Hashing
    >>> Hashing(num_bins=3)([["A"], ["B"], ["C"], ["D"], ["E"]]).tolist()
    [[1], [0], [1], [1], [2]]
    """

    def __init__(
        self, num_bins, mask_value=None, salt=None, output_mode="int", sparse=False, **kwargs
    ):
        if kwargs.get("dtype") is None:  # int64 bins, or float encodings
            kwargs["dtype"] = "int64" if output_mode == "int" else config.floatx()
        if num_bins is None or num_bins <= 0:
            raise ValueError(
                "The `num_bins` for `Hashing` cannot be `None` or non-positive values. "
                f"Received: num_bins={num_bins}."
            )
        if output_mode == "int" and kwargs["dtype"] not in ("int32", "int64"):
            raise ValueError(
                "When `output_mode=\"int\"`, `dtype` should be an integer type, 'int32' or "
                f"'in64'. Received: dtype={kwargs['dtype']}"
            )
        if output_mode not in OUTPUT_MODES:
            raise ValueError(
                "Invalid value for argument `output_mode`. Expected one of "
                f"{OUTPUT_MODES}. Received: output_mode={output_mode}"
            )
        if sparse and output_mode == "int":
            raise ValueError(
                '`sparse` may only be true if `output_mode` is `"one_hot"`, `"multi_hot"`, '
                f'or `"count"`. Received: sparse={sparse} and output_mode={output_mode}'
            )
        if sparse:
            raise NotImplementedError("Hashing(sparse=True): minikeras has no sparse tensors")
        if salt is not None:
            if isinstance(salt, (tuple, list)) and len(salt) == 2:
                salt = list(salt)
            elif isinstance(salt, int):
                salt = [salt, salt]
            else:
                raise ValueError(
                    "The `salt` argument for `Hashing` can only be a tuple of size 2 "
                    f"integers, or a single integer. Received: salt={salt}."
                )
        super().__init__(**kwargs)
        self.num_bins = num_bins
        self.mask_value = mask_value
        self.strong_hash = salt is not None
        self.output_mode = output_mode
        self.sparse = sparse
        self.salt = salt

    @property
    def output_dtype(self):
        return self.dtype

    def call(self, inputs):
        if self.output_mode == "one_hot" and inputs.ndim and inputs.shape[-1] == 1:
            inputs = inputs[..., 0]
        bins = self._hash_values_to_bins(inputs)
        return encode_categorical_inputs(bins, self.output_mode, self.num_bins, self.dtype)

    def _hash_values_to_bins(self, values):
        """Each value's bin (bin 0 kept for `mask_value` when it is set)."""
        hash_bins = self.num_bins
        mask = None
        if self.mask_value is not None and hash_bins > 1:
            hash_bins -= 1
            mask = values == self.mask_value
        bins = hash_buckets(values, hash_bins, self.salt)
        if mask is not None:
            bins = (bins + 1) * ~mask
        return bins

    def compute_output_shape(self, input_shape):
        if self.output_mode == "int":
            return tuple(input_shape)
        if len(input_shape) == 0:
            return (self.num_bins,)
        return tuple(input_shape[:-1]) + (self.num_bins,)

    def get_config(self):
        return {
            **super().get_config(),
            "num_bins": self.num_bins,
            "salt": self.salt,
            "mask_value": self.mask_value,
            "output_mode": self.output_mode,
            "sparse": self.sparse,
        }
