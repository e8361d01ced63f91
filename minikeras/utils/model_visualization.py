"""`plot_model`: Keras draws a model's graph with pydot and Graphviz. minikeras does not draw
it; it checks what Keras checks first and answers as Keras does where they are missing (an
ImportError, or, in a notebook, the message printed and nothing drawn), so a guide's
`plot_model` cell behaves the same. `model.summary()` shows the same layers as text."""

import sys

PYDOT_MISSING = "You must install pydot (`pip install pydot`) for `plot_model` to work."


def plot_model(
    model,
    to_file="model.png",
    show_shapes=False,
    show_dtype=False,
    show_layer_names=False,
    rankdir="TB",
    expand_nested=False,
    dpi=200,
    show_layer_activations=False,
    show_trainable=False,
    splines="ortho",
    **kwargs,
):
    """Keras's checks, in its order: the model is built, pydot can be imported."""
    if not model.built:
        raise ValueError(
            "This model has not yet been built. Build the model first by calling `build()` or "
            "by calling the model on a batch of data."
        )
    try:
        import pydot  # noqa: F401  (only whether it can be imported)
    except ImportError:
        if "IPython.core.magics.namespace" in sys.modules:
            # as Keras: in a notebook the message is printed, so the cell still runs
            print(PYDOT_MISSING)
            return None
        raise ImportError(PYDOT_MISSING) from None
    raise NotImplementedError(
        "minikeras does not draw models; `model.summary()` lists the same layers and shapes."
    )
