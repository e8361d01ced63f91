"""examples/functional.py (two inputs, two outputs, on scikit-learn's wine data) runs as a user
runs it, in its fast mode, and prints what a functional model should."""

import os
import pathlib
import re
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent


def test_functional_example_runs_in_fast_mode():
    result = subprocess.run(
        [sys.executable, "examples/functional.py"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "MINIKERAS_FAST": "1"},
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Connected to" in out and "concatenate[0][0]" in out  # the functional summary
    assert (
        "History keys: ['alcohol_loss', 'alcohol_mae', 'cultivar_accuracy', 'cultivar_loss', "
        "'loss']" in out
    )
    epochs = re.findall(r"epoch +(\d+): loss (\d\.\d{4}) ≈ (\d\.\d{4}) \+ 0\.5 × (\d\.\d{4})", out)
    assert [int(e[0]) for e in epochs] == [1, 3, 5]
    first, last = (float(epochs[0][1]), float(epochs[-1][1]))
    assert last < first  # five epochs of Adam already lower the loss
    # the total is 1·cultivar + 0.5·alcohol batch by batch; over an epoch, nearly (the outputs'
    # logged losses average batches, the total averages samples, and the last batch is smaller)
    for _, total, cultivar, alcohol in epochs:
        assert abs(float(total) - (float(cultivar) + 0.5 * float(alcohol))) < 0.1 * float(total)
    assert re.search(r"test: cultivar accuracy \d\.\d{4}, alcohol MAE \d+\.\d{3} % vol", out)
