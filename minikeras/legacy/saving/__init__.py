"""Keras's `keras.src.legacy.saving`: Keras 2's `.h5` model files
(minikeras/saving/legacy_h5.py)."""
