"""Control flow ops (scan, map, associative_scan, loops, cond, switch), custom_gradient, the
core ops' Keras shape rules, and minikeras.tree, without Keras.

Values are checked against NumPy written out by hand (np.cumsum, a Python loop); gradients
through the tape against central differences in float64 (tests/unit/gradcheck.py: a central
difference with ε ≈ 1e-6 is accurate to ~1e-10 on these smooth functions; checked at rtol
1e-6, atol 1e-8).
"""

import operator

import numpy as np
import pytest
from gradcheck import assert_gradient_close, numerical_gradient

from minikeras import layers, ops, tree
from minikeras.autodiff import GradientTape, Tensor
from minikeras.backend import KerasTensor
from minikeras.ops import core

RNG = np.random.default_rng(11)


def gradients(f, *arrays):
    """The tape's gradients of the scalar f(*Tensors) with respect to each array."""
    tensors = [Tensor(a) for a in arrays]
    with GradientTape() as tape:
        for t in tensors:
            tape.watch(t)
        y = f(*tensors)
    return tape.gradient(y, tensors)


def check_numerically(f, *arrays):
    for array, grad in zip(arrays, gradients(f, *arrays)):
        numeric = numerical_gradient(lambda: float(np.asarray(f(*arrays))), array)
        assert_gradient_close(grad, numeric, rtol=1e-6, atol=1e-8)


# ---------------------------------------------------------------- values
def test_scan_is_a_cumulative_sum_forwards_and_backwards():
    xs = RNG.normal(size=6)
    carry, ys = ops.scan(lambda c, x: (c + x, c + x), np.array(0.0), xs)
    np.testing.assert_allclose(ys, np.cumsum(xs), rtol=1e-15)
    carry, ys = ops.scan(lambda c, x: (c + x, c + x), np.array(0.0), xs, reverse=True)
    # walked from the end, stacked in the order of xs
    np.testing.assert_allclose(ys, np.cumsum(xs[::-1])[::-1], rtol=1e-15)
    np.testing.assert_allclose(carry, xs.sum(), rtol=1e-15)


def test_scan_without_xs_and_with_nested_carry_and_xs():
    (a, b), ys = ops.scan(lambda c, _: ((c[1], c[0] + c[1]), None), (0.0, 1.0), length=6)
    assert (float(a), float(b), ys) == (8.0, 13.0, None)
    xs = {"u": np.arange(3.0), "v": 10 * np.arange(3.0)}
    carry, ys = ops.scan(lambda c, x: ({"n": c["n"] + 1}, x["u"] + x["v"]), {"n": 0}, xs)
    assert int(carry["n"]) == 3
    np.testing.assert_array_equal(ys, [0.0, 11.0, 22.0])


def test_scan_rejects_bad_arguments_before_running():
    with pytest.raises(TypeError, match="should be a callable"):
        ops.scan(123, 0.0, np.ones(3))
    with pytest.raises(ValueError, match="positive integer or boolean"):
        ops.scan(lambda c, x: (c, x), 0.0, np.ones(3), unroll=0)
    with pytest.raises(ValueError, match="`length` not provided"):
        ops.scan(lambda c, x: (c, x), 0.0)


@pytest.mark.parametrize("length", [1, 2, 3, 4, 5, 7, 8, 9])
def test_associative_scan_is_cumsum_for_every_length(length):
    x = RNG.normal(size=(length, 3))
    np.testing.assert_allclose(ops.associative_scan(operator.add, x), np.cumsum(x, 0), atol=1e-14)
    np.testing.assert_allclose(
        ops.associative_scan(operator.add, x.T, axis=1), np.cumsum(x.T, 1), atol=1e-14
    )
    reverse = ops.associative_scan(operator.add, x, reverse=True)
    np.testing.assert_allclose(reverse, np.cumsum(x[::-1], 0)[::-1], atol=1e-14)


def test_associative_scan_of_a_linear_recurrence_matches_the_loop():
    # h_t = a_t·h_{t−1} + b_t, as pairs (a, b) composed associatively (the scan of Mamba)
    a, b = RNG.uniform(0.5, 1.0, size=(7, 2)), RNG.normal(size=(7, 2))
    h, expected = np.zeros(2), []
    for t in range(7):
        h = a[t] * h + b[t]
        expected.append(h)

    def compose(first, second):
        return first[0] * second[0], second[0] * first[1] + second[1]

    _, hs = ops.associative_scan(compose, (a, b))
    np.testing.assert_allclose(hs, expected, rtol=1e-13)


def test_associative_scan_needs_equal_lengths():
    with pytest.raises(ValueError, match="same first dimension"):
        ops.associative_scan(lambda x, y: x, (np.ones(2), np.ones(3)))


def test_map_and_vectorized_map_stack_nested_results():
    xs = RNG.normal(size=(4, 3))
    out = ops.map(lambda x: {"sq": x**2, "sum": ops.sum(x)}, xs)
    np.testing.assert_allclose(out["sq"], xs**2)
    np.testing.assert_allclose(out["sum"], xs.sum(axis=1))
    both = ops.vectorized_map(lambda pair: pair[0] - pair[1], [xs, 2 * xs])
    np.testing.assert_allclose(both, -xs)


def test_vectorize_is_numpy_vectorize_with_broadcasting_signature_and_excluded():
    a, b = RNG.normal(size=(2, 3)), RNG.normal(size=3)
    f = lambda x, y: ops.sin(x) * y + 1  # noqa: E731
    np.testing.assert_allclose(ops.vectorize(f)(a, b), np.sin(a) * b + 1, rtol=1e-15)
    m, v = RNG.normal(size=(4, 2, 3)), RNG.normal(size=3)
    matvec = ops.vectorize(lambda m, v: ops.matmul(m, v), signature="(m,n),(n)->(m)")
    np.testing.assert_allclose(matvec(m, v), m @ v, rtol=1e-14)
    scaled = ops.vectorize(lambda x, k: x * k, excluded={1})
    np.testing.assert_allclose(scaled(b, 3.0), 3.0 * b)
    check_numerically(lambda a, b: ops.sum(ops.vectorize(f)(a, b) ** 2), a, b)


def test_while_loop_keeps_keras_structures():
    assert int(ops.while_loop(lambda x: x < 10, lambda x: x + 1, np.array(0))) == 10
    out = ops.while_loop(lambda a, b: a < 10, lambda a, b: (a + 1, b + 2), [0, 0], 4)
    assert isinstance(out, tuple) and [int(v) for v in out] == [4, 8]
    nested = {"a": np.array(0), "b": (np.array(1), np.array(2))}
    out = ops.while_loop(
        lambda s: tree.flatten(s)[0] < 3, lambda s: tree.map_structure(lambda v: v + 1, s), nested
    )
    assert int(out["a"]) == 3 and [int(v) for v in out["b"]] == [4, 5]


def test_cond_and_switch_run_only_the_branch_taken():
    assert ops.cond(False, lambda: 0, lambda: 1) == 1
    branches = [lambda x: x + 1, lambda x: x - 1]
    assert ops.switch(-5, branches, 1) == 2 and ops.switch(5, branches, 1) == 0


# ---------------------------------------------------------------- gradients through the loops
def test_gradient_through_scan_matches_central_differences():
    w, xs = RNG.normal(size=3), RNG.normal(size=(5, 3))

    def f(w, xs):
        carry, ys = ops.scan(lambda h, x: (ops.tanh(h * w + x), h * x), ops.zeros(3, "float64"), xs)
        return ops.sum(carry) + ops.sum(ys**2)

    check_numerically(f, w, xs)


@pytest.mark.parametrize("reverse", [False, True])
def test_gradient_through_associative_scan_matches_central_differences(reverse):
    a, b = RNG.uniform(0.5, 1.0, size=(6, 2)), RNG.normal(size=(6, 2))

    def f(a, b):
        def compose(first, second):
            return first[0] * second[0], second[0] * first[1] + second[1]

        _, hs = ops.associative_scan(compose, (a, b), reverse=reverse)
        return ops.sum(ops.sin(hs))

    check_numerically(f, a, b)


def test_gradient_through_map_while_fori_and_cond():
    x = RNG.normal(size=(3, 4))

    def f(x):
        y = ops.map(lambda row: ops.exp(row) * row, x)
        y = ops.fori_loop(0, 3, lambda i, v: v * 0.5 + ops.sin(v), y)
        y = ops.while_loop(lambda v: ops.sum(ops.abs(v)) < 100.0, lambda v: v * 2.0, y)
        return ops.cond(ops.sum(y) > 0, lambda: ops.sum(y**2), lambda: ops.sum(y**3))

    check_numerically(f, x)


def test_custom_gradient_replaces_the_automatic_one():
    @ops.custom_gradient
    def log1pexp(x):
        e = ops.exp(x)

        def grad(upstream):
            return upstream * (1.0 - 1.0 / (1 + e))

        return ops.log(1 + e), grad

    with np.errstate(over="ignore", invalid="ignore"):
        (automatic,) = gradients(lambda x: ops.log(1 + ops.exp(x)), np.float32([100.0]))
        (custom,) = gradients(log1pexp, np.float32([100.0]))
    assert np.isnan(automatic)  # in float32 e^100 overflows: e^x / (1 + e^x) = inf / inf
    assert custom == 1.0
    # where both are defined, they agree with central differences
    check_numerically(lambda x: ops.sum(log1pexp(x)), RNG.normal(size=4))


def test_custom_gradient_with_two_arguments_and_a_wrong_count():
    @ops.custom_gradient
    def product(x, y):
        return x * y, lambda g: (g * y, g * x)

    x, y = RNG.normal(size=3), RNG.normal(size=3)
    gx, gy = gradients(lambda x, y: ops.sum(product(x, y)), x, y)
    np.testing.assert_allclose(gx, y)
    np.testing.assert_allclose(gy, x)

    @ops.custom_gradient
    def bad(x, y):
        return x * y, lambda g: g * y

    with pytest.raises(ValueError, match="returned 1 gradients; expected 2"):
        gradients(lambda x, y: ops.sum(bad(x, y)), x, y)


def test_jvp_is_the_jacobian_times_the_tangent():
    a, b = RNG.normal(size=2), RNG.normal(size=2)
    ta, tb = RNG.normal(size=2), RNG.normal(size=2)

    def f(a, b):
        return {"prod": ops.sin(a) * b, "dot": ops.sum(a * b)}, "aux"

    out, tangent, aux = ops.jvp(f, (a, b), (ta, tb), has_aux=True)
    np.testing.assert_allclose(out["prod"], np.sin(a) * b)
    # d(sin a · b) = cos a · b · ta + sin a · tb;  d(Σ a·b) = Σ (b·ta + a·tb)
    np.testing.assert_allclose(tangent["prod"], np.cos(a) * b * ta + np.sin(a) * tb, rtol=1e-14)
    np.testing.assert_allclose(tangent["dot"], np.sum(b * ta + a * tb), rtol=1e-14)
    assert aux == "aux"


# ---------------------------------------------------------------- symbolic: one node each
def test_scan_on_keras_tensors_is_one_node_and_runs_in_a_model():
    from minikeras.models import Model

    x = layers.Input(shape=(4,))
    columns = ops.transpose(x)  # (4, batch): the scan walks the 4 features
    carry, ys = ops.scan(lambda c, v: (c + v, c * v), columns[0] * 0, columns)
    assert carry.shape == (None,) and ys.shape == (4, None)
    assert carry.node is ys.node  # one node, two outputs
    model = Model(x, ops.transpose(ys))
    data = RNG.normal(size=(3, 4)).astype("float32")
    # each feature times the sum of the features before it
    expected = np.stack([np.concatenate([[0.0], np.cumsum(r)[:-1]]) * r for r in data])
    np.testing.assert_allclose(model(data), expected, rtol=1e-6)


def test_map_on_keras_tensors_keeps_a_dict():
    out = ops.map(lambda v: {"a": v**2, "b": v * 10}, KerasTensor((None, 5)))
    assert out["a"].shape == (None, 5) and out["b"].shape == (None, 5)


def test_while_loop_on_keras_tensors_is_not_run():
    # on stand-in values this condition would never become false
    out = ops.while_loop(lambda v: True, lambda v: v, KerasTensor((None, 2), dtype="int32"))
    assert (out.shape, out.dtype) == ((None, 2), "int32")


def test_cond_on_a_symbolic_predicate_checks_both_branches():
    with pytest.raises(ValueError, match="same kind"):
        ops.cond(KerasTensor((), "bool"), lambda: ops.ones((3,)), lambda: ops.zeros((4,)))
    assert core.Cond()._check_output_spec({"a": None}, {"a": None})


# ---------------------------------------------------------------- the other core ops
def test_slice_with_minus_one_runs_to_the_end():
    x = np.arange(12).reshape(3, 4)
    np.testing.assert_array_equal(ops.slice(x, (1, 2), (-1, -1)), x[1:, 2:])
    assert ops.slice(KerasTensor((None, 4)), (1, 1), (-1, -1)).shape == (None, 3)
    with pytest.raises(ValueError, match="dimensions in `inputs` must match"):
        ops.slice(x, (1, 1), (2, 2, 2))


def test_scatter_update_reductions():
    inputs, indices = np.array([2.0, 3.0, 1.0]), [[0], [0], [1]]
    updates = np.array([3.0, 5.0, 2.0])
    expected = {"add": [10, 5, 1], "max": [5, 3, 1], "min": [2, 2, 1], "mul": [30, 6, 1]}
    for reduction, values in expected.items():
        out = ops.scatter_update(inputs, indices, updates, reduction=reduction)
        np.testing.assert_array_equal(out, values)
    with pytest.raises(ValueError, match="Unsupported reduction: sum"):
        ops.scatter_update(inputs, indices, updates, reduction="sum")
    check_numerically(
        lambda x, u: ops.sum(ops.scatter_update(x, indices, u, "add") ** 2), inputs, updates
    )


def test_unstack_needs_num_on_an_unknown_axis():
    assert len(ops.unstack(KerasTensor((2, None)), num=3, axis=1)) == 3
    with pytest.raises(ValueError, match="Cannot infer argument `num`"):
        ops.unstack(KerasTensor((2, None)), axis=1)


def test_operation_classes_run_their_ops():
    x = np.arange(5.0)
    np.testing.assert_array_equal(core.Scan()(lambda c, v: (c + v, c), 0.0, x)[0], 10.0)
    np.testing.assert_array_equal(core.AssociativeScan()(operator.add, x), np.cumsum(x))
    assert core.Cast("float16").symbolic_call(x).dtype == "float16"
    spec = core.Slice((2, 2)).compute_output_spec(np.ones((3, 3)), np.array([1, 1]))
    assert spec.shape == (2, 2)


# ---------------------------------------------------------------- minikeras.tree
def test_tree_orders_dicts_by_key_and_rebuilds_them():
    structure = {"b": 1, "a": (2, None)}
    assert tree.flatten(structure) == [2, None, 1]
    assert tree.pack_sequence_as(structure, [20, 30, 10]) == {"b": 10, "a": (20, 30)}
    assert tree.map_structure(operator.add, [1, (2,)], [10, (20,)]) == [11, (22,)]
    with pytest.raises(ValueError):
        tree.assert_same_structure([1], (1,))


def test_docstring_examples_run():
    import doctest
    import importlib

    modules = ("ops.control_flow", "ops.core_operations", "autodiff.custom_gradient", "tree")
    for name in modules + ("autodiff.jvp",):
        result = doctest.testmod(importlib.import_module(f"minikeras.{name}"))
        assert result.failed == 0 and result.attempted > 0, name
