from sb3_inril.common.chunking import ActionChunkWrapper, chunk_demonstrations
from sb3_inril.common.demo_buffer import DemonstrationBuffer
from sb3_inril.common.demonstrations import Demonstrations, as_demonstrations, validate_demonstrations
from sb3_inril.common.inril import InRILMixin

__all__ = [
    "ActionChunkWrapper",
    "DemonstrationBuffer",
    "Demonstrations",
    "InRILMixin",
    "as_demonstrations",
    "chunk_demonstrations",
    "validate_demonstrations",
]
