"""SpatialDropout1D/2D/3D: Dropout that drops whole channels (feature maps), not single values."""

from minikeras.layers.dropout import Dropout
from minikeras.layers.reshaping import standardize_data_format


class SpatialDropout1D(Dropout):
    """On (batch, steps, channels): each channel of each sample is kept (and scaled by
    1/(1 − rate)) or zeroed at every step together: Dropout with noise_shape (batch, 1, channels).

    >>> import numpy as np
    >>> from minikeras.layers import SpatialDropout1D
    >>> y = SpatialDropout1D(0.5, seed=1)(np.ones((1, 3, 4)), training=True)
    >>> bool((y == y[:, :1]).all())   # the same channels dropped at every step
    True
    """

    rank = 1

    def __init__(self, rate, seed=None, name=None, dtype=None):
        super().__init__(rate, seed=seed, name=name, dtype=dtype)

    def _noise_shape(self, x):
        if x.ndim != self.rank + 2:
            raise ValueError(
                f'Input 0 of layer "{self.name}" is incompatible with the layer: expected '
                f"ndim={self.rank + 2}, found ndim={x.ndim}. Full shape received: {x.shape}"
            )
        if getattr(self, "data_format", "channels_last") == "channels_first":
            return x.shape[:2] + (1,) * self.rank
        return (x.shape[0],) + (1,) * self.rank + (x.shape[-1],)

    def get_config(self):
        # Keras's BaseSpatialDropout writes only these four, the dtype as a plain name
        return {"rate": self.rate, "seed": self.seed, "name": self.name, "dtype": self.dtype}


class SpatialDropout2D(SpatialDropout1D):
    """On (batch, rows, cols, channels): whole feature maps kept or zeroed, noise shape
    (batch, 1, 1, channels) ((batch, channels, 1, 1) with data_format="channels_first")."""

    rank = 2

    def __init__(self, rate, data_format=None, seed=None, name=None, dtype=None):
        super().__init__(rate, seed=seed, name=name, dtype=dtype)
        self.data_format = standardize_data_format(data_format)

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format}


class SpatialDropout3D(SpatialDropout2D):
    """On (batch, dim1, dim2, dim3, channels): whole 3-D feature maps kept or zeroed, noise
    shape (batch, 1, 1, 1, channels) ((batch, channels, 1, 1, 1) with channels_first)."""

    rank = 3
