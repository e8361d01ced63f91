"""Keras's `keras.src.utils.backend_utils`, as far as minikeras has a use for it: minikeras
has one backend (NumPy), so there is no TensorFlow graph to detect or convert for."""

from minikeras import ops


def in_tf_graph():
    """Whether the code runs inside a TensorFlow graph (a `tf.data` map): never, for the
    minikeras core (minikeras/parity/tf_data.py runs the layers eagerly)."""
    return False


def convert_tf_tensor(outputs, dtype=None):
    """`outputs` as the backend's tensor (a NumPy array), as Keras converts a value for a
    backend other than TensorFlow."""
    return ops.convert_to_tensor(outputs, dtype=dtype)
