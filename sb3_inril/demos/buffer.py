"""The demonstration buffer: validated demonstrations on the model's device, split by episode,
sampled in minibatches that look like what the policy sees during RL.

Every demonstration is kept on the device as a torch tensor in the dtype SB3 feeds the policy
(images as ``uint8``: converted to float by the policy, per minibatch), so an IL step costs one
``randint`` and index operations, never a numpy round trip. The observations are held once, in
the order read; the training and held-out parts are row numbers into them (no copy of the images
per part). Observations are stored as the env returns them; the env's ``VecNormalize``
statistics (at sampling time) and SB3's image transposition are applied per minibatch.

A key read lazily from an HDF5 file (:class:`~sb3_inril.demos.hdf5_store.LazyRows`, robomimic's
``lazy=True``) stays in the file: each minibatch reads its rows (sorted, through the store's
bounded cache) and moves them to the device.
"""

import warnings
from collections.abc import Callable, Iterator
from typing import NamedTuple

import numpy as np
import torch as th
from gymnasium import spaces
from stable_baselines3.common.vec_env import VecNormalize

from sb3_inril.demos.demonstrations import (
    Demonstrations,
    DemonstrationSource,
    Observations,
    validate_demonstrations,
)
from sb3_inril.demos.hdf5_store import LazyRows
from sb3_inril.demos.loading import load_demonstrations
from sb3_inril.validation import check_float

#: Observations as tensors: one, or one per key of a Dict observation space.
TensorObservations = th.Tensor | dict[str, th.Tensor]
#: What the buffer holds: tensors, and keys read from a file per minibatch.
_StoredObservations = th.Tensor | dict[str, th.Tensor | LazyRows]


class DemonstrationBatch(NamedTuple):
    observations: TensorObservations
    actions: th.Tensor


def _to_tensor(observations: Observations, device: th.device) -> _StoredObservations:
    if isinstance(observations, dict):
        return {
            key: value if isinstance(value, LazyRows) else th.as_tensor(value, device=device)
            for key, value in observations.items()
        }
    return th.as_tensor(observations, device=device)


def _rows(value: th.Tensor | LazyRows, index: th.Tensor, device: th.device) -> th.Tensor:
    if isinstance(value, LazyRows):
        return th.as_tensor(value[index.cpu().numpy()], device=device)
    return value[index]


def _index(observations: _StoredObservations, index: th.Tensor, device: th.device) -> TensorObservations:
    if isinstance(observations, dict):
        return {key: _rows(value, index, device) for key, value in observations.items()}
    return observations[index]


class DemonstrationBuffer:
    """
    Demonstrations held on the model's device, split by episode into a training and a held-out part.

    :param source: :class:`sb3_inril.demos.demonstrations.Demonstrations`, or what
        :func:`sb3_inril.load_demonstrations` reads (paths included)
    :param observation_space: the env's observation space, as the env returns observations
    :param action_space: the env's action space
    :param device: where the tensors live
    :param val_fraction: fraction of the episodes held out for the IL validation loss and the policy
        drift (of the pairs, with a warning, when there is a single episode)
    :param seed: seed for the split and for the minibatch sampler
    :param action_transform: applied once to the validated actions (e.g. SAC's rescaling to [-1, 1])
    :param vec_normalize_getter: returns the env's ``VecNormalize`` wrapper, or None
    :param observation_transform: applied to every normalised minibatch of observations (SB3's
        channel-first transposition of images)
    :param min_train_pairs: warn when fewer training pairs remain (the IL batch size)
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
        observation_transform: Callable[[TensorObservations], TensorObservations] | None = None,
        min_train_pairs: int = 1,
    ) -> None:
        check_float("demo_val_fraction", val_fraction, 0.0, 1.0, high_open=True)
        demonstrations = source if isinstance(source, Demonstrations) else load_demonstrations(source)
        observations, actions = validate_demonstrations(demonstrations, observation_space, action_space)
        if action_transform is not None:
            actions = action_transform(actions).astype(actions.dtype)
        self.device = th.device(device)
        self.n_episodes = demonstrations.n_episodes
        self._vec_normalize_getter = vec_normalize_getter
        self._observation_transform = observation_transform
        self._normalizer_key: tuple[int, float] | None = None
        self._stats: dict[str | None, tuple[th.Tensor, th.Tensor]] = {}

        rng = np.random.default_rng(seed)
        train_index, val_index = self._split(len(actions), demonstrations.episode_starts, float(val_fraction), rng)
        if len(train_index) < min_train_pairs:
            warnings.warn(
                f"demonstrations: {len(train_index)} pairs remain for training after holding out {len(val_index)} "
                f"(demo_val_fraction={val_fraction}), fewer than one IL minibatch ({min_train_pairs}): minibatches "
                "repeat pairs; lower demo_val_fraction or add demonstrations",
                stacklevel=2,
            )
        # Held once (on the CPU, numpy's memory: no copy); the parts are row numbers into them.
        self._all_observations = _to_tensor(observations, self.device)
        self._train_rows = th.as_tensor(train_index, dtype=th.long, device=self.device)
        self._val_rows = th.as_tensor(val_index, dtype=th.long, device=self.device)
        self.actions = th.as_tensor(actions[train_index], device=self.device)
        self.val_actions = th.as_tensor(actions[val_index], device=self.device)
        self._generator = th.Generator(device=self.device)
        self._generator.manual_seed(int(rng.integers(2**62)))

    @staticmethod
    def _split(
        n_pairs: int, starts: np.ndarray, val_fraction: float, rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray]:
        """Hold out whole episodes when there are enough of them, otherwise single pairs (with a warning)."""
        all_index = np.arange(n_pairs)
        if val_fraction == 0.0 or n_pairs < 2:
            return all_index, all_index[:0]
        n_episodes = len(starts)
        n_held_out = min(round(n_episodes * val_fraction), n_episodes - 1)  # keep at least one training episode
        if n_held_out >= 1:
            episode_of_pair = np.searchsorted(starts, all_index, side="right") - 1
            is_val = np.isin(episode_of_pair, rng.permutation(n_episodes)[:n_held_out])
        else:
            warnings.warn(
                f"demonstrations: {n_episodes} episode(s) and demo_val_fraction={val_fraction} hold out no whole "
                "episode: held-out pairs are drawn from the training episodes, so train/il_val_loss measures fit, "
                "not generalisation; add episodes or set demo_val_fraction=0",
                stacklevel=3,
            )
            is_val = np.zeros(n_pairs, dtype=bool)
            is_val[rng.permutation(n_pairs)[: min(max(1, round(n_pairs * val_fraction)), n_pairs - 1)]] = True
        return all_index[~is_val], all_index[is_val]

    def __len__(self) -> int:
        return len(self.actions)

    @property
    def observations(self) -> TensorObservations:
        """The training part's observations (a copy; lazily read keys are read whole)."""
        return _index(self._all_observations, self._train_rows, self.device)

    @property
    def val_observations(self) -> TensorObservations:
        """The held-out part's observations (a copy; lazily read keys are read whole)."""
        return _index(self._all_observations, self._val_rows, self.device)

    @property
    def n_val(self) -> int:
        return len(self.val_actions)

    def _normalizer(self, vec_normalize: VecNormalize) -> dict[str | None, tuple[th.Tensor, th.Tensor]]:
        """Mean and std per normalised key (None for a single array), converted when the statistics moved."""
        obs_rms = vec_normalize.obs_rms
        # The statistics move only while the env collects data: convert them when they changed.
        rms_by_key = obs_rms if isinstance(obs_rms, dict) else {None: obs_rms}
        key = (id(obs_rms), float(sum(rms.count for rms in rms_by_key.values())))
        if key != self._normalizer_key:
            self._stats = {
                name: (
                    th.as_tensor(rms_by_key[name].mean, dtype=th.float32, device=self.device),
                    th.sqrt(th.as_tensor(rms_by_key[name].var, dtype=th.float32, device=self.device) + vec_normalize.epsilon),
                )
                for name in rms_by_key  # VecNormalize keeps statistics for the keys it normalises only
            }
            self._normalizer_key = key
        return self._stats

    def normalize(self, observations: TensorObservations) -> TensorObservations:
        """Observations as the policy sees them: normalised like the env's ``VecNormalize`` does now,
        then transposed like SB3's image wrapper does."""
        vec_normalize = self._vec_normalize_getter() if self._vec_normalize_getter is not None else None
        if vec_normalize is not None and vec_normalize.norm_obs:
            clip = vec_normalize.clip_obs
            stats = self._normalizer(vec_normalize)
            if isinstance(observations, dict):
                observations = dict(observations)
                for name, (mean, std) in stats.items():
                    observations[name] = th.clamp((observations[name].float() - mean) / std, -clip, clip)  # type: ignore[index]  # dict observations here
            else:
                mean, std = stats[None]
                observations = th.clamp((observations.float() - mean) / std, -clip, clip)
        if self._observation_transform is not None:
            observations = self._observation_transform(observations)
        return observations

    def sample(self, batch_size: int) -> DemonstrationBatch:
        """Draw a minibatch (with replacement) from the training part, as the policy sees observations."""
        index = th.randint(len(self.actions), (batch_size,), device=self.device, generator=self._generator)
        rows = _index(self._all_observations, self._train_rows[index], self.device)
        return DemonstrationBatch(self.normalize(rows), self.actions[index])

    def iterate_epoch(self, batch_size: int) -> Iterator[DemonstrationBatch]:
        """One pass over the training part in a random order (for BC pre-training)."""
        order = th.randperm(len(self.actions), device=self.device, generator=self._generator)
        for index in th.split(order, batch_size):
            rows = _index(self._all_observations, self._train_rows[index], self.device)
            yield DemonstrationBatch(self.normalize(rows), self.actions[index])

    def validation_batch(self, max_size: int | None = None) -> DemonstrationBatch | None:
        """The held-out part (its first ``max_size`` pairs), as the policy sees it; None when nothing is held out."""
        if self.n_val == 0:
            return None
        end = self.n_val if max_size is None else min(max_size, self.n_val)
        rows = _index(self._all_observations, self._val_rows[:end], self.device)
        return DemonstrationBatch(self.normalize(rows), self.val_actions[:end])

    def raw_observations(self) -> Observations:
        """All raw observations (training and held-out, in the order read), e.g. to initialise
        VecNormalize statistics; lazily read keys stay lazy (``np.asarray`` reads them)."""
        if isinstance(self._all_observations, dict):
            return {
                key: value if isinstance(value, LazyRows) else value.cpu().numpy()  # type: ignore[misc]  # LazyRows reads as an array
                for key, value in self._all_observations.items()
            }
        return self._all_observations.cpu().numpy()

    def __repr__(self) -> str:
        return f"DemonstrationBuffer({len(self)} training pairs, {self.n_val} held out, {self.n_episodes} episodes)"
