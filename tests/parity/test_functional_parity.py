"""Functional models against real Keras: each graph is built twice by the same code (once with
minikeras, once with keras), the weights copied across, then forward, gradients, a whole
`fit(shuffle=False)` History, the weights after it, `evaluate` and `predict` are compared; so are
the summary, the config (each side loads the other's) and random graphs (hypothesis).

Differences are normwise, max|a − b| / max(‖a‖∞, ‖b‖∞) per component, held to the parity
suite's tolerances (minikeras/parity/compare.py, docs/parity.md):
- float64: 1e-10. Both sides round at 2⁻⁵³ ≈ 1.1e-16 and add in different orders; after a few
  epochs of these small models what is left is < 1e-14.
- float32: 1e-5 for one pass plus 1e-6 per training step. One pass through these ≤ 4-layer
  graphs of ≤ 12-term dot products rounds at u = 2⁻²⁴ ≈ 6e-8 a few dozen times on each side,
  independently; each update adds at most one pass's error scaled by the learning rate (≤ 0.05
  here) plus the rounding of the update itself, about 1e-6 per step (the parity suite's
  reasoning, docs/parity.md).

The `keras` fixture (tests/conftest.py) skips these tests without Keras, and fails them when
MINIKERAS_REQUIRE_KERAS=1.
"""

import json

import numpy as np
import pytest
import strategies
from hypothesis import HealthCheck, given, settings
from layer_twins import assert_trained_alike, fit_both, floatx, rel

import minikeras
from minikeras.parity.compare import tolerance

FLOAT64_TOLERANCE = tolerance("float64")


# ---------------------------------------------------------------------- the graphs, built by K
# K is `minikeras` or `keras`: the same code builds both twins.
def shared_concat(K):
    """Two inputs, one Dense shared by both branches, Concatenate, one sigmoid output."""
    a, b = K.Input(shape=(4,), name="in_a"), K.Input(shape=(4,), name="in_b")
    shared = K.layers.Dense(5, activation="tanh", name="shared")
    h = K.layers.Concatenate(name="joined")([shared(a), shared(K.layers.Dense(4, name="pre")(b))])
    out = K.layers.Dense(1, activation="sigmoid", name="out")(h)
    return K.Model([a, b], out, name="shared_concat")


def two_heads(K):
    """One input, two outputs: a softmax classifier and a linear regressor."""
    x = K.Input(shape=(5,), name="x")
    h = K.layers.Dense(6, activation="relu", name="trunk")(x)
    cls = K.layers.Dense(3, activation="softmax", name="cls")(h)
    reg = K.layers.Dense(2, name="reg")(K.layers.Dense(4, activation="tanh", name="mid")(h))
    return K.Model(x, [cls, reg], name="two_heads")


def residual(K):
    """A residual block: y = x + f(x), then a head."""
    x = K.Input(shape=(6,), name="x")
    h = K.layers.Dense(6, activation="tanh", name="f1")(x)
    h = K.layers.Dense(6, name="f2")(h)
    out = K.layers.Dense(1, name="out")(K.layers.Add(name="skip")([x, h]))
    return K.Model(x, out, name="residual")


def shared_concat_data(rng, n):
    x = [rng.normal(size=(n, 4)), rng.normal(size=(n, 4))]
    return x, rng.integers(0, 2, size=(n, 1)).astype(float)


def two_heads_data(rng, n):
    x = rng.normal(size=(n, 5))
    return x, [np.eye(3)[rng.integers(0, 3, n)], rng.normal(size=(n, 2))]


def residual_data(rng, n):
    x = rng.normal(size=(n, 6))
    return x, x[:, :1] - 0.5 * x[:, 1:2] + 0.1 * rng.normal(size=(n, 1))


CASES = {
    "shared_concat": (
        shared_concat,
        shared_concat_data,
        dict(loss="binary_crossentropy", metrics=["accuracy"]),
        ("SGD", dict(learning_rate=0.05, momentum=0.9)),
    ),
    "two_heads": (
        two_heads,
        two_heads_data,
        dict(
            loss={"cls": "categorical_crossentropy", "reg": "mse"},
            loss_weights={"cls": 1.0, "reg": 0.3},
            metrics={"cls": ["accuracy"], "reg": ["mae"]},
        ),
        ("Adam", dict(learning_rate=0.01)),
    ),
    "residual": (
        residual,
        residual_data,
        dict(loss="mse", metrics=["mae"]),
        ("RMSprop", dict(learning_rate=0.01)),
    ),
}


def twins(keras, name):
    """(minikeras model, Keras model) of one case, with the same weights."""
    build = CASES[name][0]
    ours, theirs = build(minikeras), build(keras)
    assert [layer.name for layer in ours.layers] == [layer.name for layer in theirs.layers]
    assert [w.shape for w in ours.get_weights()] == [tuple(w.shape) for w in theirs.weights]
    theirs.set_weights(ours.get_weights())
    return ours, theirs


def compile_both(keras, ours, theirs, name):
    _, _, compile_args, (optimizer, options) = CASES[name]
    ours.compile(optimizer=getattr(minikeras.optimizers, optimizer)(**options), **compile_args)
    theirs.compile(optimizer=getattr(keras.optimizers, optimizer)(**options), **compile_args)


def predictions(model, x):
    """`model.predict(x)` as a list, one array per output."""
    value = model.predict(x, verbose=0)
    return value if isinstance(value, list) else [value]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name", list(CASES))
def test_fit_history_weights_and_predictions(keras, name, dtype):
    with floatx(keras, dtype):
        ours, theirs = twins(keras, name)
        compile_both(keras, ours, theirs, name)
        rng = np.random.default_rng(0)
        x, y = CASES[name][1](rng, 40)
        # 30 training samples in batches of 8 (the last one partial), 10 for validation; the
        # sample weights weigh every output's loss
        fit = dict(epochs=3, batch_size=8, validation_split=0.25, shuffle=False, verbose=0)
        fit["sample_weight"] = rng.uniform(0.5, 2.0, size=40)
        ours_history, theirs_history, drift = fit_both(ours, theirs, x, y, **fit)
        steps = 3 * 4
        assert sorted(ours_history) == sorted(theirs_history)
        for key, values in theirs_history.items():
            assert rel(ours_history[key], values) < tolerance(dtype, steps), key
        # Adam and RMSprop turn float32 rounding into larger steps where a gradient entry is
        # near zero: the weights are held to the drift bound of the steps taken (layer_twins)
        assert_trained_alike(ours, theirs, tolerance(dtype, steps), drift)
        # predict and evaluate on the same (Keras's) weights: one pass's tolerance
        ours.set_weights(theirs.get_weights())
        for p, q in zip(predictions(ours, x), predictions(theirs, x)):
            assert rel(p, q) < tolerance(dtype)
        ours_eval = ours.evaluate(x, y, batch_size=16, verbose=0)
        theirs_eval = theirs.evaluate(x, y, batch_size=16, verbose=0)
        assert rel(ours_eval, theirs_eval) < tolerance(dtype)  # same values, same order


@pytest.mark.parametrize("name", list(CASES))
def test_gradients_match_tensorflow(keras, name):
    """dL/dw of the hand-written backward against tf.GradientTape on the loss as fit computes
    it (the compile loss of Keras's trainer, logits path included), float64."""
    import tensorflow as tf

    with floatx(keras, "float64"):
        ours, theirs = twins(keras, name)
        compile_both(keras, ours, theirs, name)
        x, y = CASES[name][1](np.random.default_rng(1), 12)
        ours_x, ours_y, _ = ours.prepare_data(x, y)
        _, loss, _ = ours.compute_gradients(ours_x, ours_y)
        with tf.GradientTape() as tape:
            theirs_loss = theirs.compute_loss(
                x=x, y=y, y_pred=theirs(x, training=True), training=True
            )
        theirs_grads = tape.gradient(theirs_loss, theirs.trainable_weights)
        assert rel(loss, theirs_loss) < FLOAT64_TOLERANCE
        for ours_grad, theirs_grad in zip(ours.grads, theirs_grads):
            assert rel(ours_grad, theirs_grad) < FLOAT64_TOLERANCE


@pytest.mark.parametrize("name", list(CASES))
def test_summary_as_keras_prints_it(keras, name, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")  # Keras sizes its table to the terminal
    with floatx(keras, "float32"):
        ours, theirs = twins(keras, name)
        printed = {}
        for side, model in (("ours", ours), ("theirs", theirs)):
            lines = []
            model.summary(print_fn=lines.append)
            printed[side] = "\n".join(lines).rstrip("\n")
        assert printed["ours"] == printed["theirs"]


@pytest.mark.parametrize("name", list(CASES))
def test_each_side_loads_the_others_config(keras, name):
    with floatx(keras, "float32"):
        ours, theirs = twins(keras, name)
        x, _ = CASES[name][1](np.random.default_rng(2), 6)
        from_ours = keras.Model.from_config(json.loads(json.dumps(ours.get_config())))
        from_theirs = minikeras.Model.from_config(json.loads(json.dumps(theirs.get_config())))
        for model in (from_ours, from_theirs):
            assert [layer.name for layer in model.layers] == [layer.name for layer in ours.layers]
            model.set_weights(ours.get_weights())
            for p, q in zip(predictions(model, x), predictions(ours, x)):
                assert rel(p, q) < tolerance("float32")


MERGES = ["Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum", "Concatenate"]


@pytest.mark.parametrize("merge", MERGES)
def test_merge_layers_forward_and_backward_match_tensorflow(keras, merge):
    """Each merge layer's output and input gradients, against tf.GradientTape (float64);
    with ties between the inputs, so Maximum and Minimum's tie rule is checked too."""
    import tensorflow as tf

    rng = np.random.default_rng(3)
    n = 2 if merge == "Subtract" else 3
    xs = [rng.integers(-2, 3, size=(4, 5)).astype(np.float64) for _ in range(n)]  # many ties
    r = rng.normal(size=(4, 5 * n if merge == "Concatenate" else 5))
    layer = getattr(minikeras.layers, merge)(dtype="float64")
    y = layer(xs)
    grads = layer.backward(r)
    variables = [tf.Variable(x) for x in xs]
    with tf.GradientTape() as tape:
        keras_y = getattr(keras.layers, merge)(dtype="float64")(variables)
        total = tf.reduce_sum(keras_y * r)
    np.testing.assert_array_equal(y, keras_y.numpy())
    for ours, theirs in zip(grads, tape.gradient(total, variables)):
        np.testing.assert_array_equal(ours, theirs.numpy())


def build_recipe(K, recipe):
    """A `strategies.dag_recipes` graph built with library K (see tests/unit/test_functional)."""
    width = recipe["width"]
    inputs = [K.Input(shape=(width,), name=f"in_{i}") for i in range(recipe["inputs"])]
    tensors, consumed, made = list(inputs), set(), {}
    merges = {"add": "Add", "subtract": "Subtract", "multiply": "Multiply", "average": "Average"}
    for i, step in enumerate(recipe["steps"]):
        if step[0] == "dense":
            _, source, shared = step
            made[i] = made[shared] if shared is not None else K.layers.Dense(width, "tanh")
            tensors.append(made[i](tensors[source]))
            consumed.add(source)
        else:
            sources = step[2] if step[0] == "merge" else step[1]
            args = [tensors[s] for s in sources]
            if step[0] == "merge":
                tensors.append(getattr(K.layers, merges[step[1]])()(args))
            else:
                tensors.append(K.layers.Dense(width, "tanh")(K.layers.Concatenate()(args)))
            consumed.update(sources)
    leaves = [tensors[j] for j in range(len(tensors)) if j not in consumed]
    final = K.layers.Add()(leaves) if len(leaves) > 1 else leaves[0]
    outputs = [K.layers.Dense(2, name="out_0")(final)]
    if recipe["outputs"] == 2:
        outputs.append(K.layers.Dense(1, name="out_1")(tensors[-1]))
    return K.Model(inputs, outputs)


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(recipe=strategies.dag_recipes(max_steps=5))
def test_random_graphs_match_keras(keras, recipe):
    """Layer order, forward, and one training step's weights, float64."""
    with floatx(keras, "float64"):
        ours, theirs = build_recipe(minikeras, recipe), build_recipe(keras, recipe)
        assert [type(layer).__name__ for layer in ours.layers] == [
            type(layer).__name__ for layer in theirs.layers
        ]
        theirs.set_weights(ours.get_weights())
        rng = np.random.default_rng(4)
        x = [rng.normal(size=(5, recipe["width"])) for _ in ours.inputs]
        y = [rng.normal(size=(5,) + tuple(t.shape[1:])) for t in ours.outputs]
        for p, q in zip(predictions(ours, x), predictions(theirs, x)):
            assert rel(p, q) < FLOAT64_TOLERANCE
        ours.compile(optimizer=minikeras.optimizers.SGD(0.1), loss="mse")
        theirs.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
        ours_loss = ours.train_on_batch(x, y, return_dict=True)["loss"]
        theirs_loss = theirs.train_on_batch(x, y, return_dict=True)["loss"]
        assert rel(ours_loss, theirs_loss) < FLOAT64_TOLERANCE
        for w, v in zip(ours.get_weights(), theirs.get_weights()):
            assert rel(w, v) < FLOAT64_TOLERANCE


def test_a_keras_graph_with_shared_sub_models_loads_and_writes_back_the_same_config(keras):
    """A Sequential shared by two branches, a Functional called three times, two outputs:
    minikeras reads Keras's config, computes the same outputs, and writes the config back as
    Keras wrote it (node indices, nested models, shapes, everything)."""
    with floatx(keras, "float32"):
        layers = keras.layers
        tower = keras.Sequential(
            [keras.Input((3,)), layers.Dense(4, activation="relu", name="t1")], name="tower"
        )
        a, b, c = (keras.Input((3,), name=name) for name in "abc")
        inner = keras.Model(a, layers.Dense(3, name="inner_d")(a), name="inner")
        d = layers.Subtract()([tower(inner(c)), tower(b)])
        outputs = [layers.Dense(1, name="o")(d), layers.Maximum()([inner(b), inner(c)])]
        theirs = keras.Model([c, b], outputs)
        config = json.loads(json.dumps(theirs.get_config()))
        ours = minikeras.Model.from_config(config)
        assert [layer.name for layer in ours.layers] == [layer.name for layer in theirs.layers]
        assert json.loads(json.dumps(ours.get_config())) == config
        ours.set_weights(theirs.get_weights())
        x = [np.random.default_rng(5).normal(size=(4, 3)) for _ in range(2)]
        for p, q in zip(predictions(ours, x), predictions(theirs, x)):
            assert rel(p, q) < tolerance("float32")
