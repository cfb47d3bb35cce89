from sb3_inril.idql.idql import IDQL, expectile_loss
from sb3_inril.idql.inril_idql import InRILIDQL
from sb3_inril.idql.policies import CnnPolicy, IDQLPolicy, MlpPolicy, MultiInputPolicy

__all__ = ["IDQL", "CnnPolicy", "IDQLPolicy", "InRILIDQL", "MlpPolicy", "MultiInputPolicy", "expectile_loss"]
