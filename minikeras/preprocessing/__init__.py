"""`keras.preprocessing`: Keras 3 keeps this older home of `pad_sequences` and the image
helpers (also in `minikeras.utils`)."""

from minikeras.preprocessing import image, sequence
from minikeras.utils.timeseries_dataset import timeseries_dataset_from_array

__all__ = ["image", "sequence", "timeseries_dataset_from_array"]
