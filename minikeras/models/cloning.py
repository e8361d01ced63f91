"""`clone_model`: a new model of the same architecture, its layers made afresh from their
configs (new weights, no compile), as Keras's `keras.models.clone_model`.

>>> from minikeras import Sequential, layers, models
>>> model = Sequential([layers.Input(shape=(3,)), layers.Dense(2, name="d")])
>>> clone = models.clone_model(model)
>>> clone.get_layer("d") is model.get_layer("d"), clone.get_layer("d").kernel.shape
(False, (3, 2))
"""


def clone_model(model, input_tensors=None, clone_function=None, call_function=None, **kwargs):
    """The model rebuilt from its config: same layers and connections, new weights.

    A subclass of Model is rebuilt by its own `from_config(get_config())`, as Keras does; the
    arguments that rewire or replace layers (`input_tensors`, `clone_function`,
    `call_function`) are not supported."""
    if input_tensors is not None or clone_function is not None or call_function is not None:
        raise NotImplementedError(
            "clone_model(input_tensors=..., clone_function=..., call_function=...) is not "
            "supported by minikeras: it clones a model from its config only"
        )
    if kwargs:
        raise ValueError(f"Unrecognized keyword arguments passed to clone_model: {kwargs}")
    return type(model).from_config(model.get_config())
