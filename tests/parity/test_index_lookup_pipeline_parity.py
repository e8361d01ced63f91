"""`IndexLookup` (the base of StringLookup/IntegerLookup, public in minikeras.layers as Keras
keeps it in keras.src) and `Pipeline` against Keras: the same outputs (exact: lookups are
integers, the pipeline's steps a scale and a crop), and a model trained through a Pipeline
has the gradients central differences give (no gradient flows into the pipeline itself)."""

import numpy as np

import minikeras
from minikeras import layers, testing

VOCABULARY = ["cat", "dog", "bird"]
WORDS = np.array([["dog", "fish"], ["bird", "cat"]])


def test_index_lookup_maps_as_keras_s(keras):
    from keras.src.layers.preprocessing.index_lookup import IndexLookup

    for output_mode in ("int", "multi_hot", "count"):
        args = dict(
            max_tokens=None,
            num_oov_indices=1,
            mask_token=None,
            oov_token="[OOV]",
            vocabulary_dtype="string",
            vocabulary=VOCABULARY,
            output_mode=output_mode,
        )
        ours = np.asarray(layers.IndexLookup(**args)(WORDS))
        theirs = np.asarray(IndexLookup(**args)(WORDS))
        np.testing.assert_array_equal(ours, theirs)
    assert layers.IndexLookup(**args).get_vocabulary() == IndexLookup(**args).get_vocabulary()


def test_pipeline_transforms_as_keras_s(keras):
    images = np.arange(2 * 4 * 4 * 3, dtype="float32").reshape(2, 4, 4, 3)
    ours = layers.Pipeline([layers.Rescaling(0.5), layers.CenterCrop(2, 2)])(images)
    theirs = keras.layers.Pipeline([keras.layers.Rescaling(0.5), keras.layers.CenterCrop(2, 2)])(
        images
    )
    np.testing.assert_array_equal(np.asarray(ours), np.asarray(theirs))


def test_pipeline_in_a_model_passes_the_gradient_check():
    model = minikeras.Sequential(
        [
            minikeras.Input((4, 4, 3)),
            layers.Pipeline([layers.Rescaling(0.5)]),
            layers.Flatten(),
            layers.Dense(2, activation="tanh"),
        ]
    )
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(3, 4, 4, 3)), rng.normal(size=(3, 2))
    worst = testing.check_gradients(model, x, y, tolerance=1e-6, verbose=False)
    assert len(worst) == 2  # the Dense kernel and bias: the pipeline has no weights
