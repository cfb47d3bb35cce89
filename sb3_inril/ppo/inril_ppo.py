from typing import ClassVar, TypeVar

from stable_baselines3 import PPO
from stable_baselines3.common.policies import BasePolicy
from stable_baselines3.common.type_aliases import MaybeCallback

from sb3_inril.common.diffusion.policies import DiffusionPolicy, MultiInputDiffusionPolicy
from sb3_inril.common.diffusion.residual import MultiInputResidualDiffusionPolicy, ResidualDiffusionPolicy
from sb3_inril.common.on_policy import InRILOnPolicyMixin
from sb3_inril.ppo.policies import ResidualMlpPolicy

SelfInRILPPO = TypeVar("SelfInRILPPO", bound="InRILPPO")


class InRILPPO(InRILOnPolicyMixin, PPO):  # type: ignore[misc]  # the mixin types `policy` as the family's policy, the parent as its own
    """
    Proximal Policy Optimization with interleaved imitation learning (IN-RIL).

    After every ``il_interval`` optimizer steps of PPO's own update (counted across ``train()``
    calls), ``il_steps`` behaviour-cloning steps are taken on demonstration minibatches with a
    separate optimizer. Only the actor (features extractor of the policy, policy network, action
    head, ``log_std``) receives IL gradients; the value network never does. The features extractor
    is shared with the value function by default: IL trains it unless ``il_trains_shared_features=False``.
    With ``il_interval=None`` this is plain PPO, step for step. Paper: https://arxiv.org/abs/2505.10442

    The IN-RIL arguments are those of :class:`sb3_inril.common.inril.InRILMixin`; every other
    argument is PPO's (https://stable-baselines3.readthedocs.io/en/master/modules/ppo.html).

    :param policy: the policy model to use (MlpPolicy, CnnPolicy, MultiInputPolicy, ...)
    :param env: the environment to learn from (if registered in Gym, can be str)
    """

    # The parent's aliases (MlpPolicy, CnnPolicy, MultiInputPolicy) plus the residual one.
    policy_aliases: ClassVar[dict[str, type[BasePolicy]]] = {
        **PPO.policy_aliases,
        "ResidualMlpPolicy": ResidualMlpPolicy,
        "DiffusionPolicy": DiffusionPolicy,
        "MultiInputDiffusionPolicy": MultiInputDiffusionPolicy,
        "ResidualDiffusionPolicy": ResidualDiffusionPolicy,
        "MultiInputResidualDiffusionPolicy": MultiInputResidualDiffusionPolicy,
    }

    def learn(
        self: SelfInRILPPO,
        total_timesteps: int,
        callback: MaybeCallback = None,
        log_interval: int = 1,
        tb_log_name: str = "InRILPPO",
        reset_num_timesteps: bool = True,
        progress_bar: bool = False,
    ) -> SelfInRILPPO:
        return super().learn(
            total_timesteps=total_timesteps,
            callback=callback,
            log_interval=log_interval,
            tb_log_name=tb_log_name,
            reset_num_timesteps=reset_num_timesteps,
            progress_bar=progress_bar,
        )
