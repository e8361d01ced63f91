"""`minikeras.trainers.CompileLoss` and `CompileMetrics` against Keras's, on the same arrays:
the terms' names, the total, each term's tracked value, the gradient with respect to every
output (against `tf.GradientTape`), the metrics' log names and results, and the errors.

Everything is float64 (Keras's CompileLoss and its trackers compute in floatx, set to float64 on
both sides here), so values agree to 1e-10 relative: the same sums, up to rounding;
the metrics' results too."""

import numpy as np
import pytest

from minikeras import ops
from minikeras.trainers import CompileLoss, CompileMetrics

RTOL = 1e-10


@pytest.fixture
def k64(keras):
    from minikeras import config

    keras.config.set_floatx("float64")
    keras.config.set_dtype_policy("float64")  # (the autouse fixture pins it to float32)
    config.set_floatx("float64")  # the trackers' totals too (the autouse fixture restores)
    return keras


def arrays(seed, shapes):
    rng = np.random.default_rng(seed)
    return [rng.random(shape) for shape in shapes]


def branch_loss(lib):
    """A loss of yours over a branch of the outputs: Σ of the MAE of each leaf, per sample."""

    def loss_fn(y_true, y_pred):
        flat_true, flat_pred = lib.tree.flatten(y_true), lib.tree.flatten(y_pred)
        return sum(lib.losses.mean_absolute_error(t, p) for t, p in zip(flat_true, flat_pred))

    return loss_fn


def structures(lib):
    """(loss, loss_weights, output_names, y_true, y_pred) for several layouts."""
    a, b, c, d = arrays(0, [(4, 2)] * 4)
    pa, pb, pc, pd = arrays(1, [(4, 2)] * 4)
    fn = branch_loss(lib)
    return {
        "nested_dict": (
            {"a": {"c": "mse", "d": "mae"}},
            None,
            ["c", "d", "b"],
            {"a": {"c": a, "d": b}, "b": c},
            {"a": {"c": pa, "d": pb}, "b": pc},
        ),
        "several_losses_one_output": (
            ["mse", ["mse", "mae"]],
            None,
            ["out_a", "out_b"],
            [a, b],
            [pa, pb],
        ),
        "branch_losses": (
            {"a": [fn, (None, fn)], "d": fn},
            None,
            ["y1", "y2", "y3"],
            {"a": (a, b), "d": c},
            {"a": (pa, pb), "d": pc},
        ),
        "list_weights": (
            ["mse", "huber", "mae"],
            [0.5, 2.0, 0.25],
            ["x", "y", "z"],
            [a, b, c],
            [pa, pb, pc],
        ),
        "partial_labels": ([None, "mse", "mae"], None, ["x", "y", "z"], [b, c], [pa, pb, pc]),
        "dict_weights_broadcast": (
            "mse",
            None,
            ["a", "b"],
            {"a": a, "b": d},
            {"a": pa, "b": pd},
        ),
    }


LOSS_CASES = [
    "nested_dict",
    "several_losses_one_output",
    "branch_losses",
    "list_weights",
    "partial_labels",
    "dict_weights_broadcast",
]


@pytest.mark.parametrize("case", LOSS_CASES)
def test_loss_value_names_and_trackers_as_keras(k64, case):
    import minikeras

    results = []
    for lib, cls in ((k64, k64.src.trainers.compile_utils.CompileLoss), (minikeras, CompileLoss)):
        loss, weights, names, y_true, y_pred = structures(lib)[case]
        compile_loss = cls(loss=loss, loss_weights=weights, output_names=names)
        value = compile_loss(y_true, y_pred)
        value = compile_loss(y_true, y_pred)  # built now: a second call adds to the trackers
        tracked = {m.name: float(m.result()) for m in compile_loss.metrics}
        results.append((float(np.asarray(value)), tracked))
    (k_value, k_tracked), (m_value, m_tracked) = results
    np.testing.assert_allclose(m_value, k_value, rtol=RTOL)
    assert list(m_tracked) == list(k_tracked)
    for name in k_tracked:
        np.testing.assert_allclose(m_tracked[name], k_tracked[name], rtol=RTOL)


@pytest.mark.parametrize("case", ["nested_dict", "branch_losses", "several_losses_one_output"])
def test_gradients_as_tf_gradient_tape(k64, case):
    import tensorflow as tf

    loss, weights, names, y_true, y_pred = structures(k64)[case]
    keras_loss = k64.src.trainers.compile_utils.CompileLoss(loss, weights, output_names=names)
    flat = [tf.Variable(p) for p in k64.tree.flatten(y_pred)]
    with tf.GradientTape() as tape:
        k_value = keras_loss(y_true, k64.tree.pack_sequence_as(y_pred, flat))
    k_grads = tape.gradient(k_value, flat)

    import minikeras

    loss, weights, names, y_true, y_pred = structures(minikeras)[case]
    value, grads, _ = CompileLoss(loss, weights, output_names=names).value_and_grads(y_true, y_pred)
    np.testing.assert_allclose(value, k_value.numpy(), rtol=RTOL)
    for mine, theirs in zip(grads, k_grads):
        theirs = np.zeros_like(mine) if theirs is None else theirs.numpy()
        np.testing.assert_allclose(mine, theirs, rtol=RTOL, atol=1e-15)


def test_struct_loss_of_ops_is_recorded_whole():
    """Negative control of the tape path: the branch loss written with ops gets the gradient
    of the mean of |y − p| summed over two leaves: sign(p − y) / (rows · columns)."""
    y, p = arrays(2, [(3, 2), (3, 2)])
    fn = lambda t, q: ops.mean(ops.abs(q[0] - t[0]), axis=-1) + ops.mean(ops.abs(q[1]), axis=-1)  # noqa: E731
    # a list of one loss for a tuple of outputs: the loss of the whole tuple (a lone `fn`
    # would be applied to each output apart)
    _, grads, _ = CompileLoss([fn]).value_and_grads((y, y), (p, p))
    np.testing.assert_allclose(grads[0], np.sign(p - y) / 6, rtol=RTOL)
    np.testing.assert_allclose(grads[1], np.sign(p) / 6, rtol=RTOL)


def metric_cases(lib):
    m = lib.metrics
    return {
        "names": (["acc", "accuracy", "mse", "mae"], ["mse"], None),
        "deeply_nested": (
            {"a": m.MeanSquaredError(name="mse_a"), "b": {"c": "mae", "d": ["mse", "acc"]}},
            None,
            ["o1", "o2", "o3", "o4"],
        ),
        "dict_reordered": ({"b": ["mae", "mse"], "a": "mse"}, {"a": "mse", "b": "mse"}, ["b", "a"]),
    }


def metric_data(case):
    shapes = {
        "names": ([(6, 3)], None),
        "deeply_nested": ([(6, 2), (6, 3), (6, 1), (6, 4)], "nested"),
        "dict_reordered": ([(6, 2), (6, 5)], "dict"),
    }[case]
    y = [np.round(a) for a in arrays(3, shapes[0])]
    p = arrays(4, shapes[0])
    if shapes[1] == "nested":
        pack = lambda v: {"a": v[0], "b": {"c": v[1], "d": [v[2], v[3]]}}  # noqa: E731
    elif shapes[1] == "dict":
        pack = lambda v: {"a": v[0], "b": v[1]}  # noqa: E731
    else:
        pack = lambda v: v[0]  # noqa: E731
    weights = np.array([1.0, 0.0, 2.0, 0.5, 1.0, 3.0])
    return pack(y), pack(p), weights


@pytest.mark.parametrize("case", ["names", "deeply_nested", "dict_reordered"])
def test_metrics_names_order_and_results_as_keras(k64, case):
    import minikeras

    results = []
    for lib, cls in (
        (k64, k64.src.trainers.compile_utils.CompileMetrics),
        (minikeras, CompileMetrics),
    ):
        metrics, weighted, names = metric_cases(lib)[case]
        compile_metrics = cls(metrics, weighted, output_names=names)
        y, p, w = metric_data(case)
        compile_metrics.update_state(y, p, sample_weight=w)
        compile_metrics.update_state(y, p)
        results.append({k: float(v) for k, v in compile_metrics.result().items()})
    assert list(results[1]) == list(results[0])
    for name in results[0]:
        np.testing.assert_allclose(results[1][name], results[0][name], rtol=RTOL)


def errors(lib, cls_loss, cls_metrics):
    """Each error as (type, first line of the message)."""
    y = {"a": {"c": np.ones((2, 1)), "d": np.ones((2, 1))}, "b": np.ones((2, 1))}
    found = []
    attempts = [
        lambda: cls_loss(
            {"a": {"c": "mse"}, "b": {"d": "mae"}}, output_names=["c", "d", "b"]
        ).build(y, y),
        lambda: cls_loss({"a": {"c": "mse", "d": "mae"}}, [1], output_names=["c", "d", "b"]).build(
            y, y
        ),
        lambda: cls_loss(["mse", "mse"], output_names=["a", "b"])(
            [np.ones((1, 1))], [np.ones((1, 1))] * 2
        ),
        lambda: cls_loss({"x": "mse", "b": "mse"}, output_names=["a", "b"]).build(
            [y["b"]] * 2, [y["b"]] * 2
        ),
        lambda: cls_metrics({"c": "mse"}, None, output_names=["a", "b"]).build(
            [y["b"]] * 2, [y["b"]] * 2
        ),
        lambda: cls_metrics("mse", None),
        lambda: cls_loss("mse", loss_weights="heavy"),
    ]
    for attempt in attempts:
        with pytest.raises(Exception) as info:
            attempt()
        found.append(
            (type(info.value).__name__, str(info.value).split("\n")[0].split("Received")[0])
        )
    return found


def test_errors_as_keras(keras):
    from keras.src.trainers import compile_utils

    expected = errors(keras, compile_utils.CompileLoss, compile_utils.CompileMetrics)
    assert errors(None, CompileLoss, CompileMetrics)[:4] == expected[:4]
    # the metrics' and weights' messages: Keras's own words after the structure error
    mine = errors(None, CompileLoss, CompileMetrics)[4:]
    assert [t for t, _ in mine] == [t for t, _ in expected[4:]]
    assert all(m[1][:40] == e[1][:40] for m, e in zip(mine[1:], expected[5:]))
