import os

from sb3_inril.common.demonstrations import DemonstrationBuffer
from sb3_inril.ppo import InRILPPO

with open(os.path.join(os.path.dirname(__file__), "version.txt")) as file_handler:
    __version__ = file_handler.read().strip()

__all__ = ["DemonstrationBuffer", "InRILPPO", "__version__"]
