from typing import ClassVar

from stable_baselines3 import PPO
from stable_baselines3.common.policies import ActorCriticPolicy, BasePolicy

from sb3_inril.common.inril import InRILMixin
from sb3_inril.ppo.policies import ResidualMlpPolicy


class InRILPPO(InRILMixin, PPO):
    """
    Proximal Policy Optimization with interleaved imitation learning (IN-RIL).

    After every ``il_interval`` optimizer steps of PPO's own update (counted across ``train()``
    calls), ``il_steps`` behaviour-cloning steps are taken on demonstration minibatches with a
    separate optimizer. Only the actor (features extractor of the policy, policy network, action
    head, ``log_std``) receives IL gradients; the value network never does. The features extractor
    is shared with the value function by default: IL trains it unless ``il_trains_shared_features=False``. With
    ``il_interval=None`` this is plain PPO, step for step.

    Paper: https://arxiv.org/abs/2505.10442. The IN-RIL arguments are those of
    :class:`sb3_inril.common.inril.InRILMixin` (``demonstrations``, ``il_interval``, ``il_steps``,
    ``il_batch_size``, ``il_learning_rate``, ``il_loss``, ``il_interval_unit``, ``il_max_grad_norm``,
    ``il_share_optimizer``, ``demo_val_fraction``, ``critic_warmup_steps``); every other argument is
    PPO's (https://stable-baselines3.readthedocs.io/en/master/modules/ppo.html).

    :param policy: the policy model to use (MlpPolicy, CnnPolicy, ...)
    :param env: the environment to learn from (if registered in Gym, can be str)
    """

    # The parent's aliases (MlpPolicy, CnnPolicy, MultiInputPolicy, ...) plus the residual one.
    policy_aliases: ClassVar[dict[str, type[BasePolicy]]] = {**PPO.policy_aliases, "ResidualMlpPolicy": ResidualMlpPolicy}
    policy: ActorCriticPolicy
