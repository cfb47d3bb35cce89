"""Deprecated: moved to :mod:`sb3_inril.validation`, shared by the mechanism and :mod:`sb3_inril.demos` (this path goes in the next release)."""

from typing import Any

from sb3_inril.common.deprecation import moved_module_getattr

__getattr__: Any = moved_module_getattr(__name__, "sb3_inril.validation")
