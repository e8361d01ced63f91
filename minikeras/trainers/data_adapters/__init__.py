"""Where a model's batches come from: arrays, a Python generator, a `PyDataset`, a
`tf.data.Dataset` or a torch `DataLoader`.

Each adapter answers two questions the epoch loop asks (Keras's DataAdapter, in
keras/src/trainers/data_adapters/): how many batches one pass holds (`num_batches`, None when
unknown) and, for a new pass, an iterator of batches `(x,)`, `(x, y)` or `(x, y, sample_weight)`.
`on_epoch_begin`/`on_epoch_end` are passed on to a PyDataset. Arrays arrive here already
checked and converted by the model; a stream's batches are checked one by one as they come
(`prepare`), since nothing can be read ahead of them.
"""

import itertools
import types
import warnings
from collections import deque
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from minikeras.models import inputs
from minikeras.models.arrays import Structure
from minikeras.utils import batching, rng
from minikeras.utils.py_dataset import PyDataset

# Keras reads this many batches of a generator before training, to learn their shapes
# (NUM_BATCHES_FOR_TENSOR_SPEC), and replays them at the start of every later pass.
PEEKED_BATCHES = 2


def is_stream(x):
    """Whether `x` hands out batches itself (a generator, a PyDataset, a tf.data.Dataset or a
    torch DataLoader) rather than samples."""
    return (
        isinstance(x, (types.GeneratorType, PyDataset))
        or is_tf_dataset(x)
        or is_torch_dataloader(x)
    )


def _has_parent_class(x, names, module):
    """Whether a class in `type(x)`'s MRO is named one of `names` and lives in `module`. Keras
    recognises TensorFlow's and torch's datasets by name too, so that neither library is
    imported to ask (`is_tf_dataset` in keras/src/trainers/data_adapters/__init__.py)."""
    return any(
        parent.__name__ in names and module in str(parent.__module__) for parent in type(x).__mro__
    )


def is_tf_dataset(x):
    return _has_parent_class(x, ("DatasetV2",), "tensorflow.python.")


def is_torch_dataloader(x):
    return _has_parent_class(x, ("DataLoader",), "torch.utils.data")


def stream_adapter(x, y, sample_weight, class_weight, shuffle, prepare):
    """The adapter of a generator, PyDataset, tf.data.Dataset or torch DataLoader, with Keras's
    errors and warnings for what it cannot take (`get_data_adapter` in
    keras/src/trainers/data_adapters/__init__.py)."""
    if isinstance(x, PyDataset):
        kind = "PyDataset"
    elif is_tf_dataset(x):
        kind = "tf.data.Dataset"
    elif is_torch_dataloader(x):
        kind = "torch DataLoader"
    else:
        kind = "generator"
    if y is not None:
        _raise_unsupported("y", "the targets", kind)
    if sample_weight is not None:
        _raise_unsupported("sample_weights", "the sample weights", kind)
    if kind == "PyDataset":
        if shuffle and x.num_batches is None:
            warnings.warn(
                "`shuffle=True` was passed, but will be ignored since the data `x` was provided "
                "as an infinite PyDataset. The PyDataset is expected to already be shuffled.",
                stacklevel=3,
            )
        return PyDatasetAdapter(x, class_weight, shuffle, prepare)
    if kind == "tf.data.Dataset":
        if shuffle:
            warnings.warn(
                "`shuffle=True` was passed, but will be ignored since the data `x` was provided "
                "as a tf.data.Dataset. The Dataset is expected to already be shuffled (via "
                "`.shuffle(buffer_size)`).",
                stacklevel=3,
            )
        return IterableAdapter(x, tf_dataset_num_batches(x), class_weight, prepare)
    if kind == "torch DataLoader":
        if class_weight is not None:
            raise ValueError(
                "Argument `class_weight` is not supported for torch DataLoader inputs. You can "
                "modify your `__getitem__ ` method to return input tensor, label and "
                f"class_weight. Received: class_weight={class_weight}"
            )
        if shuffle:
            warnings.warn(
                "`shuffle=True` was passed, but will be ignored since the data `x` was provided "
                "as a torch DataLoader. The DataLoader is expected to already be shuffled.",
                stacklevel=3,
            )
        # a DataLoader knows its number of batches only when its dataset has a length
        count = len(x) if hasattr(x.dataset, "__len__") else None
        return IterableAdapter(x, count, None, prepare)
    if class_weight is not None:
        raise ValueError(
            "Argument `class_weight` is not supported for Python generator inputs. "
            f"Received: class_weight={class_weight}"
        )
    if shuffle:
        warnings.warn(
            "`shuffle=True` was passed, but will be ignored since the data `x` was provided as a "
            "generator. The generator is expected to yield already-shuffled data.",
            stacklevel=3,
        )
    return GeneratorAdapter(x, prepare)


def get_data_adapter(
    x,
    y=None,
    sample_weight=None,
    batch_size=None,
    steps_per_epoch=None,
    shuffle=False,
    class_weight=None,
):
    """The adapter of data given as `fit` takes it, its batches as NumPy arrays, unchecked
    (Keras's `get_data_adapter`): what `EpochIterator(x, y, ...)` reads when no model checks
    the batches."""
    if is_stream(x):
        return stream_adapter(x, y, sample_weight, class_weight, shuffle, _as_given)
    if not _is_array_data(x):
        raise ValueError(f"Unrecognized data type: x={x} (of type {type(x)})")
    # several arrays (a list or dict) are batched together, in their structure
    x = Structure(inputs.map_arrays(x, None, "x")) if inputs.is_structure(x) else np.asarray(x)
    y = None if y is None else np.asarray(y)
    n = len(x)
    if class_weight is not None:
        if sample_weight is not None:
            raise ValueError(
                "You cannot specify `class_weight` and `sample_weight` at the same time."
            )
        sample_weight = inputs.class_weights_to_sample_weights(y, class_weight, "float32")
    sample_weight = None if sample_weight is None else np.asarray(sample_weight)
    size = array_batch_size(batch_size, steps_per_epoch, n)
    return ArrayAdapter(x, y, sample_weight, size, shuffle)


def _as_given(batch):
    return batch


def _is_array_data(x):
    """Arrays, or a list, tuple or dict of them (anything with a shape or a length of numbers)."""
    if isinstance(x, dict):
        return all(_is_array_data(v) for v in x.values())
    if isinstance(x, (list, tuple)):
        return all(_is_array_data(v) for v in x) or np.asarray(x).dtype.kind in "biuf"
    return hasattr(x, "__array__") or hasattr(x, "shape")


def _raise_unsupported(name, description, kind):
    raise ValueError(
        f"When providing `x` as a {kind}, `{name}` should not be passed. Instead, {description} "
        f"should be included as part of the {kind}."
    )


class DataAdapter:
    """A source of batches; the defaults suit data with nothing to do between epochs."""

    num_batches = None

    def new_pass(self):
        """An iterator over the batches of one pass through the data."""
        raise NotImplementedError

    def get_numpy_iterator(self):
        """Keras's name for a pass: its batches, each tensor as a NumPy array."""
        for batch in self.new_pass():
            yield as_numpy(batch)

    def get_tf_dataset(self):
        """The batches as a `tf.data.Dataset` (Keras's method; TensorFlow's side of it lives
        with the other TensorFlow interop, in minikeras/parity/tf_data.py)."""
        from minikeras.parity.tf_data import dataset_of_batches

        return dataset_of_batches(self.get_numpy_iterator)

    def on_epoch_begin(self):
        pass

    def on_epoch_end(self):
        pass


class ArrayAdapter(DataAdapter):
    """Batches of arrays the model has checked (`prepare_data`): `batch_size` rows each, the
    last one shorter, in a fresh random order at each pass when shuffling."""

    def __init__(self, x, y, sample_weight, batch_size, shuffle):
        self.x, self.y, self.sample_weight = x, y, sample_weight
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.num_batches = batching.num_batches(len(x), batch_size)

    def new_pass(self):
        yield from self.batches(self.epoch_order())

    def epoch_order(self):
        """The sample order of a new pass: a fresh permutation when shuffling, else None (in
        order). `new_pass` draws it when its first batch is asked for."""
        if not self.shuffle:
            return None
        return batching.epoch_order(len(self.x), self.shuffle, rng.generator(), self.batch_size)

    def batches(self, order, first=0):
        """The batches of a pass in `order` (None: in order), from batch number `first` on."""
        for start, stop in batching.batch_slices(len(self.x), self.batch_size, first):
            rows = slice(start, stop) if order is None else order[start:stop]
            yield batch_of(self.x, self.y, self.sample_weight, rows)


def batch_of(x, y, sample_weight, rows):
    """The batch a step receives, as Keras hands it: x, (x, y), or (x, y, sample_weight)."""
    xb = x[rows]
    yb = None if y is None else y[rows]
    if sample_weight is None:
        if yb is None:  # Keras's `pack_x_y_sample_weight`: x alone, a list or tuple as (x,)
            return (xb,) if isinstance(xb, (list, tuple)) else xb
        return xb, yb
    return xb, yb, sample_weight[rows]


def array_batch_size(batch_size, steps, n):
    """Keras's batch size for arrays: as given, else ⌈n / steps⌉ when `steps` is, else 32."""
    if batch_size is None:
        return -(-n // steps) if steps else 32
    return inputs.positive_int(batch_size, "batch_size")


class GeneratorAdapter(DataAdapter):
    """A Python generator's batches, as they come. The generator is read once: a second pass
    finds it exhausted, except for the first two batches, which Keras read ahead to learn the
    shapes and replays at the start of every pass (`peek_and_restore` in
    keras/src/trainers/data_adapters/generator_data_adapter.py); minikeras replays them too,
    so that a finite generator trains on the same batches in both libraries."""

    def __init__(self, generator, prepare=_as_given):  # (Keras's takes the generator alone)
        self.first_batches = list(itertools.islice(generator, PEEKED_BATCHES))
        self.generator = generator
        self.prepare = prepare
        if not self.first_batches:
            raise ValueError(
                "When passing a Python generator to a Keras model, the generator must yield at "
                "least one batch. Received an empty generator."
            )
        if not isinstance(self.first_batches[0], tuple):
            raise ValueError(
                "When passing a Python generator to a Keras model, the generator must return a "
                "tuple, either (input,) or (inputs, targets) or (inputs, targets, "
                f"sample_weights). Received: {self.first_batches[0]}"
            )

    def new_pass(self):
        for batch in itertools.chain(self.first_batches, self.generator):
            yield self.prepare(batch)


# Keras's name for the adapter of a Python generator
GeneratorDataAdapter = GeneratorAdapter


def tf_dataset_num_batches(dataset):
    """A tf.data.Dataset's number of batches, or None when it is infinite or unknown (its
    cardinality is then negative)."""
    count = int(dataset.cardinality())
    return None if count < 0 else count


class IterableAdapter(DataAdapter):
    """A dataset that can be iterated again at each pass (a tf.data.Dataset, a torch
    DataLoader): its own order and batches, each tensor read as a NumPy array."""

    def __init__(self, dataset, num_batches, class_weight, prepare):
        self.dataset = dataset
        self.num_batches = num_batches
        self.class_weight = class_weight
        self.prepare = prepare

    def new_pass(self):
        for batch in self.dataset:
            batch = as_numpy(batch)
            if isinstance(batch, list):
                batch = tuple(batch)
            if self.class_weight is not None and isinstance(batch, tuple) and len(batch) == 2:
                weights = inputs.class_weights_to_sample_weights(
                    batch[1], self.class_weight, "float32"
                )
                batch = batch + (weights,)
            yield self.prepare(batch if isinstance(batch, tuple) else (batch,))


def as_numpy(structure):
    """Each tensor of a tuple, list or dict of them as a NumPy array (a tensor of TensorFlow
    or torch converts itself through `__array__`)."""
    if isinstance(structure, dict):
        return {key: as_numpy(value) for key, value in structure.items()}
    if isinstance(structure, (list, tuple)):
        return type(structure)(as_numpy(value) for value in structure)
    return None if structure is None else dense_array(structure)


def dense_array(data):
    """`data` as a NumPy array; a sparse or ragged tensor (TensorFlow's, SciPy's) as the dense
    array it stands for, as Keras's NumPy backend reads one (minikeras has no sparse tensors)."""
    if hasattr(data, "dense_shape") and hasattr(data, "indices"):  # a tf.SparseTensor
        return _densified(data)
    if hasattr(data, "toarray"):  # a SciPy sparse matrix
        return data.toarray()
    if hasattr(data, "to_tensor") and hasattr(data, "row_splits"):  # a tf.RaggedTensor
        return np.asarray(data.to_tensor())
    return np.asarray(data)


def _densified(sparse):
    """A `tf.SparseTensor`'s dense array: zeros, and each value at its index."""
    values = np.asarray(sparse.values)
    dense = np.zeros(tuple(np.asarray(sparse.dense_shape)), dtype=values.dtype)
    dense[tuple(np.asarray(sparse.indices).T)] = values
    return dense


class PyDatasetAdapter(DataAdapter):
    """A PyDataset's batches in index order (shuffled per pass when asked), read ahead by its
    workers when it has several."""

    def __init__(self, dataset, class_weight=None, shuffle=False, prepare=_as_given):
        # (Keras's arguments; `prepare` checks each batch for a model, as the others')
        self.dataset = dataset
        self.class_weight = class_weight
        self.shuffle = shuffle
        self.prepare = prepare
        workers, processes = dataset.workers, dataset.use_multiprocessing
        self.prefetch = workers > 1 or (workers > 0 and processes)

    @property
    def num_batches(self):
        return self.dataset.num_batches

    def new_pass(self):
        count = self.dataset.num_batches
        if count is None:
            indices = itertools.count()
        elif self.shuffle:
            indices = rng.generator().permutation(count).tolist()
        else:
            indices = range(count)
        if self.prefetch:
            batches = ordered_prefetch(
                self.dataset.__getitem__,
                indices,
                self.dataset.workers,
                self.dataset.max_queue_size,
                self.dataset.use_multiprocessing,
            )
        else:
            batches = (self.dataset[i] for i in indices)
        for batch in batches:
            yield self.prepare(self._standardize(batch))

    def _standardize(self, batch):
        """A batch as a tuple of 1 to 3 parts, with the class weights added (Keras's
        `PyDatasetAdapter._standardize_batch`)."""
        if isinstance(batch, dict):  # a dict is the inputs, as Keras hands it on
            return batch
        if hasattr(batch, "shape"):  # a lone array: the inputs
            batch = (batch,)
        if isinstance(batch, list):
            batch = tuple(batch)
        if not isinstance(batch, tuple) or len(batch) not in (1, 2, 3):
            raise ValueError(
                "PyDataset.__getitem__() must return a tuple or a dict. If a tuple, it must be "
                "ordered either (input,) or (inputs, targets) or (inputs, targets, "
                f"sample_weights). Received: {str(batch)[:100]}... of type {type(batch)}"
            )
        if self.class_weight is not None:
            if len(batch) == 3:
                raise ValueError(
                    "You cannot specify `class_weight` and `sample_weight` at the same time."
                )
            if len(batch) == 2:
                weights = inputs.class_weights_to_sample_weights(
                    batch[1], self.class_weight, "float32"
                )
                batch = batch + (weights,)
        return batch

    def on_epoch_begin(self):
        self.dataset.on_epoch_begin()

    def on_epoch_end(self):
        self.dataset.on_epoch_end()


def ordered_prefetch(get, indices, workers, max_queue_size, use_processes):
    """`get(i)` for each index, computed ahead by `workers` threads (or processes), at most
    `max_queue_size` waiting, handed out in the order of `indices`."""
    if use_processes:
        # imported here: multiprocessing's modules cost ~0.8 MB resident, for a run that
        # asks for processes only
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context())
    else:
        pool = ThreadPoolExecutor(workers)
    indices = iter(indices)
    with pool:
        pending = deque(
            pool.submit(get, i) for i in itertools.islice(indices, max(max_queue_size, 1))
        )
        while pending:
            batch = pending.popleft().result()
            for i in itertools.islice(indices, 1):
                pending.append(pool.submit(get, i))
            yield batch


# Keras's submodules (`data_adapters.py_dataset_adapter.PyDataset`), importable once the names
# they take from this module exist
from . import (  # noqa: E402, F401
    array_data_adapter,
    generator_data_adapter,
    py_dataset_adapter,
    tf_dataset_adapter,
    torch_data_loader_adapter,
)
