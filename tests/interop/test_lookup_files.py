"""Models with lookup and text layers in `.keras` files, both ways, against real Keras: the
vocabulary of an adapted layer travels as Keras stores it (assets/<layer path>/vocabulary.txt,
special tokens first), a given one in the config, tf-idf weights as the dataset `idf_weights`
of the layer's group; each side loads the other's file and gives the same outputs.
"""

import zipfile

import numpy as np
import pytest

import minikeras as mk

CORPUS = ["the cat sat", "the dog ran", "a cat ran", "dogs and cats"]
TEXTS = np.array([["the cat ran"], ["a bird sat"], ["dogs"]])


def text_model(K, output_mode):
    inputs = K.Input(shape=(1,), dtype="string", name="text")
    vectorize = K.layers.TextVectorization(output_mode=output_mode, name="vectorize")
    vectorize.adapt(CORPUS)
    lookup = K.layers.StringLookup(vocabulary=["cat", "dog"], name="fixed")
    words = K.layers.StringLookup(name="words", output_mode="count")
    words.adapt(np.array(CORPUS))
    return K.Model(inputs, [vectorize(inputs), lookup(inputs), words(inputs)])


def outputs(model, x):
    if not isinstance(model, mk.Model):  # Keras takes text as a TensorFlow string tensor
        import tensorflow as tf

        x = tf.constant(x)
    return [np.asarray(y) for y in model.predict(x, verbose=0)]


def members(path):
    with zipfile.ZipFile(path) as zf:
        return sorted(n for n in zf.namelist() if n.startswith("assets/") and not n.endswith("/"))


@pytest.mark.parametrize("output_mode", ["int", "tf_idf"])
def test_minikeras_file_opens_in_keras_and_back(keras, tmp_path, output_mode):
    ours = text_model(mk, output_mode)
    theirs = text_model(keras, output_mode)
    ours_path, theirs_path = tmp_path / "ours.keras", tmp_path / "theirs.keras"
    ours.save(ours_path)
    theirs.save(theirs_path)
    assert members(ours_path) == members(theirs_path)
    expected = outputs(theirs, TEXTS)
    from_ours = keras.saving.load_model(ours_path)
    from_theirs = mk.saving.load_model(theirs_path)
    for model in (ours, from_ours, from_theirs):
        for got, want in zip(outputs(model, TEXTS), expected):
            assert np.allclose(got, want, rtol=1e-6, atol=0)
    vocabulary = theirs.get_layer("vectorize").get_vocabulary()
    assert from_theirs.get_layer("vectorize").get_vocabulary() == vocabulary
    assert from_ours.get_layer("vectorize").get_vocabulary() == vocabulary


def numeric_model(K):
    """Integers and numbers through the other categorical layers, in one model."""
    ids = K.Input(shape=(1,), dtype="int64", name="ids")
    values = K.Input(shape=(1,), name="values")
    lookup = K.layers.IntegerLookup(name="lookup", output_mode="one_hot")
    lookup.adapt(np.array([3, 3, 5, 7, 7, 7]))
    bins = K.layers.Discretization(num_bins=3, name="bins")
    bins.adapt(np.array([[0.0], [1.0], [2.0], [4.0], [8.0]]))
    hashed = K.layers.Hashing(num_bins=4, salt=7, output_mode="one_hot", name="hashed")(ids)
    crossed = K.layers.HashedCrossing(num_bins=5, name="crossed")((ids, bins(values)))
    encoded = K.layers.CategoryEncoding(num_tokens=5, output_mode="one_hot", name="encoded")
    return K.Model([ids, values], [lookup(ids), hashed, encoded(crossed)])


def test_numeric_categorical_layers_in_files_both_ways(keras, tmp_path):
    ids = np.array([[3], [5], [9], [7]])
    values = np.array([[0.5], [3.0], [9.0], [1.5]])
    ours, theirs = numeric_model(mk), numeric_model(keras)
    ours.save(tmp_path / "ours.keras")
    theirs.save(tmp_path / "theirs.keras")
    expected = [np.asarray(y) for y in theirs.predict([ids, values], verbose=0)]
    from_ours = keras.saving.load_model(tmp_path / "ours.keras")
    from_theirs = mk.saving.load_model(tmp_path / "theirs.keras")
    for model in (ours, from_ours, from_theirs):
        for got, want in zip(model.predict([ids, values], verbose=0), expected):
            assert np.array_equal(np.asarray(got), want)
