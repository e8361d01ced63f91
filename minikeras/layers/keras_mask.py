"""The mask an eager call's output carries, as Keras's tensors carry `_keras_mask`.

Keras attaches a mask to the tensor a masking layer returns (`Embedding(mask_zero=True)`,
`Masking`, a layer that passes its input's mask on), and the next layer, a loss or a metric
reads it there. A NumPy array cannot hold an attribute, so an output that has a mask is
returned as a `MaskedOutput`: an ndarray that adds `_keras_mask` and nothing else. What is
computed from it (`x * 2`, `np.exp(x)`, `x.sum()`) is a plain array again, as a TensorFlow
op's result carries no mask; an output without a mask stays a plain array, so the usual path
costs nothing.

>>> import numpy as np
>>> from minikeras import layers
>>> y = layers.Embedding(10, 2, mask_zero=True)(np.array([[3, 0]]))
>>> y._keras_mask
array([[ True, False]])
>>> type(y * 2).__name__
'ndarray'
"""

import numpy as np

from minikeras.autodiff import Tensor


class MaskedOutput(np.ndarray):
    """An eager call's output with the mask its layer computed (`_keras_mask`)."""

    _keras_mask = None  # a view or slice of one is given no mask: its shape differs

    def __array_wrap__(self, array, context=None, return_scalar=False):
        # a ufunc's result is a new array: plain, without the mask
        array = array.view(np.ndarray)
        return array[()] if return_scalar else array


def get_mask(x):
    """The mask `x` carries (a `MaskedOutput`'s, a list's per item), or None."""
    if isinstance(x, (list, tuple)):
        masks = [get_mask(item) for item in x]
        return None if all(m is None for m in masks) else masks
    return getattr(x, "_keras_mask", None)


def attach(outputs, masks):
    """`outputs` with each one's mask attached (a list of outputs takes a list of masks), as
    Keras's `_set_mask_metadata`; an output whose mask is None is left as it is."""
    if masks is None:
        return outputs
    if isinstance(outputs, (list, tuple)):
        if not isinstance(masks, (list, tuple)):
            masks = [masks] * len(outputs)
        return type(outputs)(attach(y, m) for y, m in zip(outputs, masks))
    if isinstance(outputs, Tensor):  # a traced output (a training call) holds it itself
        outputs._keras_mask = np.asarray(masks)
        return outputs
    if not isinstance(outputs, np.ndarray) or type(outputs) not in (np.ndarray, MaskedOutput):
        return outputs  # a weight returned as is, or another kind of array: left alone
    masked = outputs.view(MaskedOutput)
    masked._keras_mask = np.asarray(masks)
    return masked
