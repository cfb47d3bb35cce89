"""Demonstrations in the replay buffer of an off-policy algorithm: RLPD's symmetric sampling.

RLPD (Ball et al. 2023, "Efficient Online Reinforcement Learning with Offline Data") draws half
of every minibatch from the online replay buffer and half from the demonstrations' transitions.
It is the baseline a user of SAC reaches for instead of IN-RIL, and it fits SB3 through one seam:
the replay buffer class. :class:`DemonstrationReplayBuffer` works with any SB3 / sb3-contrib off-policy
algorithm (SAC, TD3, TQC, ...; IN-RIL's or the plain ones)::

    model = SAC("MlpPolicy", env, replay_buffer_class=DemonstrationReplayBuffer,
                replay_buffer_kwargs=dict(demonstrations="shipped:Pendulum-v1/medium", demo_fraction=0.5))

The demonstrations need rewards. Transitions are (pair t, pair t + 1) within each episode; the last
pair of an episode is kept as a terminal transition where the episode ended in a terminal state and
dropped where it was truncated or the source does not say (its next observation is unknown, and
bootstrapping from a made-up one would be wrong). Actions are stored as the algorithm stores its
own, rescaled from the action space's bounds to [-1, 1]. For an env that acts in chunks of H
actions (:class:`~sb3_inril.demos.chunking.ActionChunkWrapper`: the action space is ``(H, *A)``),
per-step demonstrations become chunk transitions: the actions t .. t+H-1, the sum of their rewards,
the observation at t+H (see :meth:`DemonstrationReplayBuffer._set_demo_transitions`).
"""

from typing import Any, cast

import numpy as np
import torch as th
from gymnasium import spaces
from stable_baselines3.common.buffers import ReplayBuffer
from stable_baselines3.common.preprocessing import is_image_space
from stable_baselines3.common.type_aliases import ReplayBufferSamples
from stable_baselines3.common.vec_env import VecNormalize

from sb3_inril.demos.demonstrations import Demonstrations
from sb3_inril.demos.loading import load_demonstrations
from sb3_inril.validation import check_float


class DemonstrationReplayBuffer(ReplayBuffer):
    """
    A replay buffer whose minibatches are ``demo_fraction`` demonstration transitions and the rest
    online ones (RLPD's symmetric sampling at ``demo_fraction=0.5``).

    :param buffer_size: of the online part (the demonstrations are held apart, in full)
    :param observation_space: the env's (Box, images included, or Discrete; Dict spaces are not
        supported); demonstrations hold observations as the env returns them (channel-last images
        are transposed as SB3 transposes the env's)
    :param action_space: the env's (a bounded Box)
    :param device: where the minibatches go
    :param n_envs: parallel envs
    :param optimize_memory_usage: SB3's memory-efficient variant of the online part
    :param handle_timeout_termination: handle timeouts of the online part as SB3 does
    :param demonstrations: anything :func:`sb3_inril.load_demonstrations` reads (a path, a shipped
        set's name ``"shipped:<env>/<flavour>"``, a dict of arrays, imitation objects), or
        :class:`~sb3_inril.demos.demonstrations.Demonstrations`; they must hold rewards
    :param demo_fraction: the share of every minibatch drawn from the demonstrations, in (0, 1)
    :param demo_load_kwargs: more arguments of :func:`sb3_inril.load_demonstrations` (``obs_keys``, ...)
    """

    def __init__(
        self,
        buffer_size: int,
        observation_space: spaces.Space,
        action_space: spaces.Space,
        device: th.device | str = "auto",
        n_envs: int = 1,
        optimize_memory_usage: bool = False,
        handle_timeout_termination: bool = True,
        demonstrations: Any = None,
        demo_fraction: float = 0.5,
        demo_load_kwargs: dict[str, Any] | None = None,
    ) -> None:
        if isinstance(observation_space, spaces.Dict):
            raise TypeError(
                "DemonstrationReplayBuffer: observation_space expected a Box or Discrete space, found a Dict space "
                "(Dict observations and HER are not supported)"
            )
        if not isinstance(action_space, spaces.Box) or not np.all(
            np.isfinite(action_space.low) & np.isfinite(action_space.high)
        ):
            raise ValueError(f"DemonstrationReplayBuffer: action_space expected a bounded Box, found {action_space}")
        check_float("demo_fraction", demo_fraction, 0.0, 1.0, low_open=True, high_open=True)
        if demonstrations is None:
            raise ValueError("DemonstrationReplayBuffer: demonstrations expected (a path, a shipped name or data), found None")
        super().__init__(
            buffer_size,
            observation_space,
            action_space,
            device=device,
            n_envs=n_envs,
            optimize_memory_usage=optimize_memory_usage,
            handle_timeout_termination=handle_timeout_termination,
        )
        self.demo_fraction = float(demo_fraction)
        if not isinstance(demonstrations, Demonstrations):
            demonstrations = load_demonstrations(demonstrations, **(demo_load_kwargs or {}))
        self._set_demo_transitions(demonstrations)

    def _chunk_size_for(self, demonstrations: Demonstrations, actions: np.ndarray) -> int:
        """H when the action space holds chunks of H of the demonstrations' per-step actions (an env in
        :class:`~sb3_inril.demos.chunking.ActionChunkWrapper`), else 1."""
        space_shape, demo_shape = tuple(self.action_space.shape or ()), actions.shape[1:]
        if "action_chunk_size" in demonstrations.metadata or len(space_shape) != len(demo_shape) + 1:
            return 1
        return int(space_shape[0]) if space_shape[1:] == demo_shape and space_shape[0] > 1 else 1

    def _as_stored_observations(self, observations: np.ndarray) -> np.ndarray:
        """
        Demonstration observations, as the env returns them, in the layout SB3's replay buffer stores
        the online ones: a ``Discrete`` observation as a row of one value (SB3 stores ``(n_envs, 1)``),
        a channel-last image channel-first (SB3 wraps an image env in ``VecTransposeImage``, so the
        buffer is given the transposed space while demonstrations hold the env's images). Other
        layouts are left alone, for the shape check to name.
        """
        if isinstance(self.observation_space, spaces.Discrete) and observations.ndim == 1:
            return observations.reshape(len(observations), *self.obs_shape)
        shape = tuple(self.obs_shape)
        channel_last = (*shape[1:], shape[0]) if len(shape) == 3 else None
        if (
            channel_last is not None
            and channel_last != shape
            and observations.shape[1:] == channel_last
            and is_image_space(self.observation_space)
        ):
            return np.ascontiguousarray(observations.transpose(0, 3, 1, 2))
        return observations

    def _set_demo_transitions(self, demonstrations: Demonstrations) -> None:
        if isinstance(demonstrations.observations, dict):
            raise TypeError("DemonstrationReplayBuffer: demonstrations expected array observations, found a dict of arrays")
        if demonstrations.rewards is None:
            raise ValueError(
                "DemonstrationReplayBuffer: demonstrations field 'rewards' expected (RLPD learns the critic from the "
                "demonstrations' rewards), found none"
            )
        observations = self._as_stored_observations(np.asarray(demonstrations.observations))
        actions = np.asarray(demonstrations.actions, dtype=np.float32)
        if observations.shape[1:] != self.obs_shape:
            layout = demonstrations.describe_observation()
            raise ValueError(
                f"DemonstrationReplayBuffer: demonstrations field 'obs' expected rows of shape {self.obs_shape} (the "
                f"observation space), found {observations.shape[1:]}"
                + (
                    f"; the demonstrations' observation keys and sizes: {layout}: read the env's keys with "
                    "demo_load_kwargs=dict(obs_keys=[...]) (IN-RIL's classes do it for a robomimic env)"
                    if layout
                    else ""
                )
            )
        horizon = self._chunk_size_for(demonstrations, actions)
        if horizon * actions.reshape(len(actions), -1).shape[1] != self.action_dim:
            raise ValueError(
                f"DemonstrationReplayBuffer: demonstrations field 'acts' expected {self.action_dim} values per action "
                f"(the action space {self.action_space}), found shape {actions.shape[1:]}"
            )
        # A transition from step t: the actions t .. t+H-1 (one action without chunks, edge-padded past an
        # episode's end), the sum of their rewards inside the episode (ActionChunkWrapper's chunk reward
        # with its default reward_discount=1), the observation at t+H. Where the episode ends before t+H:
        # kept as a terminal transition if it ended in a terminal state, else dropped (its next observation
        # is unknown, and bootstrapping from a made-up one would be wrong).
        n = len(actions)
        starts = np.asarray(demonstrations.episode_starts)
        lengths = np.diff(np.append(starts, n))
        terminals = demonstrations.episode_terminals
        ends_terminal = np.zeros(len(starts), dtype=bool) if terminals is None else np.asarray(terminals, dtype=bool)
        step_end = np.repeat(starts + lengths - 1, lengths)  # the last step of every step's episode
        step_terminal = np.repeat(ends_terminal, lengths)
        steps = np.arange(n)
        has_next = steps + horizon <= step_end
        done = ~has_next & step_terminal
        index = np.flatnonzero(has_next | done)
        if len(index) == 0:
            raise ValueError(
                f"DemonstrationReplayBuffer: demonstrations hold no transition (every episode ends truncated within "
                f"{horizon} step(s) of each of its pairs)"
            )
        next_index = np.where(done, steps, steps + horizon)[index]  # terminal: the next observation is masked out
        window = np.minimum(steps[:, None] + np.arange(horizon)[None, :], step_end[:, None])
        cumulative = np.concatenate([[0.0], np.cumsum(np.asarray(demonstrations.rewards, dtype=np.float64))])
        rewards = cumulative[np.minimum(steps + horizon, step_end + 1)] - cumulative[steps]
        action_space = self.action_space
        assert isinstance(action_space, spaces.Box)  # checked in __init__
        low, high = action_space.low, action_space.high
        chunks = actions[window[index]].reshape(len(index), *action_space.shape)
        scaled = 2.0 * (chunks - low) / (high - low) - 1.0
        self.demo_observations = observations[index]
        self.demo_next_observations = observations[next_index]
        # Flat, as SB3's replay buffer stores the online actions (one row of action_dim values).
        self.demo_actions = np.clip(scaled, -1.0, 1.0).astype(np.float32).reshape(len(index), self.action_dim)
        self.demo_rewards = rewards[index].astype(np.float32)
        self.demo_dones = done[index].astype(np.float32)
        self.n_demo_transitions = len(index)
        self.demo_chunk_size = horizon

    def demo_samples(self, batch_size: int, env: VecNormalize | None = None) -> ReplayBufferSamples:
        """``batch_size`` demonstration transitions, uniformly with replacement, normalised as the online ones."""
        index = np.random.randint(0, self.n_demo_transitions, size=batch_size)
        data: tuple[np.ndarray, ...] = (
            cast(np.ndarray, self._normalize_obs(self.demo_observations[index], env)),  # Box observations only
            self.demo_actions[index],
            cast(np.ndarray, self._normalize_obs(self.demo_next_observations[index], env)),
            self.demo_dones[index].reshape(-1, 1),
            self._normalize_reward(self.demo_rewards[index].reshape(-1, 1), env),
        )
        return ReplayBufferSamples(*(self.to_torch(array) for array in data))

    def sample(self, batch_size: int, env: VecNormalize | None = None) -> ReplayBufferSamples:
        """A minibatch of ``round(demo_fraction * batch_size)`` demonstration transitions and online ones."""
        n_demo = round(self.demo_fraction * batch_size)
        online = super().sample(batch_size - n_demo, env=env)
        demo = self.demo_samples(n_demo, env=env)
        fields: list[th.Tensor | None] = []
        for name, online_part, demo_part in zip(ReplayBufferSamples._fields, online, demo):
            if online_part is None and demo_part is None:  # e.g. discounts, set by n-step buffers only
                fields.append(None)
            elif online_part is None or demo_part is None:
                raise TypeError(
                    f"DemonstrationReplayBuffer: the online samples' {name!r} is {online_part!r}, demonstrations have none"
                )
            else:
                fields.append(th.cat([online_part, demo_part]))
        return ReplayBufferSamples(*fields)  # type: ignore[arg-type]  # only the optional fields can be None


#: The name this buffer had first (kept as an alias).
DemoReplayBuffer = DemonstrationReplayBuffer
