"""Ops called on symbolic tensors (the Functional API): `ops.exp(Input(shape=(3,)))`.

A placeholder: calling an op on a KerasTensor is not supported yet.
"""


def call_op_symbolic(name, forward, args, static):
    """Record the op `name` on symbolic tensors (not supported yet)."""
    raise NotImplementedError(
        f"minikeras.ops.{name} cannot be called on a symbolic KerasTensor (the Functional API) yet"
    )
