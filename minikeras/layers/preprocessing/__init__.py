"""Keras's preprocessing layers (keras/src/layers/preprocessing/), by module."""
