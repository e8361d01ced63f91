"""module_utils's lazy modules answer `available` as Keras's do: by trying the import."""

import importlib.util

from minikeras.utils import module_utils


def test_tree_libraries_available_as_importable():
    assert module_utils.optree.available == (importlib.util.find_spec("optree") is not None)
    assert module_utils.dmtree.available == (importlib.util.find_spec("tree") is not None)
    assert module_utils.jax.available == (importlib.util.find_spec("jax") is not None)
