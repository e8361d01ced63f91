"""Pipeline: layers applied one after the other, as one layer (not a model)."""

from minikeras.layers import keras_mask
from minikeras.layers.layer import Layer


class Pipeline(Layer):
    """Calls each of `layers` on the output of the one before, passing on `training` and the
    mask each output carries (Keras's preprocessing chains: augmentation, lookups).

    >>> import numpy as np
    >>> from minikeras.layers import Pipeline, Rescaling
    >>> Pipeline([Rescaling(2.0), Rescaling(1.0, offset=1.0)])(np.array([1.0])).tolist()
    [3.0]
    """

    def __init__(self, layers, name=None):
        super().__init__(name=name)
        self._pipeline_layers = layers

    @property
    def layers(self):
        return self._pipeline_layers

    def call(self, inputs, training=True, mask=None):
        outputs = inputs
        for layer in self._pipeline_layers:
            kwargs = {"mask": mask} if mask is not None else {}
            if training is not None:
                kwargs["training"] = training
            outputs = layer(inputs, **kwargs)
            mask = keras_mask.get_mask(outputs)
            inputs = outputs
        return outputs

    def get_config(self):
        from minikeras.layers.serialization import serialize

        return {"layers": [serialize(layer) for layer in self._pipeline_layers], "name": self.name}

    @classmethod
    def from_config(cls, config_):
        from minikeras.layers.serialization import deserialize

        layers = config_.get("layers")
        if not isinstance(layers, (list, tuple)):
            raise ValueError(
                "`Pipeline` config must contain a `layers` key mapping to a list of serialized "
                f"layers. Received config with layers={layers}."
            )
        return cls(layers=[deserialize(entry) for entry in layers], name=config_.get("name"))
