"""Deprecated: renamed :mod:`sb3_inril.common.behavior_cloning` (SB3's and imitation's spelling; this path goes in the next release)."""

from typing import Any

from sb3_inril.common.deprecation import moved_module_getattr

__getattr__: Any = moved_module_getattr(__name__, "sb3_inril.common.behavior_cloning")
