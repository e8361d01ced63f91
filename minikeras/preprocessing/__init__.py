"""`keras.preprocessing`: Keras 3 keeps this older home of `pad_sequences` (also in
`minikeras.utils`)."""

from minikeras.preprocessing import sequence
from minikeras.utils.timeseries_dataset import timeseries_dataset_from_array

__all__ = ["sequence", "timeseries_dataset_from_array"]
