"""The compiled training step (models/compiled_step.py) against the layer-by-layer step it
replaces: the same weights, History and metrics to the last bit, on random models; and the one
optimizer call for every weight (optimizers/flat_update.py) against the weight-by-weight update,
for every optimizer and its options.

Bit-identical, not close: both paths run the same arithmetic in the same order (the compiled
step calls the same kernels, BLAS with NumPy's arguments, NumPy's summation order), so any
difference is a bug, and the tolerance is zero.
"""

import itertools
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minikeras
from minikeras import Input, Sequential, optimizers
from minikeras.layers import Dense
from minikeras.models import compiled_step
from minikeras.parity import cases
from minikeras.utils import progbar
from tests import strategies


def _steps_compiled():
    """Whether fit takes the compiled step: it is the Numba kernel set's (with the NumPy
    reference, never), and its products are BLAS's (under MINIKERAS_MATMUL=numba, never: the
    step layer by layer would not round alike)."""
    from minikeras.kernels import numba_gemm

    on_blas = numba_gemm.MATMUL != "numba" and numba_gemm.AUTO_NUMBA_BELOW == 0
    return minikeras.kernels.current() == "numba" and on_blas


def _layer_by_layer(monkeypatch):
    """From here on, every step runs layer by layer."""
    monkeypatch.setattr(compiled_step, "for_model", lambda *args, **kwargs: None)


def _fit(case, data, model):
    minikeras.utils.set_random_seed(case.seed)  # the same shuffles for both models
    return model.fit(
        data["x"],
        data["y"],
        batch_size=case.batch_size,
        epochs=case.epochs,
        verbose=0,
        sample_weight=data["sample_weight"],
        validation_split=case.validation_split,
        validation_data=data["validation_data"],
    ).history


@settings(max_examples=12, deadline=None)
@given(case=strategies.compiled_step_cases("float32"), float64=st.booleans())
def test_fit_is_bit_identical_to_the_layer_by_layer_step(case, float64):
    dtype = "float64" if float64 else "float32"
    case = cases.Case.from_json(case.to_json().replace('"float32"', f'"{dtype}"'))
    minikeras.config.set_floatx(dtype)
    compiled, data = cases.build(case)
    reference, _ = cases.build(case)
    with pytest.MonkeyPatch.context() as monkeypatch:
        runs = []
        run = compiled_step.DenseStackStep.run

        def counted(self, x, y):
            runs.append(len(x))
            return run(self, x, y)

        run_batches = compiled_step.DenseStackStep.run_batches

        def counted_batches(self, adapter, order, first, stop):  # an epoch's batches in one call
            run_batches(self, adapter, order, first, stop)
            n, batch = len(adapter.x), adapter.batch_size
            runs.extend(min(batch, n - b * batch) for b in range(first, stop))

        monkeypatch.setattr(compiled_step.DenseStackStep, "run", counted)
        monkeypatch.setattr(compiled_step.DenseStackStep, "run_batches", counted_batches)
        history = _fit(case, data, compiled)
        _layer_by_layer(monkeypatch)
        expected = _fit(case, data, reference)
    assert history == expected
    for ours, theirs in zip(compiled.get_weights(), reference.get_weights()):
        np.testing.assert_array_equal(ours, theirs)
    np.testing.assert_array_equal(
        compiled.predict(data["x"], verbose=0), reference.predict(data["x"], verbose=0)
    )
    smallest = min([case.input_dim] + [layer["units"] for layer in case.layers])
    numba = _steps_compiled()
    usable = numba and not case.sample_weight and not case.loss_args and smallest >= 2
    # from the first step on: a one-step fit takes it too (a batch of one sample never does)
    train = int(case.n * (1 - case.validation_split))
    assert bool(runs) == (usable and train >= 2 and case.batch_size >= 2)
    if runs:
        assert runs[0] == min(case.batch_size, train)


def _tutorial_model(optimizer="rmsprop"):
    minikeras.utils.set_random_seed(3)
    model = Sequential([Input((12,)), Dense(8, activation="relu"), Dense(4, activation="softmax")])
    model.compile(optimizer=optimizer, loss="categorical_crossentropy", metrics=["accuracy"])
    return model


def test_the_tutorial_model_takes_the_compiled_step():
    x, y = np.ones((4, 12), "float32"), np.eye(4, dtype="float32")
    model = _tutorial_model()
    model.train_on_batch(x, y)  # the metrics are made once labels are seen
    # the compiled step is the Numba kernel set's: with the NumPy reference, never taken
    assert compiled_step.supports(model) == _steps_compiled()
    model.compile(optimizer="rmsprop", loss="categorical_crossentropy", metrics=["mape"])
    model.train_on_batch(x, y)
    assert not compiled_step.supports(model)  # a metric it has no kernel for
    model.compile(optimizer="rmsprop", loss="binary_crossentropy", metrics=["accuracy"])
    model.train_on_batch(x, y)
    assert not compiled_step.supports(model)  # a crossentropy that is not from its logits
    model = Sequential([Input((12,)), Dense(8, activation="elu"), Dense(4, activation="softmax")])
    model.compile(optimizer="rmsprop", loss="categorical_crossentropy")
    model.train_on_batch(x, y)
    assert not compiled_step.supports(model)  # an activation it has no kernel for


def test_train_on_batch_is_bit_identical_to_the_layer_by_layer_step(monkeypatch):
    rng = np.random.default_rng(0)
    x = rng.random((5, 20, 12), dtype=np.float32)
    y = np.eye(4, dtype=np.float32)[rng.integers(0, 4, (5, 20))]
    compiled, reference = _tutorial_model(), _tutorial_model()
    ours = [compiled.train_on_batch(xb, yb) for xb, yb in zip(x, y)]
    _layer_by_layer(monkeypatch)
    theirs = [reference.train_on_batch(xb, yb) for xb, yb in zip(x, y)]
    assert ours == theirs
    for a, b in zip(compiled.get_weights(), reference.get_weights()):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("return_dict", [False, True])
def test_train_on_batch_logs_are_those_of_the_layer_by_layer_step(monkeypatch, return_dict):
    """Several metrics: the values in Keras's order (loss first, then the metrics as
    compiled), or a dict sorted by name, read straight from the compiled step's metrics."""
    minikeras.config.set_floatx("float64")
    rng = np.random.default_rng(8)
    x = rng.uniform(-2, 2, (3, 40, 6))
    y = (rng.random((3, 40, 13)) > 0.5).astype("float64")

    def train():
        minikeras.utils.set_random_seed(5)
        model = Sequential([Input((6,)), Dense(9, "tanh"), Dense(13, activation="sigmoid")])
        metrics = ["accuracy", "binary_accuracy", "mae", "mse"]
        model.compile(optimizer="adam", loss="binary_crossentropy", metrics=metrics)
        logs = [model.train_on_batch(xb, yb, return_dict=return_dict) for xb, yb in zip(x, y)]
        return model, logs

    compiled, ours = train()
    assert (compiled._compiled_step is not None) == (minikeras.kernels.current() == "numba")
    _layer_by_layer(monkeypatch)
    reference, theirs = train()
    assert ours == theirs
    if return_dict:
        assert [list(logs) for logs in ours] == [sorted(logs) for logs in theirs]
    else:
        assert all(len(logs) == 5 for logs in ours)


@pytest.mark.parametrize(
    "activation, loss, metrics",
    [
        ("sigmoid", "binary_crossentropy", ["accuracy", "binary_accuracy", "mae", "mse"]),
        ("linear", "mean_squared_error", ["mae", "mse"]),
        ("softmax", "mean_squared_error", ["accuracy"]),
        ("tanh", "mse", lambda: [minikeras.metrics.BinaryAccuracy(threshold=0.3)]),
    ],
)
def test_each_loss_and_metric_is_bit_identical_to_the_layer_by_layer_step(
    monkeypatch, activation, loss, metrics, dtype="float64"
):
    """Rows of 13 outputs (a mean over more than 8 entries: NumPy's pairwise order) and
    batches of 150 (a loss summed over more than 128: its blocks), then a ragged batch. In
    float64 (float32 too in the random models above): each combination of metrics is one more
    compiled specialisation, a few seconds of compiling on a cold cache."""
    minikeras.config.set_floatx(dtype)
    rng = np.random.default_rng(4)
    x = rng.uniform(-2, 2, (320, 6)).astype(dtype)
    y = (rng.random((320, 13)) > 0.5).astype(dtype)

    def fit():
        minikeras.utils.set_random_seed(5)
        model = Sequential([Input((6,)), Dense(9, "tanh"), Dense(13, activation=activation)])
        # a metric object made after set_floatx, in the model's dtype
        model.compile(
            optimizer="adam", loss=loss, metrics=metrics() if callable(metrics) else metrics
        )
        history = model.fit(x, y, batch_size=150, epochs=2, verbose=0).history
        return model, history

    compiled, history = fit()
    assert (compiled._compiled_step is not None) == _steps_compiled()
    _layer_by_layer(monkeypatch)
    reference, expected = fit()
    assert history == expected
    for a, b in zip(compiled.get_weights(), reference.get_weights()):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize(
    "optimizer",
    [
        optimizers.SGD(learning_rate=0.05, momentum=0.9, nesterov=True),
        optimizers.RMSprop(momentum=0.5, centered=True),
        optimizers.Adam(learning_rate=0.01, amsgrad=True),
    ],
    ids=["sgd", "rmsprop", "adam"],
)
@pytest.mark.parametrize(
    "n, shuffle, calls_per_epoch",
    [(70, True, [(0, 5)]), (65, False, [(0, 4)])],
    ids=["shuffled, last batch of 6", "in order, last batch of 1"],
)
def test_whole_epochs_are_bit_identical_to_the_layer_by_layer_step(
    monkeypatch, optimizer, n, shuffle, calls_per_epoch
):
    """Epochs of 4 batches of 16 and a shorter one: each epoch in one compiled call (Adam's t
    counted on across them and the epochs), shuffled rows gathered or, in order, read in
    place; a last batch of one sample runs alone, layer by layer."""
    rng = np.random.default_rng(6)
    x = rng.random((n, 12), dtype=np.float32)
    y = np.eye(4, dtype=np.float32)[rng.integers(0, 4, n)]
    calls = []
    run_batches = compiled_step.DenseStackStep.run_batches

    def counted(self, adapter, order, first, stop):
        calls.append((first, stop))
        run_batches(self, adapter, order, first, stop)

    def fit(callbacks=()):
        model = _tutorial_model(type(optimizer).from_config(optimizer.get_config()))
        minikeras.utils.set_random_seed(7)  # the same shuffles
        history = model.fit(
            x, y, batch_size=16, epochs=3, verbose=0, shuffle=shuffle, callbacks=list(callbacks)
        )
        return model, history.history

    monkeypatch.setattr(compiled_step.DenseStackStep, "run_batches", counted)
    compiled, history = fit()
    numba = _steps_compiled()
    assert calls == (calls_per_epoch * 3 if numba else [])
    # a callback that looks at each batch: batch by batch, the same numbers
    looks = minikeras.callbacks.LambdaCallback(on_batch_end=lambda batch, logs: None)
    stepwise, stepwise_history = fit([looks])
    assert len(calls) == (3 if numba else 0)
    _layer_by_layer(monkeypatch)
    reference, expected = fit()
    assert history == stepwise_history == expected
    assert compiled.optimizer.iterations == reference.optimizer.iterations == 15
    for a, b, c in zip(compiled.get_weights(), stepwise.get_weights(), reference.get_weights()):
        np.testing.assert_array_equal(a, c)
        np.testing.assert_array_equal(b, c)
    for a, b in zip(compiled.optimizer.variables, reference.optimizer.variables):
        np.testing.assert_array_equal(a, b)


def _last_lines(out):
    """Each epoch's last line of the bar (what stays on screen), its times masked."""
    finished = [line.rsplit("\r", 1)[-1] for line in out.split("\n")]
    return [re.sub(r"\d+(s|ms|us)\b", "T", line) for line in finished]


@pytest.mark.parametrize(
    "verbose, redraws", [(1, "by the clock"), (1, "never before the end"), (2, "at the end")]
)
def test_the_progress_bar_alone_lets_batches_run_between_redraws(
    monkeypatch, capsys, verbose, redraws
):
    """verbose=1: the progress bar is the only callback that looks at each batch, and it
    redraws at most every 0.05 s, so the batches between two redraws run in one call (with
    verbose=2 it prints only at the epoch's end: all but the first batch in one call). The
    first batch runs alone (the bar times the steps after it); the epoch's last line, the
    History and the weights are the batch-by-batch epoch's; a last batch of one sample runs
    layer by layer, with its own hook call."""
    rng = np.random.default_rng(8)
    x = rng.random((57, 12), dtype=np.float32)  # 7 batches of 8, and one of 1
    y = np.eye(4, dtype=np.float32)[rng.integers(0, 4, 57)]
    calls = []
    run_batches = compiled_step.DenseStackStep.run_batches

    def counted(self, adapter, order, first, stop):
        calls.append((first, stop))
        run_batches(self, adapter, order, first, stop)

    def fit():
        model = _tutorial_model("adam")  # its t counted on across the calls
        minikeras.utils.set_random_seed(7)
        history = model.fit(
            x, y, batch_size=8, epochs=2, verbose=verbose, validation_data=(x[:10], y[:10])
        )
        return model, history.history, capsys.readouterr().out

    monkeypatch.setattr(compiled_step.DenseStackStep, "run_batches", counted)
    if redraws == "never before the end":  # (the clock never decides what a test asserts)
        monkeypatch.setattr(progbar.Progbar, "redraw_due_in", lambda self: float("inf"))
    compiled, history, out = fit()
    _layer_by_layer(monkeypatch)
    reference, expected, expected_out = fit()
    assert history == expected
    assert _last_lines(out) == _last_lines(expected_out)
    for a, b in zip(compiled.get_weights(), reference.get_weights()):
        np.testing.assert_array_equal(a, b)
    if not _steps_compiled():
        assert calls == []
    elif redraws == "by the clock":
        assert calls[0] == (0, 1) and calls[-1][1] == 7
    else:
        assert calls == [(0, 1), (1, 7)] * 2


class _Batches(minikeras.utils.PyDataset):
    def __init__(self, x, y):
        super().__init__()
        self.x, self.y = x, y

    def __len__(self):
        return len(self.x)

    def __getitem__(self, i):
        return self.x[i], self.y[i]


@pytest.mark.parametrize("stream", ["generator", "PyDataset"])
def test_a_stream_takes_the_compiled_step_from_its_first_batch(monkeypatch, stream):
    rng = np.random.default_rng(2)
    x = rng.random((3, 16, 12), dtype=np.float32)
    y = np.eye(4, dtype=np.float32)[rng.integers(0, 4, (3, 16))]

    def data():  # three batches an epoch
        return (b for b in itertools.cycle(zip(x, y))) if stream == "generator" else _Batches(x, y)

    runs = []
    run = compiled_step.DenseStackStep.run

    def counted(self, xb, yb):
        runs.append(len(xb))
        return run(self, xb, yb)

    compiled, reference = _tutorial_model(), _tutorial_model()
    monkeypatch.setattr(compiled_step.DenseStackStep, "run", counted)
    history = compiled.fit(data(), epochs=2, steps_per_epoch=3, verbose=0, shuffle=False).history
    # its metrics are made from its first batch, and the step is looked up before that step
    assert runs == ([16] * 6 if compiled_step.supports(compiled) else [])
    _layer_by_layer(monkeypatch)
    expected = reference.fit(data(), epochs=2, steps_per_epoch=3, verbose=0, shuffle=False)
    assert history == expected.history
    for a, b in zip(compiled.get_weights(), reference.get_weights()):
        np.testing.assert_array_equal(a, b)


OPTIONS = [
    {},
    {"clipnorm": 0.05},
    {"global_clipnorm": 0.05},
    {"clipvalue": 0.01},
    {"weight_decay": 0.05},
    {"use_ema": True, "ema_overwrite_frequency": 2},
    {"gradient_accumulation_steps": 2},
]
EXTRA = {"sgd": {"momentum": 0.9, "nesterov": True}, "rmsprop": {"momentum": 0.5, "centered": True}}


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", strategies.ALL_OPTIMIZERS)
def test_one_call_for_every_weight_is_bit_identical_to_weight_by_weight(kernel_set, name, dtype):
    rng = np.random.default_rng(1)
    shapes = [(5, 3), (3,), (2, 3, 4), (1,)]
    for options in OPTIONS:
        config = {"learning_rate": 0.01, **EXTRA.get(name, {}), **options}
        cls = optimizers.Lamb if name == "lamb" else type(optimizers.get(name))
        flat, single = cls.from_config(config), cls.from_config(config)
        start = [np.array(rng.standard_normal(s), dtype) for s in shapes]
        a = [minikeras.autodiff.Variable(w) for w in start]
        b = [minikeras.autodiff.Variable(w) for w in start]
        for step in range(4):
            grads = [np.array(rng.standard_normal(s), dtype) for s in shapes]
            flat.apply(grads, a)
            if step == 0:
                single._layout = None  # built by its first apply below: weight by weight
                single.build(b)
                single._layout = None
            single.apply(grads, b)
        assert (flat._layout is not None) == (name != "adafactor")
        for x, y in zip(a, b):
            np.testing.assert_array_equal(x, y, err_msg=f"{name} {options}")
        for x, y in zip(flat.variables, single.variables):
            np.testing.assert_array_equal(x, y, err_msg=f"{name} {options}")


def test_train_on_batch_checks_what_the_compiled_step_cannot_take():
    model = _tutorial_model()
    x, y = np.ones((4, 12), "float32"), np.eye(4, dtype="float32")
    model.train_on_batch(x, y)
    with pytest.raises(ValueError, match="expected axis -1 of input shape to have value 12"):
        model.train_on_batch(np.ones((4, 11), "float32"), y)
    # float64 or list inputs are converted as before, to the same numbers
    other = _tutorial_model()
    other.train_on_batch(x, y)
    assert model.train_on_batch(x.astype("float64"), y.tolist()) == other.train_on_batch(x, y)
    # compiled again with a metric the step has no kernel for: the layer-by-layer step runs
    model.compile(optimizer="sgd", loss="categorical_crossentropy", metrics=["mape"])
    assert len(model.train_on_batch(x, y)) == 2
    assert compiled_step.for_batch(model, x, y, None, None) is None
