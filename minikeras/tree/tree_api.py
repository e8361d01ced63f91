"""Nested structures (Keras's `keras.tree`): lists, tuples, namedtuples, dicts and deques of
leaves, walked in one fixed order.

>>> from minikeras import tree
>>> tree.flatten({"b": 1, "a": [2, (3, None)]})
[2, 3, None, 1]
>>> tree.map_structure(lambda x: x * 10, {"b": 1, "a": [2, 3]})
{'b': 10, 'a': [20, 30]}

The order is Keras's (that of optree, its default backend): a list, tuple or deque in
order; a dict (a defaultdict too) by sorted keys, an OrderedDict in its own order; a
namedtuple by field. Everything else is a leaf, None included, and so
are strings and arrays. A structure is rebuilt with its own type (a namedtuple as itself, a
defaultdict with its default factory).
"""

import collections
import warnings


class MAP_TO_NONE:
    """Returned by `traverse`'s function: put None here (returning None means "go deeper")."""


def _is_namedtuple(x):
    return isinstance(x, tuple) and hasattr(type(x), "_fields")


def is_nested(structure):
    """Whether `structure` is a list, tuple, dict or deque (not a leaf)."""
    return isinstance(structure, (list, tuple, dict, collections.deque))


def _children(structure):
    """(keys, children) of a nested structure, in the order flatten visits them."""
    if isinstance(structure, collections.OrderedDict):
        keys = list(structure)
    elif isinstance(structure, dict):
        keys = sorted(structure)
    elif _is_namedtuple(structure):
        keys = list(structure._fields)
        return keys, list(structure)
    else:
        keys = list(range(len(structure)))
        return keys, list(structure)
    return keys, [structure[k] for k in keys]


def _rebuild(structure, children):
    """A structure of `structure`'s type (and keys) holding `children`."""
    if isinstance(structure, dict):
        keys, _ = _children(structure)
        if isinstance(structure, collections.defaultdict):
            out = collections.defaultdict(structure.default_factory)
        else:
            out = type(structure)()
        # a plain dict keeps the caller's key order, as Keras's (sorted only for walking)
        values = dict(zip(keys, children))
        for key in structure:
            out[key] = values[key]
        return out
    if _is_namedtuple(structure):
        return type(structure)(*children)
    if isinstance(structure, collections.deque):
        return collections.deque(children, maxlen=structure.maxlen)
    return type(structure)(children)


def _type_name(structure):
    return type(structure).__name__


def flatten(structure):
    """The leaves of `structure`, in order, as a list ([structure] for a leaf)."""
    if not is_nested(structure):
        return [structure]
    leaves = []
    for child in _children(structure)[1]:
        leaves.extend(flatten(child))
    return leaves


def flatten_with_path(structure):
    """[(path, leaf)]: each leaf with the tuple of keys and indices that lead to it."""

    def walk(node, path):
        if not is_nested(node):
            return [(path, node)]
        keys, children = _children(node)
        if _is_namedtuple(node):
            keys = list(range(len(children)))  # (Keras's paths use a namedtuple's positions)
        return [pair for k, c in zip(keys, children) for pair in walk(c, path + (k,))]

    return walk(structure, ())


def _check_same(a, b):
    """Raise Keras's ValueError unless a and b are nested the same way (types and keys)."""
    if not is_nested(a):
        if is_nested(b):
            raise ValueError("Structures don't have the same nested structure.")
        return
    same_kind = type(a) is type(b) or (isinstance(a, dict) and isinstance(b, dict))
    if not same_kind:  # a leaf where a structure was expected too, as Keras (optree) words it
        raise ValueError(f"Expected an instance of {_type_name(a)}, got {b!r}.")
    keys_a, children_a = _children(a)
    keys_b, children_b = _children(b)
    if sorted(map(repr, keys_a)) != sorted(map(repr, keys_b)):
        raise ValueError(
            f"Structures don't have the same nested structure: keys {keys_a} and {keys_b}."
        )
    for x, y in zip(children_a, children_b):
        _check_same(x, y)


def map_structure(func, *structures, none_is_leaf=True):
    """`func` applied to the leaves of `structures` in the same places: one structure of the
    results, shaped as the first. With none_is_leaf=False a None is kept, not passed to func."""
    if not structures:
        raise ValueError("Must provide at least one structure")
    for other in structures[1:]:
        _check_same(structures[0], other)

    def walk(*nodes):
        first = nodes[0]
        if not is_nested(first):
            if first is None and not none_is_leaf:
                return None
            return func(*nodes)
        columns = zip(*[_children(node)[1] for node in nodes])
        return _rebuild(first, [walk(*column) for column in columns])

    return walk(*structures)


def map_structure_up_to(shallow_structure, func, *structures):
    """map_structure that stops at the leaves of `shallow_structure`: what sits there in
    `structures` (a leaf or a whole sub-structure) is handed to `func` as it is."""
    if not structures:
        raise ValueError("Must provide at least one structure")

    def walk(shallow, *nodes):
        if not is_nested(shallow):
            return func(*nodes)
        for node in nodes:
            if not is_nested(node) or len(_children(node)[1]) != len(_children(shallow)[1]):
                raise ValueError("Structures don't have the same nested structure.")
        columns = zip(_children(shallow)[1], *[_children(node)[1] for node in nodes])
        return _rebuild(shallow, [walk(*column) for column in columns])

    return walk(shallow_structure, *structures)


def assert_same_structure(a, b, check_types=None):
    """Raise ValueError unless a and b have the same nesting, types and keys."""
    if check_types is not None:
        warnings.warn(
            "The `check_types` argument is deprecated and no longer has any effect, please remove.",
            DeprecationWarning,
            stacklevel=2,
        )
    _check_same(a, b)


def assert_same_paths(a, b):
    """Raise ValueError unless a and b have the same paths to their leaves (a list and a tuple
    with the same items match: only keys and positions count)."""
    a_paths = {path for path, _ in flatten_with_path(a)}
    b_paths = {path for path, _ in flatten_with_path(b)}
    if a_paths != b_paths:
        message = "`a` and `b` don't have the same paths."
        if a_paths - b_paths:
            message += f"\nPaths in `a` missing in `b`:\n{a_paths - b_paths}"
        if b_paths - a_paths:
            message += f"\nPaths in `b` missing in `a`:\n{b_paths - a_paths}"
        raise ValueError(message)


def pack_sequence_as(structure, flat_sequence):
    """The leaves of `flat_sequence`, in order, put into the shape of `structure`."""
    flat_sequence = list(flat_sequence)
    expected = len(flatten(structure))
    if len(flat_sequence) != expected:
        few = "few" if len(flat_sequence) < expected else "many"
        raise ValueError(
            f"Too {few} leaves for the structure; expected: {expected}, got: {len(flat_sequence)}."
        )
    leaves = iter(flat_sequence)

    def build(node):
        if not is_nested(node):
            return next(leaves)
        return _rebuild(node, [build(child) for child in _children(node)[1]])

    return build(structure)


def traverse(func, structure, top_down=True):
    """Visit every node (not only leaves) with `func`. Top down: a non-None result replaces
    the node and its children are not visited; None means "go into it". Bottom up: children
    first, then func on the rebuilt node (None keeps it). MAP_TO_NONE puts a None."""

    def result(value, default):
        if value is None:
            return default
        return None if value is MAP_TO_NONE else value

    def children_done(node):
        if not is_nested(node):
            return node
        return _rebuild(node, [visit(child) for child in _children(node)[1]])

    def visit(node):
        if top_down:
            value = func(node)
            return children_done(node) if value is None else result(value, None)
        rebuilt = children_done(node)
        return result(func(rebuilt), rebuilt)

    return visit(structure)


def lists_to_tuples(structure):
    """The structure with every list made a tuple."""
    return traverse(
        lambda node: tuple(node) if isinstance(node, list) else None, structure, top_down=False
    )


def map_shape_structure(func, structure):
    """`func` applied to each shape (a list or tuple of ints and Nones) of a structure."""

    def is_shape(x):
        return isinstance(x, (list, tuple)) and all(isinstance(e, (int, type(None))) for e in x)

    def walk(node):
        if is_shape(node) or not is_nested(node):
            return func(node)
        return _rebuild(node, [walk(child) for child in _children(node)[1]])

    return walk(structure)


def register_tree_node_class(cls):
    """Keras's decorator for a class to be walked as a node; minikeras walks only the built-in
    containers, so the class is returned unchanged."""
    return cls
