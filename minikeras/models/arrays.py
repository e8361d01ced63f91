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


class Structure:
    """A list, tuple or dict of arrays with the same samples, handed to a train_step of yours
    as given: `len` counts the samples, and indexing gives the same structure with the same
    samples picked from each array (so the training loop batches it as one array)."""

    def __init__(self, structure):
        self.structure = structure

    def __len__(self):
        return len(self.arrays()[0])

    def arrays(self):
        """The arrays, in order (None entries left out)."""
        return [leaf for leaf in _leaves(self.structure) if leaf is not None]

    def __getitem__(self, index):
        return _pick(self.structure, index)


def _leaves(structure):
    if isinstance(structure, dict):
        return [leaf for value in structure.values() for leaf in _leaves(value)]
    if isinstance(structure, (list, tuple)):
        return [leaf for value in structure for leaf in _leaves(value)]
    return [structure]


def _pick(structure, index):
    if isinstance(structure, dict):
        return {key: _pick(value, index) for key, value in structure.items()}
    if isinstance(structure, tuple) and hasattr(type(structure), "_fields"):  # a namedtuple
        return type(structure)(*(_pick(value, index) for value in structure))
    if isinstance(structure, (list, tuple)):
        return type(structure)(_pick(value, index) for value in structure)
    return None if structure is None else structure[index]
