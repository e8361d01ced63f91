"""ops.dot_product_attention, ops.ctc_loss, ops.ctc_decode and losses.CTC against Keras
(TensorFlow backend): values on random inputs, gradients against tf.GradientTape's.

Tolerances, normwise (max|a − b| / max(‖a‖∞, ‖b‖∞)):
- attention, float64, 1e-10: two short products (≤ 5 terms) and a softmax; a few ulps.
  float32, 1e-5: the same at 6e-8 per rounding, TensorFlow's exp differing by an ulp or two.
- CTC, 1e-5 in both dtypes: Keras's TensorFlow backend computes the loss of float64 logits in
  float32 (tf.nn.ctc_loss refuses float64), so TensorFlow's side carries float32 rounding
  (~6e-8 per operation, over a recursion of a dozen frames of logsumexps: ≲ 1e-6); minikeras
  computes in float64. Its gradient is checked against central differences in float64 at
  1e-7 in tests/unit/test_nn_ops_gradients.py.
"""

import os

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from minikeras import losses as mlosses
from minikeras import ops as mops
from minikeras.autodiff import GradientTape, Tensor

EXAMPLES = 10 if os.environ.get("HYPOTHESIS_PROFILE") == "thorough" else 2

# which of 5 keys each of 3 queries may see (each query sees at least one)
MASK = np.array(
    [
        [True, True, False, True, True],
        [False, True, True, True, True],
        [True, False, True, False, False],
    ]
)[None, None]

# name, fn(ops, q, k, v, bias), shapes of q, k, v, bias (None: no bias)
ATTENTION = [
    ("plain", lambda o, q, k, v, b: o.dot_product_attention(q, k, v), [(2, 3, 2, 4), (2, 5, 2, 4)]),
    (
        "bias and scale",
        lambda o, q, k, v, b: o.dot_product_attention(q, k, v, bias=b, scale=0.3),
        [(2, 3, 2, 4), (2, 5, 2, 4), (1, 2, 3, 5)],
    ),
    (
        "mask",
        lambda o, q, k, v, b: o.dot_product_attention(q, k, v, mask=MASK),
        [(1, 3, 2, 4), (1, 5, 2, 4)],
    ),
    (
        "causal with bias",
        lambda o, q, k, v, b: o.dot_product_attention(q, k, v, bias=b, is_causal=True),
        [(2, 4, 1, 3), (2, 4, 1, 3), (4, 4)],
    ),
    (
        "grouped query heads",
        lambda o, q, k, v, b: o.dot_product_attention(q, k, v),
        [(1, 3, 4, 2), (1, 4, 2, 2)],
    ),
]


def _attention_arrays(seed, shapes, dtype):
    rng = np.random.default_rng(seed)
    q_shape, kv_shape, *bias = shapes
    arrays = [rng.normal(size=s).astype(dtype) for s in (q_shape, kv_shape, kv_shape)]
    return arrays + [rng.normal(size=bias[0]).astype(dtype) if bias else None]


def _rel(a, b):
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    assert a.shape == b.shape, (a.shape, b.shape)
    scale = max(np.max(np.abs(a), initial=0.0), np.max(np.abs(b), initial=0.0), 1e-200)
    return float(np.max(np.abs(a - b), initial=0.0) / scale)


@pytest.fixture(scope="module")
def tf(keras):
    import tensorflow

    return tensorflow


@pytest.mark.parametrize("dtype, tolerance", [("float64", 1e-10), ("float32", 1e-5)])
@pytest.mark.parametrize("name, fn, shapes", ATTENTION, ids=[c[0] for c in ATTENTION])
@settings(max_examples=EXAMPLES)
@given(seed=st.integers(0, 2**32 - 1))
def test_attention_matches_keras(keras, tf, name, fn, shapes, dtype, tolerance, seed):
    xs = _attention_arrays(seed, shapes, dtype)
    expected = keras.ops.convert_to_numpy(fn(keras.ops, *xs))
    got = fn(mops, *xs)
    assert got.dtype == expected.dtype
    assert _rel(got, expected) <= tolerance, _rel(got, expected)


@pytest.mark.parametrize("name, fn, shapes", ATTENTION, ids=[c[0] for c in ATTENTION])
@settings(max_examples=EXAMPLES)
@given(seed=st.integers(0, 2**32 - 1))
def test_attention_vjp_matches_tensorflow(keras, tf, name, fn, shapes, seed):
    xs = [x for x in _attention_arrays(seed, shapes, "float64") if x is not None]
    cotangent = np.random.default_rng(seed + 1).normal(size=shapes[0])
    tensors = [tf.constant(x) for x in xs]
    with tf.GradientTape() as tape:
        tape.watch(tensors)
        loss = tf.reduce_sum(fn(keras.ops, *tensors, *[None] * (4 - len(xs))) * cotangent)
    expected = tape.gradient(loss, tensors)
    ours = [Tensor(x) for x in xs]
    with GradientTape() as our_tape:
        for t in ours:
            our_tape.watch(t)
        our_loss = mops.sum(fn(mops, *ours, *[None] * (4 - len(xs))) * cotangent)
    got = our_tape.gradient(our_loss, ours)
    for i, (g, e) in enumerate(zip(got, expected)):
        assert _rel(g, e.numpy()) <= 1e-10, f"argument {i}: {_rel(g, e.numpy()):.2e}"


def test_attention_flash_and_rank_errors(keras):
    q = np.ones((1, 2, 1, 4))
    for args, kwargs in [((q, q, q), {"flash_attention": True}), ((q[0], q[0], q[0]), {})]:
        with pytest.raises(ValueError) as ours:
            mops.dot_product_attention(*args, **kwargs)
        with pytest.raises(ValueError) as theirs:
            keras.ops.dot_product_attention(*args, **kwargs)
        assert str(ours.value).split(" ")[:3] == str(theirs.value).split(" ")[:3]


# ---------------------------------------------------------------- CTC
def _ctc_case(seed, dtype):
    """Labels with a repeat (1, 1), lengths shorter than the padding, logits of 6 frames; in
    the second, class 0 inside the label's length: with mask_index=0, TensorFlow reads it as
    one more symbol to emit. (With another mask_index, TensorFlow's dense ctc_loss shifts the
    classes below the blank up by one and leaves a label equal to the blank as it is, so that
    label then names another class: minikeras does not copy that.)"""
    rng = np.random.default_rng(seed)
    target = np.array([[1, 1, 3, 0], [2, 0, 2, 1], [3, 1, 0, 0]])
    output = rng.normal(size=(3, 6, 5)).astype(dtype)
    return target, output, np.array([3, 4, 2]), np.array([6, 5, 4])


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("mask_index", [0, 4])
@settings(max_examples=1)
@given(seed=st.integers(0, 2**32 - 1))
def test_ctc_loss_and_gradient_match_tensorflow(keras, tf, dtype, mask_index, seed):
    target, output, target_length, output_length = _ctc_case(seed, dtype)
    logits = tf.constant(output)
    with tf.GradientTape() as tape:
        tape.watch(logits)
        expected = keras.ops.ctc_loss(target, logits, target_length, output_length, mask_index)
        total = tf.reduce_sum(expected * np.array([1.0, -0.5, 2.0], dtype))
    expected_grad = tape.gradient(total, logits).numpy()
    traced = Tensor(output)
    with GradientTape() as our_tape:
        our_tape.watch(traced)
        got = mops.ctc_loss(target, traced, target_length, output_length, mask_index)
        our_total = mops.sum(got * np.array([1.0, -0.5, 2.0], dtype))
    got_grad = our_tape.gradient(our_total, traced)
    assert got.value.dtype == expected.numpy().dtype
    assert _rel(got.value, expected.numpy()) <= 1e-5
    # TensorFlow's gradient leaves out the frames' share held by a label entry equal to the
    # blank (its dense ctc_loss one-hot encodes `label − 1`, and −1 encodes to zeros), so it is
    # not the derivative of its own loss there; minikeras's is (central differences in
    # tests/unit/test_nn_ops_gradients.py). That sample's gradient is compared there, not here.
    kept = [0, 2] if mask_index == 0 else [0, 1, 2]
    assert _rel(got_grad[kept], expected_grad[kept]) <= 1e-5


def test_ctc_loss_class_and_function_match_keras(keras):
    _, output, _, _ = _ctc_case(3, "float32")
    y_true = np.array([[1, 1, 3, 0], [2, 4, 2, 1], [3, 0, 2, 0]])  # its zeros are counted out
    for ours, theirs in [
        (mlosses.CTC(), keras.losses.CTC()),
        (mlosses.CTC(reduction="sum"), keras.losses.CTC(reduction="sum")),
    ]:
        assert _rel(ours(y_true, output), keras.ops.convert_to_numpy(theirs(y_true, output))) < 1e-5
        assert ours.get_config() == theirs.get_config()
    got = mlosses.ctc(y_true, output)
    assert _rel(got, keras.ops.convert_to_numpy(keras.losses.ctc(y_true, output))) < 1e-5
    with pytest.raises(ValueError, match="Targets `y_true`"):
        mlosses.ctc(y_true[0], output)


@pytest.mark.parametrize("merge_repeated", [True, False])
@pytest.mark.parametrize("mask_index", [0, 2])
def test_ctc_greedy_decode_matches_keras(keras, merge_repeated, mask_index):
    rng = np.random.default_rng(5)
    # few classes and many frames: repeats and blanks are both frequent
    inputs = np.log(rng.dirichlet(np.ones(3), size=(3, 8))).astype("float32")
    lengths = np.array([8, 5, 1])
    kwargs = dict(merge_repeated=merge_repeated, mask_index=mask_index)
    decoded, scores = mops.ctc_decode(inputs, lengths, **kwargs)
    k_decoded, k_scores = keras.ops.ctc_decode(inputs, lengths, **kwargs)
    np.testing.assert_array_equal(decoded, keras.ops.convert_to_numpy(k_decoded))
    assert decoded.dtype == keras.ops.convert_to_numpy(k_decoded).dtype
    assert _rel(scores, keras.ops.convert_to_numpy(k_scores)) < 1e-6


@pytest.mark.parametrize("mask_index", [0, 2])
def test_ctc_beam_search_decode_matches_keras(keras, mask_index):
    rng = np.random.default_rng(6)
    inputs = rng.normal(size=(3, 6, 4)).astype("float32")
    lengths = np.array([6, 4, 2])
    kwargs = dict(strategy="beam_search", beam_width=5, top_paths=3, mask_index=mask_index)
    decoded, scores = mops.ctc_decode(inputs, lengths, **kwargs)
    k_decoded, k_scores = keras.ops.ctc_decode(inputs, lengths, **kwargs)
    np.testing.assert_array_equal(decoded, keras.ops.convert_to_numpy(k_decoded))
    assert scores.dtype == keras.ops.convert_to_numpy(k_scores).dtype
    # log-probabilities summed over ≤ 6 frames of float32 logsumexps on TensorFlow's side
    assert _rel(scores, keras.ops.convert_to_numpy(k_scores)) < 1e-5
