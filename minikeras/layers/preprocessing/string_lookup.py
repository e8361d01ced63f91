"""StringLookup: strings → integer indices (or an encoding of them), and back."""

from minikeras.layers.preprocessing.index_lookup import IndexLookup


class StringLookup(IndexLookup):
    """Maps strings from a vocabulary to integer indices (`IndexLookup`'s rules).

    The vocabulary is given (`vocabulary=`, a list or a file with one term a line) or learnt
    from data by `adapt`, most frequent first; index 0 is the OOV token "[UNK]" by default.

    >>> from minikeras.layers import StringLookup
    >>> layer = StringLookup(vocabulary=["a", "b", "c"])
    >>> layer([["a", "c"], ["d", "b"]]).tolist()
    [[1, 3], [0, 2]]
    """

    def __init__(
        self,
        max_tokens=None,
        num_oov_indices=1,
        mask_token=None,
        oov_token="[UNK]",
        vocabulary=None,
        idf_weights=None,
        invert=False,
        output_mode="int",
        pad_to_max_tokens=False,
        sparse=False,
        encoding="utf-8",
        name=None,
        salt=None,
        **kwargs,
    ):
        if sparse:  # Keras's message on its backends without sparse tensors
            raise ValueError("`sparse=True` can only be used with the TensorFlow backend.")
        self.encoding = encoding
        super().__init__(
            max_tokens=max_tokens,
            num_oov_indices=num_oov_indices,
            mask_token=mask_token,
            oov_token=oov_token,
            vocabulary=vocabulary,
            idf_weights=idf_weights,
            invert=invert,
            output_mode=output_mode,
            pad_to_max_tokens=pad_to_max_tokens,
            sparse=sparse,
            name=name,
            salt=salt,
            vocabulary_dtype="string",
            **kwargs,
        )

    def get_config(self):
        config = super().get_config()
        del config["vocabulary_dtype"]
        return {**config, "encoding": self.encoding}
