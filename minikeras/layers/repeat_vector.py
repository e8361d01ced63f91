"""RepeatVector: (batch, features) → (batch, n, features), the same vector n times."""

import numbers

import numpy as np

from minikeras.layers.layer import Layer


class RepeatVector(Layer):
    """Repeat each sample's feature vector `n` times along a new axis 1.

    >>> import numpy as np
    >>> from minikeras.layers import RepeatVector
    >>> RepeatVector(3)(np.array([[1.0, 2.0]])).tolist()
    [[[1.0, 2.0], [1.0, 2.0], [1.0, 2.0]]]
    """

    def __init__(self, n, **kwargs):
        super().__init__(**kwargs)
        # Keras refuses NumPy integers too; minikeras takes them
        if isinstance(n, bool) or not isinstance(n, numbers.Integral):
            raise TypeError(f"Expected an integer value for `n`, got {type(n)}.")
        if n <= 0:
            raise ValueError(f"Argument `n` should be a positive integer. Received: n={n}")
        self.n = int(n)
        if self._input_shape_arg is not None:
            self.build((None,) + self._input_shape_arg)

    def build(self, input_shape):
        if len(input_shape) != 2:  # Keras's InputSpec(ndim=2) message
            raise ValueError(
                f'Input 0 of layer "{self.name}" is incompatible with the layer: expected '
                f"ndim=2, found ndim={len(input_shape)}. Full shape received: {tuple(input_shape)}"
            )
        super().build(input_shape)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.n, input_shape[1])

    def call(self, x, training=False):
        """y[b, i, :] = x[b, :] for i < n   (batch, features) → (batch, n, features)"""
        y = self.buffer("y", (x.shape[0], self.n, x.shape[1]))
        y[...] = x[:, np.newaxis, :]
        return y

    def backward(self, dy):
        """dx[b, :] = Σ_i dy[b, i, :]: each copy passes its gradient back to the one x"""
        self.grads = []
        return dy.sum(axis=1)  # (batch, n, features) → (batch, features)

    def get_config(self):
        return {**super().get_config(), "n": self.n}
