"""GroupedQueryAttention (Ainslie et al., 2023), Keras's `GroupQueryAttention`.

Attention with fewer key/value heads than query heads: N query heads share G key/value heads,
each key/value head serving N / G query heads (G = 1 is multi-query attention, G = N is
MultiHeadAttention):

    Q = query·Wq + bq      (B, T, dim)·(dim, N, head_dim)   → (B, T, N, head_dim)
    K = key·Wk + bk        (B, S, dim_k)·(dim_k, G, head_dim) → (B, S, G, head_dim)
    V = value·Wv + bv      (B, S, dim_v)·(dim_v, G, head_dim) → (B, S, G, head_dim)
    K, V repeated N / G times along the heads axis            → (B, S, N, head_dim)
    A = softmax(Q·Kᵀ/√head_dim, over S), masked entries 0      → (B, N, T, S)
    y = (A·V)·Wo + bo      (B, T, N, head_dim)·(N, head_dim, dim) → (B, T, dim)

Everything but the repeat is MultiHeadAttention's (multi_head_attention.py): the projections
are EinsumDense layers with their own backward, the rest is `minikeras.ops` on the tape. The
repeat's backward is a sum: dK_g = Σ of the gradients of the N / G copies of head g.
"""

import math

import numpy as np

from minikeras import config, constraints, initializers, ops, regularizers
from minikeras.layers import node as node_module
from minikeras.layers.layer import Layer
from minikeras.layers.multi_head_attention import MultiHeadAttention, _mask_of, _NoWeights
from minikeras.layers.name_scope import layer_scope


class GroupedQueryAttention(MultiHeadAttention):
    """Grouped-query attention of `query` on `value` (and `key`, `value` if not given).

    >>> import numpy as np
    >>> from minikeras.layers import GroupQueryAttention
    >>> gqa = GroupQueryAttention(head_dim=2, num_query_heads=4, num_key_value_heads=2)
    >>> y, scores = gqa(np.ones((1, 3, 5)), np.ones((1, 6, 5)), return_attention_scores=True)
    >>> y.shape, scores.shape, gqa.weights[2].shape
    ((1, 3, 5), (1, 4, 3, 6), (5, 2, 2))
    """

    keras_class_name = "GroupQueryAttention"  # the name Keras exports it (and saves it) under

    def __init__(
        self,
        head_dim,
        num_query_heads,
        num_key_value_heads,
        dropout=0.0,
        use_bias=True,
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
        # Keras's checks and messages (keras/src/layers/attention/grouped_query_attention.py)
        if num_query_heads % num_key_value_heads != 0:
            raise ValueError("`num_query_heads` must be divisible by `num_key_value_heads`.")
        if sliding_window is not None and (
            not isinstance(sliding_window, int) or sliding_window <= 0
        ):
            raise ValueError(
                "`sliding_window` must be `None` or a positive integer. "
                f"Received: sliding_window={sliding_window}"
            )
        if (flash_attention or config.is_flash_attention_enabled()) and dropout > 0.0:
            raise ValueError(
                "Dropout is not supported when flash attention is enabled. Please set dropout "
                "to 0.0 to use flash attention."
            )
        super().__init__(
            num_heads=num_query_heads,
            key_dim=head_dim,
            dropout=dropout,
            use_bias=use_bias,
            sliding_window=sliding_window,
            flash_attention=flash_attention,
            kernel_initializer=kernel_initializer,
            bias_initializer=bias_initializer,
            kernel_regularizer=kernel_regularizer,
            bias_regularizer=bias_regularizer,
            activity_regularizer=activity_regularizer,
            kernel_constraint=kernel_constraint,
            bias_constraint=bias_constraint,
            use_gate=use_gate,
            seed=seed,
            **kwargs,
        )
        self.head_dim = head_dim
        self.num_query_heads = num_query_heads
        self.num_key_value_heads = num_key_value_heads
        self.num_repeats = num_query_heads // num_key_value_heads
        self._inverse_sqrt_head_dim = 1.0 / math.sqrt(float(head_dim))
        self._return_attention_scores = False

    use_gate = property(lambda self: self._use_gate)
    sliding_window = property(lambda self: self._sliding_window)
    kernel_initializer = property(lambda self: self._kernel_initializer)
    bias_initializer = property(lambda self: self._bias_initializer)
    kernel_regularizer = property(lambda self: self._kernel_regularizer)
    bias_regularizer = property(lambda self: self._bias_regularizer)
    kernel_constraint = property(lambda self: self._kernel_constraint)
    bias_constraint = property(lambda self: self._bias_constraint)

    def saved_sublayers(self):
        """The groups Keras's files hold inside this layer: its attributes' names (this layer
        has no public properties for them), the softmax and dropout groups empty."""
        named = [("_query_dense", self._query_dense), ("_key_dense", self._key_dense)]
        if self._use_gate:
            named.append(("_gate_dense", self._gate_dense))
        named += [("_value_dense", self._value_dense), ("_output_dense", self._output_dense)]
        return named + [
            ("_softmax", _NoWeights("softmax")),
            ("_dropout_layer", _NoWeights("dropout")),
        ]

    # ------------------------------------------------------------------ building
    def build(self, query_shape, value_shape=None, key_shape=None):
        if value_shape is None:
            return  # built at the first call on data (see MultiHeadAttention.build)
        query_shape, value_shape = tuple(query_shape), tuple(value_shape)
        self._build_shapes = {"query_shape": query_shape, "value_shape": value_shape}
        if key_shape is not None:
            self._build_shapes["key_shape"] = tuple(key_shape)
        key_shape = value_shape if key_shape is None else tuple(key_shape)
        query_heads = (None, self.num_query_heads, self.head_dim)
        kv_heads = (None, self.num_key_value_heads, self.head_dim)
        with layer_scope(self):
            self._query_dense = self._projection("bqm,muh->bquh", query_heads, "uh", "query")
            self._query_dense.build_once(query_shape)
            self._key_dense = self._projection("bkm,mvh->bkvh", kv_heads, "vh", "key")
            self._key_dense.build_once(key_shape)
            self._projections = [self._query_dense, self._key_dense]
            if self._use_gate:
                self._gate_dense = self._projection(
                    "bqm,muh->bquh", query_heads, "uh", "gate", "sigmoid"
                )
                self._gate_dense.build_once(query_shape)
                self._projections.append(self._gate_dense)
            self._value_dense = self._projection("bkm,mvh->bkvh", kv_heads, "vh", "value")
            self._value_dense.build_once(value_shape)
            self._output_dense = self._projection(
                "bquh,uhm->bqm", (None, query_shape[-1]), "m", "attention_output"
            )
            self._output_dense.build_once((None, None, self.num_query_heads, self.head_dim))
            self._projections += [self._value_dense, self._output_dense]
        # the einsums of MultiHeadAttention's attention over axis 1 (rank-4 projected tensors)
        self._attention_axes = None
        self._build_attention(4)
        self.input_shape = query_shape
        self.output_shape = self.compute_output_shape(query_shape, value_shape, key_shape)
        self.built = True

    def compute_output_shape(self, query_shape, value_shape=None, key_shape=None):
        query_shape = tuple(query_shape)
        if value_shape is None:
            return query_shape
        value_shape = tuple(value_shape)
        # Keras compares the query's and value's last axes before it reads the key's shape
        if query_shape[-1] != value_shape[-1]:
            raise ValueError(
                "The last dimension of `query_shape` and `value_shape` must be equal, but are "
                f"{query_shape[-1]}, {value_shape[-1]}. Received: query_shape={query_shape}, "
                f"value_shape={value_shape}"
            )
        key_shape = value_shape if key_shape is None else tuple(key_shape)
        if value_shape[1:-1] != key_shape[1:-1]:
            raise ValueError(
                "All dimensions of `value` and `key`, except the last one, must be equal. "
                f"Received: value_shape={value_shape} and key_shape={key_shape}"
            )
        return query_shape

    def _scores_shape(self, query_shape, value_shape, key_shape=None):
        source = value_shape if key_shape is None else key_shape
        return (query_shape[0], self.num_query_heads, query_shape[1], source[1])

    # ------------------------------------------------------------------ calling
    def __call__(self, query=None, value=None, key=None, **kwargs):
        """The masks the inputs carry become `query_mask`, `value_mask` and `key_mask` where
        those are not given, as Keras's Layer.__call__ fills them (MultiHeadAttention, unlike
        this layer, rereads the query's own mask in its call)."""
        if query is None or value is None:
            raise TypeError("GroupedQueryAttention needs `query` and `value`")
        for name, tensor in (("query_mask", query), ("value_mask", value), ("key_mask", key)):
            if kwargs.get(name) is None and tensor is not None:
                kwargs[name] = _mask_of(tensor)
        args = (query, value) if key is None else (query, value, key)
        if all(node_module.is_symbolic(a) for a in args):
            return self._call_symbolic(args, kwargs)
        return Layer.__call__(self, *args, **kwargs)

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
        if not self._built:
            self.build(ops.shape(query), ops.shape(value), None if key is None else ops.shape(key))
        self._return_attention_scores = return_attention_scores
        key = value if key is None else key
        # Keras hands a causal mask alone to its fused kernel as `use_causal_mask` (unless a
        # subclass overrides `_compute_attention`, which then gets the mask itself)
        causal_only = (
            use_causal_mask
            and query_mask is None
            and value_mask is None
            and key_mask is None
            and attention_mask is None
            and self._sliding_window is None
            and type(self)._compute_attention is GroupedQueryAttention._compute_attention
        )
        if not causal_only:
            attention_mask = self._compute_attention_mask(
                query, value, query_mask, value_mask, key_mask, attention_mask, use_causal_mask
            )
        gate = self._gate_dense(query) if self._use_gate else None
        query = self._query_dense(query)
        key = ops.repeat(self._key_dense(key), self.num_repeats, axis=2)  # (B, S, N, head_dim)
        value = ops.repeat(self._value_dense(value), self.num_repeats, axis=2)
        extra = {"use_causal_mask": True} if causal_only else {}
        output, scores = self._compute_attention(
            query, key, value, attention_mask=attention_mask, training=training, **extra
        )
        if gate is not None:
            output = ops.multiply(output, gate)
        output = self._output_dense(output)
        if return_attention_scores:
            return output, scores
        return output

    def _compute_attention(
        self, query, key, value, attention_mask=None, training=None, use_causal_mask=False
    ):
        """O = softmax(Q·Kᵀ/√head_dim, masked)·V on the repeated heads, and the scores."""
        if attention_mask is not None:
            attention_mask = np.asarray(ops.convert_to_numpy(attention_mask)).astype(bool)
        return super()._compute_attention(
            query,
            key,
            value,
            attention_mask,
            training,
            self._return_attention_scores,
            use_causal_mask,
        )

    # ------------------------------------------------------------------ config
    def get_config(self):
        return {
            **Layer.get_config(self),
            "head_dim": self.head_dim,
            "num_query_heads": self.num_query_heads,
            "num_key_value_heads": self.num_key_value_heads,
            "use_bias": self._use_bias,
            "use_gate": self._use_gate,
            "sliding_window": self._sliding_window,
            "dropout": self._dropout,
            "kernel_initializer": initializers.serialize(self._kernel_initializer),
            "bias_initializer": initializers.serialize(self._bias_initializer),
            "kernel_regularizer": regularizers.serialize(self._kernel_regularizer),
            "bias_regularizer": regularizers.serialize(self._bias_regularizer),
            "activity_regularizer": regularizers.serialize(self._activity_regularizer),
            "kernel_constraint": constraints.serialize(self._kernel_constraint),
            "bias_constraint": constraints.serialize(self._bias_constraint),
            "seed": self.seed,
        }
