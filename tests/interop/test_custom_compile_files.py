"""A model whose class writes its own `compile()` is loaded uncompiled, with Keras's warning,
since that compile may not take the arguments the file recorded; the weights still load. The
file is written by Keras and by minikeras, and read by both."""

import numpy as np
import pytest

import minikeras as mk


def custom_class(lib):
    class CompileOverridingSequential(lib.Sequential):
        def compile(self, *args, **kwargs):
            super().compile(*args, **kwargs)

    return CompileOverridingSequential


@pytest.mark.parametrize("writer", ["keras", "minikeras"])
def test_custom_compile_is_not_called_on_load(keras, tmp_path, writer):
    libs = {"keras": keras, "minikeras": mk}
    lib = libs[writer]
    model = custom_class(lib)([lib.Input((2,)), lib.layers.Dense(1)])
    model.compile("sgd", "mse")
    path = str(tmp_path / "model.keras")
    model.save(path)
    for reader in (keras, mk):
        cls = custom_class(reader)
        with pytest.warns(UserWarning, match="`compile\\(\\)` was not called as part of model"):
            loaded = reader.saving.load_model(
                path, custom_objects={"CompileOverridingSequential": cls}
            )
        assert isinstance(loaded, cls)
        for a, b in zip(loaded.get_weights(), model.get_weights()):
            np.testing.assert_array_equal(a, b)
