"""Network separation: residual policies, ``a = base(s) + scale * residual(.)``.

IL trains only the base network (the BC policy); RL trains only the residual network (and the
critics, and PPO's ``log_std``). The two parameter sets are disjoint by construction: the RL
optimizer holds only the residual side, the IL optimizer only the base, and the base's output
enters the RL computation detached. The residual's output layer starts at zero, so right after
pre-training the policy acts exactly as the BC policy does.

The residual sees the base's latent features (detached) and, by default, the base action.
"""

from typing import Any, ClassVar

import torch as th
from stable_baselines3.common.distributions import Distribution, SquashedDiagGaussianDistribution
from stable_baselines3.common.preprocessing import get_action_dim
from stable_baselines3.sac.policies import LOG_STD_MAX, LOG_STD_MIN
from torch import nn

from sb3_inril.validation import check_float


def build_residual_mlp(
    input_dim: int, net_arch: list[int], activation_fn: type[nn.Module], output_dim: int
) -> tuple[nn.Sequential, nn.Linear, int]:
    """
    The residual network: hidden layers, and an output layer initialised to zero.

    :return: the hidden layers, the output layer and the width of the last hidden layer
    """
    layers: list[nn.Module] = []
    last_dim = input_dim
    for width in net_arch:
        layers += [nn.Linear(last_dim, width), activation_fn()]
        last_dim = width
    output = nn.Linear(last_dim, output_dim)
    nn.init.zeros_(output.weight)
    nn.init.zeros_(output.bias)
    return nn.Sequential(*layers), output, last_dim


def check_residual_arguments(residual_scale: float, residual_net_arch: list[int] | None) -> list[int]:
    check_float("residual_scale", residual_scale, 0.0, low_open=True)
    net_arch = [64, 64] if residual_net_arch is None else list(residual_net_arch)
    if not all(isinstance(width, int) and width > 0 for width in net_arch):
        raise ValueError(f"residual_net_arch: expected a list of positive ints, found {residual_net_arch!r}")
    return net_arch


class ResidualPolicyMixin:
    """
    A residual policy, and its side of the imitation protocol
    (:class:`sb3_inril.common.policy_protocol.ImitationPolicy`): IL trains the base and scores
    demonstrations under the base alone; RL trains the residual. PPO's and the off-policy residual
    policies implement the ``base_*``/``residual_*`` methods.
    """

    #: IL and RL train disjoint parameter sets (``gradient_separation="residual"``).
    separates_il_and_rl: ClassVar[bool] = True
    residual_scale: float
    residual_net_arch: list[int]
    residual_sees_base_action: bool

    def base_parameters(self) -> list[nn.Parameter]:
        """The base network's parameters: the only ones IL updates."""
        raise NotImplementedError

    def residual_parameters(self) -> list[nn.Parameter]:
        """The actor's RL-side parameters (residual network, and the std's)."""
        raise NotImplementedError

    def base_distribution(self, obs: th.Tensor) -> Distribution:
        """Action distribution of the base alone (the BC policy), with the std detached."""
        raise NotImplementedError

    def base_actions(self, obs: th.Tensor) -> th.Tensor:
        """Deterministic action of the base alone, differentiable w.r.t. the base."""
        raise NotImplementedError

    def residual_actions(self, obs: th.Tensor) -> th.Tensor:
        """``scale * residual``, the correction RL adds to the base's mean action."""
        raise NotImplementedError

    # The imitation protocol, in terms of the base and the residual.
    def il_parameters(self) -> list[nn.Parameter]:
        return self.base_parameters()

    def rl_actor_parameters(self) -> list[nn.Parameter]:
        return self.residual_parameters()

    def il_distribution(self, observations: th.Tensor) -> Distribution:
        return self.base_distribution(observations)

    def il_deterministic_actions(self, observations: th.Tensor) -> th.Tensor:
        return self.base_actions(observations)

    def il_diagnostics(self, observations: th.Tensor) -> dict[str, float]:
        """``residual_norm``: the mean norm of ``scale * residual``, the correction RL has learnt."""
        return {"residual_norm": th.linalg.vector_norm(self.residual_actions(observations), dim=-1).mean().item()}

    def _residual_constructor_parameters(self) -> dict[str, Any]:
        return dict(
            residual_scale=self.residual_scale,
            residual_net_arch=self.residual_net_arch,
            residual_sees_base_action=self.residual_sees_base_action,
        )


class ResidualActorMixin:
    """
    Turns SAC's or TQC's ``Actor`` into a residual actor: the base is the actor's own
    ``latent_pi`` and ``mu``; the residual network and the ``log_std`` head are the RL side.
    """

    action_space: Any
    features_extractor: nn.Module
    latent_pi: nn.Sequential
    mu: nn.Module
    log_std: nn.Module
    use_sde: bool
    activation_fn: type[nn.Module]

    def __init__(
        self,
        *args: Any,
        residual_scale: float = 0.1,
        residual_net_arch: list[int] | None = None,
        residual_sees_base_action: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        net_arch = self.net_arch  # type: ignore[attr-defined]  # set by the SB3 actor or policy this mixin goes with
        latent_dim = net_arch[-1] if len(net_arch) > 0 else self.features_dim  # type: ignore[attr-defined]  # set by the SB3 actor or policy this mixin goes with
        self._init_residual(residual_scale, residual_net_arch, residual_sees_base_action, latent_dim)

    def _init_residual(
        self, residual_scale: float, residual_net_arch: list[int] | None, residual_sees_base_action: bool, latent_dim: int
    ) -> None:
        if self.use_sde:
            raise ValueError("use_sde: residual policies do not support gSDE, found use_sde=True")
        self.residual_scale = residual_scale
        self.residual_net_arch = check_residual_arguments(residual_scale, residual_net_arch)
        self.residual_sees_base_action = residual_sees_base_action
        action_dim = get_action_dim(self.action_space)
        input_dim = latent_dim + (action_dim if residual_sees_base_action else 0)
        self.residual_net, self.residual_mu, last_dim = build_residual_mlp(
            input_dim,
            self.residual_net_arch,
            self.activation_fn,
            action_dim,
        )
        # The std is exploration, i.e. RL's: its head moves to the residual side.
        self.log_std = nn.Linear(last_dim, action_dim)

    def _base(self, obs: th.Tensor) -> tuple[th.Tensor, th.Tensor]:
        features = self.extract_features(obs, self.features_extractor)  # type: ignore[attr-defined]  # set by the SB3 actor or policy this mixin goes with
        latent = self.latent_pi(features)
        return latent, self.mu(latent)

    def _residual_latent(self, latent: th.Tensor, base_mean: th.Tensor) -> th.Tensor:
        inputs = th.cat([latent, base_mean], dim=-1) if self.residual_sees_base_action else latent
        return self.residual_net(inputs)

    def get_action_dist_params(self, obs: th.Tensor) -> tuple[th.Tensor, th.Tensor, dict[str, th.Tensor]]:
        with th.no_grad():  # RL gradients never reach the base
            latent, base_mean = self._base(obs)
        residual_latent = self._residual_latent(latent, base_mean)
        mean_actions = base_mean + self.residual_scale * self.residual_mu(residual_latent)
        log_std = th.clamp(self.log_std(residual_latent), LOG_STD_MIN, LOG_STD_MAX)
        return mean_actions, log_std, {}

    def base_parameters(self) -> list[nn.Parameter]:
        modules = [self.features_extractor, self.latent_pi, self.mu]
        return list({id(p): p for module in modules for p in module.parameters()}.values())

    def residual_parameters(self) -> list[nn.Parameter]:
        return [*self.residual_net.parameters(), *self.residual_mu.parameters(), *self.log_std.parameters()]

    def base_distribution(self, obs: th.Tensor) -> Distribution:
        latent, base_mean = self._base(obs)
        log_std = th.clamp(self.log_std(self._residual_latent(latent.detach(), base_mean.detach())), LOG_STD_MIN, LOG_STD_MAX)
        return SquashedDiagGaussianDistribution(get_action_dim(self.action_space)).proba_distribution(
            base_mean, log_std.detach()
        )

    def base_actions(self, obs: th.Tensor) -> th.Tensor:
        return th.tanh(self._base(obs)[1])

    def residual_actions(self, obs: th.Tensor) -> th.Tensor:
        latent, base_mean = self._base(obs)
        return self.residual_scale * self.residual_mu(self._residual_latent(latent, base_mean))


class ResidualOffPolicyMixin(ResidualPolicyMixin):
    """SAC/TQC policy with a residual actor; the actor's RL optimizer holds only the residual side."""

    residual_actor_class: type[nn.Module]
    actor: Any

    def __init__(
        self,
        *args: Any,
        residual_scale: float = 0.1,
        residual_net_arch: list[int] | None = None,
        residual_sees_base_action: bool = True,
        **kwargs: Any,
    ) -> None:
        # Set before the parent's __init__, which builds the actor through make_actor().
        self.residual_scale = residual_scale
        self.residual_net_arch = check_residual_arguments(residual_scale, residual_net_arch)
        self.residual_sees_base_action = residual_sees_base_action
        super().__init__(*args, **kwargs)

    def make_actor(self, features_extractor: nn.Module | None = None) -> Any:
        actor_kwargs = self._update_features_extractor(self.actor_kwargs, features_extractor)  # type: ignore[attr-defined]  # set by the SB3 actor or policy this mixin goes with
        return self.residual_actor_class(**actor_kwargs, **self._residual_constructor_parameters()).to(self.device)  # type: ignore[attr-defined]  # set by the SB3 actor or policy this mixin goes with

    def _build(self, lr_schedule: Any) -> None:
        super()._build(lr_schedule)  # type: ignore[misc]  # the mixin's parent is the SB3 class it goes in front of
        self.actor.optimizer = self.optimizer_class(  # type: ignore[attr-defined]  # set by the SB3 actor or policy this mixin goes with
            self.actor.residual_parameters(),
            lr=lr_schedule(1),
            **self.optimizer_kwargs,  # type: ignore[attr-defined]  # set by the SB3 actor or policy this mixin goes with
        )

    def _get_constructor_parameters(self) -> dict[str, Any]:
        data = super()._get_constructor_parameters()  # type: ignore[misc]  # the mixin's parent is the SB3 class it goes in front of
        data.update(self._residual_constructor_parameters())
        return data

    def base_parameters(self) -> list[nn.Parameter]:
        return self.actor.base_parameters()

    def residual_parameters(self) -> list[nn.Parameter]:
        return self.actor.residual_parameters()

    def base_distribution(self, obs: th.Tensor) -> Distribution:
        return self.actor.base_distribution(obs)

    def base_actions(self, obs: th.Tensor) -> th.Tensor:
        return self.actor.base_actions(obs)

    def residual_actions(self, obs: th.Tensor) -> th.Tensor:
        return self.actor.residual_actions(obs)
