"""TextVectorization: strings → sequences of token indices, or one encoding per text."""

import re
import string

import numpy as np

from minikeras import config
from minikeras.layers.preprocessing.index_lookup import _listify
from minikeras.layers.preprocessing.preprocessing_layer import (
    PreprocessingLayer,
    adapt_batches,
    to_numpy,
)
from minikeras.layers.preprocessing.string_lookup import StringLookup

# TensorFlow's `tf.strings.lower` (no encoding given) and whitespace split work on ASCII
# only: "É" stays "É", as in Keras
_ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)
_NO_PUNCTUATION = str.maketrans("", "", string.punctuation)  # Keras's regex: ASCII punctuation
_ASCII_WHITESPACE = re.compile(r"[^ \t\n\r\f\v]+")

STANDARDIZE = ("lower_and_strip_punctuation", "lower", "strip_punctuation")
SPLIT = ("whitespace", "character")
OUTPUT_MODES = ("int", "one_hot", "multi_hot", "count", "tf_idf")


class TextVectorization(PreprocessingLayer):
    """Each text is standardized (lowercase, punctuation removed), split into tokens
    (whitespace, characters, or your function), joined into n-grams (`ngrams`), then looked
    up in a vocabulary (a StringLookup whose mask token "" is index 0 and "[UNK]" index 1).

    "int" gives one row of indices per text, padded with 0 to the longest text of the batch
    (or cut and padded to `output_sequence_length`); the other modes one encoding per text.

    >>> from minikeras.layers import TextVectorization
    >>> layer = TextVectorization(vocabulary=["the", "cat", "sat"])
    >>> layer(["The cat sat.", "The dog!"]).tolist()
    [[2, 3, 4], [2, 1, 0]]
    """

    def __init__(
        self,
        max_tokens=None,
        standardize="lower_and_strip_punctuation",
        split="whitespace",
        ngrams=None,
        output_mode="int",
        output_sequence_length=None,
        pad_to_max_tokens=False,
        vocabulary=None,
        idf_weights=None,
        sparse=False,
        ragged=False,
        encoding="utf-8",
        name=None,
        **kwargs,
    ):
        if sparse:  # Keras's messages on its backends without sparse or ragged tensors
            raise ValueError("`sparse=True` can only be used with the TensorFlow backend.")
        if ragged:
            raise ValueError("`ragged=True` can only be used with the TensorFlow backend.")
        _check_choice("standardize", standardize, STANDARDIZE)
        _check_choice("split", split, SPLIT)
        output_mode = {"binary": "multi_hot", "tf-idf": "tf_idf"}.get(output_mode, output_mode)
        if output_mode not in OUTPUT_MODES:
            raise ValueError(
                "Unknown value for `output_mode` argument of layer TextVectorization. Allowed "
                f"values are: {OUTPUT_MODES}. Received: {output_mode}"
            )
        if not (
            ngrams is None
            or isinstance(ngrams, int)
            or isinstance(ngrams, tuple)
            and all(isinstance(item, int) for item in ngrams)
        ):
            raise ValueError(
                f"`ngrams` must be None, an integer, or a tuple of integers. Received: "
                f"ngrams={ngrams}"
            )
        if output_mode == "int" and not (
            output_sequence_length is None or isinstance(output_sequence_length, int)
        ):
            raise ValueError(
                "`output_sequence_length` must be either None or an integer when `output_mode` "
                f"is 'int'. Received: output_sequence_length={output_sequence_length}"
            )
        if output_mode != "int" and output_sequence_length is not None:
            raise ValueError(
                "`output_sequence_length` must not be set if `output_mode` is not 'int'. "
                f"Received output_sequence_length={output_sequence_length}."
            )
        has_input_vocabulary = kwargs.pop("has_input_vocabulary", vocabulary is not None)
        vocabulary_size = kwargs.pop("vocabulary_size", None)
        kwargs.pop("dtype", None)  # Keras's config says float32; the layer takes strings
        super().__init__(name=name, **kwargs)
        self._max_tokens = max_tokens
        self._standardize = standardize
        self._split = split
        self._ngrams_arg = ngrams
        self._ngrams = tuple(range(1, ngrams + 1)) if isinstance(ngrams, int) else ngrams
        self._ragged = ragged
        self._output_mode = output_mode
        self._output_sequence_length = output_sequence_length
        self._encoding = encoding
        self._has_input_vocabulary = has_input_vocabulary
        self._lookup_layer = StringLookup(
            max_tokens=max_tokens,
            vocabulary=vocabulary,
            idf_weights=idf_weights,
            pad_to_max_tokens=pad_to_max_tokens,
            mask_token="",
            output_mode=output_mode,
            sparse=sparse,
            has_input_vocabulary=has_input_vocabulary,
            encoding=encoding,
            vocabulary_size=vocabulary_size,
        )

    @property
    def output_dtype(self):
        return "int64" if self._output_mode == "int" else config.floatx()

    # ------------------------------------------------------------------ vocabulary
    def adapt(self, data, batch_size=None, steps=None):
        """Learn the vocabulary from texts (an array, a list, a tf.data.Dataset or an iterable
        of batches): tokens by decreasing count, ties broken largest first."""
        self.reset_state()
        batches, is_one_array = adapt_batches(data, steps)
        for batch in batches:
            if is_one_array and batch.ndim == 1:
                batch = batch[:, None]
            self.update_state(batch)
        self.finalize_state()

    def update_state(self, data):
        self._lookup_layer.update_state(self._tokens_by_row(data))

    def finalize_state(self):
        self._lookup_layer.finalize_state()

    def reset_state(self):
        self._lookup_layer.reset_state()

    def get_vocabulary(self, include_special_tokens=True):
        """The vocabulary in index order ("" and "[UNK]" first with special tokens)."""
        return self._lookup_layer.get_vocabulary(include_special_tokens)

    def vocabulary_size(self):
        return self._lookup_layer.vocabulary_size()

    def set_vocabulary(self, vocabulary, idf_weights=None):
        """Use this vocabulary (a list or a file with one token a line), and in "tf_idf"
        mode these idf weights."""
        self._lookup_layer.set_vocabulary(vocabulary, idf_weights=idf_weights)

    # ------------------------------------------------------------------ texts → tokens
    def _standardized(self, texts):
        """The texts standardized: a `str` array of the same shape."""
        texts = to_numpy(texts)
        if callable(self._standardize):
            # your function receives a NumPy `str` array, as Keras gives it off TensorFlow
            return _strings(self._standardize(np.asarray(texts, dtype=str)))
        flat = [str(t) for t in texts.reshape(-1)]
        if self._standardize in ("lower", "lower_and_strip_punctuation"):
            flat = [t.translate(_ASCII_LOWER) for t in flat]
        if self._standardize in ("strip_punctuation", "lower_and_strip_punctuation"):
            flat = [t.translate(_NO_PUNCTUATION) for t in flat]
        return np.array(flat, dtype=str).reshape(texts.shape)

    def _tokens_by_row(self, texts):
        """Each text's tokens (n-grams included): a list of lists, or without `split` the
        standardized array itself."""
        texts = self._standardized(texts)
        if self._split is None:
            if self._ngrams is None:
                return texts
            rows = [list(row) for row in texts.reshape(len(texts), -1)] if texts.ndim else [[texts]]
        else:
            if texts.ndim > 1:
                if texts.shape[-1] != 1:
                    raise ValueError(
                        "When using `TextVectorization` to tokenize strings, the input rank "
                        "must be 1 or the last shape dimension must be 1. Received: "
                        f"inputs.shape={texts.shape} with rank={texts.ndim}"
                    )
                texts = texts[..., 0]
            if self._split == "whitespace":
                rows = [_ASCII_WHITESPACE.findall(t) for t in texts.reshape(-1)]
            elif self._split == "character":
                rows = [list(t) for t in texts.reshape(-1)]
            else:
                rows = _rows(self._split(texts))
        if self._ngrams is not None:
            rows = [_ngrams(row, self._ngrams) for row in rows]
        return rows

    # ------------------------------------------------------------------ call
    def call(self, inputs):
        tokens = self._tokens_by_row(inputs)
        if isinstance(tokens, list):
            # rows of different lengths padded with the mask token "" (index 0, and no count
            # in the other modes), as Keras pads its ragged tensor with 0
            width = max((len(row) for row in tokens), default=0)
            padded = np.full((len(tokens), width), "", dtype=object)
            for i, row in enumerate(tokens):
                padded[i, : len(row)] = row
            tokens = padded.astype(str) if padded.size else np.zeros((len(tokens), 0), str)
        looked_up = self._lookup_layer.call(tokens)
        length = self._output_sequence_length
        if self._output_mode != "int" or length is None:
            return looked_up
        looked_up = looked_up[..., :length]
        padding = [(0, 0)] * (looked_up.ndim - 1) + [(0, length - looked_up.shape[-1])]
        return np.pad(looked_up, padding)

    def compute_output_shape(self, input_shape):
        if self._output_mode == "int":
            return (input_shape[0], self._output_sequence_length)
        if self._split is None:
            if len(input_shape) <= 1:
                input_shape = tuple(input_shape) + (1,)
        else:
            input_shape = tuple(input_shape) + (None,)
        return self._lookup_layer.compute_output_shape(input_shape)

    # ------------------------------------------------------------------ files
    def get_config(self):
        lookup = self._lookup_layer
        return {
            **super().get_config(),
            "max_tokens": lookup.max_tokens,
            "standardize": self._standardize,
            "split": self._split,
            "ngrams": self._ngrams_arg,
            "output_mode": self._output_mode,
            "output_sequence_length": self._output_sequence_length,
            "pad_to_max_tokens": lookup.pad_to_max_tokens,
            "sparse": lookup.sparse,
            "ragged": self._ragged,
            "vocabulary": _listify(lookup.input_vocabulary),
            "idf_weights": _listify(lookup.input_idf_weights),
            "encoding": self._encoding,
            "vocabulary_size": self.vocabulary_size(),
        }

    @classmethod
    def from_config(cls, config_):
        from minikeras.saving import serialization_lib

        config_ = dict(config_)
        for key in ("standardize", "split"):
            if config_.get(key) is not None and not isinstance(config_[key], str):
                config_[key] = serialization_lib.deserialize_keras_object(config_[key])
        if isinstance(config_.get("ngrams"), list):
            config_["ngrams"] = tuple(config_["ngrams"])
        return cls(**config_)

    def saved_sublayers(self):
        """Keras's files keep the inner StringLookup's state under `_lookup_layer` too."""
        return [("_lookup_layer", self._lookup_layer)]

    def save_own_variables(self, store):
        self._lookup_layer.save_own_variables(store)

    def load_own_variables(self, store):
        self._lookup_layer.load_own_variables(store)

    def save_assets(self, dir_path):
        self._lookup_layer.save_assets(dir_path)

    def load_assets(self, dir_path):
        self._lookup_layer.load_assets(dir_path)


def _check_choice(name, value, allowed):
    if value is None or callable(value) or value in allowed:
        return
    raise ValueError(
        f"Unknown value for `{name}` argument of layer TextVectorization. If restoring a model "
        f"saved with a custom standardize function, please ensure that function is passed "
        f"via `custom_objects`. Allowed values are: {allowed} or a callable. Received: {value}"
    )


def _ngrams(tokens, widths):
    """All n-grams of each width in `widths`, in that order, joined by spaces (a row shorter
    than a width has none of it), as `tf.strings.ngrams`."""
    return [
        " ".join(tokens[i : i + width]) for width in widths for i in range(len(tokens) - width + 1)
    ]


def _strings(result):
    """What your standardize function returned (a NumPy array, a list, a TensorFlow tensor)
    as a `str` array."""
    return np.asarray(to_numpy(result), dtype=str)


def _rows(result):
    """What your split function returned (a list of lists, a 2-D array, or a TensorFlow
    ragged tensor) as a list of token lists."""
    if hasattr(result, "to_list"):  # tf.RaggedTensor
        result = result.to_list()
    elif hasattr(result, "numpy"):
        result = result.numpy().tolist()
    elif isinstance(result, np.ndarray):
        result = result.tolist()
    return [[t.decode("utf-8") if isinstance(t, bytes) else str(t) for t in row] for row in result]
