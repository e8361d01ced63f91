"""Keywords given to a layer's call on symbolic tensors (`training=False`, `mask=None`) are
kept on the node, as Keras keeps them: its config writes them, and a model read from that
config calls the layer with them again. In fit, evaluate and predict the model's own mode
still wins, as in Keras.

Tolerances: configs are compared as JSON, exactly; a fit in float64 within 1e-9 relative
(the float64 bound of the parity property tests: SGD steps differ by rounding only).
"""

import json

import numpy as np

import minikeras


def graph(lib):
    inner_in = lib.Input((4,), name="inner_in")
    inner = lib.Model(inner_in, lib.layers.Dense(4, name="inner_dense")(inner_in), name="inner")
    inputs = lib.Input((4,), name="inputs")
    x = inner(inputs, training=False)
    x = lib.layers.Dropout(0.9, name="drop")(x, training=False)
    x = lib.layers.BatchNormalization(name="bn")(x, training=False)
    x = lib.layers.Dense(2, name="out")(x, training=None)
    return lib.Model(inputs, x, name="kwargs_model")


def as_json(model):
    return json.loads(json.dumps(model.get_config()))


def test_call_keywords_are_written_in_the_config_as_keras_writes_them(keras):
    ours, theirs = graph(minikeras), graph(keras)
    assert as_json(ours) == as_json(theirs)
    # and read back from Keras's config, minikeras writes the same again
    assert as_json(minikeras.Model.from_config(as_json(theirs))) == as_json(theirs)


def test_the_model_mode_wins_over_a_node_training_keyword_in_fit(keras):
    """BatchNormalization called with training=False still normalises by the batch in fit:
    Keras's functional call sets the model's `training` over the node's (`operation_fn`)."""
    from minikeras.parity.keras_env import floatx

    def bn_graph(lib):
        inputs = lib.Input((4,))
        x = lib.layers.Dense(4)(inputs)
        x = lib.layers.BatchNormalization()(x, training=False)
        return lib.Model(inputs, lib.layers.Dense(2)(x))

    rng = np.random.default_rng(3)
    x, y = rng.normal(size=(16, 4)), rng.normal(size=(16, 2))
    with floatx("float64"):
        ours, theirs = bn_graph(minikeras), bn_graph(keras)
        theirs.set_weights(ours.get_weights())
        for lib, model in ((minikeras, ours), (keras, theirs)):
            model.compile(optimizer=lib.optimizers.SGD(0.05), loss="mse")
        fit = dict(epochs=2, batch_size=8, shuffle=False, verbose=0)
        ours_loss = ours.fit(x, y, **fit).history["loss"]
        theirs_loss = theirs.fit(x, y, **fit).history["loss"]
        np.testing.assert_allclose(ours_loss, theirs_loss, rtol=1e-9)
        for a, b in zip(ours.get_weights(), theirs.get_weights()):
            np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)
