from typing import ClassVar, TypeVar

from stable_baselines3 import TD3
from stable_baselines3.common.type_aliases import MaybeCallback

from sb3_inril.common.off_policy import InRILOffPolicyMixin

SelfInRILTD3 = TypeVar("SelfInRILTD3", bound="InRILTD3")


class InRILTD3(InRILOffPolicyMixin, TD3):  # type: ignore[misc]  # the mixin types `policy` as the family's policy, the parent as its own
    """
    Twin Delayed DDPG with interleaved imitation learning (IN-RIL): the off-policy mechanism with a
    deterministic actor, whose IL loss is the squared error of its action (``il_loss="mse"``, the
    default here) in the actor's [-1, 1] action space. ``il_interval`` counts the actor's
    (delayed) optimizer steps.

    The IN-RIL arguments are those of :class:`sb3_inril.common.inril.InRILMixin`; every other
    argument is TD3's (https://stable-baselines3.readthedocs.io/en/master/modules/td3.html).

    :param policy: the policy model to use (MlpPolicy, CnnPolicy, MultiInputPolicy, ...)
    :param env: the environment to learn from (if registered in Gym, can be str)
    """

    #: TD3's actor is deterministic: no distribution for an NLL, so IL is the squared error of its action.
    default_il_loss: ClassVar[str] = "mse"

    def learn(
        self: SelfInRILTD3,
        total_timesteps: int,
        callback: MaybeCallback = None,
        log_interval: int = 4,
        tb_log_name: str = "InRILTD3",
        reset_num_timesteps: bool = True,
        progress_bar: bool = False,
    ) -> SelfInRILTD3:
        return super().learn(
            total_timesteps=total_timesteps,
            callback=callback,
            log_interval=log_interval,
            tb_log_name=tb_log_name,
            reset_num_timesteps=reset_num_timesteps,
            progress_bar=progress_bar,
        )
