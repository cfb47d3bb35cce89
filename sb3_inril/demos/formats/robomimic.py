"""Reading robomimic HDF5 files with h5py (robomimic's own modules need mujoco_py): flat or dict
observations, filter keys, lazy image rows."""

import contextlib
import json
import re
from collections.abc import Iterator
from typing import Any

import numpy as np

from sb3_inril.demos.demonstrations import (
    Demonstrations,
    episode_starts_from_lengths,
    to_array,
)
from sb3_inril.demos.formats.base import OBSERVATION_FORMATS, _require
from sb3_inril.demos.hdf5_store import DEFAULT_CACHE_BYTES, HDF5RowStore, LazyRows


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


@contextlib.contextmanager
def _read_hdf5(path: str) -> Iterator[Any]:
    """The open file; what h5py raises for a corrupt file while reading it becomes a ValueError naming the file."""
    with _open_hdf5(path) as file:
        try:
            yield file
        except (FileNotFoundError, PermissionError):
            raise
        except (KeyError, OSError, RuntimeError) as error:  # a corrupt object header, B-tree or chunk
            raise ValueError(
                f"demonstrations: could not read {path!r} as a robomimic HDF5 file (is it corrupt?): "
                f"{type(error).__name__}: {error}"
            ) from error


def _names(group: Any, path: str, where: str) -> list[str]:
    """The member names of a group (a corrupt file can hold names that are not UTF-8)."""
    names = list(group.keys())
    wrong = [name for name in names if not isinstance(name, str)]
    if wrong:
        raise ValueError(f"demonstrations: {where} of {path!r} has a member named {wrong[0]!r}, expected UTF-8 names")
    return names


def _member(group: Any, name: str, path: str, where: str, kind: str) -> Any:
    """``group[name]``, checked: it opens (no dangling soft or external link) and is a ``kind`` ("group" or "dataset")."""
    h5py = _require("h5py", "robomimic HDF5 files")
    try:
        member = group[name]
    except (KeyError, OSError, RuntimeError) as error:
        raise ValueError(
            f"demonstrations: {name!r} in {where} of {path!r} could not be opened (a dangling link or a corrupt file): {error}"
        ) from error
    if kind != "any" and not isinstance(member, h5py.Group if kind == "group" else h5py.Dataset):
        found = type(member).__name__.lower()  # group, dataset or datatype
        raise ValueError(f"demonstrations: {name!r} in {where} of {path!r}: expected a {kind}, found a {found}")
    return member


def _robomimic_data(file: Any, path: str) -> Any:
    """The ``data`` group, checked: a group holding at least one demo group."""
    h5py = _require("h5py", "robomimic HDF5 files")
    if "data" not in file:
        raise ValueError(
            f"demonstrations: {path!r} has no 'data' group, expected robomimic's layout data/demo_i/...; "
            f"found {sorted(_names(file, path, 'the root group'))}"
        )
    data = _member(file, "data", path, "the root group", "any")
    if not isinstance(data, h5py.Group):
        raise ValueError(f"demonstrations: {path!r} has 'data' as a dataset, expected a group of demos (data/demo_i/...)")
    return data


def _robomimic_obs_group(data: Any, demo: str, path: str) -> Any:
    h5py = _require("h5py", "robomimic HDF5 files")
    group = _member(data, demo, path, "'data'", "any")
    if not isinstance(group, h5py.Group):
        raise ValueError(f"demonstrations: {path!r} data/{demo} is a dataset, expected a group with 'obs' and 'actions'")
    if "obs" not in group or not isinstance(group["obs"], h5py.Group):
        raise ValueError(
            f"demonstrations: {path!r} demo {demo!r} has no 'obs' group, expected data/{demo}/obs/<key>; "
            f"found {sorted(_names(group, path, f'demo {demo!r}'))}"
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
    with _read_hdf5(path) as file:
        data = _robomimic_data(file, path)
        names = _names(data, path, "'data'")
        if not names:
            raise ValueError(f"demonstrations: {path!r} has no demonstration in its 'data' group")
        demo = demo or sorted(names, key=_natural_key)[0]
        group = _robomimic_obs_group(data, demo, path)
        where = f"demo {demo!r} 'obs'"
        datasets = {key: _member(group, key, path, where, "dataset") for key in sorted(_names(group, path, where))}
        return {key: _per_step_size(dataset) for key, dataset in datasets.items() if include_images or dataset.ndim <= 2}


def read_robomimic_env_args(path: str) -> dict[str, Any]:
    """The ``env_args`` a robomimic file records (``data.attrs["env_args"]``), as a dict."""
    with _read_hdf5(path) as file:
        env_args = _robomimic_data(file, path).attrs.get("env_args")
    if env_args is None:
        raise ValueError(f"env_args: {path!r} has no data.attrs['env_args'], expected robomimic's env metadata")
    try:
        parsed = json.loads(env_args)
    except (json.JSONDecodeError, TypeError, UnicodeDecodeError) as error:
        raise ValueError(f"env_args: {path!r} data.attrs['env_args'] is not valid JSON: {error}") from error
    if not isinstance(parsed, dict):
        raise ValueError(
            f"env_args: {path!r} data.attrs['env_args'] holds a JSON {type(parsed).__name__}, expected an object "
            "(robomimic's env metadata: env_name, type, env_kwargs)"
        )
    return parsed


def _robomimic_demos(file: Any, data: Any, path: str, filter_key: str | None) -> list[str]:
    if filter_key is None:
        demos = sorted(_names(data, path, "'data'"), key=_natural_key)
    else:
        masks = (
            sorted(_names(_member(file, "mask", path, "the root group", "group"), path, "'mask'")) if "mask" in file else []
        )
        if filter_key not in masks:
            raise ValueError(f"demonstrations: unknown filter key {filter_key!r} in {path!r}, expected one of {masks}")
        demos = sorted(_mask_names(_member(file["mask"], filter_key, path, "'mask'", "dataset"), path), key=_natural_key)
        missing_demos = [demo for demo in demos if demo not in data]
        if missing_demos:
            raise ValueError(f"demonstrations: filter key {filter_key!r} names demos not in {path!r}: {missing_demos[:5]}")
    if not demos:
        raise ValueError(
            f"demonstrations: {path!r} holds no demonstration" + (f" for filter key {filter_key!r}" if filter_key else "")
        )
    return demos


def _mask_names(dataset: Any, path: str) -> list[str]:
    """The demo names a ``mask/<filter_key>`` dataset lists: a 1-D array of (byte) strings."""
    where = f"demonstrations: {dataset.name!r} of {path!r}"
    values = dataset[()] if dataset.shape is not None else None  # None: an HDF5 null dataspace
    if not isinstance(values, np.ndarray) or values.ndim != 1 or values.dtype.kind not in "SUO":
        found = "no value" if values is None else f"dtype {np.asarray(values).dtype} and shape {np.shape(values)}"
        raise ValueError(f"{where}: expected a 1-D array of demo names (strings), found {found}")
    names = []
    for value in values:
        if not isinstance(value, (bytes, str)):
            raise ValueError(f"{where}: expected demo names (strings), found a {type(value).__name__} {value!r}")
        try:
            names.append(value.decode("utf-8") if isinstance(value, bytes) else value)
        except UnicodeDecodeError as error:
            raise ValueError(f"{where}: the demo name {value!r} is not UTF-8 ({error})") from error
    return names


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
        raise ValueError(
            f"demonstrations: {path!r} demo {demo!r} has no 'actions', found {sorted(_names(group, path, f'demo {demo!r}'))}"
        )
    where = f"{path!r} demo {demo!r}"
    demo_where = f"demo {demo!r}"
    demo_actions = to_array(_member(group, "actions", path, demo_where, "dataset")[()], "actions", where).astype(np.float32)
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
            raise ValueError(
                f"demonstrations: {where} has no observation key {key!r}, found {sorted(_names(obs_group, path, demo_where))}"
            )
        dataset = _member(obs_group, key, path, f"{demo_where} 'obs'", "dataset")
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
    per_step = {
        name: to_array(_member(group, name, path, demo_where, "dataset")[()], name, where).reshape(-1)
        for name in ("rewards", "dones")
        if name in _names(group, path, demo_where)  # listed: a dangling link too, which is not "in" the group
    }
    return demo_actions, per_step.get("rewards"), per_step.get("dones")


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
    with _read_hdf5(path) as file:
        data = _robomimic_data(file, path)
        demos = _robomimic_demos(file, data, path, filter_key)
        first_obs = _robomimic_obs_group(data, demos[0], path)
        first_where = f"demo {demos[0]!r} 'obs'"
        available = sorted(_names(first_obs, path, first_where))
        if obs_keys is None:  # the low-dimensional keys
            keys = [key for key in available if _member(first_obs, key, path, first_where, "dataset").ndim <= 2]
        else:
            keys = list(obs_keys)
        unknown = [key for key in keys if key not in available]
        if unknown or not keys:
            sizes = {key: _per_step_size(_member(first_obs, key, path, first_where, "dataset")) for key in available}
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
        try:  # metadata only: a file with unreadable env_args is still read (read_robomimic_env_args names the error)
            env_args = json.loads(env_args) if isinstance(env_args, (str, bytes)) else None
        except ValueError:  # json.JSONDecodeError, UnicodeDecodeError
            env_args = None
        env_args = env_args if isinstance(env_args, dict) else None
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
