"""``sb3-inril demos inspect PATH`` and ``sb3-inril demos convert SRC DST``.

Every failure (a missing, unreadable or corrupt input, data that is not consistent, an output that
would overwrite something) prints exactly one line ``error: ...`` on stderr and exits with code 2,
the code argparse uses for usage errors; nothing is printed on stdout then, and no figure is printed
before the data it describes has been checked.

``convert`` writes to a temporary file next to the output, reads it back, checks that it holds what
the source holds (observations, actions, episodes, rewards, done flags, infos, metadata), and only
then moves it into place: a failed or lossy conversion leaves no output and never touches an
existing one.
"""

import argparse
import contextlib
import io
import json
import os
import stat
import sys
import warnings
from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np

from sb3_inril.demos.demonstrations import Demonstrations
from sb3_inril.demos.files import (
    move_into_place,
    remove_path,
    temporary_path,
    to_jsonable,
)
from sb3_inril.demos.formats.base import FILE_EXTENSIONS
from sb3_inril.demos.loading import load_demonstrations, save_demonstrations

#: Exit code of every error (argparse's code for usage errors).
EXIT_ERROR = 2
#: Done flags a ``Demonstrations`` object may carry: ``dones`` one per pair, the others one per pair or one per episode.
FLAG_FIELDS = ("dones", "episode_terminals")
#: The fields of :class:`sb3_inril.Demonstrations` a reader fills.
DEMONSTRATION_FIELDS = (
    "observations",
    "actions",
    "episode_starts",
    "rewards",
    "dones",
    "episode_terminals",
    "infos",
    "metadata",
)
#: Metadata a reader describes its input with, not what the data is: not compared by ``convert``.
READER_METADATA = ("format", "source")
#: The files of an imitation dataset directory (``datasets.Dataset.save_to_disk``).
IMITATION_DIR_FILES = ("dataset_info.json", "state.json")


class DemosCliError(Exception):
    """An error of the ``demos`` command: reported as one line ``error: <message>``."""


# -- checks --------------------------------------------------------------------------------------
def observation_arrays(demos: Any) -> dict[str, np.ndarray] | np.ndarray:
    """The observations of ``demos`` (checked by :func:`check_demonstrations`): one array, or a dict of arrays."""
    observations = demos.observations
    if isinstance(observations, Mapping):
        return {str(key): np.asarray(value) for key, value in observations.items()}
    return np.asarray(observations)


def check_demonstrations(demos: Any) -> int:
    """
    Check that demonstrations are consistent before any figure about them is printed or written:
    :class:`sb3_inril.Demonstrations`' own checks (those of its constructor), run again on what a
    reader returned, so that a field changed after it was built is caught too. Nothing is kept.

    Works on any object with the attributes of :class:`sb3_inril.Demonstrations`; the optional ones
    (``rewards``, ``dones``, ``episode_terminals``, ``infos``, ``metadata``) may be missing.

    :param demos: the demonstrations
    :return: the number of (observation, action) pairs
    :raises DemosCliError: naming the field and what is wrong with it
    """
    fields: dict[str, Any] = {name: getattr(demos, name, None) for name in DEMONSTRATION_FIELDS}
    if fields["metadata"] is None:
        fields["metadata"] = {}
    elif not isinstance(fields["metadata"], Mapping):
        raise DemosCliError(f"field 'metadata' is {type(fields['metadata']).__name__}, expected a dict")
    try:
        checked = Demonstrations(**fields)
    except (ValueError, TypeError) as error:
        raise DemosCliError(str(error).removeprefix("demonstrations: ")) from error
    return len(checked)


def _metadata(demos: Any) -> Mapping[str, Any]:
    return getattr(demos, "metadata", None) or {}


# -- inspect -------------------------------------------------------------------------------------
def _number(value: float) -> str:
    return f"{value:.4g}"


def _ranges(name: str, array: np.ndarray, max_dims: int) -> list[str]:
    """Shape, dtype and ranges (over the finite values; non-finite ones are counted)."""
    flat = array.reshape(len(array), -1).astype(np.float64)
    finite = np.isfinite(flat)
    n_bad = int(flat.size - finite.sum())
    bad = f", {n_bad} non-finite values (NaN/inf)" if n_bad else ""
    if finite.any():
        values = flat[finite]
        head = (
            f"{name}: shape {array.shape[1:]}, dtype {array.dtype}, min {_number(values.min())}, max {_number(values.max())}"
        )
    else:
        head = f"{name}: shape {array.shape[1:]}, dtype {array.dtype}, no finite value"
    lines = [head + bad]
    for dim in range(min(flat.shape[1], max_dims)):
        column = flat[:, dim][finite[:, dim]]
        if len(column) == 0:
            lines.append(f"  [{dim}] no finite value")
            continue
        lines.append(
            f"  [{dim}] min {column.min():>10.4g}  max {column.max():>10.4g}  mean {column.mean():>10.4g}  std {column.std():>10.4g}"
            + (f"  ({len(flat) - len(column)} non-finite)" if len(column) < len(flat) else "")
        )
    if flat.shape[1] > max_dims:
        lines.append(f"  ... {flat.shape[1] - max_dims} more dimensions (--max-dims)")
    return lines


def _flag_line(name: str, flags: np.ndarray | None, n_pairs: int) -> str:
    if flags is None:
        return f"{name}: absent"
    count = int(np.count_nonzero(flags))
    unit = "transitions" if len(flags) == n_pairs else "episodes"
    return f"{name}: {count} set, of {len(flags)} {unit}"


def describe(demos: Any, list_episodes: bool = False, max_dims: int = 20) -> str:
    """
    A human-readable summary: episodes, lengths, returns, which optional fields are present,
    shapes and ranges (per key for dict observations), and metadata.

    :param demos: the demonstrations (checked first: nothing is described that is not consistent)
    :param list_episodes: add one line per episode (start, length, return)
    :param max_dims: per-dimension ranges for at most this many dimensions of each array
    :return: the summary
    :raises DemosCliError: for inconsistent demonstrations
    """
    n_pairs = check_demonstrations(demos)
    metadata = _metadata(demos)
    starts = np.asarray(demos.episode_starts, dtype=np.int64)
    lengths = np.diff(np.append(starts, n_pairs))
    rewards = getattr(demos, "rewards", None)
    returns = None if rewards is None else np.add.reduceat(np.asarray(rewards, dtype=np.float64), starts)
    lines = [
        f"format: {metadata.get('format')}",
        f"source: {metadata.get('source')}",
        f"episodes: {len(starts)}   transitions: {n_pairs}",
        f"episode length: min {lengths.min()}  mean {lengths.mean():.1f}  max {lengths.max()}",
    ]
    if returns is None:
        lines.append("rewards: absent")
    else:
        lines.append(
            f"episode return: mean {returns.mean():.2f}  std {returns.std():.2f}  min {returns.min():.2f}  max {returns.max():.2f}"
        )
    for name in FLAG_FIELDS:
        if hasattr(demos, name):  # the fields this type of demonstrations has, present or absent
            flags = getattr(demos, name)
            lines.append(_flag_line(name, None if flags is None else np.asarray(flags), n_pairs))
    if hasattr(demos, "infos"):
        infos = demos.infos
        lines.append("infos: absent" if infos is None else f"infos: {len(infos)} entries")
    observations = observation_arrays(demos)
    if isinstance(observations, dict):
        lines.append("observation keys: " + ", ".join(f"{key}={value.shape[1:]}" for key, value in observations.items()))
        for key, value in observations.items():
            lines += _ranges(f"observations[{key!r}]", value, max_dims)
    else:
        sizes = metadata.get("obs_key_sizes")
        if isinstance(sizes, Mapping) and sizes:
            lines.append("observation keys: " + ", ".join(f"{key}={size}" for key, size in sizes.items()))
        lines += _ranges("observations", observations, max_dims)
    lines += _ranges("actions", np.asarray(demos.actions), max_dims)
    for key in ("env_args", "collection", "env_id", "filter_key"):
        if metadata.get(key) is not None:
            lines.append(f"{key}: {json.dumps(metadata[key], default=str)}")
    if list_episodes:
        lines.append("episode  start  length  return")
        for index, (start, length) in enumerate(zip(starts, lengths)):
            episode_return = f"{returns[index]:.2f}" if returns is not None else "-"
            lines.append(f"{index:>7}  {start:>5}  {length:>6}  {episode_return}")
    return "\n".join(lines)


# -- reading -------------------------------------------------------------------------------------
def check_readable(path: str) -> None:
    """
    Fail early, with one clear message, for an input that exists but can not be read: a symlink loop,
    a broken symlink, a file without read permission, a FIFO or device, an unreadable directory.
    Paths that do not exist are left to the reader (they may be Minari dataset ids), except paths
    with a demonstration file extension.

    :param path: the input path
    :raises DemosCliError: naming the path and the reason
    """
    if not os.path.lexists(path):
        if os.path.splitext(path)[1].lower() in FILE_EXTENSIONS:
            raise DemosCliError(f"{path!r}: no such file")
        return
    try:
        mode = os.stat(path).st_mode
    except OSError as error:
        link = " (a symlink: broken, or a symlink loop)" if os.path.islink(path) else ""
        raise DemosCliError(f"can not read {path!r}{link}: {error.strerror or error}") from error
    try:
        if stat.S_ISDIR(mode):
            os.listdir(path)
        elif stat.S_ISREG(mode):
            with open(path, "rb") as file:
                file.read(1)
        else:
            raise DemosCliError(f"{path!r} is neither a regular file nor a directory")
    except OSError as error:
        raise DemosCliError(f"can not read {path!r}: {error.strerror or error}") from error


def read(source: str, obs_keys: list[str] | None = None, filter_key: str | None = None) -> Any:
    """Read and check demonstrations (see :func:`check_readable` and :func:`check_demonstrations`)."""
    check_readable(source)
    demos = load_demonstrations(source, obs_keys=obs_keys, filter_key=filter_key)
    check_demonstrations(demos)
    return demos


# -- writing -------------------------------------------------------------------------------------
def _is_within(path: str, folder: str) -> bool:
    return os.path.commonpath([path, folder]) == folder


def output_path(destination: str, target: str) -> tuple[str, str]:
    """
    The path ``convert`` writes, and a note when it differs from ``destination``.

    :param destination: the output as given
    :param target: ``"npz"`` or ``"imitation"``
    :return: the absolute path written, and a note (empty when it is ``destination``)
    """
    if not destination.strip():
        raise DemosCliError("the output path is empty")
    note = ""
    if target == "npz":
        if destination.endswith((os.sep, "/")):
            raise DemosCliError(f"the output {destination!r} names a directory, expected an .npz file")
        if not destination.lower().endswith(".npz"):
            note = f"'.npz' appended to {destination!r}"
            destination += ".npz"
    elif destination.rstrip("/" + os.sep).lower().endswith(".npz"):
        raise DemosCliError(f"--to imitation writes a directory, but the output {destination!r} ends with .npz")
    return os.path.abspath(destination), note


def check_output(source: str, written: str, target: str, force: bool) -> None:
    """
    Refuse outputs that would destroy data: an existing output (without ``force``), the input itself
    (same path, a ``./`` spelling, a symlink or a hard link to it), an output inside an input
    directory, a directory output that holds the input, or a directory that is not an imitation dataset.

    :param source: the input as given
    :param written: the absolute output path (see :func:`output_path`)
    :param target: ``"npz"`` or ``"imitation"``
    :param force: allow overwriting an existing output
    :raises DemosCliError: naming the paths
    """
    folder = os.path.dirname(written)
    if not os.path.isdir(folder):
        raise DemosCliError(f"the folder of the output, {folder!r}, does not exist")
    output_real = os.path.realpath(written)
    if os.path.lexists(source):
        source_real = os.path.realpath(source)
        same = output_real == source_real
        with contextlib.suppress(OSError):
            same = same or (os.path.exists(written) and os.path.samefile(written, source))
        if same:
            raise DemosCliError(f"the output {written!r} is the input {source!r}; write to another path")
        if os.path.isdir(source_real) and _is_within(output_real, source_real):
            raise DemosCliError(f"the output {written!r} lies inside the input directory {source!r}; write elsewhere")
        if target == "imitation" and _is_within(source_real, output_real):
            raise DemosCliError(f"the input {source!r} lies inside the output directory {written!r}; write elsewhere")
    if not os.path.lexists(written):
        return
    if not force:
        raise DemosCliError(f"the output {written!r} already exists; pass --force to overwrite it")
    if target == "npz" and os.path.isdir(written):
        raise DemosCliError(f"the output {written!r} is a directory, expected an .npz file")
    if target == "imitation":
        if not os.path.isdir(written):
            raise DemosCliError(f"the output {written!r} exists and is not a directory (imitation's format is a directory)")
        if os.listdir(written) and not any(os.path.exists(os.path.join(written, name)) for name in IMITATION_DIR_FILES):
            raise DemosCliError(f"the output {written!r} is a directory that is not an imitation dataset; not replacing it")


def _same_values(before: np.ndarray, after: np.ndarray) -> bool:
    before, after = np.asarray(before), np.asarray(after)
    if before.shape != after.shape:
        return False
    if np.issubdtype(before.dtype, np.floating) or np.issubdtype(after.dtype, np.floating):
        return bool(np.allclose(before.astype(np.float64), after.astype(np.float64), rtol=1e-6, atol=0.0, equal_nan=True))
    return bool(np.array_equal(before, after))


def _episode_ends(starts: np.ndarray, n_pairs: int) -> np.ndarray:
    """True at the last pair of every episode."""
    ends = np.zeros(n_pairs, dtype=bool)
    ends[np.append(starts[1:], n_pairs) - 1] = True
    return ends


def _layout(observations: dict[str, np.ndarray] | np.ndarray) -> str:
    return f"keys {list(observations)}" if isinstance(observations, dict) else "one array"


def compare(source: Any, written: Any) -> list[str]:
    """
    Check that ``written`` (the output read back) holds what ``source`` holds.

    :param source: the demonstrations converted
    :param written: the output, read back
    :return: one line per optional field: kept, or absent in the source (and so in the output)
    :raises DemosCliError: for anything lost, changed or invented (rewards) by the conversion
    """
    n_source, n_written = len(source.actions), check_demonstrations(written)
    starts = np.asarray(source.episode_starts)
    if n_written != n_source or not _same_values(starts, written.episode_starts):
        raise DemosCliError(
            f"the written output holds {len(written.episode_starts)} episodes and {n_written} transitions, "
            f"the source {len(starts)} episodes and {n_source} transitions"
        )
    before, after = observation_arrays(source), observation_arrays(written)
    if isinstance(before, dict) != isinstance(after, dict) or (isinstance(before, dict) and list(before) != list(after)):
        raise DemosCliError(
            f"the written observations have {_layout(after)}, the source's {_layout(before)}: not converted faithfully"
        )
    pairs: list[tuple[str, Any, Any]] = (
        [(f"observations/{key}", before[key], after[key]) for key in before]  # both dicts, checked above
        if isinstance(before, dict)
        else [("observations", before, after)]
    )
    pairs.append(("actions", np.asarray(source.actions), np.asarray(written.actions)))
    for name, value_before, value_after in pairs:
        if not _same_values(value_before, value_after):
            raise DemosCliError(f"the written {name!r} differ from the source's: not converted faithfully")
    report = []
    for name in ("rewards", *FLAG_FIELDS, "infos"):
        if name != "rewards" and not (hasattr(source, name) or hasattr(written, name)):
            continue
        value_before, value_after = getattr(source, name, None), getattr(written, name, None)
        if value_before is None:
            if name == "rewards" and value_after is not None:
                raise DemosCliError("the source has no rewards, but the written output has some: rewards were invented")
            report.append(f"{name}: absent" + ("" if value_after is None else " in the source (the output format adds them)"))
            continue
        if value_after is None:
            if name == "dones" and _same_values(np.asarray(value_before, dtype=bool), _episode_ends(starts, n_source)):
                report.append("dones: kept as the episode boundaries (they mark exactly the last step of every episode)")
                continue
            raise DemosCliError(f"the source has {name}, the written output has none: {name} were lost")
        if name == "infos":
            if len(value_after) != len(value_before):
                raise DemosCliError(f"the written infos have {len(value_after)} entries, the source's {len(value_before)}")
        elif not _same_values(value_before, value_after):
            raise DemosCliError(f"the written {name} differ from the source's: not converted faithfully")
        report.append(f"{name}: kept")
    metadata_before, metadata_after = _metadata(source), _metadata(written)
    keys = [key for key in metadata_before if key not in READER_METADATA and metadata_before[key] is not None]
    lost = [key for key in keys if key not in metadata_after]
    changed = [
        key for key in keys if key in metadata_after and to_jsonable(metadata_before[key]) != to_jsonable(metadata_after[key])
    ]
    if lost or changed:
        parts = [f"lost {lost}" if lost else "", f"changed {changed}" if changed else ""]
        raise DemosCliError(f"metadata not kept by the conversion: {', '.join(part for part in parts if part)}")
    report.append(f"metadata: kept ({', '.join(keys)})" if keys else "metadata: none besides format and source")
    return report


def convert(
    source: str,
    destination: str,
    to: str | None = None,
    force: bool = False,
    obs_keys: list[str] | None = None,
    filter_key: str | None = None,
) -> str:
    """
    Convert demonstrations, refusing anything that would lose data, and say what was written.

    :param source: the input (any format :func:`sb3_inril.load_demonstrations` reads)
    :param destination: an ``.npz`` path, or a directory for imitation's format
    :param to: ``"npz"`` or ``"imitation"`` (default: ``"npz"`` when ``destination`` ends with ``.npz``)
    :param force: overwrite an existing output
    :param obs_keys: robomimic only: observation keys, in order
    :param filter_key: robomimic only: a ``mask/<filter_key>`` subset
    :return: the report: the path really written, and which optional fields were kept
    :raises DemosCliError: see :func:`check_output`, :func:`check_demonstrations` and :func:`compare`
    """
    target = to or ("npz" if destination.lower().endswith(".npz") else "imitation")
    written, note = output_path(destination, target)
    check_output(source, written, target, force)
    demos = read(source, obs_keys, filter_key)
    temporary = temporary_path(written)
    try:
        produced = save_demonstrations(demos, temporary, format=target)
        produced = os.path.abspath(produced) if isinstance(produced, (str, os.PathLike)) else temporary
        if produced != temporary:
            if not produced.startswith(temporary):  # never move nor remove a path that is not ours
                raise DemosCliError(f"the writer was asked to write {temporary!r} and says it wrote {produced!r}")
            remove_path(temporary)
            temporary = produced  # the writer appended to the name: verify and move what it wrote
        if not os.path.lexists(temporary):
            raise DemosCliError(f"the writer did not create {temporary!r} (format {target!r})")
        report = compare(demos, load_demonstrations(temporary))
        move_into_place(temporary, written)
    finally:
        remove_path(temporary)
    head = f"wrote {len(demos.episode_starts)} episodes, {len(demos.actions)} transitions to {written} ({target}"
    return "\n".join([head + (f"; {note})" if note else ")"), *report])


# -- the command ---------------------------------------------------------------------------------
def _non_negative(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected an integer >= 0, found {text!r}")
    return value


def _one_line(error: Exception) -> str:
    message = " ".join(str(error).split())
    if isinstance(error, (DemosCliError, ValueError, OSError, ImportError)) and message:
        return message
    return f"{type(error).__name__}: {message}" if message else type(error).__name__


@contextlib.contextmanager
def _held_stderr() -> Iterator[io.StringIO]:
    """Hold what libraries print on stderr (progress bars, warnings) while the command runs."""
    held = io.StringIO()
    with warnings.catch_warnings(record=True) as caught, contextlib.redirect_stderr(held):
        warnings.simplefilter("default")
        yield held
    for warning in caught:
        held.write(f"warning: {warning.category.__name__}: {warning.message}\n")


def build_parser() -> argparse.ArgumentParser:
    """The parser of ``sb3-inril demos``."""
    parser = argparse.ArgumentParser(
        prog="sb3-inril demos",
        description="Inspect and convert demonstration files. Errors: one line 'error: ...' on stderr, exit code 2.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    inspect = sub.add_parser("inspect", help="episodes, lengths, returns, shapes and ranges")
    inspect.add_argument("path", help=".npz, robomimic .hdf5, imitation directory or .pkl, Minari path or id")
    inspect.add_argument("--episodes", action="store_true", help="list every episode")
    inspect.add_argument(
        "--max-dims", type=_non_negative, default=20, help="per-dimension ranges for at most this many dimensions"
    )
    convert_parser = sub.add_parser("convert", help="convert between formats (never overwrites without --force)")
    convert_parser.add_argument("source")
    convert_parser.add_argument(
        "destination", help="an .npz path ('.npz' is appended with --to npz), or a directory for imitation's format"
    )
    convert_parser.add_argument(
        "--to", choices=["npz", "imitation"], default=None, help="default: npz if DESTINATION ends with .npz, else imitation"
    )
    convert_parser.add_argument("--force", action="store_true", help="overwrite an existing output")
    for command in (inspect, convert_parser):
        command.add_argument("--obs-keys", nargs="+", default=None, help="robomimic: observation keys, in order")
        command.add_argument("--filter-key", default=None, help="robomimic: mask/<filter key>, e.g. train")
    return parser


def main(argv: list[str] | None = None) -> int:
    """
    ``sb3-inril demos inspect|convert``.

    :param argv: the arguments (default: ``sys.argv[1:]``)
    :return: 0, or 2 after one line ``error: ...`` on stderr (``KeyboardInterrupt`` is not caught)
    """
    args = build_parser().parse_args(argv)
    try:
        with _held_stderr() as held:
            if args.command == "inspect":
                output = describe(
                    read(args.path, args.obs_keys, args.filter_key), list_episodes=args.episodes, max_dims=args.max_dims
                )
            else:
                output = convert(args.source, args.destination, args.to, args.force, args.obs_keys, args.filter_key)
    except Exception as error:  # the boundary: one line, never a traceback
        print(f"error: {_one_line(error)}", file=sys.stderr)
        return EXIT_ERROR
    sys.stderr.write(held.getvalue())
    print(output)
    return 0
