"""Keras's `keras.src.utils.file_utils` file helpers, for local paths.

Keras routes a remote path (`gs://`, `hdfs://`, ...) through TensorFlow's `gfile`; minikeras
reads and writes local files only, so each helper is the `os`/`shutil` call it stands for.

>>> import tempfile
>>> path = join(tempfile.mkdtemp(), "subdir")
>>> exists(path), makedirs(path), isdir(path)
(False, None, True)
"""

import hashlib
import os
import shutil
import tempfile
import urllib.parse


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


def keras_home():
    """Keras's cache directory: `$KERAS_HOME`, else `~/.keras`."""
    return os.environ.get("KERAS_HOME", os.path.join(os.path.expanduser("~"), ".keras"))


def hash_file(fpath, algorithm="sha256", chunk_size=65535):
    """The hex digest of a file's bytes ("sha256" or "md5")."""
    hasher = hashlib.md5() if algorithm == "md5" else hashlib.sha256()
    with open(fpath, "rb") as f:
        for chunk in iter(lambda: f.read(chunk_size), b""):
            hasher.update(chunk)
    return hasher.hexdigest()


def validate_file(fpath, file_hash, algorithm="auto", chunk_size=65535):
    """Whether a file's hash is `file_hash`; "auto" reads a 64-digit hash as sha256, any other
    as md5 (as Keras)."""
    if algorithm == "auto":
        algorithm = "sha256" if len(file_hash) == 64 else "md5"
    return hash_file(fpath, algorithm, chunk_size) == str(file_hash)


def get_file(
    fname=None,
    origin=None,
    untar=False,
    md5_hash=None,
    file_hash=None,
    cache_subdir="datasets",
    hash_algorithm="auto",
    extract=False,
    archive_format="auto",
    cache_dir=None,
    force_download=False,
):
    """The local path of a file from `origin`, downloaded once into
    `cache_dir/cache_subdir` (`~/.keras/datasets` by default), as Keras's `get_file`.

    A file already in the cache (with the right hash, when one is given) is not downloaded
    again. A download that fails raises Keras's `Exception("URL fetch failure on ...")`,
    leaving no partial file behind.
    """
    if origin is None:
        raise ValueError('Please specify the "origin" argument (URL of the file to download).')
    if md5_hash is not None and file_hash is None:
        file_hash, hash_algorithm = md5_hash, "md5"
    base = os.path.expanduser(keras_home() if cache_dir is None else cache_dir)
    if not os.access(base, os.W_OK):  # Keras falls back to /tmp/.keras, so does minikeras
        base = os.path.join(tempfile.gettempdir(), ".keras")
    datadir = os.path.join(base, cache_subdir)
    os.makedirs(datadir, exist_ok=True)
    fname = path_to_string(fname)
    if not fname:
        fname = os.path.basename(urllib.parse.urlsplit(origin).path)
        if not fname:
            raise ValueError(
                f"Can't parse the file name from the origin provided: '{origin}'."
                "Please specify the `fname` argument."
            )
    elif os.sep in fname:
        raise ValueError(
            "Paths are no longer accepted as the `fname` argument. To specify the file's "
            f"parent directory, use the `cache_dir` argument. Received: fname={fname}"
        )
    target = os.path.join(datadir, fname)
    download = force_download or not os.path.exists(target)
    if not download and file_hash is not None:
        download = not validate_file(target, file_hash, hash_algorithm)
    if download:
        _download(origin, target)
        if file_hash is not None and not validate_file(target, file_hash, hash_algorithm):
            raise ValueError(
                f"Incomplete or corrupted file detected. The {hash_algorithm} file hash does "
                f"not match the provided value of {file_hash}."
            )
    if extract or untar:
        extraction_dir = os.path.join(datadir, fname.split(".")[0] + "_extracted")
        if not os.path.exists(extraction_dir):
            fmt = "tar" if untar else (None if archive_format == "auto" else archive_format)
            shutil.unpack_archive(target, extraction_dir, fmt)
        return extraction_dir
    return target


def _download(origin, target):
    """Fetch `origin` into `target`; on any failure remove the partial file and raise
    Keras's "URL fetch failure" message."""
    import urllib.error
    import urllib.request  # here, not at import: `import minikeras` stays off the network stack

    print(f"Downloading data from {origin}")
    message = "URL fetch failure on {}: {} -- {}"
    try:
        try:
            urllib.request.urlretrieve(origin, target)
        except urllib.error.HTTPError as e:
            raise Exception(message.format(origin, e.code, e.msg)) from e
        except urllib.error.URLError as e:
            raise Exception(message.format(origin, e.errno, e.reason)) from e
    except (Exception, KeyboardInterrupt):
        if os.path.exists(target):
            os.remove(target)
        raise
