"""Attention: dot-product (Luong-style) attention of a query on a value, as Keras 3's.

Called on [query (B, Tq, dim), value (B, Tv, dim)] or [query, value, key (B, Tv, dim)]:

    scores = Q·Kᵀ (× scale)          (B, Tq, dim)·(B, dim, Tv) → (B, Tq, Tv)
             score_mode "concat": concat_score_weight · Σ_dim tanh(scale·(q + k))
    A = softmax(scores − 1e9 where the value's mask (or the causal mask) is False)
    y = A·V                          (B, Tq, Tv)·(B, Tv, dim) → (B, Tq, dim), 0 where the
                                     query's mask is False

The layer is written with `minikeras.ops` and differentiated by the gradient tape; its steps'
vector–Jacobian products are the ones of `MultiHeadAttention` without projections:
dA = dy·Vᵀ, dV = Aᵀ·dy, dscores = A ⊙ (dA − Σ_Tv dA ⊙ A), dQ = dscores·K, dK = dscoresᵀ·Q.
"""

import numpy as np

from minikeras import ops
from minikeras.layers import node as node_module
from minikeras.layers.layer import Layer


class Attention(Layer):
    """Dot-product attention on [query, value] or [query, value, key].

    >>> import numpy as np
    >>> from minikeras.layers import Attention
    >>> y, scores = Attention()([np.ones((1, 2, 3)), np.ones((1, 4, 3))],
    ...                          return_attention_scores=True)
    >>> y.shape, scores.shape
    ((1, 2, 3), (1, 2, 4))
    """

    supports_masking = True

    def __init__(self, use_scale=False, score_mode="dot", dropout=0.0, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.use_scale = use_scale
        self.score_mode = score_mode
        self.dropout = dropout
        self.seed = seed
        if self.dropout > 0:
            from minikeras.random import SeedGenerator  # (it imports the layers' tools)

            self.seed_generator = SeedGenerator(seed=seed)
        if self.score_mode not in ["dot", "concat"]:
            raise ValueError(
                "Invalid value for argument score_mode. Expected one of {'dot', 'concat'}. "
                f"Received: score_mode={score_mode}"
            )
        self.scale = None
        self.concat_score_weight = None

    def build(self, input_shape):
        self._validate_inputs(input_shape)
        if self.use_scale:
            self.scale = self.add_weight(shape=(), initializer="ones", name="scale")
        if self.score_mode == "concat":
            self.concat_score_weight = self.add_weight(
                shape=(), initializer="ones", name="concat_score_weight"
            )
        self.input_shape = [tuple(shape) for shape in input_shape]
        self.output_shape = self.compute_output_shape(self.input_shape)
        self.built = True

    def build_from_config(self, build_config):
        if not self._built and build_config and build_config.get("input_shape") is not None:
            self.build_once([tuple(shape) for shape in build_config["input_shape"]])

    def _calculate_scores(self, query, key):
        """(B, Tq, Tv) scores of each query step against each key step."""
        if self.score_mode == "dot":
            scores = ops.matmul(query, ops.swapaxes(key, -2, -1))
            if self.scale is not None:
                scores = ops.multiply(scores, self.scale)
            return scores
        pairs = ops.add(ops.expand_dims(query, -2), ops.expand_dims(key, -3))  # (B,Tq,Tv,dim)
        if self.scale is not None:
            pairs = ops.multiply(self.scale, pairs)
        return ops.multiply(self.concat_score_weight, ops.sum(ops.tanh(pairs), axis=-1))

    def _apply_scores(self, scores, value, scores_mask=None, training=False):
        """softmax(scores, masked)·value, and the softmax (after dropout in training)."""
        if scores_mask is not None:
            padding = np.logical_not(np.asarray(scores_mask, dtype=bool))
            if padding.ndim == 2:
                padding = np.expand_dims(padding, -2)
            # Keras subtracts 1e9 from masked scores (not a fill): a fully masked row keeps
            # its softmax over the original scores
            scores = ops.where(padding, ops.subtract(scores, 1.0e9), scores)
        weights = ops.softmax(scores, axis=-1)
        if training and self.dropout > 0:
            from minikeras import random  # (minikeras.random imports the layers' tools)

            weights = random.dropout(weights, self.dropout, seed=self.seed_generator)
        return ops.matmul(weights, value), weights

    def _calculate_score_mask(self, scores, v_mask, use_causal_mask):
        """The value's mask, as (B, 1, Tv), ANDed with the causal (1, Tq, Tv) one if asked."""
        if not use_causal_mask:
            return v_mask
        rows, columns = ops.shape(scores)[-2], ops.shape(scores)[-1]
        causal = np.tril(np.ones((rows, columns), dtype=bool))[None]
        if v_mask is None:
            return causal
        return np.logical_and(np.expand_dims(np.asarray(v_mask, dtype=bool), -2), causal)

    def __call__(self, inputs, *args, **kwargs):
        if node_module.is_symbolic(inputs) and kwargs.get("return_attention_scores"):
            return self._call_symbolic_with_scores(inputs, kwargs)
        return super().__call__(inputs, *args, **kwargs)

    def _call_symbolic_with_scores(self, inputs, kwargs):
        """A call on KerasTensors that returns the scores too: a node with two outputs."""
        self._validate_inputs(inputs, kwargs.get("mask"))
        shapes = [tuple(t.shape) for t in inputs]
        if not self._built:
            self.build_once(shapes)
        output = node_module.KerasTensor(self.compute_output_shape(shapes), dtype=self.dtype)
        key_shape = shapes[2] if len(shapes) > 2 else shapes[1]
        scores = node_module.KerasTensor((*shapes[0][:-1], key_shape[-2]), dtype=self.dtype)
        tensors = {k: v for k, v in kwargs.items() if v is not None and node_module.is_symbolic(v)}
        node_module.Node(self, list(inputs), [output, scores], tensors, kwargs)
        return output, scores

    def call(
        self,
        inputs,
        mask=None,
        training=False,
        return_attention_scores=False,
        use_causal_mask=False,
    ):
        self._validate_inputs(inputs=inputs, mask=mask)
        query, value = inputs[0], inputs[1]
        key = inputs[2] if len(inputs) > 2 else value
        q_mask = mask[0] if mask else None
        v_mask = mask[1] if mask else None
        scores = self._calculate_scores(query=query, key=key)
        scores_mask = self._calculate_score_mask(scores, v_mask, use_causal_mask)
        output, weights = self._apply_scores(scores, value, scores_mask, training=training)
        if q_mask is not None:
            keep = np.expand_dims(np.asarray(q_mask, dtype=bool), -1)
            output = ops.where(keep, output, np.asarray(0, dtype=self.dtype))
        if return_attention_scores:
            return output, weights
        return output

    def compute_mask(self, inputs, mask=None):
        """The query's mask, as Keras's."""
        self._validate_inputs(inputs=inputs, mask=mask)
        if mask is None or mask[0] is None:
            return None
        return np.asarray(mask[0])

    def compute_output_shape(self, input_shape):
        query_shape, value_shape = input_shape[0], input_shape[1]
        return (*query_shape[:-1], value_shape[-1])

    def _validate_inputs(self, inputs, mask=None):
        """Keras's checks: a list of 2 or 3 inputs, and a list of 2 or 3 masks."""
        class_name = type(self).__name__
        if not isinstance(inputs, list):
            raise ValueError(
                f"{class_name} layer must be called on a list of inputs, namely [query, value] "
                f"or [query, value, key]. Received: inputs={inputs}."
            )
        if len(inputs) < 2 or len(inputs) > 3:
            raise ValueError(
                f"{class_name} layer accepts inputs list of length 2 or 3, namely [query, "
                f"value] or [query, value, key]. Received length: {len(inputs)}."
            )
        if mask is not None:
            if not isinstance(mask, list):
                raise ValueError(
                    f"{class_name} layer mask must be a list, namely [query_mask, value_mask]. "
                    f"Received: mask={mask}."
                )
            if len(mask) < 2 or len(mask) > 3:
                raise ValueError(
                    f"{class_name} layer accepts mask list of length 2 or 3. Received: "
                    f"inputs={inputs}, mask={mask}."
                )

    def get_config(self):
        return {
            **super().get_config(),
            "use_scale": self.use_scale,
            "score_mode": self.score_mode,
            "dropout": self.dropout,
            "seed": self.seed,
        }
