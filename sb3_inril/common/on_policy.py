"""The actor of on-policy actor-critic algorithms (PPO, A2C, sb3-contrib's TRPO, ...) for IN-RIL.

SB3's ``ActorCriticPolicy`` holds actor and critic in one module with one optimizer: the actor is
the policy's features extractor (the one for the actor when it is not shared), ``mlp_extractor.policy_net``,
``action_net`` and a state-independent ``log_std``. IL never reaches ``value_net`` nor
``mlp_extractor.value_net``.
"""

import torch as th
from gymnasium import spaces
from stable_baselines3.common.buffers import RolloutBuffer
from stable_baselines3.common.distributions import Distribution
from stable_baselines3.common.policies import ActorCriticPolicy

from sb3_inril.common.demo_buffer import TensorObservations
from sb3_inril.common.diffusion.buffers import (
    DenoisingChainRolloutBuffer,
    DenoisingChainStorageMixin,
    DictDenoisingChainRolloutBuffer,
)
from sb3_inril.common.diffusion.policies import DiffusionActorCriticPolicy
from sb3_inril.common.inril import InRILMixin
from sb3_inril.common.residual import ResidualPolicyMixin


class InRILOnPolicyMixin(InRILMixin):
    """IN-RIL for an on-policy actor-critic algorithm: ``class InRILA2C(InRILOnPolicyMixin, A2C)``."""

    policy: ActorCriticPolicy
    policy_class: type[ActorCriticPolicy]
    observation_space: spaces.Space
    rollout_buffer: RolloutBuffer
    rollout_buffer_class: type[RolloutBuffer] | None

    def _setup_model(self) -> None:
        # A diffusion policy's rollouts store denoising chains: its buffer is chosen here, before
        # the parent builds one (a user's rollout_buffer_class must store chains too).
        diffusion = issubclass(self.policy_class, DiffusionActorCriticPolicy)
        if diffusion and self.rollout_buffer_class is None:
            dict_obs = isinstance(self.observation_space, spaces.Dict)
            self.rollout_buffer_class = DictDenoisingChainRolloutBuffer if dict_obs else DenoisingChainRolloutBuffer
        chain_buffer = self.rollout_buffer_class is not None and issubclass(
            self.rollout_buffer_class, DenoisingChainStorageMixin
        )
        if diffusion != chain_buffer:
            raise ValueError(
                f"rollout_buffer_class: a diffusion policy needs a buffer that stores denoising chains and only it can "
                f"use one; found {getattr(self.rollout_buffer_class, '__name__', None)} with {self.policy_class.__name__}"
            )
        super()._setup_model()
        if diffusion:
            self.rollout_buffer.attach_policy(self.policy)  # type: ignore[attr-defined]  # a DenoisingChainStorageMixin, checked above

    def rl_actor_optimizer(self) -> th.optim.Optimizer:
        return self.policy.optimizer

    def _critic_optimizers(self) -> list[th.optim.Optimizer]:
        return [self.policy.optimizer]  # one optimizer for actor and critic

    def _actor_parameters(self) -> list[th.nn.Parameter]:
        if isinstance(self.policy, DiffusionActorCriticPolicy):
            return self.policy.actor_parameters()
        modules = [self.policy.pi_features_extractor, self.policy.mlp_extractor.policy_net, self.policy.action_net]
        params = {id(param): param for module in modules for param in module.parameters()}
        log_std = getattr(self.policy, "log_std", None)
        if isinstance(log_std, th.nn.Parameter):
            params[id(log_std)] = log_std
        return list(params.values())

    def _rl_actor_parameters(self) -> list[th.nn.Parameter]:
        # The policy's one optimizer also holds the critic: only the actor's part is held in the warm-up.
        if isinstance(self.policy, ResidualPolicyMixin):
            return self.policy.residual_parameters()
        return self._actor_parameters()

    def _features_extractor_shared_with_critic(self) -> th.nn.Module | None:
        return self.policy.pi_features_extractor if self.policy.share_features_extractor else None

    def _actor_distribution(self, observations: TensorObservations) -> Distribution:
        return self.policy.get_distribution(observations)

    def _actor_deterministic_actions(self, observations: TensorObservations) -> th.Tensor:
        return self.policy._predict(observations, deterministic=True)
