"""`text_dataset_from_directory`: a directory of `.txt` files as batches of strings and their
labels (Keras's `keras.utils.text_dataset_from_directory`).

Keras returns a `tf.data.Dataset` of `tf.string` tensors (or a grain dataset of lists of
`str`); minikeras returns a `PyDataset` whose batches are NumPy arrays of `str`, which
`TextVectorization` and the lookup layers take, with the same `class_names` attribute.
"""

import numpy as np

from minikeras.utils import dataset_utils


def text_dataset_from_directory(
    directory,
    labels="inferred",
    label_mode="int",
    class_names=None,
    batch_size=32,
    max_length=None,
    shuffle=True,
    seed=None,
    validation_split=None,
    subset=None,
    follow_links=False,
    format="tf",
    verbose=True,
):
    """Batches of the texts of the `.txt` files under `directory` (the first `max_length`
    characters of each, if given) with their labels: "int" (int32), "binary" (float32,
    (batch, 1)), "categorical" (float32 one-hot) or None (texts only). With `subset="both"` a
    list of the training and validation datasets.

    >>> import os, tempfile
    >>> from minikeras.utils import text_dataset_from_directory
    >>> root = tempfile.mkdtemp()
    >>> for name in ("neg", "pos"):
    ...     os.mkdir(os.path.join(root, name))
    ...     _ = open(os.path.join(root, name, "a.txt"), "w").write(f"a {name} review")
    >>> data = text_dataset_from_directory(root, batch_size=2, shuffle=False)
    Found 2 files belonging to 2 classes.
    >>> texts, labels = data[0]
    >>> texts.tolist(), labels.tolist(), data.class_names
    (['a neg review', 'a pos review'], [0, 1], ['neg', 'pos'])
    """
    dataset_utils.check_labels_arguments(labels, label_mode, class_names, kind="text")
    dataset_utils.check_format(format)
    if labels is None or label_mode is None:
        labels, label_mode = None, None
    dataset_utils.check_validation_split_arg(validation_split, subset, shuffle, seed)
    file_paths, labels, class_names, seed = dataset_utils.index_labelled_files(
        directory, labels, label_mode, (".txt",), class_names, shuffle, seed, follow_links, verbose
    )

    def load(paths):
        texts = [read_text(path, max_length) for path in paths]
        # an object array: each text keeps its own length (a "<U" array pads all to the longest)
        return np.array(texts + [None], dtype=object)[:-1]

    return dataset_utils.datasets_of_files(
        file_paths,
        labels,
        class_names,
        label_mode,
        load,
        batch_size,
        shuffle,
        seed,
        format,
        validation_split,
        subset,
        no_files=lambda which: (
            f"No {which}text files found in directory {directory}. Allowed format: .txt"
        ),
    )


def read_text(path, max_length=None):
    """A file's text, cut to `max_length` characters (Keras's tf path cuts bytes: the same for
    ASCII text)."""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    return text if max_length is None else text[:max_length]
