"""The one demonstration type, its conversion from in-memory sources, and validation against spaces.

:class:`Demonstrations` is what every reader returns (files are read by
:mod:`sb3_inril.demos.loading`) and what the demonstration buffer
(:mod:`sb3_inril.demos.buffer`) consumes. Its structure (lengths, episode boundaries,
dtypes) is checked when it is built, so nothing downstream can print or train on inconsistent
data; :func:`validate_demonstrations` then checks it against an env's spaces.

Observations are an array ``(N, *obs_shape)``, or a dict of such arrays for ``spaces.Dict``
observation spaces (one entry per key); a key may be a
:class:`~sb3_inril.demos.hdf5_store.LazyRows` (rows read from an HDF5 file when sampled, for
image datasets larger than memory).
"""

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from gymnasium import spaces

from sb3_inril.demos.hdf5_store import LazyRows

# Anything the IN-RIL algorithms accept as ``demonstrations=``: a path (any format the loaders read),
# a mapping of arrays, imitation's ``Transitions`` (or any object with ``obs`` and ``acts`` arrays),
# a sequence of imitation ``Trajectory`` objects, or :class:`Demonstrations`. imitation is never imported.
DemonstrationSource = str | os.PathLike | Mapping[str, Any] | Any

#: Observations: one array, or one array per key of a ``spaces.Dict`` (a key's rows may be a
#: :class:`~sb3_inril.demos.hdf5_store.LazyRows`, which reads like an array).
Observations = np.ndarray | dict[str, np.ndarray]

OBS_KEYS = ("obs", "observations")
ACTION_KEYS = ("acts", "actions")


@dataclass(frozen=True)
class DemonstrationSpec:
    """Where demonstrations come from and how to read them: what a saved model records."""

    source: str
    kwargs: dict[str, Any] = field(default_factory=dict)


# -- helpers for observations that are an array or a dict of arrays --------------------------------
def n_rows(observations: Observations) -> int:
    """The number of steps in ``observations``."""
    if isinstance(observations, dict):
        return len(next(iter(observations.values())))
    return len(observations)


def take_rows(observations: Observations, index: Any) -> Observations:
    """``observations[index]``, key by key for a dict."""
    if isinstance(observations, dict):
        return {key: value[index] for key, value in observations.items()}
    return observations[index]


def concatenate_rows(parts: Sequence[Observations]) -> Observations:
    """Concatenate per-episode observations along the step axis (key by key for dicts)."""
    if isinstance(parts[0], dict):
        return {key: np.concatenate([part[key] for part in parts]) for key in parts[0]}
    return np.concatenate(parts)  # type: ignore[arg-type]  # array observations here


def to_array(value: Any, field_name: str, where: str = "") -> np.ndarray:
    """
    ``np.asarray(value)`` with a named error for what can not be one numeric array.

    :param value: the data
    :param field_name: the field's name, for the message
    :param where: where the field comes from (episode, file), for the message
    :raises ValueError: for ragged data, strings and objects
    """
    suffix = f" ({where})" if where else ""
    if isinstance(value, LazyRows):  # read when sampled: its dtype and shape are the file's, checked when opened
        return value  # type: ignore[return-value]  # an array-like of rows, see LazyRows
    try:
        array = np.asarray(value)
    except (ValueError, TypeError) as error:  # ragged nested lists
        raise ValueError(
            f"demonstrations: field '{field_name}'{suffix} is ragged (rows of different lengths), expected one "
            f"array with a fixed shape per step: {error}"
        ) from error
    if array.dtype == object or not (np.issubdtype(array.dtype, np.number) or array.dtype == np.bool_):
        raise ValueError(
            f"demonstrations: field '{field_name}'{suffix} has dtype {array.dtype}, expected a real numeric dtype"
            + (" (ragged rows or mixed types give object arrays)" if array.dtype == object else "")
        )
    if np.issubdtype(array.dtype, np.complexfloating):
        raise ValueError(
            f"demonstrations: field '{field_name}'{suffix} has dtype {array.dtype}, expected a real numeric dtype"
        )
    if array.ndim == 0:
        raise ValueError(f"demonstrations: field '{field_name}'{suffix} is a scalar, expected one row per step")
    return array


def to_flags(array: np.ndarray, field_name: str, where: str = "") -> np.ndarray:
    """Flags (done, terminal) as bool, with a named error for values other than 0/1 (NaN included)."""
    if array.dtype != np.bool_:
        bad = ~np.isin(array, (0, 1))
        if bad.any():
            row = int(np.flatnonzero(bad.reshape(len(array), -1).any(axis=1))[0])
            raise ValueError(
                f"demonstrations: field '{field_name}'{f' ({where})' if where else ''} has {int(bad.sum())} values other "
                f"than 0/1 (True/False), expected flags; first at row {row}: {array[row].tolist()}"
            )
    return array.astype(bool)


def dict_observation(value: Any) -> dict[str, Any] | None:
    """The key -> array dict of a dict observation (a mapping or imitation's ``DictObs``), else None."""
    if isinstance(value, Mapping):
        return dict(value)
    if hasattr(value, "dict_len") and hasattr(value, "items"):  # imitation.data.types.DictObs
        return dict(value.items())
    return None


def to_observations(value: Any, field_name: str = "obs", where: str = "") -> Observations:
    """Observations as an array or a dict of arrays of equal length, with named errors."""
    as_dict = dict_observation(value)
    if as_dict is None:
        return to_array(value, field_name, where)
    if not as_dict:
        raise ValueError(f"demonstrations: field '{field_name}' is an empty dict, expected one array per observation key")
    arrays = {str(key): to_array(item, f"{field_name}/{key}", where) for key, item in as_dict.items()}
    lengths = {key: len(array) for key, array in arrays.items()}
    if len(set(lengths.values())) > 1:
        raise ValueError(
            f"demonstrations: the keys of field '{field_name}'{' (' + where + ')' if where else ''} have different "
            f"lengths {lengths}, expected one row per step for every key"
        )
    return arrays


# -- the type --------------------------------------------------------------------------------------
@dataclass
class Demonstrations:
    """
    Demonstrations from any source: flat (observation, action) pairs plus what is known about them.

    The structure is checked on creation (a ``ValueError`` naming the field otherwise).

    :param observations: ``(N, *obs_shape)``, or a dict of such arrays for Dict observation spaces
    :param actions: ``(N, *action_shape)``
    :param episode_starts: index of the first pair of every episode, strictly increasing from 0
    :param rewards: ``(N,)`` or None (absent: never invented)
    :param dones: ``(N,)`` done flags as the source recorded them, or None
    :param episode_terminals: ``(n_episodes,)``: True where an episode ended in a terminal state, False where
        it was truncated (or the source does not say), None when unknown
    :param infos: one info dict per pair, or None
    :param metadata: format, source, episode returns, observation keys and sizes, env metadata
        (robomimic's ``env_args``, Minari's env spec), how the data was made, ...
    :param spec: how to read them again (recorded by a saved model); None for in-memory data
    """

    observations: Observations
    actions: np.ndarray
    episode_starts: np.ndarray
    rewards: np.ndarray | None = None
    dones: np.ndarray | None = None
    episode_terminals: np.ndarray | None = None
    infos: list[dict[str, Any]] | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    spec: DemonstrationSpec | None = None

    def __post_init__(self) -> None:
        self.observations = to_observations(self.observations, "obs")
        self.actions = to_array(self.actions, "acts")
        n_obs, n_acts = n_rows(self.observations), len(self.actions)
        if n_acts == 0 or n_obs == 0:
            raise ValueError(
                f"demonstrations: empty data: field 'obs' has {n_obs} rows and 'acts' has {n_acts}, expected at least 1"
            )
        if n_obs != n_acts:
            raise ValueError(
                f"demonstrations: length mismatch: field 'obs' has {n_obs} rows, expected the same as field 'acts' ({n_acts} rows)"
            )
        self.episode_starts = check_episode_starts(self.episode_starts, n_acts)
        for name in ("rewards", "dones"):
            value = getattr(self, name)
            if value is None:
                continue
            array = to_array(value, name)
            if array.shape[:1] != (n_acts,) or array.size != n_acts:  # (N,), or (N, 1)
                raise ValueError(
                    f"demonstrations: field '{name}' has shape {array.shape}, expected ({n_acts},): one value per pair"
                )
            if name == "rewards":
                rewards = array.reshape(n_acts).astype(np.float32)
                _check_finite(rewards, "rewards")  # the critic of RLPD-style replay learns from them
                self.rewards = rewards
            else:
                self.dones = to_flags(array.reshape(n_acts), "dones")
        if self.episode_terminals is not None:
            terminals = to_flags(to_array(self.episode_terminals, "episode_terminals").reshape(-1), "episode_terminals")
            if len(terminals) != self.n_episodes:
                raise ValueError(
                    f"demonstrations: field 'episode_terminals' has {len(terminals)} values, expected one per episode "
                    f"({self.n_episodes})"
                )
            self.episode_terminals = terminals
        if self.infos is not None:
            if isinstance(self.infos, (str, bytes, Mapping)) or not hasattr(self.infos, "__len__"):
                raise ValueError(
                    f"demonstrations: field 'infos' is {type(self.infos).__name__}, expected a list of one dict per pair"
                )
            if len(self.infos) != n_acts:
                raise ValueError(
                    f"demonstrations: field 'infos' has {len(self.infos)} entries, expected one per pair ({n_acts})"
                )
            wrong = [index for index, info in enumerate(self.infos) if not isinstance(info, Mapping)]
            if wrong:
                raise ValueError(
                    f"demonstrations: field 'infos' holds {type(self.infos[wrong[0]]).__name__} {self.infos[wrong[0]]!r} "
                    f"at pair {wrong[0]}, expected one dict per pair"
                )

    def __len__(self) -> int:
        return len(self.actions)

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
        return np.add.reduceat(self.rewards, self.episode_starts)

    @property
    def is_dict(self) -> bool:
        """True for dict observations (a ``spaces.Dict`` env)."""
        return isinstance(self.observations, dict)

    def describe_observation(self) -> str:
        """The observation layout, e.g. ``object=10, robot0_eef_pos=3`` (empty when unknown)."""
        sizes = self.metadata.get("obs_key_sizes")
        if not sizes and isinstance(self.observations, dict):
            sizes = {key: tuple(value.shape[1:]) for key, value in self.observations.items()}
        return ", ".join(f"{key}={size}" for key, size in sizes.items()) if sizes else ""


def check_episode_starts(starts: Any, n_pairs: int) -> np.ndarray:
    """``episode_starts`` as int64, checked: starts at 0, strictly increasing, below ``n_pairs``."""
    array = to_array(starts, "episode_starts").reshape(-1)
    if not np.all(np.equal(np.mod(array, 1), 0)):
        raise ValueError(f"demonstrations: field 'episode_starts' has non-integer values {array[:5]}, expected integers")
    array = array.astype(np.int64)
    if len(array) == 0 or array[0] != 0:
        raise ValueError(
            f"demonstrations: field 'episode_starts' must start at 0, found {array[:5].tolist()}{' ...' if len(array) > 5 else ''}"
        )
    steps = np.diff(array)
    if np.any(steps <= 0):
        index = int(np.flatnonzero(steps <= 0)[0])
        raise ValueError(
            f"demonstrations: field 'episode_starts' is not strictly increasing: episode {index} starts at "
            f"{array[index]}, episode {index + 1} at {array[index + 1]} (an episode needs at least one pair)"
        )
    if array[-1] >= n_pairs:
        raise ValueError(
            f"demonstrations: field 'episode_starts' has a start {array[-1]} out of range, expected starts below "
            f"the number of pairs ({n_pairs})"
        )
    return array


def episode_starts_from_dones(dones: np.ndarray | None, n_pairs: int) -> np.ndarray:
    """Episode starts from per-pair done flags (one episode when unknown)."""
    if dones is None:
        return np.zeros(1, dtype=np.int64)
    dones = to_array(dones, "dones").reshape(-1)
    if len(dones) != n_pairs:
        raise ValueError(f"demonstrations: field 'dones' has {len(dones)} values, expected one per pair ({n_pairs})")
    starts = np.concatenate([[0], np.flatnonzero(dones.astype(bool)) + 1])
    return starts[starts < n_pairs].astype(np.int64)


def episode_starts_from_lengths(lengths: Sequence[int]) -> np.ndarray:
    return np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64) if len(lengths) else np.zeros(0, np.int64)


def from_episodes(
    observations: Sequence[Observations],
    actions: Sequence[np.ndarray],
    rewards: Sequence[np.ndarray] | None = None,
    metadata: dict[str, Any] | None = None,
    episode_terminals: Sequence[bool] | np.ndarray | None = None,
    episode_names: Sequence[str] | None = None,
) -> Demonstrations:
    """
    Flat demonstrations from per-episode arrays (one observation per action).

    :param episode_names: names of the episodes for error messages (default ``episode <i>``)
    """
    names = list(episode_names) if episode_names is not None else [f"episode {index}" for index in range(len(actions))]
    if not actions:
        raise ValueError("demonstrations: no episode, expected at least one")
    obs_shape = None
    for index, (name, episode_obs, episode_actions) in enumerate(zip(names, observations, actions)):
        if len(episode_actions) == 0:
            raise ValueError(f"demonstrations: {name} has no step, expected at least one (observation, action) pair")
        if rewards is not None and len(rewards[index]) != len(episode_actions):
            # Checked per episode: lengths that only add up over all episodes would misalign every reward.
            raise ValueError(
                f"demonstrations: {name}: field 'rewards' has {len(rewards[index])} values, expected "
                f"{len(episode_actions)} (one per action)"
            )
        if n_rows(episode_obs) != len(episode_actions):
            raise ValueError(
                f"demonstrations: {name}: field 'obs' has {n_rows(episode_obs)} steps, expected {len(episode_actions)} "
                "(the length of 'acts')"
            )
        if episode_actions.shape[1:] != actions[0].shape[1:]:
            raise ValueError(
                f"demonstrations: {name}: field 'acts' has per-step shape {episode_actions.shape[1:]}, "
                f"{names[0]} has {actions[0].shape[1:]}: every episode needs the same action shape"
            )
        shape = (
            {key: value.shape[1:] for key, value in episode_obs.items()}
            if isinstance(episode_obs, dict)
            else episode_obs.shape[1:]
        )
        if obs_shape is not None and shape != obs_shape:
            raise ValueError(
                f"demonstrations: {name}: field 'obs' has per-step shape {shape}, {names[0]} has {obs_shape}: "
                "every episode needs the same observation shape"
            )
        obs_shape = shape
    return Demonstrations(
        concatenate_rows(observations),
        np.concatenate(actions),
        episode_starts_from_lengths([len(episode_actions) for episode_actions in actions]),
        None if rewards is None else np.concatenate(rewards),
        episode_terminals=None if episode_terminals is None else np.asarray(episode_terminals),  # checked: 0/1 flags
        metadata=metadata or {},
    )


def _first_key(mapping: Mapping[str, Any], keys: Sequence[str], what: str, where: str) -> Any:
    for key in keys:
        if key in mapping:
            return mapping[key]
    raise ValueError(
        f"demonstrations: no {what} array in {where}: expected one of the keys {list(keys)}, found {sorted(mapping)}"
    )


def _from_mapping(mapping: Mapping[str, Any], where: str, metadata: dict[str, Any] | None = None) -> Demonstrations:
    observations = to_observations(_first_key(mapping, OBS_KEYS, "observation", where), "obs", where)
    actions = to_array(_first_key(mapping, ACTION_KEYS, "action", where), "acts", where)
    dones = mapping.get("dones", mapping.get("terminals"))
    if "episode_starts" in mapping:
        starts = mapping["episode_starts"]
    else:
        if dones is not None and len(to_array(dones, "dones", where)) != len(actions):
            raise ValueError(
                f"demonstrations: field 'dones' in {where} has {len(to_array(dones, 'dones'))} values, "
                f"expected one per pair ({len(actions)})"
            )
        starts = episode_starts_from_dones(dones, len(actions))
    rewards = mapping.get("rewards", mapping.get("rews"))
    return Demonstrations(observations, actions, starts, rewards, dones, metadata=metadata or {"format": "arrays"})


def _from_trajectories(trajectories: Sequence[Any], metadata: dict[str, Any]) -> Demonstrations:
    observations, actions, rewards, terminals = [], [], [], []
    for index, trajectory in enumerate(trajectories):
        where = f"trajectory {index}"
        obs = to_observations(trajectory.obs, "obs", where)
        acts = to_array(trajectory.acts, "acts", where)
        if n_rows(obs) != len(acts) + 1:
            raise ValueError(
                f"demonstrations: trajectory {index} field 'obs' has length {n_rows(obs)}, "
                f"expected len(acts) + 1 = {len(acts) + 1} (imitation's Trajectory layout)"
            )
        observations.append(take_rows(obs, slice(0, -1)))
        actions.append(acts)
        rews = getattr(trajectory, "rews", None)
        rewards.append(None if rews is None else to_array(rews, "rews", where).reshape(-1))
        terminals.append(bool(getattr(trajectory, "terminal", False)))
    if not observations:
        raise ValueError("demonstrations: the sequence of trajectories is empty, expected at least one")
    has_rewards = all(rews is not None for rews in rewards)
    return from_episodes(
        observations,
        actions,
        rewards if has_rewards else None,  # type: ignore[arg-type]  # every episode has rewards here
        metadata,
        episode_terminals=terminals,
        episode_names=[f"trajectory {index}" for index in range(len(actions))],
    )


def as_demonstrations(source: Any, metadata: dict[str, Any] | None = None) -> Demonstrations:
    """
    Convert an in-memory demonstration source (files: :func:`sb3_inril.load_demonstrations`).

    :param source: :class:`Demonstrations`, a mapping with keys ``obs``/``observations`` and
        ``acts``/``actions`` (optionally ``rewards``, ``dones``, ``episode_starts``; ``obs`` may be a
        dict of arrays per observation key), imitation's ``Transitions``, or a sequence of imitation
        ``Trajectory`` objects (their ``obs`` may be a ``DictObs``)
    :param metadata: recorded with the result (default ``{"format": "arrays"}``)
    :return: the demonstrations
    """
    metadata = metadata or {"format": "arrays"}
    if isinstance(source, Demonstrations):
        return source
    if isinstance(source, Mapping):
        return _from_mapping(source, "the mapping", metadata)
    if hasattr(source, "obs") and hasattr(source, "acts"):  # imitation's Transitions (or alike)
        acts = to_array(source.acts, "acts")
        dones = getattr(source, "dones", None)
        infos = getattr(source, "infos", None)
        return Demonstrations(
            to_observations(source.obs),
            acts,
            episode_starts_from_dones(dones, len(acts)),
            dones=dones,
            infos=None if infos is None else list(infos),
            metadata=metadata,
        )
    if isinstance(source, Sequence) and not isinstance(source, (bytes, str)):
        if len(source) == 0:
            raise ValueError("demonstrations: the sequence of trajectories is empty, expected at least one")
        if all(hasattr(item, "obs") and hasattr(item, "acts") for item in source):
            return _from_trajectories(source, metadata)
    raise TypeError(
        "demonstrations: expected a path (.npz, .hdf5, .pkl, a dataset directory or a Minari id), a dict of arrays, "
        f"imitation Transitions or a sequence of imitation Trajectory objects, found {type(source).__name__}"
    )


# -- validation against an env's spaces ------------------------------------------------------------
def _first_row(mask: np.ndarray) -> int:
    return int(np.argwhere(mask)[0][0])


def _check_integers(array: np.ndarray, field_name: str, space: spaces.Space) -> np.ndarray:
    if not np.all(np.equal(np.mod(array, 1), 0)):
        row = _first_row(np.mod(array, 1) != 0)
        raise ValueError(
            f"demonstrations: field '{field_name}' has non-integer values, expected integers for {space}; first at row {row}"
        )
    return array.astype(np.int64)


def _check_range(array: np.ndarray, low: Any, high: Any, field_name: str, space: spaces.Space) -> None:
    outside = (array < low) | (array > high)
    if outside.any():
        row = _first_row(outside)
        raise ValueError(
            f"demonstrations: field '{field_name}' has {int(outside.reshape(len(array), -1).any(axis=1).sum())} rows with "
            f"values outside {space}, expected values in [{np.min(low)}, {np.max(high)}]; first at row {row}: "
            f"{array[row].tolist()}"
        )


def _check_shape(array: np.ndarray, shape: tuple[int, ...], field_name: str, space: spaces.Space, what: str) -> None:
    if array.shape[1:] != shape:
        raise ValueError(
            f"demonstrations: field '{field_name}' has per-step shape {array.shape[1:]}, expected {shape} "
            f"(the env's {what} {space})"
        )


def _check_finite(array: np.ndarray, field_name: str) -> None:
    bad = ~np.isfinite(array)
    if bad.any():
        raise ValueError(
            f"demonstrations: field '{field_name}' has {int(bad.sum())} non-finite values (NaN or inf) as float32, "
            f"expected finite values; first at row {_first_row(bad)}"
        )


def validate_observations(observations: Observations, space: spaces.Space, field_name: str = "obs") -> Observations:
    """
    Check observations against an observation space and cast them to the dtype SB3 feeds the policy.

    ``Box``: shape, finite values after the cast to float32 (images stay ``uint8``), values outside
    the bounds warn with the first offending row; ``Discrete``/``MultiDiscrete``: integers in
    range (int64); ``MultiBinary``: 0 or 1 (float32); ``Dict``: the same keys, each checked.

    :raises ValueError: naming the field (``obs/<key>`` for dicts), the expected and the found value
    """
    if isinstance(space, spaces.Dict):
        if not isinstance(observations, dict):
            raise ValueError(
                f"demonstrations: field '{field_name}' is an array of per-step shape {observations.shape[1:]}, "
                f"expected a dict with the keys {list(space.spaces)} (the env's observation_space is a Dict)"
            )
        missing = [key for key in space.spaces if key not in observations]
        extra = [key for key in observations if key not in space.spaces]
        if missing or extra:
            raise ValueError(
                f"demonstrations: field '{field_name}' has the keys {list(observations)}, expected {list(space.spaces)}"
                + (f"; missing: {missing}" if missing else "")
                + (f"; not in the env's observation_space: {extra}" if extra else "")
            )
        return {
            key: validate_observations(observations[key], subspace, f"{field_name}/{key}")  # type: ignore[misc]  # a dict here, checked above
            for key, subspace in space.spaces.items()
        }
    if isinstance(observations, dict):
        raise ValueError(
            f"demonstrations: field '{field_name}' is a dict with the keys {list(observations)}, expected an array "
            f"for the env's observation_space {space}"
        )
    if isinstance(space, spaces.Box):
        _check_shape(observations, space.shape, field_name, space, "observation_space")
        if isinstance(observations, LazyRows) or _dtype_covers_box(observations, space):
            # Nothing to check row by row: a lazy key's rows are never all read (its dtype must be
            # the space's), and the dtype of an in-memory image key already bounds its values.
            # Images stay as they are, without an int64 copy 8x their size.
            if observations.dtype != space.dtype:
                raise ValueError(
                    f"demonstrations: field '{field_name}' has dtype {observations.dtype}, expected {space.dtype} "
                    f"(the env's observation_space {space}) for rows read from the file when sampled"
                )
            return observations
        if np.issubdtype(space.dtype, np.integer):  # images: integers within the dtype's range
            observations = _check_integers(observations, field_name, space)
            _check_range(observations, space.low, space.high, field_name, space)
            return observations.astype(space.dtype)
        observations = observations.astype(np.float32, copy=False)  # no copy of what already is float32
        _check_finite(observations, field_name)
        outside = (observations < space.low) | (observations > space.high)
        if outside.any():
            import warnings

            warnings.warn(
                f"demonstrations: field '{field_name}' has {int(outside.reshape(len(outside), -1).any(axis=1).sum())} rows "
                f"outside the bounds of the env's observation_space {space}; first at row {_first_row(outside)}",
                stacklevel=2,
            )
        return observations
    if isinstance(space, spaces.Discrete):
        flat = observations.reshape(len(observations), -1)
        if flat.shape[1] != 1:
            raise ValueError(
                f"demonstrations: field '{field_name}' has per-step shape {observations.shape[1:]}, expected () for {space}"
            )
        values = _check_integers(flat[:, 0], field_name, space)
        _check_range(values, space.start, space.start + space.n - 1, field_name, space)
        return values
    if isinstance(space, spaces.MultiDiscrete):
        _check_shape(observations, space.shape, field_name, space, "observation_space")
        values = _check_integers(observations, field_name, space)
        _check_range(values, space.start, space.start + space.nvec - 1, field_name, space)
        return values
    if isinstance(space, spaces.MultiBinary):
        _check_shape(observations, tuple(space.shape), field_name, space, "observation_space")
        values = _check_integers(observations, field_name, space)
        _check_range(values, 0, 1, field_name, space)
        return values.astype(np.float32)
    raise TypeError(
        f"demonstrations: observation_space {space} is not supported, expected Box, Discrete, MultiDiscrete, "
        "MultiBinary or a Dict of them"
    )


def _dtype_covers_box(observations: np.ndarray, space: spaces.Box) -> bool:
    """True when ``observations`` has the space's integer dtype and the space's bounds are that dtype's range."""
    if observations.dtype != space.dtype or not np.issubdtype(space.dtype, np.integer):
        return False
    info = np.iinfo(str(space.dtype))
    return bool(np.all(space.low <= info.min) and np.all(space.high >= info.max))


def validate_actions(actions: np.ndarray, space: spaces.Space, bounds_tolerance: float = 1e-6) -> np.ndarray:
    """
    Check actions against an action space and return them as SB3's distributions take them:
    flattened ``(N, action_dim)`` float32 for ``Box`` (values within ``bounds_tolerance`` of the
    bounds are clipped), ``(N,)`` int64 for ``Discrete`` (shifted by ``start``), ``(N, k)`` int64 for
    ``MultiDiscrete``, ``(N, k)`` float32 for ``MultiBinary``.

    :raises ValueError: naming the field, the expected and the found value
    """
    if isinstance(space, spaces.Box):
        _check_shape(actions, space.shape, "acts", space, "action_space")
        if not np.issubdtype(actions.dtype, np.floating):
            raise ValueError(
                f"demonstrations: field 'acts' has dtype {actions.dtype}, expected a float dtype for the env's "
                f"action_space {space} (integer actions belong to a Discrete or MultiDiscrete space)"
            )
        actions = actions.astype(np.float32)
        _check_finite(actions, "acts")
        low, high = space.low, space.high
        outside = (actions < low - bounds_tolerance) | (actions > high + bounds_tolerance)
        if outside.any():
            row, *column = np.argwhere(outside)[0]
            raise ValueError(
                f"demonstrations: field 'acts' has {int(outside.reshape(len(actions), -1).any(axis=1).sum())} rows "
                f"outside the action bounds, expected values within [low, high] of {space}; "
                f"first at row {row}: value {actions[(row, *column)]} at index {tuple(int(c) for c in column)}"
            )
        # Values within the tolerance are clipped so that no later step sees them out of bounds.
        return np.clip(actions, low, high).astype(np.float32).reshape(len(actions), -1)
    if isinstance(space, spaces.Discrete):
        flat = actions.reshape(len(actions), -1)
        if flat.shape[1] != 1:
            raise ValueError(f"demonstrations: field 'acts' has per-step shape {actions.shape[1:]}, expected () for {space}")
        values = _check_integers(flat[:, 0], "acts", space)
        _check_range(values, space.start, space.start + space.n - 1, "acts", space)
        return values - int(space.start)
    if isinstance(space, spaces.MultiDiscrete):
        _check_shape(actions, space.shape, "acts", space, "action_space")
        values = _check_integers(actions, "acts", space)
        _check_range(values, space.start, space.start + space.nvec - 1, "acts", space)
        return (values - space.start).reshape(len(values), -1)
    if isinstance(space, spaces.MultiBinary):
        _check_shape(actions, tuple(space.shape), "acts", space, "action_space")
        values = _check_integers(actions, "acts", space)
        _check_range(values, 0, 1, "acts", space)
        return values.astype(np.float32).reshape(len(values), -1)
    raise TypeError(
        f"demonstrations: action_space {space} is not supported, expected Box, Discrete, MultiDiscrete or MultiBinary"
    )


def validate_demonstrations(
    demonstrations: Demonstrations,
    observation_space: spaces.Space,
    action_space: spaces.Space,
    bounds_tolerance: float = 1e-6,
) -> tuple[Observations, np.ndarray]:
    """
    Check demonstrations against an env's spaces and cast them to what the policy takes.

    :param demonstrations: the demonstrations
    :param observation_space: the env's observation space, as the env returns observations (before
        SB3 transposes images)
    :param action_space: the env's action space
    :param bounds_tolerance: how far a ``Box`` action may lie outside the bounds before it is an error
    :return: the observations (see :func:`validate_observations`) and actions (see :func:`validate_actions`)
    :raises ValueError: naming the field, the expected and the found value
    """
    return (
        validate_observations(demonstrations.observations, observation_space),
        validate_actions(demonstrations.actions, action_space, bounds_tolerance),
    )
