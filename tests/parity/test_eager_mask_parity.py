"""An eager call's output carries its mask (`_keras_mask`), as Keras's tensors do; the next
layer, a loss and a metric read it there (keras.io's "understanding masking and padding").

Tolerances: masks are booleans, compared exactly; losses and metrics in float32 within 1e-6
relative (one mean of a few products, rounded once per operation in both libraries).
"""

import numpy as np

import minikeras

TOKENS = np.array([[7, 3, 0, 0], [2, 0, 0, 0], [5, 1, 4, 9]])


def test_embedding_and_masking_outputs_carry_keras_masks(keras):
    ours = minikeras.layers.Embedding(10, 3, mask_zero=True)(TOKENS)
    theirs = keras.layers.Embedding(10, 3, mask_zero=True)(TOKENS)
    np.testing.assert_array_equal(ours._keras_mask, np.asarray(theirs._keras_mask))
    padded = np.repeat(TOKENS[..., None].astype("float32"), 2, axis=-1)
    ours = minikeras.layers.Masking()(padded)
    theirs = keras.layers.Masking()(padded)
    np.testing.assert_array_equal(ours._keras_mask, np.asarray(theirs._keras_mask))
    # an array computed from a masked output carries no mask, as a TensorFlow op's result
    assert getattr(ours * 2, "_keras_mask", None) is None
    assert getattr(np.asarray(theirs) * 2, "_keras_mask", None) is None


def test_a_mask_passes_through_the_next_eager_layer_as_in_keras(keras):
    for lib in (minikeras, keras):
        embedded = lib.layers.Embedding(10, 3, mask_zero=True)(TOKENS)
        dense = lib.layers.Dense(2)(embedded)  # supports masking: the mask passes on
        lstm = lib.layers.LSTM(2, return_sequences=True)(embedded)
        np.testing.assert_array_equal(np.asarray(dense._keras_mask), TOKENS != 0)
        np.testing.assert_array_equal(np.asarray(lstm._keras_mask), TOKENS != 0)


def split_layer(lib):
    class TemporalSplit(lib.layers.Layer):
        def call(self, inputs):
            return lib.ops.split(inputs, 2, axis=1)

        def compute_mask(self, inputs, mask=None):
            return None if mask is None else lib.ops.split(mask, 2, axis=1)

    return TemporalSplit()


def test_a_layer_that_writes_compute_mask_supports_masking_as_in_keras(keras):
    ours, theirs = split_layer(minikeras), split_layer(keras)
    assert ours.supports_masking is theirs.supports_masking is True
    embedded = minikeras.layers.Embedding(10, 3, mask_zero=True)(TOKENS)
    theirs_embedded = keras.layers.Embedding(10, 3, mask_zero=True)(TOKENS)
    for a, b in zip(ours(embedded), theirs(theirs_embedded)):
        np.testing.assert_array_equal(a._keras_mask, np.asarray(b._keras_mask))


def test_losses_and_metrics_read_the_mask_an_output_carries(keras):
    rng = np.random.default_rng(0)
    embedding = rng.normal(size=(10, 3)).astype("float32")
    y_true = rng.normal(size=(3, 4, 3)).astype("float32")
    # one weight per timestep: Keras cannot multiply a (3,) weight by the (3, 4) mask here
    sample_weight = rng.random((3, 4)).astype("float32")
    outputs = []
    for lib in (minikeras, keras):
        layer = lib.layers.Embedding(10, 3, mask_zero=True)
        layer.build((None, 4))
        layer.set_weights([embedding])
        y_pred = layer(TOKENS)
        loss = lib.losses.MeanSquaredError()(y_true, y_pred)
        weighted = lib.losses.MeanAbsoluteError()(y_true, y_pred, sample_weight)
        metric = lib.metrics.MeanAbsoluteError()
        metric.update_state(y_true, y_pred)
        outputs.append([float(loss), float(weighted), float(metric.result())])
    np.testing.assert_allclose(outputs[0], outputs[1], rtol=1e-6)
    # the masked timesteps changed the numbers: without the mask they differ
    unmasked = float(minikeras.losses.MeanSquaredError()(y_true, np.asarray(embedding[TOKENS])))
    assert abs(unmasked - outputs[0][0]) > 1e-3
