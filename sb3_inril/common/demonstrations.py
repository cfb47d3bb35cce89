"""Demonstrations: conversion from the formats users have, validation, and minibatch sampling.

The buffer keeps every demonstration on the model's device as a torch tensor, so an IL step
costs one ``randint`` and two index operations, never a numpy round trip.
"""

import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, NamedTuple

import numpy as np
import torch as th
from gymnasium import spaces
from stable_baselines3.common.vec_env import VecNormalize

# Anything ``DemonstrationBuffer`` accepts: a path to an ``.npz`` file, a mapping of arrays,
# imitation's ``Transitions`` (or any object with ``obs`` and ``acts`` arrays), or a sequence of
# imitation ``Trajectory`` objects. imitation itself is never imported.
DemonstrationSource = str | os.PathLike | Mapping[str, Any] | Any

OBS_KEYS = ("obs", "observations")
ACTION_KEYS = ("acts", "actions")


class DemonstrationArrays(NamedTuple):
    """Flat demonstration data: one row per (observation, action) pair."""

    observations: np.ndarray
    actions: np.ndarray
    episode_starts: np.ndarray  # index of the first pair of every episode (``[0]`` when unknown)


class DemonstrationBatch(NamedTuple):
    observations: th.Tensor
    actions: th.Tensor


def _first_key(mapping: Mapping[str, Any], keys: Sequence[str], what: str, where: str) -> np.ndarray:
    for key in keys:
        if key in mapping:
            return np.asarray(mapping[key])
    raise ValueError(
        f"demonstrations: no {what} array in {where}: expected one of the keys {list(keys)}, found {sorted(mapping)}"
    )


def _from_trajectories(trajectories: Sequence[Any]) -> DemonstrationArrays:
    observations, actions, starts = [], [], []
    n_pairs = 0
    for index, trajectory in enumerate(trajectories):
        obs = np.asarray(trajectory.obs)
        acts = np.asarray(trajectory.acts)
        if len(obs) != len(acts) + 1:
            raise ValueError(
                f"demonstrations: trajectory {index} field 'obs' has length {len(obs)}, "
                f"expected len(acts) + 1 = {len(acts) + 1} (imitation's Trajectory layout)"
            )
        observations.append(obs[:-1])
        actions.append(acts)
        starts.append(n_pairs)
        n_pairs += len(acts)
    if not observations:
        raise ValueError("demonstrations: the sequence of trajectories is empty, expected at least one")
    return DemonstrationArrays(np.concatenate(observations), np.concatenate(actions), np.asarray(starts))


def _episode_starts_from_dones(dones: np.ndarray | None, n_pairs: int) -> np.ndarray:
    if dones is None or len(dones) != n_pairs:
        return np.zeros(1, dtype=np.int64)
    ends = np.flatnonzero(np.asarray(dones).astype(bool))
    starts = np.concatenate([[0], ends + 1])
    return starts[starts < n_pairs] if n_pairs > 0 else starts[:1]


def to_demonstration_arrays(source: DemonstrationSource) -> DemonstrationArrays:
    """
    Convert any supported demonstration source to flat arrays (no validation against spaces).

    :param source: a path that :func:`sb3_inril.load_demonstrations` reads, a mapping with keys
        ``obs``/``observations`` and ``acts``/``actions`` (optionally ``dones``/``episode_starts``),
        imitation's ``Transitions``, or a sequence of imitation ``Trajectory`` objects.
    :return: the flat arrays
    """
    if isinstance(source, DemonstrationArrays):
        return source
    if isinstance(source, (str, os.PathLike)):
        # Files of every format are read in one place.
        from sb3_inril.common.loaders import load_demonstrations

        return load_demonstrations(source).arrays()
    if isinstance(source, Mapping):
        return _from_mapping(source, where="the mapping")
    if hasattr(source, "obs") and hasattr(source, "acts"):  # imitation's Transitions (or alike)
        acts = np.asarray(source.acts)
        dones = np.asarray(source.dones) if hasattr(source, "dones") else None
        return DemonstrationArrays(np.asarray(source.obs), acts, _episode_starts_from_dones(dones, len(acts)))
    if isinstance(source, Sequence) and not isinstance(source, (bytes, str)):
        if len(source) > 0 and all(hasattr(item, "obs") and hasattr(item, "acts") for item in source):
            return _from_trajectories(source)
        if len(source) == 0:
            raise ValueError("demonstrations: the sequence of trajectories is empty, expected at least one")
    raise TypeError(
        "demonstrations: expected a path to an .npz file, a dict of arrays, imitation Transitions or a "
        f"sequence of imitation Trajectory objects, found {type(source).__name__}"
    )


def _from_mapping(mapping: Mapping[str, Any], where: str) -> DemonstrationArrays:
    observations = _first_key(mapping, OBS_KEYS, "observation", where)
    actions = _first_key(mapping, ACTION_KEYS, "action", where)
    if "episode_starts" in mapping:
        starts = np.asarray(mapping["episode_starts"], dtype=np.int64)
    else:
        dones = mapping.get("dones", mapping.get("terminals"))
        starts = _episode_starts_from_dones(None if dones is None else np.asarray(dones), len(actions))
    return DemonstrationArrays(observations, actions, starts)


def _check_numeric(array: np.ndarray, field: str) -> None:
    if array.dtype == object or not (np.issubdtype(array.dtype, np.number) or array.dtype == np.bool_):
        raise ValueError(f"demonstrations: field '{field}' has dtype {array.dtype}, expected a real numeric dtype")
    if np.issubdtype(array.dtype, np.complexfloating):
        raise ValueError(f"demonstrations: field '{field}' has dtype {array.dtype}, expected a real numeric dtype")
    if np.issubdtype(array.dtype, np.floating):
        bad = ~np.isfinite(array)
        if bad.any():
            row = int(np.argwhere(bad)[0][0])
            raise ValueError(
                f"demonstrations: field '{field}' has {int(bad.sum())} non-finite values (NaN or inf), "
                f"expected finite values; first at row {row}"
            )


def validate_demonstrations(
    arrays: DemonstrationArrays,
    observation_space: spaces.Space,
    action_space: spaces.Space,
    bounds_tolerance: float = 1e-6,
) -> DemonstrationArrays:
    """
    Check demonstrations against the environment's spaces and cast them to the dtypes the policy uses.

    :param arrays: the demonstrations
    :param observation_space: the env's observation space (``Box`` or ``Discrete``)
    :param action_space: the env's action space (``Box`` or ``Discrete``)
    :param bounds_tolerance: how far a ``Box`` action may lie outside the bounds before it is an error
    :return: the validated arrays (observations as float32, actions as float32 or int64)
    :raises ValueError: naming the field, the expected and the found value
    """
    observations, actions, starts = arrays
    if len(actions) == 0 or len(observations) == 0:
        raise ValueError(
            f"demonstrations: empty data: field 'obs' has {len(observations)} rows and 'acts' has "
            f"{len(actions)}, expected at least 1"
        )
    if len(observations) != len(actions):
        raise ValueError(
            f"demonstrations: length mismatch: field 'obs' has {len(observations)} rows, "
            f"expected the same as field 'acts' ({len(actions)} rows)"
        )
    _check_numeric(observations, "obs")
    _check_numeric(actions, "acts")

    if isinstance(observation_space, spaces.Box):
        if observations.shape[1:] != observation_space.shape:
            raise ValueError(
                f"demonstrations: field 'obs' has per-step shape {observations.shape[1:]}, "
                f"expected {observation_space.shape} (the env's observation_space {observation_space})"
            )
    elif isinstance(observation_space, spaces.Discrete):
        if observations.ndim != 1:
            raise ValueError(
                f"demonstrations: field 'obs' has per-step shape {observations.shape[1:]}, expected () for {observation_space}"
            )
    else:
        raise TypeError(f"demonstrations: observation_space {observation_space} is not supported, expected Box or Discrete")

    if isinstance(action_space, spaces.Box):
        if actions.shape[1:] != action_space.shape:
            raise ValueError(
                f"demonstrations: field 'acts' has per-step shape {actions.shape[1:]}, "
                f"expected {action_space.shape} (the env's action_space {action_space})"
            )
        actions = actions.astype(np.float32)
        low, high = action_space.low, action_space.high
        outside = (actions < low - bounds_tolerance) | (actions > high + bounds_tolerance)
        if outside.any():
            row, *column = np.argwhere(outside)[0]
            raise ValueError(
                f"demonstrations: field 'acts' has {int(outside.any(axis=tuple(range(1, actions.ndim))).sum())} rows "
                f"outside the action bounds, expected values within [low, high] of {action_space}; "
                f"first at row {row}: value {actions[(row, *column)]} at index {tuple(int(c) for c in column)}"
            )
        # Values within the tolerance are clipped so that no later step sees them out of bounds.
        actions = np.clip(actions, low, high).astype(np.float32)
    elif isinstance(action_space, spaces.Discrete):
        squeezed = actions.reshape(len(actions), -1)
        if squeezed.shape[1] != 1:
            raise ValueError(
                f"demonstrations: field 'acts' has per-step shape {actions.shape[1:]}, expected () for {action_space}"
            )
        squeezed = squeezed[:, 0]
        if not np.all(np.equal(np.mod(squeezed, 1), 0)):
            raise ValueError(f"demonstrations: field 'acts' has non-integer values, expected integers for {action_space}")
        actions = squeezed.astype(np.int64)
        valid = (actions >= action_space.start) & (actions < action_space.start + action_space.n)
        if not valid.all():
            row = int(np.flatnonzero(~valid)[0])
            raise ValueError(
                f"demonstrations: field 'acts' has {int((~valid).sum())} values outside {action_space}, "
                f"expected integers in [{action_space.start}, {action_space.start + action_space.n - 1}]; "
                f"first at row {row}: {actions[row]}"
            )
        actions = actions - action_space.start
    else:
        raise TypeError(f"demonstrations: action_space {action_space} is not supported, expected Box or Discrete")

    return DemonstrationArrays(observations.astype(np.float32), actions, np.asarray(starts, dtype=np.int64))


class DemonstrationBuffer:
    """
    Demonstrations held on the model's device, split by episode into a training and a held-out part.

    Observations are stored raw; when the env is wrapped in ``VecNormalize`` they are normalised with
    the env's *current* running statistics each time a batch is drawn, so that IL sees what the
    policy sees during RL.

    :param source: see :func:`to_demonstration_arrays`
    :param observation_space: the env's observation space
    :param action_space: the env's action space
    :param device: where the tensors live
    :param val_fraction: fraction of the episodes (of the pairs, if episode boundaries are unknown)
        held out for the IL validation loss and the policy drift
    :param seed: seed for the split and for the minibatch sampler
    :param action_transform: applied once to the validated actions (e.g. SAC's rescaling to [-1, 1])
    :param vec_normalize_getter: returns the env's ``VecNormalize`` wrapper, or None
    """

    def __init__(
        self,
        source: DemonstrationSource,
        observation_space: spaces.Space,
        action_space: spaces.Space,
        device: th.device | str = "cpu",
        val_fraction: float = 0.1,
        seed: int | None = None,
        action_transform: Callable[[np.ndarray], np.ndarray] | None = None,
        vec_normalize_getter: Callable[[], VecNormalize | None] | None = None,
    ) -> None:
        if not 0.0 <= val_fraction < 1.0:
            raise ValueError(f"demo_val_fraction: expected a value in [0, 1), found {val_fraction}")
        arrays = validate_demonstrations(to_demonstration_arrays(source), observation_space, action_space)
        observations, actions, starts = arrays
        if action_transform is not None:
            actions = action_transform(actions).astype(actions.dtype)
        self.device = th.device(device)
        self.n_episodes = len(starts)
        self._vec_normalize_getter = vec_normalize_getter
        self._normalizer_key: tuple[int, float] | None = None
        self._mean = self._std = None

        rng = np.random.default_rng(seed)
        train_index, val_index = self._split(len(actions), starts, val_fraction, rng)
        self.observations = th.as_tensor(observations[train_index], device=self.device)
        self.actions = th.as_tensor(actions[train_index], device=self.device)
        self.val_observations = th.as_tensor(observations[val_index], device=self.device)
        self.val_actions = th.as_tensor(actions[val_index], device=self.device)
        self._generator = th.Generator(device=self.device)
        self._generator.manual_seed(int(rng.integers(2**62)))

    @staticmethod
    def _split(
        n_pairs: int, starts: np.ndarray, val_fraction: float, rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray]:
        """Hold out whole episodes when there are enough of them, otherwise single pairs."""
        all_index = np.arange(n_pairs)
        if val_fraction == 0.0 or n_pairs < 2:
            return all_index, all_index[:0]
        n_episodes = len(starts)
        if n_episodes >= 2 and round(n_episodes * val_fraction) >= 1:
            episode_of_pair = np.searchsorted(starts, all_index, side="right") - 1
            held_out = rng.permutation(n_episodes)[: round(n_episodes * val_fraction)]
            is_val = np.isin(episode_of_pair, held_out)
        else:
            is_val = np.zeros(n_pairs, dtype=bool)
            is_val[rng.permutation(n_pairs)[: max(1, round(n_pairs * val_fraction))]] = True
        if is_val.all():  # keep at least one training pair
            is_val[0] = False
        return all_index[~is_val], all_index[is_val]

    def __len__(self) -> int:
        return len(self.actions)

    @property
    def n_val(self) -> int:
        return len(self.val_actions)

    def normalize(self, observations: th.Tensor) -> th.Tensor:
        """Normalise raw observations like the env's ``VecNormalize`` does now (identity without it)."""
        vec_normalize = self._vec_normalize_getter() if self._vec_normalize_getter is not None else None
        if vec_normalize is None or not vec_normalize.norm_obs:
            return observations
        obs_rms = vec_normalize.obs_rms
        if isinstance(obs_rms, dict):
            raise TypeError("demonstrations: VecNormalize with Dict observations is not supported")
        # The statistics move only while the env collects data: convert them when they changed.
        key = (id(obs_rms), float(obs_rms.count))
        if key != self._normalizer_key:
            self._mean = th.as_tensor(obs_rms.mean, dtype=th.float32, device=self.device)
            self._std = th.sqrt(th.as_tensor(obs_rms.var, dtype=th.float32, device=self.device) + vec_normalize.epsilon)
            self._normalizer_key = key
        return th.clamp((observations - self._mean) / self._std, -vec_normalize.clip_obs, vec_normalize.clip_obs)

    def sample(self, batch_size: int) -> DemonstrationBatch:
        """Draw a minibatch (with replacement) from the training part, already normalised."""
        index = th.randint(len(self.actions), (batch_size,), device=self.device, generator=self._generator)
        return DemonstrationBatch(self.normalize(self.observations[index]), self.actions[index])

    def iterate_epoch(self, batch_size: int) -> Iterator[DemonstrationBatch]:
        """One pass over the training part in a random order (for BC pre-training)."""
        order = th.randperm(len(self.actions), device=self.device, generator=self._generator)
        for index in th.split(order, batch_size):
            yield DemonstrationBatch(self.normalize(self.observations[index]), self.actions[index])

    def validation_batch(self, max_size: int | None = None) -> DemonstrationBatch | None:
        """The held-out part (its first ``max_size`` pairs), normalised; None when nothing is held out."""
        if self.n_val == 0:
            return None
        end = self.n_val if max_size is None else min(max_size, self.n_val)
        return DemonstrationBatch(self.normalize(self.val_observations[:end]), self.val_actions[:end])

    def raw_observations(self) -> np.ndarray:
        """All raw observations (training and held-out), e.g. to initialise VecNormalize statistics."""
        return th.cat([self.observations, self.val_observations]).cpu().numpy()
