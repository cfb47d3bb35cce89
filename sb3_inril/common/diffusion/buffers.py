"""Rollout buffers that store the denoising chain of each action and yield DPPO's per-step samples.

Each env transition holds its fine-tuned chain ``x_{K'} -> ... -> x_0`` (K' + 1 vectors) and the
log-density of each of its K' steps. ``get`` yields one sample per (transition, denoising step),
shuffled over both: the observation, value and return of the transition; the "action"
``[x_j, x_{j+1}, j]``; the step's old log-density; the transition's advantage times
``denoising_discount ** (K' - 1 - j)``. ``PPO.train`` and ``A2C.train`` take them as they are: see
:mod:`sb3_inril.common.diffusion.policies`. ``batch_size`` counts these samples (DPPO's convention).
"""

from collections.abc import Generator
from typing import TYPE_CHECKING, Any

import numpy as np
from stable_baselines3.common.buffers import DictRolloutBuffer, RolloutBuffer
from stable_baselines3.common.type_aliases import DictRolloutBufferSamples, RolloutBufferSamples
from stable_baselines3.common.vec_env import VecNormalize

if TYPE_CHECKING:  # the policy names its buffers (rollout_buffer_class_for): no import the other way
    from sb3_inril.common.diffusion.policies import DiffusionActorCriticPolicy

_FLAT_ARRAYS = ("actions", "values", "log_probs", "advantages", "returns", "chains", "step_log_probs")


class DenoisingChainStorageMixin:
    """The chain storage shared by the array and Dict rollout buffers (goes in front of them)."""

    policy: "DiffusionActorCriticPolicy | None" = None
    chains: np.ndarray
    step_log_probs: np.ndarray
    # Set by SB3's RolloutBuffer.
    buffer_size: int
    n_envs: int
    pos: int
    full: bool
    generator_ready: bool
    observations: Any
    values: np.ndarray
    advantages: np.ndarray
    returns: np.ndarray

    def attach_policy(self, policy: "DiffusionActorCriticPolicy") -> None:
        """
        Store the chains of ``policy`` (the algorithm calls this once the policy exists).

        :raises ValueError: naming ``rollout_buffer_class``, for a policy that samples no denoising chains
        """
        if not callable(getattr(policy, "take_rollout_chain", None)):
            raise ValueError(
                f"rollout_buffer_class: {type(self).__name__} stores denoising chains and only a diffusion policy "
                f"samples them; found {type(policy).__name__}"
            )
        self.policy = policy
        self.reset()

    def reset(self) -> None:
        super().reset()  # type: ignore[misc]  # the SB3 buffer this mixin goes in front of
        if self.policy is not None:
            n_ft, dim = self.policy.ft_denoising_steps, self.policy.action_dim
            self.chains = np.zeros((self.buffer_size, self.n_envs, n_ft + 1, dim), dtype=np.float32)
            self.step_log_probs = np.zeros((self.buffer_size, self.n_envs, n_ft), dtype=np.float32)

    def add(self, *args: Any, **kwargs: Any) -> None:
        if self.policy is None:
            raise RuntimeError(f"{type(self).__name__}.add: no diffusion policy attached (call attach_policy(policy))")
        chain, step_log_probs = self.policy.take_rollout_chain()
        self.chains[self.pos] = chain.cpu().numpy().reshape(self.chains.shape[1:])
        self.step_log_probs[self.pos] = step_log_probs.cpu().numpy().reshape(self.step_log_probs.shape[1:])
        super().add(*args, **kwargs)  # type: ignore[misc]  # the SB3 buffer this mixin goes in front of

    @property
    def n_denoising_samples(self) -> int:
        """Samples per pass: env transitions times fine-tuned denoising steps."""
        assert self.policy is not None
        return self.buffer_size * self.n_envs * self.policy.ft_denoising_steps

    def _flatten(self) -> None:
        # As SB3's get() does, once per rollout: (n_steps, n_envs, ...) -> (n_steps * n_envs, ...).
        flatten = RolloutBuffer.swap_and_flatten
        if isinstance(self.observations, dict):
            self.observations = {key: flatten(obs) for key, obs in self.observations.items()}
        else:
            self.observations = flatten(self.observations)
        for name in _FLAT_ARRAYS:
            self.__dict__[name] = flatten(self.__dict__[name])
        self.generator_ready = True

    def get(self, batch_size: int | None = None) -> Generator[Any, None, None]:
        assert self.full, "the rollout buffer is not full"
        indices = np.random.permutation(self.n_denoising_samples)
        if not self.generator_ready:
            self._flatten()
        batch_size = batch_size or self.n_denoising_samples
        for start in range(0, self.n_denoising_samples, batch_size):
            yield self._get_samples(indices[start : start + batch_size])  # type: ignore[attr-defined]  # the concrete buffers define it

    def _denoising_fields(self, sample_inds: np.ndarray) -> tuple[np.ndarray, tuple[np.ndarray, ...]]:
        """The transition of each sample, and its action, values, log-density, advantage and return."""
        assert self.policy is not None
        n_ft = self.policy.ft_denoising_steps
        transitions, steps = np.divmod(sample_inds, n_ft)
        actions = np.concatenate(
            [self.chains[transitions, steps], self.chains[transitions, steps + 1], steps[:, None].astype(np.float32)],
            axis=1,
        )
        discount = self.policy.denoising_discount ** (n_ft - 1 - steps)
        return transitions, (
            actions,
            self.values[transitions].flatten(),
            self.step_log_probs[transitions, steps],
            (self.advantages[transitions].flatten() * discount).astype(np.float32),
            self.returns[transitions].flatten(),
        )


class DenoisingChainRolloutBuffer(DenoisingChainStorageMixin, RolloutBuffer):
    """SB3's ``RolloutBuffer`` that stores denoising chains (see the module's docstring)."""

    def _get_samples(self, batch_inds: np.ndarray, env: VecNormalize | None = None) -> RolloutBufferSamples:
        transitions, fields = self._denoising_fields(batch_inds)
        return RolloutBufferSamples(self.to_torch(self.observations[transitions]), *(self.to_torch(f) for f in fields))


class DictDenoisingChainRolloutBuffer(DenoisingChainStorageMixin, DictRolloutBuffer):
    """SB3's ``DictRolloutBuffer`` that stores denoising chains (see the module's docstring)."""

    def _get_samples(  # type: ignore[override]  # SB3's Dict buffer narrows the return type the same way
        self, batch_inds: np.ndarray, env: VecNormalize | None = None
    ) -> DictRolloutBufferSamples:
        transitions, fields = self._denoising_fields(batch_inds)
        observations = {key: self.to_torch(obs[transitions]) for key, obs in self.observations.items()}
        return DictRolloutBufferSamples(observations, *(self.to_torch(f) for f in fields))
