"""The docs site builds without a warning, and the numbers its pages quote are the ones minikeras
(and, where Keras is installed, Keras) computes today."""

import importlib.util
import math
import os
import pathlib
import subprocess
import sys
import warnings

import numpy as np
import pytest
from needs import missing

import minikeras as mk
from minikeras import trace

ROOT = pathlib.Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"


def page(name):
    return (DOCS / name).read_text(encoding="utf-8")


def test_mkdocs_build_strict(tmp_path):
    importlib.import_module("mkdocs")  # in the test extra: missing is a failure, not a skip
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1")
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    reference = (tmp_path / "reference" / "index.html").read_text(encoding="utf-8")
    assert 'id="minikeras.layers.dense.Dense.backward"' in reference
    assert "&gt;&gt;&gt; </span>" in reference  # docstring examples rendered as code
    step = (tmp_path / "training-step" / "index.html").read_text(encoding="utf-8")
    assert "minikeras/kernels/numpy_kernels.py:" in step  # source links resolved to lines


def test_training_step_page_quotes_the_trace():
    """Page 2 works through `python -m minikeras trace`'s numbers: they must still be those."""
    model = trace.tutorial_model()
    x, y = trace.tutorial_data()
    record = trace.step(model, x, y, keras=False, print_fn=None)
    text = page("training-step.md")
    quoted = {
        "loss": f"{float(record.value('loss')):.6f}",
        "z₁[0, 0]": f"{record.value('dense: z')[0, 0]:.3f}",
        "p[0, 0]": f"{record.value('dense_1: a')[0, 0]:.6f}",
        "dz₂[1, 0]": f"{record.value('dense_1: dL/dz')[1, 0]:.6f}",
        "dW₂[1, 0]": f"{record.value('dense_1: dL/dkernel')[1, 0]:.6f}",
        "da₁[1, 0]": f"{record.value('dense: dL/da')[1, 0]:.6f}",
        "dW₁[2, 0]": f"{record.value('dense: dL/dkernel')[2, 0]:.6f}",
        "db₁[1]": f"{record.value('dense: dL/dbias')[1]:.6f}",
        "new W₁[0, 1]": f"{record.value('dense: kernel: new value')[0, 1]:.6f}",
        "new b₁[1]": f"{record.value('dense: bias: new value')[1]:.6f}",
        "new b₂[1]": f"{record.value('dense_1: bias: new value')[1]:.6f}",
    }
    missing = {name: value for name, value in quoted.items() if value not in text}
    assert not missing, f"docs/training-step.md no longer quotes the trace's values: {missing}"


def saturated_model(module):
    kernel = [np.array([[100.0, 0.0]], "float32"), np.zeros(2, "float32")]
    layers = module.layers
    model = module.Sequential([layers.Input(shape=(1,)), layers.Dense(2, activation="softmax")])
    model.set_weights(kernel)
    model.compile(optimizer="sgd", loss="categorical_crossentropy")
    return model


X1, Y1 = np.array([[1.0]], "float32"), np.array([[0.0, 1.0]], "float32")


def rmsprop_first_step(g, module):
    w = np.zeros(1, "float32")
    module.optimizers.RMSprop(learning_rate=1.0).apply([np.array([g], "float32")], [w])
    return -float(w[0])


def test_softmax_page_numbers_minikeras():
    text = page("softmax-crossentropy.md")
    model = saturated_model(mk)
    assert model.evaluate(X1, Y1, verbose=0) == pytest.approx(100.0)
    clipped = float(mk.losses.categorical_crossentropy(Y1, model.predict(X1, verbose=0))[0])
    assert f"{clipped:.6f}" == "16.118095" and "16.118095" in text
    assert f"{-math.log(1e-7):.3f}" == "16.118" and "16.118" in text


def test_optimizer_page_numbers_minikeras():
    text = page("optimizers.md")
    for g, shown in ((1e-2, "3.1466"), (1e-3, "2.2361"), (1e-4, "0.3147"), (1e-6, "0.0032")):
        assert f"{rmsprop_first_step(g, mk):.4f}" == shown and shown in text
    w = np.array([1, 2, 3, 4], "float32")
    mk.optimizers.RMSprop(learning_rate=0.5).apply([np.array([1, 6, 7, 2], "float32")], [w])
    assert np.allclose(w, [-0.5811, 0.4189, 1.4189, 2.4189], atol=1e-4)
    for g, shown in ((1.0, "0.00099999"), (1e-3, "0.000996841"), (1e-6, "0.000240251")):
        w = np.zeros(1, "float32")
        mk.optimizers.Adam(learning_rate=0.001).apply([np.array([g], "float32")], [w])
        assert f"{-float(w[0]):.6g}" == shown and shown in text


def test_documented_numbers_match_keras():
    """The Keras column of pages 3 and 4, run again."""
    if importlib.util.find_spec("keras") is None:
        missing("Keras")
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import keras

    model = saturated_model(keras)
    assert model.evaluate(X1, Y1, verbose=0) == pytest.approx(100.0)
    clipped = float(keras.losses.categorical_crossentropy(Y1, model.predict(X1, verbose=0))[0])
    assert f"{clipped:.6f}" == "16.118095"
    for g, shown in ((1e-2, "3.1466"), (1e-3, "2.2361"), (1e-4, "0.3147"), (1e-6, "0.0032")):
        w = keras.Variable(np.zeros(1, "float32"))
        keras.optimizers.RMSprop(learning_rate=1.0).apply([np.array([g], "float32")], [w])
        assert f"{-float(w.numpy()[0]):.4f}" == shown
    for g, shown in ((1.0, "0.00099999"), (1e-3, "0.000996841"), (1e-6, "0.000240251")):
        w = keras.Variable(np.zeros(1, "float32"))
        keras.optimizers.Adam(learning_rate=0.001).apply([np.array([g], "float32")], [w])
        assert f"{-float(w.numpy()[0]):.6g}" == shown


def test_every_page_is_in_the_nav():
    nav = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    for path in DOCS.glob("*.md"):
        assert path.name in nav, f"{path.name} is not in mkdocs.yml's nav"
