"""What the format readers share: the format names and file extensions, the optional-library import
and the readability check."""

import errno
import os
import re
from typing import Any

FORMATS = ("npz", "imitation", "robomimic", "minari", "arrays")
FILE_EXTENSIONS = (".npz", ".hdf5", ".h5", ".pkl", ".pickle")
OBSERVATION_FORMATS = ("flat", "dict")
# The metadata of a dataset written in imitation's format (which has no place for it).
METADATA_SIDECAR = "sb3_inril_metadata.json"
# A Minari dataset id: namespace/name-vN or name-vN (e.g. "mujoco/hopper/expert-v0").
MINARI_ID = re.compile(r"^([\w.-]+/)*[\w.-]+-v\d+$")


def _require(module: str, what: str) -> Any:
    try:
        return __import__(module, fromlist=["_"])
    except ImportError as error:
        raise ImportError(f"demonstrations: reading {what} needs the package {module.split('.')[0]!r}: {error}") from error


def _check_readable(path: str) -> None:
    """A ``PermissionError`` naming the file, before any reader says 'not a dataset'; a ``ValueError`` for
    what is neither a file nor a directory (reading a named pipe would wait for a writer)."""
    if not os.access(path, os.R_OK) or (os.path.isdir(path) and not os.access(path, os.X_OK)):
        raise PermissionError(errno.EACCES, f"demonstrations: no permission to read {path!r}", path)
    if not (os.path.isfile(path) or os.path.isdir(path)):
        raise ValueError(
            f"demonstrations: {path!r} is not a regular file (a named pipe, socket or device), expected a file or a directory"
        )
