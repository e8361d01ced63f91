"""Keras's `keras.src.utils.file_utils` file helpers, for local paths.

Keras routes a remote path (`gs://`, `hdfs://`, ...) through TensorFlow's `gfile`; minikeras
reads and writes local files only, so each helper is the `os`/`shutil` call it stands for.

>>> import tempfile
>>> path = join(tempfile.mkdtemp(), "subdir")
>>> exists(path), makedirs(path), isdir(path)
(False, None, True)
"""

import os
import shutil


def path_to_string(path):
    """A path-like object (`pathlib.Path`) as a string; anything else unchanged."""
    return os.fspath(path) if isinstance(path, os.PathLike) else path


def is_remote_path(filepath):
    """Whether `filepath` names a remote file system (`gs://`, `s3://`, `hdfs://`, ...)."""
    return "://" in str(filepath)


def exists(path):
    return os.path.exists(path)


def File(path, mode="r"):
    """An open file, as Keras's `file_utils.File` (TensorFlow's `GFile` for remote paths)."""
    return open(path, mode)


def join(path, *paths):
    return os.path.join(path, *paths)


def isdir(path):
    return os.path.isdir(path)


def remove(path):
    os.remove(path)


def rmtree(path):
    shutil.rmtree(path)


def listdir(path):
    return os.listdir(path)


def copy(src, dst):
    shutil.copy(src, dst)


def makedirs(path):
    os.makedirs(path, exist_ok=True)
