"""``load_demonstrations``: one entry point for every demonstration format users have.

Formats (detected from the source, or named with ``format=``):

- ``"npz"``: a plain ``.npz`` (keys ``obs``/``observations``, ``acts``/``actions``, optionally
  ``rewards``, ``dones``, ``episode_starts``), or imitation's legacy ``.npz`` (with ``indices``);
- ``"imitation"``: a directory written by ``imitation.data.serialize.save`` (HuggingFace
  ``datasets`` format), or imitation's legacy pickle (``.pkl``);
- ``"robomimic"``: a robomimic HDF5 file (``data/demo_i/obs/<key>``, ``actions``, ``rewards``,
  ``dones``, ``mask/<filter>``, ``data.attrs["env_args"]``), read with h5py;
- ``"minari"``: a Minari dataset stored locally, by id (in ``MINARI_DATASETS_PATH`` or
  ``~/.minari/datasets``) or by path; never downloaded;
- a dict of arrays, imitation ``Transitions`` or a sequence of ``Trajectory`` objects.

The optional libraries (h5py, minari, imitation) are imported only when their format is read.
"""

import json
import os
import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sb3_inril.common.demonstrations import DemonstrationArrays, to_demonstration_arrays

FORMATS = ("npz", "imitation", "robomimic", "minari", "arrays")
FILE_EXTENSIONS = (".npz", ".hdf5", ".h5", ".pkl", ".pickle")


@dataclass(frozen=True)
class DemonstrationSpec:
    """Where demonstrations come from and how to read them: what a saved model records."""

    source: str
    kwargs: dict[str, Any] = field(default_factory=dict)

    def load(self) -> "Demonstrations":
        return load_demonstrations(self.source, **self.kwargs)


@dataclass
class Demonstrations:
    """
    Demonstrations read from any format: flat arrays plus what is known about them.

    :param observations: ``(N, *obs_shape)``
    :param actions: ``(N, *action_shape)``
    :param episode_starts: index of the first pair of every episode
    :param rewards: ``(N,)`` or None
    :param metadata: format, source, episode returns, observation keys and sizes, env metadata
        (robomimic's ``env_args``, Minari's env spec), how the data was made, ...
    :param spec: how to read them again (recorded by a saved model); None for in-memory data
    """

    observations: np.ndarray
    actions: np.ndarray
    episode_starts: np.ndarray
    rewards: np.ndarray | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    spec: DemonstrationSpec | None = None

    @property
    def n_episodes(self) -> int:
        return len(self.episode_starts)

    @property
    def episode_lengths(self) -> np.ndarray:
        return np.diff(np.append(self.episode_starts, len(self.actions)))

    @property
    def episode_returns(self) -> np.ndarray | None:
        if self.rewards is None:
            return None
        return np.add.reduceat(self.rewards, self.episode_starts) if len(self.rewards) else np.zeros(0)

    def arrays(self) -> DemonstrationArrays:
        return DemonstrationArrays(self.observations, self.actions, self.episode_starts)

    def describe_observation(self) -> str:
        """The observation layout, e.g. ``object=10, robot0_eef_pos=3`` (empty when unknown)."""
        sizes = self.metadata.get("obs_key_sizes")
        return ", ".join(f"{key}={size}" for key, size in sizes.items()) if sizes else ""


def _episode_starts_from_lengths(lengths: list[int]) -> np.ndarray:
    return np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64) if lengths else np.zeros(0, np.int64)


def _from_episodes(
    observations: list[np.ndarray], actions: list[np.ndarray], rewards: list[np.ndarray], metadata: dict[str, Any]
) -> Demonstrations:
    """Flat demonstrations from per-episode arrays (one observation per action)."""
    starts = _episode_starts_from_lengths([len(episode_actions) for episode_actions in actions])
    return Demonstrations(np.concatenate(observations), np.concatenate(actions), starts, np.concatenate(rewards), metadata)


def _from_trajectories(trajectories: Any, metadata: dict[str, Any]) -> Demonstrations:
    arrays = to_demonstration_arrays(list(trajectories))
    rewards = None
    if all(getattr(trajectory, "rews", None) is not None for trajectory in trajectories):
        rewards = np.concatenate([np.asarray(trajectory.rews, dtype=np.float32) for trajectory in trajectories])
    return Demonstrations(arrays.observations, arrays.actions, arrays.episode_starts, rewards, metadata)


def _require(module: str, what: str) -> Any:
    try:
        return __import__(module, fromlist=["_"])
    except ImportError as error:
        raise ImportError(f"demonstrations: reading {what} needs the package {module.split('.')[0]!r}: {error}") from error


# -- npz --------------------------------------------------------------------------------------------
def _load_npz(path: str) -> Demonstrations:
    mapping: dict[str, np.ndarray] = {}
    try:
        with np.load(path, allow_pickle=False) as data:
            for key in data.files:
                try:
                    mapping[key] = data[key]
                except ValueError:  # a pickled object array (e.g. imitation's `infos`): not needed, never unpickled
                    continue
    except Exception as error:  # zipfile.BadZipFile, OSError, EOFError ...
        raise ValueError(f"demonstrations: could not read {path!r} as an .npz file: {error}") from error
    metadata: dict[str, Any] = {"format": "npz", "source": path}
    if "metadata" in mapping:
        try:
            metadata["collection"] = json.loads(str(mapping.pop("metadata")))
        except json.JSONDecodeError:
            pass
    if "indices" in mapping:  # imitation's legacy npz: trajectories concatenated, split at `indices`
        return _load_imitation_legacy_npz(mapping, metadata)
    arrays = to_demonstration_arrays(mapping)
    rewards = mapping.get("rewards", mapping.get("rews"))
    if rewards is not None and len(rewards) != len(arrays.actions):
        raise ValueError(
            f"demonstrations: length mismatch in {path!r}: field 'rewards' has {len(rewards)} rows, expected {len(arrays.actions)}"
        )
    return Demonstrations(
        arrays.observations,
        arrays.actions,
        arrays.episode_starts,
        None if rewards is None else rewards.astype(np.float32),
        metadata,
    )


def _load_imitation_legacy_npz(mapping: dict[str, np.ndarray], metadata: dict[str, Any]) -> Demonstrations:
    for key in ("obs", "acts"):
        if key not in mapping:
            raise ValueError(
                f"demonstrations: imitation npz {metadata['source']!r} has no key {key!r}, found {sorted(mapping)}"
            )
    indices = mapping["indices"].astype(np.int64)
    acts = np.split(mapping["acts"], indices)
    obs = np.split(mapping["obs"], indices + np.arange(1, len(indices) + 1))
    if len(obs) != len(acts) or any(len(o) != len(a) + 1 for o, a in zip(obs, acts)):
        raise ValueError(
            f"demonstrations: imitation npz {metadata['source']!r}: 'obs' and 'acts' do not split into trajectories"
        )
    metadata["format"] = "imitation-npz"
    rewards = np.asarray(mapping["rews"], dtype=np.float32) if "rews" in mapping else None
    return Demonstrations(
        np.concatenate([o[:-1] for o in obs]),
        np.concatenate(acts),
        _episode_starts_from_lengths([len(a) for a in acts]),
        rewards,
        metadata,
    )


# -- imitation ------------------------------------------------------------------------------------
def _load_imitation(path: str) -> Demonstrations:
    serialize = _require("imitation.data.serialize", "imitation datasets")
    try:
        trajectories = serialize.load(path)
    except Exception as error:
        raise ValueError(f"demonstrations: could not read {path!r} as an imitation dataset: {error}") from error
    if len(trajectories) == 0:
        raise ValueError(f"demonstrations: the imitation dataset {path!r} holds no trajectory, expected at least one")
    return _from_trajectories(trajectories, {"format": "imitation", "source": path})


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
def _natural_key(name: str) -> tuple:
    return tuple(int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name))


def _per_step_size(dataset: Any) -> int:
    """Values per step of an HDF5 dataset shaped ``(steps, ...)``."""
    return int(np.prod(dataset.shape[1:], dtype=int))


def robomimic_obs_layout(path: str, demo: str | None = None) -> dict[str, int]:
    """The low-dimensional observation keys of a robomimic file (one vector per step) and their
    sizes, sorted by name: the default order in which :func:`load_demonstrations` concatenates them."""
    h5py = _require("h5py", "robomimic HDF5 files")
    with h5py.File(path, "r") as file:
        if "data" not in file or not len(file["data"]):
            raise ValueError(f"demonstrations: {path!r} has no demonstration in a 'data' group (robomimic's layout)")
        demos = sorted(file["data"].keys(), key=_natural_key)
        group = file["data"][demo or demos[0]]["obs"]
        return {key: _per_step_size(group[key]) for key in sorted(group.keys()) if group[key].ndim <= 2}


def read_robomimic_env_args(path: str) -> dict[str, Any]:
    """The ``env_args`` a robomimic file records (``data.attrs["env_args"]``), as a dict."""
    h5py = _require("h5py", "robomimic HDF5 files")
    with h5py.File(path, "r") as file:
        env_args = file["data"].attrs.get("env_args") if "data" in file else None
    if env_args is None:
        raise ValueError(f"env_args: {path!r} has no data.attrs['env_args'], expected robomimic's env metadata")
    return json.loads(env_args)


def _load_robomimic(path: str, obs_keys: list[str] | None = None, filter_key: str | None = None) -> Demonstrations:
    h5py = _require("h5py", "robomimic HDF5 files")
    try:
        file = h5py.File(path, "r")
    except Exception as error:  # OSError for truncated / non-HDF5 files
        raise ValueError(f"demonstrations: could not read {path!r} as an HDF5 file: {error}") from error
    with file:
        if "data" not in file:
            raise ValueError(f"demonstrations: {path!r} has no 'data' group, expected robomimic's layout data/demo_i/...")
        data = file["data"]
        if filter_key is not None:
            masks = sorted(file["mask"].keys()) if "mask" in file else []
            if filter_key not in masks:
                raise ValueError(f"demonstrations: unknown filter key {filter_key!r} in {path!r}, expected one of {masks}")
            demos = sorted(
                (name.decode() if isinstance(name, bytes) else str(name) for name in file["mask"][filter_key][()]),
                key=_natural_key,
            )
        else:
            demos = sorted(data.keys(), key=_natural_key)
        if not demos:
            raise ValueError(
                f"demonstrations: {path!r} holds no demonstration" + (f" for filter key {filter_key!r}" if filter_key else "")
            )
        missing_demos = [demo for demo in demos if demo not in data]
        if missing_demos:
            raise ValueError(f"demonstrations: filter key {filter_key!r} names demos not in {path!r}: {missing_demos[:5]}")
        available = sorted(data[demos[0]]["obs"].keys()) if "obs" in data[demos[0]] else []
        keys = (
            list(obs_keys)
            if obs_keys is not None
            else sorted(key for key in available if data[demos[0]]["obs"][key].ndim <= 2)
        )
        unknown = [key for key in keys if key not in available]
        if unknown or not keys:
            sizes = {key: _per_step_size(data[demos[0]]["obs"][key]) for key in available}
            raise ValueError(
                f"demonstrations: observation keys {unknown or keys} not found in {path!r}, available keys and sizes: {sizes}"
            )
        observations, actions, rewards = [], [], []
        key_sizes: dict[str, int] = {}
        for demo in demos:
            group = data[demo]
            for required in ("actions", "obs"):
                if required not in group:
                    raise ValueError(
                        f"demonstrations: {path!r} demo {demo!r} has no {required!r}, found {sorted(group.keys())}"
                    )
            demo_actions = np.asarray(group["actions"][()], dtype=np.float32)
            parts = []
            for key in keys:
                if key not in group["obs"]:
                    raise ValueError(f"demonstrations: {path!r} demo {demo!r} has no observation key {key!r}")
                value = np.asarray(group["obs"][key][()], dtype=np.float32).reshape(len(group["obs"][key]), -1)
                if len(value) != len(demo_actions):
                    raise ValueError(
                        f"demonstrations: length mismatch in {path!r} demo {demo!r}: obs key {key!r} has {len(value)} steps, "
                        f"expected {len(demo_actions)} (the length of 'actions')"
                    )
                if key_sizes.setdefault(key, value.shape[1]) != value.shape[1]:
                    raise ValueError(
                        f"demonstrations: obs key {key!r} has size {value.shape[1]} in demo {demo!r}, {key_sizes[key]} elsewhere"
                    )
                parts.append(value)
            observations.append(np.concatenate(parts, axis=1))
            actions.append(demo_actions)
            rewards.append(
                np.asarray(group["rewards"][()], dtype=np.float32)
                if "rewards" in group
                else np.zeros(len(demo_actions), np.float32)
            )
        env_args = data.attrs.get("env_args")
        metadata = {
            "format": "robomimic",
            "source": path,
            "filter_key": filter_key,
            "demos": demos,
            "obs_keys": keys,
            "obs_key_sizes": key_sizes,
            "env_args": json.loads(env_args) if isinstance(env_args, (str, bytes)) else None,
        }
    return _from_episodes(observations, actions, rewards, metadata)


# -- minari ---------------------------------------------------------------------------------------
def _minari_data_path(source: str) -> str | None:
    for candidate in (os.path.join(source, "data"), source):
        if os.path.isfile(os.path.join(candidate, "metadata.json")):
            return candidate
    return None


def _load_minari(source: str) -> Demonstrations:
    minari = _require("minari", "Minari datasets")
    data_path = _minari_data_path(source) if os.path.isdir(source) else None
    if data_path is None:
        local = minari.list_local_datasets()
        if source not in local:
            raise FileNotFoundError(
                f"demonstrations: no Minari dataset {source!r} stored locally (datasets are never downloaded); local: {sorted(local)}"
            )
        dataset = minari.load_dataset(source)
    else:
        dataset = minari.MinariDataset(data_path)
    observations, actions, rewards = [], [], []
    for episode in dataset.iterate_episodes():
        obs = episode.observations
        if isinstance(obs, dict):
            raise ValueError(f"demonstrations: Minari dataset {source!r} has Dict observations, expected an array (Box)")
        observations.append(np.asarray(obs)[:-1])
        actions.append(np.asarray(episode.actions))
        rewards.append(np.asarray(episode.rewards, dtype=np.float32))
    if not actions:
        raise ValueError(f"demonstrations: Minari dataset {source!r} holds no episode")
    metadata = {
        "format": "minari",
        "source": source,
        "dataset_id": dataset.spec.dataset_id if hasattr(dataset, "spec") else None,
    }
    env_spec = getattr(dataset.spec, "env_spec", None) if hasattr(dataset, "spec") else None
    metadata["env_id"] = getattr(env_spec, "id", None)
    return _from_episodes(observations, actions, rewards, metadata)


# -- the entry point ------------------------------------------------------------------------------
def detect_format(source: Any) -> str:
    """The format of a source, see the module docstring."""
    if not isinstance(source, (str, os.PathLike)):
        return "arrays"
    path = os.fspath(source)
    if os.path.isdir(path):
        if _minari_data_path(path) is not None:
            return "minari"
        if any(os.path.exists(os.path.join(path, name)) for name in ("dataset_info.json", "state.json")):
            return "imitation"
        raise ValueError(f"demonstrations: the directory {path!r} is neither an imitation dataset nor a Minari dataset")
    extension = os.path.splitext(path)[1].lower()
    if not os.path.exists(path):
        if extension not in FILE_EXTENSIONS and not os.path.isabs(path):
            return "minari"  # a dataset id such as "mujoco/hopper/expert-v0"
        raise FileNotFoundError(f"demonstrations: file not found: {path!r}")
    if extension == ".npz":
        return "npz"
    if extension in (".hdf5", ".h5"):
        return "robomimic"
    if extension in (".pkl", ".pickle"):
        return "imitation"
    raise ValueError(f"demonstrations: can not tell the format of {path!r}, expected .npz, .hdf5/.h5, .pkl or a directory")


def load_demonstrations(
    source: Any, format: str | None = None, obs_keys: list[str] | None = None, filter_key: str | None = None
) -> Demonstrations:
    """
    Read demonstrations from any supported source; every IN-RIL algorithm accepts the result as
    ``demonstrations=`` (and a saved model records how to read them again).

    :param source: a path (file or directory), a Minari dataset id, a dict of arrays, imitation
        ``Transitions`` or a sequence of ``Trajectory`` objects
    :param format: one of ``"npz"``, ``"imitation"``, ``"robomimic"``, ``"minari"`` (default: detected)
    :param obs_keys: robomimic only: observation keys, concatenated in this order (default: every
        low-dimensional key, sorted by name)
    :param filter_key: robomimic only: a ``mask/<filter_key>`` subset such as ``"train"`` or ``"valid"``
    :return: the demonstrations
    """
    detected = format or detect_format(source)
    if detected not in FORMATS:
        raise ValueError(f"format: expected one of {FORMATS}, found {detected!r}")
    if (obs_keys is not None or filter_key is not None) and detected != "robomimic":
        raise ValueError(f"obs_keys / filter_key: only for robomimic files, found format {detected!r}")
    if detected == "arrays":
        if isinstance(source, Demonstrations):
            return source
        arrays = to_demonstration_arrays(source)
        return Demonstrations(arrays.observations, arrays.actions, arrays.episode_starts, metadata={"format": "arrays"})
    path = os.path.abspath(os.fspath(source)) if os.path.exists(os.fspath(source)) else os.fspath(source)
    if detected == "npz":
        demonstrations = _load_npz(path)
    elif detected == "imitation":
        demonstrations = _load_imitation(path)
    elif detected == "robomimic":
        demonstrations = _load_robomimic(path, obs_keys, filter_key)
    else:
        demonstrations = _load_minari(path)
    kwargs = {
        key: value for key, value in dict(format=format, obs_keys=obs_keys, filter_key=filter_key).items() if value is not None
    }
    demonstrations.spec = DemonstrationSpec(path, kwargs)
    return demonstrations


def save_demonstrations(demonstrations: Demonstrations, path: str, format: str = "npz") -> None:
    """
    Write demonstrations as a plain ``.npz`` or as an imitation dataset directory.

    :param demonstrations: what to write
    :param path: output path
    :param format: ``"npz"`` or ``"imitation"``
    """
    if format == "npz":
        arrays: dict[str, Any] = dict(
            obs=demonstrations.observations, acts=demonstrations.actions, episode_starts=demonstrations.episode_starts
        )
        if demonstrations.rewards is not None:
            arrays["rewards"] = demonstrations.rewards
        arrays["metadata"] = np.array(json.dumps(demonstrations.metadata, default=str))
        np.savez_compressed(path, **arrays)
    elif format == "imitation":
        serialize = _require("imitation.data.serialize", "imitation datasets")
        types = _require("imitation.data.types", "imitation datasets")
        trajectories = []
        ends = np.append(demonstrations.episode_starts[1:], len(demonstrations.actions))
        for start, end in zip(demonstrations.episode_starts, ends):
            obs = demonstrations.observations[start:end]
            # The final observation is not stored in flat data: repeat the last one.
            obs = np.concatenate([obs, obs[-1:]])
            rewards = (
                demonstrations.rewards[start:end] if demonstrations.rewards is not None else np.zeros(end - start, np.float32)
            )
            trajectories.append(
                types.TrajectoryWithRew(
                    obs=obs, acts=demonstrations.actions[start:end], infos=None, terminal=True, rews=rewards
                )
            )
        serialize.save(path, trajectories)
    else:
        raise ValueError(f"format: expected 'npz' or 'imitation', found {format!r}")
