"""Embedding: integer ids → rows of a trainable table, y[..., :] = embeddings[id]."""

import numbers
import warnings

import numpy as np

from minikeras import constraints, initializers, kernels, regularizers
from minikeras.layers.layer import Layer


class Embedding(Layer):
    """Look up each integer id (in [0, input_dim)) as a row of `embeddings` (input_dim, output_dim).

    The input is integer ids of any shape; the output adds an axis of `output_dim`:
    (batch, length) → (batch, length, output_dim). Ids may come as floats with integral values
    (a model casts its inputs to its float dtype); anything else is refused with a ValueError.

    The gradient of a row looked up at several positions is the sum of theirs, as TensorFlow's
    is once densified. Keras's Adam and RMSprop on TensorFlow see it before that sum, as one
    slice per position, and square each slice: their second moment of such a row is Σ g_p²
    where minikeras's is (Σ g_p)², so with ids repeated within a batch those two optimizers
    drift apart from Keras's (tests/parity/test_sequence_layers_parity.py pins this down).

    >>> import numpy as np
    >>> from minikeras.layers import Embedding
    >>> layer = Embedding(10, 4)
    >>> layer(np.array([[1, 2, 3], [4, 5, 0]])).shape
    (2, 3, 4)
    >>> Embedding(10, 4, mask_zero=True).compute_mask(np.array([[1, 0]])).tolist()
    [[True, False]]
    """

    def __init__(
        self,
        input_dim,
        output_dim,
        embeddings_initializer="uniform",
        embeddings_regularizer=None,
        embeddings_constraint=None,
        mask_zero=False,
        weights=None,
        lora_rank=None,
        lora_alpha=None,
        quantization_config=None,
        **kwargs,
    ):
        _check_positive_int(input_dim, "input_dim")
        _check_positive_int(output_dim, "output_dim")
        if kwargs.pop("input_length", None) is not None:
            # Keras 3's words: it takes the argument and ignores it
            warnings.warn("Argument `input_length` is deprecated. Just remove it.", stacklevel=2)
        for arg, value in (
            ("lora_rank", lora_rank),
            ("lora_alpha", lora_alpha),
            ("quantization_config", quantization_config),
        ):
            if value is not None:
                raise NotImplementedError(f"Embedding({arg}=...) is not supported by minikeras yet")
        super().__init__(**kwargs)
        self.input_dim = int(input_dim)
        self.output_dim = int(output_dim)
        self.embeddings_initializer = initializers.get(embeddings_initializer)
        # the table's penalty joins the loss and its projection follows each update (the model
        # reads them from add_weight); activity_regularizer is Layer's, on the output
        self.embeddings_regularizer = regularizers.get(embeddings_regularizer)
        self.embeddings_constraint = constraints.get(embeddings_constraint)
        self.mask_zero = bool(mask_zero)
        self.supports_masking = self.mask_zero  # as Keras: only a layer that makes a mask
        if weights is not None:  # Keras's initial value: one array, or a list of one array
            self.build()
            self.set_weights(weights if isinstance(weights, list) else [weights])
        elif self._input_shape_arg is not None:
            self.build((None,) + self._input_shape_arg)

    @property
    def embeddings(self):
        if not self.built:
            raise AttributeError("You must build the layer before accessing `embeddings`.")
        return self.weights[0]

    def build(self, input_shape=None):
        # The table's shape does not depend on the input: Keras builds an Embedding without one
        shape = (self.input_dim, self.output_dim)
        self.add_weight(
            shape,
            self.embeddings_initializer,
            regularizer=self.embeddings_regularizer,
            constraint=self.embeddings_constraint,
            name="embeddings",
        )
        if input_shape is None:
            self.built = True
        else:
            super().build(input_shape)

    def compute_output_shape(self, input_shape):
        return (*input_shape, self.output_dim)

    def check_input_shape(self, shape):
        """Any shape of ids: the table serves every position alike (Keras sets no input spec)."""

    def compute_mask(self, inputs, mask=None):
        """inputs != 0 with `mask_zero` (id 0 is padding), else None."""
        if not self.mask_zero:
            return None
        return np.not_equal(inputs, 0)

    def call(self, x, training=False, mask=None):
        """y[p] = embeddings[ids[p]] for every position p   (..., ) → (..., output_dim)"""
        ids = check_ids(x, self.input_dim, self.name)  # ValueError before anything changes
        y = self.buffer("y", ids.shape + (self.output_dim,))
        np.take(self.embeddings, ids, axis=0, out=y)
        self.ids = ids
        return y

    def backward(self, dy, mask=None):
        """dE[r] = Σ_{p : ids[p] = r} dy[p]   (a row looked up k times collects k gradients)
        dx = None: the ids are integers, there is no gradient with respect to them.
        """
        positions = self.ids.size
        dy = np.ascontiguousarray(dy).reshape(positions, self.output_dim)
        dembeddings = self.buffer("dembeddings", (self.input_dim, self.output_dim))
        # (input_dim, output_dim) ← scatter-add of (positions, output_dim) at rows ids (positions,)
        kernels.embedding_backward(self.ids.reshape(positions), dy, dembeddings)
        self.grads = [dembeddings]
        return None

    def get_config(self):
        return {
            **super().get_config(),
            "input_dim": self.input_dim,
            "output_dim": self.output_dim,
            "embeddings_initializer": initializers.serialize(self.embeddings_initializer),
            "embeddings_regularizer": regularizers.serialize(self.embeddings_regularizer),
            "activity_regularizer": regularizers.serialize(self.activity_regularizer),
            "embeddings_constraint": constraints.serialize(self.embeddings_constraint),
            "mask_zero": self.mask_zero,
            "quantization_config": None,  # Keras 3.15's key; lora_* appear only when set
        }


def _check_positive_int(value, name):
    # Keras refuses NumPy integers too; minikeras takes them (np.int64(10) is a fine size)
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value <= 0:
        raise ValueError(
            f"`{name}` must be a positive integer. Received: {name}={value!r} "
            f"(of type {type(value).__name__})."
        )


def check_ids(x, input_dim, layer_name):
    """The ids in `x` as an intp array, or ValueError naming the first bad one and where it is.

    Keras casts float ids to int32 (2.7 becomes 2) and TensorFlow's lookup on CPU errors on an
    id ≥ input_dim but not on a negative one; minikeras refuses both, and fractions, at once.
    """
    x = np.asarray(x)
    if np.issubdtype(x.dtype, np.floating):
        fractional = np.floor(x) != x  # NaN too; ±inf are integral here and out of range below
        if fractional.any():
            index = tuple(int(i) for i in np.argwhere(fractional)[0])
            raise ValueError(
                f"Embedding '{layer_name}' takes integer ids; received {x[index].item()!r} at "
                f"index {index} of an input of shape {x.shape}."
            )
    elif not (np.issubdtype(x.dtype, np.integer) or x.dtype == np.bool_):
        raise ValueError(f"Embedding '{layer_name}' takes integer ids; received dtype {x.dtype}.")
    if x.size and (x.min() < 0 or x.max() >= input_dim):
        index = tuple(int(i) for i in np.argwhere((x < 0) | (x >= input_dim))[0])
        raise ValueError(
            f"Embedding '{layer_name}' takes ids in [0, {input_dim}) (input_dim={input_dim}); "
            f"received {x[index].item()!r} at index {index} of an input of shape {x.shape}."
        )
    return x.astype(np.intp)
