"""bfloat16 weights in `.weights.h5` files, both ways with Keras. HDF5 has no bfloat16: Keras
stores the two bytes of each value as an opaque type marked with the attribute
dtype="bfloat16", and loads them into a model of any float type. The values compare exactly:
every bfloat16 is a float32."""

import numpy as np
import pytest

import minikeras as mk


def model(lib, dtype):
    return lib.Sequential([lib.layers.Input((3,)), lib.layers.Dense(4, dtype=dtype)])


@pytest.mark.parametrize("writer", ["keras", "minikeras"])
def test_bfloat16_weights_cross_into_float32_models(keras, h5py, tmp_path, writer):
    libs = {"keras": keras, "minikeras": mk}
    reader = libs["minikeras" if writer == "keras" else "keras"]
    source = model(libs[writer], "bfloat16")
    path = str(tmp_path / "model.weights.h5")
    source.save_weights(path)
    with h5py.File(path) as h5:
        kernel = h5["layers/dense/vars/0"]
        assert kernel.attrs["dtype"] == "bfloat16" and kernel.dtype == "V2"
    target = model(reader, "float32")
    target.load_weights(path)
    for loaded, saved in zip(target.get_weights(), source.get_weights()):
        assert loaded.dtype == np.float32
        np.testing.assert_array_equal(loaded, np.asarray(saved).astype(np.float32))
