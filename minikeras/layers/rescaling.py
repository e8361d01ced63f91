"""Rescaling: y = x·scale + offset (e.g. pixel values from [0, 255] to [0, 1])."""

import numpy as np

from minikeras import config
from minikeras.layers.layer import Layer


class Rescaling(Layer):
    """y = x·scale + offset; scale and offset are numbers or lists broadcast on the last axes
    (on the channel axis and those after it when the global image data format is
    "channels_first", as Keras reshapes a list scale then). Masks pass through.

    >>> import numpy as np
    >>> from minikeras.layers import Rescaling
    >>> Rescaling(1 / 127.5, offset=-1)(np.array([[0.0, 255.0]])).tolist()
    [[-1.0, 1.0]]
    """

    supports_masking = True

    def __init__(self, scale, offset=0.0, **kwargs):
        super().__init__(**kwargs)
        self.scale = scale
        self.offset = offset
        if self._input_shape_arg is not None:
            self.build((None,) + self._input_shape_arg)

    def _scale(self, dtype):
        scale = np.asarray(self.scale, dtype=dtype)
        if scale.ndim > 0 and config.image_data_format() == "channels_first":
            # Keras: a scale per channel of (batch, channels, height, width) images
            scale = scale.reshape(scale.shape + (1,) * (3 - scale.ndim))
        return scale

    def call(self, x, training=False):
        return x * self._scale(x.dtype) + np.asarray(self.offset, dtype=x.dtype)

    def backward(self, dy):
        """dx = dy·scale"""
        self.grads = []
        return dy * self._scale(dy.dtype)

    def get_config(self):
        from minikeras.saving.keras_objects import serialize_keras_object

        # a NumPy array becomes a number or a serialized array (Keras serializes them too)
        return {
            **super().get_config(),
            "scale": serialize_keras_object(_plain(self.scale)),
            "offset": serialize_keras_object(_plain(self.offset)),
        }

    @classmethod
    def from_config(cls, config_):
        from minikeras.saving.keras_objects import deserialize_keras_object

        config_ = dict(config_)
        config_["scale"] = deserialize_keras_object(config_["scale"])
        config_["offset"] = deserialize_keras_object(config_["offset"])
        return super().from_config(config_)


def _plain(value):
    """A 0-d array as its number (Keras writes np.array(0.5) as 0.5)."""
    if isinstance(value, np.ndarray) and value.ndim == 0:
        return value.item()
    return value
