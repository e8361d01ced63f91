"""Keras's module path for the adapter of a Python generator (it lives with the others, in
`trainers/data_adapters/__init__.py`)."""

from minikeras.trainers.data_adapters import GeneratorDataAdapter

__all__ = ["GeneratorDataAdapter"]
