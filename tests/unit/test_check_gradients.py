"""minikeras.testing.check_gradients: the gradient checker learners use on their own layers."""

import numpy as np
import pytest

import minikeras as mk
from minikeras import testing
from minikeras.layers import Dense, Input, Layer
from minikeras.testing import gradient_check


class Scale(Layer):
    """y = x ⊙ w, a learner's layer with one weight kept as an attribute."""

    def build(self, input_shape):
        self.w = self.add_weight((input_shape[-1],), "ones", name="w")
        super().build(input_shape)

    def call(self, x, training=False):
        self.x = x
        return x * self.w

    def backward(self, dy):
        self.grads = [np.sum(dy * self.x, axis=0)]  # dw = Σ_batch dy ⊙ x
        return dy * self.w  # dx = dy ⊙ w


class WrongScale(Scale):
    def backward(self, dy):
        self.grads = [np.sum(dy * self.x, axis=0) * 1.01]  # 1% off
        return dy * self.w


def data(rows=6, features=3, classes=4, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(rows, features)), np.eye(classes)[rng.integers(0, classes, rows)]


def test_a_correct_custom_layer_passes_and_every_weight_is_reported(capsys):
    x, y = data()
    model = mk.Sequential([Input(shape=(3,)), Scale(), Dense(5, activation="tanh"), Dense(4)])
    worst = testing.check_gradients(model, x, y, loss="mse", tolerance=1e-6)
    assert list(worst) == [
        "scale/w",
        "dense/kernel",
        "dense/bias",
        "dense_1/kernel",
        "dense_1/bias",
    ]
    assert max(worst.values()) < 1e-6
    printed = capsys.readouterr().out
    assert "worst rel. error" in printed and "scale/w" in printed


def test_a_wrong_backward_is_caught():
    x, y = data()
    model = mk.Sequential([Input(shape=(3,)), WrongScale(), Dense(4)])
    worst = testing.check_gradients(model, x, y, loss="mse", verbose=False)
    assert 5e-3 < worst["wrong_scale/w"] < 2e-2  # the 1% error, measured
    assert worst["dense/kernel"] < 1e-6
    with pytest.raises(AssertionError, match="wrong_scale/w"):
        testing.check_gradients(model, x, y, loss="mse", tolerance=1e-4, verbose=False)


@pytest.mark.parametrize(
    "loss, activation",
    [
        ("categorical_crossentropy", "softmax"),  # the fused logits path, as fit takes it
        ("categorical_crossentropy", "softplus"),  # the clipped, renormalised probabilities
        ("binary_crossentropy", "sigmoid"),
        ("mean_absolute_error", "gelu"),
    ],
)
def test_the_compiled_loss_and_its_fit_path(loss, activation):
    x, y = data(seed=1)
    model = mk.Sequential([Input(shape=(3,)), Dense(6, activation="elu"), Dense(4, activation)])
    model.compile(optimizer="sgd", loss=loss)
    weights = np.random.default_rng(2).random(len(x))
    worst = testing.check_gradients(model, x, y, sample_weight=weights, verbose=False)
    assert max(worst.values()) < 1e-6


def test_the_model_is_left_untouched_and_float32_is_checked_in_float64():
    x, y = data()
    model = mk.Sequential([Input(shape=(3,)), Dense(4, activation="sigmoid")])
    before = model.get_weights()
    worst = testing.check_gradients(model, x, y, loss="mse", verbose=False)
    assert max(worst.values()) < 1e-6  # float32 differences would give ~1e-3
    assert all(w.dtype == np.float32 for w in model.get_weights())
    for old, new in zip(before, model.get_weights()):
        np.testing.assert_array_equal(old, new)
    assert not model.compiled and mk.config.floatx() == "float32"


def test_large_weights_are_sampled(monkeypatch):
    x, y = data(features=30)
    model = mk.Sequential([Input(shape=(30,)), Dense(40, activation="tanh"), Dense(4)])
    seen = []
    monkeypatch.setattr(gradient_check, "_print_report", lambda rows, value: seen.extend(rows))
    testing.check_gradients(model, x, y, loss="mse", max_entries=25)
    checked = {row[0]: (row[2], row[3]) for row in seen}
    assert checked["dense/kernel"] == (25, 1200)
    assert checked["dense/bias"] == (25, 40)
    assert checked["dense_1/bias"] == (4, 4)


def test_a_single_layer_can_be_checked():
    x, y = data(classes=3)
    worst = testing.check_gradients(Scale(), x, y * 2 - 1, verbose=False)
    assert worst["scale/w"] < 1e-6


class TwoDense(Layer):
    """A learner's layer made of two Dense layers (the tape differentiates its call)."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.first = Dense(2, activation="tanh", name="first")
        self.second = Dense(2, name="second")

    def call(self, x):
        return self.second(self.first(x))


def test_weights_of_several_sublayers_are_named_through_them():
    """As Keras's weight paths (two_dense/first/kernel): the two kernels keep apart."""
    x, y = data(classes=2)
    model = mk.Sequential([Input(shape=(3,)), TwoDense(name="two_dense")])
    worst = testing.check_gradients(model, x, y, loss="mse", tolerance=1e-6, verbose=False)
    assert list(worst) == [
        "two_dense/first/kernel",
        "two_dense/first/bias",
        "two_dense/second/kernel",
        "two_dense/second/bias",
    ]


def test_a_model_of_named_inputs_and_two_outputs_is_checked():
    a, b = Input((3,), name="a"), Input((2,), name="b")
    h = Dense(4, activation="tanh")(mk.layers.Concatenate()([a, b]))
    outputs = [Dense(2)(h), Dense(1, activation="sigmoid")(h)]
    model = mk.Model({"a": a, "b": b}, outputs)
    model.compile(optimizer="sgd", loss=["mse", "binary_crossentropy"])
    rng = np.random.default_rng(0)
    x = {"a": rng.normal(size=(5, 3)), "b": rng.normal(size=(5, 2))}
    y = [rng.normal(size=(5, 2)), rng.integers(0, 2, (5, 1)).astype("float32")]
    worst = testing.check_gradients(model, x, y, tolerance=1e-6, verbose=False)
    assert len(worst) == 6  # three Dense layers' kernels and biases
