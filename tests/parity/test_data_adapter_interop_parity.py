"""The data adapters' TensorFlow side against Keras's adapters: `get_tf_dataset` (the same
batches, structure and dtypes, lists made tuples), class weights refused on (x, y, w) and on
several outputs when the adapter is made, a `distribution` sharding the dataset, dict batches
of a PyDataset, and sparse tensors read as the dense arrays they stand for. Batching only
slices and casts: everything is compared exactly."""

import numpy as np
import pytest

from minikeras.trainers.data_adapters import (
    array_data_adapter,
    py_dataset_adapter,
    tf_dataset_adapter,
)
from minikeras.utils import PyDataset


def tf_batches(dataset):
    import tensorflow as tf

    return [tf.nest.map_structure(lambda t: t.numpy(), batch) for batch in dataset]


def assert_same_structures(ours, theirs):
    import tensorflow as tf

    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs):
        tf.nest.assert_same_structure(a, b)
        for x, y in zip(tf.nest.flatten(a), tf.nest.flatten(b)):
            assert x.dtype == y.dtype
            np.testing.assert_array_equal(x, y)


def test_get_tf_dataset_gives_keras_s_batches(keras):
    from keras.src.trainers.data_adapters import array_data_adapter as keras_array

    rng = np.random.default_rng(0)
    x = {"x1": rng.normal(size=(34, 1)), "x2": rng.normal(size=(34, 2))}
    y = [rng.normal(size=(34, 3)), rng.normal(size=(34, 4))]
    sw = [rng.random(34), rng.random(34)]
    kwargs = dict(sample_weight=sw, batch_size=16, steps=None, shuffle=False)
    ours = array_data_adapter.ArrayDataAdapter(x, y, **kwargs).get_tf_dataset()
    theirs = keras_array.ArrayDataAdapter(x, y, **kwargs).get_tf_dataset()
    assert_same_structures(tf_batches(ours), tf_batches(theirs))  # the last batch has 2 rows


class DictBatches(PyDataset):
    def __init__(self, data):
        super().__init__()
        self.data = data

    @property
    def num_batches(self):
        return 3

    def __getitem__(self, i):
        return {key: value[4 * i : 4 * i + 4] for key, value in self.data.items()}


def test_a_py_dataset_s_dict_batches_are_its_inputs(keras):
    from keras.src.trainers.data_adapters import py_dataset_adapter as keras_py

    data = {"x": np.arange(24.0).reshape(12, 2), "y": np.arange(12.0)}

    class KerasDictBatches(keras.utils.PyDataset):
        num_batches = DictBatches.num_batches
        __getitem__ = DictBatches.__getitem__

        def __init__(self, data):
            super().__init__()
            self.data = data

    ours = py_dataset_adapter.PyDatasetAdapter(DictBatches(data), shuffle=False)
    theirs = keras_py.PyDatasetAdapter(KerasDictBatches(data), shuffle=False)
    assert_same_structures(list(ours.get_numpy_iterator()), list(theirs.get_numpy_iterator()))
    assert_same_structures(tf_batches(ours.get_tf_dataset()), tf_batches(theirs.get_tf_dataset()))


@pytest.mark.parametrize("elements", ["with_sample_weight", "two_outputs"])
def test_class_weight_is_refused_where_keras_refuses_it(keras, elements):
    import tensorflow as tf
    from keras.src.trainers.data_adapters import tf_dataset_adapter as keras_tf

    x, y = np.ones((4, 2)), np.arange(4)
    parts = (x, y, np.ones(4)) if elements == "with_sample_weight" else (x, (y, y))
    dataset = tf.data.Dataset.from_tensor_slices(parts).batch(2)
    class_weight = {0: 0.1, 1: 0.2, 2: 0.3, 3: 0.4}
    with pytest.raises(ValueError) as theirs:
        keras_tf.TFDatasetAdapter(dataset, class_weight=class_weight)
    with pytest.raises(ValueError) as ours:
        tf_dataset_adapter.TFDatasetAdapter(dataset, class_weight=class_weight)
    assert str(theirs.value) in str(ours.value)
    with pytest.raises(ValueError) as ours:
        tf_dataset_adapter.make_class_weight_map_fn(class_weight)(*parts)
    assert str(theirs.value) in str(ours.value)


def test_class_weight_map_fn_weighs_as_keras_s(keras):
    import tensorflow as tf
    from keras.src.trainers.data_adapters import tf_dataset_adapter as keras_tf

    class_weight = {0: 0.5, 2: 3.0}  # class 1 unnamed: weight 1
    y = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
    x = np.ones((3, 2))
    ours = tf_dataset_adapter.make_class_weight_map_fn(class_weight)(x, y)[2]
    theirs = keras_tf.make_class_weight_map_fn(class_weight)(tf.constant(x), tf.constant(y))[2]
    np.testing.assert_array_equal(ours, np.asarray(theirs))


def test_a_distribution_shards_the_dataset_as_keras_s(keras):
    import tensorflow as tf
    from keras.src.trainers.data_adapters import tf_dataset_adapter as keras_tf

    base = tf.data.Dataset.from_tensor_slices((np.ones((34, 4)), np.ones((34, 2)))).batch(16)

    class TwoWorkers:  # what a keras.distribution object is asked for
        def distribute_dataset(self, dataset):
            return dataset.rebatch(8).shard(2, index=0)

    ours = tf_dataset_adapter.TFDatasetAdapter(base, distribution=TwoWorkers())
    theirs = keras_tf.TFDatasetAdapter(base, distribution=TwoWorkers())
    assert ours.num_batches == theirs.num_batches  # unknown once sharded: None
    assert_same_structures(list(ours.get_numpy_iterator()), list(theirs.get_numpy_iterator()))


def test_sparse_tensors_are_read_dense(keras):
    import scipy.sparse
    import tensorflow as tf

    dense = np.array([[0.0, 2.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 3.0]], "float32")
    sparse = tf.sparse.from_dense(dense)
    adapter = tf_dataset_adapter.TFDatasetAdapter(tf.data.Dataset.from_tensors((sparse, sparse)))
    (bx, by), *_ = adapter.get_numpy_iterator()
    np.testing.assert_array_equal(bx, tf.sparse.to_dense(sparse).numpy())
    for x in (sparse, scipy.sparse.coo_matrix(dense), tf.RaggedTensor.from_tensor(dense)):
        adapter = array_data_adapter.ArrayDataAdapter(x, batch_size=2)
        batches = [np.asarray(b) for b in adapter.get_numpy_iterator()]
        np.testing.assert_array_equal(np.concatenate(batches), dense)
