"""The categorical and text preprocessing layers against real Keras (TensorFlow's hashes,
lookups, encodings, adapted vocabularies and bin boundaries), and a Functional model that
takes strings through StringLookup into Embedding or CategoryEncoding, trained by `fit`.

Outputs are integers or encodings of them: they must be equal, not close. The idf weights are
computed in float32 by both (log(1 + n/(1 + d))): they are compared to float32's 1e-6. The
trained models are compared in float64 within 1e-10 (the parity suite's float64 tolerance:
both sides round at 2⁻⁵³ and sum in different orders; docs/parity.md).
"""

import string

import numpy as np
import pytest
from layer_twins import floatx, rel

import minikeras as mk
from minikeras.layers.preprocessing import fingerprints
from minikeras.parity.compare import tolerance

WORDS = ["cat", "dog", "bird", "fish", "cow", "ant", "bee", "eel", "emu", "yak"]


def random_strings(rng, count):
    """Strings of 0 to 150 characters (every FarmHash length class), ASCII and beyond."""
    alphabet = list(string.printable) + ["é", "ß", "中", "😀"]
    lengths = rng.integers(0, 151, size=count)
    lengths[:70] = np.arange(70)  # every short length at least once
    return ["".join(rng.choice(alphabet, size=n)) for n in lengths]


def numpy_of(tensor):
    return np.asarray(tensor)


# ---------------------------------------------------------------------- hashes
def test_fingerprint64_and_siphash_equal_tensorflows(keras):
    import tensorflow as tf

    rng = np.random.default_rng(0)
    texts = random_strings(rng, 300)
    big = 2**63 - 1  # the largest bucket count: the hash itself modulo 2⁶³ − 1
    theirs = tf.strings.to_hash_bucket_fast(texts, big).numpy()
    ours = [fingerprints.fingerprint64(t.encode()) % big for t in texts]
    assert ours == theirs.tolist()
    for key in ([0, 0], [137, 42], [2**63 - 5, 12345]):
        theirs = tf.strings.to_hash_bucket_strong(texts, big, key=key).numpy()
        ours = [fingerprints.siphash64(key, t.encode()) % big for t in texts]
        assert ours == theirs.tolist(), key


@pytest.mark.parametrize("salt", [None, 133, [7, 2**40]])
@pytest.mark.parametrize("mask_value", [None, "dog"])
def test_hashing_bins_equal_keras(keras, salt, mask_value):
    rng = np.random.default_rng(1)
    texts = np.array(random_strings(rng, 100) + WORDS).reshape(-1, 1)
    kwargs = dict(num_bins=7, salt=salt, mask_value=mask_value)
    assert np.array_equal(
        mk.layers.Hashing(**kwargs)(texts), numpy_of(keras.layers.Hashing(**kwargs)(texts))
    )


@pytest.mark.parametrize("output_mode", ["int", "one_hot", "multi_hot", "count"])
def test_hashing_integers_floats_and_encodings_equal_keras(keras, output_mode):
    rng = np.random.default_rng(2)
    ints = rng.integers(-(2**40), 2**40, size=(30, 3))
    floats = rng.uniform(-1000, 1000, size=(30, 3))  # truncated to int64 before hashing
    for data in (ints, floats, ints[:, :1]):
        ours = mk.layers.Hashing(num_bins=5, output_mode=output_mode)(data)
        theirs = numpy_of(keras.layers.Hashing(num_bins=5, output_mode=output_mode)(data))
        assert ours.shape == theirs.shape and ours.dtype == theirs.dtype
        assert np.array_equal(ours, theirs)


def test_hashed_crossing_equals_keras(keras):
    rng = np.random.default_rng(3)
    a = rng.integers(-(2**62), 2**62, size=(40, 1))
    b = np.array(rng.choice(WORDS, size=(40, 1)))
    c = rng.integers(0, 10, size=(40, 1))
    for inputs in ((a, b), (b, c, a), (a[:, 0], b[:, 0])):
        for mode in ("int", "one_hot"):
            ours = mk.layers.HashedCrossing(num_bins=11, output_mode=mode)(inputs)
            theirs = numpy_of(keras.layers.HashedCrossing(num_bins=11, output_mode=mode)(inputs))
            assert ours.shape == theirs.shape and np.array_equal(ours, theirs)


# ---------------------------------------------------------------------- lookups
LOOKUP_CASES = [
    dict(),
    dict(max_tokens=5),
    dict(mask_token="[MASK]"),
    dict(num_oov_indices=3),
    dict(num_oov_indices=3, salt=[1, 2]),
    dict(output_mode="one_hot"),
    dict(output_mode="multi_hot", mask_token="[MASK]"),
    dict(output_mode="count", num_oov_indices=2),
    dict(output_mode="tf_idf"),
    dict(output_mode="multi_hot", max_tokens=12, pad_to_max_tokens=True),
]


@pytest.mark.parametrize("kwargs", LOOKUP_CASES, ids=str)
def test_string_lookup_adapted_equals_keras(keras, kwargs):
    rng = np.random.default_rng(4)
    # counts with ties, so the order of equal counts (terms decreasing) is exercised
    train = np.array(rng.choice(WORDS[:7], size=(20, 3)))
    data = np.array(rng.choice(WORDS + ["[MASK]"], size=(6, 3)))
    ours, theirs = mk.layers.StringLookup(**kwargs), keras.layers.StringLookup(**kwargs)
    ours.adapt(train)
    theirs.adapt(train)
    assert ours.get_vocabulary() == theirs.get_vocabulary()
    assert ours.vocabulary_size() == theirs.vocabulary_size()
    got, expected = ours(data), numpy_of(theirs(data))
    assert got.shape == expected.shape and got.dtype == expected.dtype
    if kwargs.get("output_mode") == "tf_idf":
        assert np.allclose(got, expected, rtol=1e-6, atol=0)
    else:
        assert np.array_equal(got, expected)
    assert ours.get_config() == {**theirs.get_config(), "name": ours.name}


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(),
        dict(mask_token=0, oov_token=-7),
        dict(num_oov_indices=4),
        dict(num_oov_indices=4, oov_method="farmhash"),
        dict(num_oov_indices=4, oov_method="farmhash", salt=9),
        dict(output_mode="count"),
    ],
    ids=str,
)
def test_integer_lookup_equals_keras(keras, kwargs):
    rng = np.random.default_rng(5)
    train = rng.integers(1, 9, size=(30,))
    data = rng.integers(-3, 20, size=(5, 4))
    ours, theirs = mk.layers.IntegerLookup(**kwargs), keras.layers.IntegerLookup(**kwargs)
    ours.adapt(train)
    theirs.adapt(train)
    assert ours.get_vocabulary() == [int(v) for v in theirs.get_vocabulary()]
    assert np.array_equal(ours(data), numpy_of(theirs(data)))
    assert ours.get_config() == {**theirs.get_config(), "name": ours.name}


def test_invert_equals_keras(keras):
    vocabulary = ["a", "b", "c"]
    indices = np.array([[0, 1, 2], [3, 4, 9]])
    for kwargs in (dict(), dict(mask_token="[M]"), dict(num_oov_indices=2)):
        ours = mk.layers.StringLookup(vocabulary=vocabulary, invert=True, **kwargs)
        theirs = keras.layers.StringLookup(vocabulary=vocabulary, invert=True, **kwargs)
        expected = np.char.decode(numpy_of(theirs(indices)).astype(bytes), "utf-8")
        assert ours(indices).tolist() == expected.tolist()
    ours = mk.layers.IntegerLookup(vocabulary=[10, 20], invert=True, mask_token=0)
    theirs = keras.layers.IntegerLookup(vocabulary=[10, 20], invert=True, mask_token=0)
    assert np.array_equal(ours(indices), numpy_of(theirs(indices)))


# ---------------------------------------------------------------------- text
CORPUS = [
    "The cat sat on the mat.",
    "A dog! A DOG? The dog sat, then ran.",
    "Birds fly; cats don't.",
    "   spaces\tand\nnewlines  ",
    "naïve Café résumé",
    "",
]


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(),
        dict(output_sequence_length=4),
        dict(output_sequence_length=12, max_tokens=8),
        dict(ngrams=2),
        dict(ngrams=(1, 3), standardize="lower"),
        dict(split="character", standardize="strip_punctuation"),
        dict(split=None, standardize=None),
        dict(output_mode="multi_hot"),
        dict(output_mode="count", ngrams=2),
        dict(output_mode="tf_idf"),
        dict(output_mode="multi_hot", max_tokens=30, pad_to_max_tokens=True),
    ],
    ids=str,
)
def test_text_vectorization_equals_keras(keras, kwargs):
    ours, theirs = mk.layers.TextVectorization(**kwargs), keras.layers.TextVectorization(**kwargs)
    ours.adapt(CORPUS)
    theirs.adapt(CORPUS)
    assert ours.get_vocabulary() == theirs.get_vocabulary()
    data = np.array(["the DOG sat on a cat", "ran, ran, ran!", "unknown words only", ""])
    got, expected = ours(data), numpy_of(theirs(data))
    assert got.shape == expected.shape and got.dtype == expected.dtype
    assert np.allclose(got, expected, rtol=1e-6, atol=0)  # (tf_idf: float32 idf weights)
    assert ours.get_config() == {**theirs.get_config(), "name": ours.name}


# ---------------------------------------------------------------------- numbers
@pytest.mark.parametrize("output_mode", ["int", "one_hot", "multi_hot", "count"])
def test_discretization_adapted_equals_keras(keras, output_mode):
    rng = np.random.default_rng(6)
    batches = [rng.normal(size=(50, 2)), rng.exponential(size=(80, 2)), rng.normal(size=(7, 2))]
    ours = mk.layers.Discretization(num_bins=5, epsilon=0.05, output_mode=output_mode)
    theirs = keras.layers.Discretization(num_bins=5, epsilon=0.05, output_mode=output_mode)
    ours.adapt(batches)
    theirs.adapt(batches)
    assert np.array_equal(ours.bin_boundaries, theirs.bin_boundaries)
    x = rng.normal(size=(9, 2)) * 2
    got, expected = ours(x), numpy_of(theirs(x))
    assert got.dtype == expected.dtype and np.array_equal(got, expected)
    assert ours.get_config() == {**theirs.get_config(), "name": ours.name}


@pytest.mark.parametrize("output_mode", ["one_hot", "multi_hot", "count"])
def test_category_encoding_equals_keras(keras, output_mode):
    rng = np.random.default_rng(7)
    shapes = ((8,), (8, 1), (8, 3), (4, 3, 2))  # rank 3: Keras reduces axis 1, not the last
    for ids in (rng.integers(0, 6, size=shape) for shape in shapes):
        ours = mk.layers.CategoryEncoding(num_tokens=6, output_mode=output_mode)(ids)
        theirs = numpy_of(keras.layers.CategoryEncoding(num_tokens=6, output_mode=output_mode)(ids))
        assert ours.shape == theirs.shape and ours.dtype == theirs.dtype
        assert np.array_equal(ours, theirs)


# ---------------------------------------------------------------------- inside tf.data
def test_layers_map_a_tf_dataset_as_keras(keras):
    """`dataset.map(layer)`: the layer runs on graph tensors, as keras.io's text examples
    map TextVectorization over their datasets."""
    import tensorflow as tf

    texts = tf.data.Dataset.from_tensor_slices(CORPUS).batch(4)
    pairs = tf.data.Dataset.from_tensor_slices((np.array(WORDS), np.arange(10))).batch(5)
    for make, dataset in (
        (lambda K: K.layers.TextVectorization(vocabulary=["the", "cat", "dog"]), texts),
        (lambda K: K.layers.StringLookup(vocabulary=WORDS[:4], output_mode="count"), texts),
        (lambda K: K.layers.HashedCrossing(num_bins=7), pairs),
    ):
        ours, theirs = make(mk), make(keras)
        if dataset is pairs:  # two features crossed: the layer takes them as one tuple
            ours_mapped = dataset.map(lambda a, b, layer=ours: layer((a, b)))
            theirs_mapped = dataset.map(lambda a, b, layer=theirs: layer((a, b)))
        else:
            ours_mapped, theirs_mapped = dataset.map(ours), dataset.map(theirs)
        for got, expected in zip(ours_mapped, theirs_mapped):
            assert got.shape == expected.shape
            assert np.array_equal(got.numpy(), expected.numpy())


# ---------------------------------------------------------------------- a model of strings
def string_model(K):
    """Input(string) → StringLookup → Embedding → Flatten, beside StringLookup(multi_hot);
    concatenated → Dense."""
    inputs = K.Input(shape=(2,), dtype="string", name="words")
    ids = K.layers.StringLookup(vocabulary=WORDS[:6], name="lookup")(inputs)
    embedded = K.layers.Flatten(name="flat")(K.layers.Embedding(8, 3, name="embed")(ids))
    counts = K.layers.StringLookup(vocabulary=WORDS[2:8], output_mode="multi_hot", name="hot")
    joined = K.layers.Concatenate(name="joined")([embedded, counts(inputs)])
    outputs = K.layers.Dense(1, activation="sigmoid", name="out")(joined)
    return K.Model(inputs, outputs)


def test_string_model_fit_equals_keras(keras):
    import tensorflow as tf

    with floatx(keras, "float64"):
        ours, theirs = string_model(mk), string_model(keras)
        ours.set_weights(theirs.get_weights())
        for model in (ours, theirs):
            # plain SGD after an Embedding: Keras on TensorFlow updates only the looked-up rows
            # of an Embedding's slots in RMSprop/Adam (its gradient is sparse), minikeras all
            model.compile(optimizer="sgd", loss="binary_crossentropy", metrics=["accuracy"])
        rng = np.random.default_rng(8)
        x = np.array(rng.choice(WORDS, size=(40, 2)))  # some out of the vocabulary
        y = (np.isin(x[:, 0], WORDS[:3])).astype("float64").reshape(-1, 1)
        fit = dict(epochs=3, batch_size=8, validation_split=0.25, shuffle=False, verbose=0)
        # Keras takes text as a TensorFlow string tensor (a NumPy `str` array fails its
        # dtype check); minikeras takes the NumPy array itself
        x_tf = tf.constant(x)
        ours_history = ours.fit(x, y, **fit).history
        theirs_history = theirs.fit(x_tf, y, **fit).history
        assert sorted(ours_history) == sorted(theirs_history)
        for key, values in theirs_history.items():
            assert rel(ours_history[key], values) < tolerance("float64"), key
        for w, v in zip(ours.get_weights(), theirs.get_weights()):
            assert rel(w, v) < tolerance("float64")
        predicted = ours.predict(x, verbose=0)
        assert rel(predicted, theirs.predict(x_tf, verbose=0)) < tolerance("float64")
