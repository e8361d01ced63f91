"""Keras's module path for the PyDataset and its adapter (the adapter lives with the others, in
`trainers/data_adapters/__init__.py`; the PyDataset in `utils/py_dataset.py`)."""

from minikeras.trainers.data_adapters import PyDatasetAdapter
from minikeras.utils.py_dataset import PyDataset

__all__ = ["PyDataset", "PyDatasetAdapter"]
