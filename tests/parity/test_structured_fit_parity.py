"""fit with losses given in a structure, against Keras with the same weights: outputs as a
tuple, a namedtuple, a dict and a dict nested deeper (the same tensor at several places), a
loss over a branch of the outputs beside losses on its leaves, several losses for one output
(a crossentropy on a sigmoid among them: from its logits, as Keras's fit), and a model whose
`compute_loss` passes the outputs on as a list of two.

Compared: the History (keys and every value) and the weights after two epochs of SGD
(shuffle=False, batches of 4), in float64 on both sides: agreement to 1e-10 relative, the same
arithmetic up to rounding."""

from collections import namedtuple

import numpy as np
import pytest

import minikeras

RTOL = 1e-10
Pair = namedtuple("Pair", ["y1", "y2"])


def branch_loss(lib):
    """Σ over the leaves of the branch of the mean absolute error, per sample."""

    def loss_fn(y_true, y_pred):
        pairs = zip(lib.tree.flatten(y_true), lib.tree.flatten(y_pred))
        return sum(lib.losses.mean_absolute_error(t, p) for t, p in pairs)

    return loss_fn


def three_dense(lib):
    x = lib.Input((3,), name="x")
    ys = [lib.layers.Dense(1, name=f"y{i}", activation="sigmoid")(x) for i in (1, 2, 3)]
    return x, ys


def case(lib, name):
    """(model, loss, loss_weights, y given to fit as a function of y1, y2, y3)."""
    x, (y1, y2, y3) = three_dense(lib)
    f = branch_loss(lib)
    if name == "tuple":
        return lib.Model(x, (y1, y2)), [f, (f, f)], None, lambda a, b, c: (a, b)
    if name == "namedtuple_weighted":
        weights = [0.3, Pair(0.7, 1.1)]
        return lib.Model(x, Pair(y1, y2)), [f, Pair(f, f)], weights, lambda a, b, c: Pair(a, b)
    if name == "dict":
        loss = [f, {"a": f, "b": "binary_crossentropy"}]
        return lib.Model(x, {"a": y1, "b": y2}), loss, None, lambda a, b, c: {"a": a, "b": b}
    if name == "deeply_nested":
        outputs = {"a": (y1, y2), "b": {"b1": y1, "b2": y2}, "d": y3}
        loss = {"a": [f, (None, f)], "b": [f, {"b1": "mse"}], "d": f}
        y = lambda a, b, c: {"a": (a, b), "b": {"b1": a, "b2": b}, "d": c}  # noqa: E731
        return lib.Model(x, outputs), loss, None, y
    if name == "several_losses_for_a_sigmoid":
        loss = ["mean_squared_error", ["mean_squared_error", "binary_crossentropy"]]
        return lib.Model(x, [y1, y2]), loss, [0.5, [1.0, 2.0]], lambda a, b, c: (a, b)
    raise KeyError(name)


def data():
    rng = np.random.default_rng(5)
    x = rng.random((12, 3))
    y1, y2, y3 = (
        rng.random((12, 1)),
        rng.integers(0, 2, (12, 1)).astype("float64"),
        rng.random((12, 1)),
    )
    return x, (y1, y2, y3)


@pytest.fixture
def float64(keras):
    keras.config.set_floatx("float64")
    keras.config.set_dtype_policy("float64")  # (the autouse fixture pins it to float32)
    minikeras.config.set_floatx("float64")
    return keras


CASES = ["tuple", "namedtuple_weighted", "dict", "deeply_nested", "several_losses_for_a_sigmoid"]


@pytest.mark.parametrize("name", CASES)
def test_fit_as_keras(float64, name):
    keras = float64
    x, ys = data()
    results, weights = [], None
    for lib in (keras, minikeras):
        model, loss, loss_weights, pack = case(lib, name)
        if weights is None:
            weights = model.get_weights()
        model.set_weights(weights)
        model.compile(optimizer="sgd", loss=loss, loss_weights=loss_weights)
        history = model.fit(x, pack(*ys), batch_size=4, epochs=2, shuffle=False, verbose=0)
        results.append((history.history, model.get_weights()))
    (k_history, k_weights), (m_history, m_weights) = results
    assert sorted(m_history) == sorted(k_history)
    for key in k_history:
        np.testing.assert_allclose(m_history[key], k_history[key], rtol=RTOL, err_msg=key)
    for mine, theirs in zip(m_weights, k_weights):
        np.testing.assert_allclose(mine, theirs, rtol=RTOL)


def with_own_compute_loss(lib):
    class TwoLossModel(lib.Model):
        def __init__(self):
            inputs = lib.Input(shape=(3,), name="inputs")
            outputs = lib.layers.Dense(1, name="a", activation="sigmoid")(inputs)
            super().__init__(inputs=inputs, outputs=outputs)

        def compute_loss(self, x, y, y_pred, sample_weight=None, **kwargs):
            return super().compute_loss(
                x=x, y=y, y_pred=[y_pred, y_pred], sample_weight=sample_weight, **kwargs
            )

    return TwoLossModel()


def test_own_compute_loss_with_several_losses_as_keras(float64):
    keras = float64
    x, (y1, y2, _) = data()
    results, weights = [], None
    for lib in (keras, minikeras):
        model = with_own_compute_loss(lib)
        if weights is None:
            weights = model.get_weights()
        model.set_weights(weights)
        model.compile(optimizer="sgd", loss=["mean_squared_error", "binary_crossentropy"])
        history = model.fit(x, (y1, y2), batch_size=4, epochs=2, shuffle=False, verbose=0)
        results.append((history.history, model.get_weights()))
    (k_history, k_weights), (m_history, m_weights) = results
    assert sorted(m_history) == sorted(k_history)
    for key in k_history:
        np.testing.assert_allclose(m_history[key], k_history[key], rtol=RTOL, err_msg=key)
    for mine, theirs in zip(m_weights, k_weights):
        np.testing.assert_allclose(mine, theirs, rtol=RTOL)


def test_a_missing_output_key_fails_at_fit_with_keras_error(keras):
    """A loss dict naming a key a dict of outputs lacks: KeyError at fit, weights unchanged."""
    messages = []
    for lib in (keras, minikeras):
        x, (y1, y2, _) = three_dense(lib)
        model = lib.Model(x, {"output_a": y1, "output_b": y2})
        model.compile(optimizer="sgd", loss={"output_a": "mse", "output_c": "mse"})
        before = model.get_weights()
        data_x, (a, b, _) = data()
        with pytest.raises(KeyError) as info:
            model.fit(data_x, (a, b), verbose=0)
        assert all(np.array_equal(p, q) for p, q in zip(before, model.get_weights()))
        messages.append(str(info.value))
    assert messages[1] == messages[0]


@pytest.mark.parametrize("validation", ["split", "data"])
def test_validation_with_structured_labels_as_keras(float64, validation):
    keras = float64
    x, ys = data()
    results, weights = [], None
    for lib in (keras, minikeras):
        model, loss, loss_weights, pack = case(lib, "deeply_nested")
        if weights is None:
            weights = model.get_weights()
        model.set_weights(weights)
        model.compile(optimizer="sgd", loss=loss, loss_weights=loss_weights)
        kwargs = {"validation_split": 0.25}
        if validation == "data":
            kwargs = {"validation_data": (x[8:], pack(*[y[8:] for y in ys]))}
            fit_x, fit_y = x[:8], pack(*[y[:8] for y in ys])
        else:
            fit_x, fit_y = x, pack(*ys)
        history = model.fit(fit_x, fit_y, batch_size=4, shuffle=False, verbose=0, **kwargs)
        results.append(history.history)
    assert sorted(results[1]) == sorted(results[0])
    for key in results[0]:
        np.testing.assert_allclose(results[1][key], results[0][key], rtol=RTOL, err_msg=key)


def test_sample_weights_reach_every_term_as_keras(float64):
    """One weight per sample weighs each term (Keras fails on a branch loss with weights: its
    wrapper cannot take them, so the case has losses on leaves only)."""
    keras = float64
    x, ys = data()
    sample_weight = np.linspace(0.5, 2.0, len(x))
    results, weights = [], None
    for lib in (keras, minikeras):
        model, loss, loss_weights, pack = case(lib, "several_losses_for_a_sigmoid")
        if weights is None:
            weights = model.get_weights()
        model.set_weights(weights)
        model.compile(optimizer="sgd", loss=loss, loss_weights=loss_weights)
        history = model.fit(
            x, pack(*ys), sample_weight=sample_weight, batch_size=4, shuffle=False, verbose=0
        )
        results.append((history.history, model.get_weights()))
    (k_history, k_weights), (m_history, m_weights) = results
    assert sorted(m_history) == sorted(k_history)
    for key in k_history:
        np.testing.assert_allclose(m_history[key], k_history[key], rtol=RTOL, err_msg=key)
    for mine, theirs in zip(m_weights, k_weights):
        np.testing.assert_allclose(mine, theirs, rtol=RTOL)
