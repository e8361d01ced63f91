"""Wrapper: the base class of layers that hold one other layer and add to what it does."""

from minikeras.layers.layer import Layer


class Wrapper(Layer):
    """A layer around `layer`: the wrapped layer's weights are the wrapper's, and its config
    is nested in the wrapper's. A subclass writes `call` (with `self.layer(...)` inside); with
    no backward of its own, the gradient tape differentiates it.

    >>> import numpy as np
    >>> from minikeras.layers import Dense, Wrapper
    >>> class Twice(Wrapper):
    ...     def call(self, x):
    ...         return 2 * self.layer(x)
    >>> Twice(Dense(3))(np.ones((2, 4))).shape
    (2, 3)
    """

    def __init__(self, layer, **kwargs):
        if not isinstance(layer, Layer):
            raise ValueError(
                f"Layer {layer} supplied to Wrapper isn't a supported layer type. Please ensure "
                "wrapped layer is a valid Keras layer."
            )
        super().__init__(**kwargs)
        self.layer = layer  # after Layer.__init__, whose `trainable` must not reach the layer

    def _sublayers(self):
        """The wrapped layer (Layer's `weights`, `trainable` and losses follow it)."""
        return [self.layer]

    def build(self, input_shape=None):
        if not self.layer.built:
            self.layer.build_once(input_shape)
        self.input_shape = None if input_shape is None else tuple(input_shape)
        self.built = True

    def get_config(self):
        from minikeras.layers import serialization  # imports this module: import when needed

        return {**super().get_config(), "layer": serialization.serialize(self.layer)}

    @classmethod
    def from_config(cls, config_):
        from minikeras.layers import serialization

        config_ = dict(config_)
        layer = serialization.deserialize(config_.pop("layer"))
        return cls._from_config({**config_, "layer": layer})
