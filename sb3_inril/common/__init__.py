"""The interleaving mechanism shared by every algorithm of the package (demonstration I/O is
:mod:`sb3_inril.demos`)."""

from typing import Any

from sb3_inril.common.deprecation import moved_module_getattr
from sb3_inril.common.inril import InRILMixin
from sb3_inril.common.policy_protocol import ImitationPolicy

__all__ = ["ImitationPolicy", "InRILMixin"]

# Demonstration names this package re-exported before they moved to sb3_inril.demos.
__getattr__: Any = moved_module_getattr(
    __name__,
    "sb3_inril.demos",
    {
        "ActionChunkWrapper",
        "DemonstrationBuffer",
        "Demonstrations",
        "as_demonstrations",
        "chunk_demonstrations",
        "validate_demonstrations",
    },
)
