"""The model and its training loop: compile, fit, evaluate, predict, the *_on_batch methods,
summary, configs and weights, checked against NumPy written out here and Keras's behaviour.

Reference numbers come from independent NumPy (a linear model trained by SGD, a softmax
crossentropy written out) or, where marked, from running Keras 3.15.1 (TensorFlow 2.21).
"""

import io
import warnings
from contextlib import redirect_stdout

import numpy as np
import pytest
import strategies as sts
from gradcheck import assert_gradient_close, numerical_gradient
from hypothesis import given, settings

import minikeras
from minikeras import Sequential, losses, optimizers
from minikeras.layers import Activation, Dense, Dropout, Flatten, Input, Layer
from minikeras.utils import set_random_seed, to_categorical

RNG = np.random.default_rng(1234)


# ------------------------------------------------------------------ helpers
def linear_model(features=3, lr=0.1, metrics=None, loss="mse"):
    """x·W + b, weights set to known values, SGD(lr) and MSE: the reference is easy to write."""
    model = Sequential([Input(shape=(features,)), Dense(1)])
    model.set_weights([np.linspace(-0.5, 0.5, features).reshape(features, 1), np.array([0.1])])
    model.compile(optimizer=optimizers.SGD(learning_rate=lr), loss=loss, metrics=metrics)
    return model


def mse_and_grads(x, y, w, b, sample_weight=None):
    """The batch MSE loss Σ sᵢ·(ŷᵢ − yᵢ)² / N and its gradients, by hand (float64)."""
    err = x @ w + b - y  # (N, 1)
    s = np.ones(len(x)) if sample_weight is None else sample_weight
    loss = np.sum(s * err[:, 0] ** 2) / len(x)
    dpred = 2 * s[:, None] * err / len(x)
    return loss, x.T @ dpred, dpred.sum(axis=0)


def data(n=10, features=3, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, features)), rng.normal(size=(n, 1))


def tutorial_model():
    model = Sequential()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # input_dim: Keras warns too
        model.add(Dense(64, activation="relu", input_dim=784))
    model.add(Dense(10, activation="softmax"))
    return model


def softmax_xent(z, y):
    """Per-sample crossentropy from logits, written out: logsumexp(z) − Σ y·z."""
    m = z.max(axis=1, keepdims=True)
    lse = m[:, 0] + np.log(np.exp(z - m).sum(axis=1))
    return lse - np.sum(y * z, axis=1)


class Recorder(Layer):
    """Passes data through, remembering the first feature of every training batch it sees."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.batches = []

    def call(self, x, training=False):
        if training:
            self.batches.append(x[:, 0].copy())
        return x

    def backward(self, dy):
        self.grads = []
        return dy


def ids_model(n_features=2):
    """A model whose Recorder sees the sample ids put in feature 0."""
    recorder = Recorder()
    model = Sequential([Input(shape=(n_features,)), recorder, Dense(1)])
    model.compile(optimizer=optimizers.SGD(learning_rate=0.0), loss="mse")
    return model, recorder


# ------------------------------------------------------------------ building and describing
# Keras 3.15.1's summary of the tutorial model (docs: ../shared/KERAS-FACTS.md)
KERAS_TUTORIAL_SUMMARY = """\
Model: "sequential"
┏━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━┓
┃ Layer (type)                    ┃ Output Shape           ┃       Param # ┃
┡━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━┩
│ dense (Dense)                   │ (None, 64)             │        50,240 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ dense_1 (Dense)                 │ (None, 10)             │           650 │
└─────────────────────────────────┴────────────────────────┴───────────────┘
 Total params: 50,890 (198.79 KB)
 Trainable params: 50,890 (198.79 KB)
 Non-trainable params: 0 (0.00 B)"""


def test_summary_prints_keras_table():
    model = tutorial_model()
    lines = []
    model.summary(print_fn=lines.append)
    assert "\n".join(lines).rstrip() == KERAS_TUTORIAL_SUMMARY
    out = io.StringIO()
    with redirect_stdout(out):
        model.summary()
    assert out.getvalue().rstrip() == KERAS_TUTORIAL_SUMMARY


# Keras 3.15.1, run for this test: after compile("adam", ...) and one fit step the summary adds
# the optimizer's variables; the step counter is an int64, so 156 params take 628 bytes, not 624.
KERAS_SUMMARY_TAIL_AFTER_FIT = """\
 Total params: 233 (936.00 B)
 Trainable params: 77 (308.00 B)
 Non-trainable params: 0 (0.00 B)
 Optimizer params: 156 (628.00 B)"""
KERAS_UNBUILT_ROW = "│ dense_2 (Dense)                 │ ?                      │   0 (unbuilt) │"


def test_summary_after_training_and_before_building_as_keras():
    model = Sequential(
        [
            Input(shape=(4, 3)),
            Flatten(),
            Dense(5, activation="relu"),
            Dropout(0.2),
            Dense(2),
            Activation("softmax"),
        ]
    )
    model.compile("adam", "categorical_crossentropy")
    model.fit(np.ones((4, 4, 3)), np.eye(2)[[0, 1, 0, 1]], verbose=0)
    lines = []
    model.summary(print_fn=lines.append)
    text = "\n".join(lines).rstrip()
    assert text.endswith(KERAS_SUMMARY_TAIL_AFTER_FIT)
    assert "│ flatten (Flatten)               │ (None, 12)             │             0 │" in text
    unbuilt = Sequential([Dense(3), Dense(2)], name="unbuilt")
    lines = []
    unbuilt.summary(print_fn=lines.append)
    assert KERAS_UNBUILT_ROW in "\n".join(lines)


def test_model_with_input_shape_is_built_at_once():
    model = tutorial_model()
    assert model.built
    assert model.count_params() == 50_890
    assert [w.shape for w in model.get_weights()] == [(784, 64), (64,), (64, 10), (10,)]
    assert [layer.name for layer in model.layers] == ["dense", "dense_1"]


def test_model_without_input_shape_builds_on_first_use():
    model = Sequential([Dense(4), Dense(2)])
    assert not model.built
    with pytest.raises(ValueError, match="count_params"):
        model.count_params()
    out = model.predict(np.ones((3, 5)), verbose=0)
    assert out.shape == (3, 2) and model.count_params() == 5 * 4 + 4 + 4 * 2 + 2


def test_explicit_build():
    model = Sequential([Dense(4)])
    model.build((None, 6))
    assert model.count_params() == 28


def test_set_weights_before_compile_copies_in_keras_order():
    model = tutorial_model()
    new = [np.full(w.shape, i, dtype="float32") for i, w in enumerate(model.get_weights())]
    model.set_weights(new)
    for got, want in zip(model.get_weights(), new):
        np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(model.layers[1].kernel, 2.0)  # layer by layer, kernel first


def test_get_weights_are_copies():
    model = tutorial_model()
    weights = model.get_weights()
    weights[0] += 1
    assert not np.array_equal(weights[0], model.layers[0].kernel)


def test_add_and_pop():
    model = Sequential([Input(shape=(5,)), Dense(4), Dense(3)])
    popped = model.pop()
    assert isinstance(popped, Dense) and popped.units == 3
    assert len(model.layers) == 1 and tuple(model.output_shape) == (None, 4)
    assert model.count_params() == 24
    model.add(Dense(2))
    assert tuple(model.output_shape) == (None, 2) and model.count_params() == 24 + 10
    assert model.predict(np.ones((1, 5)), verbose=0).shape == (1, 2)
    model.pop()
    model.pop()
    with pytest.raises(IndexError, match="no layers"):  # Keras 3's type
        model.pop()


def test_add_rejects_non_layers_and_duplicate_names():
    model = Sequential()
    with pytest.raises(ValueError, match="Only instances of `keras.Layer`"):  # as Keras 3
        model.add("dense")
    model.add(Dense(2, name="same"))
    with pytest.raises(ValueError, match="unique names"):
        model.add(Dense(2, name="same"))


def test_config_round_trip_gives_the_same_model():
    model = Sequential([Input(shape=(4,)), Dense(5, activation="tanh"), Dense(3, "softmax")])
    config = model.get_config()
    assert config["name"] == model.name
    classes = [entry["class_name"] for entry in config["layers"]]
    assert classes[-2:] == ["Dense", "Dense"]
    clone = Sequential.from_config(config)
    assert [type(layer) for layer in clone.layers] == [Dense, Dense]
    assert [layer.units for layer in clone.layers] == [5, 3]
    assert clone.built and clone.count_params() == model.count_params()
    clone.set_weights(model.get_weights())
    x = RNG.normal(size=(6, 4))
    np.testing.assert_array_equal(clone.predict(x, verbose=0), model.predict(x, verbose=0))


# ------------------------------------------------------------------ compile
def test_compile_accepts_names_classes_and_objects():
    model = linear_model()
    adam = optimizers.Adam(learning_rate=0.01)
    model.compile(optimizer=adam, loss=losses.MeanAbsoluteError(), metrics=["mse"])
    assert model.optimizer is adam and isinstance(model.loss, losses.MeanAbsoluteError)
    assert isinstance(model.output_specs[0].loss, losses.MeanAbsoluteError)
    model.compile(optimizer="rmsprop", loss="mean_squared_error")
    assert isinstance(model.optimizer, optimizers.RMSprop)
    assert model.loss == "mean_squared_error"  # the argument as given, as Keras keeps it
    assert isinstance(model.output_specs[0].loss, losses.MeanSquaredError)


def test_predict_needs_no_compile_and_returns_float32_batches():
    model = tutorial_model()
    x = RNG.random((70, 784))  # three batches of 32, 32 and 6
    out = model.predict(x, verbose=0)
    assert out.shape == (70, 10) and out.dtype == np.float32
    np.testing.assert_allclose(out.sum(axis=1), 1.0, rtol=1e-5)
    W1, b1, W2, b2 = (w.astype(np.float64) for w in model.get_weights())
    z = np.maximum(x @ W1 + b1, 0) @ W2 + b2
    expected = np.exp(z - z.max(axis=1, keepdims=True))
    expected /= expected.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(out, expected, rtol=1e-4, atol=1e-6)
    # other batch sizes may take other summation orders in the kernels: float32 rounding apart
    np.testing.assert_allclose(model.predict_on_batch(x[:5]), out[:5], rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(model.predict(x, batch_size=7, verbose=0), out, rtol=1e-5, atol=1e-7)


# ------------------------------------------------------------------ fit: History
def test_fit_history_keys_values_and_params():
    x, labels = RNG.random((40, 4)), RNG.integers(3, size=40)
    model = Sequential([Input(shape=(4,)), Dense(3, activation="softmax")])
    model.compile(optimizer="sgd", loss="categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x, to_categorical(labels, 3), epochs=3, validation_split=0.25, verbose=0)
    # Keras: keys sorted, one Python float per epoch
    assert list(history.history) == ["accuracy", "loss", "val_accuracy", "val_loss"]
    for values in history.history.values():
        assert len(values) == 3 and all(type(v) is float for v in values)
    assert history.epoch == [0, 1, 2]
    assert history.params == {"verbose": 0, "epochs": 3, "steps": 1}  # 30 samples, batch 32
    assert model.history is history


def test_metric_names_follow_what_compile_was_given():
    x, y = RNG.random((8, 4)), to_categorical(RNG.integers(3, size=8), 3)
    model = Sequential([Input(shape=(4,)), Dense(3, activation="softmax")])
    model.compile(optimizer="sgd", loss="categorical_crossentropy", metrics=["acc", "mae"])
    history = model.fit(x, y, epochs=1, verbose=0, validation_data=(x[:4], y[:4]))
    # the same keys as Keras 3.15.1 gives for metrics=["acc", "mae"]
    assert sorted(history.history) == ["acc", "loss", "mae", "val_acc", "val_loss", "val_mae"]


# ------------------------------------------------------------------ fit: the loop's arithmetic
def test_epoch_loss_is_the_batch_size_weighted_mean_measured_before_each_update():
    x, y = data(n=10)
    model = linear_model(lr=0.1, metrics=["mae"])
    w, b = model.get_weights()
    w, b = w.astype(np.float64), b.astype(np.float64)
    expected_loss, expected_mae = [], []
    for _ in range(2):  # epochs, batches of 4, 4 and the remaining 2
        total, total_abs = 0.0, 0.0
        for start in range(0, 10, 4):
            xb, yb = x[start : start + 4], y[start : start + 4]
            loss, dw, db = mse_and_grads(xb, yb, w, b)
            total += len(xb) * loss  # measured before this batch's update
            total_abs += np.abs(xb @ w + b - yb).sum()
            w, b = w - 0.1 * dw, b - 0.1 * db
        expected_loss.append(total / 10)
        expected_mae.append(total_abs / 10)
    history = model.fit(x, y, batch_size=4, epochs=2, shuffle=False, verbose=0)
    np.testing.assert_allclose(history.history["loss"], expected_loss, rtol=1e-5)
    np.testing.assert_allclose(history.history["mae"], expected_mae, rtol=1e-5)
    np.testing.assert_allclose(model.get_weights()[0], w, rtol=1e-5)
    np.testing.assert_allclose(model.get_weights()[1], b, rtol=1e-5)


@settings(max_examples=10, deadline=None)
@given(
    n=sts.st.integers(1, 12),
    batch_size=sts.st.integers(1, 6),
    lr=sts.st.sampled_from([0.0, 0.05, 0.2]),
)
def test_epoch_loss_formula_for_any_batching(n, batch_size, lr):
    """Σ (batch size × loss before the update) / Σ batch size, whatever n and the batch size
    (the last, partial batch included), in float64 against SGD written out."""
    minikeras.config.set_floatx("float64")  # (the autouse fixture puts float32 back)
    x, y = data(n=n, seed=n)
    model = linear_model(lr=lr)
    w, b = model.get_weights()
    total = 0.0
    for start in range(0, n, batch_size):
        xb, yb = x[start : start + batch_size], y[start : start + batch_size]
        loss, dw, db = mse_and_grads(xb, yb, w, b)
        total += len(xb) * loss
        w, b = w - lr * dw, b - lr * db
    history = model.fit(x, y, batch_size=batch_size, shuffle=False, verbose=0)
    assert history.history["loss"][0] == pytest.approx(total / n, rel=1e-10, abs=1e-14)
    np.testing.assert_allclose(model.get_weights()[0], w, rtol=1e-10, atol=1e-14)


def test_default_batch_size_is_32_and_the_last_batch_is_kept():
    model, recorder = ids_model()
    x = np.stack([np.arange(70.0), np.zeros(70)], axis=1)
    history = model.fit(x, np.zeros((70, 1)), shuffle=False, verbose=0)
    assert [len(batch) for batch in recorder.batches] == [32, 32, 6]
    assert history.params["steps"] == 3


def test_validation_split_takes_the_last_fraction_before_shuffling():
    n = 20
    x = np.stack([np.arange(float(n)), RNG.normal(size=n)], axis=1)
    y = RNG.normal(size=(n, 1))
    model, recorder = ids_model()
    w, b = (v.astype(np.float64) for v in model.get_weights())
    history = model.fit(x, y, validation_split=0.25, epochs=2, batch_size=4, verbose=0)
    seen = np.concatenate(recorder.batches)
    assert sorted(seen.tolist()) == sorted(2 * list(range(15)))  # never the last 5
    # learning rate 0: the weights stay, so the losses are those of the two parts
    train_loss, _, _ = mse_and_grads(x[:15], y[:15], w, b)
    val_loss, _, _ = mse_and_grads(x[15:], y[15:], w, b)
    np.testing.assert_allclose(history.history["loss"], [train_loss] * 2, rtol=1e-5)
    np.testing.assert_allclose(history.history["val_loss"], [val_loss] * 2, rtol=1e-5)


def test_shuffle_draws_a_new_permutation_each_epoch():
    n = 40
    x = np.stack([np.arange(float(n)), np.zeros(n)], axis=1)
    model, recorder = ids_model()
    model.fit(x, np.zeros((n, 1)), batch_size=8, epochs=3, shuffle=True, verbose=0)
    epochs = [np.concatenate(recorder.batches[i * 5 : (i + 1) * 5]) for i in range(3)]
    for order in epochs:
        assert sorted(order.tolist()) == list(range(n))  # every sample once per epoch
        assert order.tolist() != list(range(n))
    assert epochs[0].tolist() != epochs[1].tolist() != epochs[2].tolist()
    recorder.batches.clear()
    model.fit(x, np.zeros((n, 1)), batch_size=8, epochs=2, shuffle=False, verbose=0)
    assert np.concatenate(recorder.batches).tolist() == 2 * list(range(n))


def test_initial_epoch_resumes_the_count(capsys):
    x, y = data()
    model = linear_model()
    history = model.fit(x, y, epochs=3, initial_epoch=1, verbose=1)
    assert history.epoch == [1, 2] and len(history.history["loss"]) == 2
    out = capsys.readouterr().out
    assert "Epoch 2/3" in out and "Epoch 3/3" in out and "Epoch 1/3" not in out


def test_sample_weight_weighs_each_sample_in_the_loss():
    x, y = data(n=6)
    sw = np.array([1.0, 0.0, 2.0, 0.5, 3.0, 1.0])
    model = linear_model(lr=0.0)
    w, b = (v.astype(np.float64) for v in model.get_weights())
    history = model.fit(x, y, sample_weight=sw, batch_size=6, verbose=0)
    expected, _, _ = mse_and_grads(x, y, w, b, sw)  # Σ sᵢ·lossᵢ / N
    assert history.history["loss"][0] == pytest.approx(expected, rel=1e-5)
    assert model.evaluate(x, y, sample_weight=sw, verbose=0) == pytest.approx(expected, rel=1e-5)


def test_sample_weight_scales_the_gradient():
    x, y = data(n=8)
    doubled = linear_model(lr=0.05)
    doubled.fit(x, y, sample_weight=np.full(8, 2.0), batch_size=8, epochs=3, verbose=0)
    faster = linear_model(lr=0.1)
    faster.fit(x, y, batch_size=8, epochs=3, verbose=0)
    for a, b in zip(doubled.get_weights(), faster.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-6)
    # a zero weight removes a sample from the gradient (N stays the batch size)
    ignoring = linear_model(lr=0.1)
    ignoring.fit(x, y, sample_weight=np.r_[np.ones(4), np.zeros(4)], batch_size=8, verbose=0)
    half = linear_model(lr=0.05)
    half.fit(x[:4], y[:4], batch_size=4, verbose=0)
    for a, b in zip(ignoring.get_weights(), half.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-6)


# Keras 3.15.1, run for this test: a softmax layer with kernel [[1, −1], [−1, 1]], zero bias,
# SGD(learning_rate=0), fit(batch_size=2, shuffle=False, class_weight={0: 1, 1: 3}) gives
# loss 4.081179618835449 and accuracy 0.2: class weights weigh the loss, not the metrics.
CW_X = np.array([[1.0, 0], [0, 1], [1, 1], [2, 0], [0, 2]])
CW_Y = np.array([0, 0, 1, 1, 0])
KERAS_CW_LOSS, KERAS_CW_ACCURACY = 4.081179618835449, 0.2


def test_class_weight_weighs_the_loss_not_the_metrics():
    model = Sequential([Input(shape=(2,)), Dense(2, activation="softmax")])
    model.set_weights([np.array([[1.0, -1.0], [-1.0, 1.0]]), np.zeros(2)])
    model.compile(
        optimizers.SGD(learning_rate=0.0), "categorical_crossentropy", metrics=["accuracy"]
    )
    history = model.fit(
        CW_X,
        to_categorical(CW_Y, 2),
        batch_size=2,
        shuffle=False,
        class_weight={0: 1.0, 1: 3.0},
        verbose=0,
    )
    assert history.history["loss"][0] == pytest.approx(KERAS_CW_LOSS, rel=1e-6)
    assert history.history["accuracy"][0] == pytest.approx(KERAS_CW_ACCURACY)


# Keras 3.15.1, run for this test: the same softmax layer on six samples, SGD(learning_rate=0),
# fit(validation_split=0.5, shuffle=False): sample weights are split with the data and weigh
# val_loss too; class weights weigh only the training loss.
SPLIT_X = np.array([[1.0, 0], [0, 1], [1, 1], [2, 0], [0, 2], [1, 2]])
SPLIT_Y = np.array([0, 0, 1, 1, 0, 1])
SPLIT_SW = np.array([1, 0, 2, 3, 1.0, 0.5])
KERAS_SPLIT_SW = {"loss": 0.5044074654579163, "val_loss": 5.378687381744385}
KERAS_SPLIT_CW = {"loss": 1.4444326162338257, "val_loss": 2.721076011657715}


@pytest.mark.parametrize(
    "kwargs, expected",
    [
        ({"sample_weight": SPLIT_SW}, KERAS_SPLIT_SW),
        ({"class_weight": {0: 1.0, 1: 3.0}}, KERAS_SPLIT_CW),
    ],
    ids=["sample_weight", "class_weight"],
)
def test_weights_with_a_validation_split_as_keras(kwargs, expected):
    model = Sequential([Input(shape=(2,)), Dense(2, activation="softmax")])
    model.set_weights([np.array([[1.0, -1.0], [-1.0, 1.0]]), np.zeros(2)])
    model.compile(optimizers.SGD(learning_rate=0.0), "categorical_crossentropy")
    history = model.fit(
        SPLIT_X,
        to_categorical(SPLIT_Y, 2),
        validation_split=0.5,
        shuffle=False,
        verbose=0,
        **kwargs,
    )
    for key, value in expected.items():
        assert history.history[key][0] == pytest.approx(value, rel=1e-6), key


def test_initial_epoch_at_epochs_trains_nothing():
    x, y = data()
    model = linear_model()
    before = model.get_weights()
    history = model.fit(x, y, epochs=2, initial_epoch=2, verbose=0)
    assert history.history == {} and history.epoch == []  # as Keras
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_class_weight_equals_the_matching_sample_weight():
    x = RNG.normal(size=(12, 3))
    labels = np.array([0, 1, 2] * 4)
    y = to_categorical(labels, 3)
    class_weight = {0: 0.5, 1: 2.0, 2: 1.0}
    runs = []
    for kwargs in (
        {"class_weight": class_weight},
        {"sample_weight": np.array([class_weight[c] for c in labels])},
    ):
        set_random_seed(3)
        model = Sequential([Input(shape=(3,)), Dense(3, activation="softmax")])
        model.compile(optimizers.SGD(learning_rate=0.1), "categorical_crossentropy")
        history = model.fit(x, y, batch_size=4, epochs=2, shuffle=False, verbose=0, **kwargs)
        runs.append((history.history["loss"], model.get_weights()))
    assert runs[0][0] == runs[1][0]
    for a, b in zip(runs[0][1], runs[1][1]):
        np.testing.assert_array_equal(a, b)


# ------------------------------------------------------------------ evaluate and the batch methods
def softmax_model(seed=5):
    set_random_seed(seed)
    model = Sequential([Input(shape=(4,)), Dense(6, activation="tanh"), Dense(3, "softmax")])
    model.compile(
        optimizers.SGD(learning_rate=0.5), "categorical_crossentropy", metrics=["accuracy"]
    )
    return model


def reference_loss_and_accuracy(model, x, y):
    W1, b1, W2, b2 = (w.astype(np.float64) for w in model.get_weights())
    z = np.tanh(x @ W1 + b1) @ W2 + b2
    loss = softmax_xent(z, y).mean()
    accuracy = np.mean(np.argmax(z, axis=1) == np.argmax(y, axis=1))
    return loss, accuracy


def test_evaluate_matches_numpy_and_returns_keras_shapes():
    x, y = RNG.normal(size=(50, 4)), to_categorical(RNG.integers(3, size=50), 3)
    model = softmax_model()
    loss, accuracy = reference_loss_and_accuracy(model, x, y)
    result = model.evaluate(x, y, verbose=0)
    assert isinstance(result, list) and len(result) == 2
    assert result[0] == pytest.approx(loss, rel=1e-5)
    assert result[1] == pytest.approx(accuracy)
    assert model.evaluate(x, y, verbose=0, return_dict=True) == {
        "accuracy": result[1],
        "loss": result[0],
    }
    assert list(model.evaluate(x, y, verbose=0, return_dict=True)) == ["accuracy", "loss"]
    model.compile("sgd", "categorical_crossentropy")
    assert isinstance(model.evaluate(x, y, verbose=0), float)  # no metrics: a float


def test_train_on_batch_resets_the_metrics_each_call():
    x, y = RNG.normal(size=(16, 4)), to_categorical(RNG.integers(3, size=16), 3)
    model = softmax_model()
    model.train_on_batch(x[:8], y[:8])
    loss, accuracy = reference_loss_and_accuracy(model, x[8:], y[8:])  # before the 2nd update
    result = model.train_on_batch(x[8:], y[8:])
    assert result[0] == pytest.approx(loss, rel=1e-5)  # this batch alone, not a running mean
    assert result[1] == pytest.approx(accuracy)
    logs = model.train_on_batch(x[:8], y[:8], return_dict=True)
    assert list(logs) == ["accuracy", "loss"] and all(type(v) is float for v in logs.values())


def test_train_on_batch_is_one_sgd_step():
    x, y = data(n=5)
    model = linear_model(lr=0.1)
    w, b = (v.astype(np.float64) for v in model.get_weights())
    loss, dw, db = mse_and_grads(x, y, w, b)
    assert model.train_on_batch(x, y) == pytest.approx(loss, rel=1e-5)
    np.testing.assert_allclose(model.get_weights()[0], w - 0.1 * dw, rtol=1e-5)
    np.testing.assert_allclose(model.get_weights()[1], b - 0.1 * db, rtol=1e-5)
    assert model.optimizer.iterations == 1


def test_test_on_batch_changes_nothing():
    x, y = RNG.normal(size=(8, 4)), to_categorical(RNG.integers(3, size=8), 3)
    model = softmax_model()
    before = model.get_weights()
    loss, accuracy = reference_loss_and_accuracy(model, x, y)
    result = model.test_on_batch(x, y)
    assert result[0] == pytest.approx(loss, rel=1e-5) and result[1] == pytest.approx(accuracy)
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert model.optimizer.iterations == 0


# The saturated softmax: logits (100, 0), label on the second class.
# Keras 3.15.1, run for this test: evaluate → 100.0; train_on_batch → 100.0, then (SGD, lr 0.01)
# kernel [[99.99, 0.01], [0, 0]] and bias [−0.01, 0.01];
# keras.losses.categorical_crossentropy(y, model.predict(x)) → 16.118095 (clipped probabilities).
KERAS_SATURATED_EVALUATE = 100.0
KERAS_SATURATED_CLIPPED = 16.118095
KERAS_SATURATED_KERNEL = [[99.99, 0.01], [0.0, 0.0]]
KERAS_SATURATED_BIAS = [-0.01, 0.01]


def test_saturated_softmax_gives_keras_values():
    model = Sequential([Input(shape=(2,)), Dense(2, activation="softmax")])
    model.set_weights([np.array([[100.0, 0.0], [0.0, 0.0]]), np.zeros(2)])
    model.compile(optimizer="sgd", loss="categorical_crossentropy")
    x, y = np.array([[1.0, 0.0]]), np.array([[0.0, 1.0]])
    assert model.evaluate(x, y, verbose=0) == KERAS_SATURATED_EVALUATE
    p = model.predict(x, verbose=0)
    clipped = float(losses.categorical_crossentropy(y, p)[0])
    assert clipped == pytest.approx(KERAS_SATURATED_CLIPPED, rel=1e-6)
    assert model.train_on_batch(x, y) == KERAS_SATURATED_EVALUATE
    np.testing.assert_allclose(model.get_weights()[0], KERAS_SATURATED_KERNEL, atol=1e-6)
    np.testing.assert_allclose(model.get_weights()[1], KERAS_SATURATED_BIAS, atol=1e-6)


# The saturated sigmoid, logit 100 with label 0. Keras 3.15.1, run for this test: evaluate →
# 100.0 (from the logit); train_on_batch → 100.0, then kernel [[99.99], [0]] and bias [−0.01];
# keras.losses.binary_crossentropy(y, model.predict(x)) → 15.942385 (p clipped to 1 − 1e-7).
KERAS_SATURATED_SIGMOID_CLIPPED = 15.942385


def test_saturated_sigmoid_gives_keras_values():
    model = Sequential([Input(shape=(2,)), Dense(1, activation="sigmoid")])
    model.set_weights([np.array([[100.0], [0.0]]), np.zeros(1)])
    model.compile(optimizer=optimizers.SGD(learning_rate=0.01), loss="binary_crossentropy")
    x, y = np.array([[1.0, 0.0]]), np.array([[0.0]])
    assert model.evaluate(x, y, verbose=0) == 100.0
    clipped = float(losses.binary_crossentropy(y, model.predict(x, verbose=0))[0])
    assert clipped == pytest.approx(KERAS_SATURATED_SIGMOID_CLIPPED, rel=1e-6)
    assert model.train_on_batch(x, y) == 100.0
    np.testing.assert_allclose(model.get_weights()[0], [[99.99], [0.0]], atol=1e-6)
    np.testing.assert_allclose(model.get_weights()[1], [-0.01], atol=1e-6)


@pytest.mark.parametrize(
    "units, activation, loss, labels, expected_metric",
    [
        (1, "sigmoid", "binary_crossentropy", "binary", "binary"),
        (3, "softmax", "sparse_categorical_crossentropy", "sparse", "sparse"),
        (3, "softmax", "categorical_crossentropy", "one_hot", "categorical"),
    ],
)
def test_accuracy_is_resolved_from_the_shapes(units, activation, loss, labels, expected_metric):
    x = RNG.normal(size=(30, 4))
    ids = RNG.integers(units if units > 1 else 2, size=30)
    y = {"binary": ids[:, None].astype(float), "sparse": ids, "one_hot": to_categorical(ids, 3)}
    model = Sequential([Input(shape=(4,)), Dense(units, activation=activation)])
    model.compile(optimizer="sgd", loss=loss, metrics=["accuracy"])
    accuracy = model.evaluate(x, y[labels], verbose=0)[1]
    p = model.predict(x, verbose=0)
    if expected_metric == "binary":
        reference = np.mean((p[:, 0] > 0.5) == (ids == 1))
    else:
        reference = np.mean(np.argmax(p, axis=1) == ids)
    assert accuracy == pytest.approx(reference)


# ------------------------------------------------------------------ the whole model's backward
@pytest.mark.parametrize(
    "head, loss",
    [
        (lambda: [Dense(3, activation="softmax")], "categorical_crossentropy"),  # (p − y)/N
        (lambda: [Dense(3), Activation("softmax")], "categorical_crossentropy"),  # layer's logits
        (lambda: [Dense(3, activation="softmax")], "sparse_categorical_crossentropy"),
        (lambda: [Dense(3, activation="softmax")], "mse"),  # the general softmax VJP
        (lambda: [Dense(2, activation="sigmoid")], "binary_crossentropy"),
        (lambda: [Dense(2, activation="elu")], "mae"),
    ],
    ids=["softmax-cce", "activation-layer", "sparse", "softmax-mse", "sigmoid-bce", "elu-mae"],
)
def test_whole_model_backward_matches_central_differences(float64, head, loss):
    """One SGD step with learning rate 1 moves each weight by exactly −dL/dw; central
    differences of the loss (as evaluate computes it) give dL/dw independently."""
    rng = np.random.default_rng(11)
    x = rng.normal(size=(5, 4))
    head = head()
    units = head[0].units
    ids = rng.integers(units, size=5)
    y = {
        "categorical_crossentropy": to_categorical(ids, units),
        "sparse_categorical_crossentropy": ids,
        "binary_crossentropy": rng.integers(2, size=(5, units)).astype(float),
    }.get(loss, rng.normal(size=(5, units)) * 0.5)
    model = Sequential([Input(shape=(4,)), Dense(6, activation="tanh"), Dense(5), *head])
    model.compile(optimizer=optimizers.SGD(learning_rate=1.0), loss=loss)
    sample_weight = rng.uniform(0.5, 2.0, size=5)
    before = model.get_weights()

    def objective():
        return model.test_on_batch(x, y, sample_weight=sample_weight)

    numeric = [numerical_gradient(objective, w) for w in model.trainable_weights]
    model.train_on_batch(x, y, sample_weight=sample_weight)
    for w0, w1, g in zip(before, model.get_weights(), numeric):
        assert_gradient_close(w0 - w1, g, rtol=1e-5, atol=1e-8)


def test_float64_models_train_in_float64(float64):
    x, y = data()
    model = linear_model()
    model.fit(x, y, verbose=0)
    assert all(w.dtype == np.float64 for w in model.get_weights())
    assert model.predict(x, verbose=0).dtype == np.float64


# ------------------------------------------------------------------ reproducibility
def seeded_run(seed):
    set_random_seed(seed)
    x = np.random.random((64, 8))
    y = to_categorical(np.random.randint(3, size=(64, 1)), 3)
    model = Sequential([Input(shape=(8,)), Dense(16, "relu"), Dropout(0.3), Dense(3, "softmax")])
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x, y, batch_size=16, epochs=2, validation_split=0.25, verbose=0)
    return history.history, model.get_weights()


def test_set_random_seed_makes_a_run_bit_identical():
    """Initialisation, shuffling and dropout all draw from the seeded generators."""
    first, second, other = seeded_run(7), seeded_run(7), seeded_run(8)
    assert first[0] == second[0]
    for a, b in zip(first[1], second[1]):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(first[1][0], other[1][0])


# ------------------------------------------------------------------ printing
def test_verbose_levels(capsys):
    x, y = data()
    model = linear_model()
    model.fit(x, y, epochs=2, verbose=0)
    model.evaluate(x, y, verbose=0)
    model.predict(x, verbose=0)
    assert capsys.readouterr().out == ""
    model.fit(x, y, epochs=1, verbose=1)
    out = capsys.readouterr().out
    assert "Epoch" not in out and "1/1" in out and "loss:" in out
    model.fit(x, y, epochs=2, verbose=2)
    lines = [line for line in capsys.readouterr().out.splitlines() if line.strip()]
    assert lines[0] == "Epoch 1/2" and lines[2] == "Epoch 2/2"
    assert lines[1].startswith("1/1 - ") and "/step - loss: " in lines[1]


def test_minikeras_exports_the_issue_names():
    from minikeras import Sequential as S
    from minikeras.models import Model, Sequential

    assert S is Sequential and issubclass(Sequential, Model)
    for module in ("activations", "callbacks", "initializers", "losses", "metrics", "optimizers"):
        assert hasattr(minikeras, module)
    assert minikeras.config.floatx() == "float32"
