"""CompileLoss without Keras: which compile() losses go to it, the terms it finds in a
structure and their names, and its gradient against central differences (float64)."""

from collections import namedtuple

import numpy as np
import pytest

from minikeras import Input, Model, layers, ops
from minikeras.models import outputs
from minikeras.trainers import CompileLoss


@pytest.mark.parametrize(
    "loss, expected",
    [
        ("mse", False),
        (["mse", "mae"], False),
        (["mse", ["mae"]], False),  # a list of one is that output's loss
        ({"a": "mse", "b": ["mae"]}, False),
        (["mse", ["mse", "mae"]], True),  # two losses for output b
        (["mse"], True),  # fewer losses than outputs
        ([lambda t, p: t, {"a": "mse", "b": "mae"}], True),  # a loss over the dict of outputs
        ({"a": "mse", "c": "mae"}, True),  # a key the outputs lack: CompileLoss's KeyError
    ],
)
def test_which_losses_need_compile_loss(loss, expected):
    struct = {"a": object(), "b": object()}
    assert outputs.needs_compile_loss(loss, struct, ["a", "b"]) is expected


def test_terms_and_names_in_a_nested_structure():
    Pair = namedtuple("Pair", ["p", "q"])
    y = {"a": Pair(np.zeros((2, 1)), np.ones((2, 1))), "d": np.zeros((2, 1))}
    branch = lambda t, p: ops.mean(ops.abs(p.p - t.p), axis=-1)  # noqa: E731
    loss = CompileLoss(
        {"a": [branch, Pair(None, "mse")], "d": "mae"}, output_names=["y1", "y2", "y3"]
    )
    loss.build(y, y)
    terms = [(t.path, t.name) for t in loss.flat_losses]
    assert terms == [(("a",), "a"), (("a", 1), "a/y2"), (("d",), "d")]
    assert [m.name for m in loss.metrics] == ["a_loss", "a/y2_loss", "d_loss"]


def test_gradients_against_central_differences(float64):
    # the losses compute in floatx (as Keras's): float64 here, for the differences
    rng = np.random.default_rng(0)
    y_true = [rng.random((3, 2)), rng.random((3, 2))]
    y_pred = [rng.random((3, 2)), rng.random((3, 2))]
    branch = lambda t, p: ops.sum(ops.square(p[0] - t[0]) * p[1], axis=-1)  # noqa: E731
    loss = CompileLoss([branch, ["mse", "huber"]], loss_weights=[0.5, [2.0, 3.0]])
    value, grads, _ = loss.value_and_grads(y_true, y_pred)
    eps = 1e-6
    for leaf, grad in zip(range(2), grads):
        numeric = np.zeros_like(grad)
        for index in np.ndindex(grad.shape):
            plus = [p.copy() for p in y_pred]
            minus = [p.copy() for p in y_pred]
            plus[leaf][index] += eps
            minus[leaf][index] -= eps
            f_plus = float(loss(y_true, plus))
            f_minus = float(loss(y_true, minus))
            numeric[index] = (f_plus - f_minus) / (2 * eps)
        # central differences in float64: error O(eps²) plus rounding O(1e-16/eps)
        np.testing.assert_allclose(grad, numeric, rtol=1e-7, atol=1e-9)
    assert np.isfinite(value)


def test_several_losses_on_a_model_output_are_trained():
    x = Input((3,))
    model = Model(x, [layers.Dense(1, name="a")(x), layers.Dense(1, name="b")(x)])
    model.compile("sgd", loss=["mse", ["mse", "mae"]])
    data = np.random.default_rng(1).random((8, 3))
    history = model.fit(data, (data[:, :1], data[:, 1:2]), batch_size=4, verbose=0)
    # b has two terms, both named by it (the second's tracker is the one the logs keep)
    assert sorted(history.history) == ["a_loss", "b_loss", "loss"]
