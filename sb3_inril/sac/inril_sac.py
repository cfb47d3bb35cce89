from typing import ClassVar, TypeVar

from stable_baselines3 import SAC
from stable_baselines3.common.policies import BasePolicy
from stable_baselines3.common.type_aliases import MaybeCallback

from sb3_inril.common.off_policy import InRILOffPolicyMixin
from sb3_inril.sac.policies import ResidualMlpPolicy

SelfInRILSAC = TypeVar("SelfInRILSAC", bound="InRILSAC")


class InRILSAC(InRILOffPolicyMixin, SAC):  # type: ignore[misc]  # the mixin types `policy` as the family's policy, the parent as its own
    """
    Soft Actor-Critic with interleaved imitation learning (IN-RIL).

    ``il_interval`` counts optimizer steps of the actor, so ``learning_starts``, ``train_freq`` and
    ``gradient_steps`` are respected as they are: no actor step, no count. IL steps update only
    the actor; the critics' own layers, their target networks and the entropy coefficient are never
    touched. A features extractor shared with the critics (``share_features_extractor=True``) is
    trained by the actor's optimizer in SAC, so IL moves it too unless ``il_trains_shared_features=False``.
    The NLL is that of the tanh-squashed Gaussian, with demo actions kept ``il_squash_margin`` away
    from the bounds in the squashed space. ``critic_warmup_steps`` freezes the actor and the
    entropy coefficient for the first gradient steps of fine-tuning.

    The IN-RIL arguments are those of :class:`sb3_inril.common.inril.InRILMixin`; every other
    argument is SAC's (https://stable-baselines3.readthedocs.io/en/master/modules/sac.html).

    :param policy: the policy model to use (MlpPolicy, CnnPolicy, MultiInputPolicy, ...)
    :param env: the environment to learn from (if registered in Gym, can be str)
    """

    # The parent's aliases (MlpPolicy, CnnPolicy, MultiInputPolicy) plus the residual one.
    policy_aliases: ClassVar[dict[str, type[BasePolicy]]] = {**SAC.policy_aliases, "ResidualMlpPolicy": ResidualMlpPolicy}

    def learn(
        self: SelfInRILSAC,
        total_timesteps: int,
        callback: MaybeCallback = None,
        log_interval: int = 4,
        tb_log_name: str = "InRILSAC",
        reset_num_timesteps: bool = True,
        progress_bar: bool = False,
    ) -> SelfInRILSAC:
        return super().learn(
            total_timesteps=total_timesteps,
            callback=callback,
            log_interval=log_interval,
            tb_log_name=tb_log_name,
            reset_num_timesteps=reset_num_timesteps,
            progress_bar=progress_bar,
        )
