"""`keras.preprocessing.sequence.pad_sequences`, the spelling of older keras.io examples."""

from minikeras.utils.sequence_utils import pad_sequences

__all__ = ["pad_sequences"]
