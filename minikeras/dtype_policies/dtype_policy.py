"""The dtype policy of layers (Keras's `keras.src.dtype_policies.dtype_policy`): one dtype for
weights and computations alike, since minikeras has no mixed precision (see `config`)."""

from minikeras.config import DTypePolicy, dtype_policy, set_dtype_policy

# Keras 3 names the float policies FloatDTypePolicy too (its older spelling)
FloatDTypePolicy = DTypePolicy

__all__ = ["DTypePolicy", "FloatDTypePolicy", "dtype_policy", "set_dtype_policy"]
