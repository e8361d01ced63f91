"""The seed tutorial (examples/tutorial.py) runs as a user runs it, and prints what Keras prints."""

import pathlib
import re
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent

# the end of a Keras progress line: `32/32 ━━━━ 0s 2ms/step - accuracy: 0.0970 - loss: 2.4090`
FINAL_LINE = re.compile(
    r"32/32 ━{20} \d+s \d+(?:\.\d+)?(?:ms|us|s)/step - accuracy: (\d\.\d{4}) - loss: (\d\.\d{4})"
)


def run_script(*args):
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, capture_output=True, text=True, timeout=300
    )


def test_tutorial_trains_with_keras_style_progress():
    result = run_script("examples/tutorial.py")
    assert result.returncode == 0, result.stderr
    # the progress bar is redrawn in place with \r; the last drawing is the finished epoch
    drawings = [d for d in re.split(r"[\r\n]", result.stdout) if d.strip()]
    match = FINAL_LINE.search(drawings[-1])
    assert match, drawings[-1]
    accuracy, loss = float(match.group(1)), float(match.group(2))
    # 1000 random samples, 10 random classes, one epoch: chance level, loss ≈ ln 10 ≈ 2.30
    assert abs(loss - 2.3) < 0.25, loss
    assert 0.0 <= accuracy < 0.25, accuracy
    assert "Epoch" not in result.stdout  # one epoch: Keras prints no `Epoch 1/1`
    # input_dim works, with Keras 3's warning about it
    assert "Input(shape)" in result.stderr


def test_tutorial_is_the_seed_program_with_minikeras_for_keras():
    source = (ROOT / "examples" / "tutorial.py").read_text()
    assert "import keras" not in source and "from keras" not in source
    for line in (
        "from minikeras.models import Sequential",
        "from minikeras.utils import np_utils",
        "model.add(Dense(64, activation='relu', input_dim=784))",
        "model.fit(data, labels)",
    ):
        assert line in source
