"""A Sequential's InputLayer, given or made by its first build, fixes its input shape, in
minikeras as in Keras: the same calls run on both, and what each does is compared (the
exception's type and message, or the input shapes its config records)."""

import numpy as np
import pytest

import minikeras


def outcome(call):
    """What `call()` gives, or its exception's type and message, to compare across libraries."""
    try:
        return call()
    except Exception as error:  # any type: both libraries must raise the same one
        return type(error).__name__, str(error)


def input_shapes(model):
    return [entry["config"].get("batch_shape") for entry in model.get_config()["layers"]]


def built_then_rebuilt(lib, make_input_layer):
    layers = [lib.layers.Dense(2, name="dense")]
    # named: an automatic name would follow each library's own counter of models made so far
    model = lib.Sequential(
        ([lib.Input(shape=(3,))] if make_input_layer else []) + layers, name="sequential"
    )
    steps = [
        lambda: model.build((None, 3)),
        lambda: model.build((None, 5)),  # another shape: refused, nothing changes
        lambda: input_shapes(model),
        lambda: model.pop() and None,
        lambda: model.add(lib.layers.Dense(4, name="dense_4")),  # built again on its InputLayer
        lambda: (model.built, input_shapes(model)),
    ]
    return [outcome(step) for step in steps]


def built_from_data_then_grown(lib):
    model = lib.Sequential([lib.layers.Dense(2, name="dense")], name="sequential")
    steps = [
        lambda: model.predict(np.ones((4, 3)), verbose=0).shape,  # the InputLayer: (4, 3)
        lambda: model.add(lib.layers.Dense(1, name="dense_1")),
        lambda: model.built,
        lambda: model.build((None, 3)),
        lambda: input_shapes(model),
    ]
    return [outcome(step) for step in steps]


@pytest.mark.parametrize("make_input_layer", [False, True], ids=["built", "Input"])
def test_a_sequential_is_built_again_only_on_its_input_shape(keras, make_input_layer):
    ours = built_then_rebuilt(minikeras, make_input_layer)
    theirs = built_then_rebuilt(keras, make_input_layer)
    assert ours == theirs
    assert ours[1][0] == "ValueError" and "(None, 5)" in ours[1][1]  # the check is exercised


def test_a_sequential_built_on_a_batch_keeps_that_input_shape(keras):
    ours, theirs = built_from_data_then_grown(minikeras), built_from_data_then_grown(keras)
    assert ours == theirs
    assert ours[2] is True and ours[4] == [(4, 3), None, None]
