"""Keras's `keras.dtype_policies`: `DTypePolicy`, and `get`, `serialize`, `deserialize`.

>>> from minikeras import dtype_policies
>>> dtype_policies.get("float64")
<DTypePolicy "float64">
>>> dtype_policies.serialize(dtype_policies.DTypePolicy("float32"))["config"]
{'name': 'float32'}
"""

from minikeras.dtype_policies import dtype_policy
from minikeras.dtype_policies.dtype_policy import DTypePolicy, FloatDTypePolicy


def serialize(policy):
    """The policy's config as Keras saves it: {"module": "keras", "class_name": ...}."""
    return {
        "module": "keras",
        "class_name": "DTypePolicy",
        "config": policy.get_config(),
        "registered_name": None,
    }


def deserialize(config, custom_objects=None):
    """A DTypePolicy from `serialize`'s dict (or Keras's)."""
    if config.get("class_name") not in ("DTypePolicy", "FloatDTypePolicy"):
        raise ValueError(
            "minikeras knows the dtype policies DTypePolicy and FloatDTypePolicy only. "
            f"Received: class_name={config.get('class_name')!r}"
        )
    return DTypePolicy.from_config(config["config"])


def get(identifier):
    """A DTypePolicy from None (the global policy), a name, a config dict or a policy."""
    if identifier is None:
        return dtype_policy.dtype_policy()
    if isinstance(identifier, DTypePolicy):
        return identifier
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, str):
        return DTypePolicy(identifier)
    raise ValueError(
        "Cannot interpret `dtype` argument. Expected a string or an instance of DTypePolicy. "
        f"Received: dtype={identifier}"
    )


__all__ = ["DTypePolicy", "FloatDTypePolicy", "deserialize", "dtype_policy", "get", "serialize"]
