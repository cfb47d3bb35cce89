from typing import Any

from sb3_contrib.tqc.policies import Actor, CnnPolicy, MlpPolicy, TQCPolicy

from sb3_inril.common.residual import ResidualActorMixin, ResidualOffPolicyMixin


class ResidualTQCActor(ResidualActorMixin, Actor):
    """TQC's actor with a residual, see :mod:`sb3_inril.common.residual`."""

    def __init__(
        self,
        *args: Any,
        residual_scale: float = 0.1,
        residual_net_arch: list[int] | None = None,
        residual_sees_base_action: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        latent_dim = self.net_arch[-1] if len(self.net_arch) > 0 else self.features_dim
        self._init_residual(residual_scale, residual_net_arch, residual_sees_base_action, latent_dim)


class ResidualTQCPolicy(ResidualOffPolicyMixin, TQCPolicy):
    """TQC policy with a residual actor (the same split as :class:`sb3_inril.sac.policies.ResidualSACPolicy`)."""

    residual_actor_class = ResidualTQCActor

    def __init__(
        self,
        *args: Any,
        residual_scale: float = 0.1,
        residual_net_arch: list[int] | None = None,
        residual_sees_base_action: bool = True,
        **kwargs: Any,
    ) -> None:
        self._set_residual_arguments(residual_scale, residual_net_arch, residual_sees_base_action)
        super().__init__(*args, **kwargs)


ResidualMlpPolicy = ResidualTQCPolicy

__all__ = ["CnnPolicy", "MlpPolicy", "ResidualMlpPolicy", "ResidualTQCActor", "ResidualTQCPolicy"]
