from sb3_inril.ppo.inril_ppo import InRILPPO
from sb3_inril.ppo.policies import (
    CnnPolicy,
    MlpPolicy,
    MultiInputResidualDiffusionPolicy,
    ResidualDiffusionPolicy,
    ResidualMlpPolicy,
)

__all__ = [
    "CnnPolicy",
    "InRILPPO",
    "MlpPolicy",
    "MultiInputResidualDiffusionPolicy",
    "ResidualDiffusionPolicy",
    "ResidualMlpPolicy",
]
