"""Bounding boxes as the image layers move them (Keras's formats and converters)."""
