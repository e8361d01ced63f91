"""GroupQueryAttention against Keras, with the same weights: outputs, scores, dL/d(each input)
and dL/dw for L = Σ dy ⊙ y (minikeras's GradientTape against tf.GradientTape) for grouped,
multi-query and multi-head groupings, the gate, masks (explicit, causal, sliding window, carried
by Embedding outputs), configs, a few `fit` steps, and `.keras` files both ways.

Tolerances (layer_twins.py derives them): float64 1e-10, as both sides round at 2⁻⁵³ and a
score or a projection sums a few dozen terms; float32 1e-5 for one pass, the same sums rounded
at 2⁻²⁴ in different orders (TensorFlow's einsum and softmax against NumPy's).
"""

import numpy as np
import pytest
from layer_twins import as_json, assert_pairs_close, floatx, rel
from test_attention_parity import _attention_twins, _both_gradients

import minikeras
from minikeras.parity.compare import tolerance

CASES = [  # (init kwargs, query shape, value shape, key shape or None, call kwargs)
    ({"num_query_heads": 4, "num_key_value_heads": 2, "head_dim": 3}, (4, 5), (6, 5), None, {}),
    ({"num_query_heads": 3, "num_key_value_heads": 1, "head_dim": 2}, (4, 5), (3, 5), (3, 2), {}),
    ({"num_query_heads": 2, "num_key_value_heads": 2, "head_dim": 2}, (4, 3), (4, 3), None, {}),
    (
        {"num_query_heads": 4, "num_key_value_heads": 2, "head_dim": 2, "use_gate": True},
        (4, 3),
        (5, 3),
        None,
        {},
    ),
    (
        {"num_query_heads": 2, "num_key_value_heads": 1, "head_dim": 2, "use_bias": False},
        (5, 3),
        (5, 3),
        None,
        {"use_causal_mask": True},
    ),
    (
        {"num_query_heads": 4, "num_key_value_heads": 2, "head_dim": 2, "sliding_window": 2},
        (5, 3),
        (5, 3),
        None,
        {"use_causal_mask": True},
    ),
]


@pytest.mark.parametrize(
    "kwargs, q_shape, v_shape, k_shape, call_kwargs, dtype",
    [(*case, "float64") for case in CASES] + [(*CASES[0], "float32")],
)
def test_grouped_query_attention_matches_keras(
    keras, kwargs, q_shape, v_shape, k_shape, call_kwargs, dtype
):
    rng = np.random.default_rng(len(q_shape) + len(kwargs))
    shapes = [(2, *q_shape), (2, *v_shape)] + ([(2, *k_shape)] if k_shape else [])
    ours, theirs = _attention_twins(keras, "GroupQueryAttention", kwargs, shapes, rng, dtype)
    inputs = {"query": rng.normal(size=shapes[0]), "value": rng.normal(size=shapes[1])}
    if k_shape:
        inputs["key"] = rng.normal(size=shapes[2])
    dy = rng.normal(size=shapes[0])
    # without the scores (Keras's fused dot_product_attention), then with them
    for scores in (False, True):
        call = {**call_kwargs, "return_attention_scores": scores}
        pairs = _both_gradients(keras, ours, theirs, inputs, call, dy, dtype, scores)
        assert_pairs_close(pairs, dtype)
    assert as_json(ours.get_config()) == as_json(theirs.get_config())


def test_grouped_query_attention_masks_match_keras(keras):
    """An explicit mask ANDed with the causal one, and masks carried by Embedding outputs (the
    output carries the query's)."""
    rng = np.random.default_rng(8)
    kwargs = {"num_query_heads": 4, "num_key_value_heads": 2, "head_dim": 2}
    ours, theirs = _attention_twins(
        keras, "GroupQueryAttention", kwargs, [(2, 4, 3), (2, 4, 3)], rng, "float64"
    )
    attention_mask = rng.random((2, 4, 4)) > 0.3
    inputs = {"query": rng.normal(size=(2, 4, 3)), "value": rng.normal(size=(2, 4, 3))}
    dy = rng.normal(size=(2, 4, 3))
    for call_kwargs in (
        {"attention_mask": attention_mask, "use_causal_mask": True},
        {"query_mask": attention_mask[:, :, 0], "value_mask": attention_mask[:, 0, :]},
    ):
        pairs = _both_gradients(keras, ours, theirs, inputs, call_kwargs, dy, "float64")
        assert_pairs_close(pairs, "float64")

    tokens = np.array([[3, 1, 0, 0], [2, 5, 4, 0]])
    embedding, kembedding = (K.layers.Embedding(8, 3, mask_zero=True) for K in (minikeras, keras))
    embedding.build((None, 4))
    kembedding.build((None, 4))
    kembedding.set_weights(embedding.get_weights())
    x, kx = embedding(tokens), kembedding(tokens)
    y, ky = ours(x, x), theirs(kx, kx)
    assert rel(y, ky.numpy()) < tolerance("float32")
    np.testing.assert_array_equal(y._keras_mask, ky._keras_mask.numpy())


def _gqa_model(lib):
    inputs = lib.Input(shape=(5, 4))
    attention = lib.layers.GroupQueryAttention(
        head_dim=3, num_query_heads=4, num_key_value_heads=2, use_gate=True
    )(inputs, inputs)
    x = lib.layers.GlobalAveragePooling1D()(lib.layers.Add()([inputs, attention]))
    return lib.Model(inputs, lib.layers.Dense(3, activation="softmax")(x))


def test_grouped_query_attention_fits_and_files_as_keras(keras, tmp_path):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(16, 5, 4))
    y = np.eye(3)[rng.integers(0, 3, size=16)]
    dtype = "float64"
    with floatx(keras, dtype):
        ours, theirs = _gqa_model(minikeras), _gqa_model(keras)
        assert [w.path for w in ours.weights] == [w.path for w in theirs.weights]
        weights = [rng.normal(scale=0.4, size=w.shape) for w in ours.weights]
        ours.set_weights(weights)
        theirs.set_weights(weights)
        for model in (ours, theirs):
            model.compile(optimizer="sgd", loss="categorical_crossentropy")
        history = ours.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
        khistory = theirs.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
        steps = 4
        assert rel(history.history["loss"], khistory.history["loss"]) <= tolerance(dtype, steps)
        for w, kw in zip(ours.get_weights(), theirs.get_weights()):
            assert rel(w, kw) <= tolerance(dtype, steps)
        # each library's file opens in the other, with the same predictions
        ours.save(tmp_path / "ours.keras")
        theirs.save(tmp_path / "theirs.keras")
        from_ours = keras.saving.load_model(tmp_path / "ours.keras")
        from_theirs = minikeras.saving.load_model(tmp_path / "theirs.keras")
        for a, b in ((ours, from_ours), (from_theirs, theirs)):
            assert rel(a.predict(x, verbose=0), b.predict(x, verbose=0)) < tolerance(dtype)
