"""The lookup, hashing and text layers without Keras: bad input leaves a layer as it was,
adapt reads every kind of data, and a model of strings trains through them (their backward
passes nothing: the layers before them get no gradient, the layers after them theirs)."""

import numpy as np
import pytest

import minikeras as mk
from minikeras.layers.preprocessing import fingerprints


def test_bad_vocabulary_leaves_the_layer_unchanged():
    layer = mk.layers.StringLookup(vocabulary=["a", "b"], max_tokens=4)
    for bad, message in (
        (["x", "y", "x"], "repeated term"),
        (["x", "y", "z", "w"], "larger than the maximum"),
    ):
        with pytest.raises(ValueError, match=message):
            layer.set_vocabulary(bad)
        assert layer.get_vocabulary() == ["[UNK]", "a", "b"]
        assert layer(["b", "a", "q"]).tolist() == [2, 1, 0]


def test_encoding_width_cannot_change_once_set():
    layer = mk.layers.StringLookup(vocabulary=["a", "b"], output_mode="multi_hot")
    with pytest.raises(RuntimeError, match="Old vocab size is 3, new vocab size is 4"):
        layer.set_vocabulary(["a", "b", "c"])
    assert layer(["a"]).tolist() == [0.0, 1.0, 0.0]


def test_no_oov_index_rejects_unknown_values():
    layer = mk.layers.IntegerLookup(vocabulary=[5, 6], num_oov_indices=0)
    assert layer([6, 5]).tolist() == [1, 0]
    with pytest.raises(ValueError, match=r"found OOV values \[7\]"):
        layer([5, 7])


def test_adapt_reads_arrays_lists_generators_and_steps():
    def batches():
        while True:
            yield np.array(["b", "c"])

    counted = mk.layers.StringLookup()
    counted.adapt(batches(), steps=2)
    assert counted.get_vocabulary() == ["[UNK]", "c", "b"]  # a tie: the larger term first
    listed = mk.layers.StringLookup()
    listed.adapt([b"z", b"y", b"z"])  # bytes, as TensorFlow gives strings
    assert listed.get_vocabulary() == ["[UNK]", "z", "y"]
    with pytest.raises(ValueError, match="Cannot adapt layer"):
        mk.layers.StringLookup(vocabulary=["a"]).adapt(["a"])


def test_fingerprint_of_nothing_is_farmhash_constant():
    # FarmHash's Fingerprint64 of zero bytes is its constant k2
    assert fingerprints.fingerprint64(b"") == 0x9AE16A3B2F90404F
    assert fingerprints.as_hash_bytes(-12) == b"-12"


def test_text_vectorization_pads_each_batch_to_its_longest_text():
    layer = mk.layers.TextVectorization(vocabulary=["x", "y"])
    assert layer(["X y!", "y"]).tolist() == [[2, 3], [3, 0]]
    fixed = mk.layers.TextVectorization(vocabulary=["x", "y"], output_sequence_length=3)
    assert fixed(["x y x y", ""]).tolist() == [[2, 3, 2], [0, 0, 0]]


def test_a_model_of_strings_trains_through_the_lookup():
    inputs = mk.Input(shape=(1,), dtype="string")
    ids = mk.layers.StringLookup(vocabulary=["a", "b", "c"])(inputs)
    hidden = mk.layers.Flatten()(mk.layers.Embedding(4, 2)(ids))
    model = mk.Model(inputs, mk.layers.Dense(1)(hidden))
    model.compile(optimizer="sgd", loss="mse")
    x = np.array([["a"], ["b"], ["c"], ["d"]])
    y = np.array([[1.0], [2.0], [3.0], [0.0]])
    before = [w.copy() for w in model.get_weights()]
    model.fit(x, y, epochs=2, batch_size=2, verbose=0)
    assert all(not np.array_equal(a, b) for a, b in zip(before, model.get_weights()))
    assert model.predict(x, verbose=0).shape == (4, 1)


def test_vocabulary_files_of_strings_and_of_integers(tmp_path):
    words, numbers = tmp_path / "words.txt", tmp_path / "numbers.txt"
    words.write_text("a\nb\n")
    numbers.write_text("10\n20\n30\n")
    # a file you name yourself is read (only a file named inside a model file is refused)
    assert mk.layers.StringLookup(vocabulary=str(words))(["b", "z"]).tolist() == [2, 0]
    layer = mk.layers.IntegerLookup(vocabulary=str(numbers))
    assert layer([30, 10, 99]).tolist() == [3, 1, 0]
    assert layer.get_config()["vocabulary"] is None  # kept in the model file's assets


def test_discretization_survives_a_model_file(tmp_path):
    inputs = mk.Input(shape=(2,))
    bins = mk.layers.Discretization(num_bins=3, name="bins")
    bins.adapt(np.array([[0.0, 1.0], [2.0, 3.0], [4.0, 5.0]]))
    model = mk.Model(inputs, bins(inputs))
    model.save(tmp_path / "bins.keras")
    loaded = mk.saving.load_model(tmp_path / "bins.keras")
    assert loaded.get_layer("bins").bin_boundaries == bins.bin_boundaries
    x = np.array([[0.5, 4.5]])
    assert loaded.predict(x, verbose=0).tolist() == model.predict(x, verbose=0).tolist()


def test_a_sequential_model_takes_text_after_a_string_input():
    model = mk.Sequential(
        [
            mk.Input(shape=(1,), dtype="string"),
            mk.layers.TextVectorization(vocabulary=["good", "bad"], output_mode="multi_hot"),
            mk.layers.Dense(1, activation="sigmoid"),
        ]
    )
    model.compile(optimizer="sgd", loss="binary_crossentropy")
    x, y = np.array([["good film"], ["bad, bad film"]]), np.array([[1.0], [0.0]])
    history = model.fit(x, y, epochs=2, verbose=0).history
    assert len(history["loss"]) == 2 and np.isfinite(history["loss"]).all()
    assert model.predict(x, verbose=0).shape == (2, 1)
