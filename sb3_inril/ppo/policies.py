from typing import Any

import torch as th
from gymnasium import spaces
from stable_baselines3.common.distributions import DiagGaussianDistribution, Distribution
from stable_baselines3.common.policies import ActorCriticCnnPolicy, ActorCriticPolicy
from stable_baselines3.common.preprocessing import get_action_dim
from stable_baselines3.common.type_aliases import Schedule
from torch import nn

from sb3_inril.common.diffusion.residual import (  # noqa: F401  # the PPO residual policies in one place
    MultiInputResidualDiffusionPolicy,
    ResidualDiffusionPolicy,
)
from sb3_inril.common.residual import ResidualPolicyMixin, build_residual_mlp, check_residual_arguments

# IN-RIL needs nothing from the policy that SB3's actor-critic policies do not already offer.
MlpPolicy = ActorCriticPolicy
CnnPolicy = ActorCriticCnnPolicy


class ResidualActorCriticPolicy(ResidualPolicyMixin, ActorCriticPolicy):
    """
    Actor-critic policy whose Gaussian mean is ``base(s) + residual_scale * residual(.)``.

    The base is SB3's usual actor (features extractor, ``mlp_extractor.policy_net``,
    ``action_net``), trained by IL. The residual network, ``log_std`` and the value function are
    the RL side: the policy's optimizer holds only them. The residual takes the base's latent
    features and (by default) the base's mean action, both detached; its output layer starts at
    zero. Box action spaces only, without gSDE.

    :param residual_scale: scale of the residual's output
    :param residual_net_arch: hidden layers of the residual network (default ``[64, 64]``)
    :param residual_sees_base_action: feed the base action to the residual network
    :param kwargs: the arguments of ``ActorCriticPolicy``
    """

    def __init__(
        self,
        observation_space: spaces.Space,
        action_space: spaces.Space,
        lr_schedule: Schedule,
        residual_scale: float = 0.1,
        residual_net_arch: list[int] | None = None,
        residual_sees_base_action: bool = True,
        **kwargs: Any,
    ) -> None:
        if not isinstance(action_space, spaces.Box):
            raise ValueError(f"action_space: residual policies need a Box action space, found {action_space}")
        if kwargs.get("use_sde", False):
            raise ValueError("use_sde: residual policies do not support gSDE, found use_sde=True")
        self.residual_scale = residual_scale
        self.residual_net_arch = check_residual_arguments(residual_scale, residual_net_arch)
        self.residual_sees_base_action = residual_sees_base_action
        super().__init__(observation_space, action_space, lr_schedule, **kwargs)

    def _build(self, lr_schedule: Schedule) -> None:
        super()._build(lr_schedule)
        if self.share_features_extractor and any(True for _ in self.features_extractor.parameters()):
            raise ValueError(
                "share_features_extractor: a residual policy keeps the value function RL-only, so a features "
                "extractor with parameters can not be shared with the base actor; found share_features_extractor=True"
            )
        action_dim = get_action_dim(self.action_space)
        input_dim = self.mlp_extractor.latent_dim_pi + (action_dim if self.residual_sees_base_action else 0)
        self.residual_net, self.residual_out, _ = build_residual_mlp(
            input_dim, self.residual_net_arch, self.activation_fn, action_dim
        )
        # The RL optimizer holds the RL side only: residual, log_std, value function.
        base = {id(param) for param in self.base_parameters()}
        rl_params = [param for param in self.parameters() if id(param) not in base]
        self.optimizer = self.optimizer_class(rl_params, lr=lr_schedule(1), **self.optimizer_kwargs)  # type: ignore[call-arg]  # set by the SB3 actor or policy this mixin goes with

    def _get_constructor_parameters(self) -> dict[str, Any]:
        data = super()._get_constructor_parameters()
        data.update(self._residual_constructor_parameters())
        return data

    def _residual(self, latent_pi: th.Tensor, base_mean: th.Tensor) -> th.Tensor:
        inputs = th.cat([latent_pi, base_mean], dim=-1) if self.residual_sees_base_action else latent_pi
        return self.residual_scale * self.residual_out(self.residual_net(inputs))

    def _get_action_dist_from_latent(self, latent_pi: th.Tensor) -> Distribution:
        # Every RL path (forward, evaluate_actions, get_distribution) comes through here.
        latent_pi = latent_pi.detach()  # RL gradients never reach the base
        with th.no_grad():
            base_mean = self.action_net(latent_pi)
        return self.action_dist.proba_distribution(base_mean + self._residual(latent_pi, base_mean), self.log_std)

    def _base_mean(self, obs: th.Tensor) -> th.Tensor:
        features = super(ActorCriticPolicy, self).extract_features(obs, self.pi_features_extractor)
        return self.action_net(self.mlp_extractor.forward_actor(features))

    def base_parameters(self) -> list[nn.Parameter]:
        modules = [self.pi_features_extractor, self.mlp_extractor.policy_net, self.action_net]
        return list({id(p): p for module in modules for p in module.parameters()}.values())

    def residual_parameters(self) -> list[nn.Parameter]:
        return [*self.residual_net.parameters(), *self.residual_out.parameters(), self.log_std]

    def base_distribution(self, obs: th.Tensor) -> Distribution:
        return DiagGaussianDistribution(get_action_dim(self.action_space)).proba_distribution(
            self._base_mean(obs), self.log_std.detach()
        )

    def base_actions(self, obs: th.Tensor) -> th.Tensor:
        return self._base_mean(obs)

    def residual_actions(self, obs: th.Tensor) -> th.Tensor:
        features = super(ActorCriticPolicy, self).extract_features(obs, self.pi_features_extractor)
        latent_pi = self.mlp_extractor.forward_actor(features)
        return self._residual(latent_pi, self.action_net(latent_pi))


ResidualMlpPolicy = ResidualActorCriticPolicy
