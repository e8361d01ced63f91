"""The optimizers past SGD, RMSprop and Adam, the options every optimizer takes, and the
learning-rate schedules, against the golden values of Keras's own tests
(keras/src/optimizers/*_test.py, optimizer_test.py, schedules/learning_rate_schedule_test.py),
asserted with the tolerances those tests use (rtol = atol = 1e-4 for one step, 5e-4 along a
trajectory, 1e-6 for a schedule). The same runs against Keras itself, bit for bit or nearly, are
in tests/parity/test_optimizers_parity.py.
"""

import functools
import pickle
import warnings

import numpy as np
import pytest

import minikeras as mk
from minikeras import kernels
from minikeras.kernels import numba_kernels, numpy_kernels
from minikeras.optimizers import schedules

NEW = ["Adagrad", "Adadelta", "Adamax", "Nadam", "AdamW", "Ftrl", "Lion", "Lamb", "Adafactor"]


def single_step(optimizer, shape=(4,)):
    """Keras's test_single_step: w = [1, 2, 3, 4], g = [1, 6, 7, 2], one update."""
    w = np.array([1.0, 2.0, 3.0, 4.0], dtype="float32").reshape(shape)
    g = np.array([1.0, 6.0, 7.0, 2.0], dtype="float32").reshape(shape)
    optimizer.apply([g], [w])
    return w


@pytest.mark.parametrize(
    "name, expected",
    [
        ("Adagrad", [0.5233, 1.5007, 2.5005, 3.5061]),
        ("Adadelta", [0.9993, 1.9993, 2.9993, 3.9993]),
        ("Adamax", [0.5, 1.5, 2.5, 3.5]),
        ("Nadam", [0.4686, 1.4686, 2.4686, 3.4686]),
        ("AdamW", [0.4980, 1.4960, 2.494, 3.492]),
        ("Ftrl", [0.2218, 1.3954, 2.3651, 2.8814]),
        ("Lion", [0.5, 1.5, 2.5, 3.5]),
        ("Lamb", [-0.3693, 0.6306, 1.6306, 2.6306]),
        ("Adafactor", [-0.3693, 0.6307, 1.6307, 2.6307]),
    ],
)
def test_single_step_as_keras(name, expected):
    w = single_step(getattr(mk.optimizers, name)(learning_rate=0.5))
    np.testing.assert_allclose(w, expected, rtol=1e-4, atol=1e-4)


def test_adafactor_single_step_2d_as_keras():
    w = single_step(mk.optimizers.Adafactor(learning_rate=0.5), shape=(2, 2))
    np.testing.assert_allclose(w, [[0.7007, -0.0081], [1.2492, 3.4407]], rtol=1e-4, atol=1e-4)


# Keras's test_correctness_with_golden: x = ones(10), a first step with g = 0.01, then
# g = 0.1, 0.2, ..., 1.0 each step; the rows are x before each of the five later steps.
GOLDEN = {
    "Adagrad": (
        {"learning_rate": 0.2, "initial_accumulator_value": 0.3, "epsilon": 1e-6},
        [
            [0.9963] * 10,
            [0.9604, 0.9278, 0.9003, 0.8784, 0.8615, 0.8487, 0.8388, 0.8313, 0.8255, 0.8209],
            [0.9251, 0.8629, 0.8137, 0.7768, 0.7497, 0.7298, 0.7151, 0.704, 0.6956, 0.6891],
            [0.8903, 0.8012, 0.7342, 0.6862, 0.6521, 0.6277, 0.6099, 0.5967, 0.5867, 0.579],
            [0.856, 0.7422, 0.6604, 0.6037, 0.5644, 0.5367, 0.5168, 0.5021, 0.491, 0.4825],
        ],
    ),
    "Adadelta": (
        {"learning_rate": 1.0, "rho": 0.8, "epsilon": 1e-6},
        [[v] * 10 for v in (0.9978, 0.9947, 0.9915, 0.9882, 0.9849)],
    ),
    "Adamax": (
        {"learning_rate": 0.2, "beta_1": 0.85, "beta_2": 0.95, "epsilon": 1e-6},
        [
            [0.8] * 10,
            [0.6827, 0.6873, 0.6888, 0.6896, 0.6901, 0.6904, 0.6906, 0.6908, 0.6909, 0.691],
            [0.5333, 0.5407, 0.5431, 0.5444, 0.5451, 0.5456, 0.546, 0.5462, 0.5464, 0.5466],
            [0.368, 0.3773, 0.3804, 0.382, 0.3829, 0.3835, 0.384, 0.3843, 0.3846, 0.3848],
            [0.1933, 0.204, 0.2076, 0.2094, 0.2105, 0.2112, 0.2117, 0.2121, 0.2124, 0.2126],
        ],
    ),
    "Nadam": (
        {"learning_rate": 0.5, "beta_1": 0.5, "beta_2": 0.67, "epsilon": 1e-5},
        [
            [0.4281] * 10,
            [
                -0.1738,
                -0.1731,
                -0.1726,
                -0.1723,
                -0.1721,
                -0.172,
                -0.1719,
                -0.1718,
                -0.1718,
                -0.1717,
            ],
            [
                -0.7115,
                -0.7103,
                -0.7096,
                -0.7092,
                -0.709,
                -0.7088,
                -0.7086,
                -0.7085,
                -0.7085,
                -0.7084,
            ],
            [
                -1.2335,
                -1.2322,
                -1.2313,
                -1.2309,
                -1.2306,
                -1.2304,
                -1.2302,
                -1.2301,
                -1.23,
                -1.2299,
            ],
            [
                -1.7492,
                -1.7478,
                -1.7469,
                -1.7464,
                -1.7461,
                -1.7459,
                -1.7457,
                -1.7456,
                -1.7455,
                -1.7454,
            ],
        ],
    ),
    "AdamW": (
        {"learning_rate": 1.0, "weight_decay": 0.5, "epsilon": 2.0},
        [
            [0.4998] * 10,
            [0.2486, 0.2475, 0.2463, 0.2451, 0.244, 0.2428, 0.2417, 0.2405, 0.2394, 0.2382],
            [0.1223, 0.1198, 0.1174, 0.1149, 0.1124, 0.11, 0.1075, 0.1051, 0.1027, 0.1003],
            [0.0586, 0.0549, 0.0512, 0.0475, 0.0439, 0.0402, 0.0366, 0.033, 0.0294, 0.0258],
            [0.0263, 0.0215, 0.0167, 0.012, 0.0073, 0.0026, -0.0021, -0.0067, -0.0113, -0.0159],
        ],
    ),
    "Ftrl": (
        {
            "learning_rate": 0.05,
            "learning_rate_power": -0.2,
            "initial_accumulator_value": 0.4,
            "l1_regularization_strength": 0.05,
            "l2_regularization_strength": 0.15,
            "l2_shrinkage_regularization_strength": 0.01,
            "beta": 0.3,
        },
        [
            [0.0] * 10,
            [
                -0.0034,
                -0.0077,
                -0.0118,
                -0.0157,
                -0.0194,
                -0.023,
                -0.0263,
                -0.0294,
                -0.0325,
                -0.0354,
            ],
            [
                -0.0078,
                -0.0162,
                -0.0242,
                -0.0317,
                -0.0387,
                -0.0454,
                -0.0516,
                -0.0575,
                -0.0631,
                -0.0685,
            ],
            [
                -0.0121,
                -0.0246,
                -0.0363,
                -0.0472,
                -0.0573,
                -0.0668,
                -0.0757,
                -0.0842,
                -0.0922,
                -0.0999,
            ],
            [
                -0.0164,
                -0.0328,
                -0.0481,
                -0.0623,
                -0.0753,
                -0.0875,
                -0.099,
                -0.1098,
                -0.1201,
                -0.1299,
            ],
        ],
    ),
    "Lion": ({}, [[v] * 10 for v in (0.999, 0.998, 0.997, 0.996, 0.995)]),
    "Lamb": ({}, [[v] * 10 for v in (0.999, 0.9982, 0.9974, 0.9965, 0.9955)]),
    "Adafactor": (
        {
            "learning_rate": 0.5,
            "beta_2_decay": -0.65,
            "epsilon_1": 1e-15,
            "epsilon_2": 1e-4,
            "clip_threshold": 0.9,
            "relative_step": False,
        },
        [
            [0.55] * 10,
            [0.3031, 0.3026, 0.3025, 0.3024, 0.3024, 0.3024, 0.3024, 0.3024, 0.3024, 0.3024],
            [0.1671, 0.1665, 0.1663, 0.1663, 0.1663, 0.1663, 0.1663, 0.1663, 0.1663, 0.1663],
            [0.0923, 0.0916, 0.0915, 0.0914, 0.0914, 0.0914, 0.0914, 0.0914, 0.0914, 0.0914],
            [0.0554, 0.0548, 0.0546, 0.0546, 0.0546, 0.0546, 0.0546, 0.0545, 0.0545, 0.0545],
        ],
    ),
}


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_golden_trajectory_as_keras(name):
    kwargs, rows = GOLDEN[name]
    optimizer = getattr(mk.optimizers, name)(**kwargs)
    x = np.ones(10, dtype="float32")
    optimizer.apply([np.full(10, 0.01, dtype="float32")], [x])
    grads = np.arange(0.1, 1.1, 0.1).astype("float32")
    for row in rows:
        np.testing.assert_allclose(x, row, rtol=5e-4, atol=5e-4)
        optimizer.apply([grads.copy()], [x])


@pytest.mark.parametrize("name", [n for n in NEW if n != "Ftrl"] + ["SGD", "RMSprop", "Adam"])
def test_weight_decay_as_keras(name):
    """Keras's test_weight_decay (every optimizer but Ftrl): w = 2, g = 0, lr = 1, wd = 0.004:
    the decay makes w = 2 − 2·0.004, and a zero gradient moves nothing after it; a weight in
    `exclude_from_weight_decay` stays at 2."""
    optimizer = getattr(mk.optimizers, name)(learning_rate=1.0, weight_decay=0.004)
    w = np.array(2.0, dtype="float32")
    excluded = np.array(2.0, dtype="float32")
    optimizer.exclude_from_weight_decay(var_list=[excluded])
    optimizer.apply([np.zeros((), "float32"), np.zeros((), "float32")], [w, excluded])
    np.testing.assert_almost_equal(float(excluded), 2.0, decimal=6)
    np.testing.assert_almost_equal(float(w), 2.0 - 2.0 * 0.004, decimal=6)


def test_weight_decay_golden_value_of_keras_tests():
    """Keras's Lion/Adam/... test: three updates of var1 (one per optimizer) give 1.9760959."""
    w = np.array(2.0, dtype="float32")
    for _ in range(3):
        mk.optimizers.Lion(learning_rate=1.0, weight_decay=0.004).apply(
            [np.zeros((), "float32")], [w]
        )
    np.testing.assert_almost_equal(float(w), 1.9760959, decimal=6)


# ------------------------------------------------------------------- options of every optimizer
def test_ema_as_keras():
    """optimizer_test.py test_ema: SGD lr 1, g = 1, μ = 0.9, overwrite every 3 updates."""
    w = np.array([[3.0, 4.0], [5.0, 6.0]], dtype="float32")
    g = np.ones((2, 2), dtype="float32")
    optimizer = mk.optimizers.SGD(
        learning_rate=1.0, use_ema=True, ema_momentum=0.9, ema_overwrite_frequency=3
    )
    optimizer.apply([g], [w])
    np.testing.assert_allclose(w, [[2.0, 3.0], [4.0, 5.0]])
    np.testing.assert_allclose(optimizer.slots["average"][0], [[2.0, 3.0], [4.0, 5.0]])
    optimizer.apply([g], [w])
    np.testing.assert_allclose(w, [[1.0, 2.0], [3.0, 4.0]])
    np.testing.assert_allclose(optimizer.slots["average"][0], [[1.9, 2.9], [3.9, 4.9]], rtol=1e-6)
    optimizer.apply([g], [w])
    np.testing.assert_allclose(w, [[1.71, 2.71], [3.71, 4.71]], rtol=1e-6)  # overwritten
    np.testing.assert_allclose(optimizer.slots["average"][0], w)


def test_finalize_variable_values_puts_the_average_in():
    w = np.array([1.0, 2.0], dtype="float32")
    optimizer = mk.optimizers.SGD(learning_rate=0.5, use_ema=True, ema_momentum=0.5)
    for _ in range(3):
        optimizer.apply([np.ones(2, "float32")], [w])
    average = optimizer.slots["average"][0].copy()
    assert not np.array_equal(w, average)
    optimizer.finalize_variable_values([w])
    np.testing.assert_array_equal(w, average)


def test_gradient_accumulation_as_keras():
    """optimizer_test.py test_gradient_accumulation: SGD lr 1, g = 1, N = 3."""
    w = np.array([[1.0, 2.0], [3.0, 4.0]], dtype="float32")
    g = np.ones((2, 2), dtype="float32")
    optimizer = mk.optimizers.SGD(learning_rate=1.0, gradient_accumulation_steps=3)
    expected = [  # w, accumulator, calls (Keras's _iterations), updates (iterations)
        ([[1.0, 2.0], [3.0, 4.0]], 1.0, 1, 0),
        ([[1.0, 2.0], [3.0, 4.0]], 2.0, 2, 0),
        ([[0.0, 1.0], [2.0, 3.0]], 0.0, 3, 1),
        ([[0.0, 1.0], [2.0, 3.0]], 1.0, 4, 1),
    ]
    for weights, accumulated, calls, updates in expected:
        optimizer.apply([g], [w])
        np.testing.assert_allclose(w, weights)
        np.testing.assert_allclose(optimizer.slots["gradient_accumulator"][0], accumulated)
        assert int(optimizer.variables[0]) == calls
        assert optimizer.iterations == updates


@pytest.mark.parametrize("name", ["adam", "sgd", "adamw", "adagrad", "rmsprop", "adadelta"])
def test_gradient_accumulation_with_weight_decay_equals_the_mean_gradient(name):
    """optimizer_test.py: N = 3 accumulated steps equal one step on the mean gradient."""
    one = mk.optimizers.get({"class_name": name, "config": {"weight_decay": 0.05}})
    three = mk.optimizers.get(
        {"class_name": name, "config": {"weight_decay": 0.05, "gradient_accumulation_steps": 3}}
    )
    w1 = np.array([[0.9], [0.5]], dtype="float32")
    w3 = w1.copy()
    rng = np.random.default_rng(0)
    for _ in range(8):
        grads = rng.random((3, 2, 1)).astype("float32")
        one.apply([grads.mean(axis=0)], [w1])
        for batch in range(3):
            three.apply([grads[batch].copy()], [w3])
    np.testing.assert_allclose(w1, w3, rtol=1e-5, atol=1e-6)


def test_clipnorm_and_global_clipnorm_together_raise_as_keras():
    with pytest.raises(ValueError, match="Only one of `clipnorm`, `clipvalue` and"):
        mk.optimizers.Adagrad(clipnorm=1.0, global_clipnorm=1.0)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (
            {"gradient_accumulation_steps": 1},
            "`gradient_accumulation_steps` must be an integer >= 2",
        ),
        ({"use_ema": True, "ema_momentum": 1.5}, r"`ema_momentum` must be in the range \[0, 1\]"),
        ({"use_ema": True, "ema_overwrite_frequency": 0.5}, "`ema_overwrite_frequency` must be"),
        ({"lr": 0.1}, r"Argument\(s\) not recognized: \{'lr': 0.1\}"),
        ({"learning_rate": 1}, "Argument `learning_rate` should be float"),
        ({"learning_rate": np.float32(0.1)}, "Argument `learning_rate` should be float"),
    ],
)
def test_bad_arguments_raise_as_keras(kwargs, message):
    with pytest.raises(ValueError, match=message):
        mk.optimizers.Nadam(**kwargs)


def test_decay_warns_and_is_ignored_as_keras():
    with pytest.warns(UserWarning, match="Argument `decay` is no longer supported and will be"):
        optimizer = mk.optimizers.SGD(learning_rate=0.1, decay=1e-6)
    assert "decay" not in optimizer.get_config()


def test_loss_scale_factor_divides_the_gradients():
    assert mk.optimizers.Lion(loss_scale_factor=None).loss_scale_factor is None
    w = np.array([1.0, 2.0])
    mk.optimizers.SGD(learning_rate=0.5, loss_scale_factor=128.0).apply(
        [np.array([128.0, -256.0])], [w]
    )
    assert w.tolist() == [0.5, 3.0]


def test_adamw_needs_a_weight_decay_as_keras():
    with pytest.raises(ValueError, match="Argument `weight_decay` must be a float"):
        mk.optimizers.AdamW(weight_decay=None)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"initial_accumulator_value": -0.1},
        {"learning_rate_power": 0.1},
        {"l1_regularization_strength": -0.1},
        {"l2_regularization_strength": -0.1},
        {"l2_shrinkage_regularization_strength": -0.1},
    ],
)
def test_ftrl_arguments_checked_as_keras(kwargs):
    ((arg, value),) = kwargs.items()
    with pytest.raises(ValueError, match=f"^`{arg}` needs to be .* Received: {arg}={value}.$"):
        mk.optimizers.Ftrl(**kwargs)


def test_lion_beta_1_checked_as_keras():
    with pytest.raises(ValueError, match="Argument `beta_1` must be in the \\[0, 1\\] range"):
        mk.optimizers.Lion(beta_1=0.0)


def test_callable_learning_rate_as_keras():
    w = np.array([[1.0, 2.0], [3.0, 4.0]], dtype="float32")
    optimizer = mk.optimizers.SGD(learning_rate=lambda: 0.1)
    optimizer.apply([np.ones((2, 2), "float32")], [w])
    np.testing.assert_allclose(w, [[0.9, 1.9], [2.9, 3.9]])
    assert optimizer.iterations == 1


# ------------------------------------------------------------------- names, registry, configs
def test_auto_naming_as_keras():
    mk.utils.clear_session()
    names = [
        mk.optimizers.Adam().name,
        mk.optimizers.Adam().name,
        mk.optimizers.SGD().name,
        mk.optimizers.SGD().name,
        mk.optimizers.AdamW().name,
        mk.optimizers.AdamW().name,
        mk.optimizers.RMSprop().name,
    ]
    assert names == ["adam", "adam_1", "sgd", "sgd_1", "adam_w", "adam_w_1", "rm_sprop"]
    assert mk.optimizers.Adam(name="my_adam").name == "my_adam"
    reloaded = mk.optimizers.deserialize(mk.optimizers.serialize(mk.optimizers.Adam()))
    assert reloaded.name == "adam_2"  # the name travels in the config


@pytest.mark.parametrize(
    "identifier", ["adagrad", "Adadelta", "ADAMAX", "nadam", "adamw", "AdamW", "ftrl", "lion"]
)
def test_get_resolves_names_as_keras(identifier):
    optimizer = mk.optimizers.get(identifier)
    assert type(optimizer).__name__.lower() == identifier.lower()


def test_get_does_not_know_lamb_as_keras():
    """Keras leaves Lamb out of `optimizers.get`'s table; its serialized form still loads."""
    with pytest.raises(ValueError, match="Could not interpret optimizer identifier: lamb"):
        mk.optimizers.get("lamb")
    lamb = mk.optimizers.get(mk.optimizers.serialize(mk.optimizers.Lamb(beta_1=0.8)))
    assert isinstance(lamb, mk.optimizers.Lamb) and lamb.beta_1 == 0.8


@pytest.mark.parametrize("name", NEW)
def test_config_round_trip_and_pickle(name):
    optimizer = getattr(mk.optimizers, name)(learning_rate=0.02, clipvalue=0.5, use_ema=True)
    config = optimizer.get_config()
    again = type(optimizer).from_config(config)
    assert again.get_config() == config
    assert pickle.loads(pickle.dumps(optimizer)).get_config() == config


def test_slots_in_keras_order():
    """Base slots first (EMA averages, then accumulators), then the optimizer's own; Nadam's
    u_product last; Adafactor's r, c, v weight by weight, int32 placeholders for a 1-D weight."""
    w = [np.zeros((2, 3), "float32"), np.zeros(3, "float32")]
    nadam = mk.optimizers.Nadam(use_ema=True, gradient_accumulation_steps=2)
    nadam.build(w)
    shapes = [v.shape for v in nadam.variables]
    assert shapes == [(), (), (2, 3), (3,), (2, 3), (3,), (2, 3), (2, 3), (3,), (3,), ()]
    adafactor = mk.optimizers.Adafactor()
    adafactor.build(w)
    described = [(v.shape, v.dtype.name) for v in adafactor.variables[2:]]
    assert described == [
        ((2,), "float32"),
        ((3,), "float32"),
        ((2, 3), "float32"),
        ((), "int32"),
        ((), "int32"),
        ((3,), "float32"),
    ]


# ------------------------------------------------------------------- learning-rate schedules
def test_schedule_is_evaluated_at_the_count_before_the_update():
    schedule = schedules.PiecewiseConstantDecay([0, 1], [1.0, 0.5, 0.25])
    optimizer = mk.optimizers.SGD(learning_rate=schedule)
    w = np.zeros(1, "float32")
    for expected_step in (1.0, 0.5, 0.25):
        assert optimizer.learning_rate == expected_step
        before = w.copy()
        optimizer.apply([np.ones(1, "float32")], [w])
        np.testing.assert_allclose(before - w, expected_step)


def test_setting_a_number_on_a_schedule_raises_as_keras():
    optimizer = mk.optimizers.Adam(learning_rate=schedules.ExponentialDecay(0.1, 10, 0.9))
    with pytest.raises(TypeError, match="created with a `LearningRateSchedule` object"):
        optimizer.learning_rate = 0.01


def test_setting_a_schedule_drops_the_learning_rate_variable_as_keras():
    adam = mk.optimizers.Adam(learning_rate=0.001)
    assert len(adam.variables) == 2
    adam.learning_rate = schedules.PolynomialDecay(adam.learning_rate, 4)
    assert len(adam.variables) == 1


def test_learning_rate_is_settable_and_readable_as_a_float():
    optimizer = mk.optimizers.Lion(learning_rate=0.1)
    optimizer.learning_rate = np.float64(0.05)
    assert float(optimizer.learning_rate) == float(np.float32(0.05))


def test_learning_rate_scheduler_callback_still_sets_it():
    model = mk.Sequential([mk.Input(shape=(2,)), mk.layers.Dense(1)])
    model.compile(optimizer=mk.optimizers.Nadam(learning_rate=0.1), loss="mse")
    scheduler = mk.callbacks.LearningRateScheduler(lambda epoch, lr: lr / 2)
    history = model.fit(
        np.ones((4, 2)), np.ones((4, 1)), epochs=2, verbose=0, callbacks=[scheduler]
    )
    np.testing.assert_allclose(history.history["learning_rate"], [0.05, 0.025], rtol=1e-6)


def test_schedule_values_as_keras_tests():
    """Keras's assertAllClose(value, expected, 1e-6): atol = rtol = 1e-6."""
    close = functools.partial(np.testing.assert_allclose, rtol=1e-6, atol=1e-6)
    ed = schedules.ExponentialDecay(0.05, 10, 0.96)
    close(ed(5), 0.05 * 0.96**0.5)
    stair = schedules.ExponentialDecay(0.1, 3, 0.96, staircase=True)
    close([stair(1), stair(2), stair(100)], [0.1, 0.1, 0.1 * 0.96**33])
    pc = schedules.PiecewiseConstantDecay([100, 110, 120], [1.0, 0.1, 0.01, 0.001])
    got = [pc(s) for s in (-999, 100, 105, 110, 120, 999)]
    close(got, [1.0, 1.0, 0.1, 0.1, 0.01, 0.001])
    lr, end = 0.05, 0.001
    close(schedules.PolynomialDecay(lr, 10, 0.0)(5), lr * 0.5)
    close(schedules.PolynomialDecay(lr, 10, end)(15), end)
    cycled = schedules.PolynomialDecay(lr, 10, end, power=0.5, cycle=True)(15)
    close(cycled, (lr - end) * 0.25**0.5 + end)
    close(schedules.PolynomialDecay(0.001, 10, cycle=True)(0), 0.001)
    itd = schedules.InverseTimeDecay(0.1, 10, 0.96)
    close([itd(i) for i in range(11)], [0.1 / (1 + i / 10 * 0.96) for i in range(11)], rtol=1e-6)
    for step in range(0, 1500, 250):
        expected = 0.5 * (1 + np.cos(np.pi * min(step, 1000) / 1000))
        close(schedules.CosineDecay(1.0, 1000)(step), expected, rtol=1e-6, atol=1e-7)
        alpha = 0.9 * expected + 0.1
        close(schedules.CosineDecay(1.0, 1000, 0.1)(step), alpha)
    assert schedules.CosineDecay(np.float64(1.0), 1000)(250).dtype == np.float64
    for step in range(0, 1500, 250):  # warmup
        warm = schedules.CosineDecay(0.0, 10, warmup_target=10.0, warmup_steps=1500)(step)
        close(warm, step / 1500 * 10.0)


def _restarts(step, decay_steps, t_mul=2.0, m_mul=1.0, alpha=0.0):
    """Keras's test's reference: walk the periods one by one."""
    fac = 1.0
    while step >= decay_steps:
        step -= decay_steps
        decay_steps *= t_mul
        fac *= m_mul
    completed = step / decay_steps
    return (1 - alpha) * fac * 0.5 * (1 + np.cos(np.pi * completed)) + alpha


@pytest.mark.parametrize("t_mul, m_mul, alpha", [(2.0, 1.0, 0.0), (1.0, 0.9, 0.1), (3.0, 0.8, 0.0)])
def test_cosine_decay_restarts_as_keras_tests(t_mul, m_mul, alpha):
    schedule = schedules.CosineDecayRestarts(1.0, 1000, t_mul=t_mul, m_mul=m_mul, alpha=alpha)
    for step in range(0, 10000, 150):
        expected = _restarts(step, 1000, t_mul, m_mul, alpha)
        np.testing.assert_allclose(schedule(step), expected, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: schedules.ExponentialDecay(0.1, 0, 0.9), "`decay_steps` must be > 0"),
        (lambda: schedules.InverseTimeDecay(0.1, -1, 0.9), "`decay_steps` must be > 0"),
        (lambda: schedules.PolynomialDecay(0.1, 0), "`decay_steps` must be > 0"),
        (lambda: schedules.CosineDecay(0.1, 0), "`decay_steps` must be > 0"),
        (lambda: schedules.CosineDecayRestarts(0.1, 0), "`first_decay_steps` must be > 0"),
        (lambda: schedules.PiecewiseConstantDecay([1, 2], [0.1]), "should be 1 less than"),
        (lambda: schedules.PiecewiseConstantDecay([2, 1], [1.0, 0.5, 0.1]), "strictly increasing"),
    ],
)
def test_schedule_arguments_checked(make, message):
    with pytest.raises(ValueError, match=message):
        make()


@pytest.mark.parametrize(
    "schedule",
    [
        schedules.ExponentialDecay(0.1, 3, 0.96, staircase=True, name="my_ed"),
        schedules.PiecewiseConstantDecay([10, 20], [1, 2, 3], name="my_pcd"),
        schedules.PolynomialDecay(0.1, 100, 0.005, power=1.0, cycle=False, name="my_ld"),
        schedules.InverseTimeDecay(0.05, 10, 0.96, staircase=True, name="my_itd"),
        schedules.CosineDecay(0.05, 10, alpha=0.1, warmup_target=0.2, warmup_steps=2),
        schedules.CosineDecayRestarts(0.05, 10, alpha=0.1, t_mul=3.0, m_mul=4.0, name="my_cdr"),
    ],
)
def test_schedule_serialization_round_trip(schedule):
    config = schedules.serialize(schedule)
    assert config["module"] == "keras.optimizers.schedules"
    again = schedules.deserialize(config)
    assert type(again) is type(schedule) and again.get_config() == schedule.get_config()
    optimizer = mk.optimizers.Adam(learning_rate=schedule)
    rebuilt = mk.optimizers.get(mk.optimizers.serialize(optimizer))
    assert rebuilt.get_config()["learning_rate"] == config


def test_a_schedule_of_ones_own():
    class Halving(schedules.LearningRateSchedule):
        def __call__(self, step):
            return 0.1 / 2 ** (step // 2)

        def get_config(self):
            return {}

    w = np.zeros(1, "float32")
    optimizer = mk.optimizers.SGD(learning_rate=Halving())
    for _ in range(4):
        optimizer.apply([np.ones(1, "float32")], [w])
    np.testing.assert_allclose(w, [-(0.1 + 0.1 + 0.05 + 0.05)], rtol=1e-6)
    with pytest.raises(NotImplementedError, match="must override"):
        schedules.LearningRateSchedule()(0)


# ------------------------------------------------------------------- the two kernel sets
# kernel: (the starting value of each slot, the scalars after the arrays)
KERNEL_CASES = {
    "adagrad_update": ([0.1], (0.1, 1e-7)),
    "adadelta_update": ([0.0, 0.0], (1.0, 0.95, 1e-7)),
    "adamax_update": ([0.0, 0.0], (0.01, 0.9, 0.999, 1e-7, 3)),
    "nadam_update": ([0.0, 0.0], (0.01, 0.9, 0.999, 1e-7, 3, 0.5)),
    "ftrl_update": ([0.1, 0.0], (0.1, -0.3, 0.01, 0.02, 0.03, 0.1)),
    "lion_update": ([0.0], (0.01, 0.9, 0.99)),
    "lamb_update": ([0.0, 0.0], (0.01, 0.9, 0.999, 1e-7, 3)),
}


@pytest.mark.parametrize("kernel", sorted(KERNEL_CASES))
@pytest.mark.parametrize("dtype, rtol", [("float64", 1e-12), ("float32", 2e-5)])
def test_numba_kernels_match_the_reference(kernel, dtype, rtol):
    """float64: the two sets agree to rounding (1e-12); float32: within a few ulps amplified by
    the few steps taken (LLVM and NumPy round pow and the order of a sum differently)."""
    starts, scalars = KERNEL_CASES[kernel]
    rng = np.random.default_rng(1)
    w0 = rng.normal(size=(5, 7)).astype(dtype)
    states = {}
    for name, module in (("numpy", numpy_kernels), ("numba", numba_kernels)):
        w = w0.copy()
        arrays = [np.full_like(w, value) for value in starts]
        for step in range(3):
            g = np.random.default_rng(step).normal(size=w.shape).astype(dtype)
            getattr(module, kernel)(w, g, *arrays, *scalars)
        states[name] = [w, *arrays]
    for ours, reference in zip(states["numba"], states["numpy"]):
        np.testing.assert_allclose(ours, reference, rtol=rtol, atol=rtol * np.abs(reference).max())


@pytest.mark.parametrize("shape", [(4,), (3, 5), (2, 3, 4)])
@pytest.mark.parametrize("dtype, rtol", [("float64", 1e-12), ("float32", 2e-5)])
def test_numba_adafactor_matches_the_reference(shape, dtype, rtol):
    states = {}
    for name, module in (("numpy", numpy_kernels), ("numba", numba_kernels)):
        w = np.random.default_rng(2).normal(size=shape).astype(dtype)
        if len(shape) < 2:
            r = c = np.zeros((), np.int32)
        else:
            r, c = np.zeros(shape[:-1], dtype), np.zeros(shape[:-2] + shape[-1:], dtype)
        v = np.zeros_like(w)
        for step in range(1, 4):
            g = np.random.default_rng(step).normal(size=shape).astype(dtype)
            module.adafactor_update(w, g, r, c, v, 0.1, -0.8, 1e-30, 1e-3, 1.0, step)
        states[name] = [w, v] + ([r, c] if len(shape) >= 2 else [])
    for ours, reference in zip(states["numba"], states["numpy"]):
        np.testing.assert_allclose(ours, reference, rtol=rtol, atol=rtol * np.abs(reference).max())


def test_every_new_optimizer_runs_on_the_kernels_in_use():
    assert kernels.current() in ("numba", "numpy")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow or invalid value on ordinary data
        for name in NEW:
            w = [np.ones((2, 3), "float32"), np.ones(3, "float32")]
            optimizer = getattr(mk.optimizers, name)(learning_rate=0.01)
            for _ in range(3):
                optimizer.apply([np.full((2, 3), 0.5, "float32"), np.ones(3, "float32")], w)
            assert all(np.isfinite(x).all() for x in w)
