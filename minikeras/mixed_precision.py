"""Keras's `keras.mixed_precision` names for the dtype policy.

minikeras computes in one precision, so a policy is one float dtype ("float32", "float64",
...): `set_global_policy("mixed_float16")` raises NotImplementedError saying so, where Keras
would keep float32 weights and compute in float16.

>>> from minikeras import mixed_precision
>>> mixed_precision.global_policy()
<DTypePolicy "float32">
"""

from minikeras.config import DTypePolicy, dtype_policy, set_dtype_policy
from minikeras.optimizers import LossScaleOptimizer

Policy = DTypePolicy  # Keras 2's name, kept by Keras 3
global_policy = dtype_policy
set_global_policy = set_dtype_policy

__all__ = [
    "DTypePolicy",
    "LossScaleOptimizer",
    "Policy",
    "dtype_policy",
    "global_policy",
    "set_dtype_policy",
    "set_global_policy",
]
