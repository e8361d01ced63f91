"""A layer of yours with a hand-written `backward` that gets a shape wrong: a ValueError naming
the layer, what it gave and what was expected, raised before any weight changes."""

import numpy as np
import pytest

import minikeras
from minikeras import layers


class Scale(layers.Layer):
    """y = x·k (elementwise, k per feature); its backward can be made wrong on purpose."""

    def __init__(self, wrong=None, **kwargs):
        super().__init__(**kwargs)
        self.wrong = wrong

    def build(self, input_shape):
        self.k = self.add_weight(shape=(input_shape[-1],), initializer="ones", name="k")

    def call(self, x):
        self.x = x
        return x * self.k.value

    def backward(self, dy):
        dk = np.sum(dy * self.x, axis=0)  # dL/dk = Σ_batch dy·x
        dx = dy * self.k.value  # dL/dx = dy·k
        self.grads = {
            None: [dk],
            "grad shape": [np.append(dk, 0.0)],
            "grad count": [dk, dk],
        }.get(self.wrong, [dk])
        return dx[:, :1] if self.wrong == "dx shape" else dx


def fit_with(wrong):
    model = minikeras.Sequential(
        [minikeras.Input((3,)), layers.Dense(3), Scale(wrong, name="scale"), layers.Dense(1)]
    )
    model.compile(optimizer="sgd", loss="mse")
    before = [w.copy() for w in model.get_weights()]
    x, y = np.ones((4, 3), "float32"), np.ones((4, 1), "float32")
    return model, before, lambda: model.fit(x, y, epochs=1, verbose=0)


@pytest.mark.parametrize(
    "wrong, message",
    [
        ("grad shape", r"Layer 'scale' \(Scale\).*weight 'k' the shape \(4,\); expected .*\(3,\)"),
        ("grad count", r"Layer 'scale' \(Scale\).*set 2 gradients.*expected one per .*, 1"),
        ("dx shape", r"Layer 'scale' \(Scale\).*dL/dx of shape \(4, 1\); expected .*\(4, 3\)"),
    ],
)
def test_a_wrong_backward_is_named_before_any_weight_changes(wrong, message):
    model, before, fit = fit_with(wrong)
    with pytest.raises(ValueError, match=message):
        fit()
    for w, w0 in zip(model.get_weights(), before):
        np.testing.assert_array_equal(w, w0)


def test_a_right_backward_trains():
    model, before, fit = fit_with(None)
    fit()
    assert not np.array_equal(model.get_weights()[2], before[2])  # k moved
