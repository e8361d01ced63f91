"""examples/subclassed_model.py runs as a user runs it (fast mode): its gradient check passes,
it trains, and beside Keras (installed for the tests) the histories and weights agree."""

import os
import pathlib
import re
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent


def test_subclassed_model_example_trains_as_keras_does():
    result = subprocess.run(
        [sys.executable, "examples/subclassed_model.py"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "MINIKERAS_FAST": "1"},
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "layers: ['gated_linear', 'dropout', 'dense']" in out
    assert float(re.search(r"worst relative error: (\S+)", out).group(1)) < 1e-5
    epochs = re.findall(r"epoch +\d+: loss (\d\.\d{4})   Keras: loss (\d\.\d{4})", out)
    assert len(epochs) == 2 and float(epochs[1][0]) < float(epochs[0][0])
    assert all(ours == theirs for ours, theirs in epochs)  # to 4 decimals, as printed
    # float32, 2 epochs of Adam: rounding differences of a few 1e-7 (the parity tolerances)
    assert float(re.search(r"difference from Keras after training: (\S+)", out).group(1)) < 1e-5
