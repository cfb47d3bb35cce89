"""Action chunks: a policy step that executes ``H`` env actions, and demonstrations cut into chunks.

Diffusion policies for manipulation (diffusion_policy, DPPO) predict a chunk of ``H`` future actions
from one observation and execute them open loop. :class:`ActionChunkWrapper` turns any env with a
``Box`` action space into one whose action *is* such a chunk, so that every SB3 / IN-RIL algorithm
(PPO, SAC, ... with Gaussian or diffusion policies) trains chunked policies unchanged: the policy's
action space is ``Box((H, *A))`` and one RL transition is one chunk.

:func:`chunk_demonstrations` converts per-step demonstrations to the same layout: the pair of step
``t`` becomes (observation ``t``, actions ``t .. t+H-1`` of the same episode). The IN-RIL algorithms
call it on their own when per-step demonstrations meet an env wrapped in :class:`ActionChunkWrapper`.
"""

from dataclasses import replace
from typing import Any, SupportsFloat

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from sb3_inril.demos.demonstrations import Demonstrations, as_demonstrations, take_rows
from sb3_inril.validation import check_choice, check_float, check_positive_int

#: The tail rules of :func:`chunk_demonstrations`.
TAIL_RULES = ("pad", "drop")


class ActionChunkWrapper(gym.Wrapper[Any, np.ndarray, Any, np.ndarray]):
    """
    Execute a chunk of ``chunk_size`` actions per step.

    The action space becomes ``Box`` of shape ``(H, *A)`` (the wrapped env's ``Box`` of shape ``A``,
    its bounds tiled). ``step(chunk)`` executes ``chunk[0], chunk[1], ...`` in order and returns the
    observation after the last executed action, the chunk's reward
    ``sum_i reward_discount**i * r_i`` over the executed steps, and the last executed step's
    ``terminated``/``truncated``/``info``. When the episode terminates or is truncated inside the
    chunk, the remaining actions are not executed (the episode ends where the inner env said so).

    Discount bookkeeping: the default ``reward_discount=1.0`` sums the rewards, as DPPO does
    (with an agent discount ``gamma`` per chunk). For the agent's return to equal the per-step
    discounted return with factor ``g``, set ``reward_discount=g`` here and the agent's
    ``gamma=g**H`` (exact except for the chunk an episode ends in, which is shorter than ``H``:
    nothing follows it, so nothing is discounted wrongly).

    The returned ``info`` is the last executed step's own (``is_success``, ``TimeLimit.truncated``,
    ... pass through), plus ``chunk_steps`` (the number of env steps executed, ``H`` except at an
    episode's end) and ``chunk_rewards`` (their rewards, a float64 array).

    Code finds the chunk size through other wrappers and vectorised envs as the attribute
    ``action_chunk_size`` (``env.get_wrapper_attr("action_chunk_size")``,
    ``vec_env.get_attr("action_chunk_size")``).

    Episode statistics: a ``Monitor`` inside this wrapper (rl-zoo's ``env_wrapper``, ``make_vec_env``'s
    ``wrapper_class``) counts env steps and per-step rewards; one outside it (SB3 adds one when given
    a plain ``gym.Env``) counts chunks and chunk rewards (the same episode return when
    ``reward_discount=1``).

    :param env: the env, with a ``Box`` action space
    :param chunk_size: ``H >= 1``, the number of env actions per step
    :param reward_discount: the per-step discount inside a chunk, in [0, 1]
    :raises TypeError: for an action space that is not a ``Box``, or arguments of the wrong type
    :raises ValueError: for arguments out of range
    """

    def __init__(self, env: gym.Env, chunk_size: int, reward_discount: float = 1.0) -> None:
        check_positive_int("ActionChunkWrapper: chunk_size", chunk_size, allow_none=False)
        self.reward_discount = check_float("ActionChunkWrapper: reward_discount", reward_discount, 0.0, 1.0)
        inner_space = env.action_space
        if not isinstance(inner_space, spaces.Box):
            raise TypeError(
                f"ActionChunkWrapper: the env's action_space is {inner_space}, expected a Box (a chunk of discrete "
                "actions has no Box to tile; wrap the env's action space first)"
            )
        super().__init__(env)
        self.action_chunk_size = int(chunk_size)
        shape = (self.action_chunk_size, *inner_space.shape)
        self.action_space = spaces.Box(
            low=np.broadcast_to(inner_space.low, shape).copy(),
            high=np.broadcast_to(inner_space.high, shape).copy(),
            shape=shape,
            dtype=inner_space.dtype,
        )
        # Discount weights of the H steps, computed once.
        self._weights = self.reward_discount ** np.arange(self.action_chunk_size, dtype=np.float64)

    def step(self, action: np.ndarray) -> tuple[Any, SupportsFloat, bool, bool, dict[str, Any]]:
        """
        Execute the chunk's actions in order, up to the end of the episode.

        :param action: the chunk, shape ``(H, *A)``
        :return: observation, chunk reward, terminated, truncated and info of the last executed step
            (with ``chunk_steps`` and ``chunk_rewards`` added)
        """
        chunk = np.asarray(action)
        if chunk.shape != self.action_space.shape:
            raise ValueError(
                f"ActionChunkWrapper: the action has shape {chunk.shape}, expected {self.action_space.shape} "
                f"(chunk_size={self.action_chunk_size} actions of the env's shape {self.env.action_space.shape})"
            )
        rewards: list[float] = []
        for step_action in chunk:
            observation, reward, terminated, truncated, info = self.env.step(step_action)
            rewards.append(float(reward))
            if terminated or truncated:
                break
        chunk_rewards = np.asarray(rewards, dtype=np.float64)
        chunk_reward = float(np.dot(self._weights[: len(rewards)], chunk_rewards))
        # A new dict: the inner env may keep and reuse its own.
        info = {**info, "chunk_steps": len(rewards), "chunk_rewards": chunk_rewards}
        return observation, chunk_reward, terminated, truncated, info


def chunk_demonstrations(demonstrations: Demonstrations | Any, chunk_size: int, tail: str = "pad") -> Demonstrations:
    """
    Cut per-step demonstrations into action chunks of ``chunk_size`` (the layout of
    :class:`ActionChunkWrapper`).

    Every step ``t`` of an episode gives one pair: its observation (observations stay per step:
    stride 1, overlapping chunks, as diffusion_policy's and DPPO's datasets sample them) and the
    actions ``t .. t+H-1`` of the same episode, shape ``(H, *A)``; chunks never cross an episode
    boundary. Near an episode's end, ``tail`` decides:

    - ``"pad"`` (default): the chunk is padded by repeating the episode's last action, as
      diffusion_policy's ``SequenceSampler`` pads with the edge value (``pad_after = H - 1``); every
      step keeps its pair, so episodes, ``infos`` and ``dones`` keep their rows.
    - ``"drop"``: steps whose chunk would run past the episode's end are left out, as DPPO's
      ``StitchedSequenceDataset`` samples only windows inside an episode; an episode shorter than
      ``H`` is left out entirely.

    The other fields after chunking: ``rewards[t]`` is the sum of the rewards of the steps the chunk
    covers inside its episode (``t .. min(t+H, end)-1``, undiscounted: the chunk reward of
    :class:`ActionChunkWrapper` with ``reward_discount=1``); ``dones`` keep their meaning "the last
    pair of an episode" (with ``"drop"``: the flag of the episode's last step moves to its last kept
    pair); ``episode_terminals`` and ``infos`` are those of the kept episodes and steps. The
    metadata records ``action_chunk_size`` and ``action_chunk_tail``. The result has no ``spec``
    (reading the source again gives per-step actions).

    :param demonstrations: per-step demonstrations (actions ``(N, *A)``): :class:`Demonstrations` or any
        in-memory source :func:`sb3_inril.demos.demonstrations.as_demonstrations` takes; not already
        chunked ones (an error when their metadata says they are)
    :param chunk_size: ``H >= 1``
    :param tail: ``"pad"`` or ``"drop"``, see above
    :return: the chunked demonstrations, actions ``(N', H, *A)``
    :raises ValueError: for a bad ``chunk_size`` or ``tail``, chunked input, or when ``"drop"`` leaves nothing
    """
    check_positive_int("chunk_demonstrations: chunk_size", chunk_size, allow_none=False)
    check_choice("chunk_demonstrations: tail", tail, TAIL_RULES)
    demonstrations = as_demonstrations(demonstrations)
    if "action_chunk_size" in demonstrations.metadata:
        raise ValueError(
            f"chunk_demonstrations: demonstrations: expected per-step actions, found demonstrations already chunked "
            f"(metadata action_chunk_size={demonstrations.metadata['action_chunk_size']}, actions of per-step shape "
            f"{demonstrations.actions.shape[1:]})"
        )
    horizon = int(chunk_size)
    n_pairs = len(demonstrations)
    starts = demonstrations.episode_starts
    ends = np.append(starts[1:], n_pairs)
    lengths = ends - starts
    step_end = np.repeat(ends, lengths)  # the end (exclusive) of every step's episode
    steps = np.arange(n_pairs)
    # Edge padding: an index past the episode's last step is that last step.
    window = np.minimum(steps[:, None] + np.arange(horizon)[None, :], step_end[:, None] - 1)
    actions = demonstrations.actions[window]

    rewards = None
    if demonstrations.rewards is not None:
        # Sums over [t, min(t+H, end)) from cumulative sums, in float64 for long episodes.
        cumulative = np.concatenate([[0.0], np.cumsum(demonstrations.rewards, dtype=np.float64)])
        rewards = (cumulative[np.minimum(steps + horizon, step_end)] - cumulative[steps]).astype(np.float32)

    metadata = {**demonstrations.metadata, "action_chunk_size": horizon, "action_chunk_tail": tail}
    if tail == "pad":
        return replace(demonstrations, actions=actions, rewards=rewards, metadata=metadata, spec=None)

    keep = steps + horizon <= step_end
    if not keep.any():
        raise ValueError(
            f"chunk_demonstrations: tail='drop' leaves no pair: every episode is shorter than chunk_size={horizon} "
            f"(episode lengths {lengths.tolist()[:10]}{' ...' if len(lengths) > 10 else ''})"
        )
    kept_lengths = np.maximum(lengths - horizon + 1, 0)
    kept_episodes = kept_lengths > 0
    new_lengths = kept_lengths[kept_episodes]
    new_starts = np.concatenate([[0], np.cumsum(new_lengths)[:-1]]).astype(np.int64)
    dones = None
    if demonstrations.dones is not None:
        dones = np.zeros(int(keep.sum()), dtype=bool)
        dones[new_starts + new_lengths - 1] = demonstrations.dones[ends[kept_episodes] - 1]
    terminals = demonstrations.episode_terminals
    infos = demonstrations.infos
    return Demonstrations(
        take_rows(demonstrations.observations, keep),
        actions[keep],
        new_starts,
        None if rewards is None else rewards[keep],
        dones,
        episode_terminals=None if terminals is None else terminals[kept_episodes],
        infos=None if infos is None else [info for info, kept in zip(infos, keep) if kept],
        metadata=metadata,
    )
