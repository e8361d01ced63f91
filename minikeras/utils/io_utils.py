"""Keras's `keras.src.utils.io_utils`: where progress bars and callback messages go.

Interactive logging on (the default): they are written to stdout. Off: they go to the
`logging` module, logger "minikeras" at level INFO (Keras sends them to `absl.logging`), whose
level `set_logging_verbosity` sets.

>>> disable_interactive_logging(); is_interactive_logging_enabled()
False
>>> enable_interactive_logging(); is_interactive_logging_enabled()
True
"""

import logging

from minikeras.config import (
    disable_interactive_logging,
    enable_interactive_logging,
    is_interactive_logging_enabled,
)
from minikeras.utils.progbar import print_msg

_LEVELS = {
    "FATAL": logging.FATAL,
    "ERROR": logging.ERROR,
    "WARNING": logging.WARNING,
    "INFO": logging.INFO,
    "DEBUG": logging.DEBUG,
}


def set_logging_verbosity(level):
    """The least severe message the "minikeras" logger passes on: one of "FATAL", "ERROR",
    "WARNING", "INFO", "DEBUG". ValueError for another name, as Keras."""
    if level not in _LEVELS:
        raise ValueError(
            "Please pass a valid level for logging verbosity. "
            f"Expected one of: {set(_LEVELS)}. Received: {level}"
        )
    logging.getLogger("minikeras").setLevel(_LEVELS[level])


def ask_to_proceed_with_overwrite(filepath):
    """Ask on the terminal whether `filepath` may be overwritten: True for "y", False for
    "n", asked again for anything else. (minikeras's own saving never asks: saving.files
    refuses an existing file under overwrite=False instead of waiting for input.)"""
    answer = input(f"[WARNING] {filepath} already exists - overwrite? [y/n]").strip().lower()
    while answer not in ("y", "n"):
        answer = input('Enter "y" (overwrite) or "n" (cancel).').strip().lower()
    if answer == "n":
        return False
    print_msg("[TIP] Next time specify overwrite=True!")
    return True


__all__ = [
    "ask_to_proceed_with_overwrite",
    "disable_interactive_logging",
    "enable_interactive_logging",
    "is_interactive_logging_enabled",
    "print_msg",
    "set_logging_verbosity",
]
