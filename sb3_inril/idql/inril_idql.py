from typing import ClassVar, TypeVar

import torch as th
from stable_baselines3.common.policies import BasePolicy
from stable_baselines3.common.type_aliases import MaybeCallback, Schedule

from sb3_inril.common.off_policy import InRILOffPolicyMixin
from sb3_inril.idql.idql import IDQL

SelfInRILIDQL = TypeVar("SelfInRILIDQL", bound="InRILIDQL")


class InRILIDQL(InRILOffPolicyMixin, IDQL):  # type: ignore[misc]  # the mixin types `policy` as the family's policy, the parent as its own
    """
    IDQL with interleaved imitation learning (IN-RIL), the paper's off-policy arm: every
    ``il_interval`` updates of the diffusion actor (its denoising loss on replayed actions),
    ``il_steps`` denoising-loss steps on demonstration minibatches. The critics and the value are
    never touched by IL; gradient surgery projects the denoiser's IL gradient against its RL one.
    ``il_interval=None`` is :class:`sb3_inril.idql.IDQL` bit for bit.

    The IN-RIL arguments are those of :class:`sb3_inril.common.inril.InRILMixin` (``il_loss``:
    ``"denoising"``, the policy's only one; ``critic_warmup_steps`` holds the actor as IDQL's own
    does; ``critic_warmup_learning_rate`` applies to the Q critics and V); every other argument is
    :class:`sb3_inril.idql.IDQL`'s. The IL learning rate defaults to the actor's (``actor_learning_rate``).

    :param policy: the policy model to use (``MlpPolicy``, ``CnnPolicy``, ``MultiInputPolicy``)
    :param env: the environment to learn from (if registered in Gym, can be str)
    """

    policy_aliases: ClassVar[dict[str, type[BasePolicy]]] = dict(IDQL.policy_aliases)
    # The mixin's optimizer hooks hold the actor in the warm-up (and count its steps).
    holds_actor_in_warmup: ClassVar[bool] = False

    @property
    def il_lr_schedule(self) -> Schedule:
        """The IL learning-rate schedule: ``il_learning_rate``'s, or the actor's (``actor_learning_rate``)."""
        if self.il_learning_rate is None:
            return self.actor_lr_schedule
        return super().il_lr_schedule

    def _critic_optimizers(self) -> list[th.optim.Optimizer]:
        return [self.critic.optimizer, self.value_net.optimizer]

    def learn(
        self: SelfInRILIDQL,
        total_timesteps: int,
        callback: MaybeCallback = None,
        log_interval: int = 4,
        tb_log_name: str = "InRILIDQL",
        reset_num_timesteps: bool = True,
        progress_bar: bool = False,
    ) -> SelfInRILIDQL:
        return super().learn(
            total_timesteps=total_timesteps,
            callback=callback,
            log_interval=log_interval,
            tb_log_name=tb_log_name,
            reset_num_timesteps=reset_num_timesteps,
            progress_bar=progress_bar,
        )
