"""AdditiveAttention: Bahdanau-style attention, as Keras 3's.

The scores are a learned sum of tanh over the features instead of a dot product:

    scores[b, i, j] = Σ_d scale_d · tanh(query[b, i, d] + key[b, j, d])    (B, Tq, Tv)

the rest (masks, softmax, A·V, dropout) as `Attention`. Differentiated by the gradient tape:
dscale_d = Σ_{b,i,j} dscores · tanh(q + k)_d, and d(q + k) = dscores · scale · (1 − tanh²).
"""

from minikeras import ops
from minikeras.layers.attention import Attention


class AdditiveAttention(Attention):
    """Additive attention on [query, value] or [query, value, key]; `scale` has one entry per
    feature (glorot_uniform), when `use_scale` (the default).

    >>> import numpy as np
    >>> from minikeras.layers import AdditiveAttention
    >>> AdditiveAttention()([np.ones((1, 2, 3)), np.ones((1, 4, 3))]).shape
    (1, 2, 3)
    """

    def __init__(self, use_scale=True, dropout=0.0, **kwargs):
        super().__init__(use_scale=use_scale, dropout=dropout, **kwargs)

    def build(self, input_shape):
        self._validate_inputs(input_shape)
        if self.use_scale:
            self.scale = self.add_weight(
                shape=(input_shape[0][-1],), initializer="glorot_uniform", name="scale"
            )
        self.input_shape = [tuple(shape) for shape in input_shape]
        self.output_shape = self.compute_output_shape(self.input_shape)
        self.built = True

    def _calculate_scores(self, query, key):
        pairs = ops.tanh(ops.add(ops.expand_dims(query, -2), ops.expand_dims(key, -3)))
        if self.use_scale:
            pairs = ops.multiply(self.scale, pairs)
        return ops.sum(pairs, axis=-1)

    def get_config(self):
        config = super().get_config()
        del config["score_mode"]  # always additive, as Keras's config leaves it out
        return config
