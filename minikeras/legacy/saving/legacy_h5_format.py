"""Keras's `keras.src.legacy.saving.legacy_h5_format` names over minikeras/saving/legacy_h5.py,
which writes and reads Keras 2's `.h5` model files."""

from minikeras.saving import legacy_h5
from minikeras.saving.legacy_h5 import HDF5_OBJECT_HEADER_LIMIT

save_model_to_hdf5 = legacy_h5.save_model
load_model_from_hdf5 = legacy_h5.load_model
save_weights_to_hdf5_group = legacy_h5.save_weights_to_group
save_attributes_to_hdf5_group = legacy_h5.save_attributes
load_attributes_from_hdf5_group = legacy_h5.load_attributes


def load_weights_from_hdf5_group(group, model, skip_mismatch=False):
    """The weights of an open h5py group into `model`, layer by layer in order."""
    legacy_h5.load_weights_from_group(group, model, skip_mismatch=skip_mismatch)


def load_weights_from_hdf5_group_by_name(group, model, skip_mismatch=False):
    """The weights of an open h5py group into the model's layers of the same names."""
    legacy_h5.load_weights_from_group(group, model, skip_mismatch=skip_mismatch, by_name=True)


__all__ = [
    "HDF5_OBJECT_HEADER_LIMIT",
    "load_attributes_from_hdf5_group",
    "load_model_from_hdf5",
    "load_weights_from_hdf5_group",
    "load_weights_from_hdf5_group_by_name",
    "save_attributes_to_hdf5_group",
    "save_model_to_hdf5",
    "save_weights_to_hdf5_group",
]
