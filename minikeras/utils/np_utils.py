"""Keras 2's `keras.utils.np_utils`, kept so that older tutorials run unchanged."""

from minikeras.utils.numerical_utils import to_categorical

__all__ = ["to_categorical"]
