"""``load_demonstrations``: one entry point for every demonstration format users have.

Formats (detected from the source, or named with ``format=``):

- ``"npz"``: a plain ``.npz`` (keys ``obs``/``observations`` or ``obs/<key>`` for dict
  observations, ``acts``/``actions``, optionally ``rewards``, ``dones``, ``episode_starts``,
  ``episode_terminals``), or imitation's legacy ``.npz`` (with ``indices``);
- ``"imitation"``: a directory written by ``imitation.data.serialize.save`` (HuggingFace
  ``datasets`` format), or imitation's legacy pickle (``.pkl``);
- ``"robomimic"``: a robomimic HDF5 file (``data/demo_i/obs/<key>``, ``actions``, ``rewards``,
  ``dones``, ``mask/<filter>``, ``data.attrs["env_args"]``), read with h5py, as one flat vector or
  a dict of the file's keys (``observation_format="dict"``);
- ``"minari"``: a Minari dataset stored locally, by id (in ``MINARI_DATASETS_PATH`` or
  ``~/.minari/datasets``) or by path; never downloaded;
- a dict of arrays, imitation ``Transitions`` or a sequence of ``Trajectory`` objects.

Every reader returns :class:`sb3_inril.demos.demonstrations.Demonstrations`, whose structure is
checked when it is built. Errors are ``ValueError`` / ``TypeError`` / ``FileNotFoundError`` /
``PermissionError`` naming the file, the demo or key, the expected and the found value.
The optional libraries (h5py, minari, imitation) are imported only when their format is read.
"""

import errno
import json
import os
from collections.abc import Sequence
from typing import Any

import numpy as np

from sb3_inril.data import is_shipped_name, resolve_shipped
from sb3_inril.demos.demonstrations import (
    Demonstrations,
    DemonstrationSpec,
    as_demonstrations,
    take_rows,
)
from sb3_inril.demos.files import to_jsonable
from sb3_inril.demos.formats.base import (
    FILE_EXTENSIONS,
    FORMATS,
    METADATA_SIDECAR,
    MINARI_ID,
    _check_readable,
    _require,
)
from sb3_inril.demos.formats.imitation import _load_imitation
from sb3_inril.demos.formats.minari import _load_minari, _minari_data_path
from sb3_inril.demos.formats.npz import _load_npz
from sb3_inril.demos.formats.robomimic import _load_robomimic, read_robomimic_env_args, robomimic_obs_layout
from sb3_inril.validation import check_non_negative_int

__all__ = [
    "DemonstrationSpec",
    "Demonstrations",
    "check_observation_layout",
    "detect_format",
    "load_demonstrations",
    "read_robomimic_env_args",
    "robomimic_obs_layout",
    "save_demonstrations",
]


def check_observation_layout(demo_layout: dict[str, int], env_layout: dict[str, int], source: str = "demonstrations") -> None:
    """
    Raise when demonstrations and an env observe different keys, orders or sizes.

    :param demo_layout: the demonstrations' observation keys and sizes, in order
    :param env_layout: the env's, in order
    :param source: what the demonstrations are (for the message)
    :raises ValueError: naming the keys and sizes of both
    """
    if list(demo_layout.items()) == list(env_layout.items()):
        return
    missing = [key for key in env_layout if key not in demo_layout]
    extra = [key for key in demo_layout if key not in env_layout]
    resized = [
        f"{key}: {demo_layout[key]} vs {env_layout[key]}"
        for key in env_layout
        if demo_layout.get(key, env_layout[key]) != env_layout[key]
    ]
    details = "; ".join(
        part
        for part in (
            f"missing from the demonstrations: {missing}" if missing else "",
            f"not observed by the env: {extra}" if extra else "",
            f"sizes differ (demonstrations vs env): {resized}" if resized else "",
            "same keys in another order" if not (missing or extra or resized) else "",
        )
        if part
    )
    raise ValueError(
        f"demonstrations: observation keys of {source} do not match the env's ({details}); "
        f"demonstrations: {demo_layout}, env: {env_layout}"
    )


# -- robomimic ------------------------------------------------------------------------------------


# -- the entry point ------------------------------------------------------------------------------
def detect_format(source: Any) -> str:
    """The format of a source, see the module docstring."""
    if not isinstance(source, (str, os.PathLike)):
        return "arrays"
    path = os.fspath(source)
    if is_shipped_name(path):
        path = resolve_shipped(path)
    if os.path.islink(path) and not os.path.exists(path):
        try:
            os.stat(path)
        except OSError as error:
            if error.errno == errno.ELOOP:
                raise ValueError(f"demonstrations: {path!r} is a symbolic link loop, expected a file or directory") from error
        raise FileNotFoundError(errno.ENOENT, f"demonstrations: {path!r} is a link to a missing file", path)
    if os.path.exists(path):
        _check_readable(path)
    if os.path.isdir(path):
        if _minari_data_path(path) is not None:
            return "minari"
        if any(os.path.exists(os.path.join(path, name)) for name in ("dataset_info.json", "state.json")):
            return "imitation"
        raise ValueError(
            f"demonstrations: the directory {path!r} is neither an imitation dataset (dataset_info.json) nor a Minari "
            f"dataset (metadata.json); it holds {sorted(os.listdir(path))[:10]}"
        )
    extension = os.path.splitext(path)[1].lower()
    if not os.path.exists(path):
        if not os.path.isabs(path) and extension not in FILE_EXTENSIONS and MINARI_ID.match(path):
            return "minari"  # a dataset id such as "mujoco/hopper/expert-v0"
        raise FileNotFoundError(
            errno.ENOENT,
            f"demonstrations: file not found: {path!r}"
            + ("" if os.path.isabs(path) else f" (relative to the working directory {os.getcwd()!r})"),
            path,
        )
    if extension == ".npz":
        return "npz"
    if extension in (".hdf5", ".h5"):
        return "robomimic"
    if extension in (".pkl", ".pickle"):
        return "imitation"
    raise ValueError(f"demonstrations: can not tell the format of {path!r}, expected .npz, .hdf5/.h5, .pkl or a directory")


def _check_keys(obs_keys: Any) -> list[str] | None:
    if obs_keys is None:
        return None
    if isinstance(obs_keys, (str, bytes)) or not isinstance(obs_keys, Sequence):
        raise TypeError(f"obs_keys: expected a list of observation key names, found {type(obs_keys).__name__} {obs_keys!r}")
    if not all(isinstance(key, str) for key in obs_keys):
        raise TypeError(f"obs_keys: expected a list of str, found {list(obs_keys)!r}")
    if not obs_keys:
        raise ValueError("obs_keys: expected at least one observation key, found []")
    repeated = sorted({key for key in obs_keys if list(obs_keys).count(key) > 1})
    if repeated:
        raise ValueError(f"obs_keys: expected each key once, found {repeated} more than once in {list(obs_keys)!r}")
    return list(obs_keys)


def load_demonstrations(
    source: Any,
    format: str | None = None,
    obs_keys: list[str] | None = None,
    filter_key: str | None = None,
    observation_format: str | None = None,
    lazy: bool | None = None,
    cache_bytes: int | None = None,
) -> Demonstrations:
    """
    Read demonstrations from any supported source; every IN-RIL algorithm accepts the result as
    ``demonstrations=`` (and a saved model records how to read them again).

    :param source: a path (file or directory), a shipped set's name (``"shipped:Hopper-v5/medium"``),
        a Minari dataset id, a dict of arrays, imitation ``Transitions`` or a sequence of ``Trajectory`` objects
    :param format: one of ``"npz"``, ``"imitation"``, ``"robomimic"``, ``"minari"`` (default: detected)
    :param obs_keys: robomimic only: observation keys, concatenated in this order (default: every
        low-dimensional key, sorted by name)
    :param filter_key: robomimic only: a ``mask/<filter_key>`` subset such as ``"train"`` or ``"valid"``
    :param observation_format: robomimic only: ``"flat"`` (one vector, the default) or ``"dict"`` (one
        array per key, for a ``spaces.Dict`` env; image keys stay ``uint8``)
    :param lazy: robomimic only, with ``observation_format="dict"``: image keys (2-D or more per step)
        are not read now but per minibatch, from the file, through a cache of at most
        ``cache_bytes`` (:class:`~sb3_inril.demos.hdf5_store.HDF5RowStore`): for datasets larger
        than memory. The file must stay in place while the model trains
    :param cache_bytes: robomimic only, with ``lazy=True``: the cache's bound in bytes (default 512 MiB)
    :return: the demonstrations
    :raises ValueError: a malformed source or argument (the message names the source and the field)
    :raises TypeError: an argument or a source of the wrong type
    :raises FileNotFoundError: a path that does not exist
    :raises PermissionError: a file that can not be read
    """
    if format is not None and format not in FORMATS:
        raise ValueError(f"format: expected one of {FORMATS}, found {format!r}")
    obs_keys = _check_keys(obs_keys)
    if filter_key is not None and not isinstance(filter_key, str):
        raise TypeError(f"filter_key: expected a str, found {type(filter_key).__name__} {filter_key!r}")
    if cache_bytes is not None:
        check_non_negative_int("cache_bytes", cache_bytes)
    detected = format or detect_format(source)
    robomimic_only = dict(
        obs_keys=obs_keys, filter_key=filter_key, observation_format=observation_format, lazy=lazy, cache_bytes=cache_bytes
    )
    if detected != "robomimic" and any(value is not None for value in robomimic_only.values()):
        given = sorted(key for key, value in robomimic_only.items() if value is not None)
        raise ValueError(f"{' / '.join(given)}: only for robomimic files, found format {detected!r}")
    if detected == "arrays":
        return as_demonstrations(source)
    name = os.fspath(source)
    # A shipped set is read from the installed package and recorded by its name, so that a saved
    # model finds it on any machine.
    path = resolve_shipped(name) if is_shipped_name(name) else name
    path = os.path.abspath(path) if os.path.exists(path) else path
    try:
        if detected == "npz":
            demonstrations = _load_npz(path)
        elif detected == "imitation":
            demonstrations = _load_imitation(path)
        elif detected == "robomimic":
            demonstrations = _load_robomimic(path, obs_keys, filter_key, observation_format or "flat", bool(lazy), cache_bytes)
        else:
            demonstrations = _load_minari(path)
    except ValueError as error:
        if path in str(error):
            raise
        raise ValueError(f"{error} (in {path!r})") from error
    kwargs = {key: value for key, value in dict(format=format, **robomimic_only).items() if value is not None}
    demonstrations.spec = DemonstrationSpec(name if is_shipped_name(name) else path, kwargs)
    return demonstrations


def save_demonstrations(demonstrations: Demonstrations, path: str, format: str = "npz") -> str:
    """
    Write demonstrations as a plain ``.npz`` or as an imitation dataset directory, keeping what they
    have: observations (``obs/<key>`` members for dict observations), actions, episode starts,
    rewards (only when present), done flags, episode terminal flags, infos (as JSON in npz) and
    metadata (an ``sb3_inril_metadata.json`` file beside imitation's dataset files).

    :param demonstrations: what to write
    :param path: output path (``.npz`` is appended for the npz format when missing)
    :param format: ``"npz"`` or ``"imitation"``
    :return: the path written
    """
    if format == "npz":
        path = os.fspath(path)
        if not path.endswith(".npz"):
            path += ".npz"
        arrays: dict[str, Any] = dict(acts=demonstrations.actions, episode_starts=demonstrations.episode_starts)
        if isinstance(demonstrations.observations, dict):
            arrays.update({f"obs/{key}": value for key, value in demonstrations.observations.items()})
        else:
            arrays["obs"] = demonstrations.observations
        for name in ("rewards", "dones", "episode_terminals"):
            if getattr(demonstrations, name) is not None:
                arrays[name] = getattr(demonstrations, name)
        if demonstrations.infos is not None:  # as JSON: npz never holds pickles
            arrays["infos_json"] = np.array(json.dumps(demonstrations.infos, default=to_jsonable))
        arrays["demonstrations_metadata"] = np.array(json.dumps(demonstrations.metadata, default=to_jsonable))
        np.savez_compressed(path, **arrays)
        return path
    if format == "imitation":
        if isinstance(demonstrations.observations, dict):
            # imitation 1.0.1's writer raises "DictObs are not currently supported".
            raise ValueError(
                "format: imitation's dataset format can not hold dict observations (imitation 1.0.1 refuses DictObs "
                "in its writer); write them as npz (obs/<key> members) instead"
            )
        serialize = _require("imitation.data.serialize", "imitation datasets")
        types = _require("imitation.data.types", "imitation datasets")
        trajectories = []
        ends = np.append(demonstrations.episode_starts[1:], len(demonstrations.actions))
        for index, (start, end) in enumerate(zip(demonstrations.episode_starts, ends)):
            obs = take_rows(demonstrations.observations, slice(start, end))
            # The final observation is not stored in flat data: repeat the last one.
            if isinstance(obs, dict):
                obs = types.DictObs({key: np.concatenate([value, value[-1:]]) for key, value in obs.items()})
            else:
                obs = np.concatenate([obs, obs[-1:]])
            infos = None if demonstrations.infos is None else np.array(demonstrations.infos[start:end], dtype=object)
            terminal = True if demonstrations.episode_terminals is None else bool(demonstrations.episode_terminals[index])
            fields = dict(obs=obs, acts=demonstrations.actions[start:end], infos=infos, terminal=terminal)
            if demonstrations.rewards is not None:
                trajectories.append(types.TrajectoryWithRew(**fields, rews=demonstrations.rewards[start:end]))
            else:
                trajectories.append(types.Trajectory(**fields))
        serialize.save(path, trajectories)
        with open(os.path.join(path, METADATA_SIDECAR), "w") as file:
            json.dump(demonstrations.metadata, file, default=to_jsonable)
        return os.fspath(path)
    raise ValueError(f"format: expected 'npz' or 'imitation', found {format!r}")
