"""docs/outgrowing-minikeras.md runs as written: its scripts, saved under their titles and run
with its commands, print the output the page shows (train in minikeras, load in Keras and train
on, on every local device with Keras's distribution API, and back). The cluster step needs
several machines and JAX: it is only compiled."""

import os
import pathlib
import re
import subprocess
import sys

PAGE = pathlib.Path(__file__).resolve().parents[2] / "docs" / "outgrowing-minikeras.md"


def test_the_page_runs_as_written(keras, tmp_path):
    text = PAGE.read_text(encoding="utf-8")
    scripts = dict(re.findall(r'```python title="([^"]+)"\n(.*?)```', text, re.S))
    for name, body in scripts.items():
        (tmp_path / name).write_text(body, encoding="utf-8")
    commands = [
        line
        for block in re.findall(r"```bash\n(.*?)```", text, re.S)
        for line in block.splitlines()
        if line.startswith("python ")
    ]
    outputs = re.findall(r"```text\n(.*?)```", text, re.S)
    assert commands == [f"python {name}" for name in scripts]

    compile(scripts["continue_on_a_cluster.py"], "continue_on_a_cluster.py", "exec")
    runnable = [command for command in commands if "cluster" not in command]
    assert len(runnable) == len(outputs)
    env = dict(os.environ, KERAS_BACKEND="tensorflow", TF_CPP_MIN_LOG_LEVEL="3")
    for command, expected in zip(runnable, outputs, strict=True):
        done = subprocess.run(
            [sys.executable, command.split()[1]],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, f"{command}:\n{done.stdout}\n{done.stderr}"
        assert done.stdout == expected, command
