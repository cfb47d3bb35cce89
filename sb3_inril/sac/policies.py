from stable_baselines3.sac.policies import Actor, CnnPolicy, MlpPolicy, SACPolicy

from sb3_inril.common.residual import ResidualActorMixin, ResidualOffPolicyMixin


class ResidualSACActor(ResidualActorMixin, Actor):  # type: ignore[misc]  # the mixin declares the Actor attributes it reads with broader types
    """SAC's actor with a residual: ``tanh(mu(s) + scale * residual(.) + noise)``, see :mod:`sb3_inril.common.residual`."""


class ResidualSACPolicy(ResidualOffPolicyMixin, SACPolicy):
    """
    SAC policy with a residual actor: IL trains the base (``latent_pi``, ``mu``), RL the residual
    network, the ``log_std`` head and the critics. Squashing applies to the sum.

    :param residual_scale: scale of the residual's output
    :param residual_net_arch: hidden layers of the residual network (default ``[64, 64]``)
    :param residual_sees_base_action: feed the base action to the residual network
    :param kwargs: the arguments of ``SACPolicy``
    """

    residual_actor_class = ResidualSACActor


ResidualMlpPolicy = ResidualSACPolicy

__all__ = ["CnnPolicy", "MlpPolicy", "ResidualMlpPolicy", "ResidualSACActor", "ResidualSACPolicy"]
