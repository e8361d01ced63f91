"""Keras's `ArrayDataAdapter` (keras/src/trainers/data_adapters/array_data_adapter.py): arrays,
or a list, tuple or dict of them, in batches, as `fit` batches them (`ArrayAdapter`; this class
only takes Keras's arguments and makes the arrays ready: floats in floatx, class weights as
sample weights, one sample-weight array per output)."""

import numpy as np

from minikeras import config, tree
from minikeras.models import inputs
from minikeras.models.arrays import Structure
from minikeras.trainers.data_adapters import ArrayAdapter, array_batch_size, dense_array


class ArrayDataAdapter(ArrayAdapter):
    """Batches of `batch_size` samples (⌈n / steps⌉ when only `steps` is given, else 32);
    `shuffle` True (a new permutation each pass), "batch" (inside each batch) or False."""

    def __init__(
        self,
        x,
        y=None,
        sample_weight=None,
        batch_size=None,
        steps=None,
        shuffle=False,
        class_weight=None,
    ):
        _check_array_like(x, y, sample_weight)
        if sample_weight is not None and class_weight is not None:
            raise ValueError(
                "You cannot `class_weight` and `sample_weight` at the same time."  # Keras's words
            )
        several_outputs = y is not None and len(tree.flatten(y)) > 1
        if class_weight is not None:
            if several_outputs:
                raise ValueError(
                    "`class_weight` is only supported for Models with a single output."
                )
            sample_weight = inputs.class_weights_to_sample_weights(
                np.asarray(tree.flatten(y)[0]), class_weight, config.floatx()
            )
        if sample_weight is not None and several_outputs:
            sample_weight = _one_per_output(sample_weight, y)
        x, y, sample_weight = (_as_batchable(data) for data in (x, y, sample_weight))
        n = len(x)
        super().__init__(x, y, sample_weight, array_batch_size(batch_size, steps, n), shuffle)
        self.partial_batch_size = n % self.batch_size or None

    @property
    def has_partial_batch(self):
        return self.partial_batch_size is not None


def _check_array_like(x, y, sample_weight):
    """Every leaf an array (anything with a shape or `__array__`), as Keras requires."""
    for data in (x, y, sample_weight):
        bad = [type(leaf) for leaf in tree.flatten(data) if not _is_array_like(leaf)]
        if data is not None and bad:
            raise ValueError(
                "Expected all elements of `x` to be array-like. Received invalid types: "
                f"x={x}, y={y}, sample_weight={sample_weight}: found {bad}"
            )


def _is_array_like(leaf):
    return leaf is None or hasattr(leaf, "shape") or hasattr(leaf, "__array__")


def _one_per_output(sample_weight, y):
    """One sample-weight array for each output: a single 1-D array is repeated, a list must
    hold one per output (Keras's rules and messages)."""
    outputs = tree.flatten(y)
    if isinstance(sample_weight, (list, tuple)):
        weights = list(sample_weight)
        if len(weights) != len(outputs):
            raise ValueError(
                "You should provide one `sample_weight` array per output in `y`. The two "
                f"structures did not match: {len(weights)} sample weights for "
                f"{len(outputs)} outputs"
            )
        return tree.pack_sequence_as(y, weights)
    if np.ndim(sample_weight) != 1:
        raise ValueError(
            "For a model with multiple outputs, when providing a single `sample_weight` "
            "array, it should only have one dimension. Received: "
            f"sample_weight.shape={np.shape(sample_weight)}"
        )
    return tree.map_structure(lambda _: sample_weight, y)


def _as_batchable(data):
    """NumPy arrays (floats in floatx, as Keras converts them), in a Structure when several."""
    if data is None:
        return None

    def convert(leaf):
        array = dense_array(leaf)
        return array.astype(config.floatx()) if array.dtype.kind == "f" else array

    if not tree.is_nested(data):
        return convert(data)
    return Structure(tree.map_structure(convert, data))
