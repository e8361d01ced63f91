"""examples/addition_rnn.py runs as a user runs it, here in a short version (1,000 questions, one
epoch: a check that it trains and reports, not of the accuracy its full run reaches)."""

import os
import pathlib
import re
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent


def test_addition_rnn_short_run():
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MINIKERAS_KERNELS": "numba"}
    result = subprocess.run(
        [sys.executable, "examples/addition_rnn.py", "--samples", "1000", "--epochs", "1"]
        + ["--target", "0"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    out = result.stdout
    assert "repeat_vector (RepeatVector)" in out  # the summary, Keras's names
    assert "29/29 ━━━━━━━━━━━━━━━━━━━━" in out  # the progress bar: 900 questions, batch 32
    accuracy = float(re.search(r"validation accuracy (\d\.\d+)", out).group(1))
    assert 0.0 <= accuracy <= 1.0
    # eight validation questions, each with its answer and the model's guess
    assert len(re.findall(r"^Q [\d+ ]{7}  T [\d ]{4}  [☑☒] ", out, flags=re.MULTILINE)) == 8
