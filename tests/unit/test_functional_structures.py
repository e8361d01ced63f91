"""Functional models whose inputs are not one list of Inputs: nested structures, optional
inputs, and models cut out of another between intermediate tensors.

Values are checked against the same layers called by hand, and gradients against central
differences in float64 (`minikeras.testing.check_gradients`, whose default tolerance is derived
in its docstring). What Keras does with the same data is checked in
tests/parity/test_functional_inputs_parity.py.
"""

import numpy as np
import pytest

import minikeras
from minikeras import Model
from minikeras.layers import Dense, Input, Layer
from minikeras.models import model_from_json
from minikeras.testing import check_gradients


class AddIfGiven(Layer):
    """x + y, or x when y is None."""

    def call(self, x, y=None):
        return x if y is None else x + y

    def compute_output_shape(self, shape):
        return shape


def optional_model():
    i1, i2 = Input((2,), name="i1"), Input((2,), name="i2", optional=True)
    return Model({"i1": i1, "i2": i2}, Dense(1, name="out")(AddIfGiven()(i1, i2)))


def test_an_optional_input_left_out_in_predict_and_fit():
    model = optional_model()
    x = np.random.default_rng(0).normal(size=(6, 2))
    kernel, bias = model.get_layer("out").get_weights()
    expected = x @ kernel + bias  # (6, 2)@(2, 1): the Dense alone, nothing added
    # the model computes in float32 (x is cast on the way in), the expectation in float64
    np.testing.assert_allclose(
        model.predict({"i1": x, "i2": None}, verbose=0), expected, rtol=1e-5, atol=1e-6
    )
    model.compile(optimizer="sgd", loss="mse")
    history = model.fit({"i1": x, "i2": None}, np.zeros((6, 1)), epochs=2, verbose=0)
    assert history.history["loss"][1] < history.history["loss"][0]


def test_none_for_a_required_input_changes_nothing():
    x = Input((3,), name="x")
    model = Model(x, Dense(1)(x))
    model.compile(optimizer="sgd", loss="mse")
    before = model.get_weights()
    with pytest.warns(UserWarning, match="structure of `inputs`"):  # a list for one Input
        with pytest.raises(ValueError, match="The input 'x' is not optional"):
            model.fit([None], np.ones((4, 1)), verbose=0)
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_a_step_with_an_optional_input_left_out_is_the_dense_step():
    """Left out, the optional input adds nothing: one SGD step moves the Dense exactly as it
    moves the same Dense alone (whose backward is checked against central differences
    elsewhere)."""
    minikeras.config.set_floatx("float64")
    model = optional_model()
    x = Input((2,))
    alone = Model(x, Dense(1)(x))
    alone.set_weights(model.get_weights())
    data = np.random.default_rng(1).normal(size=(4, 2))
    for m, inputs in ((model, {"i1": data, "i2": None}), (alone, data)):
        m.compile(optimizer="sgd", loss="mse")
        m.train_on_batch(inputs, np.ones((4, 1)))
    for a, b in zip(model.get_weights(), alone.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-12)


def test_a_model_cut_between_intermediate_tensors():
    minikeras.config.set_floatx("float64")
    x = Input((3,), name="x")
    d1, d2, d3 = Dense(4, name="d1"), Dense(5, name="d2", activation="tanh"), Dense(2, name="d3")
    h1 = d1(x)
    h2 = d2(h1)
    full = Model(x, d3(h2))
    tail = Model(h1, full.output)
    assert [layer.name for layer in tail.layers][1:] == ["d2", "d3"]
    h = np.random.default_rng(2).normal(size=(3, 4))
    expected = d3(d2(h))  # the same layers, called one by one
    np.testing.assert_allclose(tail.predict(h, verbose=0), expected, rtol=1e-12)
    check_gradients(tail, h, np.ones((3, 2)), verbose=False)
    # the full model is unchanged by the cut
    assert [layer.name for layer in full.layers][1:] == ["d1", "d2", "d3"]


def test_nested_inputs_survive_json():
    a = Input((3,), name="a")
    model = Model([[a]], Dense(2)(a))
    text = model.to_json()
    assert model_from_json(text).to_json() == text


def test_nested_dict_model_saved_and_loaded(tmp_path):
    i1, i2 = Input((1,), name="1"), Input((2,), name="2")
    model = Model({"1": i1, "more": {"2": i2}}, {"1": Dense(1)(i1), "more": {"2": Dense(2)(i2)}})
    x = {"1": np.ones((2, 1)), "more": {"2": np.ones((2, 2))}}
    model.save(tmp_path / "nested.keras")
    loaded = minikeras.saving.load_model(tmp_path / "nested.keras")
    before, after = model(x), loaded(x)
    np.testing.assert_array_equal(before["1"], after["1"])
    np.testing.assert_array_equal(before["more"]["2"], after["more"]["2"])
