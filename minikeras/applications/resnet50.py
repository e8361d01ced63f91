"""`keras.applications.resnet50`: ResNet50 and its preprocessing, under their older module
name (the same functions as `minikeras.applications.resnet`)."""

from minikeras.applications.resnet import ResNet50, decode_predictions, preprocess_input

__all__ = ["ResNet50", "decode_predictions", "preprocess_input"]
