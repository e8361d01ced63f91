"""The Keras twin of a minikeras model: the same layers, names, weights, loss and optimizer.

>>> from minikeras import Sequential                               # doctest: +SKIP
>>> from minikeras.layers import Dense, Input
>>> model = Sequential([Input(shape=(4,)), Dense(3, activation="relu"), Dense(2)])
>>> model.compile(optimizer="adam", loss="mse")
>>> twin = keras_twin(model)      # a compiled keras.Sequential holding model.get_weights()
"""

from minikeras import activations
from minikeras.layers.activation import Activation
from minikeras.layers.dense import Dense
from minikeras.layers.dropout import Dropout
from minikeras.layers.flatten import Flatten
from minikeras.parity.keras_env import import_keras


class NoTwin(ValueError):
    """The model holds something Keras has no equivalent of (a custom layer or activation)."""


def _activation_name(layer):
    name = activations.serialize(layer.activation)
    if activations.ALL_ACTIVATIONS.get(name, (None,))[0] is not layer.activation:
        raise NoTwin(f"layer {layer.name!r} has a custom activation ({name}): Keras has no twin")
    return name


def keras_layer(layer):
    """The Keras layer equal to a minikeras layer (same class, arguments and name)."""
    keras = import_keras()
    dtype = layer.dtype
    if isinstance(layer, Dense):
        return keras.layers.Dense(
            layer.units,
            activation=_activation_name(layer),
            use_bias=layer.use_bias,
            name=layer.name,
            dtype=dtype,
        )
    if isinstance(layer, Activation):
        return keras.layers.Activation(_activation_name(layer), name=layer.name, dtype=dtype)
    if isinstance(layer, Dropout):
        return keras.layers.Dropout(layer.rate, name=layer.name, dtype=dtype)
    if isinstance(layer, Flatten):
        return keras.layers.Flatten(name=layer.name, dtype=dtype)
    raise NoTwin(f"layer {layer.name!r} ({type(layer).__name__}) has no Keras twin here")


def keras_loss(loss, **overrides):
    """The Keras loss object with minikeras's class and config (`overrides` change the config)."""
    keras = import_keras()
    config = {**loss.get_config(), **overrides}
    return keras.losses.deserialize({"class_name": type(loss).__name__, "config": config})


def keras_optimizer(optimizer):
    """A fresh Keras optimizer with minikeras's class and hyper-parameters (no state)."""
    keras = import_keras()
    return keras.optimizers.deserialize(
        {"class_name": type(optimizer).__name__, "config": optimizer.get_config()}
    )


def keras_twin(model, compile=True):
    """A keras.Sequential equal to the (built) minikeras Sequential `model`, same weights; compiled
    with the same loss, optimizer (fresh state) and metrics when `model` is compiled. A
    functional model's twin is a keras.Model (see `functional_twin`)."""
    from minikeras.models.functional import Functional

    keras = import_keras()
    if isinstance(model, Functional):
        return functional_twin(model, compile)
    if not model.built:
        raise ValueError("Build the model (give it an input shape) before making its Keras twin.")
    twin = keras.Sequential(
        [keras.Input(shape=model.input_shape[1:], dtype=model.dtype)]
        + [keras_layer(layer) for layer in model.layers],
        name=model.name,
    )
    twin.set_weights(model.get_weights())
    if compile and model.compiled:
        twin.compile(
            optimizer=keras_optimizer(model.optimizer),
            loss=keras_loss(model.loss),
            metrics=list(model.compiled_metrics),
        )
    return twin


def functional_twin(model, compile=True):
    """The keras.Model of a minikeras functional model: Keras builds the same graph from
    minikeras's config (Keras 3's schema, same layer names), takes the same weights, and is
    compiled with each output's loss, the loss weights and metrics as given, and a fresh
    optimizer of the same class and hyper-parameters."""
    keras = import_keras()
    for layer in model.layers:
        if hasattr(layer, "activation"):
            _activation_name(layer)  # a custom activation has no Keras twin: NoTwin names it
    twin = keras.Model.from_config(model.get_config())
    twin.set_weights(model.get_weights())
    if compile and model.compiled:
        losses = [spec.loss and keras_loss(spec.loss) for spec in model.output_specs]
        twin.compile(
            optimizer=keras_optimizer(model.optimizer),
            loss=losses[0] if len(losses) == 1 else losses,
            loss_weights=model.loss_weights,
            metrics=model.compiled_metrics,
        )
    return twin
