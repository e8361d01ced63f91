"""ActivityRegularization: y = x, and a penalty on x added to the loss.

    loss += (l1·Σ|x| + l2·Σx²) / batch size      dx = dy + (l1·sign(x) + 2·l2·x) / batch size

The penalty and its gradient are the base Layer's activity regularizer (an L1L2 here):
`backward` only hands dy on, and `Layer.backward_pass` adds the penalty's gradient first.
"""

from minikeras.layers.layer import Layer
from minikeras.regularizers import L1L2


class ActivityRegularization(Layer):
    """The identity, with an L1/L2 penalty on its output (its input) added to the loss.

    >>> import numpy as np
    >>> from minikeras.layers import ActivityRegularization
    >>> layer = ActivityRegularization(l1=0.2, l2=0.3)
    >>> _ = layer(2 * np.ones((1,)))
    >>> round(float(layer.losses[0]), 6)   # 0.2·2 + 0.3·4
    1.6
    """

    has_build_config = False
    builds_at_init = True
    supports_masking = True

    def __init__(self, l1=0.0, l2=0.0, **kwargs):
        super().__init__(activity_regularizer=L1L2(l1=l1, l2=l2), **kwargs)
        self.l1, self.l2 = l1, l2

    def call(self, x):
        return x

    def backward(self, dy):
        """dx = dy (the penalty's gradient is added by backward_pass)"""
        self.grads = []
        return dy

    def get_config(self):
        config = super().get_config()
        config.pop("activity_regularizer", None)  # rebuilt from l1 and l2, as Keras's
        return {**config, "l1": self.l1, "l2": self.l2}
