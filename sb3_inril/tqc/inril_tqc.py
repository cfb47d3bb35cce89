from typing import ClassVar, TypeVar

from sb3_contrib import TQC
from stable_baselines3.common.policies import BasePolicy
from stable_baselines3.common.type_aliases import MaybeCallback

from sb3_inril.common.off_policy import InRILOffPolicyMixin
from sb3_inril.tqc.policies import ResidualMlpPolicy

SelfInRILTQC = TypeVar("SelfInRILTQC", bound="InRILTQC")


class InRILTQC(InRILOffPolicyMixin, TQC):  # type: ignore[misc]  # the mixin types `policy` as the family's policy, the parent as its own
    """
    Truncated Quantile Critics (sb3-contrib) with interleaved imitation learning (IN-RIL): the
    off-policy mechanism of :class:`sb3_inril.sac.InRILSAC`, with no code of its own.

    The IN-RIL arguments are those of :class:`sb3_inril.common.inril.InRILMixin`; every other
    argument is TQC's (https://sb3-contrib.readthedocs.io/en/master/modules/tqc.html).

    :param policy: the policy model to use (MlpPolicy, CnnPolicy, MultiInputPolicy, ...)
    :param env: the environment to learn from (if registered in Gym, can be str)
    """

    # The parent's aliases (MlpPolicy, CnnPolicy, MultiInputPolicy) plus the residual one.
    policy_aliases: ClassVar[dict[str, type[BasePolicy]]] = {**TQC.policy_aliases, "ResidualMlpPolicy": ResidualMlpPolicy}

    def learn(
        self: SelfInRILTQC,
        total_timesteps: int,
        callback: MaybeCallback = None,
        log_interval: int = 4,
        tb_log_name: str = "InRILTQC",
        reset_num_timesteps: bool = True,
        progress_bar: bool = False,
    ) -> SelfInRILTQC:
        return super().learn(
            total_timesteps=total_timesteps,
            callback=callback,
            log_interval=log_interval,
            tb_log_name=tb_log_name,
            reset_num_timesteps=reset_num_timesteps,
            progress_bar=progress_bar,
        )
