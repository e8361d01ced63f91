"""Embedding, Masking, RepeatVector and TimeDistributed against real Keras: each layer's config
(equal to Keras's, and loadable by each side from the other's), its forward pass, and its
gradients w.r.t. the input and every weight (tf.GradientTape on Σ r ⊙ y) with the same weights;
then small models trained by `fit(shuffle=False)` on both sides: History, weights, predictions.

Differences are normwise, max|a − b| / max(‖a‖∞, ‖b‖∞) per component, held to the parity
suite's tolerances (minikeras/parity/compare.py, docs/parity.md):
- float64: 1e-10. Both sides round at 2⁻⁵³ and add in different orders (TensorFlow sums the
  gradient rows of repeated ids with its own segment sum, the repeated copies of RepeatVector
  with a reduction); a few epochs of these small models leave < 1e-14.
- float32: 1e-5 for one pass plus 1e-6 per training step. A pass here is at most two products
  of ≤ 24 terms and a softmax, each rounding at u = 2⁻²⁴ ≈ 6e-8 on each side independently;
  each update adds one pass's error scaled by the learning rate (≤ 0.05) plus its own rounding.
  Lookups, zeroing and copies are exact on both sides.

The `keras` fixture (tests/conftest.py) skips these tests without Keras, and fails them when
MINIKERAS_REQUIRE_KERAS=1.
"""

import json

import numpy as np
import pytest
from layer_twins import assert_trained_alike, fit_both, floatx, rel

import minikeras
from minikeras.parity.compare import tolerance


def as_json(value):
    """Tuples as lists, as a config is once written to a file."""
    return json.loads(json.dumps(value))


# ---------------------------------------------------------------- each layer on its own
# name → (the layer built by library K, input shape, input maker); ids repeat on purpose.
def embedding(K):
    return K.layers.Embedding(6, 3, name="embedding")


def embedding_mask_zero(K):
    return K.layers.Embedding(6, 3, mask_zero=True, name="embedding")


def masking(K):
    return K.layers.Masking(mask_value=0.5, name="masking")


def repeat_vector(K):
    return K.layers.RepeatVector(3, name="repeat_vector")


def time_distributed(K):
    return K.layers.TimeDistributed(
        K.layers.Dense(3, activation="tanh", name="dense"), name="time_distributed"
    )


def ids_input(rng):
    x = rng.integers(0, 6, size=(4, 5))
    x[0, :3] = 2  # one row looked up three times in a sample, and in other samples too
    x[1, 0] = 0
    return x


def masked_input(rng):
    x = rng.normal(size=(3, 4, 2))
    x[0, 1] = 0.5  # masked timesteps
    x[2, 3] = 0.5
    x[1, 2, 0] = 0.5  # one feature equal to mask_value: not masked
    return x


LAYERS = {
    "embedding": (embedding, ids_input),
    "embedding_mask_zero": (embedding_mask_zero, ids_input),
    "masking": (masking, masked_input),
    "repeat_vector": (repeat_vector, lambda rng: rng.normal(size=(4, 5))),
    "time_distributed": (time_distributed, lambda rng: rng.normal(size=(2, 4, 5))),
}
INTEGER_INPUTS = {"embedding", "embedding_mask_zero"}


def layer_twins(keras, name, x):
    """(minikeras layer, Keras layer), both built for x's shape, with the same weights."""
    build = LAYERS[name][0]
    ours, theirs = build(minikeras), build(keras)
    shape = (None,) + x.shape[1:]
    ours.build(shape)
    if not theirs.built:  # Keras builds a Masking at once, and then records no input shape
        theirs.build(shape)
    theirs.set_weights(ours.get_weights())
    return ours, theirs


@pytest.mark.parametrize("name", list(LAYERS))
def test_config_is_keras_s_and_each_side_loads_the_other_s(keras, name):
    with floatx(keras, "float32"):
        x = LAYERS[name][1](np.random.default_rng(0))
        ours, theirs = layer_twins(keras, name, x)
        ours_entry = as_json(minikeras.layers.serialize(ours))
        theirs_entry = as_json(keras.layers.serialize(theirs))
        assert ours_entry == theirs_entry
        from_ours = keras.layers.deserialize(ours_entry)
        from_theirs = minikeras.layers.deserialize(theirs_entry)
        assert as_json(keras.layers.serialize(from_ours)) == theirs_entry
        assert as_json(minikeras.layers.serialize(from_theirs)) == theirs_entry


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name", list(LAYERS))
def test_forward_mask_and_gradients_match_tensorflow(keras, name, dtype):
    """y, the layer's mask, dL/dx and dL/dw for L = Σ r ⊙ y, against tf.GradientTape."""
    import tensorflow as tf

    with floatx(keras, dtype):
        rng = np.random.default_rng(1)
        x = LAYERS[name][1](rng)
        ours, theirs = layer_twins(keras, name, x)
        y = ours(x)
        r = rng.normal(size=y.shape).astype(dtype)
        dx = ours.backward(r)
        integer = name in INTEGER_INPUTS
        x_tf = tf.constant(x.astype("int32" if integer else dtype))
        with tf.GradientTape() as tape:
            if not integer:
                tape.watch(x_tf)
            theirs_y = theirs(x_tf)
            total = tf.reduce_sum(theirs_y * r)
        sources = theirs.trainable_weights + ([] if integer else [x_tf])
        theirs_grads = [tf.convert_to_tensor(g) for g in tape.gradient(total, sources)]
        assert rel(y, theirs_y.numpy()) < tolerance(dtype)
        assert len(ours.grads) == len(theirs.trainable_weights)
        for ours_grad, theirs_grad in zip(ours.grads, theirs_grads):
            assert rel(ours_grad, theirs_grad.numpy()) < tolerance(dtype)
        if integer:
            assert dx is None
        else:
            assert rel(dx, theirs_grads[-1].numpy()) < tolerance(dtype)
        ours_mask = getattr(ours, "compute_mask", lambda x, mask=None: None)(x)
        theirs_mask = theirs.compute_mask(x_tf, None)
        if theirs_mask is None:
            assert ours_mask is None
        else:
            np.testing.assert_array_equal(ours_mask, np.asarray(theirs_mask))


def test_embedding_mask_flows_through_time_distributed_as_in_keras(keras):
    """Keras's TimeDistributed hands on the mask it receives; so does minikeras's."""
    with floatx(keras, "float32"):
        x = ids_input(np.random.default_rng(2))
        theirs_mask = keras.layers.Embedding(6, 3, mask_zero=True).compute_mask(x)
        ours_embedding = minikeras.layers.Embedding(6, 3, mask_zero=True)
        wrapper = minikeras.layers.TimeDistributed(minikeras.layers.Dense(2))
        ours_mask = wrapper.compute_mask(x, ours_embedding.compute_mask(x))
        np.testing.assert_array_equal(ours_mask, np.asarray(theirs_mask))


# ---------------------------------------------------------------- models: gradients and fit
def embedding_classifier(K):
    """Ids → Embedding → Flatten → softmax over 3 classes."""
    return K.Sequential(
        [
            K.Input(shape=(5,)),
            K.layers.Embedding(40, 4, name="embedding"),
            K.layers.Flatten(name="flatten"),
            K.layers.Dense(3, activation="softmax", name="out"),
        ]
    )


def time_distributed_tagger(K):
    """(batch, 5, 4) → TimeDistributed(Dense(tanh)) → TimeDistributed(Dense(softmax)): one
    class per timestep."""
    return K.Sequential(
        [
            K.Input(shape=(5, 4)),
            K.layers.TimeDistributed(K.layers.Dense(6, activation="tanh"), name="td_hidden"),
            K.layers.TimeDistributed(K.layers.Dense(3, activation="softmax"), name="td_out"),
        ]
    )


def repeat_decoder(K):
    """The shape of keras.io's addition_rnn without its LSTMs: a vector repeated over 4 steps,
    then a per-step softmax."""
    return K.Sequential(
        [
            K.Input(shape=(6,)),
            K.layers.Dense(5, activation="tanh", name="encode"),
            K.layers.RepeatVector(4, name="repeat"),
            K.layers.TimeDistributed(K.layers.Dense(3, activation="softmax"), name="decode"),
        ]
    )


def repeated_ids_data(rng, n):
    """Ids from a vocabulary of 7 (of the table's 40): every batch looks rows up many times."""
    x = rng.integers(0, 7, size=(n, 5))
    x[:, 0] = 3  # a row every sample looks up: its gradient sums over the whole batch
    return x, np.eye(3)[(x[:, 1] + x[:, 2]) % 3]


def distinct_ids_data(rng, n, batch_size=8):
    """Each batch of 8 samples looks up 40 different rows: no id repeats within a batch."""
    blocks = [rng.permutation(40).reshape(batch_size, 5) for _ in range(-(-n // batch_size))]
    x = np.concatenate(blocks)[:n]
    return x, np.eye(3)[(x[:, 1] + x[:, 2]) % 3]


def sequence_data(rng, n):
    x = rng.normal(size=(n, 5, 4))
    return x, np.eye(3)[(x[..., 0] > 0).astype(int) + (x[..., 1] > 1).astype(int)]


def vector_data(rng, n):
    x = rng.normal(size=(n, 6))
    return x, np.eye(3)[rng.integers(0, 3, size=(n, 4))]


MODELS = {
    "embedding_classifier": (embedding_classifier, repeated_ids_data),
    "time_distributed_tagger": (time_distributed_tagger, sequence_data),
    "repeat_decoder": (repeat_decoder, vector_data),
}
OPTIMIZERS = {
    "SGD": dict(learning_rate=0.05, momentum=0.9),
    "Adam": dict(learning_rate=0.01),
    "RMSprop": dict(learning_rate=0.01),
}


def model_twins(keras, name):
    build = MODELS[name][0]
    ours, theirs = build(minikeras), build(keras)
    assert [w.shape for w in ours.get_weights()] == [tuple(w.shape) for w in theirs.weights]
    theirs.set_weights(ours.get_weights())
    return ours, theirs


@pytest.mark.parametrize("name", list(MODELS))
def test_model_gradients_match_tensorflow(keras, name):
    """dL/dw of the hand-written backward against tf.GradientTape on the loss as fit computes
    it, float64 (the embedding's gradient with repeated ids, summed, as TensorFlow densifies
    its IndexedSlices)."""
    import tensorflow as tf

    with floatx(keras, "float64"):
        ours, theirs = model_twins(keras, name)
        for model in (ours, theirs):
            model.compile(optimizer="sgd", loss="categorical_crossentropy")
        x, y = MODELS[name][1](np.random.default_rng(3), 12)
        ours_x, ours_y, _ = ours.prepare_data(x, y)
        _, loss, _ = ours.compute_gradients(ours_x, ours_y)
        with tf.GradientTape() as tape:
            theirs_loss = theirs.compute_loss(
                x=x, y=y, y_pred=theirs(x, training=True), training=True
            )
        theirs_grads = tape.gradient(theirs_loss, theirs.trainable_weights)
        assert rel(loss, theirs_loss) < tolerance("float64")
        assert len(ours.grads) == len(theirs_grads)
        for ours_grad, theirs_grad in zip(ours.grads, theirs_grads):
            theirs_grad = tf.convert_to_tensor(theirs_grad).numpy()  # IndexedSlices: dense
            assert rel(ours_grad, theirs_grad) < tolerance("float64")


# (model, data, optimizer, dtype, validation split): every model, every optimizer, both dtypes,
# in five fits (each Keras fit costs seconds).
FITS = [
    ("embedding_classifier", repeated_ids_data, "SGD", "float32", 0.25),
    ("embedding_classifier", distinct_ids_data, "Adam", "float64", 0.0),
    ("embedding_classifier", distinct_ids_data, "RMSprop", "float32", 0.0),
    ("time_distributed_tagger", sequence_data, "Adam", "float32", 0.25),
    ("repeat_decoder", vector_data, "RMSprop", "float64", 0.0),
]


@pytest.mark.parametrize("name, data, optimizer, dtype, validation_split", FITS)
def test_fit_history_weights_and_predictions(keras, name, data, optimizer, dtype, validation_split):
    """SGD meets repeated ids; Adam and RMSprop meet each id once a batch (see
    `test_keras_adam_squares_each_occurrence_of_a_repeated_id` for why)."""
    with floatx(keras, dtype):
        ours, theirs = model_twins(keras, name)
        options = OPTIMIZERS[optimizer]
        compile_args = dict(loss="categorical_crossentropy", metrics=["accuracy"])
        ours.compile(optimizer=getattr(minikeras.optimizers, optimizer)(**options), **compile_args)
        theirs.compile(optimizer=getattr(keras.optimizers, optimizer)(**options), **compile_args)
        x, y = data(np.random.default_rng(4), 40)
        # batches of 8, the last one partial (40 − 10 validation samples, or 40)
        fit = dict(epochs=3, batch_size=8, validation_split=validation_split, shuffle=False)
        ours_history, theirs_history, drift = fit_both(ours, theirs, x, y, verbose=0, **fit)
        steps = 3 * 5
        assert sorted(ours_history) == sorted(theirs_history)
        for key, values in theirs_history.items():
            assert rel(ours_history[key], values) < tolerance(dtype, steps), key
        # float32 Adam and RMSprop: the weights within the drift bound of the steps taken
        assert_trained_alike(ours, theirs, tolerance(dtype, steps), drift)
        # predictions on the same (Keras's) weights
        ours.set_weights(theirs.get_weights())
        ours_p, theirs_p = ours.predict(x, verbose=0), theirs.predict(x, verbose=0)
        assert rel(ours_p, theirs_p) < tolerance(dtype)


@pytest.mark.parametrize("optimizer", ["Adam", "RMSprop"])
def test_keras_adam_squares_each_occurrence_of_a_repeated_id(keras, optimizer):
    """A known difference, pinned down. TensorFlow hands Keras the embedding's gradient as
    IndexedSlices, one slice per position, repeated ids not yet summed; Adam's and RMSprop's
    `square(gradient)` then squares each slice, and the sum happens afterwards. So Keras's
    second moment of a row looked up at positions p is Σ_p g_p², where minikeras (and the
    mathematics of the dense gradient g = Σ_p g_p) has (Σ_p g_p)². Every other quantity (the
    first moment, the update's numerator, SGD entirely) uses Σ_p g_p on both sides.

    Checked here on one step, float64: Keras's velocity is the per-occurrence sum of squares
    computed from minikeras's per-position gradients, and minikeras's is the square of the sum.
    """
    with floatx(keras, "float64"):
        ours, theirs = model_twins(keras, "embedding_classifier")
        x, y = repeated_ids_data(np.random.default_rng(5), 8)
        options = OPTIMIZERS[optimizer]
        for model, library in ((ours, minikeras), (theirs, keras)):
            model.compile(getattr(library.optimizers, optimizer)(**options), "mse")
        # per-position gradients: Flatten's dL/dx, one row per looked-up id
        ours_x, ours_y, _ = ours.prepare_data(x, y)
        _, (d,) = ours.compute_loss_and_gradients(ours_y, ours.forward(ours_x, training=True))
        per_position = ours.layers[1].backward(ours.layers[2].backward(d)).reshape(-1, 4)
        sum_of_squares, total = np.zeros((40, 4)), np.zeros((40, 4))
        np.add.at(sum_of_squares, x.reshape(-1), per_position**2)
        np.add.at(total, x.reshape(-1), per_position)
        ours.train_on_batch(x, y)
        theirs.train_on_batch(x, y)
        decay = 1 - (0.999 if optimizer == "Adam" else 0.9)  # β₂ or 1 − ρ, from v = 0
        theirs_v = next(
            v.numpy() for v in theirs.optimizer.variables if "embeddings_velocity" in v.path
        )
        assert rel(theirs_v, decay * sum_of_squares) < tolerance("float64")
        assert rel(theirs_v, decay * total**2) > 0.1  # the difference is not rounding
        ours_v = ours.optimizer.slots["velocity"][0]  # the embeddings' (the first weight)
        assert rel(ours_v, decay * total**2) < tolerance("float64")


def test_saturated_time_distributed_softmax_is_scored_from_clipped_probabilities(keras):
    """Keras's TimeDistributed stacks the per-step outputs into a new tensor, which carries no
    softmax logits, so its crossentropy is taken from clipped probabilities (ε = 1e-7), not
    from logits; minikeras's TimeDistributed exposes no logits either. With saturated weights
    the two rules give very different values, so this pins the rule down."""
    with floatx(keras, "float32"):
        ours, theirs = model_twins(keras, "time_distributed_tagger")
        saturated = [w * 300 for w in ours.get_weights()]
        ours.set_weights(saturated)
        theirs.set_weights(saturated)
        for model in (ours, theirs):
            model.compile(optimizer="sgd", loss="categorical_crossentropy")
        x, y = sequence_data(np.random.default_rng(5), 16)
        ours_loss = ours.evaluate(x, y, verbose=0)
        theirs_loss = theirs.evaluate(x, y, verbose=0)
        assert ours_loss > 1.0  # wrong, confident answers: clipped at −log(1e-7) ≈ 16.1 each
        assert rel(ours_loss, theirs_loss) < tolerance("float32")


@pytest.mark.parametrize("name", list(MODELS))
def test_model_configs_load_on_the_other_side(keras, name):
    with floatx(keras, "float32"):
        ours, theirs = model_twins(keras, name)
        x, _ = MODELS[name][1](np.random.default_rng(6), 6)
        from_ours = keras.Sequential.from_config(as_json(ours.get_config()))
        from_theirs = minikeras.Sequential.from_config(as_json(theirs.get_config()))
        for model in (from_ours, from_theirs):
            model.set_weights(ours.get_weights())
            assert rel(model.predict(x, verbose=0), ours.predict(x, verbose=0)) < tolerance(
                "float32"
            )


@pytest.mark.parametrize("name", list(MODELS))
def test_summary_as_keras_prints_it(keras, name, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")  # Keras sizes its table to the terminal
    with floatx(keras, "float32"):
        ours, theirs = model_twins(keras, name)
        printed = {}
        for side, model in (("ours", ours), ("theirs", theirs)):
            lines = []
            model.summary(print_fn=lines.append)
            printed[side] = "\n".join(lines).rstrip("\n")
        assert printed["ours"] == printed["theirs"]
