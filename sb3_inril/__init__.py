import os

from sb3_inril.a2c import InRILA2C
from sb3_inril.demos import (
    DemonstrationBuffer,
    DemonstrationReplayBuffer,
    Demonstrations,
    load_demonstrations,
    save_demonstrations,
)
from sb3_inril.demos import (
    DemoReplayBuffer as DemoReplayBuffer,  # its first name, kept as an alias (not in __all__)
)
from sb3_inril.envs import register_robomimic_envs
from sb3_inril.idql import IDQL, InRILIDQL
from sb3_inril.ppo import InRILPPO
from sb3_inril.sac import InRILSAC
from sb3_inril.td3 import InRILTD3
from sb3_inril.tqc import InRILTQC

with open(os.path.join(os.path.dirname(__file__), "version.txt")) as file_handler:
    __version__ = file_handler.read().strip()

# gym.make("robomimic/Lift-v0") works once sb3_inril is imported (rl_zoo3 included).
register_robomimic_envs()

__all__ = [
    "IDQL",
    "DemonstrationBuffer",
    "DemonstrationReplayBuffer",
    "Demonstrations",
    "InRILA2C",
    "InRILIDQL",
    "InRILPPO",
    "InRILSAC",
    "InRILTD3",
    "InRILTQC",
    "__version__",
    "load_demonstrations",
    "save_demonstrations",
]
