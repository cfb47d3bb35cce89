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
own, rescaled from the action space's bounds to [-1, 1].
"""

from typing import Any, cast

import numpy as np
import torch as th
from gymnasium import spaces
from stable_baselines3.common.buffers import ReplayBuffer
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
    :param observation_space: the env's (Box or Discrete; Dict spaces are not supported)
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

    def _set_demo_transitions(self, demonstrations: Demonstrations) -> None:
        if isinstance(demonstrations.observations, dict):
            raise TypeError("DemonstrationReplayBuffer: demonstrations expected array observations, found a dict of arrays")
        if demonstrations.rewards is None:
            raise ValueError(
                "DemonstrationReplayBuffer: demonstrations field 'rewards' expected (RLPD learns the critic from the "
                "demonstrations' rewards), found none"
            )
        observations = np.asarray(demonstrations.observations)
        actions = np.asarray(demonstrations.actions, dtype=np.float32)
        if observations.shape[1:] != self.obs_shape:
            raise ValueError(
                f"DemonstrationReplayBuffer: demonstrations field 'obs' expected rows of shape {self.obs_shape} (the "
                f"observation space), found {observations.shape[1:]}"
            )
        if actions.reshape(len(actions), -1).shape[1] != self.action_dim:
            raise ValueError(
                f"DemonstrationReplayBuffer: demonstrations field 'acts' expected {self.action_dim} values per action "
                f"(the action space {self.action_space}), found shape {actions.shape[1:]}"
            )
        n = len(actions)
        starts = np.asarray(demonstrations.episode_starts)
        ends = np.append(starts[1:], n) - 1  # the last pair of every episode
        terminals = demonstrations.episode_terminals
        ends_terminal = np.zeros(len(ends), dtype=bool) if terminals is None else np.asarray(terminals, dtype=bool)
        keep = np.ones(n, dtype=bool)
        keep[ends[~ends_terminal]] = False  # truncated (or unknown) ends: no next observation
        done = np.zeros(n, dtype=np.float32)
        done[ends[ends_terminal]] = 1.0
        index = np.flatnonzero(keep)
        if len(index) == 0:
            raise ValueError(
                "DemonstrationReplayBuffer: demonstrations hold no transition (every episode has one pair and ends truncated)"
            )
        next_index = np.minimum(index + 1, n - 1)
        next_index[done[index] == 1.0] = index[done[index] == 1.0]  # terminal: the next observation is masked out
        action_space = self.action_space
        assert isinstance(action_space, spaces.Box)  # checked in __init__
        low, high = action_space.low, action_space.high
        scaled = 2.0 * (actions.reshape(n, *action_space.shape) - low) / (high - low) - 1.0
        self.demo_observations = observations[index]
        self.demo_next_observations = observations[next_index]
        self.demo_actions = np.clip(scaled, -1.0, 1.0).astype(np.float32)[index]
        self.demo_rewards = np.asarray(demonstrations.rewards, dtype=np.float32)[index]
        self.demo_dones = done[index]
        self.n_demo_transitions = len(index)

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
