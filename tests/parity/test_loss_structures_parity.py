"""compile(loss=...) in the structures Keras's own model tests use: an output's loss in a list of
one (`["mse", ["bce"]]`, `{"out": ["bce"]}`, `["mse"]`), several losses for one output, fewer
losses than outputs (the others untrained), and a dict that leaves an output of a dict-output
model without a loss. The history's keys and values equal Keras's with the same
weights (float32: 1e-6 relative, one epoch of SGD on a 3-input model)."""

import numpy as np
import pytest

import minikeras

CASES = {
    "nested_list": ("list", ["mean_squared_error", ["binary_crossentropy"]]),
    "dict_of_lists": (
        "dict",
        {"output_a": ["mean_squared_error"], "output_b": ["binary_crossentropy"]},
    ),
    "dict_leaving_one_out": ("dict", {"output_b": ["binary_crossentropy"]}),
    "single_in_list": ("single", ["mean_squared_error"]),
    "two_losses_one_output": ("single", [["mean_squared_error", "mean_absolute_error"]]),
    "several_losses_for_output_b": (
        "list",
        ["mean_squared_error", ["mean_squared_error", "binary_crossentropy"]],
    ),
    "fewer_losses_than_outputs": ("list", ["mean_squared_error"]),
}


def build(lib, kind):
    inputs = lib.Input((3,))
    a = lib.layers.Dense(1, name="output_a")(inputs)
    b = lib.layers.Dense(1, name="output_b", activation="sigmoid")(inputs)
    outputs = {"list": [a, b], "dict": {"output_a": a, "output_b": b}, "single": a}[kind]
    return lib.Model(inputs, outputs)


@pytest.mark.parametrize("case", list(CASES))
def test_history_as_keras(keras, case):
    kind, loss = CASES[case]
    rng = np.random.default_rng(0)
    x = rng.random((8, 3)).astype("float32")
    y1 = rng.random((8, 1)).astype("float32")
    y2 = rng.integers(0, 2, (8, 1)).astype("float32")
    y = {"list": (y1, y2), "dict": {"output_a": y1, "output_b": y2}, "single": y1}[kind]
    histories, weights = [], None
    for lib in (keras, minikeras):
        model = build(lib, kind)
        if weights is None:
            weights = model.get_weights()
        model.set_weights(weights)
        model.compile("sgd", loss=loss)
        histories.append(model.fit(x, y, batch_size=2, epochs=1, shuffle=False, verbose=0).history)
    assert sorted(histories[1]) == sorted(histories[0])
    for key in histories[0]:
        np.testing.assert_allclose(histories[1][key], histories[0][key], rtol=1e-6)
