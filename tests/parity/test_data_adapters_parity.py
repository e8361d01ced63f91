"""Keras's data-adapter classes (`ArrayDataAdapter`, `TFDatasetAdapter`) in minikeras, under
Keras's module names: the same batches as Keras's adapters give for the same data (exact:
batching only slices and casts). `TorchDataLoaderAdapter` needs torch on Keras's side, which is
not a test dependency: tests/unit/test_torch_dataloader.py checks it on a stand-in."""

import numpy as np
import pytest

from minikeras.trainers.data_adapters import (
    array_data_adapter,
    tf_dataset_adapter,
)


@pytest.fixture
def adapters(keras):
    from keras.src.trainers.data_adapters import (
        array_data_adapter as keras_array,
    )
    from keras.src.trainers.data_adapters import (
        tf_dataset_adapter as keras_tf,
    )

    return keras_array, keras_tf


def batches(adapter):
    return [
        [np.asarray(part) for part in (batch if isinstance(batch, tuple) else (batch,))]
        for batch in adapter.get_numpy_iterator()
    ]


def assert_same_batches(ours, theirs):
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            assert x.dtype == y.dtype
            np.testing.assert_array_equal(x, y)


def adapter_facts(adapter):
    return (
        adapter.num_batches,
        adapter.batch_size,
        adapter.has_partial_batch,
        adapter.partial_batch_size,
    )


@pytest.mark.parametrize("n, batch_size, steps", [(34, 16, None), (32, 8, None), (10, None, 3)])
def test_array_data_adapter_batches_as_keras_s(adapters, n, batch_size, steps):
    x = np.arange(n * 3, dtype="float64").reshape(n, 3)  # float64: cast to floatx, as Keras
    y = (np.arange(n) % 4).astype("int32")
    made = [
        module.ArrayDataAdapter(x, y=y, batch_size=batch_size, steps=steps)
        for module in (array_data_adapter, adapters[0])
    ]
    assert adapter_facts(made[0]) == adapter_facts(made[1])
    assert_same_batches(batches(made[0]), batches(made[1]))


def test_array_data_adapter_class_and_sample_weights_as_keras_s(adapters):
    x = np.linspace(0, 1, 12).reshape(6, 2)
    y = np.array([0, 1, 2, 1, 0, 2])
    class_weight = {0: 0.5, 1: 2.0, 2: 1.5}
    made = [
        module.ArrayDataAdapter(x, y=y, class_weight=class_weight, batch_size=4)
        for module in (array_data_adapter, adapters[0])
    ]
    assert_same_batches(batches(made[0]), batches(made[1]))
    # two outputs, one weight array for both
    two = [y.astype("float32"), y.astype("float32") * 2]
    made = [
        module.ArrayDataAdapter(x, y=two, sample_weight=np.arange(6.0), batch_size=4)
        for module in (array_data_adapter, adapters[0])
    ]
    ours, theirs = (list(adapter.get_numpy_iterator()) for adapter in made)
    for a, b in zip(ours, theirs, strict=True):
        for part_a, part_b in zip(a, b, strict=True):
            for leaf_a, leaf_b in zip(part_a, part_b, strict=True):  # x's rows, or per output
                np.testing.assert_array_equal(leaf_a, leaf_b)


@pytest.mark.parametrize(
    "arguments, message",
    [
        (dict(x="Invalid"), "Expected all elements of `x` to be array-like"),
        (dict(sample_weight=np.ones(4), class_weight={0: 1.0}), "You cannot `class_weight`"),
        (dict(y=[np.ones((4, 1))] * 2, class_weight={0: 1.0}), "only supported for Models"),
        (dict(y=[np.ones((4, 1))] * 2, sample_weight=[]), "one `sample_weight` array per"),
    ],
)
def test_array_data_adapter_refuses_what_keras_refuses(adapters, arguments, message):
    arguments = {"x": np.ones((4, 2)), "y": np.ones((4, 1)), **arguments}
    for module in (array_data_adapter, adapters[0]):
        with pytest.raises(ValueError, match=message):
            module.ArrayDataAdapter(**arguments)


def test_shuffle_batch_keeps_the_batches_in_place_and_shuffles_inside(adapters):
    x = np.arange(34.0).reshape(34, 1)
    for module in (array_data_adapter, adapters[0]):
        adapter = module.ArrayDataAdapter(x, batch_size=16, shuffle="batch")
        order = [batch[0][:, 0] for batch in batches(adapter)]
        for i, rows in enumerate(order):
            np.testing.assert_array_equal(np.sort(rows), np.arange(16 * i, 16 * i + len(rows)))


def test_tf_dataset_adapter_batches_as_keras_s(adapters):
    import tensorflow as tf

    x = np.arange(20.0, dtype="float32").reshape(10, 2)
    dataset = tf.data.Dataset.from_tensor_slices((x, np.arange(10) % 2)).batch(4)
    made = [
        module.TFDatasetAdapter(dataset, class_weight={0: 0.25, 1: 3.0})
        for module in (tf_dataset_adapter, adapters[1])
    ]
    assert adapter_facts(made[0]) == adapter_facts(made[1])
    assert_same_batches(batches(made[0]), batches(made[1]))
    for module in (tf_dataset_adapter, adapters[1]):
        with pytest.raises(ValueError, match="Expected argument `dataset` to be a tf.data"):
            module.TFDatasetAdapter(x)


def test_module_utils_imports_tensorflow_when_first_used_as_keras_s(keras):
    import tensorflow as tf
    from keras.src.utils import module_utils as keras_module_utils

    from minikeras.utils import module_utils

    assert module_utils.tensorflow.data.Dataset is tf.data.Dataset
    assert repr(module_utils.tensorflow) == repr(keras_module_utils.tensorflow)
    assert module_utils.LazyModule("no_such_module_here").available is False


@pytest.mark.parametrize(
    "y, class_weight",
    [
        (np.array([0, 1, 0, 2]), {0: 1.0, 1: 2.0, 2: 3.0}),
        (np.eye(3)[[0, 1, 0, 2]], {0: 1.0, 1: 2.0, 2: 3.0}),
        (np.array([[0], [3], [0], [2]]), {0: 1.0, 2: 3.0}),
        (np.array([0, 1, 0, 2]), {}),
    ],
)
def test_class_weight_to_sample_weights_as_keras_s(keras, y, class_weight):
    from keras.src.trainers.data_adapters.data_adapter_utils import (
        class_weight_to_sample_weights as keras_weights,
    )

    from minikeras.trainers.data_adapters.data_adapter_utils import (
        class_weight_to_sample_weights,
    )

    ours = class_weight_to_sample_weights(y, class_weight)
    theirs = np.asarray(keras_weights(y, class_weight))
    assert ours.dtype == theirs.dtype
    np.testing.assert_array_equal(ours, theirs)


def test_generator_data_adapter_takes_the_generator_alone_as_keras_s(keras):
    from keras.src.trainers.data_adapters import generator_data_adapter as keras_generator

    from minikeras.trainers.data_adapters import generator_data_adapter

    def generator():
        for i in range(3):
            yield np.full((2, 3), float(i), "float32"), np.full((2, 1), i, "int32")

    made = [
        module.GeneratorDataAdapter(generator())
        for module in (generator_data_adapter, keras_generator)
    ]
    assert made[0].num_batches is made[1].num_batches is None
    assert_same_batches(batches(made[0]), batches(made[1]))
