"""Nested structures of arrays, as Keras's `keras.tree`: lists, tuples and dicts of leaves.

A structure is walked depth first; a dict's values in the order of its sorted keys (Keras's
rule, from optree), so `flatten` and `pack_sequence_as` agree whatever order the keys were
written in. Anything that is not a list, tuple or dict is a leaf, None included.

>>> from minikeras import tree
>>> tree.flatten({"b": 1, "a": (2, None)})
[2, None, 1]
>>> tree.map_structure(lambda x: x * 10, {"b": 1, "a": [2, 3]})
{'b': 10, 'a': [20, 30]}
>>> tree.pack_sequence_as({"b": 0, "a": 0}, [1, 2])
{'b': 2, 'a': 1}
"""


def is_nested(structure):
    """Whether `structure` is a list, tuple or dict (not a leaf)."""
    return isinstance(structure, (list, tuple, dict))


def _children(structure):
    if isinstance(structure, dict):
        return [structure[key] for key in sorted(structure)]
    return list(structure)


def _rebuild(structure, children):
    """A container of `structure`'s kind holding `children` (in `_children`'s order)."""
    if isinstance(structure, dict):
        by_key = dict(zip(sorted(structure), children))
        return type(structure)((key, by_key[key]) for key in structure)
    if isinstance(structure, tuple) and hasattr(structure, "_fields"):  # a namedtuple
        return type(structure)(*children)
    return type(structure)(children)


def flatten(structure):
    """The leaves of `structure`, depth first, as a list."""
    if not is_nested(structure):
        return [structure]
    return [leaf for child in _children(structure) for leaf in flatten(child)]


def map_structure(func, *structures):
    """`func` applied to the leaves of one or more structures of the same shape, in that shape."""
    first = structures[0]
    for other in structures[1:]:
        assert_same_structure(first, other)
    if not is_nested(first):
        return func(*structures)
    children = zip(*(_children(s) for s in structures))
    return _rebuild(first, [map_structure(func, *items) for items in children])


def pack_sequence_as(structure, flat_sequence):
    """The leaves of `flat_sequence`, in order, put back in the shape of `structure`."""
    flat_sequence = list(flat_sequence)
    expected = len(flatten(structure))
    if len(flat_sequence) != expected:
        raise ValueError(
            f"The target structure has {expected} leaves, but `flat_sequence` has "
            f"{len(flat_sequence)} items. Structure: {structure}"
        )
    leaves = iter(flat_sequence)

    def pack(item):
        if not is_nested(item):
            return next(leaves)
        return _rebuild(item, [pack(child) for child in _children(item)])

    return pack(structure)


def assert_same_structure(a, b):
    """Raise a ValueError unless `a` and `b` have the same containers and keys (any leaves)."""
    if is_nested(a) != is_nested(b):
        raise ValueError(f"The two structures differ: {a} and {b}")
    if not is_nested(a):
        return
    if type(a) is not type(b):
        raise ValueError(f"Expected an instance of {type(a).__name__}, got {b}.")
    if isinstance(a, dict) and sorted(a) != sorted(b):
        raise ValueError(f"The two dicts have different keys: {sorted(a)} and {sorted(b)}")
    if len(a) != len(b):
        raise ValueError(f"The two structures have different lengths: {a} and {b}")
    for x, y in zip(_children(a), _children(b)):
        assert_same_structure(x, y)
