"""Keras's `TFDatasetAdapter`: a `tf.data.Dataset`'s batches, as `fit` reads them (the
`IterableAdapter` of `trainers/data_adapters/__init__.py`)."""

from minikeras.trainers.data_adapters import (
    IterableAdapter,
    _as_given,
    is_tf_dataset,
    tf_dataset_num_batches,
)


class TFDatasetAdapter(IterableAdapter):
    """The batches of a batched tf.data.Dataset, each tensor as a NumPy array; `class_weight`
    adds each batch's sample weights."""

    def __init__(self, dataset, class_weight=None, distribution=None):
        if not is_tf_dataset(dataset):
            raise ValueError(
                f"Expected argument `dataset` to be a tf.data.Dataset. Received: {dataset}"
            )
        super().__init__(dataset, tf_dataset_num_batches(dataset), class_weight, _as_given)

    # a dataset's batches come as the dataset makes them: their size is not known here
    batch_size = None
    has_partial_batch = None
    partial_batch_size = None
