"""Behaviours found to differ from Keras in a side-by-side review, now the same: each test runs
the same code on Keras and on minikeras (float64, so that rounding does not hide a difference;
1e-10 relative is the float64 bound of the parity suite)."""

import numpy as np
import pytest

import minikeras

RTOL = 1e-10


@pytest.fixture
def keras64(keras):
    from minikeras.parity.keras_env import floatx

    with floatx("float64"):
        yield keras


def twins(keras, build):
    ours, theirs = build(minikeras), build(keras)
    theirs.set_weights(ours.get_weights())
    return ours, theirs


def mlp(lib, outputs=3, activation="softmax"):
    return lib.Sequential(
        [
            lib.layers.Input(shape=(4,)),
            lib.layers.Dense(5, activation="tanh"),
            lib.layers.Dense(outputs, activation=activation),
        ]
    )


def data(n=20, classes=3, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, 4)), np.eye(classes)[rng.integers(classes, size=n)]


def fit_both(ours, theirs, x, y, **kwargs):
    kwargs = {"epochs": 2, "batch_size": 6, "shuffle": False, "verbose": 0, **kwargs}
    return ours.fit(x, y, **kwargs).history, theirs.fit(x, y, **kwargs).history


def assert_same(ours_history, theirs_history, ours, theirs):
    assert sorted(ours_history) == sorted(theirs_history)
    for key in ours_history:
        np.testing.assert_allclose(ours_history[key], theirs_history[key], rtol=RTOL)
    for a, b in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_allclose(a, b, rtol=RTOL, atol=1e-13)


@pytest.mark.parametrize("loss_weights", [0.5, [0.25], {"output": 2.0}])
def test_sequential_applies_loss_weights(keras64, loss_weights):
    ours, theirs = twins(keras64, mlp)
    if isinstance(loss_weights, dict):  # keyed by the output layer's name in each library
        ours_weights = {ours.layers[-1].name: 2.0}
        theirs_weights = {theirs.layers[-1].name: 2.0}
    else:
        ours_weights = theirs_weights = loss_weights
    ours.compile(optimizer="sgd", loss="categorical_crossentropy", loss_weights=ours_weights)
    theirs.compile(optimizer="sgd", loss="categorical_crossentropy", loss_weights=theirs_weights)
    x, y = data()
    assert_same(*fit_both(ours, theirs, x, y), ours, theirs)


@pytest.mark.parametrize(
    "labels", ["one_hot", "soft"], ids=["a partial dict, one-hot", "soft labels rounded"]
)
def test_class_weight_as_keras_3(keras64, labels):
    ours, theirs = twins(keras64, mlp)
    for model in (ours, theirs):
        model.compile(optimizer="sgd", loss="categorical_crossentropy")
    x, y = data()
    if labels == "soft":
        y = 0.8 * y + 0.2 / 3
    weights = {1: 3.0}  # class 0 and 2 unnamed: weight 1.0 in Keras 3
    assert_same(*fit_both(ours, theirs, x, y, class_weight=weights), ours, theirs)


def test_class_weight_with_sample_weight_is_refused_by_both(keras64):
    x, y = data()
    for lib in (minikeras, keras64):
        model = mlp(lib)
        model.compile(optimizer="sgd", loss="categorical_crossentropy")
        with pytest.raises(ValueError, match="class_weight"):
            model.fit(x, y, class_weight={0: 2.0}, sample_weight=np.ones(len(x)), verbose=0)


def test_a_softmax_followed_by_dropout_keeps_the_logits_at_evaluation(keras64):
    """A saturated softmax: from its logits (Keras's path, Dropout passing them on at
    inference) the loss is large; from clipped probabilities it would stop at 16.1."""

    def build(lib):
        return lib.Sequential(
            [
                lib.layers.Input(shape=(1,)),
                lib.layers.Dense(2, activation="softmax"),
                lib.layers.Dropout(0.5),
            ]
        )

    ours, theirs = build(minikeras), build(keras64)
    weights = [np.array([[40.0, -40.0]]), np.zeros(2)]
    ours.set_weights(weights)
    theirs.set_weights(weights)
    x, y = np.ones((4, 1)), np.tile([0.0, 1.0], (4, 1))
    for model in (ours, theirs):
        model.compile(optimizer="sgd", loss="categorical_crossentropy")
    ours_loss = ours.evaluate(x, y, verbose=0)
    theirs_loss = theirs.evaluate(x, y, verbose=0)
    assert theirs_loss > 17
    np.testing.assert_allclose(ours_loss, theirs_loss, rtol=RTOL)


def test_validation_freq_as_a_list(keras64):
    ours, theirs = twins(keras64, mlp)
    for model in (ours, theirs):
        model.compile(optimizer="sgd", loss="categorical_crossentropy")
    x, y = data(30)
    kwargs = dict(epochs=4, validation_split=0.2, validation_freq=[1, 3])
    ours_history, theirs_history = fit_both(ours, theirs, x, y, **kwargs)
    assert len(ours_history["val_loss"]) == len(theirs_history["val_loss"]) == 2
    assert_same(ours_history, theirs_history, ours, theirs)


def test_two_metrics_with_one_name(keras64):
    ours, theirs = twins(keras64, lambda lib: mlp(lib, outputs=1, activation="sigmoid"))
    x, _ = data()
    y = (x[:, :1] > 0).astype("float64")
    ours.compile(
        optimizer="sgd",
        loss="binary_crossentropy",
        metrics=[
            minikeras.metrics.BinaryAccuracy(threshold=0.3),
            minikeras.metrics.BinaryAccuracy(threshold=0.7),
        ],
    )
    theirs.compile(
        optimizer="sgd",
        loss="binary_crossentropy",
        metrics=[
            keras64.metrics.BinaryAccuracy(threshold=0.3),
            keras64.metrics.BinaryAccuracy(threshold=0.7),
        ],
    )
    ours_history, theirs_history = fit_both(ours, theirs, x, y)
    assert sorted(ours_history) == ["binary_accuracy", "binary_accuracy_1", "loss"]
    assert_same(ours_history, theirs_history, ours, theirs)


def test_an_error_in_fit_keeps_the_completed_epochs(keras64):
    def failing(lib):
        class Fail(lib.callbacks.Callback):
            def on_epoch_end(self, epoch, logs=None):
                if epoch == 1:
                    raise RuntimeError("stop")

        return Fail()

    ours, theirs = twins(keras64, mlp)
    for model in (ours, theirs):
        model.compile(optimizer="adam", loss="categorical_crossentropy")
    x, y = data()
    for model, lib in ((ours, minikeras), (theirs, keras64)):
        with pytest.raises(RuntimeError, match="stop"):
            model.fit(
                x, y, epochs=5, batch_size=6, shuffle=False, verbose=0, callbacks=[failing(lib)]
            )
    for a, b in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_allclose(a, b, rtol=RTOL, atol=1e-13)
    assert int(ours.optimizer.iterations) == int(theirs.optimizer.iterations.numpy()) == 8


def test_metrics_names_and_get_layer_as_keras(keras64):
    ours, theirs = twins(keras64, mlp)
    for model in (ours, theirs):
        model.compile(optimizer="sgd", loss="categorical_crossentropy", metrics=["accuracy"])
    x, y = data()
    fit_both(ours, theirs, x, y, epochs=1)
    assert ours.metrics_names == theirs.metrics_names
    for model in (ours, theirs):
        with pytest.raises(ValueError, match="index 5"):
            model.get_layer(index=5)


def test_dense_regularizers_and_constraints_train_as_in_keras(keras64):
    """Penalties on the kernel, the bias and the output (over the batch size, as Keras's
    activity regularization) count in the loss and its gradient; constraints project after
    each update."""

    def build(lib):
        return lib.Sequential(
            [
                lib.layers.Input(shape=(4,)),
                lib.layers.Dense(
                    5,
                    activation="tanh",
                    kernel_regularizer=lib.regularizers.L2(0.05),
                    bias_regularizer=lib.regularizers.L1(0.02),
                    activity_regularizer=lib.regularizers.L1L2(0.01, 0.02),
                    kernel_constraint=lib.constraints.MaxNorm(0.5),
                ),
                lib.layers.Dense(3, activation="softmax", bias_constraint="non_neg"),
            ]
        )

    ours, theirs = twins(keras64, build)
    for model in (ours, theirs):
        model.compile(optimizer="sgd", loss="categorical_crossentropy")
    x, y = data(25)
    ours_history, theirs_history = fit_both(ours, theirs, x, y, validation_split=0.2)
    assert_same(ours_history, theirs_history, ours, theirs)
    np.testing.assert_allclose(
        ours.evaluate(x, y, verbose=0), theirs.evaluate(x, y, verbose=0), rtol=RTOL
    )


def test_weighted_metrics_with_sample_weights(keras64):
    ours, theirs = twins(keras64, mlp)
    for model, lib in ((ours, minikeras), (theirs, keras64)):
        model.compile(
            optimizer="sgd",
            loss="categorical_crossentropy",
            metrics=["accuracy"],
            weighted_metrics=["accuracy", lib.metrics.CategoricalCrossentropy()],
        )
    x, y = data(24)
    weights = np.linspace(0.1, 2.0, len(x))
    ours_history, theirs_history = fit_both(ours, theirs, x, y, sample_weight=weights)
    assert "weighted_accuracy" in ours_history
    assert_same(ours_history, theirs_history, ours, theirs)
    ours_eval = ours.evaluate(x, y, sample_weight=weights, verbose=0, return_dict=True)
    theirs_eval = theirs.evaluate(x, y, sample_weight=weights, verbose=0, return_dict=True)
    assert sorted(ours_eval) == sorted(theirs_eval)
    for key in ours_eval:
        np.testing.assert_allclose(ours_eval[key], theirs_eval[key], rtol=RTOL)


def test_per_output_sample_weights(keras64):
    def build(lib):
        x = lib.layers.Input(shape=(4,), name="x")
        h = lib.layers.Dense(5, activation="tanh", name="h")(x)
        a = lib.layers.Dense(3, activation="softmax", name="a")(h)
        b = lib.layers.Dense(1, name="b")(h)
        return lib.Model(x, [a, b])

    ours, theirs = twins(keras64, build)
    for model in (ours, theirs):
        model.compile(optimizer="sgd", loss=["categorical_crossentropy", "mse"])
    x, ya = data(18)
    yb = x[:, :1] * 2.0
    wa, wb = np.linspace(0.2, 1.5, len(x)), np.linspace(2.0, 0.1, len(x))
    weights, labels = [wa, wb], [ya, yb]  # one weight array per output, in their order
    fit = dict(epochs=2, batch_size=6, shuffle=False, verbose=0, sample_weight=weights)
    ours_history = ours.fit(x, labels, **fit).history
    theirs_history = theirs.fit(x, labels, **fit).history
    assert_same(ours_history, theirs_history, ours, theirs)


# ---------------------------------------------------------------- summary(), as Keras prints it
def chain(lib):
    return lib.Sequential(
        [
            lib.layers.Input(shape=(4,)),
            lib.layers.Dense(5, activation="tanh", name="hidden"),
            lib.layers.Dense(3, name="scores"),
        ],
        name="chain",
    )


def branches(lib):
    """Two inputs, one Dense with a long name: the "Connected to" column, and cells that wrap."""
    a = lib.layers.Input(shape=(4,), name="a")
    b = lib.layers.Input(shape=(3,), name="b")
    d = lib.layers.Dense(5, name="shared_dense_with_a_long_name")(a)
    c = lib.layers.Concatenate(name="cat")([d, lib.layers.Dense(5, name="db")(b)])
    return lib.Model([a, b], lib.layers.Dense(1, name="out")(c), name="branches")


def nested(lib):
    """A Sequential inside a functional model, and a frozen functional one inside a
    Sequential (expand_nested lists their layers under them)."""
    x = lib.layers.Input(shape=(4,), name="x")
    inner = lib.Model(x, lib.layers.Dense(2, name="inner_out")(x), name="inner")
    inner.trainable = False
    i = lib.layers.Input(shape=(4,), name="i")
    joined = lib.layers.Concatenate(name="join")([chain(lib)(i), inner(i)])
    return lib.Model(i, lib.layers.Dense(2, name="top")(joined), name="outer")


def nested_sequential(lib):
    x = lib.layers.Input(shape=(4,), name="x")
    inner = lib.Model(x, lib.layers.Dense(2, name="inner_out")(x), name="inner")
    inner.trainable = False
    return lib.Sequential(
        [lib.layers.Input(shape=(4,)), inner, lib.layers.Dense(3, name="last")], name="outer"
    )


def wrappers(lib):
    return lib.Sequential(
        [
            lib.layers.Input(shape=(5, 4)),
            lib.layers.TimeDistributed(lib.layers.Dense(3, name="td_dense"), name="td"),
            lib.layers.Bidirectional(lib.layers.LSTM(2, name="lstm"), name="bi"),
        ],
        name="wrappers",
    )


def built_by_a_call(lib):
    """No Input: built on the first batch it is called on, whose size the summary shows."""
    model = lib.Sequential(
        [lib.layers.Dense(5, name="hidden"), lib.layers.Dense(3, name="scores")], name="called"
    )
    model(np.zeros((7, 4), "float32"))
    return model


def unbuilt(lib):
    return lib.Sequential(
        [lib.layers.Dense(5, name="hidden"), lib.layers.Dense(3, name="scores")], name="unbuilt"
    )


def trained(lib):
    """An optimizer built by fit adds its own line (its step counter is an int64)."""
    model = chain(lib)
    model.compile(optimizer="adam", loss="mse")
    model.fit(np.zeros((4, 4)), np.zeros((4, 3)), verbose=0)
    return model


SUMMARY_CASES = [
    (chain, {}),
    (chain, {"line_length": 60}),
    (chain, {"line_length": 120}),  # wider than the terminal: rich cuts each line at 80
    (chain, {"positions": [0.3, 0.6, 1.0]}),
    (chain, {"positions": [0.2, 0.5, 0.7, 1.0]}),  # more positions than columns: the table fills
    (chain, {"line_length": 50, "show_trainable": True}),  # the header wraps and is cut with …
    (chain, {"positions": [10, 20, 30]}),  # absolute positions are taken as fractions, as Keras
    (chain, {"layer_range": ["sc.*", "hid"]}),  # regular expressions, given last to first
    (branches, {}),
    (branches, {"line_length": 60, "show_trainable": True}),
    (nested, {"expand_nested": True}),
    (nested, {"expand_nested": True, "show_trainable": True, "line_length": 100}),
    (nested_sequential, {"expand_nested": True, "show_trainable": True}),
    (wrappers, {"expand_nested": True}),  # wrappers are not models: nothing to expand
    (built_by_a_call, {}),
    (unbuilt, {"show_trainable": True}),
    (trained, {}),
]


@pytest.mark.parametrize(
    "build, options",
    SUMMARY_CASES,
    ids=[f"{build.__name__}-{options}" for build, options in SUMMARY_CASES],
)
def test_summary_prints_the_text_keras_prints(keras, monkeypatch, build, options):
    """The same model in both libraries, the same options: the same text, character for
    character (the terminal is 80 columns, as where no terminal is found)."""
    monkeypatch.setenv("COLUMNS", "80")
    ours, theirs = [], []
    build(minikeras).summary(print_fn=ours.append, **options)
    build(keras).summary(print_fn=lambda text, line_break=False: theirs.append(text), **options)
    assert len(ours) == len(theirs) == 1
    assert ours[0] == theirs[0]


def test_summary_on_a_wide_terminal(keras, monkeypatch, capsys):
    """The default line length is the terminal's width less 4, at most Keras's 88; print_fn
    None prints the same text."""
    monkeypatch.setenv("COLUMNS", "130")
    for lib in (minikeras, keras):
        chain(lib).summary(show_trainable=True)
    ours, theirs = capsys.readouterr().out.split('Model: "chain"')[1:]
    assert len(ours.splitlines()[1]) == 100  # 88 + 12 for the Trainable column
    assert ours == theirs


@pytest.mark.parametrize(
    "options, error",
    [
        ({"line_length": 10}, ValueError),  # columns under 4 characters
        ({"layer_range": ["hidden"]}, ValueError),
        ({"layer_range": ["hidden", 3]}, ValueError),
        ({"layer_range": ["nothing", "scores"]}, ValueError),
        ({"positions": [0.5, 1.0]}, IndexError),  # fewer positions than columns
    ],
)
def test_summary_refuses_what_keras_refuses(keras, options, error):
    for lib in (minikeras, keras):
        with pytest.raises(error):
            chain(lib).summary(print_fn=lambda text, line_break=False: None, **options)


def test_load_weights_keeps_the_compiled_optimizer(keras64, tmp_path):
    """A model compiled with Adam(1e-5) takes a .weights.h5 of one trained with Adam(0.05):
    Keras keeps its own learning rate and a fresh optimizer (the file's state is skipped,
    with a warning, since the new optimizer has not been built); so does minikeras."""
    x, y = data()
    for lib in (minikeras, keras64):
        trained = mlp(lib)
        trained.compile(optimizer=lib.optimizers.Adam(0.05), loss="categorical_crossentropy")
        trained.fit(x, y, epochs=1, verbose=0)
        path = tmp_path / f"{lib.__name__}.weights.h5"
        trained.save_weights(path)
        fresh = mlp(lib)
        fresh.compile(optimizer=lib.optimizers.Adam(1e-5), loss="categorical_crossentropy")
        with pytest.warns(UserWarning, match="Skipping variable loading for optimizer"):
            fresh.load_weights(path)
        for a, b in zip(fresh.get_weights(), trained.get_weights()):
            np.testing.assert_array_equal(a, b)
        assert float(np.asarray(fresh.optimizer.learning_rate)) == pytest.approx(1e-5)
        assert int(np.asarray(fresh.optimizer.iterations)) == 0


def test_mode_auto_reads_the_direction_from_a_renamed_metric(keras64):
    """EarlyStopping and ModelCheckpoint with mode='auto' on `val_err`, a MeanAbsoluteError
    named "err": both libraries minimise it (the direction comes from the metric object)."""
    x, _ = data(20)
    y = x[:, :1]
    for lib in (minikeras, keras64):
        model = lib.Sequential([lib.layers.Input(shape=(4,)), lib.layers.Dense(1)])
        model.compile(
            optimizer="sgd", loss="mse", metrics=[lib.metrics.MeanAbsoluteError(name="err")]
        )
        stop = lib.callbacks.EarlyStopping(monitor="val_err", patience=5)
        model.fit(x, y, epochs=2, validation_split=0.25, callbacks=[stop], verbose=0)
        assert bool(stop.monitor_op(1.0, 2.0)) and not bool(stop.monitor_op(2.0, 1.0))


# ---------------------------------------------------------------- metric configs
METRIC_ARGUMENTS = {  # the arguments a metric cannot be made without
    "MeanIoU": {"num_classes": 3},
    "OneHotMeanIoU": {"num_classes": 3},
    "IoU": {"num_classes": 3, "target_class_ids": [0]},
    "OneHotIoU": {"num_classes": 3, "target_class_ids": [0]},
    "SensitivityAtSpecificity": {"specificity": 0.5},
    "SpecificityAtSensitivity": {"sensitivity": 0.5},
    "PrecisionAtRecall": {"recall": 0.5},
    "RecallAtPrecision": {"precision": 0.5},
}
METRIC_CLASSES = sorted(
    name
    for name, cls in vars(minikeras.metrics).items()
    if isinstance(cls, type) and issubclass(cls, minikeras.metrics.Metric)
)


@pytest.mark.parametrize("floatx", ["float32", "float64"])
def test_every_metric_config_is_keras_s(keras, floatx):
    """Each metric class's get_config(), `dtype` included, made with the same arguments (its
    default dtype, an explicit float64, a name), under either floatx."""
    from minikeras.parity.keras_env import floatx as keras_floatx

    with keras_floatx(floatx):
        for name in METRIC_CLASSES:
            for extra in ({}, {"dtype": "float64"}, {"name": "renamed"}):
                args = {**METRIC_ARGUMENTS.get(name, {}), **extra}
                ours, theirs = getattr(minikeras.metrics, name), getattr(keras.metrics, name)
                if name == "MeanMetricWrapper":
                    ours = ours(minikeras.losses.mean_squared_error, **args)
                    theirs = theirs(keras.losses.mean_squared_error, **args)
                else:
                    ours, theirs = ours(**args), theirs(**args)
                ours_config, theirs_config = ours.get_config(), theirs.get_config()
                ours_config.pop("name"), theirs_config.pop("name")  # numbered in each library
                assert ours_config == theirs_config, (name, extra)
                if extra.get("name"):
                    assert ours.name == theirs.name == "renamed"


def test_a_mean_metric_wrapper_config_comes_back(keras):
    """MeanMetricWrapper writes its function as Keras does, and each library reads the
    other's config back to the same function."""
    ours = minikeras.metrics.MeanMetricWrapper(minikeras.losses.mean_absolute_error, name="m")
    theirs = keras.metrics.MeanMetricWrapper(keras.losses.mean_absolute_error, name="m")
    assert ours.get_config() == theirs.get_config()
    y_true, y_pred = np.array([[0.0, 1.0], [2.0, 0.5]]), np.array([[1.0, 1.0], [0.0, 0.0]])
    again = minikeras.metrics.MeanMetricWrapper.from_config(theirs.get_config())
    back = keras.metrics.MeanMetricWrapper.from_config(ours.get_config())
    np.testing.assert_allclose(float(again(y_true, y_pred)), float(back(y_true, y_pred)), 1e-6)
