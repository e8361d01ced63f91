"""Parity with real Keras: the same model in minikeras and in Keras (TensorFlow backend), compared
component by component (forward, loss, gradients, optimizer steps, whole fit runs).

This is the only part of minikeras that imports Keras or TensorFlow, and only inside functions:
`import minikeras.parity` stays light. Entry points:

    python -m minikeras parity                   the report (cli.py)
    minikeras.parity.run_case(case)              the comparisons of one Case, as report rows
    minikeras.parity.keras_twin(model)           a compiled Keras copy of a minikeras model
"""

from minikeras.parity.cases import Case, named_cases, random_case
from minikeras.parity.checks import run_case
from minikeras.parity.compare import Row, tolerance
from minikeras.parity.keras_env import KerasUnavailable, import_keras
from minikeras.parity.twin import keras_twin

__all__ = [
    "Case",
    "KerasUnavailable",
    "Row",
    "import_keras",
    "keras_twin",
    "named_cases",
    "random_case",
    "run_case",
    "tolerance",
]
