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

Every reader returns :class:`sb3_inril.common.demonstrations.Demonstrations`, whose structure is
checked when it is built. Errors are ``ValueError`` / ``TypeError`` / ``FileNotFoundError`` /
``PermissionError`` naming the file, the demo or key, the expected and the found value.
The optional libraries (h5py, minari, imitation) are imported only when their format is read.
"""

import errno
import json
import os
import pickle
import re
from collections.abc import Sequence
from typing import Any

import numpy as np

from sb3_inril.common.demonstrations import (
    Demonstrations,
    DemonstrationSpec,
    as_demonstrations,
    episode_starts_from_lengths,
    from_episodes,
    n_rows,
    take_rows,
    to_array,
    to_observations,
)
from sb3_inril.common.hdf5_store import DEFAULT_CACHE_BYTES, HDF5RowStore, LazyRows
from sb3_inril.data import is_shipped_name, resolve_shipped

FORMATS = ("npz", "imitation", "robomimic", "minari", "arrays")
FILE_EXTENSIONS = (".npz", ".hdf5", ".h5", ".pkl", ".pickle")
OBSERVATION_FORMATS = ("flat", "dict")
# The metadata of a dataset written in imitation's format (which has no place for it).
METADATA_SIDECAR = "sb3_inril_metadata.json"
# A Minari dataset id: namespace/name-vN or name-vN (e.g. "mujoco/hopper/expert-v0").
MINARI_ID = re.compile(r"^([\w.-]+/)*[\w.-]+-v\d+$")

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


def _require(module: str, what: str) -> Any:
    try:
        return __import__(module, fromlist=["_"])
    except ImportError as error:
        raise ImportError(f"demonstrations: reading {what} needs the package {module.split('.')[0]!r}: {error}") from error


def _check_readable(path: str) -> None:
    """A ``PermissionError`` naming the file, before any reader says 'not a dataset'."""
    if not os.access(path, os.R_OK) or (os.path.isdir(path) and not os.access(path, os.X_OK)):
        raise PermissionError(errno.EACCES, f"demonstrations: no permission to read {path!r}", path)


# -- npz --------------------------------------------------------------------------------------------
def _load_npz(path: str) -> Demonstrations:
    mapping: dict[str, np.ndarray] = {}
    pickled: list[str] = []
    try:
        with np.load(path, allow_pickle=False) as data:
            for key in data.files:
                try:
                    mapping[key] = data[key]
                except ValueError:  # a pickled object array (e.g. imitation's `infos`): never unpickled
                    pickled.append(key)
    except PermissionError:
        raise
    except Exception as error:  # zipfile.BadZipFile, OSError, EOFError ...
        raise ValueError(f"demonstrations: could not read {path!r} as an .npz file: {error}") from error
    needed = [key for key in pickled if key.split("/")[0] in ("obs", "observations", "acts", "actions", "rewards", "dones")]
    if needed:
        raise ValueError(
            f"demonstrations: {path!r} member(s) {needed} hold pickled Python objects, expected numeric arrays "
            "(ragged or mixed data is saved as objects; pickles are never loaded)"
        )
    metadata: dict[str, Any] = {"format": "npz", "source": path}
    if "metadata" in mapping:  # how the data was made (scripts/collect_demos.py)
        text = str(mapping.pop("metadata"))
        try:
            metadata["collection"] = json.loads(text)
        except json.JSONDecodeError:
            metadata["collection"] = text
    if "demonstrations_metadata" in mapping:  # what save_demonstrations kept of the source's metadata
        kept = _json_member(mapping.pop("demonstrations_metadata"), "demonstrations_metadata", path)
        metadata = {**kept, "format": "npz", "source": path}
    infos = _json_member(mapping.pop("infos_json"), "infos_json", path) if "infos_json" in mapping else None
    if "indices" in mapping:  # imitation's legacy npz: trajectories concatenated, split at `indices`
        return _load_imitation_legacy_npz(mapping, metadata)
    for prefix in ("obs", "observations"):  # dict observations: one member per key, obs/<key>
        keys = [key for key in mapping if key.startswith(prefix + "/")]
        if keys and prefix not in mapping:
            mapping[prefix] = {key[len(prefix) + 1 :]: mapping.pop(key) for key in keys}  # type: ignore[assignment]  # dict observations: one array per key
    episode_terminals = mapping.pop("episode_terminals", None)  # per episode, as save_demonstrations writes it
    demonstrations = as_demonstrations(mapping, metadata)
    if episode_terminals is not None or infos is not None:
        demonstrations.episode_terminals = episode_terminals
        demonstrations.infos = infos
        demonstrations.__post_init__()  # checks their lengths
    return demonstrations


def _json_member(value: np.ndarray, name: str, path: str) -> Any:
    try:
        return json.loads(str(value))
    except json.JSONDecodeError as error:
        raise ValueError(f"demonstrations: {path!r} member {name!r} is not valid JSON: {error}") from error


def _jsonable(value: Any) -> Any:
    """numpy values as plain JSON values (infos, metadata)."""
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    return str(value)


def _load_imitation_legacy_npz(mapping: dict[str, np.ndarray], metadata: dict[str, Any]) -> Demonstrations:
    for key in ("obs", "acts"):
        if key not in mapping:
            raise ValueError(
                f"demonstrations: imitation npz {metadata['source']!r} has no key {key!r}, found {sorted(mapping)}"
            )
    indices = to_array(mapping["indices"], "indices").astype(np.int64)
    acts = np.split(to_array(mapping["acts"], "acts"), indices)
    obs = np.split(to_array(mapping["obs"], "obs"), indices + np.arange(1, len(indices) + 1))
    if len(obs) != len(acts) or any(len(o) != len(a) + 1 for o, a in zip(obs, acts)):
        raise ValueError(
            f"demonstrations: imitation npz {metadata['source']!r}: 'obs' and 'acts' do not split into trajectories at 'indices'"
        )
    metadata["format"] = "imitation-npz"
    rewards = np.split(np.asarray(mapping["rews"], dtype=np.float32), indices) if "rews" in mapping else None
    terminals = mapping.get("terminal")
    return from_episodes(
        [o[:-1] for o in obs],
        acts,
        rewards,
        metadata,
        episode_terminals=None if terminals is None or len(terminals) != len(acts) else terminals.tolist(),
    )


# -- imitation ------------------------------------------------------------------------------------
def _load_imitation(path: str) -> Demonstrations:
    metadata = {"format": "imitation", "source": path}
    if os.path.isdir(path):
        serialize = _require("imitation.data.serialize", "imitation datasets")
        try:
            trajectories = serialize.load(path)
            trajectories = list(trajectories)
        except Exception as error:
            raise ValueError(f"demonstrations: could not read {path!r} as an imitation dataset directory: {error}") from error
    else:
        _require("imitation.data.types", "imitation pickles")  # the pickled classes live there
        try:
            with open(path, "rb") as file:
                trajectories = pickle.load(file)
        except PermissionError:
            raise
        except Exception as error:
            raise ValueError(
                f"demonstrations: could not read {path!r} as a pickle of imitation trajectories: {error}"
            ) from error
        if not isinstance(trajectories, Sequence) or isinstance(trajectories, (str, bytes)):
            raise ValueError(
                f"demonstrations: the pickle {path!r} holds a {type(trajectories).__name__}, expected a sequence of "
                "imitation Trajectory objects"
            )
        wrong = [type(item).__name__ for item in trajectories if not (hasattr(item, "obs") and hasattr(item, "acts"))]
        if wrong:
            raise ValueError(
                f"demonstrations: the pickle {path!r} holds a sequence of {wrong[0]}, expected imitation Trajectory objects"
            )
    if len(trajectories) == 0:
        raise ValueError(f"demonstrations: the imitation dataset {path!r} holds no trajectory, expected at least one")
    sidecar = os.path.join(path, METADATA_SIDECAR)
    if os.path.isdir(path) and os.path.isfile(sidecar):
        with open(sidecar) as file:
            try:
                metadata = {**json.load(file), "format": "imitation", "source": path}
            except json.JSONDecodeError as error:
                raise ValueError(f"demonstrations: {sidecar!r} is not valid JSON: {error}") from error
    demonstrations = as_demonstrations(trajectories, metadata)
    # imitation's own flattening (flatten_trajectories) marks the last pair of every trajectory done.
    dones = np.zeros(len(demonstrations), dtype=bool)
    dones[np.append(demonstrations.episode_starts[1:], len(demonstrations)) - 1] = True
    demonstrations.dones = dones
    infos = [getattr(trajectory, "infos", None) for trajectory in trajectories]
    if all(info is not None for info in infos):
        demonstrations.infos = [dict(step) for info in infos if info is not None for step in info]
        demonstrations.__post_init__()
    return demonstrations


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


def _open_hdf5(path: str) -> Any:
    h5py = _require("h5py", "robomimic HDF5 files")
    try:
        return h5py.File(path, "r")
    except PermissionError:
        raise
    except Exception as error:  # OSError for truncated / non-HDF5 files
        raise ValueError(f"demonstrations: could not read {path!r} as an HDF5 file: {error}") from error


def _robomimic_data(file: Any, path: str) -> Any:
    """The ``data`` group, checked: a group holding at least one demo group."""
    h5py = _require("h5py", "robomimic HDF5 files")
    if "data" not in file:
        raise ValueError(
            f"demonstrations: {path!r} has no 'data' group, expected robomimic's layout data/demo_i/...; found {sorted(file.keys())}"
        )
    data = file["data"]
    if not isinstance(data, h5py.Group):
        raise ValueError(f"demonstrations: {path!r} has 'data' as a dataset, expected a group of demos (data/demo_i/...)")
    return data


def _robomimic_obs_group(data: Any, demo: str, path: str) -> Any:
    h5py = _require("h5py", "robomimic HDF5 files")
    group = data[demo]
    if not isinstance(group, h5py.Group):
        raise ValueError(f"demonstrations: {path!r} data/{demo} is a dataset, expected a group with 'obs' and 'actions'")
    if "obs" not in group or not isinstance(group["obs"], h5py.Group):
        raise ValueError(
            f"demonstrations: {path!r} demo {demo!r} has no 'obs' group, expected data/{demo}/obs/<key>; "
            f"found {sorted(group.keys())}"
        )
    return group["obs"]


def robomimic_obs_layout(path: str, demo: str | None = None, include_images: bool = False) -> dict[str, int]:
    """
    The low-dimensional observation keys of a robomimic file (one vector per step) and their
    sizes, sorted by name: the default order in which :func:`load_demonstrations` concatenates them.

    :param path: the file
    :param demo: the demo to look at (default: the first)
    :param include_images: also the image keys (``agentview_image``, ...), sized height * width * channels
    """
    with _open_hdf5(path) as file:
        data = _robomimic_data(file, path)
        if not len(data):
            raise ValueError(f"demonstrations: {path!r} has no demonstration in its 'data' group")
        group = _robomimic_obs_group(data, demo or sorted(data.keys(), key=_natural_key)[0], path)
        return {key: _per_step_size(group[key]) for key in sorted(group.keys()) if include_images or group[key].ndim <= 2}


def read_robomimic_env_args(path: str) -> dict[str, Any]:
    """The ``env_args`` a robomimic file records (``data.attrs["env_args"]``), as a dict."""
    with _open_hdf5(path) as file:
        env_args = _robomimic_data(file, path).attrs.get("env_args")
    if env_args is None:
        raise ValueError(f"env_args: {path!r} has no data.attrs['env_args'], expected robomimic's env metadata")
    try:
        return json.loads(env_args)
    except (json.JSONDecodeError, TypeError) as error:
        raise ValueError(f"env_args: {path!r} data.attrs['env_args'] is not valid JSON: {error}") from error


def _robomimic_demos(file: Any, data: Any, path: str, filter_key: str | None) -> list[str]:
    if filter_key is None:
        demos = sorted(data.keys(), key=_natural_key)
    else:
        masks = sorted(file["mask"].keys()) if "mask" in file else []
        if filter_key not in masks:
            raise ValueError(f"demonstrations: unknown filter key {filter_key!r} in {path!r}, expected one of {masks}")
        demos = sorted(
            (name.decode() if isinstance(name, bytes) else str(name) for name in file["mask"][filter_key][()]),
            key=_natural_key,
        )
        missing_demos = [demo for demo in demos if demo not in data]
        if missing_demos:
            raise ValueError(f"demonstrations: filter key {filter_key!r} names demos not in {path!r}: {missing_demos[:5]}")
    if not demos:
        raise ValueError(
            f"demonstrations: {path!r} holds no demonstration" + (f" for filter key {filter_key!r}" if filter_key else "")
        )
    return demos


def _check_per_step_lengths(
    path: str, demos: list[str], actions: list[np.ndarray], fields: dict[str, list[np.ndarray | None]]
) -> None:
    """Each demo's recorded per-step fields have one value per action."""
    for name, per_demo in fields.items():
        for demo, recorded, demo_actions in zip(demos, per_demo, actions):
            if recorded is not None and len(recorded) != len(demo_actions):
                raise ValueError(
                    f"demonstrations: length mismatch in {path!r} demo {demo!r}: {name!r} has {len(recorded)} steps, "
                    f"expected {len(demo_actions)} (the length of 'actions')"
                )


def _check_robomimic_demo(
    data: Any,
    demo: str,
    first: str,
    path: str,
    keys: list[str],
    key_shapes: dict[str, tuple[int, ...]],
    actions: list[np.ndarray],
) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
    """One demo's actions, rewards and done flags; its observation keys checked (present, numeric,
    one row per action, the first demo's per-step shape, recorded in ``key_shapes``) without reading them."""
    obs_group = _robomimic_obs_group(data, demo, path)
    group = data[demo]
    if "actions" not in group:
        raise ValueError(f"demonstrations: {path!r} demo {demo!r} has no 'actions', found {sorted(group.keys())}")
    where = f"{path!r} demo {demo!r}"
    demo_actions = to_array(group["actions"][()], "actions", where).astype(np.float32)
    if len(demo_actions) == 0:
        raise ValueError(f"demonstrations: {where} has no step, expected at least one (observation, action) pair")
    if demo_actions.ndim != 2:
        raise ValueError(f"demonstrations: {where}: 'actions' has shape {demo_actions.shape}, expected (steps, action_dim)")
    if actions and demo_actions.shape[1:] != actions[0].shape[1:]:
        raise ValueError(
            f"demonstrations: {where}: field 'acts' has per-step shape {demo_actions.shape[1:]}, "
            f"{path!r} demo {first!r} has {actions[0].shape[1:]}: every episode needs the same action shape"
        )
    for key in keys:
        if key not in obs_group:
            raise ValueError(f"demonstrations: {where} has no observation key {key!r}, found {sorted(obs_group.keys())}")
        dataset = obs_group[key]
        to_array(dataset[()] if dataset.ndim == 0 else dataset[:1], f"obs/{key}", where)  # dtype and rank
        shape = tuple(dataset.shape[1:]) or (1,)
        if len(dataset) != len(demo_actions):
            raise ValueError(
                f"demonstrations: length mismatch in {where}: obs key {key!r} has {len(dataset)} steps, "
                f"expected {len(demo_actions)} (the length of 'actions')"
            )
        if key_shapes.setdefault(key, shape) != shape:
            raise ValueError(
                f"demonstrations: obs key {key!r} has per-step shape {shape} in {where}, {key_shapes[key]} in demo {first!r}"
            )
    rewards = to_array(group["rewards"][()], "rewards", where).reshape(-1) if "rewards" in group else None
    dones = to_array(group["dones"][()], "dones", where).reshape(-1) if "dones" in group else None
    return demo_actions, rewards, dones


def _load_robomimic(
    path: str,
    obs_keys: list[str] | None = None,
    filter_key: str | None = None,
    observation_format: str = "flat",
    lazy: bool = False,
    cache_bytes: int | None = None,
) -> Demonstrations:
    if observation_format not in OBSERVATION_FORMATS:
        raise ValueError(f"observation_format: expected one of {OBSERVATION_FORMATS}, found {observation_format!r}")
    if lazy and observation_format != "dict":
        raise ValueError("lazy: rows read from the file when sampled need observation_format='dict', found 'flat'")
    with _open_hdf5(path) as file:
        data = _robomimic_data(file, path)
        demos = _robomimic_demos(file, data, path, filter_key)
        first_obs = _robomimic_obs_group(data, demos[0], path)
        available = sorted(first_obs.keys())
        keys = list(obs_keys) if obs_keys is not None else sorted(key for key in available if first_obs[key].ndim <= 2)
        unknown = [key for key in keys if key not in available]
        if unknown or not keys:
            sizes = {key: _per_step_size(first_obs[key]) for key in available}
            raise ValueError(
                f"demonstrations: observation keys {unknown or keys} not found in {path!r} demo {demos[0]!r}, "
                f"available keys and sizes: {sizes}"
            )
        actions: list[np.ndarray] = []
        rewards: list[np.ndarray | None] = []
        dones: list[np.ndarray | None] = []
        key_shapes: dict[str, tuple[int, ...]] = {}
        # First the shapes of every demo (no observation is read), then each key into one array:
        # an image dataset is never held twice (per demo and concatenated).
        for demo in demos:
            demo_actions, demo_rewards, demo_dones = _check_robomimic_demo(
                data, demo, demos[0], path, keys, key_shapes, actions
            )
            actions.append(demo_actions)
            rewards.append(demo_rewards)
            dones.append(demo_dones)
        lengths = [len(demo_actions) for demo_actions in actions]
        lazy_keys = [key for key in keys if lazy and len(key_shapes[key]) >= 2]  # images (and other >= 2-D keys)
        store = None
        if lazy_keys:
            store = HDF5RowStore(
                path, demos, lengths, lazy_keys, DEFAULT_CACHE_BYTES if cache_bytes is None else int(cache_bytes)
            )
        parts: dict[str, Any] = {}
        for key in keys:
            if store is not None and key in lazy_keys:
                parts[key] = LazyRows(store, key)
                continue
            dtype = first_obs[key].dtype if observation_format == "dict" else np.float32
            values = np.empty((sum(lengths), *key_shapes[key]), dtype=dtype)
            begin = 0
            for demo, length in zip(demos, lengths):
                values[begin : begin + length] = data[demo]["obs"][key][()].reshape(length, *key_shapes[key])
                begin += length
            parts[key] = values
        env_args = data.attrs.get("env_args")
        try:
            env_args = json.loads(env_args) if isinstance(env_args, (str, bytes)) else None
        except json.JSONDecodeError:
            env_args = None
    metadata = {
        "format": "robomimic",
        "source": path,
        "filter_key": filter_key,
        "demos": demos,
        "obs_keys": keys,
        "obs_key_sizes": {key: int(np.prod(shape, dtype=int)) for key, shape in key_shapes.items()},
        "env_args": env_args,
    }
    if lazy_keys:
        metadata["lazy_keys"] = lazy_keys
    _check_per_step_lengths(path, demos, actions, {"rewards": rewards, "dones": dones})
    present_rewards = [value for value in rewards if value is not None]  # absent rewards are never invented
    observations: Any = parts
    if observation_format == "flat":
        observations = np.concatenate([value.reshape(len(value), -1) for value in parts.values()], axis=1)
    demonstrations = Demonstrations(
        observations,
        np.concatenate(actions),
        episode_starts_from_lengths(lengths),
        np.concatenate(present_rewards) if len(present_rewards) == len(rewards) else None,
        metadata=metadata,
    )
    present_dones = [value for value in dones if value is not None]
    if len(present_dones) == len(dones):
        demonstrations.dones = np.concatenate(present_dones).astype(bool)
    return demonstrations


# -- minari ---------------------------------------------------------------------------------------
def _minari_data_path(source: str) -> str | None:
    for candidate in (os.path.join(source, "data"), source):
        if os.path.isfile(os.path.join(candidate, "metadata.json")):
            return candidate
    return None


def _load_minari(source: str) -> Demonstrations:
    minari = _require("minari", "Minari datasets")
    data_path = _minari_data_path(source) if os.path.isdir(source) else None
    try:
        if data_path is None:
            local = minari.list_local_datasets()
            if source not in local:
                raise FileNotFoundError(
                    errno.ENOENT,
                    f"demonstrations: no file or directory {source!r} (working directory {os.getcwd()!r}), and no Minari "
                    f"dataset of that id stored locally (datasets are never downloaded); local Minari datasets: {sorted(local)}",
                    source,
                )
            dataset = minari.load_dataset(source)
        else:
            dataset = minari.MinariDataset(data_path)
        observations, actions, rewards, terminals = [], [], [], []
        for episode in dataset.iterate_episodes():
            where = f"Minari dataset {source!r} episode {episode.id}"
            obs = to_observations(episode.observations, "observations", where)
            observations.append(take_rows(obs, slice(0, n_rows(obs) - 1)))
            actions.append(to_array(episode.actions, "actions", where))
            rewards.append(to_array(episode.rewards, "rewards", where).astype(np.float32))
            terminals.append(bool(np.asarray(episode.terminations)[-1]) if len(episode.terminations) else False)
    except (FileNotFoundError, PermissionError):
        raise
    except ValueError as error:
        if str(error).startswith("demonstrations:"):  # ours, already named
            raise
        raise ValueError(
            f"demonstrations: could not read the Minari dataset {source!r}: {type(error).__name__}: {error}"
        ) from error
    except Exception as error:  # a corrupt dataset: missing or malformed metadata.json, main_data.hdf5 ...
        raise ValueError(
            f"demonstrations: could not read the Minari dataset {source!r}: {type(error).__name__}: {error}"
        ) from error
    if not actions:
        raise ValueError(f"demonstrations: Minari dataset {source!r} holds no episode")
    metadata: dict[str, Any] = {"format": "minari", "source": source, "dataset_id": getattr(dataset.spec, "dataset_id", None)}
    env_spec = getattr(dataset.spec, "env_spec", None)
    metadata["env_id"] = getattr(env_spec, "id", None)
    return from_episodes(
        observations,
        actions,
        rewards,
        metadata,
        episode_terminals=terminals,
        episode_names=[f"Minari dataset {source!r} episode {index}" for index in range(len(actions))],
    )


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
        ``cache_bytes`` (:class:`~sb3_inril.common.hdf5_store.HDF5RowStore`): for datasets larger
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
            arrays["infos_json"] = np.array(json.dumps(demonstrations.infos, default=_jsonable))
        arrays["demonstrations_metadata"] = np.array(json.dumps(demonstrations.metadata, default=_jsonable))
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
            json.dump(demonstrations.metadata, file, default=_jsonable)
        return os.fspath(path)
    raise ValueError(f"format: expected 'npz' or 'imitation', found {format!r}")
