"""What a train_step of yours relies on, without Keras: the optimizer given some of its
weights, the data fit hands to the step, outputs that keep their logits on a tape, and
check_gradients and trace on a subclassed model with a layer made of ops."""

import warnings

import numpy as np
import pytest

import minikeras
from minikeras import GradientTape, layers, ops, testing, trace


def dense_model(units=2):
    return minikeras.Sequential([minikeras.Input(shape=(3,)), layers.Dense(units)])


def test_an_optimizer_updates_some_of_its_weights_in_any_order():
    model = dense_model()
    kernel, bias = model.trainable_weights
    reference = minikeras.optimizers.Adam(learning_rate=0.1)
    copies = [np.array(kernel), np.array(bias)]
    reference.apply([np.ones_like(kernel), np.ones_like(bias)], copies)  # slots by position
    optimizer = minikeras.optimizers.Adam(learning_rate=0.1)
    optimizer.build(model.trainable_weights)
    optimizer.apply([np.ones_like(bias), np.ones_like(kernel)], [bias, kernel])
    np.testing.assert_array_equal(kernel, copies[0])
    np.testing.assert_array_equal(bias, copies[1])
    np.testing.assert_array_equal(optimizer.slots["momentum"][1], reference.slots["momentum"][1])


def test_an_optimizer_refuses_weights_it_was_not_built_with_and_skips_missing_gradients():
    first, second = dense_model(), dense_model()
    optimizer = minikeras.optimizers.SGD()
    optimizer.apply([np.zeros_like(w) for w in first.trainable_weights], first.trainable_weights)
    with pytest.raises(ValueError, match="(?s)Unknown variable: .*originally built with"):
        optimizer.apply(
            [np.zeros_like(w) for w in second.trainable_weights], second.trainable_weights
        )
    kernel, bias = first.trainable_weights
    before = np.array(bias)
    # named by path, as Keras's (the layer built inside the Sequential's build)
    with pytest.warns(UserWarning, match=r"Gradients do not exist for variables \['sequential"):
        optimizer.apply([None, np.ones_like(bias)], [kernel, bias])
    np.testing.assert_allclose(bias, before - 0.01)
    with pytest.raises(ValueError, match="No gradients provided for any variable."):
        optimizer.apply([None, None], [kernel, bias])


def test_fit_hands_a_step_x_alone_when_there_are_no_labels():
    seen = []

    class OnlyImages(minikeras.Model):
        def train_step(self, data):
            seen.append(data)
            return {}

    model = OnlyImages()
    model.compile()
    model.fit(np.zeros((6, 2, 2)), batch_size=4, verbose=0)
    assert [type(d) for d in seen] == [np.ndarray, np.ndarray]
    assert [d.shape for d in seen] == [(4, 2, 2), (2, 2, 2)]


def test_a_step_that_returns_the_metrics_names_reports_the_metrics_as_keras():
    """Keras's `_get_metrics_result_or_logs`: {"loss": ...} returned by a step that never
    updates the loss tracker is reported as the tracker's result (0)."""

    class Stubborn(minikeras.Model):
        def train_step(self, data):
            return {"loss": 5.0}

    inputs = minikeras.Input(shape=(3,))
    model = Stubborn(inputs, layers.Dense(1)(inputs))
    model.compile(optimizer="sgd", loss="mse")
    assert model.fit(np.ones((4, 3)), np.ones((4, 1)), verbose=0).history == {"loss": [0.0]}


def test_softmax_outputs_on_a_tape_keep_their_logits():
    z = minikeras.Variable(np.array([[30.0, -30.0]]))
    y = np.array([[0.0, 1.0]])
    with GradientTape() as tape:
        p = ops.softmax(z * 1.0)
        loss = minikeras.losses.CategoricalCrossentropy()(y, p)
    # from the logits: 60, not the clipped −log(1e-7) ≈ 16.1; dL/dz = softmax(z) − y
    assert float(loss) == pytest.approx(60.0)
    np.testing.assert_allclose(tape.gradient(loss, z), [[1.0, -1.0]])
    assert f"{loss:.1f}" == "60.0"


class Linear(layers.Layer):
    """A layer made only of ops (no backward)."""

    def build(self, input_shape):
        self.w = self.add_weight(shape=(input_shape[-1], 4), initializer="random_normal")
        self.b = self.add_weight(shape=(4,), initializer="zeros")

    def call(self, x):
        return ops.tanh(ops.matmul(x, self.w) + self.b)


class Subclassed(minikeras.Model):
    def __init__(self):
        super().__init__()
        self.linear = Linear()
        self.out = layers.Dense(2, activation="softmax")

    def call(self, x):
        return self.out(self.linear(x) * 2.0)


def test_check_gradients_and_trace_on_a_subclassed_model_with_an_ops_layer():
    model = Subclassed()
    model.build((None, 3))
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(5, 3)), np.eye(2)[[0, 1, 0, 1, 1]]
    model.compile(optimizer="sgd", loss="categorical_crossentropy")
    worst = testing.check_gradients(model, x, y, verbose=False)
    assert len(worst) == 4 and max(worst.values()) < 1e-6
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        record = trace.step(model, x, y, keras=False, print_fn=None)
    titles = [stage.title for stage in record.stages]
    # each op of the call shows its VJP applied, newest first, after the Dense's backward
    ops_seen = [t.split()[1] for t in titles if t.endswith("(an op on the tape, its VJP applied)")]
    assert ops_seen == ["multiply", "tanh", "add", "matmul"]
    assert titles.index("backward: dense") < titles.index(
        "backward: multiply (an op on the tape, its VJP applied)"
    )
    path = model.linear.weights[0].path  # Keras's: subclassed/linear/variable
    assert path.split("/")[0] == model.name
    dw = record.value(f"matmul: dL/d({path})")
    assert dw.shape == (3, 4)


def test_a_step_of_yours_receives_several_inputs_and_labels_as_given():
    """A list of inputs and a dict of labels reach the step as a list and a dict, batch by
    batch in fit and whole in train_on_batch (Keras hands the data to the step as given)."""
    seen = []

    class TwoInputs(minikeras.Model):
        def train_step(self, data):
            x, y = data
            seen.append((type(x), len(x), type(y), sorted(y)))
            with GradientTape() as tape:
                loss = self.compute_loss(y=y, y_pred=self(x, training=True))
            grads = tape.gradient(loss, self.trainable_weights)
            self.optimizer.apply(grads, self.trainable_weights)
            return {"loss": loss}

    a, b = minikeras.Input(shape=(2,), name="a"), minikeras.Input(shape=(3,), name="b")
    merged = layers.Concatenate()([a, b])
    outputs = {"p": layers.Dense(2, name="p")(merged), "q": layers.Dense(1, name="q")(merged)}
    model = TwoInputs([a, b], outputs)
    model.compile(optimizer="sgd", loss={"p": "mse", "q": "mse"})
    x = [np.ones((5, 2)), np.ones((5, 3))]
    y = {"p": np.zeros((5, 2)), "q": np.zeros((5, 1))}
    history = model.fit(x, y, batch_size=4, verbose=0).history
    logs = model.train_on_batch(x, y, return_dict=True)
    assert seen == [(list, 2, dict, ["p", "q"])] * 3
    assert set(history) == set(logs) == {"loss"}  # what the step returned
    # compute_loss tracked each output's loss, as Keras's compiled loss does
    assert [m.name for m in model.metrics] == ["loss", "p_loss", "q_loss"]
    assert model.metrics[1].result() > 0
