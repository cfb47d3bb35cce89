"""Old import paths that keep working for one release, with a ``DeprecationWarning``."""

import importlib
import warnings
from collections.abc import Callable, Collection
from typing import Any


def moved_module_getattr(old: str, new: str, names: Collection[str] | None = None) -> Callable[[str], Any]:
    """
    A module ``__getattr__`` (PEP 562) for names that moved from module ``old`` to module ``new``:
    such a name is read from ``new``, with a ``DeprecationWarning`` naming both paths.

    :param names: the names that moved (None: every name, private ones included)
    """

    def __getattr__(name: str) -> Any:
        if (name.startswith("__") and name.endswith("__")) or (names is not None and name not in names):
            raise AttributeError(f"module {old!r} has no attribute {name!r}")
        warnings.warn(
            f"{old} moved to {new}: import {name} from {new} (the old path goes in the next release)",
            DeprecationWarning,
            stacklevel=2,
        )
        return getattr(importlib.import_module(new), name)

    return __getattr__
