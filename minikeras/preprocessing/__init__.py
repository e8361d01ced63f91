"""`keras.preprocessing`: Keras 3 keeps this older home of `pad_sequences` (also in
`minikeras.utils`)."""

from minikeras.preprocessing import sequence

__all__ = ["sequence"]
