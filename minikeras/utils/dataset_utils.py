"""What Keras's `*_dataset_from_directory` functions share: listing a directory's files with
their labels, the training/validation split, labels in the requested encoding, and the dataset
of files that loads each batch when it is asked for (Keras's `keras/src/utils/dataset_utils.py`).

A directory of class subdirectories

    main_directory/class_a/a_1.jpg, main_directory/class_a/a_2.jpg, main_directory/class_b/...

gives the files of `class_a` label 0 and those of `class_b` label 1 (classes in alphanumeric
order), the files of each class in alphanumeric order of their paths, subdirectories included.
"""

import os

import numpy as np

from minikeras.utils.py_dataset import PyDataset


def check_validation_split_arg(validation_split, subset, shuffle, seed):
    """Keras's checks of `validation_split`/`subset`/`seed`, with its messages."""
    if validation_split and not 0 < validation_split < 1:
        raise ValueError(
            f"`validation_split` must be between 0 and 1, received: {validation_split}"
        )
    if (validation_split or subset) and not (validation_split and subset):
        raise ValueError("If `subset` is set, `validation_split` must be set, and inversely.")
    if subset not in ("training", "validation", "both", None):
        raise ValueError(
            f'`subset` must be either "training", "validation" or "both", received: {subset}'
        )
    if validation_split and shuffle and seed is None:
        # without one seed the two calls (training, validation) would shuffle differently
        raise ValueError(
            "If using `validation_split` and shuffling the data, you must provide a `seed` "
            "argument, to make sure that there is no overlap between the training and "
            "validation subset."
        )


def check_labels_arguments(labels, label_mode, class_names, kind="image"):
    """Keras's checks of `labels`, `label_mode` and `class_names`, in its order (`kind`:
    "image", "text" or "audio", as its messages name the files)."""
    if labels not in ("inferred", None):
        if not isinstance(labels, (list, tuple)):
            only = "images" if kind == "image" else f"{kind} samples"
            raise ValueError(
                "`labels` argument should be a list/tuple of integer labels, of the same "
                f"size as the number of {kind} files in the target directory. If you wish to "
                "infer the labels from the subdirectory names in the target directory, pass "
                f'`labels="inferred"`. If you wish to get a dataset that only contains {only} '
                f"(no labels), pass `labels=None`. Received: labels={labels}"
            )
        if class_names:
            raise ValueError(
                'You can only pass `class_names` if `labels="inferred"`. '
                f"Received: labels={labels}, and class_names={class_names}"
            )
    if label_mode not in {"int", "categorical", "binary", None}:
        raise ValueError(
            '`label_mode` argument must be one of "int", "categorical", "binary", '
            f"or None. Received: label_mode={label_mode}"
        )


def check_format(format):
    if format not in ("tf", "grain"):
        raise ValueError(f'`format` should be either "tf" or "grain". Received: format={format}')


def index_directory(
    directory,
    labels,
    formats,
    class_names=None,
    shuffle=True,
    seed=None,
    follow_links=False,
    verbose=True,
):
    """(file_paths, labels, class_names) of the files in `directory` whose names end with one
    of `formats` (any case). `labels="inferred"` labels them by class subdirectory; a list gives
    them in the files' sorted order; None gives no labels. With `shuffle`, paths and labels are
    shuffled together by `np.random.RandomState(seed)`, as Keras shuffles them, so the same
    seed lists the same files in the same order as Keras."""
    if labels == "inferred":
        subdirs = [
            name
            for name in sorted(os.listdir(directory))
            if os.path.isdir(os.path.join(directory, name)) and not name.startswith(".")
        ]
        if class_names is not None:
            if not set(class_names).issubset(set(subdirs)):
                raise ValueError(
                    "The `class_names` passed did not match the names of the subdirectories "
                    f"of the target directory. Expected: {subdirs} (or a subset of it), but "
                    f"received: class_names={class_names}"
                )
            subdirs = class_names  # the order the caller gave
    else:
        subdirs = [""]  # the files of the whole tree, in one class
        if class_names is not None:
            if labels is None:
                raise ValueError(
                    "When `labels=None` (no labels), argument `class_names` cannot be specified."
                )
            raise ValueError(
                "When argument `labels` is specified, argument `class_names` cannot be "
                "specified (the `class_names` will be the sorted list of labels)."
            )
    class_names = list(subdirs)
    filenames, found_labels = [], []
    for index, subdir in enumerate(subdirs):
        names = _files_under(os.path.join(directory, subdir), subdir, follow_links, formats)
        filenames += names
        found_labels += [index] * len(names)

    if labels == "inferred":
        labels = np.array(found_labels, dtype="int32")
    elif labels is None:
        class_names = None
    else:
        if len(labels) != len(filenames):
            raise ValueError(
                "Expected the lengths of `labels` to match the number of files in the target "
                f"directory. len(labels) is {len(labels)} while we found {len(filenames)} "
                f"files in directory {directory}."
            )
        class_names = [str(label) for label in sorted(set(labels))]
        # a copy: Keras shuffles the caller's list in place, minikeras leaves it as it was
        labels = np.array(labels)
    if verbose:
        if labels is None:
            print(f"Found {len(filenames)} files.")
        else:
            print(f"Found {len(filenames)} files belonging to {len(class_names)} classes.")

    file_paths = [os.path.join(directory, name) for name in filenames]
    if shuffle:
        if seed is None:
            seed = np.random.randint(1e6)
        # two generators from one seed: the same permutation of paths and of labels
        np.random.RandomState(seed).shuffle(file_paths)
        if labels is not None:
            np.random.RandomState(seed).shuffle(labels)
    return file_paths, labels, class_names


def index_labelled_files(
    directory, labels, label_mode, formats, class_names, shuffle, seed, follow_links, verbose
):
    """(file_paths, labels, class_names, seed): `index_directory` with the seed chosen once
    (the split of training from validation files needs the same one), and the check that a
    binary label mode has two classes, shared by the image, text and audio datasets."""
    if seed is None:
        seed = np.random.randint(1e6)
    file_paths, labels, class_names = index_directory(
        directory,
        labels,
        formats=formats,
        class_names=class_names,
        shuffle=shuffle,
        seed=seed,
        follow_links=follow_links,
        verbose=verbose,
    )
    if label_mode == "binary" and len(class_names) != 2:
        raise ValueError(
            'When passing `label_mode="binary"`, there must be exactly 2 class_names. '
            f"Received: class_names={class_names}"
        )
    return file_paths, labels, class_names, seed


def _files_under(directory, subdir, follow_links, formats):
    """Paths relative to the parent of `directory` (starting with `subdir`), directories and
    files each in sorted order, as Keras walks them."""
    found = []
    for root, _, files in sorted(os.walk(directory, followlinks=follow_links), key=lambda w: w[0]):
        for name in sorted(files):
            if name.lower().endswith(formats):
                relative = os.path.relpath(os.path.join(root, name), directory)
                found.append(os.path.join(subdir, relative))
    return found


def get_training_or_validation_split(samples, labels, validation_split, subset):
    """The last `int(validation_split * n)` samples are the validation subset, the others
    the training subset (Keras's split, after its shuffle)."""
    if not validation_split:
        return samples, labels
    num_val_samples = int(validation_split * len(samples))
    if subset == "training":
        print(f"Using {len(samples) - num_val_samples} files for training.")
        samples = samples[:-num_val_samples]
        labels = None if labels is None else labels[:-num_val_samples]
    elif subset == "validation":
        print(f"Using {num_val_samples} files for validation.")
        samples = samples[-num_val_samples:]
        labels = None if labels is None else labels[-num_val_samples:]
    else:
        raise ValueError(f'`subset` must be either "training" or "validation", received: {subset}')
    return samples, labels


def encode_labels(labels, label_mode, num_classes):
    """Integer labels as `label_mode` asks: "int" int32 (n,), "binary" float32 (n, 1),
    "categorical" float32 one-hot (n, num_classes)."""
    labels = np.asarray(labels)
    if label_mode == "binary":
        return labels.astype("float32")[:, None]
    if label_mode == "categorical":
        return np.eye(num_classes, dtype="float32")[labels]
    return labels.astype("int32")


class DatasetMethods:
    """The few `tf.data.Dataset` methods keras.io's scripts call on these datasets before
    `fit`: `take`, `map`, `prefetch`, `cache`, `cardinality` (over whole batches, as tf.data's after
    `.batch`). `map(f)` calls `f(*batch)` for a tuple batch, `f(batch)` otherwise; the
    parallelism arguments are accepted and ignored (a batch is read when it is asked for)."""

    def take(self, count):
        return BatchesOf(self, range(min(count, len(self)) if count >= 0 else len(self)))

    def map(self, map_func, num_parallel_calls=None, deterministic=None, name=None):
        return BatchesOf(self, range(len(self)), map_func)

    def prefetch(self, buffer_size=None, name=None):
        return self

    def cache(self, filename="", name=None):
        return self

    def cardinality(self):
        """The number of batches (tf.data's gives it as a scalar tensor)."""
        return np.int64(len(self))


class BatchesOf(DatasetMethods, PyDataset):
    """Some batches of another dataset (`take`), each passed through a function (`map`)."""

    def __init__(self, source, indices, map_func=None):
        super().__init__()
        self.source, self.indices, self.map_func = source, indices, map_func
        self.class_names = getattr(source, "class_names", None)
        self.file_paths = getattr(source, "file_paths", None)

    def __len__(self):
        return len(self.indices)

    def __getitem__(self, index):
        batch = self.source[self.indices[index]]
        if self.map_func is None:
            return batch
        return self.map_func(*batch) if isinstance(batch, tuple) else self.map_func(batch)

    def __iter__(self):
        yield from super().__iter__()
        self.on_epoch_end()

    def on_epoch_end(self):
        self.source.on_epoch_end()


class FileDataset(DatasetMethods, PyDataset):
    """Files read batch by batch: item `i` is `load` of the batch's paths stacked (with their
    labels when there are labels). `batch_size=None` gives one file per item.

    `reshuffle` draws a new order after each pass (Keras's "tf" format reshuffles each epoch
    in a buffer; its "grain" format keeps one order): a `for` loop over the dataset and each
    epoch of `fit` see the files in a new order, the first pass in the order of `file_paths`.
    """

    def __init__(self, file_paths, labels, load, batch_size, reshuffle=False, seed=None):
        super().__init__()
        self.file_paths = file_paths
        self.labels = labels
        self.load = load
        self.batch_size = batch_size
        self.order = np.arange(len(file_paths))
        self.reshuffle = reshuffle
        self.rng = np.random.RandomState(seed)
        self.class_names = None

    def __len__(self):
        if self.batch_size is None:
            return len(self.file_paths)
        return -(-len(self.file_paths) // self.batch_size)

    def __getitem__(self, index):
        if not 0 <= index < len(self):
            raise IndexError(f"Batch index {index} is out of range for {len(self)} batches.")
        if self.batch_size is None:
            chosen = self.order[index]
            x = self.load([self.file_paths[chosen]])[0]
        else:
            chosen = self.order[index * self.batch_size : (index + 1) * self.batch_size]
            x = self.load([self.file_paths[i] for i in chosen])
        if self.labels is None:
            return x
        return x, self.labels[chosen]

    def __iter__(self):
        yield from super().__iter__()
        self.on_epoch_end()

    def on_epoch_end(self):
        if self.reshuffle:
            self.order = self.rng.permutation(len(self.file_paths))


def datasets_of_files(
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
    no_files,
):
    """The dataset (or `[training, validation]` for `subset="both"`) of the listed files, each
    with `class_names` and `file_paths`. `no_files(which)` is the message when a subset has no
    file ("", "training " or "validation ")."""
    num_classes = len(class_names) if class_names else 0
    if label_mode is not None:
        labels = encode_labels(labels, label_mode, num_classes)
    subsets = ["training", "validation"] if subset == "both" else [subset]
    datasets = []
    for which in subsets:
        paths, chosen = get_training_or_validation_split(
            file_paths, labels, validation_split, which
        )
        if not paths:
            raise ValueError(no_files(f"{which} " if subset == "both" else ""))
        # the validation half of "both" is never reshuffled, as Keras's
        reshuffle = shuffle and format == "tf" and not (subset == "both" and which != "training")
        dataset = FileDataset(paths, chosen, load, batch_size, reshuffle, seed)
        dataset.class_names = class_names
        datasets.append(dataset)
    return datasets if subset == "both" else datasets[0]
