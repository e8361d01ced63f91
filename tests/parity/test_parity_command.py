"""`python -m minikeras parity` as a user runs it, and the promise that `import minikeras` never
imports TensorFlow or Keras (the parity code imports them inside its functions)."""

import json
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]


def run(args, **kwargs):
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, capture_output=True, text=True, timeout=900, **kwargs
    )


def test_parity_command_passes(keras, tmp_path):
    """The default report (every named case, float32) exits 0, prints the table with its
    columns, and writes every comparison to --json."""
    report = tmp_path / "parity.json"
    done = run(["-m", "minikeras", "parity", "--json", str(report)])
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    out = done.stdout
    header = "case | component | max abs diff | max rel diff | tolerance | ok"
    assert " ".join(out.splitlines()[1].split()) == header
    assert "all within tolerance" in out and "FAIL" not in out
    data = json.loads(report.read_text())
    assert data["passed"] is True and data["dtype"] == "float32"
    cases = {case["name"] for case in data["cases"]}
    assert "tutorial 784-64-10" in cases
    assert {f"activation {a}" for a in ("relu", "gelu", "leaky_relu", "swish")} <= cases
    components = {row["component"].split()[0] for row in data["rows"]}
    assert {"predict", "output", "loss", "gradient", "step", "slot", "History", "weights"} <= (
        components
    )
    assert all(row["ok"] for row in data["rows"]) and len(data["rows"]) > 1000


def test_parity_command_float64_and_random_cases(keras, tmp_path):
    report = tmp_path / "parity64.json"
    args = ["--float64", "--only", "ragged", "--random", "2", "--seed", "3", "--json", str(report)]
    done = run(["-m", "minikeras", "parity", *args])
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    data = json.loads(report.read_text())
    assert data["dtype"] == "float64" and len(data["cases"]) == 3
    assert max(row["max_rel"] for row in data["rows"]) <= 1e-10


def test_parity_command_exits_nonzero_on_a_difference(keras):
    """A wrong formula makes the command fail (exit 1) and name the component."""
    code = (
        "import sys, minikeras.activations as a\n"
        "from minikeras import kernels\n"
        "kernels.FUSED_ACTIVATIONS = ('linear',)\n"
        "a._BACKWARD[a.relu] = lambda x, y, dy: dy * (x > 0) * 1.001\n"
        "from minikeras.parity import cli\n"
        "sys.exit(cli.main(['--only', 'activation relu']))\n"
    )
    done = run(["-c", code])
    assert done.returncode == 1, done.stdout[-3000:] + done.stderr[-3000:]
    assert "FAILED  activation relu | gradient dense/kernel" in done.stdout


def test_parity_command_without_keras_says_how_to_install():
    code = (
        "import sys\n"
        "sys.modules['keras'] = None  # as if Keras were not installed\n"
        "from minikeras.parity import cli\n"
        "sys.exit(cli.main([]))\n"
    )
    done = run(["-c", code])
    assert done.returncode == 2
    assert "pip install 'minikeras[parity]'" in done.stdout


@pytest.mark.parametrize(
    "module", ["minikeras", "minikeras.parity", "minikeras.testing", "minikeras.parity.cli"]
)
def test_importing_does_not_import_keras_or_tensorflow(module):
    code = (
        f"import sys, {module}\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('keras', 'tensorflow'))\n"
        "assert not heavy, heavy\n"
    )
    done = run(["-c", code])
    assert done.returncode == 0, done.stderr
