"""The actor of off-policy algorithms with a separate ``actor`` and its own optimizer, for IN-RIL:
stochastic (SAC, sb3-contrib's TQC and CrossQ: squashed Gaussian or gSDE) or deterministic (TD3,
DDPG: ``il_loss="mse"``). IL never reaches the critics' own layers, their targets or the entropy
coefficient; the critic warm-up holds the actor and the entropy coefficient.
"""

from typing import Any

import torch as th
from stable_baselines3.common.distributions import Distribution

from sb3_inril.common.inril import InRILMixin
from sb3_inril.common.saving import AtomicReplayBufferSaveMixin
from sb3_inril.demos.buffer import TensorObservations


class InRILOffPolicyMixin(InRILMixin, AtomicReplayBufferSaveMixin):
    """IN-RIL for an off-policy actor-critic algorithm: ``class InRILTD3(InRILOffPolicyMixin, TD3)``."""

    actor: Any

    def rl_actor_optimizer(self) -> th.optim.Optimizer:
        return self.actor.optimizer

    def _actor_parameters(self) -> list[th.nn.Parameter]:
        return list(self.actor.parameters())

    def _rl_actor_parameters(self) -> list[th.nn.Parameter]:
        return [param for group in self.rl_actor_optimizer().param_groups for param in group["params"]]

    def _frozen_during_warmup(self) -> list[th.optim.Optimizer]:
        ent_coef_optimizer = getattr(self, "ent_coef_optimizer", None)
        return [ent_coef_optimizer] if ent_coef_optimizer is not None else []

    def _critic_optimizers(self) -> list[th.optim.Optimizer]:
        critic = getattr(self, "critic", None)
        optimizer = getattr(critic, "optimizer", None)
        return [optimizer] if isinstance(optimizer, th.optim.Optimizer) else []

    def _features_extractor_shared_with_critic(self) -> th.nn.Module | None:
        return self.actor.features_extractor if getattr(self.policy, "share_features_extractor", False) else None

    @property
    def has_stochastic_actor(self) -> bool:
        """False for deterministic actors (TD3, DDPG), which have no action distribution for the NLL."""
        return hasattr(self.actor, "get_action_dist_params")

    def _check_actor(self, loss: str, argument: str = "il_loss") -> None:
        if loss == "nll" and not self.has_stochastic_actor:
            raise ValueError(self._deterministic_actor_message(argument))

    def _actor_distribution(self, observations: TensorObservations) -> Distribution:
        if not self.has_stochastic_actor:
            raise ValueError(self._deterministic_actor_message())
        mean_actions, log_std, kwargs = self.actor.get_action_dist_params(observations)
        return self.actor.action_dist.proba_distribution(mean_actions, log_std, **kwargs)

    def _actor_deterministic_actions(self, observations: TensorObservations) -> th.Tensor:
        return self.policy._predict(observations, deterministic=True)
