"""Keras's `keras.src.utils.python_utils`: small helpers on axes, lists, strings and functions
(a function written as its bytecode and read back, as Keras's Lambda configs hold lambdas).

>>> from minikeras.utils import python_utils
>>> python_utils.is_continuous_axis([3, 2, 1]), python_utils.is_continuous_axis([1, 3])
(True, False)
>>> python_utils.func_load(python_utils.func_dump(lambda x, y=2: x * y))(4)
8
"""

import base64
import binascii
import marshal
import types


def is_continuous_axis(axis):
    """Whether the axes follow each other in steps of +1 or of −1 (one axis always does)."""
    if isinstance(axis, int) or len(axis) <= 1:
        return True
    step = axis[1] - axis[0]
    return step in (1, -1) and all(b - a == step for a, b in zip(axis, axis[1:]))


def default(method):
    """Marks `method` as the base class's default, so that an override can be told apart."""
    method._is_default = True
    return method


def is_default(method):
    """Whether `method` is one marked by `default` (not overridden)."""
    return getattr(method, "_is_default", False)


def to_list(x):
    """`x` if it is a list, else `[x]`."""
    return x if isinstance(x, list) else [x]


def remove_long_seq(maxlen, seq, label):
    """The sequences shorter than `maxlen`, with their labels: (sequences, labels)."""
    kept = [(x, y) for x, y in zip(seq, label) if len(x) < maxlen]
    return [x for x, _ in kept], [y for _, y in kept]


def removeprefix(x, prefix):
    """`x` without `prefix` at its start (str.removeprefix)."""
    return x[len(prefix) :] if prefix and x.startswith(prefix) else x


def removesuffix(x, suffix):
    """`x` without `suffix` at its end (str.removesuffix)."""
    return x[: -len(suffix)] if suffix and x.endswith(suffix) else x


def remove_by_id(lst, value):
    """Remove from `lst` its first item that is `value` itself (not merely equal to it)."""
    for i, item in enumerate(lst):
        if item is value:
            del lst[i]
            return


def pythonify_logs(logs):
    """Logs with nested dicts flattened and numbers as Python floats (callbacks' logs)."""
    from minikeras.callbacks.callback_list import pythonify_logs as plain  # (callbacks use utils)

    return plain(logs)


def func_dump(func):
    """(code, defaults, closure) of a Python function: its bytecode as base64 text (marshal),
    its default values, and the values its closure holds."""
    code = base64.encodebytes(marshal.dumps(func.__code__)).decode("ascii")
    closure = tuple(cell.cell_contents for cell in func.__closure__) if func.__closure__ else None
    return code, func.__defaults__, closure


def func_load(code, defaults=None, closure=None, globs=None):
    """The function `func_dump` wrote (`code` may be its whole tuple), with `globs` as its
    globals (this module's when not given). Text that is not base64 is read as the raw
    bytecode, as Keras reads it."""
    if isinstance(code, (tuple, list)):
        code, defaults, closure = code
    if isinstance(defaults, list):
        defaults = tuple(defaults)
    if closure is not None:
        closure = tuple(v if isinstance(v, types.CellType) else types.CellType(v) for v in closure)
    try:
        raw = base64.decodebytes(code.encode("ascii"))
    except (UnicodeEncodeError, binascii.Error):
        raw = code.encode("raw_unicode_escape")
    code = marshal.loads(raw)
    return types.FunctionType(
        code, globals() if globs is None else globs, code.co_name, defaults, closure
    )
