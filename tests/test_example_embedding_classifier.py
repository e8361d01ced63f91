"""examples/embedding_classifier.py runs as a learner runs it (fast mode), with Keras's progress
bar, and its sentences, ids and predictions print as it says."""

import os
import pathlib
import re
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent

# the finished epoch: 2,700 training sentences in batches of 32 → 85 steps
FINAL_LINE = re.compile(
    r"85/85 ━{20} \d+s \d+(?:\.\d+)?(?:ms|us|s)/step - accuracy: (\d\.\d{4}) - loss: \d\.\d{4}"
    r" - val_accuracy: \d\.\d{4} - val_loss: \d\.\d{4}"
)


def test_embedding_classifier_trains_with_progress_bar(tmp_path):
    env = dict(os.environ, MINIKERAS_FAST="1", PYTHONPATH=str(ROOT))
    done = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "embedding_classifier.py"), "--fast"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "vocabulary 43 words, train (3000, 10), test (600, 10)" in out
    assert "embedding (Embedding)           │ (None, 10, 8)" in out  # the summary's row
    assert out.count("Epoch ") == 2  # Epoch 1/2, Epoch 2/2
    # the bar is redrawn in place with \r; the last drawing of each epoch is the finished one
    finished = [FINAL_LINE.search(line) for line in re.split(r"[\r\n]", out)]
    accuracies = [float(m.group(1)) for m in finished if m]
    assert len(accuracies) == 2, out
    # 3 topics: chance is 1/3; two epochs of Adam already learn most of the keywords
    assert accuracies[1] > 0.6, accuracies
    test_accuracy = float(re.search(r"test loss \d\.\d{4}, test accuracy (\d\.\d{4})", out)[1])
    assert test_accuracy > 0.8, test_accuracy
    ids = re.search(r"a sentence as ids: +\[([\d, ]+)\]", out)[1].split(", ")
    words = re.search(r"the same as words: +(.*)", out)[1].split()
    assert len(ids) == 10 and len(words) == sum(i != "0" for i in ids)  # padding not shown
    assert re.search(r"'the band was on tour with a new album': \w+ \(\d\.\d\d\)", out)
