"""Global settings: the float type of new weights and data (`floatx`) and the kernel set.

>>> import minikeras
>>> minikeras.config.floatx()
'float32'
"""

import numpy as np

from minikeras import kernels as _kernels

_FLOATX = "float32"
_VALID_FLOATX = ("float16", "float32", "float64")


def floatx() -> str:
    """The default float type, as a string ('float32' unless changed by `set_floatx`)."""
    return _FLOATX


def set_floatx(value: str) -> None:
    """Set the default float type ('float32' or 'float64') for new weights and data."""
    global _FLOATX
    value = str(value)
    if value not in _VALID_FLOATX:
        raise ValueError(f"Unknown `floatx` value: {value}. Expected one of {set(_VALID_FLOATX)}")
    _FLOATX = value


_EPSILON = 1e-7


def epsilon() -> float:
    """The fuzz factor Keras uses in losses and optimizers: 1e-7 unless changed."""
    return _EPSILON


def set_epsilon(value: float) -> None:
    """Set the fuzz factor (`epsilon()`)."""
    global _EPSILON
    _EPSILON = float(value)


def image_data_format() -> str:
    """Where image layers expect the channels: 'channels_last', as Keras's default."""
    return "channels_last"


def backend() -> str:
    """The name of the array library under minikeras (Keras's `keras.config.backend()`)."""
    return "numpy"


def enable_unsafe_deserialization() -> None:
    """Allow `load_model` to rebuild a Lambda layer's Python code (never the default)."""
    from minikeras.utils import object_registration

    object_registration.enable_unsafe_deserialization()


def disable_traceback_filtering() -> None:
    """Keras shortens its tracebacks; minikeras never does, so this changes nothing."""


def enable_traceback_filtering() -> None:
    """Accepted for Keras's API; minikeras's tracebacks are never filtered."""


def is_traceback_filtering_enabled() -> bool:
    return False


def set_kernels(name: str) -> None:
    """Choose the kernel set every layer and optimizer calls: "numba" (default) or "numpy"."""
    _kernels.use(name)


def kernels() -> str:
    """The name of the kernel set in use ("numba" or "numpy")."""
    return _kernels.current()


def dtype():
    """`floatx()` as a NumPy dtype."""
    return np.dtype(_FLOATX)
