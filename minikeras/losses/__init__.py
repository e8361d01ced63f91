"""Losses: each computes its value and its gradient with respect to the model's output.

A loss object is called like Keras's, on plain arrays: `loss(y_true, y_pred, sample_weight=None)`
returns the reduced value (Σ wᵢ·lossᵢ / N for the default reduction 'sum_over_batch_size').

For training, `value_and_grad(y_true, y_pred, sample_weight)` returns that value and
dL/dy_pred. Crossentropies can also start from the logits z of the softmax or sigmoid that made
y_pred (`value_and_grad_from_logits`): that is what Keras does inside `fit`/`evaluate`
(no clipping, gradient (p − y)/N), and the model does the same when its output layer's activation
is a softmax or a sigmoid, whichever crossentropy follows, as Keras (`LOGITS_ACTIVATIONS` in
models/model.py).

The files, by Keras's grouping: `loss.py` (the base class and the reduction), `crossentropy.py`,
`focal.py`, `probabilistic.py` (KL divergence, Poisson), `regression.py` (MSE, MAE, MAPE, MSLE,
Huber, log-cosh, cosine similarity), `hinge.py`, `overlap.py` (Dice, Tversky), `circle.py`,
`generalized_crossentropy.py`, `ctc.py`.

>>> import numpy as np
>>> from minikeras import losses
>>> y = np.eye(3)
>>> p = np.array([[.9, .05, .05], [.5, .89, .6], [.05, .01, .94]])
>>> round(float(losses.CategoricalCrossentropy()(y, p)), 3)
0.324
"""

from minikeras.losses.circle import Circle, circle
from minikeras.losses.crossentropy import (
    BinaryCrossentropy,
    CategoricalCrossentropy,
    SparseCategoricalCrossentropy,
    binary_crossentropy,
    categorical_crossentropy,
    sparse_categorical_crossentropy,
)
from minikeras.losses.ctc import CTC, ctc
from minikeras.losses.focal import (
    BinaryFocalCrossentropy,
    CategoricalFocalCrossentropy,
    binary_focal_crossentropy,
    categorical_focal_crossentropy,
)
from minikeras.losses.generalized_crossentropy import (
    CategoricalGeneralizedCrossEntropy,
    categorical_generalized_cross_entropy,
)
from minikeras.losses.hinge import (
    CategoricalHinge,
    Hinge,
    SquaredHinge,
    categorical_hinge,
    hinge,
    squared_hinge,
)
from minikeras.losses.loss import (
    REDUCTIONS,
    Loss,
    LossFunctionWrapper,
    check_same_shape,
    same_rank,
)
from minikeras.losses.overlap import Dice, Tversky, dice, tversky
from minikeras.losses.probabilistic import KLDivergence, Poisson, kl_divergence, poisson
from minikeras.losses.regression import (
    CosineSimilarity,
    Huber,
    LogCosh,
    MeanAbsoluteError,
    MeanAbsolutePercentageError,
    MeanSquaredError,
    MeanSquaredLogarithmicError,
    cosine_similarity,
    huber,
    log_cosh,
    mean_absolute_error,
    mean_absolute_percentage_error,
    mean_squared_error,
    mean_squared_logarithmic_error,
)

mse = MSE = mean_squared_error
mae = MAE = mean_absolute_error

# Keras's loss functions, each with the class that computes it (and its gradient)
_BY_FUNCTION = {
    mean_squared_error: MeanSquaredError,
    mean_absolute_error: MeanAbsoluteError,
    mean_absolute_percentage_error: MeanAbsolutePercentageError,
    mean_squared_logarithmic_error: MeanSquaredLogarithmicError,
    cosine_similarity: CosineSimilarity,
    huber: Huber,
    log_cosh: LogCosh,
    kl_divergence: KLDivergence,
    poisson: Poisson,
    hinge: Hinge,
    squared_hinge: SquaredHinge,
    categorical_hinge: CategoricalHinge,
    categorical_crossentropy: CategoricalCrossentropy,
    sparse_categorical_crossentropy: SparseCategoricalCrossentropy,
    binary_crossentropy: BinaryCrossentropy,
    binary_focal_crossentropy: BinaryFocalCrossentropy,
    categorical_focal_crossentropy: CategoricalFocalCrossentropy,
    dice: Dice,
    tversky: Tversky,
    circle: Circle,
    categorical_generalized_cross_entropy: CategoricalGeneralizedCrossEntropy,
    ctc: CTC,
}
_BY_CLASS_NAME = {cls.__name__: cls for cls in _BY_FUNCTION.values()}

# The names `keras.losses.get` understands (its ALL_OBJECTS_DICT): the function names and their
# short forms give the function, the class names the class
ALIASES = {
    "bce": binary_crossentropy,
    "BCE": binary_crossentropy,
    "kld": kl_divergence,
    "KLD": kl_divergence,
    "mae": mean_absolute_error,
    "MAE": mean_absolute_error,
    "mse": mean_squared_error,
    "MSE": mean_squared_error,
    "mape": mean_absolute_percentage_error,
    "MAPE": mean_absolute_percentage_error,
    "msle": mean_squared_logarithmic_error,
    "MSLE": mean_squared_logarithmic_error,
}
ALL_OBJECTS_DICT = {
    **{function.__name__: function for function in _BY_FUNCTION},
    **_BY_CLASS_NAME,
    **ALIASES,
}
# every name, with the class that computes it (and its gradient)
ALL_LOSSES = {name: _BY_FUNCTION.get(found, found) for name, found in ALL_OBJECTS_DICT.items()}

# `compile(loss="crossentropy")` (or "ce", any case) picks the crossentropy from the data
DATA_DEPENDENT = ("crossentropy", "ce")


def chosen_from_data(identifier):
    """True for 'crossentropy' and 'ce' (any case): names `resolve` turns into a loss once the
    labels' and the output's shapes are known, as Keras's `compile` does."""
    return isinstance(identifier, str) and identifier.lower() in DATA_DEPENDENT


def get(identifier):
    """Keras's `losses.get`: None for None; for a name, what Keras gives: the function for a
    function's name or short form ('mse' → `mean_squared_error`), an instance for a class name;
    a config dict → its Loss; a class → an instance; a function or Loss → itself. Unknown names
    raise ValueError listing the valid ones. (`to_loss` gives a Loss object for any of these,
    which is what training uses: it knows its gradient.)"""
    if identifier is None:
        return None
    if isinstance(identifier, str):
        found = ALL_OBJECTS_DICT.get(identifier)
        if found is None:
            hint = ""
            if chosen_from_data(identifier):
                hint = " ('crossentropy' is chosen from the data: see `losses.resolve`)"
            raise ValueError(
                f"Could not interpret loss identifier: {identifier!r}{hint}. "
                f"Expected one of {sorted(ALL_OBJECTS_DICT)}."
            )
        return found() if isinstance(found, type) else found
    if isinstance(identifier, dict) and "class_name" in identifier:
        cls = _BY_CLASS_NAME.get(identifier["class_name"])
        if cls is None:
            raise ValueError(f"Could not interpret loss identifier: {identifier['class_name']!r}")
        return cls.from_config(identifier.get("config", {}))
    if isinstance(identifier, type) and issubclass(identifier, Loss):
        return identifier()
    if callable(identifier):
        return identifier
    raise ValueError(
        f"Could not interpret loss identifier: {identifier!r}. Pass a loss's name, a "
        "`minikeras.losses.Loss`, or a function of (y_true, y_pred) written with ops."
    )


def to_loss(identifier):
    """A Loss object for anything `get` takes: Keras's loss functions become the class that
    computes them (which knows its gradient), your own function a LossFunctionWrapper (its
    gradient from the tape)."""
    found = get(identifier)
    if found is None or isinstance(found, Loss):
        return found
    if found in _BY_FUNCTION:
        return _BY_FUNCTION[found]()
    return LossFunctionWrapper(found)


def resolve(identifier, y_shape, output_shape):
    """The Loss for `identifier` given the labels' and the output's shapes: 'crossentropy' or
    'ce' (any case) become, as in Keras's `compile` (`get_loss` in
    keras/src/trainers/compile_utils.py), binary crossentropy when the output has one column,
    sparse categorical when the labels have a lower rank than the output or one column against
    several, else categorical. Any other identifier goes to `get`."""
    if not chosen_from_data(identifier):
        return to_loss(identifier)
    if output_shape[-1] == 1:
        return BinaryCrossentropy()
    if len(y_shape) < len(output_shape) or (y_shape[-1] == 1 and output_shape[-1] > 1):
        return SparseCategoricalCrossentropy()
    return CategoricalCrossentropy()


def serialize(loss):
    return {
        "module": "keras.losses",
        "class_name": type(loss).__name__,
        "config": loss.get_config(),
        "registered_name": None,
    }


def deserialize(config, custom_objects=None):
    """A Loss from `serialize`'s dict (or a name), as `keras.losses.deserialize`."""
    if isinstance(config, dict) and custom_objects and config.get("class_name") in custom_objects:
        return custom_objects[config["class_name"]].from_config(config.get("config", {}))
    return get(config)


__all__ = [
    "LossFunctionWrapper",
    "Loss",
    "REDUCTIONS",
    "same_rank",
    "check_same_shape",
    "get",
    "to_loss",
    "resolve",
    "chosen_from_data",
    "serialize",
    "deserialize",
    *_BY_CLASS_NAME,
    *(function.__name__ for function in _BY_FUNCTION),
    "mse",
    "MSE",
    "mae",
    "MAE",
]
