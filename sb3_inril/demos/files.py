"""File safety for everything that writes demonstrations or results: refuse to overwrite, write
atomically (a reader, or a resumed sweep, never sees half a file), and values as JSON holds them."""

import contextlib
import os
import pathlib
import shutil
import uuid
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np


def to_jsonable(value: Any) -> Any:
    """
    ``value`` as JSON holds it: dict keys as str, tuples as lists, numpy arrays and scalars as plain
    values, anything else JSON does not know as its ``str``. Also usable as ``json.dumps(default=...)``.
    """
    if isinstance(value, dict):
        return {str(key): to_jsonable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(item) for item in value]
    if isinstance(value, np.ndarray):
        return to_jsonable(value.tolist())
    if isinstance(value, np.generic):
        return value.item()
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    return str(value)


def existing_outputs(paths: Sequence[str]) -> list[str]:
    """The paths (files, directories, symlinks, broken ones included) that already exist."""
    return [path for path in paths if path and os.path.lexists(path)]


def refuse_existing_outputs(paths: Sequence[str], force: bool) -> None:
    """
    Refuse to overwrite: what a command would write must not exist, unless ``force``.

    :param paths: every file or directory the command would write
    :param force: allow overwriting
    :raises FileExistsError: naming the existing paths
    """
    existing = existing_outputs(paths)
    if existing and not force:
        names = ", ".join(repr(path) for path in existing)
        raise FileExistsError(f"{names} already exist{'s' if len(existing) == 1 else ''}; pass --force to overwrite")


def temporary_path(path: str) -> str:
    """A hidden sibling of ``path``, unique to this process and call, with the same extension."""
    folder, name = os.path.split(path)
    stem, extension = os.path.splitext(name)
    return os.path.join(folder, f".{stem}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}{extension}")


def remove_path(path: str) -> None:
    """Remove a file, link or directory tree, if there is one (errors ignored: used for clean-up)."""
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path, ignore_errors=True)
    elif os.path.lexists(path):
        with contextlib.suppress(OSError):
            os.remove(path)


def move_into_place(temporary: str, path: str) -> None:
    """Replace ``path`` by ``temporary`` (files atomically; a directory by renames, put back on failure)."""
    if not (os.path.isdir(temporary) and os.path.isdir(path) and not os.path.islink(path)):
        os.replace(temporary, path)
        return
    backup = f"{temporary}.old"
    os.rename(path, backup)
    try:
        os.rename(temporary, path)
    except OSError:
        os.rename(backup, path)
        raise
    shutil.rmtree(backup, ignore_errors=True)


@contextlib.contextmanager
def atomic_output(path: str) -> Iterator[str]:
    """
    Write ``path`` atomically: the body writes the yielded temporary path (a file or a directory),
    which replaces ``path`` when the body succeeds and is removed when it raises.
    """
    temporary = temporary_path(path)
    try:
        yield temporary
        move_into_place(temporary, path)
    finally:
        remove_path(temporary)


@contextlib.contextmanager
def atomic_sb3_output(path: Any, suffix: str) -> Iterator[Any]:
    """
    Where an SB3 save function (``BaseAlgorithm.save``, ``save_replay_buffer``) should write ``path`` so
    that the file appears whole or not at all: SB3 writes in place, and an interrupted save (an
    exception, ``KeyboardInterrupt``, a full disk) left a truncated file where the previous
    checkpoint was. The file SB3 would write (``suffix`` added to a name without one, the target of a
    symbolic link) is replaced once the body returns. A file-like object, or a path that is a folder
    (SB3 then writes elsewhere), is yielded unchanged.

    :param path: what the caller gave SB3's save function
    :param suffix: the extension SB3 adds to a name without one (``"zip"``, ``"pkl"``)
    """
    if not isinstance(path, (str, os.PathLike)):
        yield path
        return
    target = os.fspath(path)
    if not pathlib.PurePath(target).suffix:  # SB3's own test
        target = f"{target}.{suffix}"
    if os.path.isdir(target):  # SB3 writes next to it, under another name
        yield path
        return
    if os.path.islink(target):
        target = os.path.realpath(target)  # SB3 writes through a link: the file it points at is replaced
    # The temporary keeps the suffix, so that SB3 adds none; a missing folder SB3 makes (and says so).
    with atomic_output(target) as temporary:
        yield temporary


def write_atomically(path: str, data: bytes) -> None:
    """Write ``data`` to ``path`` (its folder made when missing) through :func:`atomic_output`."""
    folder = os.path.dirname(path)
    if folder:
        os.makedirs(folder, exist_ok=True)
    with atomic_output(path) as temporary, open(temporary, "wb") as file:
        file.write(data)
