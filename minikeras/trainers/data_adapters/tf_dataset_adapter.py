"""Keras's `TFDatasetAdapter`: a `tf.data.Dataset`'s batches, as `fit` reads them (the
`IterableAdapter` of `trainers/data_adapters/__init__.py`)."""

from minikeras import tree
from minikeras.models import inputs
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
        if class_weight is not None:
            # Keras maps the dataset with `make_class_weight_map_fn` here, whose checks fail at
            # once on the structure of the dataset's elements: so do these
            _check_class_weight_data(tuple(dataset.element_spec))
        if distribution is not None:  # each worker's shard (a `keras.distribution` object's)
            dataset = distribution.distribute_dataset(dataset)
        super().__init__(dataset, tf_dataset_num_batches(dataset), class_weight, _as_given)

    def get_tf_dataset(self):
        """The dataset itself; with class weights, the batches with their weights added."""
        if self.class_weight is None:
            return self.dataset
        return super().get_tf_dataset()

    # a dataset's batches come as the dataset makes them: their size is not known here
    batch_size = None
    has_partial_batch = None
    partial_batch_size = None


def _check_class_weight_data(data):
    """Class weights make each sample's weight from its one label: (x, y) only."""
    if len(data) == 3 and data[2] is not None:
        raise ValueError("You cannot `class_weight` and `sample_weight` at the same time.")
    if len(data) > 1 and tree.is_nested(data[1]):
        raise ValueError("`class_weight` is only supported for Models with a single output.")


def make_class_weight_map_fn(class_weight):
    """A function of a batch (x, y) that returns (x, y, sample_weight), each sample weighted by
    its class's weight (a class the dict leaves out weighs 1), as Keras's, on arrays. (In
    Keras it is mapped over a tf.data.Dataset; minikeras weighs each batch as it reads it.)"""

    def class_weights_map_fn(*data):
        _check_class_weight_data(data)
        x, y = data[0], data[1]
        return x, y, inputs.class_weights_to_sample_weights(y, class_weight, "float32")

    return class_weights_map_fn
