"""The model API against Keras: `clone_model` with a `call_function` gives the same layers
(classes, names, order) as Keras's clone; the optimizer's and the metrics' variables have
Keras's paths (what `get_state_tree` and `set_state_tree` address)."""

import minikeras as mk


def test_matches_keras_layer_structure(keras):
    """With a call_function adding Dropout, Keras's clone and minikeras's have the same layers,
    classes and names in the same order."""

    def build(lib):
        inputs = lib.layers.Input(shape=(3,), name="x")
        h = lib.layers.Dense(2, name="a")(inputs)
        model = lib.Model(inputs, lib.layers.Dense(2, name="b")(h))

        def call_function(layer, *args, **kwargs):
            out = layer(*args, **kwargs)
            if isinstance(layer, lib.layers.Dense):
                out = lib.layers.Dropout(0.5, name=f"drop_{layer.name}")(out)
            return out

        clone = lib.models.clone_model(model, call_function=call_function)
        return [(type(layer).__name__, layer.name) for layer in clone.layers]

    assert build(mk) == build(keras)


def test_optimizer_variable_paths_match_keras(keras):
    def paths(lib):
        x = lib.layers.Input(shape=(3,))
        model = lib.Model(x, lib.layers.Dense(2, name="out")(x))
        model.compile(optimizer=lib.optimizers.RMSprop(momentum=0.5), loss="mse")
        model.optimizer.build(model.trainable_variables)
        return [v.path for v in model.optimizer.variables], [
            v.path for v in model.metrics_variables
        ]

    assert paths(mk) == paths(keras)
