"""Several arrays that travel together: a model's inputs, or its targets, or its outputs."""


class Arrays:
    """Several arrays with the same samples (a model's inputs, or its targets): `len` counts the
    samples and indexing picks the same samples from each array, so the training loop batches
    them as it batches one array. An entry may be None (an output given no labels)."""

    def __init__(self, arrays):
        self.arrays = list(arrays)

    def __len__(self):
        return len(next((a for a in self.arrays if a is not None), ()))

    def __getitem__(self, index):
        return Arrays([None if a is None else a[index] for a in self.arrays])

    def __setitem__(self, index, values):
        for array, value in zip(self.arrays, values.arrays):
            array[index] = value


def as_list(value):
    """Arrays → its list; one array → [array]."""
    return value.arrays if isinstance(value, Arrays) else [value]
