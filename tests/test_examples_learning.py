"""The learning material runs as a learner runs it: each example in its fast mode, the
walkthrough notebook (nbmake), and `python -m minikeras trace`, each checked on what it prints."""

import importlib.util
import os
import pathlib
import re
import subprocess
import sys

import numpy as np
import pytest
from needs import missing

from minikeras import trace
from minikeras.utils import set_random_seed

ROOT = pathlib.Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"


def run(args, cwd, timeout=300):
    env = dict(os.environ, MINIKERAS_FAST="1", PYTHONPATH=str(ROOT))
    done = subprocess.run(
        [sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
    )
    assert done.returncode == 0, f"{args} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def run_example(name, tmp_path):
    return run([str(EXAMPLES / name), "--fast"], cwd=tmp_path)


def test_digits(tmp_path):
    out = run_example("digits.py", tmp_path)
    assert "train (1347, 64), test (450, 64), classes 10" in out
    assert re.search(r"test loss \d\.\d{4}, test accuracy 0\.\d{4}", out)
    assert "predicted:" in out
    assert (tmp_path / "digits_history.png").stat().st_size > 1000


def test_digits_convnet_reaches_its_accuracy(tmp_path):
    """The whole example (20 epochs, not the fast mode): it exits with an error below 0.98.
    BLAS on one thread: these products are small, and on a busy 2-core machine two BLAS
    threads waiting on each other made an epoch 10-30x slower (measured)."""
    env = dict(os.environ, PYTHONPATH=str(ROOT), OPENBLAS_NUM_THREADS="1")
    env.pop("MINIKERAS_FAST", None)
    done = subprocess.run(
        [sys.executable, str(EXAMPLES / "digits_convnet.py")],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, f"{done.stdout}\n{done.stderr}"
    out = done.stdout
    assert "train (1347, 8, 8, 1), test (450, 8, 8, 1), classes 10" in out
    accuracy = float(re.search(r"test accuracy (0\.\d{4})", out).group(1))
    assert accuracy >= 0.98, accuracy
    assert "Epoch 20/20" in out


def test_breast_cancer(tmp_path):
    out = run_example("breast_cancer.py", tmp_path)
    assert "train (426, 30), test (143, 30)" in out
    assert re.search(r"test loss \d\.\d{4}, test accuracy 0\.\d{4}", out)
    probabilities = re.search(r"P\(benign\) of 5 test tumours: \[(.*)\]", out).group(1)
    assert all(0 <= float(p) <= 1 for p in probabilities.split(","))


def test_diabetes(tmp_path):
    out = run_example("diabetes.py", tmp_path)
    assert "baseline (always predict the training mean): test MAE" in out
    for loss, metric in (("mse", "mae"), ("mae", "mse")):
        assert re.search(rf"loss={loss}: last epoch \{{'loss': [\d.]+, '{metric}': [\d.]+\}}", out)
        assert re.search(rf"loss={loss}: test MSE [\d.]+, test MAE [\d.]+", out)


def test_training_loop_by_hand_gives_fits_history(tmp_path):
    out = run_example("training_loop_by_hand.py", tmp_path)
    assert out.count("fit: loss") == 2  # two epochs in the fast mode
    assert "largest difference in the final weights: 0" in out
    assert "same history as fit: yes" in out


def test_custom_layer_check_tells_right_from_wrong(tmp_path):
    out = run_example("custom_layer.py", tmp_path)
    assert re.search(r"ParametricReLU +dx \S+ +dalpha \S+ +right", out)
    assert re.search(r"WrongParametricReLU +dx \S+ +dalpha \S+ +WRONG", out)
    assert "held-out accuracy" in out


def test_walkthrough_notebook_runs(tmp_path):
    importlib.import_module("nbmake")  # in the test extra: missing is a failure, not a skip
    run(
        ["-m", "pytest", "-q", "-p", "no:cacheprovider", "--nbmake", "docs/walkthrough.ipynb"],
        cwd=ROOT,
    )


# ----------------------------------------------------------------------------- the trace
def test_trace_command_without_keras(tmp_path):
    out = run(["-m", "minikeras", "trace", "--no-keras"], cwd=tmp_path)
    stages = re.findall(r"^== (\d+)\. (\w+)", out, flags=re.M)
    assert [s[1] for s in stages] == [
        "inputs",
        "weights",
        "forward",
        "forward",
        "loss",
        "backward",
        "backward",
        "update",
    ]
    for name in (
        "dense: z",
        "dense_1: a",
        "dense_1: dL/dz",
        "dense: dL/dkernel",
        "dense_1: bias: velocity after",
        "dense: kernel: new value",
    ):
        assert f"\n{name}  shape" in out
    assert "keras" not in out.lower().replace("--no-keras", "")


def test_trace_step_is_the_training_step():
    """The traced step changes the weights and slots exactly as train_on_batch does."""
    model = trace.tutorial_model("adam")
    twin = trace.tutorial_model("adam")
    x, y = trace.tutorial_data()
    record = trace.step(model, x, y, keras=False, print_fn=None)
    loss = twin.train_on_batch(x, y, return_dict=True)["loss"]
    assert record.value("loss") == pytest.approx(loss, rel=1e-6)
    for ours, theirs in zip(model.get_weights(), twin.get_weights()):
        np.testing.assert_array_equal(ours, theirs)
    for slot in model.optimizer.slot_names:
        for ours, theirs in zip(model.optimizer.slots[slot], twin.optimizer.slots[slot]):
            np.testing.assert_array_equal(ours, theirs)


def test_trace_records_the_hand_formulas():
    set_random_seed(0)
    model = trace.tutorial_model()
    x, y = trace.tutorial_data()
    record = trace.step(model, x, y, keras=False, print_fn=None)
    z1 = record.value("dense: z")
    dz2 = record.value("dense_1: dL/dz")
    np.testing.assert_allclose(dz2, (record.value("dense_1: a") - y) / len(x), atol=1e-7)
    np.testing.assert_allclose(
        record.value("dense: dL/dz"), record.value("dense: dL/da") * (z1 > 0), atol=1e-7
    )
    np.testing.assert_allclose(
        record.value("dense: dL/dkernel"), x.T @ record.value("dense: dL/dz"), atol=1e-6
    )


def test_import_trace_does_not_import_keras():
    code = (
        "import sys, minikeras, minikeras.trace; "
        "assert 'keras' not in sys.modules and 'tensorflow' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


def test_trace_beside_keras(tmp_path):
    if importlib.util.find_spec("keras") is None:
        missing("Keras")
    out = run(["-m", "minikeras", "trace"], cwd=tmp_path)
    assert "beside minikeras" in out
    assert out.count("max |diff|") == 26  # every array but the weights before the step
    largest = float(re.search(r"largest difference over the whole step: (\S+)", out).group(1))
    assert largest < 1e-6
