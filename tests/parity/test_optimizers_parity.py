"""Every optimizer and every option against Keras 3, on the same weights and gradients.

Tolerances, derived:
- float64: minikeras does Keras's operations in Keras's order and dtype, including the float32
  rounding Keras gives some hyper-parameters (`ops.cast` of a Python float), so the only
  differences left are in reductions summed in another order (Lamb's and Adafactor's norms,
  global_clipnorm) and in pow: measured ≤ 3e-14 relative after 5 steps. Checked at 1e-10
  relative; an element that cancels to near 0 is allowed 1e-10 of its array's largest value.
- float32: the same operations, but TensorFlow's float32 pow, sqrt-of-mean and sums (Eigen, in
  vectorised blocks) can differ from NumPy's and LLVM's by an ulp (6e-8), and a few rules
  cancel: FTRL's n'^(−p) − n^(−p), a weight of Adafactor's that passes near 0. Measured worst
  after 5 steps: 2.5e-5 elementwise on such an element, 2e-6 of the array's scale. Checked at
  1e-5 of each array's largest value (and 1e-5 relative).
- Schedules: ExponentialDecay, InverseTimeDecay, PiecewiseConstantDecay and PolynomialDecay give
  Keras's float32 values exactly over 1000 steps; the cosine schedules differ at 0-5 steps of
  1000 by one float32 ulp, where TensorFlow's float32 cos is not correctly rounded (ours is cos
  in float64, rounded): checked at 2.5e-7 relative (two ulps), and equal elsewhere.
"""

import copy

import numpy as np
import pytest
from optimizer_pairs import run_both

import minikeras as mk
from minikeras.parity.keras_env import floatx

CASES = [
    ("Adagrad", {"learning_rate": 0.1}),
    ("Adagrad", {"learning_rate": 0.1, "initial_accumulator_value": 0.3, "epsilon": 1e-5}),
    ("Adadelta", {"learning_rate": 1.0}),
    ("Adadelta", {"learning_rate": 0.5, "rho": 0.8, "epsilon": 1e-6}),
    ("Adamax", {"learning_rate": 0.01}),
    ("Adamax", {"learning_rate": 0.05, "beta_1": 0.8, "beta_2": 0.95}),
    ("Nadam", {"learning_rate": 0.01}),
    ("Nadam", {"learning_rate": 0.05, "beta_1": 0.5, "beta_2": 0.67, "epsilon": 1e-5}),
    ("AdamW", {"learning_rate": 0.01}),
    ("AdamW", {"learning_rate": 0.05, "weight_decay": 0.1, "amsgrad": True}),
    ("Ftrl", {"learning_rate": 0.1}),
    (
        "Ftrl",
        {
            "learning_rate": 0.1,
            "learning_rate_power": -0.3,
            "l1_regularization_strength": 0.01,
            "l2_regularization_strength": 0.02,
            "l2_shrinkage_regularization_strength": 0.03,
            "beta": 0.1,
        },
    ),
    ("Lion", {"learning_rate": 0.01}),
    ("Lion", {"learning_rate": 0.01, "beta_1": 0.5, "beta_2": 0.9}),
    ("Lamb", {"learning_rate": 0.01}),
    ("Lamb", {"learning_rate": 0.05, "beta_1": 0.8, "beta_2": 0.99, "epsilon": 1e-5}),
    ("Adafactor", {"learning_rate": 0.01}),
    ("Adafactor", {"learning_rate": 0.5, "beta_2_decay": -0.65, "clip_threshold": 0.3}),
    # the options every optimizer takes, each on a few optimizers
    ("SGD", {"learning_rate": 0.1, "momentum": 0.9, "weight_decay": 0.1}),
    ("Lion", {"learning_rate": 0.01, "weight_decay": 0.05}),
    ("Adagrad", {"learning_rate": 0.1, "clipnorm": 0.5}),
    ("Adamax", {"learning_rate": 0.1, "global_clipnorm": 0.5}),
    ("Adadelta", {"learning_rate": 1.0, "clipvalue": 0.2}),
    ("Adam", {"learning_rate": 0.1, "use_ema": True}),
    ("Lamb", {"learning_rate": 0.1, "use_ema": True, "ema_momentum": 0.5}),
    ("Adam", {"learning_rate": 0.1, "use_ema": True, "ema_overwrite_frequency": 2}),
    ("RMSprop", {"learning_rate": 0.01, "gradient_accumulation_steps": 2}),
    ("Adafactor", {"learning_rate": 0.1, "gradient_accumulation_steps": 3}),
    (
        "Nadam",
        {
            "learning_rate": 0.1,
            "gradient_accumulation_steps": 3,
            "use_ema": True,
            "ema_overwrite_frequency": 2,
            "weight_decay": 0.05,
        },
    ),
    # schedules, evaluated by the optimizer at each step (also in the weight decay)
    (
        "SGD",
        {
            "learning_rate": (
                "ExponentialDecay",
                {"initial_learning_rate": 0.1, "decay_steps": 2, "decay_rate": 0.7},
            )
        },
    ),
    (
        "Adagrad",
        {
            "learning_rate": (
                "InverseTimeDecay",
                {
                    "initial_learning_rate": 0.1,
                    "decay_steps": 1,
                    "decay_rate": 0.5,
                    "staircase": True,
                },
            )
        },
    ),
    (
        "Nadam",
        {
            "learning_rate": (
                "PiecewiseConstantDecay",
                {"boundaries": [1, 3], "values": [0.1, 0.05, 0.01]},
            ),
            "weight_decay": 0.1,
        },
    ),
    (
        "Lion",
        {
            "learning_rate": (
                "PolynomialDecay",
                {"initial_learning_rate": 0.1, "decay_steps": 3, "cycle": True},
            )
        },
    ),
    (
        "Adam",
        {
            "learning_rate": (
                "CosineDecay",
                {
                    "initial_learning_rate": 0.1,
                    "decay_steps": 4,
                    "alpha": 0.1,
                    "warmup_target": 0.2,
                    "warmup_steps": 2,
                },
            )
        },
    ),
    (
        "Adamax",
        {
            "learning_rate": (
                "CosineDecayRestarts",
                {"initial_learning_rate": 0.1, "first_decay_steps": 2},
            ),
            "gradient_accumulation_steps": 2,
        },
    ),
]


def _id(case):
    name, kwargs = case
    parts = []
    for key, value in kwargs.items():
        parts.append(f"{key}={value[0] if isinstance(value, tuple) else value}")
    return f"{name}({', '.join(parts)})"


TOLERANCE = {"float64": 1e-10, "float32": 1e-5}


def assert_close(ours, theirs, dtype, what):
    tol = TOLERANCE[dtype]
    assert ours.shape == theirs.shape and ours.dtype == theirs.dtype, what
    scale = float(np.max(np.abs(theirs))) if theirs.size else 0.0
    np.testing.assert_allclose(ours, theirs, rtol=tol, atol=tol * scale, err_msg=what)


# every case in float64; in float32 the optimizers' own rules (the options add no arithmetic
# of their own that float32 would round differently), to keep the suite's time down
STEP_CASES = [pytest.param(c, "float64", id=f"{_id(c)}-float64") for c in CASES] + [
    pytest.param(c, "float32", id=f"{_id(c)}-float32") for c in CASES[:18]
]


@pytest.mark.parametrize("case, dtype", STEP_CASES)
def test_five_steps_every_slot_as_keras(keras, case, dtype):
    name, kwargs = case
    ours_w, theirs_w, ours_v, theirs_v = run_both(keras, name, kwargs, dtype, steps=5)
    for i, (a, b) in enumerate(zip(ours_w, theirs_w, strict=True)):
        assert_close(a, b, dtype, f"weight {i}")
    assert len(ours_v) == len(theirs_v), "optimizer variables: count"
    for i, (a, b) in enumerate(zip(ours_v, theirs_v)):
        assert_close(a, b, dtype, f"optimizer variable {i}")


def test_negative_control_a_wrong_rule_fails(keras):
    """The check can fail: a learning rate off by one part in a million (5e-8 on these weights
    after 5 steps) is far past the float64 tolerance."""
    ours_w, theirs_w, _, _ = run_both(keras, "Adamax", {"learning_rate": 0.01}, "float64")
    other_w, _, _, _ = run_both(keras, "Adamax", {"learning_rate": 0.01 * (1 + 1e-6)}, "float64")
    assert_close(ours_w[0], theirs_w[0], "float64", "same")
    with pytest.raises(AssertionError):
        assert_close(other_w[0], theirs_w[0], "float64", "perturbed")


SCHEDULES = [
    ("ExponentialDecay", {"initial_learning_rate": 0.1, "decay_steps": 7, "decay_rate": 0.9}),
    (
        "ExponentialDecay",
        {"initial_learning_rate": 0.1, "decay_steps": 7, "decay_rate": 0.9, "staircase": True},
    ),
    ("InverseTimeDecay", {"initial_learning_rate": 0.1, "decay_steps": 7, "decay_rate": 0.5}),
    (
        "InverseTimeDecay",
        {"initial_learning_rate": 0.1, "decay_steps": 7, "decay_rate": 0.5, "staircase": True},
    ),
    ("PiecewiseConstantDecay", {"boundaries": [10, 50, 100], "values": [0.1, 0.05, 0.01, 0.001]}),
    (
        "PolynomialDecay",
        {"initial_learning_rate": 0.1, "decay_steps": 37, "end_learning_rate": 0.001, "power": 0.7},
    ),
    (
        "PolynomialDecay",
        {"initial_learning_rate": 0.1, "decay_steps": 37, "power": 2.0, "cycle": True},
    ),
    ("CosineDecay", {"initial_learning_rate": 0.1, "decay_steps": 123, "alpha": 0.1}),
    (
        "CosineDecay",
        {
            "initial_learning_rate": 0.01,
            "decay_steps": 123,
            "warmup_target": 0.2,
            "warmup_steps": 30,
        },
    ),
    ("CosineDecayRestarts", {"initial_learning_rate": 0.1, "first_decay_steps": 13}),
    (
        "CosineDecayRestarts",
        {
            "initial_learning_rate": 0.1,
            "first_decay_steps": 13,
            "t_mul": 1.0,
            "m_mul": 0.8,
            "alpha": 0.05,
        },
    ),
    (
        "CosineDecayRestarts",
        {"initial_learning_rate": 0.1, "first_decay_steps": 13, "t_mul": 1.5, "m_mul": 0.9},
    ),
]


@pytest.mark.parametrize(
    "name, kwargs", SCHEDULES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(SCHEDULES)]
)
def test_schedule_over_many_steps_as_keras(keras, name, kwargs):
    ours = getattr(mk.optimizers.schedules, name)(**kwargs)
    theirs = getattr(keras.optimizers.schedules, name)(**kwargs)
    steps = list(range(150)) + [200, 333, 500, 777, 999]  # Keras evaluated eagerly: ~10 ms each
    step = keras.Variable(0, dtype="int64")  # what the optimizer passes: its int64 counter
    expected = []
    for s in steps:
        step.assign(s)
        expected.append(theirs(step).numpy())
    expected = np.array(expected)
    got = np.array([ours(s) for s in steps])
    assert got.dtype == expected.dtype == np.float32
    if name.startswith("Cosine"):
        assert np.sum(got != expected) <= 5
        np.testing.assert_allclose(got, expected, rtol=2.5e-7, atol=1e-9)
    else:
        np.testing.assert_array_equal(got, expected)
    assert ours.get_config() == theirs.get_config()
    assert mk.optimizers.schedules.serialize(ours) == keras.optimizers.schedules.serialize(theirs)


@pytest.mark.parametrize("case", [c for c in CASES[:18:2]], ids=[c[0] for c in CASES[:18:2]])
def test_config_as_keras(keras, case):
    name, kwargs = case
    ours = getattr(mk.optimizers, name)(**kwargs)
    theirs = getattr(keras.optimizers, name)(**kwargs)
    ours_config, theirs_config = ours.get_config(), theirs.get_config()
    ours_config.pop("name"), theirs_config.pop("name")  # numbered per session on each side
    assert ours_config == theirs_config


def test_config_with_a_schedule_as_keras(keras):
    ours = mk.optimizers.Nadam(
        learning_rate=mk.optimizers.schedules.CosineDecay(0.1, 10, alpha=0.2)
    )
    theirs = keras.optimizers.Nadam(
        learning_rate=keras.optimizers.schedules.CosineDecay(0.1, 10, alpha=0.2)
    )
    ours_config, theirs_config = ours.get_config(), theirs.get_config()
    ours_config.pop("name"), theirs_config.pop("name")
    assert ours_config == theirs_config
    rebuilt = keras.optimizers.deserialize(mk.optimizers.serialize(ours))
    assert type(rebuilt._learning_rate).__name__ == "CosineDecay"


# ------------------------------------------------------------------- whole fit runs
def _model_and_twin(keras, optimizer_config, dtype):
    """A small Dense model in minikeras and its Keras twin (same config, weights, optimizer)."""
    mk.utils.set_random_seed(5)
    model = mk.Sequential(
        [mk.Input(shape=(4,)), mk.layers.Dense(5, activation="tanh"), mk.layers.Dense(2)]
    )
    model.compile(optimizer=mk.optimizers.get(copy.deepcopy(optimizer_config)), loss="mse")
    twin = keras.Sequential.from_config(model.get_config())
    twin.set_weights(model.get_weights())
    # Keras's deserializer puts its schedule object into the dict it is given: a copy. (Its
    # optimizers.deserialize does not know Lamb; this one, which load_model uses, does.)
    optimizer = keras.saving.deserialize_keras_object(copy.deepcopy(optimizer_config))
    twin.compile(optimizer=optimizer, loss="mse")
    return model, twin


# Keras's fit runs the schedule inside a tf.function, where TensorFlow's graph optimizer turns
# step / decay_steps into step · (1/decay_steps): one float32 ulp off the division at some steps
# (ExponentialDecay(0.05, 3, 0.8) at step 7), which eager Keras, and minikeras, do not have.
# decay_steps a power of 2 makes both the same number, so the Histories can be compared at 1e-10.
FITS = [
    {
        "module": "keras.optimizers",
        "class_name": "Nadam",
        "config": {
            "learning_rate": {
                "module": "keras.optimizers.schedules",
                "class_name": "ExponentialDecay",
                "config": {"initial_learning_rate": 0.05, "decay_steps": 4, "decay_rate": 0.8},
                "registered_name": None,
            }
        },
    },
    {
        "module": "keras.optimizers",
        "class_name": "Adafactor",
        "config": {
            "learning_rate": {
                "module": "keras.optimizers.schedules",
                "class_name": "PiecewiseConstantDecay",
                "config": {"boundaries": [4, 8], "values": [0.1, 0.05, 0.02]},
                "registered_name": None,
            },
            "weight_decay": 0.01,
        },
    },
    {
        "module": "keras.optimizers",
        "class_name": "Lamb",
        "config": {
            "learning_rate": {
                "module": "keras.optimizers.schedules",
                "class_name": "PolynomialDecay",
                "config": {"initial_learning_rate": 0.05, "decay_steps": 8, "power": 2.0},
                "registered_name": None,
            },
            "gradient_accumulation_steps": 2,
        },
    },
    {
        "module": "keras.optimizers",
        "class_name": "Ftrl",
        "config": {"learning_rate": 0.1, "l1_regularization_strength": 0.001},
    },
    {
        "module": "keras.optimizers",
        "class_name": "Adagrad",
        "config": {"learning_rate": 0.1, "clipnorm": 0.1},
    },
]


FIT_CASES = [pytest.param(c, "float64", id=f"{c['class_name']}-float64") for c in FITS] + [
    pytest.param(c, "float32", id=f"{c['class_name']}-float32") for c in FITS[:2]
]


@pytest.mark.parametrize("config, dtype", FIT_CASES)
def test_fit_history_as_keras(keras, config, dtype):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 4)).astype(dtype)
    y = rng.normal(size=(40, 2)).astype(dtype)
    with floatx(dtype):  # Keras's dtype policy too
        model, twin = _model_and_twin(keras, config, dtype)
        ours = model.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
        theirs = twin.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
    tol = TOLERANCE[dtype]
    np.testing.assert_allclose(ours.history["loss"], theirs.history["loss"], rtol=tol)
    for a, b in zip(model.get_weights(), twin.get_weights(), strict=True):
        assert_close(a, b.astype(a.dtype), dtype, "weight after fit")
    theirs_vars = [np.asarray(v.numpy()) for v in twin.optimizer.variables]
    assert len(model.optimizer.variables) == len(theirs_vars)
    for a, b in zip(model.optimizer.variables, theirs_vars):
        assert_close(a, b, dtype, "optimizer variable after fit")


# ------------------------------------------------------------------- .keras files both ways
# Adafactor's int32 placeholders and a schedule (no learning-rate variable); Nadam's u_product
# after the EMA averages and the gradient accumulators; Lamb, which only a file's form names
FILE_OPTIMIZERS = {
    "adafactor": lambda m: m.Adafactor(learning_rate=m.schedules.ExponentialDecay(0.05, 4, 0.8)),
    "nadam": lambda m: m.Nadam(learning_rate=0.02, use_ema=True, gradient_accumulation_steps=2),
    "lamb": lambda m: m.Lamb(learning_rate=0.01),
}


def fit(model, x, y, epochs):
    """minikeras's fit, then what Keras's fit does after its last epoch: with use_ema, the
    weights take their moving averages (`finalize_variable_values`)."""
    model.fit(x, y, batch_size=8, epochs=epochs, shuffle=False, verbose=0)
    model.optimizer.finalize_variable_values(model.trainable_weights)


def _data():
    rng = np.random.default_rng(1)
    return rng.normal(size=(24, 4)).astype("float32"), rng.normal(size=(24, 2)).astype("float32")


@pytest.mark.parametrize("which", ["adafactor", "nadam", "lamb"])
def test_keras_file_saved_by_minikeras_loads_in_keras(keras, which, tmp_path):
    make = FILE_OPTIMIZERS[which]
    x, y = _data()
    mk.utils.set_random_seed(2)
    model = mk.Sequential(
        [mk.Input(shape=(4,)), mk.layers.Dense(3, activation="relu"), mk.layers.Dense(2)]
    )
    model.compile(optimizer=make(mk.optimizers), loss="mse")
    fit(model, x, y, epochs=2)
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    theirs = [np.asarray(v.numpy()) for v in loaded.optimizer.variables]
    ours = model.optimizer.variables
    assert type(loaded.optimizer).__name__ == type(model.optimizer).__name__
    assert len(theirs) == len(ours)
    for a, b in zip(ours, theirs):
        assert a.shape == b.shape and a.dtype == b.dtype
        np.testing.assert_array_equal(a, b)
    # both train on from there alike
    fit(model, x, y, epochs=1)
    loaded.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0)
    for a, b in zip(model.get_weights(), loaded.get_weights(), strict=True):
        assert_close(a, b, "float32", "weight after a further epoch")


@pytest.mark.parametrize("which", ["adafactor", "nadam"])
def test_keras_file_saved_by_keras_loads_in_minikeras(keras, which, tmp_path):
    make = FILE_OPTIMIZERS[which]
    x, y = _data()
    twin = keras.Sequential(
        [keras.Input(shape=(4,)), keras.layers.Dense(3, activation="relu"), keras.layers.Dense(2)]
    )
    twin.compile(optimizer=make(keras.optimizers), loss="mse")
    twin.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
    path = tmp_path / "model.keras"
    twin.save(path)
    model = mk.saving.load_model(path)
    theirs = [np.asarray(v.numpy()) for v in twin.optimizer.variables]
    ours = model.optimizer.variables
    assert type(model.optimizer).__name__ == type(twin.optimizer).__name__
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs):
        assert a.shape == b.shape and a.dtype == b.dtype
        np.testing.assert_array_equal(a, b)
    fit(model, x, y, epochs=1)
    twin.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0)
    for a, b in zip(model.get_weights(), twin.get_weights(), strict=True):
        assert_close(a, b, "float32", "weight after a further epoch")
