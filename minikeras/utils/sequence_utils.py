"""`pad_sequences`: lists of different lengths made one array, as Keras's
`keras.utils.pad_sequences` (padding and truncating at the start by default).

>>> from minikeras.utils import pad_sequences
>>> pad_sequences([[1, 2, 3], [4, 5], [6]], maxlen=2)
array([[2, 3],
       [4, 5],
       [0, 6]], dtype=int32)
"""

import numpy as np


def pad_sequences(
    sequences, maxlen=None, dtype="int32", padding="pre", truncating="pre", value=0.0
):
    """An array (len(sequences), maxlen, *item shape): each sequence cut to `maxlen` (its
    first or last items dropped, `truncating` "pre" or "post") and filled with `value` before
    ("pre") or after ("post") it. `maxlen` defaults to the longest sequence's length."""
    if not hasattr(sequences, "__len__"):
        raise ValueError("`sequences` must be iterable.")
    if padding not in ("pre", "post"):
        raise ValueError(f'Padding type "{padding}" not understood')
    if truncating not in ("pre", "post"):
        raise ValueError(f'Truncating type "{truncating}" not understood')
    lengths, item_shape = [], ()
    for sequence in sequences:
        if not hasattr(sequence, "__len__"):
            raise ValueError(
                f"`sequences` must be a list of iterables. Found non-iterable: {sequence}"
            )
        lengths.append(len(sequence))
        if len(sequence) and not item_shape:  # the shape of one step (scalars: ())
            item_shape = np.asarray(sequence).shape[1:]
    if maxlen is None:
        maxlen = max(lengths, default=0)
    out = np.full((len(lengths), maxlen) + item_shape, value, dtype=dtype)
    for i, sequence in enumerate(sequences):
        if not len(sequence) or not maxlen:
            continue
        kept = sequence[-maxlen:] if truncating == "pre" else sequence[:maxlen]
        kept = np.asarray(kept, dtype=dtype)
        if kept.shape[1:] != item_shape:
            raise ValueError(
                f"Shape of sample {kept.shape[1:]} of sequence at position {i} is different "
                f"from expected shape {item_shape}"
            )
        if padding == "post":
            out[i, : len(kept)] = kept
        else:
            out[i, -len(kept) :] = kept
    return out
