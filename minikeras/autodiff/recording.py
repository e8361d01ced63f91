"""The stack of GradientTapes recording now, innermost last.

Module-level, as TensorFlow's: an op records on every tape of this list that traces one of its
arguments. Kept in its own module so that Variable can check it without importing the tape.
"""

RECORDING = []
