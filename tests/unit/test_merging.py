"""Merge layers: forward against NumPy written out here, backward against central differences
(every input, broadcast shapes included), Maximum/Minimum's tie rule, shape errors, configs."""

import numpy as np
import pytest
import strategies
from gradcheck import assert_gradient_close, numerical_gradient
from hypothesis import given, settings
from hypothesis import strategies as st

from minikeras import layers
from minikeras.layers import (
    Add,
    Average,
    Concatenate,
    Input,
    Maximum,
    Minimum,
    Multiply,
    Subtract,
)

# (layer class, the forward pass in NumPy, how many inputs it takes)
ELEMENTWISE = [
    (Add, lambda xs: sum(xs[1:], xs[0]), (2, 3)),
    (Subtract, lambda xs: xs[0] - xs[1], (2,)),
    (Multiply, lambda xs: np.prod(np.broadcast_arrays(*xs), axis=0), (2, 3)),
    (Average, lambda xs: sum(xs[1:], xs[0]) / len(xs), (2, 3)),
    (Maximum, lambda xs: np.max(np.broadcast_arrays(*xs), axis=0), (2, 3)),
    (Minimum, lambda xs: np.min(np.broadcast_arrays(*xs), axis=0), (2, 3)),
]
IDS = [cls.__name__ for cls, _, _ in ELEMENTWISE]


def input_gradients(layer, xs, r):
    """Analytic dL/dxᵢ for L = Σ r ⊙ layer(xs), from one forward and one backward pass."""
    layer(xs)
    return layer.backward(r)


def numeric_input_gradients(layer, xs, r):
    return [numerical_gradient(lambda: np.sum(r * layer(xs)), x) for x in xs]


@pytest.mark.parametrize("cls, reference, counts", ELEMENTWISE, ids=IDS)
@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_forward_matches_numpy(cls, reference, counts, data):
    xs = data.draw(strategies.merge_inputs(counts))
    np.testing.assert_allclose(cls(dtype="float64")(xs), reference(xs), rtol=1e-15, atol=0)


@pytest.mark.parametrize("cls, reference, counts", ELEMENTWISE, ids=IDS)
@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_backward_matches_central_differences(cls, reference, counts, data):
    xs = data.draw(strategies.merge_inputs(counts, distinct=True))
    r = data.draw(strategies.arrays(xs[0].shape))
    layer = cls(dtype="float64")
    for analytic, numeric in zip(
        input_gradients(layer, xs, r), numeric_input_gradients(layer, xs, r)
    ):
        assert_gradient_close(analytic, numeric)


@pytest.mark.parametrize("cls", [Add, Multiply, Average, Maximum, Subtract], ids=str)
@pytest.mark.parametrize(
    "shapes", [[(3, 4), (3, 1)], [(3, 1), (3, 4)], [(3, 2, 4), (3, 4)], [(3, 2, 4), (3, 1, 4)]]
)
def test_broadcast_inputs_get_gradients_summed_back_to_their_shape(float64, cls, shapes):
    rng = np.random.default_rng(0)
    # values all distinct (Maximum's kink at ties), in a range where products stay moderate
    sizes = [int(np.prod(s)) for s in shapes]
    values = rng.permutation(sum(sizes)) * 0.1 + 0.5
    xs = [v.reshape(s) for v, s in zip(np.split(values, np.cumsum(sizes)[:-1]), shapes)]
    layer = cls()
    y = layer(xs)
    r = rng.normal(size=y.shape)
    analytic = input_gradients(layer, xs, r)
    assert [g.shape for g in analytic] == [x.shape for x in xs]
    for a, numeric in zip(analytic, numeric_input_gradients(layer, xs, r)):
        assert_gradient_close(a, numeric)


@pytest.mark.parametrize(
    "axis, shapes", [(-1, [(2, 3), (2, 1), (2, 2)]), (1, [(2, 1, 3), (2, 4, 3)])]
)
def test_concatenate_forward_and_backward(float64, axis, shapes):
    rng = np.random.default_rng(1)
    xs = [rng.normal(size=s) for s in shapes]
    layer = Concatenate(axis=axis)
    y = layer(xs)
    np.testing.assert_array_equal(y, np.concatenate(xs, axis=axis))
    r = rng.normal(size=y.shape)
    analytic = input_gradients(layer, xs, r)
    for a, numeric in zip(analytic, numeric_input_gradients(layer, xs, r)):
        assert a.flags.c_contiguous  # the next layer's kernels get contiguous gradients
        assert_gradient_close(a, numeric)


@pytest.mark.parametrize(
    "cls, expected",
    [
        # x₁ = [1, 2, 3], x₂ = x₃ = [1, 5, 3]: ties at columns 0 and 2 (all three), and at
        # column 1 between x₂ and x₃: the first input holding the extreme takes all of dy.
        # Observed with TensorFlow (tf.GradientTape through keras.layers.Maximum/Minimum).
        (Maximum, [[1.0, 0.0, 3.0], [0.0, 2.0, 0.0], [0.0, 0.0, 0.0]]),
        (Minimum, [[1.0, 2.0, 3.0], [0.0, 0.0, 0.0], [0.0, 0.0, 0.0]]),
    ],
)
def test_ties_send_the_gradient_to_the_first_input_as_tensorflow(float64, cls, expected):
    xs = [np.array([[1.0, 2.0, 3.0]]), np.array([[1.0, 5.0, 3.0]]), np.array([[1.0, 5.0, 3.0]])]
    grads = input_gradients(cls(), xs, np.array([[1.0, 2.0, 3.0]]))
    np.testing.assert_array_equal(np.concatenate(grads), expected)


def test_merges_have_no_weights_and_no_weight_gradients():
    layer = Add()
    layer([np.ones((2, 3)), np.ones((2, 3))])
    layer.backward(np.ones((2, 3), dtype="float32"))
    assert layer.weights == [] and layer.grads == []


def test_eager_call_casts_to_the_layer_dtype_and_returns_a_fresh_array():
    layer = Add()
    y = layer([np.ones((2, 3), dtype=np.int64), np.ones((2, 3))])
    assert y.dtype == np.float32
    assert y is not layer.y


# ---------------------------------------------------------------------- symbolic shapes, errors
@pytest.mark.parametrize(
    "shapes, expected",
    [
        ([(3,), (3,)], (None, 3)),
        ([(3,), (1,)], (None, 3)),  # an axis of length 1 stretches
        ([(2, 3), (3,)], (None, 2, 3)),  # a lower-rank input gains axes after the batch axis
    ],
)
def test_symbolic_output_shapes_broadcast_as_keras(shapes, expected):
    assert Add()([Input(s) for s in shapes]).shape == expected


def test_concatenate_output_shape():
    assert layers.concatenate([Input((3,)), Input((4,))]).shape == (None, 7)
    assert Concatenate(axis=1)([Input((2, 3)), Input((4, 3))]).shape == (None, 6, 3)


def test_incompatible_shapes_name_both():
    with pytest.raises(ValueError, match=r"incompatible shapes. Received shapes \(3,\) and \(4,\)"):
        Add()([Input((3,)), Input((4,))])


def test_concatenate_mismatch_names_every_shape():
    with pytest.raises(
        ValueError,
        match=r"matching shapes except for the concatenation axis.*"
        r"\[\(None, 3, 2\), \(None, 4, 3\)\]",
    ):
        Concatenate()([Input((3, 2)), Input((4, 3))])


def test_concatenate_refuses_the_batch_axis():
    with pytest.raises(ValueError, match="batch axis"):
        Concatenate(axis=0)([Input((3,)), Input((3,))])


def test_subtract_needs_exactly_two_inputs():
    with pytest.raises(ValueError, match="exactly 2 inputs"):
        Subtract()([Input((3,))] * 3)


def test_a_merge_needs_a_list():
    with pytest.raises(ValueError, match="should be called on a list of inputs"):
        Add()(Input((3,)))
    with pytest.raises(ValueError, match="should be called on a list of inputs"):
        Add()(np.ones((2, 3)))


def test_different_batch_sizes_are_refused():
    with pytest.raises(ValueError, match="different batch sizes"):
        Add()([np.ones((2, 3)), np.ones((3, 3))])


def test_a_built_merge_checks_later_calls():
    layer = Add()
    layer([Input((3,)), Input((3,))])
    with pytest.raises(ValueError, match="incompatible shapes"):
        layer([Input((3,)), Input((5,))])


# ---------------------------------------------------------------------- functional forms, config
@pytest.mark.parametrize(
    "function, cls",
    [
        (layers.add, Add),
        (layers.subtract, Subtract),
        (layers.multiply, Multiply),
        (layers.average, Average),
        (layers.maximum, Maximum),
        (layers.minimum, Minimum),
        (layers.concatenate, Concatenate),
    ],
)
def test_functional_forms_make_the_layer(function, cls):
    a, b = Input((3,)), Input((3,))
    out = function([a, b], name="merged")
    assert type(out.layer) is cls and out.layer.name == "merged"
    assert out.node.inputs == [a, b]


def test_config_round_trip():
    layer = Concatenate(axis=1, name="joined")
    config = layer.get_config()
    assert config["axis"] == 1 and config["name"] == "joined"
    copy = Concatenate.from_config(config)
    assert copy.axis == 1 and copy.get_config() == config
    assert Maximum.from_config(Maximum(name="m").get_config()).name == "m"
