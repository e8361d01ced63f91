"""The Functional API: graphs of layers built by calling layers on Input tensors.

Forward against the same layers called one by one; backward (weights and inputs) against
central differences, on hand-made graphs and on random ones (hypothesis); shared layers (one set
of weights, gradients summed over calls); per-call state; compile per output and Keras's log
names; errors at construction; summary, config round trip, layer and weight order as Keras.
Keras's own values quoted here were observed with Keras 3.15.1 (TensorFlow backend).
"""

import contextlib
import doctest
import pathlib

import numpy as np
import pytest
import strategies
from gradcheck import assert_gradient_close, numerical_gradient
from hypothesis import given, settings

import minikeras
from minikeras import Model, Sequential, optimizers
from minikeras.layers import (
    Add,
    Average,
    Concatenate,
    Dense,
    Input,
    Multiply,
    Subtract,
    concatenate,
    subtract,
)
from minikeras.models import Functional


@contextlib.contextmanager
def floatx64():
    """float64 for a hypothesis test (a function-scoped fixture would not reset between
    examples)."""
    floatx = minikeras.config.floatx()
    minikeras.config.set_floatx("float64")
    try:
        yield
    finally:
        minikeras.config.set_floatx(floatx)


def two_input_model():
    """Keras's example of the issue: a shared Dense on both branches, Concatenate, two heads."""
    a, b = Input(shape=(4,), name="in_a"), Input(shape=(3,), name="in_b")
    shared = Dense(5, activation="tanh", name="shared")
    h = concatenate([shared(Dense(4, name="pa")(b)), shared(a)])
    out_a = Dense(2, activation="softmax", name="out_a")(h)
    out_b = Dense(1, name="out_b")(h)
    return Model([a, b], [out_a, out_b], name="two")


def two_input_data(n=10, seed=0):
    rng = np.random.default_rng(seed)
    x = [rng.normal(size=(n, 4)), rng.normal(size=(n, 3))]
    y = [np.eye(2)[rng.integers(0, 2, n)], rng.normal(size=(n, 1))]
    return x, y


def sgd_gradients(model, x, y):
    """dL/dw for every trainable weight: one SGD step with learning rate 1 moves w by −dL/dw."""
    before = [w.copy() for w in model.trainable_weights]
    model.train_on_batch(x, y)
    return [w0 - w1 for w0, w1 in zip(before, model.trainable_weights)]


def numeric_gradients(model, x, y):
    """dL/dw by central differences of the loss as evaluate computes it."""

    def loss():
        return model.test_on_batch(x, y, return_dict=True)["loss"]

    return [numerical_gradient(loss, w) for w in model.trainable_weights]


def assert_backward_matches_central_differences(model, x, y, loss="mse", **compile_args):
    model.compile(optimizer=optimizers.SGD(learning_rate=1.0), loss=loss, **compile_args)
    numeric = numeric_gradients(model, x, y)
    for analytic, expected in zip(sgd_gradients(model, x, y), numeric):
        assert_gradient_close(analytic, expected, rtol=1e-5, atol=1e-8)


# ---------------------------------------------------------------------- construction
def test_model_with_inputs_and_outputs_is_functional():
    model = two_input_model()
    assert type(model) is Functional and isinstance(model, Model)
    assert model.name == "two"
    assert model.input_shape == [(None, 4), (None, 3)]
    assert model.output_shape == [(None, 2), (None, 1)]
    assert model.output_names == ["out_a", "out_b"]


def test_input_and_output_are_the_tensors_as_given():
    x = Input((3,), name="x")
    h = Dense(2, name="h")(x)
    model = Model({"x": x}, [h, Dense(1)(h)])
    assert model.input == {"x": x} and model.output[0] is h
    features = Model(model.input, model.get_layer("h").output)  # a sub-model, same layers
    assert [layer.name for layer in features.layers] == ["x", "h"]
    with pytest.raises(AttributeError, match="has never been called"):
        _ = Dense(1).output


def test_model_dispatch_leaves_sequential_and_subclasses_alone():
    assert type(Sequential([Input((2,)), Dense(1)])) is Sequential

    class Tiny(Model):  # a subclassed model: Model.__init__ with a name only
        def __init__(self):
            super().__init__(name="tiny")
            self.dense = Dense(1)

        @property
        def layers(self):
            return [self.dense]

    assert type(Tiny()) is Tiny

    class Stack(Sequential):  # (layers, trainable): two arguments, still not (inputs, outputs)
        pass

    assert type(Stack([Input((2,)), Dense(1)], True)) is Stack
    x = Input((2,))
    assert type(Model(inputs=x, outputs=Dense(1)(x))) is Functional
    assert type(Model(x, outputs=Dense(1)(x))) is Functional


def test_default_names_count_up_as_keras():
    minikeras.utils.clear_session()
    x = Input((2,))
    assert Model(x, Dense(1)(x)).name == "functional"
    assert Model(x, Dense(1)(x)).name == "functional_1"


def test_layers_in_keras_order():
    # keras.Model(...).layers for the same graph, Keras 3.15.1: by depth from the outputs,
    # deepest first, then in the order a depth-first walk from the outputs meets them
    model = two_input_model()
    assert [layer.name for layer in model.layers] == [
        "in_b", "pa", "in_a", "shared", "concatenate", "out_a", "out_b",
    ]  # fmt: skip
    assert model.get_layer("shared") is model.layers[3]
    with pytest.raises(ValueError, match="No such layer: nope"):
        model.get_layer("nope")


def test_weights_in_keras_order_and_shared_weights_once():
    model = two_input_model()
    # Keras: pa/kernel, pa/bias, shared/kernel, shared/bias, out_a/kernel, ...
    assert [w.shape for w in model.get_weights()] == [
        (3, 4), (4,), (4, 5), (5,), (10, 2), (2,), (10, 1), (1,),
    ]  # fmt: skip
    assert model.count_params() == 74
    new = [np.full(w.shape, i, dtype=w.dtype) for i, w in enumerate(model.get_weights())]
    model.set_weights(new)
    assert model.get_layer("shared").kernel[0, 0] == 2


def test_shared_layer_has_one_node_per_call():
    x = Input((3,))
    dense = Dense(3)
    h1, h2 = dense(x), dense(dense(x))
    assert len(dense._inbound_nodes) == 3
    assert [t.keras_history for t in (h1, h2)] == [("dense", 0, 0), ("dense", 2, 0)]
    model = Model(x, Add()([h1, h2]))
    assert len(model.get_weights()) == 2  # one kernel, one bias, however many calls


# ---------------------------------------------------------------------- forward, backward
def test_forward_equals_the_layers_called_one_by_one(float64):
    model = two_input_model()
    x, _ = two_input_data()
    get = model.get_layer
    h = np.concatenate([get("shared")(get("pa")(x[1])), get("shared")(x[0])], axis=1)
    out_a, out_b = model.predict(x, verbose=0)
    np.testing.assert_allclose(out_a, get("out_a")(h), rtol=1e-13)
    np.testing.assert_allclose(out_b, get("out_b")(h), rtol=1e-13)


def test_two_input_two_output_backward_matches_central_differences(float64):
    x, y = two_input_data(n=6)
    assert_backward_matches_central_differences(
        two_input_model(), x, y, loss=["categorical_crossentropy", "mse"], loss_weights=[1.0, 0.3]
    )


def test_residual_block_backward(float64):
    x = Input((4,))
    h = Dense(4, activation="tanh")(x)
    out = Dense(1)(Add()([x, Dense(4, activation="tanh")(h)]))  # x feeds Dense and Add
    data = np.random.default_rng(2).normal(size=(5, 4))
    assert_backward_matches_central_differences(Model(x, out), data, data[:, :1])


def test_shared_layer_gradient_is_the_sum_over_its_calls(float64):
    """The fan-out rule: dL/dW of a layer called twice is the sum of what each call gives."""
    rng = np.random.default_rng(3)
    a, b = Input((3,), name="a"), Input((3,), name="b")
    shared = Dense(2, name="shared")
    model = Model([a, b], Add()([shared(a), shared(b)]))
    xa, xb, r = rng.normal(size=(4, 3)), rng.normal(size=(4, 3)), rng.normal(size=(4, 2))
    model.call([xa, xb], training=True)
    model.backward(r)  # dL/dy = r for L = Σ r ⊙ y
    # each call alone: y = x·W + b, so dL/dW = xᵀ·r and dL/db = Σ r
    np.testing.assert_allclose(shared.grads[0], xa.T @ r + xb.T @ r, rtol=1e-13)
    np.testing.assert_allclose(shared.grads[1], 2 * r.sum(axis=0), rtol=1e-13)


def test_each_call_of_a_shared_layer_keeps_its_own_state(float64):
    """Per-node memory: after the forward pass each node remembers the x its call saw."""
    rng = np.random.default_rng(4)
    a, b = Input((3,), name="a"), Input((3,), name="b")
    shared = Dense(2, activation="tanh", name="shared")
    model = Model([a, b], subtract([shared(a), shared(b)]))
    xa, xb = rng.normal(size=(4, 3)), rng.normal(size=(4, 3))
    model.call([xa, xb])
    first, second = shared._inbound_nodes
    remembered = {node: dict(model._memory[node])[shared]["x"] for node in (first, second)}
    np.testing.assert_array_equal(remembered[first], xa)
    np.testing.assert_array_equal(remembered[second], xb)
    assert shared.x is remembered[second]  # the layer itself holds the last call's state


def test_a_tensor_read_twice_gets_both_gradients(float64):
    x = Input((3,))
    h = Dense(3, activation="tanh")(x)
    out = Dense(1)(Multiply()([h, h]))  # h read twice by one node
    data = np.random.default_rng(5).normal(size=(4, 3))
    assert_backward_matches_central_differences(Model(x, out), data, data[:, :1])


@settings(max_examples=30, deadline=None)
@given(recipe=strategies.dag_recipes(), seed=strategies.st.integers(0, 2**16))
def test_random_graphs_forward_and_backward(recipe, seed):
    with floatx64():
        model, reference = build_from_recipe(recipe)
        rng = np.random.default_rng(seed)
        x = [rng.normal(size=(3, recipe["width"])) for _ in model.inputs]
        y = [rng.normal(size=(3,) + t.shape[1:]) for t in model.outputs]
        predicted = model.predict(x, verbose=0)
        predicted = predicted if isinstance(predicted, list) else [predicted]
        for ours, expected in zip(predicted, reference(x)):
            np.testing.assert_allclose(ours, expected, rtol=1e-12, atol=1e-14)
        assert_backward_matches_central_differences(model, x, y)


def build_from_recipe(recipe):
    """(model, reference): the graph of a `strategies.dag_recipes` recipe, and a function that
    recomputes its outputs by calling the same layers one by one on arrays."""
    width = recipe["width"]
    inputs = [Input((width,), name=f"in_{i}") for i in range(recipe["inputs"])]
    tensors, calls, consumed, made = list(inputs), [], set(), {}
    merges = {"add": Add, "subtract": Subtract, "multiply": Multiply, "average": Average}
    for i, step in enumerate(recipe["steps"]):
        if step[0] == "dense":
            _, source, shared = step
            made[i] = made[shared] if shared is not None else Dense(width, activation="tanh")
            sources, fn = [source], lambda xs, layer=made[i]: layer(xs[0])
        elif step[0] == "merge":
            sources, fn = step[2], merges[step[1]]()
        else:
            concat, dense = Concatenate(), Dense(width, activation="tanh")
            sources, fn = step[1], lambda xs, c=concat, d=dense: d(c(xs))
        tensors.append(fn([tensors[s] for s in sources]))
        calls.append((fn, sources))
        consumed.update(sources)
    leaves = [j for j in range(len(tensors)) if j not in consumed]
    join = Add() if len(leaves) > 1 else (lambda xs: xs[0])
    heads = [Dense(2, name="out_0"), Dense(1, name="out_1")][: recipe["outputs"]]
    final = join([tensors[j] for j in leaves])
    sources = [final, tensors[-1]]
    model = Model(inputs, [head(s) for head, s in zip(heads, sources)])

    def reference(x):
        values = list(x)
        for fn, srcs in calls:
            values.append(fn([values[s] for s in srcs]))
        joined = join([values[j] for j in leaves])
        return [head(v) for head, v in zip(heads, [joined, values[-1]])]

    return model, reference


def test_input_gradients_for_a_model_used_inside_another(float64):
    """As a layer, a model's backward returns dL/d(each input), fan-out included."""
    rng = np.random.default_rng(6)
    a, b = Input((3,), name="a"), Input((2,), name="b")
    h = Dense(3, activation="tanh")(concatenate([a, b]))
    model = Model([a, b], Add()([h, a]))  # `a` feeds two nodes
    model.input_gradient_needed = True
    x, r = [rng.normal(size=(4, 3)), rng.normal(size=(4, 2))], rng.normal(size=(4, 3))
    model.call(x)
    dxs = model.backward(r)
    for dx, xi in zip(dxs, x):
        assert_gradient_close(dx, numerical_gradient(lambda: np.sum(r * model.call(x)), xi))


def test_shared_sequential_inside_a_functional_model(float64):
    """A siamese pair: one Sequential tower on two inputs; its weights get both calls'
    gradients, and each call keeps its own inner state."""
    tower = Sequential([Input((3,)), Dense(4, activation="tanh", name="t1")], name="tower")
    a, b = Input((3,), name="a"), Input((3,), name="b")
    model = Model([a, b], Dense(1, name="o")(subtract([tower(a), tower(b)])))
    assert [layer.name for layer in model.layers] == ["a", "b", "tower", "subtract", "o"]
    rng = np.random.default_rng(7)
    x = [rng.normal(size=(5, 3)), rng.normal(size=(5, 3))]
    assert_backward_matches_central_differences(model, x, rng.normal(size=(5, 1)))


def test_functional_model_inside_another_and_inside_a_sequential(float64):
    a = Input((3,), name="a")
    inner = Model(a, Dense(2, activation="tanh", name="inner_d")(a), name="inner")
    c = Input((3,), name="c")
    outer = Model(c, Dense(1, name="o")(Add()([inner(c), Dense(2, name="side")(c)])))
    rng = np.random.default_rng(8)
    x, y = rng.normal(size=(5, 3)), rng.normal(size=(5, 1))
    assert_backward_matches_central_differences(outer, x, y)
    stacked = Sequential([inner, Dense(1, name="after")])
    assert stacked.built and stacked.output_shape == (None, 1)  # built at once, as Keras
    assert_backward_matches_central_differences(stacked, x, y)


def test_a_trained_softmax_model_inside_another_backpropagates_through_its_softmax(float64):
    """Its own fit starts from the logits; as a layer of another model it must not."""
    a = Input((3,), name="a")
    inner = Model(a, Dense(3, activation="softmax", name="probs")(a), name="inner")
    inner.compile(optimizer="sgd", loss="categorical_crossentropy")
    rng = np.random.default_rng(12)
    x = rng.normal(size=(5, 3))
    inner.fit(x, np.eye(3)[[0, 1, 2, 0, 1]], verbose=0)
    assert inner.logits_path(training=True) == [inner.get_layer("probs")]
    c = Input((3,), name="c")
    outer = Model(c, Dense(1, name="o")(inner(c)))
    assert_backward_matches_central_differences(outer, x, rng.normal(size=(5, 1)))


def test_an_output_without_loss_gets_zero_gradients(float64):
    x, y = two_input_data(n=6)
    model = two_input_model()
    model.compile(optimizer=optimizers.SGD(learning_rate=0.1), loss=[None, "mse"])
    before = model.get_layer("out_a").get_weights()
    history = model.fit(x, y[1], epochs=2, verbose=0)  # labels only for the output with a loss
    assert sorted(history.history) == ["loss"]  # one loss: no per-output loss logs, as Keras
    for w0, w1 in zip(before, model.get_layer("out_a").get_weights()):
        np.testing.assert_array_equal(w0, w1)


# ---------------------------------------------------------------------- compile and fit
def test_history_keys_and_total_loss_as_keras(float64):
    x, y = two_input_data(n=8)
    model = two_input_model()
    model.compile(
        optimizer="sgd",
        loss=["categorical_crossentropy", "mse"],
        loss_weights=[1.0, 0.5],
        metrics=[["accuracy"], ["mae"]],
    )
    logs = model.evaluate(x, y, verbose=0, batch_size=8, return_dict=True)
    # Keras 3.15.1's keys for this compile; the total is Σ weightᵢ · lossᵢ
    assert sorted(logs) == ["loss", "out_a_accuracy", "out_a_loss", "out_b_loss", "out_b_mae"]
    assert logs["loss"] == pytest.approx(logs["out_a_loss"] + 0.5 * logs["out_b_loss"])
    p_a, p_b = model.predict(x, verbose=0)
    assert logs["out_b_loss"] == pytest.approx(np.mean((p_b - y[1]) ** 2))
    assert logs["out_a_loss"] == pytest.approx(-np.mean(np.sum(y[0] * np.log(p_a), axis=1)))
    # evaluate's list in Keras's order: loss, the per-output losses, then the metrics
    values = model.evaluate(x, y, verbose=0, batch_size=8)
    names = ["loss", "out_a_loss", "out_b_loss", "out_a_accuracy", "out_b_mae"]
    assert values == pytest.approx([logs[name] for name in names])
    history = model.fit(x, y, epochs=2, verbose=0, validation_split=0.25)
    assert sorted(history.history) == sorted(names + [f"val_{n}" for n in names])


def test_per_output_losses_average_batches_as_keras_does(float64):
    """Keras weighs each output's logged loss by the batch's static size, unknown (None) in its
    traced step: each batch counts once. The total loss is weighted by batch size."""
    x, y = two_input_data(n=10)
    model = two_input_model()
    model.compile(optimizer="sgd", loss=["categorical_crossentropy", "mse"])
    logs = model.evaluate(x, y, batch_size=8, verbose=0, return_dict=True)
    first = model.evaluate([a[:8] for a in x], [a[:8] for a in y], verbose=0, return_dict=True)
    last = model.evaluate([a[8:] for a in x], [a[8:] for a in y], verbose=0, return_dict=True)
    assert logs["out_b_loss"] == pytest.approx((first["out_b_loss"] + last["out_b_loss"]) / 2)
    assert logs["loss"] == pytest.approx((8 * first["loss"] + 2 * last["loss"]) / 10)


@pytest.mark.parametrize(
    "loss, loss_weights",
    [
        (["categorical_crossentropy", "mse"], [2.0, 0.5]),
        ({"out_b": "mse", "out_a": "categorical_crossentropy"}, {"out_a": 2.0, "out_b": 0.5}),
    ],
)
def test_loss_and_weights_by_list_or_by_name(float64, loss, loss_weights):
    x, y = two_input_data(n=8)
    model = two_input_model()
    model.compile(optimizer="sgd", loss=loss, loss_weights=loss_weights)
    logs = model.evaluate(x, y, batch_size=8, verbose=0, return_dict=True)
    assert logs["loss"] == pytest.approx(2.0 * logs["out_a_loss"] + 0.5 * logs["out_b_loss"])


def test_one_loss_for_every_output_and_metrics_by_name(float64):
    x, y = two_input_data(n=8)
    y = [y[0], np.concatenate([y[1], -y[1]], axis=1)[:, :1]]
    model = two_input_model()
    model.compile(optimizer="sgd", loss="mse", metrics={"out_b": ["mae", "mse"]})
    logs = model.evaluate(x, y, batch_size=8, verbose=0, return_dict=True)
    assert sorted(logs) == ["loss", "out_a_loss", "out_b_loss", "out_b_mae", "out_b_mse"]
    assert logs["out_b_mse"] == pytest.approx(logs["out_b_loss"])


def test_dict_inputs_and_outputs(float64):
    x1, x2 = Input((2,), name="x1"), Input((2,), name="x2")
    h = concatenate([x1, x2])
    model = Model(
        {"x2": x2, "x1": x1}, {"zz": Dense(1, name="oz")(h), "aa": Dense(2, name="oa")(h)}
    )
    # Keras flattens a dict in sorted key order: outputs aa (oa), zz (oz)
    assert model.output_names == ["oa", "oz"]
    assert [layer.name for layer in model.layers] == ["x1", "x2", "concatenate", "oa", "oz"]
    model.compile(optimizer="sgd", loss={"zz": "mse", "aa": "mse"}, metrics={"aa": "mae"})
    rng = np.random.default_rng(9)
    x = {"x1": rng.normal(size=(4, 2)), "x2": rng.normal(size=(4, 2))}
    y = {"zz": rng.normal(size=(4, 1)), "aa": rng.normal(size=(4, 2))}
    history = model.fit(x, y, verbose=0)
    assert sorted(history.history) == ["aa_loss", "aa_mae", "loss", "zz_loss"]
    predicted = model.predict(x, verbose=0)
    assert list(predicted) == ["zz", "aa"]  # the structure the outputs were given in
    assert predicted["zz"].shape == (4, 1)


def test_single_output_functional_logs_as_sequential(float64):
    x = Input((3,), name="x")
    model = Model(x, Dense(2, activation="softmax")(x))
    model.compile(optimizer="sgd", loss="categorical_crossentropy", metrics=["accuracy"])
    data = np.random.default_rng(10).normal(size=(6, 3))
    labels = np.eye(2)[[0, 1, 0, 1, 1, 0]]
    history = model.fit(data, labels, verbose=0)
    assert sorted(history.history) == ["accuracy", "loss"]
    assert len(model.evaluate(data, labels, verbose=0)) == 2


@pytest.mark.parametrize(
    "compile_args, match",
    [
        ({"loss": ["mse"]}, "1 entries for a model with 2 outputs"),
        ({"loss": "mse", "loss_weights": [1.0, 2.0]}, "got 1 losses and 2 weights"),
        ({"loss": "mse", "metrics": ["mae"]}, "Invalid `metrics`"),
        ({"loss": "msee"}, "msee"),
    ],
)
def test_compile_errors(compile_args, match):
    with pytest.raises(ValueError, match=match):
        two_input_model().compile(optimizer="sgd", **compile_args)


def test_loss_dict_missing_an_output_fails_at_fit_as_keras():
    # Keras 3.15 accepts this compile (keras.io's training guide does it) and raises when the
    # loss is first computed; nothing has changed by then
    model = two_input_model()
    model.compile(optimizer="sgd", loss={"out_a": "mse"})
    before = model.get_weights()
    x, y = two_input_data(n=4)
    with pytest.raises(ValueError, match=r"Expected keys \['out_a', 'out_b'\] in loss dict"):
        model.fit(x, y, verbose=0)
    assert all(np.array_equal(a, b) for a, b in zip(before, model.get_weights()))


def test_data_errors_name_the_inputs_and_outputs():
    model = two_input_model()
    model.compile(optimizer="sgd", loss="mse")
    x, y = two_input_data(n=4)
    with pytest.raises(ValueError, match=r"expects 2 input\(s\), but it received 1 input tensors"):
        model.fit(x[0], y, verbose=0)
    with pytest.raises(ValueError, match='layer "in_b" is incompatible'):
        model.fit([x[0], x[0]], y, verbose=0)
    with pytest.raises(ValueError, match="cardinality"):
        model.fit([x[0], x[1][:3]], y, verbose=0)
    with pytest.raises(ValueError, match=r"outputs \['nope'\]"):
        model.fit(x, {"nope": y[0]}, verbose=0)
    with pytest.raises(ValueError, match="only supported for Models with a single output"):
        model.fit(x, y, class_weight={0: 1.0, 1: 2.0}, verbose=0)


# ---------------------------------------------------------------------- errors at construction
def test_output_not_reachable_from_the_inputs():
    a, b = Input((3,), name="a"), Input((3,), name="b")
    with pytest.raises(ValueError, match="Graph disconnected.*'b'.*not among the model's inputs"):
        Model(a, Dense(1)(Add()([a, b])))


def test_an_input_never_used_is_accepted_as_keras_accepts_it(keras):
    def build(lib):
        a = lib.layers.Input((3,), name="a")
        b = lib.layers.Input((2,), name="unused")
        return lib.Model([a, b], lib.layers.Dense(1, name="out")(a))

    ours, theirs = build(minikeras), build(keras)
    assert [layer.name for layer in ours.layers] == [layer.name for layer in theirs.layers]
    theirs.set_weights(ours.get_weights())
    x = [np.ones((4, 3), "float32"), np.zeros((4, 2), "float32")]
    np.testing.assert_allclose(ours.predict(x, verbose=0), theirs.predict(x, verbose=0), rtol=1e-6)


def test_a_cycle():
    x = Input((3,))
    d1, d2 = Dense(3, name="d1"), Dense(3, name="d2")
    h = d1(x)
    out = d2(h)
    h.node.inputs = h.node.input_tensors = [out]  # rewire d1 to read d2's output
    with pytest.raises(ValueError, match="part of a cycle"):
        Model(x, out)


def test_duplicate_layer_names():
    x = Input((3,))
    h = Dense(3, name="dup")(Dense(3, name="dup")(x))
    with pytest.raises(ValueError, match='The name "dup" is used 2 times in the model'):
        Model(x, h)


def test_merge_of_incompatible_shapes_names_both():
    with pytest.raises(ValueError, match=r"Received shapes \(3,\) and \(4,\)"):
        Add()([Dense(3)(Input((2,))), Dense(4)(Input((2,)))])


def test_inputs_must_be_keras_tensors():
    x = Input((3,))
    with pytest.raises(ValueError, match="must be KerasTensors"):
        Model(np.ones((2, 3)), Dense(1)(x))


# ---------------------------------------------------------------------- summary, config
# Keras 3.15.1's summary of two_input_model() (80-column terminal, no colours)
TWO_INPUT_SUMMARY = """\
Model: "two"
┏━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━┓
┃ Layer (type)        ┃ Output Shape      ┃    Param # ┃ Connected to      ┃
┡━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━┩
│ in_b (InputLayer)   │ (None, 3)         │          0 │ -                 │
├─────────────────────┼───────────────────┼────────────┼───────────────────┤
│ pa (Dense)          │ (None, 4)         │         16 │ in_b[0][0]        │
├─────────────────────┼───────────────────┼────────────┼───────────────────┤
│ in_a (InputLayer)   │ (None, 4)         │          0 │ -                 │
├─────────────────────┼───────────────────┼────────────┼───────────────────┤
│ shared (Dense)      │ (None, 5)         │         25 │ pa[0][0],         │
│                     │                   │            │ in_a[0][0]        │
├─────────────────────┼───────────────────┼────────────┼───────────────────┤
│ concatenate         │ (None, 10)        │          0 │ shared[0][0],     │
│ (Concatenate)       │                   │            │ shared[1][0]      │
├─────────────────────┼───────────────────┼────────────┼───────────────────┤
│ out_a (Dense)       │ (None, 2)         │         22 │ concatenate[0][0] │
├─────────────────────┼───────────────────┼────────────┼───────────────────┤
│ out_b (Dense)       │ (None, 1)         │         11 │ concatenate[0][0] │
└─────────────────────┴───────────────────┴────────────┴───────────────────┘
 Total params: 74 (296.00 B)
 Trainable params: 74 (296.00 B)
 Non-trainable params: 0 (0.00 B)"""


def test_summary_prints_keras_functional_table():
    lines = []
    two_input_model().summary(print_fn=lines.append)
    assert "\n".join(lines) == TWO_INPUT_SUMMARY + "\n"  # Keras's print_fn gets a final newline


def test_summary_of_a_chain_has_no_connections_column():
    x = Input((2,), name="x1")
    lines = []
    Model(x, Dense(2, name="o3")(x)).summary(print_fn=lines.append)
    table = "\n".join(lines)
    assert "Connected to" not in table
    assert "│ x1 (InputLayer)                 │ (None, 2)              │             0 │" in table


def test_summary_cuts_a_word_too_long_for_its_column_as_keras():
    a = Input((3,), name="a_really_long_input_name_that_wont_fit")
    b = Input((3,), name="b")
    model = Model([a, b], Dense(1, name="o")(Concatenate(name="cc")([a, b, b])))
    lines = []
    model.summary(print_fn=lines.append)
    table = "\n".join(lines)
    # as Keras prints it: the word cut with an ellipsis, the next words on the next lines
    assert "│ a_really_long_inpu… │ (None, 3)         │          0 │ -                 │" in table
    assert "│ (InputLayer)        │                   │            │                   │" in table
    assert "│ cc (Concatenate)    │ (None, 9)         │          0 │ a_really_long_in… │" in table
    assert "│                     │                   │            │ b[0][0], b[0][0]  │" in table


def test_config_in_keras_schema():
    config = two_input_model().get_config()
    assert set(config) == {"name", "trainable", "layers", "input_layers", "output_layers"}
    assert config["input_layers"] == [["in_a", 0, 0], ["in_b", 0, 0]]
    assert config["output_layers"] == [["out_a", 0, 0], ["out_b", 0, 0]]
    shared = next(entry for entry in config["layers"] if entry["name"] == "shared")
    histories = [node["args"][0]["config"]["keras_history"] for node in shared["inbound_nodes"]]
    assert histories == [["pa", 0, 0], ["in_a", 0, 0]]
    concat = next(entry for entry in config["layers"] if entry["name"] == "concatenate")
    (call,) = concat["inbound_nodes"]
    assert [t["config"]["keras_history"] for t in call["args"][0]] == [
        ["shared", 0, 0], ["shared", 1, 0],
    ]  # fmt: skip


def test_config_round_trip(float64):
    model = two_input_model()
    copy = Model.from_config(model.get_config())
    assert type(copy) is Functional
    assert copy.get_config() == model.get_config()
    copy.set_weights(model.get_weights())
    x, _ = two_input_data()
    for ours, theirs in zip(model.predict(x, verbose=0), copy.predict(x, verbose=0)):
        np.testing.assert_array_equal(ours, theirs)
    assert len(copy.get_layer("shared")._inbound_nodes) == 2  # still shared


def test_config_round_trip_with_nested_models():
    tower = Sequential([Input((3,)), Dense(4, name="t1")], name="tower")
    a = Input((3,), name="a")
    inner = Model(a, Dense(3, name="inner_d")(a), name="inner")
    c = Input((3,), name="c")
    model = Model(c, tower(inner(c)), name="outer")
    config = model.get_config()
    assert config["output_layers"] == ["tower", 0, 0]
    copy = Functional.from_config(config)
    assert [layer.name for layer in copy.layers] == ["c", "inner", "tower"]
    assert [type(layer).__name__ for layer in copy.layers] == [
        "InputLayer", "Functional", "Sequential",
    ]  # fmt: skip
    assert copy.get_config() == config


def test_the_docs_page_examples_run():
    """docs/backprop-through-a-graph.md works an example through: its numbers must hold."""
    page = pathlib.Path(__file__).resolve().parents[2] / "docs" / "backprop-through-a-graph.md"
    result = doctest.testfile(str(page), module_relative=False)
    assert result.attempted > 5 and result.failed == 0
