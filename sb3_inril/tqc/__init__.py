from sb3_inril.tqc.inril_tqc import InRILTQC
from sb3_inril.tqc.policies import CnnPolicy, MlpPolicy, ResidualMlpPolicy

__all__ = ["CnnPolicy", "InRILTQC", "MlpPolicy", "ResidualMlpPolicy"]
