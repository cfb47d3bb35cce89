"""Checks of hyperparameters: a ``TypeError`` or ``ValueError`` that names the argument, raised in
our code before anything is built or trained."""

import math
from typing import Any

import numpy as np


def check_positive_int(name: str, value: Any, allow_none: bool) -> None:
    """A positive int (or None when ``allow_none``)."""
    if value is None and allow_none:
        return
    expected = "a positive int or None" if allow_none else "a positive int"
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name}: expected {expected}, found {type(value).__name__} {value!r}")
    if value < 1:
        raise ValueError(f"{name}: expected {expected}, found {value!r}")


def check_non_negative_int(name: str, value: Any) -> int:
    """An int >= 0."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name}: expected an int >= 0, found {type(value).__name__} {value!r}")
    if value < 0:
        raise ValueError(f"{name}: expected an int >= 0, found {value!r}")
    return int(value)


def check_float(
    name: str, value: Any, low: float, high: float = math.inf, low_open: bool = False, high_open: bool = False
) -> float:
    """A finite real number in a range."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name}: expected a number, found {type(value).__name__} {value!r}")
    value = float(value)
    above = value > low if low_open else value >= low
    below = value < high if high_open else value <= high
    if not (math.isfinite(value) and above and below):
        interval = f"{'(' if low_open else '['}{low}, {high}{')' if high_open or high == math.inf else ']'}"
        raise ValueError(f"{name}: expected a finite value in {interval}, found {value!r}")
    return value


def check_bool(name: str, value: Any) -> bool:
    """A bool (numpy's included)."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name}: expected a bool, found {type(value).__name__} {value!r}")
    return bool(value)


def check_rate(name: str, value: Any) -> None:
    """A learning rate: a positive finite number or a schedule (a callable), or None."""
    if value is None or callable(value):
        return
    check_float(name, value, 0.0, low_open=True)


def check_choice(name: str, value: Any, choices: tuple[Any, ...]) -> None:
    """One of ``choices``."""
    if value not in choices:
        raise ValueError(f"{name}: expected one of {choices}, found {value!r}")


def check_optional_dict(name: str, value: Any) -> None:
    """A dict or None."""
    if value is not None and not isinstance(value, dict):
        raise TypeError(f"{name}: expected a dict or None, found {type(value).__name__}")
