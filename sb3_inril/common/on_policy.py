"""The actor of on-policy actor-critic algorithms (PPO, A2C, sb3-contrib's TRPO, ...) for IN-RIL.

SB3's ``ActorCriticPolicy`` holds actor and critic in one module with one optimizer: the actor is
the policy's features extractor (the one for the actor when it is not shared), ``mlp_extractor.policy_net``,
``action_net`` and a state-independent ``log_std``. IL never reaches ``value_net`` nor
``mlp_extractor.value_net``.
"""

from typing import Any

import torch as th
from gymnasium import spaces
from stable_baselines3.common.buffers import RolloutBuffer
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.distributions import Distribution
from stable_baselines3.common.policies import ActorCriticPolicy

from sb3_inril.common.callbacks import EpisodeStartCallback
from sb3_inril.common.inril import InRILMixin
from sb3_inril.common.policy_protocol import policy_hook
from sb3_inril.demos.buffer import TensorObservations


class InRILOnPolicyMixin(InRILMixin):
    """IN-RIL for an on-policy actor-critic algorithm: ``class InRILA2C(InRILOnPolicyMixin, A2C)``."""

    policy: ActorCriticPolicy
    policy_class: type[ActorCriticPolicy]
    observation_space: spaces.Space
    rollout_buffer: RolloutBuffer
    rollout_buffer_class: type[RolloutBuffer] | None

    def _setup_model(self) -> None:
        # A policy may need a rollout buffer of its own (a diffusion policy's stores denoising
        # chains): chosen here, before the parent builds one; a user's choice is checked by the policy.
        buffer_class_for = policy_hook(self.policy_class, "rollout_buffer_class_for")
        if buffer_class_for is not None:
            self.rollout_buffer_class = buffer_class_for(self.observation_space, self.rollout_buffer_class)
        super()._setup_model()
        # A buffer that stores what only some policies produce is given the policy (and may refuse it).
        attach_policy = getattr(self.rollout_buffer, "attach_policy", None)
        if callable(attach_policy):
            attach_policy(self.policy)

    def _init_callback(self, callback: Any, progress_bar: bool = False) -> BaseCallback:
        # A policy with per-episode state learns which rollout envs start an episode (SB3 does not tell it).
        if policy_hook(self.policy, "reset_episode_state") is not None:
            callbacks = [] if callback is None else list(callback) if isinstance(callback, list) else [callback]
            callback = [EpisodeStartCallback(), *callbacks]
        return super()._init_callback(callback, progress_bar)  # type: ignore[misc]  # the mixin's parent is the SB3 class it goes in front of

    def rl_actor_optimizer(self) -> th.optim.Optimizer:
        return self.policy.optimizer

    def _critic_optimizers(self) -> list[th.optim.Optimizer]:
        return [self.policy.optimizer]  # one optimizer for actor and critic

    def _actor_parameters(self) -> list[th.nn.Parameter]:
        modules = [self.policy.pi_features_extractor, self.policy.mlp_extractor.policy_net, self.policy.action_net]
        params = {id(param): param for module in modules for param in module.parameters()}
        log_std = getattr(self.policy, "log_std", None)
        if isinstance(log_std, th.nn.Parameter):
            params[id(log_std)] = log_std
        return list(params.values())

    def _rl_actor_parameters(self) -> list[th.nn.Parameter]:
        # The policy's one optimizer also holds the critic: only the actor's part is held in the warm-up.
        return self.actor_parameters()

    def _features_extractor_shared_with_critic(self) -> th.nn.Module | None:
        return self.policy.pi_features_extractor if self.policy.share_features_extractor else None

    def _actor_distribution(self, observations: TensorObservations) -> Distribution:
        return self.policy.get_distribution(observations)

    def _actor_deterministic_actions(self, observations: TensorObservations) -> th.Tensor:
        return self.policy._predict(observations, deterministic=True)
