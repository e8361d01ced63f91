"""Importing real Keras for the comparisons: TensorFlow backend, quiet, and only when asked.

Nothing in minikeras imports Keras at start-up; the parity code calls `import_keras()` inside its
functions, so `import minikeras` stays light.
"""

import contextlib
import importlib.util
import os
import sys
import tempfile

INSTALL_HINT = (
    "The parity checks compare minikeras with real Keras (TensorFlow backend), which is not "
    "installed here. Install it with:\n\n    pip install 'minikeras[parity]'\n"
)


class KerasUnavailable(ImportError):
    """Keras (or TensorFlow) cannot be imported; the message says how to install it."""


def keras_installed() -> bool:
    """Whether keras and tensorflow can be found, without importing them."""
    try:
        return all(importlib.util.find_spec(name) is not None for name in ("keras", "tensorflow"))
    except (ImportError, ValueError):  # e.g. sys.modules["keras"] = None: blocked on purpose
        return False


def import_keras():
    """`keras`, imported with the TensorFlow backend and TensorFlow's C++ logging silenced.

    Raises KerasUnavailable (with the install command) when it cannot be imported, and
    RuntimeError when Keras was already imported with another backend.
    """
    if sys.modules.get("keras") is None:
        if not keras_installed():
            raise KerasUnavailable(INSTALL_HINT)
        os.environ["KERAS_BACKEND"] = "tensorflow"
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
        try:
            with _quiet_stderr():
                import keras
                import tensorflow as tf

                tf.get_logger().setLevel("ERROR")
        except ImportError as error:
            raise KerasUnavailable(f"{INSTALL_HINT}\n(import failed: {error})") from error
    import keras

    if keras.backend.backend() != "tensorflow":
        raise RuntimeError(
            f"Keras was imported with the {keras.backend.backend()!r} backend; the parity checks "
            "need TensorFlow. Set KERAS_BACKEND=tensorflow before anything imports keras."
        )
    return keras


@contextlib.contextmanager
def _quiet_stderr():
    """Hide what TensorFlow's C++ start-up writes to file descriptor 2 (oneDNN and absl notices
    printed before TF_CPP_MIN_LOG_LEVEL takes effect); show it again if the import fails."""
    try:
        fd = sys.stderr.fileno()
    except (AttributeError, OSError, ValueError):  # stderr replaced (pytest capture, notebooks)
        yield
        return
    sys.stderr.flush()
    saved = os.dup(fd)
    with tempfile.TemporaryFile(mode="w+b") as sink:
        os.dup2(sink.fileno(), fd)
        try:
            yield
        except BaseException:
            os.dup2(saved, fd)
            sink.seek(0)
            sys.stderr.write(sink.read().decode(errors="replace"))
            raise
        finally:
            os.dup2(saved, fd)
            os.close(saved)


@contextlib.contextmanager
def floatx(dtype: str):
    """Set minikeras's and Keras's float type together (e.g. 'float64'); restore both after."""
    from minikeras import config

    keras = import_keras()
    before = config.floatx(), keras.config.floatx(), keras.config.dtype_policy()
    config.set_floatx(dtype)
    keras.config.set_floatx(dtype)
    # Keras keeps a global dtype policy, made from floatx when first needed: set it too, or
    # a policy left by earlier code keeps Keras's layers computing in the old type
    keras.config.set_dtype_policy(dtype)
    try:
        yield
    finally:
        config.set_floatx(before[0])
        keras.config.set_floatx(before[1])
        keras.config.set_dtype_policy(before[2])
