# Everything a fresh machine needs is installed here: never rely on packages installed by hand.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip

.PHONY: demo test install install-test lint docs bench clean

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --upgrade pip

$(VENV)/.installed: pyproject.toml | $(VENV)/bin/python
	$(PIP) install -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(VENV)/bin/python
	$(PIP) install -e '.[test]'
	touch $@

install: $(VENV)/.installed

install-test: $(VENV)/.installed-test

demo: install
	$(PY) examples/tutorial.py

lint: install-test
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

# the whole suite with the compiled kernels (the default), then again with the NumPy reference
# kernels what depends on them: tests/unit (layers, kernels, optimizers, models, the tape),
# and the product tests with MINIKERAS_MATMUL=numba (MATMUL_TESTS below);
# the parity, file and example tests compare minikeras with Keras whichever set computes.
# Two workers (one per core), each taking whole test files, in their order
test: install-test docs
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	MINIKERAS_KERNELS=numba $(PY) -m pytest -q -n 2 --dist loadfile
	MINIKERAS_KERNELS=numpy $(PY) -m pytest -q -n 2 --dist loadfile tests/unit
	MINIKERAS_MATMUL=numba $(PY) -m pytest -q -n 2 --dist loadfile $(MATMUL_TESTS)

# the tests whose products go through the kernels, run again with every product made by
# minikeras/kernels/numba_gemm.py (the default, "auto", sends them to BLAS)
MATMUL_TESTS := tests/unit/test_kernels.py tests/unit/test_gemm.py tests/unit/test_layers.py \
	tests/unit/test_conv.py

# the docs site (mkdocs, material theme, API reference from the docstrings) into site/;
# --strict fails on any warning: a broken link, a source line that moved out of the code
docs: install-test
	NO_MKDOCS_2_WARNING=1 $(PY) -m mkdocs build --strict

clean:
	rm -rf $(VENV) build *.egg-info

$(VENV)/.installed-bench: pyproject.toml | $(VENV)/bin/python
	$(PIP) install -e '.[bench]'
	touch $@

# Benchmarks against Keras-TF, PyTorch and plain NumPy; writes bench/results.md and .json
bench: $(VENV)/.installed-bench
	$(PY) bench/run.py
