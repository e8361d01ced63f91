"""EinsumDense and the attention layers against Keras, with the same weights: outputs, dL/d(each
input) and dL/dw for L = Σ dy ⊙ y (minikeras's GradientTape against tf.GradientTape), masks of
every kind, configs, and a few `fit` steps of a small transformer block.

Tolerances (layer_twins.py derives them): float64 1e-10, as both sides round at 2⁻⁵³ and a
score or a projection sums a few dozen terms; float32 1e-5 for one pass, the same sums rounded
at 2⁻²⁴ in different orders (TensorFlow's einsum and softmax against NumPy's).
"""

import warnings

import numpy as np
import pytest
from layer_twins import as_json, assert_pairs_close, floatx, rel, run_both, twins

import minikeras
from minikeras import ops
from minikeras.autodiff import GradientTape, Tensor
from minikeras.parity.compare import tolerance

EINSUM_CASES = [
    ({"equation": "ab,bc->ac", "output_shape": 4, "bias_axes": "c"}, (3,)),
    ({"equation": "abc,cd->abd", "output_shape": (None, 4), "bias_axes": "d"}, (5, 3)),
    ({"equation": "abc,cde->abde", "output_shape": (None, 2, 3), "bias_axes": "de"}, (4, 3)),
    ({"equation": "abc,cde->abde", "output_shape": (None, 2, 3), "bias_axes": "e"}, (4, 3)),
    ({"equation": "abcd,cde->abe", "output_shape": (None, 3), "bias_axes": None}, (4, 2, 5)),
    ({"equation": "...b,bc->...c", "output_shape": 3, "activation": "tanh"}, (2, 4, 5)),
    ({"equation": "ab...,bc->ac...", "output_shape": 4, "bias_axes": "c"}, (3, 2)),
]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("kwargs, shape", EINSUM_CASES)
def test_einsum_dense_matches_keras(keras, kwargs, shape, dtype):
    rng = np.random.default_rng(len(shape) + len(kwargs["equation"]))
    ours, theirs = twins(keras, "EinsumDense", kwargs, shape, rng, dtype)
    assert [w.shape for w in ours.weights] == [tuple(w.shape) for w in theirs.weights]
    x = rng.normal(size=(3,) + shape)
    y = ours.call(x.astype(dtype))
    pairs = run_both(keras, ours, theirs, x, rng.normal(size=y.shape), training=True)
    assert_pairs_close(pairs, dtype)
    assert as_json(ours.get_config()) == as_json(theirs.get_config())


# ---------------------------------------------------------------- attention layers, several inputs
def _both_gradients(keras, ours, theirs, inputs, call_kwargs, dy, dtype, scores=False):
    """(ours, theirs) pairs of the output (and scores), dL/d(each input) and dL/dw."""
    import tensorflow as tf

    names = list(inputs)
    tensors = {k: Tensor(np.asarray(v, dtype)) for k, v in inputs.items()}
    with GradientTape() as tape:
        for t in tensors.values():
            tape.watch(t)
        out = ours(**tensors, **call_kwargs)
        y = out[0] if scores else out
        loss = ops.sum(ops.multiply(y, dy.astype(dtype)))
    weights = list(ours.trainable_weights)
    grads = tape.gradient(loss, [tensors[k] for k in names] + weights)
    variables = {k: tf.Variable(np.asarray(v, dtype)) for k, v in inputs.items()}
    with tf.GradientTape() as ktape:
        kout = theirs(**variables, **call_kwargs)
        ky = kout[0] if scores else kout
        kloss = tf.reduce_sum(ky * tf.constant(dy.astype(dtype)))
    kgrads = ktape.gradient(kloss, [variables[k] for k in names] + theirs.trainable_weights)
    pairs = {"output": (np.asarray(ops.convert_to_numpy(y)), ky.numpy())}
    if scores:
        pairs["scores"] = (np.asarray(ops.convert_to_numpy(out[1])), kout[1].numpy())
    for name, g, kg in zip(names + [w.path for w in weights], grads, kgrads):
        g, kg = np.asarray(g), np.zeros(g.shape) if kg is None else kg.numpy()
        if name.endswith("key/bias"):
            # q·b_k is the same for every key position, so softmax cancels it: dL/db_k is 0
            # in exact arithmetic and rounding noise on both sides (compared absolutely)
            noise = 1e-12 if dtype == "float64" else 1e-4
            assert np.abs(g).max() < noise and np.abs(kg).max() < noise
            continue
        pairs[f"d{name}"] = (g, kg)
    return pairs


def _attention_twins(keras, class_name, kwargs, shapes, rng, dtype):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours = getattr(minikeras.layers, class_name)(dtype=dtype, **kwargs)
        theirs = getattr(keras.layers, class_name)(dtype=dtype, **kwargs)
    ours.build(*shapes)
    theirs.build(*shapes)
    assert [w.path for w in ours.weights] == [w.path for w in theirs.weights]
    assert [w.shape for w in ours.weights] == [tuple(w.shape) for w in theirs.weights]
    weights = [rng.normal(scale=0.5, size=w.shape) for w in ours.weights]
    ours.set_weights(weights)
    theirs.set_weights([w.astype(dtype) for w in weights])
    return ours, theirs


MHA_CASES = [  # (init kwargs, query shape, value shape, key shape or None, call kwargs)
    ({"num_heads": 2, "key_dim": 3}, (4, 5), (4, 5), None, {}),
    ({"num_heads": 2, "key_dim": 3, "value_dim": 2}, (4, 5), (6, 3), (6, 4), {}),
    ({"num_heads": 3, "key_dim": 2, "output_shape": (2, 3)}, (4, 5), (4, 5), None, {}),
    ({"num_heads": 1, "key_dim": 4, "use_bias": False}, (3, 2), (5, 2), None, {}),
    ({"num_heads": 2, "key_dim": 2}, (4, 3), (4, 3), None, {"use_causal_mask": True}),
    ({"num_heads": 2, "key_dim": 2, "use_gate": True}, (4, 3), (5, 3), None, {}),
    ({"num_heads": 2, "key_dim": 2, "attention_axes": (1, 2)}, (2, 3, 4), (2, 3, 4), None, {}),
    ({"num_heads": 2, "key_dim": 2, "attention_axes": 2}, (2, 3, 4), (2, 4, 4), None, {}),
    ({"num_heads": 2, "key_dim": 2, "sliding_window": 2}, (5, 3), (5, 3), None, {}),
]


@pytest.mark.parametrize(
    "kwargs, q_shape, v_shape, k_shape, call_kwargs, dtype",
    [(*case, "float64") for case in MHA_CASES] + [(*case, "float32") for case in MHA_CASES[:3]],
)
def test_multi_head_attention_matches_keras(
    keras, kwargs, q_shape, v_shape, k_shape, call_kwargs, dtype
):
    rng = np.random.default_rng(len(q_shape) + len(kwargs))
    batch = 2
    shapes = [(batch, *q_shape), (batch, *v_shape)] + ([(batch, *k_shape)] if k_shape else [])
    ours, theirs = _attention_twins(keras, "MultiHeadAttention", kwargs, shapes, rng, dtype)
    inputs = {"query": rng.normal(size=shapes[0]), "value": rng.normal(size=shapes[1])}
    if k_shape:
        inputs["key"] = rng.normal(size=shapes[2])
    out_shape = ours.compute_output_shape(shapes[0], shapes[1])
    dy = rng.normal(size=out_shape)
    pairs = _both_gradients(keras, ours, theirs, inputs, call_kwargs, dy, dtype, scores=False)
    assert_pairs_close(pairs, dtype)
    # the scores, returned (Keras's other path: no fused dot_product_attention)
    pairs = _both_gradients(
        keras,
        ours,
        theirs,
        inputs,
        {**call_kwargs, "return_attention_scores": True},
        dy,
        dtype,
        True,
    )
    assert_pairs_close(pairs, dtype)
    assert as_json(ours.get_config()) == as_json(theirs.get_config())


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_multi_head_attention_masks_match_keras(keras, dtype):
    """An explicit attention_mask ANDed with the causal one and with the masks the query and the
    value carry (Embedding(mask_zero=True) outputs); a query row with nothing to attend to."""
    rng = np.random.default_rng(5)
    shapes = [(2, 4, 3), (2, 5, 3)]
    ours, theirs = _attention_twins(
        keras, "MultiHeadAttention", {"num_heads": 2, "key_dim": 2}, shapes, rng, dtype
    )
    attention_mask = rng.random((2, 4, 5)) > 0.3
    attention_mask[0, 1] = False  # a fully masked row
    inputs = {"query": rng.normal(size=shapes[0]), "value": rng.normal(size=shapes[1])}
    dy = rng.normal(size=shapes[0])
    for call_kwargs in (
        {"attention_mask": attention_mask},
        {"attention_mask": attention_mask, "return_attention_scores": True},
        {"attention_mask": attention_mask[:, :, :4], "use_causal_mask": True},
        {"query_mask": attention_mask[:, :, 0], "value_mask": attention_mask[:, 0, :]},
    ):
        values = dict(inputs)
        if "use_causal_mask" in call_kwargs:
            values["value"] = values["value"][:, :4]
        scores = call_kwargs.get("return_attention_scores", False)
        pairs = _both_gradients(keras, ours, theirs, values, call_kwargs, dy, dtype, scores)
        assert_pairs_close(pairs, dtype)


def test_multi_head_attention_reads_the_masks_inputs_carry(keras):
    """Embedding(mask_zero=True) outputs carry their masks into the query and value masks, and
    the output carries the query's mask, as Keras's."""
    tokens = np.array([[3, 1, 0, 0], [2, 5, 4, 0]])
    embedding = minikeras.layers.Embedding(8, 4, mask_zero=True)
    kembedding = keras.layers.Embedding(8, 4, mask_zero=True)
    embedding.build((None, 4))
    kembedding.build((None, 4))
    kembedding.set_weights(embedding.get_weights())
    rng = np.random.default_rng(2)
    ours, theirs = _attention_twins(
        keras, "MultiHeadAttention", {"num_heads": 2, "key_dim": 3}, [(2, 4, 4)] * 2, rng, "float32"
    )
    x, kx = embedding(tokens), kembedding(tokens)
    y, ky = ours(x, x), theirs(kx, kx)
    assert rel(y, ky.numpy()) < tolerance("float32")
    np.testing.assert_array_equal(y._keras_mask, ky._keras_mask.numpy())


def _transformer_block(lib, seed):
    """A small transformer classifier written once, built with either library's layers."""
    inputs = lib.Input(shape=(5, 4))
    attention = lib.layers.MultiHeadAttention(num_heads=2, key_dim=3, name="mha")(inputs, inputs)
    x = lib.layers.LayerNormalization(epsilon=1e-6)(lib.layers.Add()([inputs, attention]))
    x = lib.layers.GroupNormalization(groups=2)(lib.layers.Dense(4)(x))
    x = lib.layers.RMSNormalization()(lib.layers.GlobalAveragePooling1D()(x))
    outputs = lib.layers.Dense(3, activation="softmax")(lib.layers.UnitNormalization()(x))
    return lib.Model(inputs, outputs)


@pytest.mark.parametrize("dtype", ["float64"])  # (float32 adds 10 s of Keras's fit, no news)
def test_a_transformer_block_fits_as_keras(keras, dtype):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(16, 5, 4))
    y = np.eye(3)[rng.integers(0, 3, size=16)]
    with floatx(keras, dtype):
        ours, theirs = _transformer_block(minikeras, 0), _transformer_block(keras, 0)
        assert [w.path for w in ours.weights] == [w.path for w in theirs.weights]
        weights = [rng.normal(scale=0.4, size=w.shape) for w in ours.weights]
        ours.set_weights(weights)
        theirs.set_weights([w.astype(dtype) for w in weights])
        for model in (ours, theirs):
            model.compile(optimizer="sgd", loss="categorical_crossentropy")
        history = ours.fit(x, y, batch_size=8, epochs=3, shuffle=False, verbose=0)
        khistory = theirs.fit(x, y, batch_size=8, epochs=3, shuffle=False, verbose=0)
        steps = 6
        for a, b in zip(history.history["loss"], khistory.history["loss"]):
            assert abs(a - b) <= tolerance(dtype, steps) * max(1.0, abs(b))
        for w, kw in zip(ours.get_weights(), theirs.get_weights()):
            assert rel(w, kw) <= tolerance(dtype, steps)
        assert rel(ours.predict(x, verbose=0), theirs.predict(x, verbose=0)) <= tolerance(
            dtype, steps
        )


LUONG_CASES = [  # (class name, init kwargs, call kwargs, with a key)
    ("Attention", {}, {}, False),
    ("Attention", {"use_scale": True}, {"use_causal_mask": True}, False),
    ("Attention", {"score_mode": "concat", "use_scale": True}, {}, True),
    ("Attention", {"score_mode": "concat"}, {"return_attention_scores": True}, False),
    ("AdditiveAttention", {}, {}, True),
    ("AdditiveAttention", {"use_scale": False}, {"use_causal_mask": True}, False),
]


@pytest.mark.parametrize(
    "masked, dtype", [(False, "float64"), (True, "float64"), (True, "float32")]
)
@pytest.mark.parametrize("class_name, kwargs, call_kwargs, with_key", LUONG_CASES)
def test_attention_layers_match_keras(
    keras, class_name, kwargs, call_kwargs, with_key, masked, dtype
):
    """Attention and AdditiveAttention on [query, value(, key)], with masks for the query and
    the value (a value row fully masked too): outputs, scores and every gradient."""
    import tensorflow as tf

    rng = np.random.default_rng(len(kwargs) + len(call_kwargs))
    shapes = [(2, 4, 3), (2, 4, 3)] + ([(2, 4, 3)] if with_key else [])
    ours, theirs = _layer_twins_on_list(keras, class_name, kwargs, shapes, rng, dtype)
    inputs = [rng.normal(size=s) for s in shapes]
    mask = None
    if masked:
        mask = [rng.random((2, 4)) > 0.3, rng.random((2, 4)) > 0.3]
        mask[1][0] = False
    scores = call_kwargs.get("return_attention_scores", False)
    dy = rng.normal(size=(2, 4, 3))
    tensors = [Tensor(x.astype(dtype)) for x in inputs]
    with GradientTape() as tape:
        for t in tensors:
            tape.watch(t)
        out = ours(tensors, mask=mask, **call_kwargs)
        loss = ops.sum(ops.multiply(out[0] if scores else out, dy.astype(dtype)))
    grads = tape.gradient(loss, tensors + list(ours.trainable_weights))
    variables = [tf.constant(x.astype(dtype)) for x in inputs]
    with tf.GradientTape() as ktape:
        ktape.watch(variables)
        kout = theirs(variables, mask=mask, **call_kwargs)
        kloss = tf.reduce_sum((kout[0] if scores else kout) * dy.astype(dtype))
    kgrads = ktape.gradient(kloss, variables + theirs.trainable_weights)
    pairs = {"output": (np.asarray(out[0] if scores else out), (kout[0] if scores else kout))}
    if scores:
        pairs["scores"] = (np.asarray(out[1]), kout[1].numpy())
    for i, (g, kg) in enumerate(zip(grads, kgrads)):
        pairs[f"gradient {i}"] = (np.asarray(g), np.asarray(kg))
    assert_pairs_close(pairs, dtype)
    assert as_json(ours.get_config()) == as_json(theirs.get_config())


def _layer_twins_on_list(keras, class_name, kwargs, shapes, rng, dtype):
    ours = getattr(minikeras.layers, class_name)(dtype=dtype, **kwargs)
    theirs = getattr(keras.layers, class_name)(dtype=dtype, **kwargs)
    ours.build(shapes)
    theirs.build(shapes)
    assert [w.path for w in ours.weights] == [w.path for w in theirs.weights]
    weights = [rng.normal(size=w.shape) for w in ours.weights]
    ours.set_weights(weights)
    theirs.set_weights([w.astype(dtype) for w in weights])
    return ours, theirs


def _attention_model(lib):
    inputs = lib.Input(shape=(5, 4))
    a = lib.layers.MultiHeadAttention(num_heads=2, key_dim=3, use_gate=True)(inputs, inputs)
    x = lib.layers.LayerNormalization()(lib.layers.Add()([inputs, a]))
    x = lib.layers.GroupNormalization(groups=2)(x)
    x = lib.layers.Attention(use_scale=True)([x, x])
    x = lib.layers.AdditiveAttention()([x, x])
    x = lib.layers.RMSNormalization()(lib.layers.GlobalAveragePooling1D()(x))
    return lib.Model(inputs, lib.layers.Dense(3)(lib.layers.UnitNormalization()(x)))


def test_keras_files_and_summaries_both_ways(keras, tmp_path, capsys):
    """A model of every new layer saved by each library opens in the other, with the same
    predictions (float32: one forward pass, 1e-5), and both print the same summary."""
    x = np.random.default_rng(0).normal(size=(2, 5, 4)).astype("float32")
    with floatx(keras, "float32"):
        ours, theirs = _attention_model(minikeras), _attention_model(keras)
        ours.save(tmp_path / "ours.keras")
        theirs.save(tmp_path / "theirs.keras")
        from_ours = keras.saving.load_model(tmp_path / "ours.keras")
        from_theirs = minikeras.saving.load_model(tmp_path / "theirs.keras")
        for a, b in ((ours, from_ours), (from_theirs, theirs)):
            assert rel(a.predict(x, verbose=0), b.predict(x, verbose=0)) < tolerance("float32")
        capsys.readouterr()
        ours.summary()
        ours_text = capsys.readouterr().out
        theirs.summary()
        assert ours_text == capsys.readouterr().out
