"""`image_dataset_from_directory` and `text_dataset_from_directory` list the same files in the
same order as Keras's (the same seed shuffles them alike), give the same labels in each
`label_mode`, the same split, the same texts, and the same pixels.

Images are PNG (lossless: both read the same bytes) resized by each library's resize:
TensorFlow's in float32, minikeras's in float64 then rounded, so a pixel (a sum of a few
weighted terms) differs by a few float32 ulps: normwise 1e-5 (max|a − b| / max|b|; measured
5e-7; a wrong centre or weight is off by 1e-2), as tests/parity/test_ops_image_parity.py
derives for resize. Labels and texts are compared exactly. Keras is asked for its "tf" format and
the same files in the same order (`file_paths`); shuffled, Keras's tf.data shuffle buffer
also reorders them as it reads them (an order only TensorFlow draws), so shuffled datasets are
compared sample by sample after sorting both."""

import os

import numpy as np
import pytest

import minikeras


@pytest.fixture(scope="module")
def image_dir(tmp_path_factory):
    """3 classes, 7 PNG images of different sizes, one of them in a subdirectory."""
    from PIL import Image

    root = tmp_path_factory.mktemp("images")
    rng = np.random.default_rng(0)
    for i in range(7):
        folder = root / f"class_{i % 3}"
        if i == 6:
            folder = folder / "nested"
        folder.mkdir(parents=True, exist_ok=True)
        pixels = rng.integers(0, 256, (10 + i, 7 + 2 * i, 3), dtype="uint8")
        Image.fromarray(pixels).save(folder / f"image_{i}.png")
    (root / "class_0" / "notes.md").write_text("not an image")
    return str(root)


@pytest.fixture(scope="module")
def gray_dir(tmp_path_factory):
    """One-channel PNG images: a colour file read as "grayscale" is converted by each
    decoder's own luma rounding (TensorFlow's and Pillow's differ by one level), a gray one
    is read as it is stored."""
    from PIL import Image

    root = tmp_path_factory.mktemp("gray")
    rng = np.random.default_rng(1)
    for i in range(4):
        folder = root / f"c{i % 2}"
        folder.mkdir(exist_ok=True)
        Image.fromarray(rng.integers(0, 256, (9, 5 + i), dtype="uint8")).save(folder / f"{i}.png")
    return str(root)


@pytest.mark.parametrize("color_mode", ["grayscale", "rgb", "rgba"])
def test_color_modes_as_keras(keras, gray_dir, color_mode):
    kwargs = dict(color_mode=color_mode, image_size=(4, 3), shuffle=False, verbose=False)
    ours = minikeras.utils.image_dataset_from_directory(gray_dir, **kwargs)
    theirs = keras.utils.image_dataset_from_directory(gray_dir, **kwargs)
    assert_same(batches(ours), batches(theirs), normwise=1e-5)


@pytest.fixture(scope="module")
def text_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("texts")
    for i in range(9):
        folder = root / ("neg" if i % 2 else "pos")
        folder.mkdir(exist_ok=True)
        (folder / f"review_{i}.txt").write_text(f"review number {i} " + "word " * i)
    return str(root)


def batches(dataset):
    return [
        tuple(np.asarray(part) for part in b) if isinstance(b, tuple) else (np.asarray(b),)
        for b in dataset
    ]


def in_one_order(batches_):
    """All samples of the batches, sorted by their values (the order a shuffle does not
    change)."""
    parts = [np.concatenate(column) for column in zip(*batches_)]
    order = np.lexsort([p.reshape(len(p), -1).sum(axis=1) for p in parts][::-1])
    return [tuple(p[order] for p in parts)]


def assert_same(ours, theirs, normwise=0.0):
    assert len(ours) == len(theirs)
    for our_batch, their_batch in zip(ours, theirs):
        assert len(our_batch) == len(their_batch)
        for a, b in zip(our_batch, their_batch):
            assert a.shape == b.shape
            if a.dtype == object:
                assert [str(t) for t in a] == [t.decode() for t in b]
            else:
                assert a.dtype == b.dtype
                scale = max(np.max(np.abs(b), initial=0.0), 1.0)
                assert np.max(np.abs(a - b), initial=0.0) <= normwise * scale


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(shuffle=False),
        dict(shuffle=True, seed=3, label_mode="categorical"),
        dict(label_mode=None, shuffle=False, image_size=(5, 9)),
        dict(
            shuffle=True,
            seed=7,
            validation_split=0.3,
            subset="validation",
            crop_to_aspect_ratio=True,
        ),
        dict(shuffle=False, pad_to_aspect_ratio=True, batch_size=None),
    ],
)
def test_images_as_keras_gives_them(keras, image_dir, kwargs):
    kwargs = {"image_size": (6, 8), "batch_size": 3, "verbose": False, **kwargs}
    ours = minikeras.utils.image_dataset_from_directory(image_dir, **kwargs)
    theirs = keras.utils.image_dataset_from_directory(image_dir, **kwargs)
    assert ours.class_names == theirs.class_names
    assert ours.file_paths == theirs.file_paths
    ours, theirs = batches(ours), batches(theirs)
    if kwargs.get("shuffle"):
        ours, theirs = in_one_order(ours), in_one_order(theirs)
    assert_same(ours, theirs, normwise=1e-5)


def test_both_subsets_and_binary_labels(keras, image_dir):
    """`subset="both"` splits one shuffled list; labels given by hand name the classes."""
    labels = [0, 1, 1, 0, 1, 0, 0]
    kwargs = dict(
        labels=labels,
        label_mode="binary",
        image_size=(4, 4),
        seed=11,
        verbose=False,
        validation_split=0.4,
        subset="both",
    )
    ours = minikeras.utils.image_dataset_from_directory(image_dir, **kwargs)
    assert labels == [0, 1, 1, 0, 1, 0, 0]  # (Keras shuffles the list in place)
    theirs = keras.utils.image_dataset_from_directory(image_dir, **kwargs)
    for our_part, their_part in zip(ours, theirs):
        assert our_part.class_names == their_part.class_names == ["0", "1"]
        assert our_part.file_paths == their_part.file_paths
        ours, theirs = in_one_order(batches(our_part)), in_one_order(batches(their_part))
        assert_same(ours, theirs, normwise=1e-5)


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(shuffle=False, max_length=12),
        dict(seed=5, label_mode="binary", batch_size=4),
        dict(seed=2, validation_split=0.25, subset="training", label_mode="categorical"),
        dict(label_mode=None, shuffle=False, batch_size=None),
    ],
)
def test_texts_as_keras_gives_them(keras, text_dir, kwargs):
    kwargs = {"verbose": False, **kwargs}
    ours = minikeras.utils.text_dataset_from_directory(text_dir, **kwargs)
    theirs = keras.utils.text_dataset_from_directory(text_dir, **kwargs)
    assert ours.class_names == theirs.class_names
    ours, theirs = samples_of_texts(ours), samples_of_texts(theirs)
    if kwargs.get("shuffle", True):
        ours, theirs = sorted(ours), sorted(theirs)
    assert ours == theirs


def samples_of_texts(dataset):
    """(text, label values, label dtype) of each sample, in the order the dataset gives them."""
    samples = []
    for batch in batches(dataset):
        texts = batch[0].reshape(-1)
        labels = batch[1] if len(batch) > 1 else np.zeros((len(texts), 0))
        labels = labels.reshape(len(texts), -1)
        for text, label in zip(texts, labels):
            text = text.decode() if isinstance(text, bytes) else str(text)
            samples.append((text, label.tolist(), str(labels.dtype)))
    return samples


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(labels="other"), "`labels` argument should be"),
        (dict(label_mode="other"), "`label_mode` argument must be"),
        (dict(color_mode="cmyk"), "`color_mode` must be one of"),
        (dict(labels=[0, 1], class_names=["a"]), 'only pass `class_names` if `labels="inferred"`'),
        (dict(labels=[0, 1]), "Expected the lengths of `labels` to match"),
        (dict(class_names=["class_0", "wrong"]), "`class_names` passed did not match"),
        (dict(label_mode="binary"), "there must be exactly 2"),
        (dict(validation_split=2), "`validation_split` must be between 0 and 1"),
        (dict(validation_split=0.2, subset="some"), '`subset` must be either "training"'),
        (dict(validation_split=0.2, subset="training"), "must provide a `seed`"),
        (dict(image_size=(1, 2, 3)), "Invalid `image_size` value"),
        (dict(interpolation="cubic"), "Argument `interpolation` should be one of"),
    ],
)
def test_bad_arguments_raise_as_keras(keras, image_dir, kwargs, message):
    for library in (minikeras, keras):
        with pytest.raises(ValueError, match=message.replace("(", r"\(").replace("[", r"\[")):
            library.utils.image_dataset_from_directory(image_dir, verbose=False, **kwargs)


def test_no_files_raises_as_keras(keras, tmp_path):
    os.mkdir(tmp_path / "empty_class")
    for library in (minikeras, keras):
        with pytest.raises(ValueError, match="No images found in directory"):
            library.utils.image_dataset_from_directory(str(tmp_path), verbose=False)
        with pytest.raises(ValueError, match="No text files found in directory"):
            library.utils.text_dataset_from_directory(str(tmp_path), verbose=False)


def test_a_model_trains_on_the_image_dataset(image_dir):
    """The dataset is what `fit` reads: one pass over 7 images in 3 batches."""
    data = minikeras.utils.image_dataset_from_directory(
        image_dir, image_size=(4, 4), batch_size=3, seed=1, verbose=False
    )
    model = minikeras.Sequential(
        [minikeras.Input((4, 4, 3)), minikeras.layers.Flatten(), minikeras.layers.Dense(3)]
    )
    model.compile("sgd", minikeras.losses.SparseCategoricalCrossentropy(from_logits=True))
    history = model.fit(data, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    assert model.optimizer.iterations.numpy() == 3


def test_take_map_prefetch_as_tf_data_after_batch(keras, text_dir):
    """The tf.data methods keras.io's scripts chain before `fit`, over whole batches: the same
    batches (unshuffled) as Keras's dataset gives through the same calls."""
    kwargs = dict(batch_size=4, shuffle=False, verbose=False)
    ours = minikeras.utils.text_dataset_from_directory(text_dir, **kwargs)
    theirs = keras.utils.text_dataset_from_directory(text_dir, **kwargs)

    def chain(dataset):
        return dataset.map(lambda x, y: (x, y * 10)).cache().take(2).prefetch(2)

    ours, theirs = chain(ours), chain(theirs)
    assert len(ours) == 2
    assert ours.cardinality() == theirs.cardinality() == 2
    assert samples_of_texts(ours) == samples_of_texts(theirs)
    assert samples_of_texts(ours.take(5)) == samples_of_texts(ours)  # take past the end


@pytest.fixture(scope="module")
def audio_dir(tmp_path_factory):
    """16-bit PCM .wav files of different lengths, one and two channels (written with the
    standard library's `wave`, as TensorFlow's `encode_wav` writes them)."""
    import wave

    root = tmp_path_factory.mktemp("audio")
    rng = np.random.default_rng(2)
    for i in range(6):
        folder = root / f"word_{i % 2}"
        folder.mkdir(exist_ok=True)
        samples = rng.integers(-32768, 32768, (12 + 3 * i, 1), dtype="int16")
        with wave.open(str(folder / f"{i}.wav"), "wb") as f:
            f.setnchannels(1), f.setsampwidth(2), f.setframerate(1000)
            f.writeframes(samples.astype("<i2").tobytes())
    return str(root)


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(shuffle=False),  # each batch zero-padded to its longest file
        dict(shuffle=False, output_sequence_length=20, label_mode="categorical"),
        # shuffled: fixed lengths, so that both batchings pad alike, compared sorted
        dict(seed=4, validation_split=0.5, subset="both", output_sequence_length=16),
    ],
)
def test_audio_as_keras_gives_it(keras, audio_dir, kwargs):
    kwargs = {"batch_size": 4, "verbose": False, **kwargs}
    ours = minikeras.utils.audio_dataset_from_directory(audio_dir, **kwargs)
    theirs = keras.utils.audio_dataset_from_directory(audio_dir, **kwargs)
    if kwargs.get("subset") == "both":
        assert isinstance(ours, tuple) and isinstance(theirs, tuple)
        for our_part, their_part in zip(ours, theirs):
            assert our_part.class_names == their_part.class_names
            ours_sorted = in_one_order(batches(our_part))
            assert_same(ours_sorted, in_one_order(batches(their_part)))
        return
    assert ours.class_names == theirs.class_names
    assert_same(batches(ours), batches(theirs))  # int16 / 32768: exact in float32


def test_audio_arguments_raise_as_keras(keras, audio_dir):
    for library in (minikeras, keras):
        with pytest.raises(ValueError, match="Cannot set both `ragged` and"):
            library.utils.audio_dataset_from_directory(
                audio_dir, ragged=True, output_sequence_length=3
            )
        with pytest.raises(ValueError, match="`sampling_rate` should be higher than 0"):
            library.utils.audio_dataset_from_directory(audio_dir, sampling_rate=-1)
        with pytest.raises(ImportError, match="To use the argument `sampling_rate`"):
            library.utils.audio_dataset_from_directory(audio_dir, sampling_rate=8000)
    ragged = minikeras.utils.audio_dataset_from_directory(
        audio_dir, ragged=True, shuffle=False, verbose=False
    )
    clips, _ = ragged[0]
    assert [clip.shape for clip in clips] == [(12 + 3 * i, 1) for i in (0, 2, 4, 1, 3, 5)]
