from typing import ClassVar

from sb3_contrib import TQC
from sb3_contrib.tqc.policies import TQCPolicy
from stable_baselines3.common.policies import BasePolicy

from sb3_inril.common.inril import InRILMixin
from sb3_inril.tqc.policies import ResidualMlpPolicy


class InRILTQC(InRILMixin, TQC):
    """
    Truncated Quantile Critics (sb3-contrib) with interleaved imitation learning (IN-RIL).

    The same mechanism as :class:`sb3_inril.sac.InRILSAC`, with no code of its own. The IN-RIL
    arguments are those of :class:`sb3_inril.common.inril.InRILMixin`; every other argument is
    TQC's (https://sb3-contrib.readthedocs.io/en/master/modules/tqc.html).

    :param policy: the policy model to use (MlpPolicy, CnnPolicy, ...)
    :param env: the environment to learn from (if registered in Gym, can be str)
    """

    # The parent's aliases (MlpPolicy, CnnPolicy, MultiInputPolicy, ...) plus the residual one.
    policy_aliases: ClassVar[dict[str, type[BasePolicy]]] = {**TQC.policy_aliases, "ResidualMlpPolicy": ResidualMlpPolicy}
    policy: TQCPolicy
