"""IndexLookup: values from a vocabulary → integer indices (StringLookup's and IntegerLookup's
common part, as in Keras)."""

import collections
import os

import numpy as np

from minikeras import config
from minikeras.layers.preprocessing.fingerprints import hash_buckets
from minikeras.layers.preprocessing.preprocessing_layer import (
    PreprocessingLayer,
    adapt_batches,
    to_numpy,
)
from minikeras.utils.numerical_utils import encode_categorical_inputs
from minikeras.utils.object_registration import loading_in_safe_mode

OUTPUT_MODES = ("int", "one_hot", "multi_hot", "count", "tf_idf")
INT64_MAX = np.iinfo(np.int64).max  # where a masked token goes outside "int" mode: dropped


class IndexLookup(PreprocessingLayer):
    """Maps each value to its index in a vocabulary, learnt by `adapt` or given.

    Indices, in order: the mask token (index 0, in "int" mode when `mask_token` is set), then
    `num_oov_indices` indices for out-of-vocabulary values, then the vocabulary, most frequent
    first. An unknown value takes the single OOV index, or with several one chosen by
    `value mod num_oov_indices` (integers, `oov_method="floormod"`) or by a hash of its text
    (FarmHash; SipHash with a `salt`). `invert=True` maps indices back to values.

    `output_mode` "one_hot", "multi_hot", "count" and "tf_idf" encode the indices over the
    vocabulary's size (`max_tokens` with `pad_to_max_tokens`): a row per value, or one per
    sample (the last axis), a count, or a count times each term's inverse document frequency
    idf = log(1 + documents / (1 + documents containing the term)).
    """

    def __init__(
        self,
        max_tokens,
        num_oov_indices,
        mask_token,
        oov_token,
        vocabulary_dtype,
        vocabulary=None,
        idf_weights=None,
        invert=False,
        output_mode="int",
        sparse=False,
        pad_to_max_tokens=False,
        oov_method="floormod",
        name=None,
        salt=None,
        **kwargs,
    ):
        # every check before anything is set, with Keras's messages
        if max_tokens is not None and max_tokens <= 1:
            raise ValueError(
                f"If set, `max_tokens` must be greater than 1. Received: max_tokens={max_tokens}"
            )
        if pad_to_max_tokens and max_tokens is None:
            raise ValueError(
                "If pad_to_max_tokens is True, must set `max_tokens`. "
                f"Received: max_tokens={max_tokens}"
            )
        if num_oov_indices < 0:
            raise ValueError(
                "`num_oov_indices` must be greater than or equal to 0. "
                f"Received: num_oov_indices={num_oov_indices}"
            )
        if oov_method not in ("floormod", "farmhash"):
            raise ValueError(
                f"Unknown value for `oov_method` argument of layer {type(self).__name__}. "
                f"Allowed values are: ('floormod', 'farmhash'). Received: {oov_method}"
            )
        is_integer = vocabulary_dtype != "string"
        if salt is not None:
            if is_integer and oov_method != "farmhash":
                raise ValueError(
                    "`salt` can only be used when `oov_method='farmhash'`. "
                    f"Received: oov_method={oov_method}"
                )
            if isinstance(salt, (tuple, list)) and len(salt) == 2:
                salt = list(salt)
            elif isinstance(salt, int):
                salt = [salt, salt]
            else:
                raise ValueError(
                    "The `salt` argument for `IndexLookup` can only be a tuple of 2 integers, "
                    f"or a single integer. Received: salt={salt}."
                )
        output_mode = {"binary": "multi_hot", "tf-idf": "tf_idf"}.get(output_mode, output_mode)
        if output_mode not in OUTPUT_MODES:
            raise ValueError(
                f"Unknown value for `output_mode` argument of layer {type(self).__name__}. "
                f"Allowed values are: {OUTPUT_MODES}. Received: {output_mode}"
            )
        if invert and output_mode != "int":
            raise ValueError(
                "`output_mode` must be `'int'` when `invert` is true. "
                f"Received: output_mode={output_mode}"
            )
        if sparse and output_mode == "int":
            raise ValueError(
                "`sparse` may only be true if `output_mode` is `'one_hot'`, `'multi_hot'`, "
                f"`'count'` or `'tf_idf'`. Received: sparse={sparse} and "
                f"output_mode={output_mode}"
            )
        if sparse:
            raise NotImplementedError(
                f"{type(self).__name__}(sparse=True): minikeras has no sparse tensors; "
                "use sparse=False (a dense array)"
            )
        if idf_weights is not None and output_mode != "tf_idf":
            raise ValueError(
                "`idf_weights` should only be set if `output_mode` is `'tf_idf'`. "
                f"Received: idf_weights={idf_weights} and output_mode={output_mode}"
            )
        frozen_vocab_size = kwargs.pop("vocabulary_size", None)
        has_input_vocabulary = kwargs.pop("has_input_vocabulary", vocabulary is not None)
        kwargs.pop("trainable", None)
        kwargs.pop("dtype", None)
        if kwargs:
            raise ValueError(f"Unrecognized keyword argument(s): {kwargs}")
        if output_mode == "tf_idf" and has_input_vocabulary and idf_weights is None:
            raise ValueError(
                "When specifying the `vocabulary` argument, in TF-IDF output mode, the "
                "`idf_weights` argument must also be provided."
            )
        super().__init__(name=name)
        self.invert = invert
        self.max_tokens = max_tokens
        self.num_oov_indices = num_oov_indices
        self.mask_token = mask_token
        self.oov_token = oov_token
        self.output_mode = output_mode
        self.sparse = sparse
        self.pad_to_max_tokens = pad_to_max_tokens
        self.vocabulary_dtype = vocabulary_dtype
        self.oov_method = oov_method
        self.salt = salt
        self._frozen_vocab_size = frozen_vocab_size
        # a vocabulary given as a file is kept in the model file's assets, not in the config
        self.input_vocabulary = None if isinstance(vocabulary, str) else vocabulary
        self.input_idf_weights = idf_weights
        self._has_input_vocabulary = has_input_vocabulary
        self._tokens = self._as_tokens([])  # the vocabulary, from index _token_start_index()
        self._index_of = {}
        self.idf_weights = None
        if idf_weights is not None:
            self.idf_weights = np.asarray(idf_weights, dtype=config.floatx())
        if vocabulary is not None:
            self.set_vocabulary(vocabulary, idf_weights)
        self.reset_state()

    # ------------------------------------------------------------------ indices
    def _oov_start_index(self):
        return 1 if self.mask_token is not None and self.output_mode == "int" else 0

    def _token_start_index(self):
        return self._oov_start_index() + self.num_oov_indices

    def _as_tokens(self, values):
        """Values as an array of the vocabulary's type (str, or int64)."""
        if self.vocabulary_dtype == "string":
            array = to_numpy(values)
            return array.astype(str) if array.size else np.array([], dtype=str)
        return np.asarray(to_numpy(values), dtype=np.int64)

    def vocabulary_size(self):
        """The number of indices: the vocabulary with the mask and OOV indices."""
        return len(self._tokens) + self._token_start_index()

    def get_vocabulary(self, include_special_tokens=True):
        """The vocabulary in index order; with `include_special_tokens`, a term's position is
        its index (the mask token first, then the OOV token for each OOV index)."""
        tokens = [self._python_token(t) for t in self._tokens]
        if not include_special_tokens:
            return tokens
        special = [self.oov_token] * self._token_start_index()
        if self.mask_token is not None and self.output_mode == "int":
            special[0] = self.mask_token
        return special + tokens

    def _python_token(self, token):
        return str(token) if self.vocabulary_dtype == "string" else int(token)

    def set_vocabulary(self, vocabulary, idf_weights=None):
        """Use `vocabulary` (a list, array or tensor of terms, or the path of a text file with
        one term per line), with the special tokens at its start or without them; in "tf_idf"
        mode `idf_weights` gives each term's weight."""
        if self.output_mode == "tf_idf":
            if idf_weights is None:
                raise ValueError("`idf_weights` must be set if output_mode is 'tf_idf'.")
        elif idf_weights is not None:
            raise ValueError(
                "`idf_weights` should only be set if output_mode is `'tf_idf'`. Received: "
                f"output_mode={self.output_mode} and idf_weights={idf_weights}"
            )
        if isinstance(vocabulary, str):
            self._set_vocabulary_file(vocabulary)
            return
        vocabulary = self._as_tokens(vocabulary)
        if vocabulary.size == 0:
            raise ValueError(f"Cannot set an empty vocabulary. Received: vocabulary={vocabulary}")
        token_start = self._token_start_index()
        special_tokens = [self.mask_token] * self._oov_start_index() + [
            self.oov_token
        ] * self.num_oov_indices
        found_special_tokens = (
            len(vocabulary) >= token_start
            and [self._python_token(t) for t in vocabulary[:token_start]] == special_tokens
        )
        tokens = vocabulary[token_start:] if found_special_tokens else vocabulary
        repeated = [t for t, n in collections.Counter(tokens.tolist()).items() if n > 1]
        if repeated:
            raise ValueError(
                "The passed vocabulary has at least one repeated term. Please uniquify your "
                f"dataset. The repeated terms are: {repeated}"
            )
        reserved = [("mask", self.mask_token)]
        if self.invert:  # the OOV token is looked up only when inverting
            reserved.append(("OOV", self.oov_token))
        for kind, token in reserved:
            if token is not None and token in tokens.tolist():
                index = np.argwhere(vocabulary == token)[-1]
                raise ValueError(
                    f"Found reserved {kind} token at unexpected location in `vocabulary`. Note "
                    "that passed `vocabulary` does not need to include the OOV and mask tokens. "
                    "Either remove all mask and OOV tokens, or include them only at the start "
                    f"of the vocabulary in precisely this order: {special_tokens}. Received: "
                    f"{kind.lower()}_token={token} at vocabulary index {index}"
                )
        new_size = token_start + len(tokens)
        if self.max_tokens is not None and new_size > self.max_tokens:
            raise ValueError(
                "Attempted to set a vocabulary larger than the maximum vocab size. Received "
                f"vocabulary size is {new_size}; `max_tokens` is {self.max_tokens}."
            )
        if self.output_mode == "tf_idf":
            idf_weights = np.asarray(to_numpy(idf_weights))
            if len(vocabulary) != len(idf_weights):
                raise ValueError(
                    "`idf_weights` must be the same length as vocabulary. len(idf_weights) is "
                    f"{len(idf_weights)}; len(vocabulary) is {len(vocabulary)}"
                )
            if idf_weights.ndim != 1:
                raise ValueError(
                    "TF-IDF data must be a 1-index array. "
                    f"Received: type(idf_weights)={type(idf_weights)}"
                )
        self._check_size_unchanged(new_size)
        self._set_tokens(tokens)
        if self.output_mode == "tf_idf":
            # the special indices have no document counts: Keras gives them the mean weight
            front = 0 if found_special_tokens else token_start
            self._set_idf_weights(idf_weights, front, np.average(idf_weights))

    def _set_vocabulary_file(self, path):
        if loading_in_safe_mode():
            raise ValueError(
                "Requested the loading of a vocabulary file outside of the model archive. This "
                "carries a potential risk of loading arbitrary and sensitive files and thus it "
                "is disallowed by default. If you trust the source of the artifact, you can "
                "override this error by passing `safe_mode=False` to the loading function, or "
                "calling `keras.config.enable_unsafe_deserialization(). "
                f"Vocabulary file: '{path}'"
            )
        if not os.path.exists(path):
            raise ValueError(f"Vocabulary file {path} does not exist.")
        if self.output_mode == "tf_idf":
            raise ValueError(
                "output_mode `'tf_idf'` does not support loading a vocabulary from file."
            )
        with open(path, encoding="utf-8") as file:
            lines = file.read().splitlines()
        # a file holds the terms only: every line is a term, from the first OOV index on
        tokens = self._as_tokens(
            lines if self.vocabulary_dtype == "string" else list(map(int, lines))
        )
        self._check_size_unchanged(self._token_start_index() + len(tokens))
        self._set_tokens(tokens)

    def _set_tokens(self, tokens):
        self._tokens = self._as_tokens(tokens)
        start = self._token_start_index()
        self._index_of = {self._python_token(t): start + i for i, t in enumerate(self._tokens)}
        self._frozen_vocab_size = self.vocabulary_size()

    def _set_idf_weights(self, idf_weights, front, front_value):
        """Pad the weights of the terms in front (the special indices) and, with
        `pad_to_max_tokens`, at the back up to `max_tokens` (zeros)."""
        back = 0
        if self.pad_to_max_tokens and self.max_tokens is not None:
            back = self.max_tokens - front - len(idf_weights)
        self.idf_weights = np.pad(
            np.asarray(idf_weights, dtype=np.float64),
            (front, back),
            constant_values=(front_value, 0),
        ).astype(config.floatx())

    def _check_size_unchanged(self, new_size):
        """An encoding's width is fixed once known (Keras's `_ensure_vocab_size_unchanged`)."""
        if self.output_mode == "int" or self.pad_to_max_tokens:
            return
        if self._frozen_vocab_size is not None and new_size != self._frozen_vocab_size:
            raise RuntimeError(
                f"When using `output_mode={self.output_mode}` and `pad_to_max_tokens=False`, "
                "the vocabulary size cannot be changed after the layer is called. Old vocab "
                f"size is {self._frozen_vocab_size}, new vocab size is {new_size}"
            )

    # ------------------------------------------------------------------ adapt
    def adapt(self, data, steps=None):
        """Learn the vocabulary from `data` (an array, a list, a tf.data.Dataset or an iterable
        of batches): terms by decreasing count, ties broken by the terms, largest first;
        at most `max_tokens` indices in all. In "tf_idf" mode also each term's idf."""
        self.reset_state()
        batches, is_one_array = adapt_batches(data, steps)
        for batch in batches:
            if is_one_array and batch.ndim == 1:
                batch = batch[:, None]  # the elements of one 1-D array are separate samples
            self.update_state(batch)
        self.finalize_state()

    def reset_state(self):
        """Forget the counts `update_state` gathered."""
        self._token_counts = collections.Counter()
        self._document_counts = collections.Counter()
        self._num_documents = 0

    def update_state(self, data):
        """Count the terms of a batch (each row of it a document, for tf_idf)."""
        if self._has_input_vocabulary:
            raise ValueError(
                f"Cannot adapt layer '{self.name}' after setting a static vocabulary via "
                "`vocabulary` argument or `set_vocabulary()` method."
            )
        data = self._as_tokens(data) if not isinstance(data, list) else data
        if isinstance(data, np.ndarray) and data.ndim < 2:
            data = data.reshape(1, -1)  # a 1-D batch is one document
        rows = [self._as_tokens(row).reshape(-1) for row in data]
        for row in rows:
            self._token_counts.update(row.tolist())
        if self.output_mode == "tf_idf":
            for row in rows:
                self._document_counts.update(set(row.tolist()))
            self._num_documents += len(rows)

    def finalize_state(self):
        """Turn the counts into the vocabulary (and idf weights)."""
        if self._has_input_vocabulary or not self._token_counts:
            self._check_size_unchanged(self.vocabulary_size())
            self._frozen_vocab_size = self.vocabulary_size()
            return
        counts = self._token_counts
        for special in (self.mask_token, self.oov_token):
            if special is not None:
                counts.pop(self._python_token(special), None)
        tokens = self._as_tokens(list(counts))
        frequencies = np.array([counts[t] for t in counts], dtype=np.int64)
        # by count, then by the term itself (strings by their UTF-8 bytes, which order as
        # their code points do), both decreasing: Keras's `np.lexsort(...)[::-1]`
        order = np.lexsort((tokens, frequencies))[::-1]
        if self.max_tokens:
            order = order[: self.max_tokens - self._token_start_index()]
        tokens = tokens[order]
        self._check_size_unchanged(self._token_start_index() + len(tokens))
        self._set_tokens(tokens)
        if self.output_mode == "tf_idf":
            documents = np.array([self._document_counts[t] for t in tokens.tolist()])
            idf = np.log(1 + self._num_documents / (1 + documents))
            idf = idf.astype(config.floatx())  # Keras computes them in floatx, then pads
            self._set_idf_weights(idf, self._token_start_index(), np.mean(idf))
        self.reset_state()

    # ------------------------------------------------------------------ call
    @property
    def output_dtype(self):
        return (
            self.vocabulary_dtype
            if self.invert
            else ("int64" if self.output_mode == "int" else config.floatx())
        )

    def call(self, inputs):
        self._ensure_known_vocab_size()
        if self.invert:
            inputs = np.asarray(to_numpy(inputs), dtype=np.int64)
        else:
            inputs = self._as_tokens(inputs)
        scalar = inputs.ndim == 0
        lookups = self._lookup(inputs.reshape(1) if scalar else inputs)
        if self.output_mode == "int":
            return lookups[0] if scalar else lookups
        depth = self.max_tokens if self.pad_to_max_tokens else self._frozen_vocab_size
        mode = "count" if self.output_mode == "tf_idf" else self.output_mode
        # int64 counts, as Keras's eager output (its symbolic one says floatx)
        output = encode_categorical_inputs(lookups, mode, depth, "int64")
        if self.output_mode == "tf_idf":
            if self.idf_weights is None:
                raise ValueError(
                    "When `output_mode` is `'tf_idf'`, `idf_weights` must be provided."
                )
            output = output.astype(self.idf_weights.dtype) * self.idf_weights
        return output

    def _lookup(self, inputs):
        """Each value's index (or, inverted, each index's value)."""
        uniques, positions = np.unique(inputs.reshape(-1), return_inverse=True)
        if self.invert:
            vocabulary = self.get_vocabulary()
            start = self._token_start_index()
            found = [
                vocabulary[i] if start <= i < len(vocabulary) else self.oov_token
                for i in uniques.tolist()
            ]
            if self.mask_token is not None:  # index 0 is the mask token's
                found = [self.mask_token if i == 0 else v for i, v in zip(uniques.tolist(), found)]
            return self._as_tokens(found)[positions].reshape(inputs.shape)
        default = self._token_start_index() - 1 if self.num_oov_indices == 1 else -1
        indices = np.array([self._index_of.get(u, default) for u in uniques.tolist()], np.int64)
        if self.mask_token is not None:
            mask_value = 0 if self.output_mode == "int" else INT64_MAX
            indices[uniques == self.mask_token] = mask_value
        unknown = indices == -1
        if self.num_oov_indices == 0 and unknown.any():
            raise ValueError(
                "When `num_oov_indices=0` all inputs should be in vocabulary, found OOV values "
                f"{uniques[unknown].tolist()}, consider setting `num_oov_indices=1`."
            )
        if self.num_oov_indices > 1 and unknown.any():
            indices[unknown] = self._oov_start_index() + self._oov_index(uniques[unknown])
        return indices[positions].reshape(inputs.shape)

    def _oov_index(self, values):
        """Which of the OOV indices an unknown value takes (from 0)."""
        if self.vocabulary_dtype != "string" and self.oov_method != "farmhash":
            return np.mod(values, self.num_oov_indices)
        return hash_buckets(values, self.num_oov_indices, self.salt)

    def _ensure_known_vocab_size(self):
        if self.output_mode == "int" or self.pad_to_max_tokens:
            return
        if self._frozen_vocab_size is None:
            raise RuntimeError(
                f"When using `output_mode={self.output_mode}` and `pad_to_max_tokens=False`, "
                "you must set the layer's vocabulary before calling it. Either pass a "
                "`vocabulary` argument to the layer, or call `adapt` with some sample data."
            )

    def compute_output_shape(self, input_shape):
        if self.output_mode == "int":
            return tuple(input_shape)
        depth = self.max_tokens if self.pad_to_max_tokens else self._frozen_vocab_size
        input_shape = tuple(input_shape)
        if self.output_mode == "one_hot":
            if len(input_shape) > 1 and input_shape[-1] == 1:
                return input_shape[:-1] + (depth,)
            return input_shape + (depth,)
        return input_shape[:-1] + (depth,)

    # ------------------------------------------------------------------ files
    def get_config(self):
        return {
            **super().get_config(),
            "invert": self.invert,
            "max_tokens": self.max_tokens,
            "num_oov_indices": self.num_oov_indices,
            "oov_token": self.oov_token,
            "mask_token": self.mask_token,
            "output_mode": self.output_mode,
            "sparse": self.sparse,
            "pad_to_max_tokens": self.pad_to_max_tokens,
            "vocabulary_dtype": self.vocabulary_dtype,
            "idf_weights": _listify(self.input_idf_weights),
            "vocabulary": _listify(self.input_vocabulary),
            "vocabulary_size": self._frozen_vocab_size,
            "oov_method": self.oov_method,
            "salt": self.salt,
        }

    has_build_config = False

    def get_build_config(self):
        return {}  # Keras writes an empty build config for the lookup layers

    def build_from_config(self, build_config):
        self.built = True

    def save_own_variables(self, store):
        """The idf weights, under Keras's key (the vocabulary goes to the assets)."""
        if self.output_mode == "tf_idf":
            store["idf_weights"] = np.asarray(self.idf_weights)

    def load_own_variables(self, store):
        if self.output_mode == "tf_idf":
            self.idf_weights = np.asarray(store["idf_weights"], dtype=config.floatx())

    def save_assets(self, dir_path):
        """vocabulary.txt, one term a line, special tokens included, when the vocabulary is
        not in the config (adapted, or read from a file), as Keras writes it."""
        if self.input_vocabulary is not None:
            return
        with open(os.path.join(dir_path, "vocabulary.txt"), "w", encoding="utf-8") as file:
            file.write("\n".join(str(w) for w in self.get_vocabulary()))

    def load_assets(self, dir_path):
        if self.input_vocabulary is not None:
            return
        with open(os.path.join(dir_path, "vocabulary.txt"), encoding="utf-8") as file:
            lines = file.read().splitlines()
        while lines and lines[-1] == "":
            lines.pop()
        values = lines if self.vocabulary_dtype == "string" else [int(v) for v in lines]
        if self.output_mode == "tf_idf":
            self.set_vocabulary(values, idf_weights=self.idf_weights)
        else:
            self.set_vocabulary(values)

    @classmethod
    def from_config(cls, config_):
        return cls(**config_)


def _listify(value):
    """Arrays and tensors as lists, for a JSON config."""
    value = to_numpy(value) if hasattr(value, "numpy") else value
    return value.tolist() if isinstance(value, np.ndarray) else value
