from sb3_contrib.tqc.policies import Actor, CnnPolicy, MlpPolicy, TQCPolicy

from sb3_inril.common.residual import ResidualActorMixin, ResidualOffPolicyMixin


class ResidualTQCActor(ResidualActorMixin, Actor):  # type: ignore[misc]  # the mixin declares the Actor attributes it reads with broader types
    """TQC's actor with a residual, see :mod:`sb3_inril.common.residual`."""


class ResidualTQCPolicy(ResidualOffPolicyMixin, TQCPolicy):
    """TQC policy with a residual actor (the same split as :class:`sb3_inril.sac.policies.ResidualSACPolicy`)."""

    residual_actor_class = ResidualTQCActor


ResidualMlpPolicy = ResidualTQCPolicy

__all__ = ["CnnPolicy", "MlpPolicy", "ResidualMlpPolicy", "ResidualTQCActor", "ResidualTQCPolicy"]
