"""minikeras.tree against keras.tree on the same structures: leaves and their order, paths,
rebuilt structures (values and types, OrderedDict order, defaultdict factory), and the
errors for structures that do not match."""

import collections

import numpy as np
import pytest

from minikeras import tree as mtree

Point = collections.namedtuple("Point", ["x", "y"])


def _structures():
    arr = np.arange(3.0)
    return [
        1,
        None,
        "text",
        [1],
        [[1]],
        (),
        {"b": 1, "a": [2, (3, None)], "c": Point(4, 5)},
        collections.OrderedDict([("b", 1), ("a", {"z": 2, "y": 3})]),
        collections.defaultdict(list, {"k": [1, 2], "j": 3}),
        collections.deque([1, [2, 3]]),
        [arr, {"w": arr}, (None,)],
        Point(x=[1, 2], y={"q": (3,)}),
    ]


def _same(a, b):
    """Equal, of the same types all the way down, dict keys in the same order."""
    assert type(a) is type(b), (a, b)
    if isinstance(a, dict):
        assert list(a) == list(b)
        if isinstance(a, collections.defaultdict):
            assert a.default_factory is b.default_factory
        for k in a:
            _same(a[k], b[k])
    elif isinstance(a, (list, tuple, collections.deque)):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            _same(x, y)
    elif isinstance(a, np.ndarray):
        np.testing.assert_array_equal(a, b)
    else:
        assert a == b


@pytest.mark.parametrize("index", range(len(_structures())))
def test_walks_as_keras(keras, index):
    ours, theirs = _structures()[index], _structures()[index]
    kt = keras.tree
    assert mtree.is_nested(ours) == kt.is_nested(theirs)
    assert len(mtree.flatten(ours)) == len(kt.flatten(theirs))
    for a, b in zip(mtree.flatten(ours), kt.flatten(theirs)):
        _same(a, b)
    assert [p for p, _ in mtree.flatten_with_path(ours)] == [
        p for p, _ in kt.flatten_with_path(theirs)
    ]
    double = lambda x: x if x is None or isinstance(x, str) else x * 2  # noqa: E731
    _same(mtree.map_structure(double, ours), kt.map_structure(double, theirs))
    leaves = list(range(len(kt.flatten(theirs))))
    _same(mtree.pack_sequence_as(ours, leaves), kt.pack_sequence_as(theirs, leaves))
    _same(mtree.lists_to_tuples(ours), kt.lists_to_tuples(theirs))
    _same(
        mtree.map_structure(lambda a, b: (a, b), ours, ours),
        kt.map_structure(lambda a, b: (a, b), theirs, theirs),
    )


def test_traverse_as_keras(keras):
    structure = {"a": [1, (2, 3)], "b": Point(4, [5])}

    def top(x):
        return keras.tree.MAP_TO_NONE if x == 2 else (None if mtree.is_nested(x) else -x)

    def ours_top(x):
        return mtree.MAP_TO_NONE if x == 2 else (None if mtree.is_nested(x) else -x)

    _same(mtree.traverse(ours_top, structure), keras.tree.traverse(top, structure))

    def bottom(x):
        return len(x) if isinstance(x, tuple) else None

    _same(
        mtree.traverse(bottom, structure, top_down=False),
        keras.tree.traverse(bottom, structure, top_down=False),
    )
    shapes = {"a": (None, 3), "b": [(2,), [4, 5]]}
    _same(
        mtree.map_shape_structure(lambda s: len(s), shapes),
        keras.tree.map_shape_structure(lambda s: len(s), shapes),
    )
    _same(
        mtree.map_structure_up_to({"a": 0, "b": 0}, len, {"a": [1, 2], "b": (3,)}),
        keras.tree.map_structure_up_to({"a": 0, "b": 0}, len, {"a": [1, 2], "b": (3,)}),
    )


@pytest.mark.parametrize(
    "call",
    [
        lambda t: t.map_structure(lambda a, b: a, [1, 2], [1, [2]]),
        lambda t: t.map_structure(lambda a, b: a, [1, 2], (1, 2)),
        lambda t: t.assert_same_structure([1, 2], (1, 2)),
        lambda t: t.assert_same_structure({"a": 1}, {"b": 1}),
        lambda t: t.assert_same_paths([1, 2], [1, 2, 3]),
        lambda t: t.pack_sequence_as([1, [2]], [1]),
        lambda t: t.pack_sequence_as([1, [2]], [1, 2, 3]),
        lambda t: t.map_structure(len),
    ],
)
def test_errors_as_keras(keras, call):
    with pytest.raises(Exception) as theirs:
        call(keras.tree)
    with pytest.raises(type(theirs.value)):
        call(mtree)


def test_paths_ignore_the_sequence_type(keras):
    mtree.assert_same_paths([1, (2, 3)], (1, [2, 3]))
    keras.tree.assert_same_paths([1, (2, 3)], (1, [2, 3]))
