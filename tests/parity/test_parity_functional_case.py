"""The functional case of `python -m minikeras parity`: two inputs through one shared Dense,
concatenated. Its Keras twin is built from minikeras's config; forward, gradients (the shared
kernel's summed over both calls), optimizer steps and a whole fit are compared, in float32 and
float64, and a wrong backward through the graph fails the case."""

import pathlib
import subprocess
import sys

import pytest

from minikeras.layers.merging import Concatenate
from minikeras.models import Functional
from minikeras.parity import cases, checks
from minikeras.utils import clear_session

ROOT = pathlib.Path(__file__).resolve().parents[2]


def functional_case(dtype="float32"):
    (case,) = [c for c in cases.named_cases(dtype) if c.graph]
    return case


def test_the_case_is_named_and_round_trips_through_json():
    case = functional_case()
    assert case.graph == "two inputs, shared Dense"
    assert "loss" not in case.components
    assert cases.Case.from_json(case.to_json()) == case
    clear_session()  # the unnamed layers' names count from dense, as in run_case
    model, data = cases.build(case)
    assert isinstance(model, Functional)
    assert [layer.name for layer in model.layers] == ["in_a", "in_b", "shared", "joined", "dense"]
    assert len(model.get_layer("shared")._inbound_nodes) == 2  # called on both inputs
    assert [x.shape for x in data["x"]] == [(case.n, case.input_dim)] * 2


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_the_case_agrees_with_keras(keras, dtype):
    rows = checks.run_case(functional_case(dtype))
    bad = [f"{r.component}: {r.max_rel:.2e} > {r.tolerance:.1e} {r.note}" for r in rows if not r.ok]
    assert not bad, bad
    names = {row.component for row in rows}
    assert {"predict", "gradient shared/kernel", "History loss", "evaluate accuracy"} <= names
    assert "slot momentum shared/kernel" in names


def test_a_wrong_backward_through_the_graph_fails_the_case(keras, monkeypatch):
    original = Concatenate.backward
    monkeypatch.setattr(
        Concatenate, "backward", lambda self, dy: [d * 1.001 for d in original(self, dy)]
    )
    rows = checks.run_case(functional_case(), components=["gradients"])
    failed = {row.component for row in rows if not row.ok}
    assert "gradient shared/kernel" in failed


def test_the_command_runs_it(keras):
    done = subprocess.run(
        [sys.executable, "-m", "minikeras", "parity", "--only", "functional"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "functional: two inputs, shared Dense" in done.stdout
    assert "all within tolerance" in done.stdout
