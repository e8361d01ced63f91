"""The comparisons, component by component, of a minikeras model and its Keras twin.

    forward     predict, and each layer's output
    loss        the loss on plain arrays (clipped probabilities), from logits, with label
                smoothing, and its gradient with respect to y_pred
    gradients   the loss as fit computes it (a softmax's or sigmoid's logits) and dL/dw for every
                weight: Keras's from tf.GradientTape, minikeras's from its manual backward
    optimizer   one step and k steps on the same gradients: weights, every slot variable (in
                Keras's order), the iteration counter
    fit         a whole fit(shuffle=False): History (val_* too), final weights, then evaluate
                and predict

`run_case(case)` runs the components a Case asks for and returns the report rows.
"""

import time
import warnings

import numpy as np

from minikeras import optimizers as optimizers_module
from minikeras import testing
from minikeras.parity import cases as cases_module
from minikeras.parity import conditioning
from minikeras.parity.compare import Row, check, compare, compare_within, tolerance
from minikeras.parity.keras_env import floatx, import_keras
from minikeras.parity.twin import keras_loss, keras_optimizer, keras_twin


def run_case(case, components=None) -> list:
    """Build the case in minikeras and in Keras and compare the chosen components."""
    import minikeras

    keras = import_keras()
    rows = []
    with floatx(case.dtype), warnings.catch_warnings():
        # the cases are odd on purpose (a softmax over one unit, from_logits after a softmax):
        # Keras's warnings about them say nothing about the comparison
        warnings.simplefilter("ignore", UserWarning)
        minikeras.utils.clear_session()
        model, data = cases_module.build(case)
        twin = keras_twin(model)
        for component in components or case.components:
            started = time.perf_counter()
            try:
                new = CHECKS[component](case, model, twin, data, keras)
            except Exception as error:  # a crash is a failed row, not the end of the report
                new = [
                    Row(
                        case.name,
                        component,
                        float("inf"),
                        float("inf"),
                        tolerance(case.dtype),
                        False,
                        f"{type(error).__name__}: {error}",
                    )
                ]
            seconds = time.perf_counter() - started
            for row in new:
                row.seconds = seconds / len(new)
            rows.extend(new)
    return rows


# ----------------------------------------------------------------------------- forward
def check_forward(case, model, twin, data, keras):
    """predict, then each layer's output (the layers called one after the other)."""
    x = data["x"]
    tol = tolerance(case.dtype)
    rows = [
        compare(
            case.name,
            "predict",
            model.predict(x, batch_size=case.batch_size, verbose=0),
            twin.predict(x, batch_size=case.batch_size, verbose=0),
            tol,
        )
    ]
    if case.graph:  # a graph's layers are not a chain: predict says it all
        return rows
    ours, theirs = x, keras.ops.convert_to_tensor(x)
    for layer, klayer in zip(model.layers, twin.layers):
        ours = layer.forward(ours, training=False)
        theirs = klayer(theirs, training=False)
        rows.append(compare(case.name, f"output {layer.name}", ours, np.asarray(theirs), tol))
    return rows


# ----------------------------------------------------------------------------- loss
def check_loss(case, model, twin, data, keras):
    """The loss on plain arrays as both libraries compute it outside fit, and its gradient
    with respect to its input; for crossentropies also from the output layer's logits
    (from_logits=True) and with label smoothing."""
    x, y, sw = data["x"], data["y"], data["sample_weight"]
    y_pred = model.predict(x, batch_size=case.batch_size, verbose=0)
    loss = model.output_specs[0].loss
    name = case.loss
    crossentropy = name in cases_module.CROSSENTROPIES
    what = "clipped probabilities" if crossentropy and not loss.from_logits else "arrays"
    rows = _loss_rows(case, f"on {what}", loss, y, y_pred, sw, keras)
    if crossentropy:
        model.forward(x, training=False)
        logits = np.array(model.layers[-1].logits).reshape(y_pred.shape)
        variant = type(loss).from_config({**loss.get_config(), "from_logits": True})
        rows += _loss_rows(case, "from_logits=True", variant, y, logits, sw, keras)
        if "label_smoothing" in loss.get_config():
            variant = type(loss).from_config({**loss.get_config(), "label_smoothing": 0.2})
            rows += _loss_rows(case, "label_smoothing=0.2", variant, y, y_pred, sw, keras)
    return rows


def _loss_rows(case, label, loss, y, y_pred, sample_weight, keras):
    """Value and gradient of `loss` at (y, y_pred) in minikeras and in Keras."""
    import tensorflow as tf

    tol = tolerance(case.dtype)
    kloss = keras_loss(loss)
    ours_value = loss(y, y_pred, sample_weight)
    ours_value_grad, ours_grad = loss.value_and_grad(
        _labels_like_fit(loss, y, y_pred), y_pred, sample_weight
    )
    inputs = tf.Variable(y_pred)
    with tf.GradientTape() as tape:
        theirs = kloss(y, inputs, sample_weight=sample_weight)
    theirs_grad = tape.gradient(theirs, inputs)
    return [
        compare(case.name, f"loss {label}", ours_value, np.asarray(theirs), tol),
        compare(
            case.name, f"loss {label} (value_and_grad)", ours_value_grad, np.asarray(theirs), tol
        ),
        compare(case.name, f"dloss/dy_pred {label}", ours_grad, np.asarray(theirs_grad), tol),
    ]


def _sparse(loss):
    return type(loss).__name__ == "SparseCategoricalCrossentropy"


def _labels_like_fit(loss, y, y_pred):
    """The labels as `fit` hands them to the loss (binary labels (N,) become (N, 1))."""
    y = np.asarray(y, dtype=y_pred.dtype)
    if not _sparse(loss) and y.ndim == y_pred.ndim - 1:
        y = y[..., None]
    return y


# ----------------------------------------------------------------------------- gradients
def check_gradients(case, model, twin, data, keras):
    """The first training batch: the loss as fit computes it, and dL/dw for every weight."""
    import tensorflow as tf

    n = min(case.batch_size, _train_size(case))
    x, y = _rows(data["x"], slice(n)), data["y"][:n]
    sw = None if data["sample_weight"] is None else data["sample_weight"][:n]
    ours_loss, ours_grads = testing.loss_and_gradients(model, x, y, sw)
    with tf.GradientTape() as tape:
        y_pred = twin(x, training=True)
        theirs_loss = twin.compute_loss(x=x, y=y, y_pred=y_pred, sample_weight=sw, training=True)
    theirs_grads = tape.gradient(theirs_loss, twin.trainable_weights)
    tol = tolerance(case.dtype)
    rows = [
        compare(case.name, "loss (as fit computes it)", ours_loss, np.asarray(theirs_loss), tol)
    ]
    for label, ours, theirs in zip(testing.weight_labels(model), ours_grads, theirs_grads):
        rows.append(compare(case.name, f"gradient {label}", ours, np.asarray(theirs), tol))
    return rows


# ----------------------------------------------------------------------------- optimizer
def check_optimizer(case, model, twin, data, keras):
    """The same gradients given to a fresh minikeras optimizer and a fresh Keras one, for
    `case.optimizer_steps` steps: the weights after step 1 and after step k, every optimizer
    variable (iterations, learning rate, slots) in Keras's order, by name."""
    import tensorflow as tf

    ours_opt = optimizers_module.get(
        {"class_name": type(model.optimizer).__name__, "config": model.optimizer.get_config()}
    )
    theirs_opt = keras_optimizer(model.optimizer)
    ours_vars = [np.array(w) for w in model.trainable_weights]
    theirs_vars = [keras.Variable(w, name=f"w{i}") for i, w in enumerate(ours_vars)]
    labels = testing.weight_labels(model)
    rng = np.random.default_rng(case.seed + 1)
    k = case.optimizer_steps
    rows = []
    for step in range(1, k + 1):
        # gradients of random sign and magnitudes across decades (Adam's ε matters at 1e-4)
        grads = [
            (rng.normal(size=w.shape) * 10.0 ** rng.uniform(-4, 0)).astype(w.dtype)
            for w in ours_vars
        ]
        ours_opt.apply([g.copy() for g in grads], ours_vars)
        theirs_opt.apply([tf.constant(g) for g in grads], theirs_vars)
        if step in (1, k):
            tol = tolerance(case.dtype, steps=step)
            for label, ours, theirs in zip(labels, ours_vars, theirs_vars):
                rows.append(
                    compare(case.name, f"step {step}/{k} {label}", ours, theirs.numpy(), tol)
                )
    rows += _optimizer_variable_rows(case, ours_opt, theirs_opt, labels, k)
    return rows


def _optimizer_variable_rows(case, ours_opt, theirs_opt, labels, steps):
    """Keras's optimizer.variables against minikeras's, position by position: the same order,
    names and values (iterations exact)."""
    ours = ours_opt.variables
    theirs = theirs_opt.variables
    rows = [
        check(
            case.name,
            "optimizer variable count",
            len(ours) == len(theirs),
            f"minikeras {len(ours)}, Keras {len(theirs)}",
        )
    ]
    if len(ours) != len(theirs):
        return rows
    rows.append(
        check(
            case.name,
            "iterations",
            int(ours[0]) == int(theirs[0].numpy()) == steps,
            f"minikeras {int(ours[0])}, Keras {int(theirs[0].numpy())}",
        )
    )
    rows.append(
        compare(
            case.name,
            "learning_rate variable",
            ours[1],
            theirs[1].numpy(),
            tolerance(case.dtype),
        )
    )
    slot_names = sorted(ours_opt.slot_names, key=len, reverse=True)  # velocity_hat first
    tol = tolerance(case.dtype, steps=steps)
    for ours_value, variable in zip(ours[2:], theirs[2:]):
        name = variable.name
        slot = next((s for s in slot_names if name.endswith(s)), "?")
        index = int(name.split("_", 1)[0][1:]) if name.startswith("w") else -1
        label = labels[index] if 0 <= index < len(labels) else name
        rows.append(compare(case.name, f"slot {slot} {label}", ours_value, variable.numpy(), tol))
    return rows


# ----------------------------------------------------------------------------- fit
def _rows(x, which):
    """x[which], for one array or a list of them (a model with several inputs)."""
    return [a[which] for a in x] if isinstance(x, list) else x[which]


def _train_size(case):
    if case.validation_split:
        return int(np.floor(case.n * (1.0 - case.validation_split)))
    return case.n


def check_fit(case, model, twin, data, keras):
    """fit(shuffle=False) in both, from the same weights: History (val_* too), the weights after
    training, the iteration count; then evaluate and predict, both on Keras's final weights
    (how far the weights themselves may drift is checked in the weights rows)."""
    x, y, sw = data["x"], data["y"], data["sample_weight"]
    kwargs = {
        "batch_size": case.batch_size,
        "epochs": case.epochs,
        "shuffle": False,
        "verbose": 0,
        "sample_weight": sw,
        "validation_split": case.validation_split,
        "validation_data": data["validation_data"],
    }
    n_train = _train_size(case)
    val_x = _rows(x, slice(n_train, None)) if case.validation_split else None
    if data["validation_data"] is not None:
        val_x = data["validation_data"][0]
    shadow = conditioning.shadow_model(case)
    total = -(-n_train // case.batch_size) * case.epochs
    tol = tolerance(case.dtype, steps=total)
    # the observers of near-ties (parity/conditioning.py) follow one input; a graph's case is
    # chosen well conditioned and goes without them (no excuses, zero drift bounds)
    kind = None if case.graph else conditioning.accuracy_kind(model)
    observers = ([], [])
    if not case.graph:
        observers = (
            [conditioning.FitObserver(case.dtype, x[:n_train], case.batch_size, val_x)],
            [conditioning.keras_fit_observer(keras, x[:n_train], case.batch_size, val_x)],
        )
    ours = model.fit(x, y, callbacks=observers[0], **kwargs).history
    theirs = twin.fit(x, y, callbacks=observers[1], **kwargs).history
    shadow_history = shadow.fit(x, y, **kwargs).history
    allowances = {}
    if kind is not None:
        allowances = conditioning.history_allowances(kind, *observers[0], *observers[1], tol)
    bounds = observers[0][0].bounds if observers[0] else [0.0] * len(model.trainable_weights)
    rows = [
        check(
            case.name,
            "History keys",
            sorted(ours) == sorted(theirs),
            f"minikeras {sorted(ours)}, Keras {sorted(theirs)}",
        )
    ]
    for key in sorted(set(ours) & set(theirs)):
        allowance = allowances.get(
            key.replace(model._compile_config["metrics"][0], "accuracy"), 0.0
        )
        key_tol, note = conditioning.shadow_tolerance(tol, ours[key], shadow_history.get(key))
        if np.any(allowance):
            note = "excused: outputs within rounding of a decision boundary"
        rows.append(
            compare_within(
                case.name, f"History {key}", ours[key], theirs[key], key_tol, allowance, note
            )
        )
    labels = testing.weight_labels(model)
    for label, w, v, bound, s in zip(
        labels,
        model.trainable_weights,
        twin.trainable_weights,
        bounds,
        shadow.trainable_weights,
    ):
        w_tol, note = conditioning.shadow_tolerance(tol, w, s)
        note = note or "tolerance + drift bound of the steps (parity/conditioning.py)"
        rows.append(
            compare_within(
                case.name, f"weights after fit {label}", w, v.numpy(), w_tol, bound, note
            )
        )
    keras_iterations = int(twin.optimizer.iterations.numpy())
    rows.append(
        check(
            case.name,
            "optimizer iterations after fit",
            model.optimizer.iterations == keras_iterations == total,
            f"minikeras {model.optimizer.iterations}, Keras {keras_iterations}, expected {total}",
        )
    )
    # evaluate and predict on the same (Keras's final) weights
    model.set_weights(twin.get_weights())
    pass_tol = tolerance(case.dtype)
    ours_pred = model.predict(x, batch_size=case.batch_size, verbose=0)
    theirs_pred = twin.predict(x, batch_size=case.batch_size, verbose=0)
    rows.append(compare(case.name, "predict after fit", ours_pred, theirs_pred, pass_tol))
    evaluate = {"batch_size": case.batch_size, "verbose": 0, "return_dict": True}
    ours_eval = model.evaluate(x, y, sample_weight=sw, **evaluate)
    theirs_eval = twin.evaluate(x, y, sample_weight=sw, **evaluate)
    for key in sorted(theirs_eval):
        allowance, note = 0.0, ""
        if kind is not None and key != "loss":
            n = len(y)
            allowance = conditioning.excused_flips(kind, ours_pred, theirs_pred, pass_tol) / n
            note = "excused: outputs within rounding of a decision boundary" if allowance else ""
        rows.append(
            compare_within(
                case.name,
                f"evaluate {key}",
                ours_eval.get(key, np.nan),
                theirs_eval[key],
                pass_tol,
                allowance,
                note,
            )
        )
    return rows


CHECKS = {
    "forward": check_forward,
    "loss": check_loss,
    "gradients": check_gradients,
    "optimizer": check_optimizer,
    "fit": check_fit,
}
