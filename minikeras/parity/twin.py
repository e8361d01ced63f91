"""The Keras twin of a minikeras model: the same layers, names, weights, loss and optimizer.

>>> from minikeras import Sequential                               # doctest: +SKIP
>>> from minikeras.layers import Dense, Input
>>> model = Sequential([Input(shape=(4,)), Dense(3, activation="relu"), Dense(2)])
>>> model.compile(optimizer="adam", loss="mse")
>>> twin = keras_twin(model)      # a compiled keras.Sequential holding model.get_weights()
"""

from minikeras import activations
from minikeras.parity.keras_env import import_keras


class NoTwin(ValueError):
    """The model holds something Keras has no equivalent of (a custom layer or activation)."""


def _check_activations(model):
    """NoTwin for a layer whose activation is a function of the user's: Keras has no twin."""
    for layer in model.layers:
        activation = getattr(layer, "activation", None)
        if activation is None or isinstance(activation, str):
            continue
        name = activations.serialize(activation)
        if activations.ALL_ACTIVATIONS.get(name, (None,))[0] is not activation:
            raise NoTwin(f"layer {layer.name!r} has a custom activation ({name}): no Keras twin")


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
    """The Keras model equal to a built minikeras Sequential or functional model: Keras builds it
    from minikeras's config (Keras 3's schema: same classes, arguments and names), so any layer
    whose config matches Keras's needs no code here. It takes the same weights and, when
    `model` is compiled, each output's loss, the loss weights, the metrics as given and a fresh
    optimizer of the same class and hyper-parameters."""
    from minikeras.models.sequential import Sequential

    keras = import_keras()
    if not model.built:
        raise ValueError("Build the model (give it an input shape) before making its Keras twin.")
    _check_activations(model)
    cls = keras.Sequential if isinstance(model, Sequential) else keras.Model
    try:
        twin = cls.from_config(model.get_config())
    except (TypeError, ValueError) as error:
        raise NoTwin(f"Keras cannot build {model.name!r} from its config: {error}") from error
    twin.set_weights(model.get_weights())
    if compile and model.compiled:
        losses = [spec.loss and keras_loss(spec.loss) for spec in model.output_specs]
        twin.compile(
            optimizer=keras_optimizer(model.optimizer),
            loss=losses[0] if len(losses) == 1 else losses,
            loss_weights=model.loss_weights,
            metrics=model._compile_config["metrics"],
        )
    return twin


functional_twin = keras_twin  # one twin for every kind of model
