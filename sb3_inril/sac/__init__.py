from sb3_inril.sac.inril_sac import InRILSAC
from sb3_inril.sac.policies import CnnPolicy, MlpPolicy, ResidualMlpPolicy

__all__ = ["CnnPolicy", "InRILSAC", "MlpPolicy", "ResidualMlpPolicy"]
