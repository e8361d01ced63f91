"""The command line, run as a user runs it: `python -m minikeras ...`."""

import pathlib
import re
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent


def minikeras(*args, timeout=300):
    return subprocess.run(
        [sys.executable, "-m", "minikeras", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_help_lists_the_commands():
    result = minikeras("--help")
    assert result.returncode == 0, result.stderr
    for command in ("demo", "parity", "trace", "bench"):
        assert re.search(rf"^\s+{command}\s+\S", result.stdout, re.MULTILINE), command
    # no command: the same help, not an error
    bare = minikeras()
    assert bare.returncode == 0 and "demo" in bare.stdout


def test_demo_trains_the_tutorial_model():
    result = minikeras("demo")
    assert result.returncode == 0, result.stderr
    assert "Total params: 50,890 (198.79 KB)" in result.stdout
    assert "32/32 ━━━━━━━━━━━━━━━━━━━━" in result.stdout
    final = re.search(r"\{'accuracy': ([\d.]+), 'loss': ([\d.]+)\}", result.stdout)
    assert final, result.stdout[-500:]
    accuracy, loss = float(final.group(1)), float(final.group(2))
    assert abs(loss - 2.3) < 0.25 and 0.0 <= accuracy < 0.25


def test_demo_takes_epochs_and_verbose():
    result = minikeras("demo", "--epochs", "2", "--verbose", "2")
    assert result.returncode == 0, result.stderr
    assert "Epoch 1/2" in result.stdout and "Epoch 2/2" in result.stdout
    assert re.search(r"^32/32 - \d+s - ", result.stdout, re.MULTILINE)


def test_unknown_command_fails_with_usage():
    result = minikeras("trian")
    assert result.returncode != 0
    assert "invalid choice: 'trian'" in result.stderr


def test_import_minikeras_does_not_import_tensorflow_or_keras():
    code = (
        "import sys, minikeras\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras'))\n"
        "print(heavy)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
