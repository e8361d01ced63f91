"""`keras.preprocessing`: Keras 3 keeps this older home of `pad_sequences` and the image
helpers (also in `minikeras.utils`)."""

from minikeras.preprocessing import image, sequence
from minikeras.utils.image_dataset_utils import image_dataset_from_directory
from minikeras.utils.text_dataset_utils import text_dataset_from_directory
from minikeras.utils.timeseries_dataset import timeseries_dataset_from_array

__all__ = [
    "image",
    "image_dataset_from_directory",
    "sequence",
    "text_dataset_from_directory",
    "timeseries_dataset_from_array",
]
