"""MultiHeadAttention: scaled dot-product attention over several heads, as Keras 3's.

With a query (B, T, dim_q) and a value (B, S, dim_v) (key = value unless given), N heads:

    Q = query·Wq + bq      (B, T, dim_q)·(dim_q, N, key_dim)   → (B, T, N, key_dim)
    K = key·Wk + bk        (B, S, dim_k)·(dim_k, N, key_dim)   → (B, S, N, key_dim)
    V = value·Wv + bv      (B, S, dim_v)·(dim_v, N, value_dim) → (B, S, N, value_dim)
    A = softmax(Q·Kᵀ/√key_dim, over S), masked entries 0       → (B, N, T, S)
    O = A·V                                                    → (B, T, N, value_dim)
    y = O·Wo + bo          (B, T, N, value_dim)·(N, value_dim, dim_out) → (B, T, dim_out)

The four projections are EinsumDense layers named query, key, value and attention_output
(their weights in that order, so that weights copy from Keras). `attention_axes` attends over
other axes than the sequence axis: the same equations with more letters.

The backward: the projections are EinsumDense layers, each with its own backward (two einsums);
what lies between them (scaling, the two batched products, the masked softmax, dropout) is written
with `minikeras.ops` and differentiated by the gradient tape, whose entries are exactly the
hand-written steps:

    dA = dO·Vᵀ                      (B, N, T, value_dim)·(B, N, value_dim, S)
    dV = Aᵀ·dO                      (B, N, S, T)·(B, N, T, value_dim)
    dlogits = A ⊙ (dA − Σ_S dA ⊙ A)  the softmax backward, per row; 0 where masked
    dQ = dlogits·K/√key_dim, dK = dlogitsᵀ·Q/√key_dim

The tape is fast enough here: measured in CPU time (best of 5 × 30 steps, load average 18 on
2 cores), a `train_on_batch` of Input(16, 32) → MultiHeadAttention(4, 8) → pooling → Dense(1),
batch 32, took 11.3–12.6 ms, against 8.3–8.4 ms for the same forward and backward einsums
written out in plain NumPy: the tape, the Dense, the loss and the optimizer add 1.3–1.5×.
"""

import math
import string

import numpy as np

from minikeras import config, constraints, initializers, ops, regularizers
from minikeras.layers import keras_mask
from minikeras.layers import node as node_module
from minikeras.layers.einsum_dense import EinsumDense
from minikeras.layers.layer import Layer
from minikeras.layers.name_scope import layer_scope


class MultiHeadAttention(Layer):
    """Multi-head attention of `query` on `value` (and `key`, `value` if not given).

    >>> import numpy as np
    >>> from minikeras.layers import MultiHeadAttention
    >>> mha = MultiHeadAttention(num_heads=2, key_dim=3)
    >>> y, scores = mha(np.ones((1, 4, 5)), np.ones((1, 6, 5)), return_attention_scores=True)
    >>> y.shape, scores.shape
    ((1, 4, 5), (1, 2, 4, 6))
    """

    supports_masking = True  # the output carries the query's mask, as Keras's

    def __init__(
        self,
        num_heads,
        key_dim,
        value_dim=None,
        dropout=0.0,
        use_bias=True,
        output_shape=None,
        attention_axes=None,
        sliding_window=None,
        flash_attention=None,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        kernel_regularizer=None,
        bias_regularizer=None,
        activity_regularizer=None,
        kernel_constraint=None,
        bias_constraint=None,
        use_gate=False,
        seed=None,
        **kwargs,
    ):
        # Keras's checks and messages, before anything is made
        if not isinstance(num_heads, int) or num_heads <= 0:
            raise ValueError(
                "Received an invalid value for argument `num_heads`, expected a positive "
                f"integer. Received: num_heads={num_heads}"
            )
        if not isinstance(key_dim, int) or key_dim <= 0:
            raise ValueError(
                "Received an invalid value for argument `key_dim`, expected a positive "
                f"integer. Received: key_dim={key_dim}"
            )
        if value_dim is not None and (not isinstance(value_dim, int) or value_dim <= 0):
            raise ValueError(
                "Received an invalid value for argument `value_dim`, expected a positive "
                f"integer or `None`. Received: value_dim={value_dim}"
            )
        if output_shape:
            if isinstance(output_shape, int):
                output_shape = (output_shape,)
            try:
                output_shape = tuple(output_shape)
            except TypeError:
                raise ValueError(
                    f"Invalid `output_shape`: {output_shape}. When specified, the "
                    "`output_shape` should be of type tuple, list, or int."
                ) from None
        if isinstance(attention_axes, int):
            attention_axes = (attention_axes,)
        elif attention_axes and not isinstance(attention_axes, (list, tuple)):
            raise ValueError(
                "`attention_axes` must be an int, list, or tuple."
                f"Received: attention_axes={attention_axes}"
            )
        if sliding_window is not None and (
            not isinstance(sliding_window, int) or sliding_window <= 0
        ):
            raise ValueError(
                "`sliding_window` must be `None` or a positive integer. "
                f"Received: sliding_window={sliding_window}"
            )
        super().__init__(**kwargs)
        self._num_heads, self._key_dim = num_heads, key_dim
        self._value_dim = value_dim if value_dim else key_dim
        self._dropout, self._use_bias, self._use_gate = dropout, use_bias, use_gate
        self._output_shape = output_shape
        self._attention_axes = attention_axes
        self._sliding_window = sliding_window
        # flash attention computes the same numbers; minikeras keeps Keras's flag and checks
        self._flash_attention = flash_attention or config.is_flash_attention_enabled()
        if self._flash_attention and dropout > 0.0:
            raise ValueError(
                "Dropout is not supported when flash attention is enabled. Please set dropout "
                "to 0.0 to use flash attention."
            )
        self._kernel_initializer = initializers.get(kernel_initializer)
        self._bias_initializer = initializers.get(bias_initializer)
        self._kernel_regularizer = regularizers.get(kernel_regularizer)
        self._bias_regularizer = regularizers.get(bias_regularizer)
        self._activity_regularizer = regularizers.get(activity_regularizer)
        self._kernel_constraint = constraints.get(kernel_constraint)
        self._bias_constraint = constraints.get(bias_constraint)
        self.seed = seed
        self._inverse_sqrt_key_dim = 1.0 / math.sqrt(float(key_dim))
        self._projections = []  # query, key, (gate,) value, attention_output once built
        # dropout on the scores draws from a SeedGenerator of its own, as Keras's Dropout
        self.seed_generator = _seed_generator(seed) if dropout > 0 else None

    num_heads = property(lambda self: self._num_heads)
    key_dim = property(lambda self: self._key_dim)
    value_dim = property(lambda self: self._value_dim)
    dropout = property(lambda self: self._dropout)
    use_bias = property(lambda self: self._use_bias)
    attention_axes = property(lambda self: self._attention_axes)
    query_dense = property(lambda self: self._query_dense)
    key_dense = property(lambda self: self._key_dense)
    value_dense = property(lambda self: self._value_dense)
    output_dense = property(lambda self: self._output_dense)

    def saved_sublayers(self):
        """(name, layer) for each group Keras's `.keras`/`.weights.h5` files hold inside this
        layer's: the projections under the names of its properties, the gate under its
        attribute's; the softmax and dropout groups (no weights) are written empty, as Keras."""
        named = [
            ("query_dense", self._query_dense),
            ("key_dense", self._key_dense),
            ("value_dense", self._value_dense),
            ("output_dense", self._output_dense),
        ]
        if self._use_gate:
            named.append(("_gate_dense", self._gate_dense))
        return named + [
            ("_softmax", _NoWeights("softmax")),
            ("_dropout_layer", _NoWeights("dropout")),
        ]

    def _sublayers(self):
        """The projections: their weights are this layer's, in Keras's order."""
        return list(self._projections)

    # ------------------------------------------------------------------ building
    def _projection(self, equation, output_shape, bias_axes, name, activation=None):
        # each projection gets its own copy of the initializers, as Keras clones them: the same
        # seeded initializer would otherwise fill every kernel alike
        return EinsumDense(
            equation,
            output_shape=output_shape,
            bias_axes=bias_axes if self._use_bias else None,
            activation=activation,
            kernel_initializer=type(self._kernel_initializer).from_config(
                self._kernel_initializer.get_config()
            ),
            bias_initializer=type(self._bias_initializer).from_config(
                self._bias_initializer.get_config()
            ),
            kernel_regularizer=self._kernel_regularizer,
            bias_regularizer=self._bias_regularizer,
            activity_regularizer=self._activity_regularizer,
            kernel_constraint=self._kernel_constraint,
            bias_constraint=self._bias_constraint,
            dtype=self._dtype,
            name=name,
        )

    def build(self, query_shape, value_shape=None, key_shape=None):
        if value_shape is None:
            # a call by keywords on one shape: the layer builds at its first call on data,
            # when every input's shape is known
            return
        query_shape, value_shape = tuple(query_shape), tuple(value_shape)
        # the shapes as given, for the file's build_config (Keras's `shapes_dict`)
        self._build_shapes = {"query_shape": query_shape, "value_shape": value_shape}
        if key_shape is not None:
            self._build_shapes["key_shape"] = tuple(key_shape)
        key_shape = value_shape if key_shape is None else tuple(key_shape)
        if value_shape[1:-1] != key_shape[1:-1]:
            raise ValueError(
                "All dimensions of `value` and `key`, except the last one, must be equal. "
                f"Received: value_shape={value_shape} and key_shape={key_shape}"
            )
        heads = [self._num_heads, self._key_dim]
        with layer_scope(self):
            equation, bias_axes, rank = _projection_equation(len(query_shape) - 1, 1, 2)
            self._query_dense = self._projection(
                equation, _partial(rank, heads), bias_axes, "query"
            )
            self._query_dense.build_once(query_shape)
            equation, bias_axes, rank = _projection_equation(len(key_shape) - 1, 1, 2)
            self._key_dense = self._projection(equation, _partial(rank, heads), bias_axes, "key")
            self._key_dense.build_once(key_shape)
            self._projections = [self._query_dense, self._key_dense]
            value_heads = [self._num_heads, self._value_dim]
            if self._use_gate:
                equation, bias_axes, rank = _projection_equation(len(query_shape) - 1, 1, 2)
                self._gate_dense = self._projection(
                    equation, _partial(rank, value_heads), bias_axes, "gate", "sigmoid"
                )
                self._gate_dense.build_once(query_shape)
                self._projections.append(self._gate_dense)
            equation, bias_axes, rank = _projection_equation(len(value_shape) - 1, 1, 2)
            self._value_dense = self._projection(
                equation, _partial(rank, value_heads), bias_axes, "value"
            )
            self._value_dense.build_once(value_shape)
            self._build_attention(rank)
            out = self._output_shape or [query_shape[-1]]
            equation, bias_axes, rank = _projection_equation(len(query_shape) - 1, 2, len(out))
            self._output_dense = self._projection(
                equation, _partial(rank, out), bias_axes, "attention_output"
            )
            projected = list(self._query_dense.compute_output_shape(query_shape))
            projected[-1] = self._value_dim
            self._output_dense.build_once(tuple(projected))
            self._projections += [self._value_dense, self._output_dense]
        self.input_shape = query_shape
        self.output_shape = self.compute_output_shape(query_shape, value_shape, key_shape)
        self.built = True

    def build_for_arguments(self, shapes):
        """A call on (query, value[, key]): build for all their shapes."""
        if not self._built:
            self.build(*shapes[:3])

    def _build_attention(self, rank):
        """The two einsums of attention for projected tensors of this rank, and the axes the
        softmax normalizes (the key's attention axes, last in the scores)."""
        if self._attention_axes is None:
            self._attention_axes = tuple(range(1, rank - 2))
        else:
            self._attention_axes = tuple(
                a if a >= 0 else (rank - 1) + a for a in self._attention_axes
            )
        self._dot_product_equation, self._combine_equation, scores_rank = _attention_equations(
            rank, self._attention_axes
        )
        count = len(self._attention_axes)
        self._softmax_axes = tuple(range(scores_rank - count, scores_rank))

    def compute_output_shape(self, query_shape, value_shape=None, key_shape=None):
        query_shape = tuple(query_shape)
        if value_shape is not None and key_shape is not None:
            if tuple(value_shape)[1:-1] != tuple(key_shape)[1:-1]:
                raise ValueError(
                    "All dimensions of `value` and `key`, except the last one, must be equal. "
                    f"Received: value_shape={tuple(value_shape)} and "
                    f"key_shape={tuple(key_shape)}"
                )
        if self._output_shape:
            return query_shape[:-1] + tuple(self._output_shape)
        return query_shape

    # ------------------------------------------------------------------ calling
    def __call__(self, query=None, value=None, key=None, **kwargs):
        """Keras's masks of the inputs become `query_mask`, `value_mask` and `key_mask`, and
        the call goes on as a call on (query, value[, key])."""
        if query is None or value is None:
            raise TypeError("MultiHeadAttention needs `query` and `value`")
        # Keras's call reads the query's mask from the query alone (a `query_mask` argument is
        # replaced by it, even by None); a mask the value or key carries wins over the argument
        kwargs.pop("query_mask", None)
        if _mask_of(query) is not None:
            kwargs["query_mask"] = _mask_of(query)
        for name, tensor in (("value_mask", value), ("key_mask", key)):
            found = None if tensor is None else _mask_of(tensor)
            if found is not None:
                kwargs[name] = found
        args = (query, value) if key is None else (query, value, key)
        if all(node_module.is_symbolic(a) for a in args):
            return self._call_symbolic(args, kwargs)
        return super().__call__(*args, **kwargs)

    def _call_symbolic(self, args, kwargs):
        """A call on KerasTensors: one node of a functional graph, with the output's shape (and
        the scores' with `return_attention_scores`), the batch axis as given."""
        shapes = [tuple(a.shape) for a in args]
        self.build_for_arguments(shapes)
        outputs = [node_module.KerasTensor(self.compute_output_shape(*shapes), dtype=self.dtype)]
        if kwargs.get("return_attention_scores"):
            outputs.append(node_module.KerasTensor(self._scores_shape(*shapes), dtype=self.dtype))
        tensors = {k: v for k, v in kwargs.items() if v is not None and node_module.is_symbolic(v)}
        node_module.Node(self, node_module.CallArguments(args), outputs, tensors, kwargs)
        return outputs if len(outputs) > 1 else outputs[0]

    def _scores_shape(self, query_shape, value_shape, key_shape=None):
        """(B, heads, T..., S...): the scores' shape, from the equation on stand-in arrays."""
        key_shape = value_shape if key_shape is None else key_shape
        query = np.empty((1, *query_shape[1:-1], self._num_heads, self._key_dim))
        key = np.empty((1, *key_shape[1:-1], self._num_heads, self._key_dim))
        shape = np.einsum(self._dot_product_equation, key, query).shape
        return (query_shape[0], *shape[1:])

    def call(
        self,
        query,
        value,
        key=None,
        query_mask=None,
        value_mask=None,
        key_mask=None,
        attention_mask=None,
        return_attention_scores=False,
        training=None,
        use_causal_mask=False,
    ):
        if not self._built:  # called by keywords on symbolic tensors first (see `build`)
            self.build(ops.shape(query), ops.shape(value), None if key is None else ops.shape(key))
        key = value if key is None else key
        attention_mask = self._compute_attention_mask(
            query, value, query_mask, value_mask, key_mask, attention_mask, use_causal_mask
        )
        gate = self._gate_dense(query) if self._use_gate else None
        query = self._query_dense(query)
        key = self._key_dense(key)
        value = self._value_dense(value)
        output, scores = self._compute_attention(
            query, key, value, attention_mask, training, return_attention_scores
        )
        if gate is not None:
            output = ops.multiply(output, gate)
        output = self._output_dense(output)
        if return_attention_scores:
            return output, scores
        return output

    def _compute_attention(
        self,
        query,
        key,
        value,
        attention_mask=None,
        training=None,
        return_attention_scores=False,
        use_causal_mask=False,
    ):
        """O = softmax(Q·Kᵀ/√key_dim, masked)·V, and the scores A (before dropout)."""
        if self._flash_attention and return_attention_scores:
            raise ValueError(
                "Returning attention scores is not supported when flash attention is enabled. "
                "Please disable flash attention to access attention scores."
            )
        if use_causal_mask:  # (projected tensors: the sequence axis is still axis 1)
            causal = self._compute_causal_mask(query, value)
            attention_mask = causal if attention_mask is None else (attention_mask & causal)
        # Keras casts the Python float 1/√key_dim to the query's dtype through a float32
        # tensor: in float64 the scale is float32(1/√key_dim), 1e-8 from the exact one
        scale = np.float32(self._inverse_sqrt_key_dim).astype(self.dtype)
        query = ops.multiply(query, scale)
        scores = ops.einsum(self._dot_product_equation, key, query)  # (B, N, T, S)
        # Keras takes ops.dot_product_attention when it needs neither dropout nor the scores
        # (and the projected tensors are 4-D); that path does not zero masked probabilities
        # after the softmax, so a query row with every key masked attends uniformly there,
        # and to nothing on the other path (its Softmax layer zeros them)
        fused = self._dropout == 0.0 and not return_attention_scores and len(query.shape) == 4
        scores = self._masked_softmax(scores, attention_mask, zero_masked=not fused)
        dropped = scores
        if self._dropout > 0.0 and training:
            from minikeras import random  # (minikeras.random imports the layers' tools)

            dropped = random.dropout(scores, self._dropout, seed=self.seed_generator)
        output = ops.einsum(self._combine_equation, dropped, value)  # (B, T, N, value_dim)
        return output, scores

    def _masked_softmax(self, scores, attention_mask=None, zero_masked=True):
        """Softmax over the key's attention axes; where the mask is False the logit becomes
        −1e9 and the probability 0 (a fully masked row gives zeros, as Keras's Softmax)."""
        if attention_mask is not None:
            mask = np.asarray(attention_mask)
            mask = mask if mask.dtype == bool else mask > 0.5
            # a (B, T, S) mask gains the heads axis (and more for attention_axes), as Keras
            axis = -len(self._attention_axes) * 2 - 1
            while mask.ndim < len(scores.shape):
                mask = np.expand_dims(mask, axis)
            scores = ops.where(mask, scores, np.asarray(-1e9, dtype=self.dtype))
        if len(self._softmax_axes) == 1:
            probabilities = ops.softmax(scores, axis=self._softmax_axes[0])
        else:
            shift = ops.logsumexp(scores, axis=self._softmax_axes, keepdims=True)
            probabilities = ops.exp(ops.subtract(scores, shift))
        if attention_mask is not None and zero_masked:
            probabilities = ops.where(mask, probabilities, np.asarray(0, dtype=self.dtype))
        return probabilities

    def _compute_attention_mask(
        self,
        query,
        value,
        query_mask=None,
        value_mask=None,
        key_mask=None,
        attention_mask=None,
        use_causal_mask=False,
    ):
        """The boolean (B, T, S) mask: attention_mask AND the query's mask (B, T, 1) AND the
        value's and key's (B, 1, S) AND the causal (1, T, S) and sliding-window ones."""
        masks = []
        if query_mask is not None:
            masks.append(np.expand_dims(np.asarray(query_mask, dtype=bool), -1))
        for mask in (value_mask, key_mask):
            if mask is not None:
                masks.append(np.expand_dims(np.asarray(mask, dtype=bool), -2))
        if use_causal_mask:
            masks.append(self._compute_causal_mask(query, value))
        if self._sliding_window is not None:
            masks.append(self._compute_sliding_window_mask(query, value))
        if attention_mask is not None:
            masks.insert(0, np.asarray(ops.convert_to_numpy(attention_mask)).astype(bool))
        if not masks:
            return None
        combined = masks[0]
        for mask in masks[1:]:
            combined = combined & mask
        return combined

    def _compute_causal_mask(self, query, value=None):
        """(1, T, S), True on and below the diagonal: position t sees positions ≤ t."""
        t = ops.shape(query)[1]
        s = t if value is None else ops.shape(value)[1]
        return np.tril(np.ones((t, s), dtype=bool))[None]

    def _compute_sliding_window_mask(self, query, value=None):
        """(1, T, S), True where |t − s| < sliding_window."""
        t = ops.shape(query)[1]
        s = t if value is None else ops.shape(value)[1]
        distance = np.abs(np.arange(t)[:, None] - np.arange(s)[None, :])
        return (distance < self._sliding_window)[None]

    def compute_mask(self, inputs, mask=None):
        return mask  # the query's

    # ------------------------------------------------------------------ config
    def get_build_config(self):
        if not self._built or not self._projections:
            return None
        return {"shapes_dict": dict(self._build_shapes)}

    def build_from_config(self, build_config):
        if not self._built and build_config:
            shapes = build_config.get("shapes_dict", build_config)
            self.build(shapes["query_shape"], shapes["value_shape"], shapes.get("key_shape"))

    def get_config(self):
        return {
            **super().get_config(),
            "num_heads": self._num_heads,
            "key_dim": self._key_dim,
            "value_dim": self._value_dim,
            "dropout": self._dropout,
            "use_bias": self._use_bias,
            "use_gate": self._use_gate,
            "output_shape": self._output_shape,
            "attention_axes": self._attention_axes,
            "sliding_window": self._sliding_window,
            "kernel_initializer": initializers.serialize(self._kernel_initializer),
            "bias_initializer": initializers.serialize(self._bias_initializer),
            "kernel_regularizer": regularizers.serialize(self._kernel_regularizer),
            "bias_regularizer": regularizers.serialize(self._bias_regularizer),
            "activity_regularizer": regularizers.serialize(self._activity_regularizer),
            "kernel_constraint": constraints.serialize(self._kernel_constraint),
            "bias_constraint": constraints.serialize(self._bias_constraint),
            "seed": self.seed,
        }


class _NoWeights:
    """What an empty group of a file stands for: a name and no weights."""

    _builtin = True  # saved as a built-in layer's group is: its own weights (none), no attributes

    def __init__(self, name):
        self.name, self.weights, self.weight_names = name, [], []


def _seed_generator(seed):
    from minikeras.random import SeedGenerator  # (minikeras.random imports the layers' tools)

    return SeedGenerator(seed)


def _mask_of(x):
    """The mask x carries: `_keras_mask`, or one set on a plain array by
    `backend.set_keras_mask` (kept in a table by the array's id)."""
    from minikeras import backend  # (backend imports the layers: import when needed)

    found = keras_mask.get_mask(x)
    return backend.get_keras_mask(x) if found is None else found


def _partial(rank, known_last):
    """An EinsumDense `output_shape` for an output of `rank` axes after the batch axis: None
    (taken from the input) but for the known trailing ones."""
    return [None] * (rank - 1 - len(known_last)) + list(known_last)


def _projection_equation(free_dims, bound_dims, output_dims):
    """The einsum of a projection: `free_dims` axes kept, `bound_dims` contracted with the
    kernel, `output_dims` made by it (biased). E.g. (2, 1, 2): "abc,cde->abde", bias "de"."""
    letters = string.ascii_lowercase
    free = letters[:free_dims]
    bound = letters[free_dims : free_dims + bound_dims]
    made = letters[free_dims + bound_dims : free_dims + bound_dims + output_dims]
    return f"{free}{bound},{bound}{made}->{free}{made}", made, len(free + made)


def _attention_equations(rank, attention_axes):
    """The einsums of the scores and of the output for projected tensors of `rank` axes
    (batch, ..., heads, channels): for rank 4, "aecd,abcd->acbe" (key, query → (B, N, T, S))
    and "acbe,aecd->abcd" (scores, value → (B, T, N, channels))."""
    letters = string.ascii_lowercase
    target = letters[:rank]  # the query's letters
    batch_axes = [i for i in range(rank) if i not in attention_axes and i != rank - 1]
    source, next_letter = "", rank  # the key's: the query's, but new letters on attention axes
    for i in range(rank):
        if i in batch_axes or i == rank - 1:
            source += target[i]
        else:
            source += letters[next_letter]
            next_letter += 1
    product = "".join(
        [target[i] for i in batch_axes]
        + [target[i] for i in attention_axes]
        + [source[i] for i in attention_axes]
    )
    return (
        f"{source},{target}->{product}",
        f"{product},{source}->{target}",
        len(product),
    )
