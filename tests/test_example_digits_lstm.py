"""examples/digits_lstm.py runs as a user runs it and reaches its promised test accuracy."""

import os
import pathlib
import re
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent


def test_digits_lstm_reaches_95_percent():
    # this tree's minikeras first; the numba kernels, as a user gets by default (the example
    # checks learning: the two kernel sets are held to each other by tests/unit/test_rnn.py)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MINIKERAS_KERNELS": "numba"}
    result = subprocess.run(
        [sys.executable, "examples/digits_lstm.py"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    accuracy = float(re.search(r"test accuracy (\d\.\d+)", result.stdout).group(1))
    assert accuracy >= 0.95, accuracy
    assert "lstm (LSTM)" in result.stdout  # the summary names the layer as Keras does
