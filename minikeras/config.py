"""Global settings: the float type of new weights and data (`floatx`) and the kernel set.

>>> import minikeras
>>> minikeras.config.floatx()
'float32'
"""

import sys

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


_IMAGE_DATA_FORMAT = "channels_last"


def image_data_format() -> str:
    """Where image layers expect the channels: 'channels_last' unless changed."""
    return _IMAGE_DATA_FORMAT


def set_image_data_format(data_format: str) -> None:
    """Set the default `data_format` of image layers. minikeras's layers take 'channels_last'
    only: after 'channels_first' a convolution or pooling layer says so when it is made."""
    global _IMAGE_DATA_FORMAT
    value = str(data_format).lower()
    if value not in ("channels_first", "channels_last"):
        raise ValueError(
            "The `data_format` argument must be one of {'channels_first', 'channels_last'}. "
            f"Received: data_format={data_format}"
        )
    _IMAGE_DATA_FORMAT = value


def backend() -> str:
    """The name of the array library under minikeras (Keras's `keras.config.backend()`)."""
    return "numpy"


def set_backend(backend: str) -> None:
    """minikeras has one backend, NumPy (with Numba kernels): only "numpy" is accepted."""
    if backend != "numpy":
        raise ValueError(f"Unable to import backend : {backend} (minikeras runs on NumPy only)")


class DTypePolicy:
    """The dtype a layer keeps its weights in and computes in (Keras's `keras.DTypePolicy`,
    without mixed precision: both are `name`)."""

    def __init__(self, name=None):
        self.name = floatx() if name is None else _policy_name(name)

    @property
    def compute_dtype(self):
        return self.name

    @property
    def variable_dtype(self):
        return self.name

    def get_config(self):
        return {"name": self.name}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __eq__(self, other):
        return isinstance(other, DTypePolicy) and other.name == self.name

    __hash__ = None  # equal policies need not be one object; never a dict key

    def __repr__(self):
        return f'<DTypePolicy "{self.name}">'


def _policy_name(name):
    if isinstance(name, str) and name.startswith("mixed_"):
        raise NotImplementedError(
            f"The dtype policy {name!r} (mixed precision) is not supported by minikeras, which "
            "computes in one precision: use 'float32' or 'float64'."
        )
    if name not in _VALID_FLOATX:
        raise ValueError(
            f"Cannot convert '{name}' to a mixed precision DTypePolicy. Valid policies include "
            "'mixed_float16', 'mixed_bfloat16', and the name of any float dtype such as "
            "'float32'."
        )
    return name


_DTYPE_POLICY = None  # None: follow floatx(), as Keras's default policy does


def dtype_policy() -> DTypePolicy:
    """The global dtype policy: the dtype of new layers (floatx() unless set)."""
    return _DTYPE_POLICY or DTypePolicy(floatx())


def set_dtype_policy(policy) -> None:
    """Set the dtype of new layers: a float dtype's name or a `DTypePolicy`."""
    global _DTYPE_POLICY
    if isinstance(policy, DTypePolicy):
        _DTYPE_POLICY = policy
    elif isinstance(policy, str):
        _DTYPE_POLICY = DTypePolicy(policy)
    else:
        raise ValueError(
            "Invalid `policy` argument. Expected the string name of a policy (such as "
            "'mixed_float16') or a `DTypePolicy` instance. Received: "
            f"policy={policy} (of type {type(policy)})"
        )


_MAX_EPOCHS = None
_MAX_STEPS_PER_EPOCH = None


def max_epochs():
    """A cap on the epochs of every `fit` (None: no cap), for quick debugging runs."""
    return _MAX_EPOCHS


def set_max_epochs(max_epochs) -> None:
    """Cap the epochs of every `fit` (with a warning when it applies); None removes the cap."""
    global _MAX_EPOCHS
    _MAX_EPOCHS = max_epochs


def max_steps_per_epoch():
    """A cap on the batches of every epoch (None: no cap)."""
    return _MAX_STEPS_PER_EPOCH


def set_max_steps_per_epoch(max_steps_per_epoch) -> None:
    """Cap the batches of every epoch of fit, evaluate and predict (with a warning); None
    removes the cap."""
    global _MAX_STEPS_PER_EPOCH
    _MAX_STEPS_PER_EPOCH = max_steps_per_epoch


_INTERACTIVE_LOGGING = True


def is_interactive_logging_enabled() -> bool:
    """Whether progress bars and messages go to stdout (True) or to the `logging` module."""
    return _INTERACTIVE_LOGGING


def enable_interactive_logging() -> None:
    global _INTERACTIVE_LOGGING
    _INTERACTIVE_LOGGING = True


def disable_interactive_logging() -> None:
    """Send progress messages to `logging` (logger "minikeras", level INFO) instead of stdout."""
    global _INTERACTIVE_LOGGING
    _INTERACTIVE_LOGGING = False


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


# Keras's global flash-attention switch: None (never set) until enabled or disabled. minikeras
# computes attention one way; the switch only brings Keras's checks (no dropout, no scores).
_FLASH_ATTENTION = None


def enable_flash_attention() -> None:
    global _FLASH_ATTENTION
    _FLASH_ATTENTION = True


def disable_flash_attention() -> None:
    global _FLASH_ATTENTION
    _FLASH_ATTENTION = False


def is_flash_attention_enabled():
    """True or False once set, None before (as Keras answers)."""
    return _FLASH_ATTENTION


def set_kernels(name: str) -> None:
    """Choose the kernel set every layer and optimizer calls: "numba" (default) or "numpy"."""
    _kernels.use(name)


def kernels() -> str:
    """The name of the kernel set in use ("numba" or "numpy")."""
    return _kernels.current()


def dtype():
    """`floatx()` as a NumPy dtype."""
    return np.dtype(_FLOATX)


# NumPy knows these types once ml_dtypes is imported (as Keras has them)
ML_DTYPES = ("bfloat16", "float8_e4m3fn", "float8_e5m2")


def learn_ml_dtypes(name):
    """Import ml_dtypes when `name` is one of its types (ML_DTYPES), so that NumPy knows it.
    Imported on first use, not with minikeras: it costs ~2 MB resident (the tutorial run's
    peak 157.1 → 155.0 MB), for types few runs ask for."""
    if isinstance(name, str) and name in ML_DTYPES and "ml_dtypes" not in sys.modules:
        try:
            import ml_dtypes  # noqa: F401
        except ImportError:  # without it those names stay unknown to NumPy
            pass


def numpy_dtype(dtype):
    """np.dtype(dtype), ml_dtypes's names included (`learn_ml_dtypes`). A TensorFlow or torch
    dtype (`tf.int32`, `torch.float32`) is read by its name, as Keras's `standardize_dtype`
    reads them: keras.io's scripts write `Input(shape, dtype=tf.int32)`."""
    if not isinstance(dtype, (str, type, np.dtype)) and dtype is not None:
        name = getattr(dtype, "name", None)
        if isinstance(name, str):
            dtype = name
        elif str(dtype).startswith("torch."):
            dtype = str(dtype).split(".")[-1]
    learn_ml_dtypes(dtype)
    return np.dtype(dtype)
