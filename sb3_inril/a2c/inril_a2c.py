from typing import ClassVar, TypeVar

from stable_baselines3 import A2C
from stable_baselines3.common.policies import BasePolicy
from stable_baselines3.common.type_aliases import MaybeCallback

from sb3_inril.common.diffusion.policies import DiffusionPolicy, MultiInputDiffusionPolicy
from sb3_inril.common.diffusion.residual import MultiInputResidualDiffusionPolicy, ResidualDiffusionPolicy
from sb3_inril.common.on_policy import InRILOnPolicyMixin
from sb3_inril.ppo.policies import ResidualMlpPolicy

SelfInRILA2C = TypeVar("SelfInRILA2C", bound="InRILA2C")


class InRILA2C(InRILOnPolicyMixin, A2C):  # type: ignore[misc]  # the mixin types `policy` as the family's policy, the parent as its own
    """
    Advantage Actor-Critic with interleaved imitation learning (IN-RIL): the on-policy mechanism
    of :class:`sb3_inril.ppo.InRILPPO`, with no code of its own. ``il_interval`` counts A2C's
    optimizer steps (one per rollout).

    The IN-RIL arguments are those of :class:`sb3_inril.common.inril.InRILMixin`; every other
    argument is A2C's (https://stable-baselines3.readthedocs.io/en/master/modules/a2c.html).

    :param policy: the policy model to use (MlpPolicy, CnnPolicy, MultiInputPolicy, ...)
    :param env: the environment to learn from (if registered in Gym, can be str)
    """

    # The parent's aliases plus the residual one (the actor-critic residual policy serves A2C as it serves PPO).
    policy_aliases: ClassVar[dict[str, type[BasePolicy]]] = {
        **A2C.policy_aliases,
        "ResidualMlpPolicy": ResidualMlpPolicy,
        "DiffusionPolicy": DiffusionPolicy,
        "MultiInputDiffusionPolicy": MultiInputDiffusionPolicy,
        "ResidualDiffusionPolicy": ResidualDiffusionPolicy,
        "MultiInputResidualDiffusionPolicy": MultiInputResidualDiffusionPolicy,
    }

    def learn(
        self: SelfInRILA2C,
        total_timesteps: int,
        callback: MaybeCallback = None,
        log_interval: int = 100,
        tb_log_name: str = "InRILA2C",
        reset_num_timesteps: bool = True,
        progress_bar: bool = False,
    ) -> SelfInRILA2C:
        return super().learn(
            total_timesteps=total_timesteps,
            callback=callback,
            log_interval=log_interval,
            tb_log_name=tb_log_name,
            reset_num_timesteps=reset_num_timesteps,
            progress_bar=progress_bar,
        )
