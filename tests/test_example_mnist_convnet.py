"""examples/mnist_convnet.py runs as a user runs it: keras.io's model, its progress bar, the
test score and the history plot (briefly: 2 epochs on 500 images)."""

import os
import pathlib
import re
import subprocess
import sys

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parent.parent


def test_mnist_convnet_runs_with_progress_score_and_plot(tmp_path):
    plot = tmp_path / "history.png"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MINIKERAS_PLOT": str(plot)}
    result = subprocess.run(
        [sys.executable, "examples/mnist_convnet.py", "--fast"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    out = result.stdout
    assert "x_train shape: (500, 28, 28, 1)" in out
    assert "conv2d_1 (Conv2D)" in out and "34,826" in out  # keras.io's model, its parameters
    assert re.search(r"4/4 ━{20} .* - val_accuracy: \d\.\d{4} - val_loss: \d\.\d{4}", out)
    assert "Epoch 2/2" in out
    assert 0.0 <= float(re.search(r"Test accuracy: ([\d.]+)", out).group(1)) <= 1.0
    assert plot.exists() or "matplotlib is not installed" in out


def test_resize_is_tensorflows_bilinear_resize():
    """The example's NumPy resize against values worked by hand: a 2×2 image scaled to 4×4
    samples the input at (i + 0.5)/2 − 0.5 = −0.25 (clamped to 0), 0.25, 0.75, 1.25 (to 1)."""
    source = (ROOT / "examples" / "mnist_convnet.py").read_text()
    namespace = {}
    exec(source[source.index("def resize") : source.index("# Model / data")], {"np": np}, namespace)
    image = np.array([[[0.0, 4.0], [8.0, 12.0]]])
    resized = namespace["resize"](image, 4)
    np.testing.assert_allclose(resized[0, 0], [0, 1, 3, 4])
    np.testing.assert_allclose(resized[0, :, 0], [0, 2, 6, 8])
    np.testing.assert_allclose(resized[0, 1, 1], 0.25 * 8 + 0.25 * 4)
