"""One source of hyperparameters: the rl-zoo files in ``zoo_hyperparams/``.

The quickstart and ``scripts/compare.py`` read their algorithm settings from the same YAML entries
the zoo trains with (``sb3_inril.zoo`` finds the folder the same way), so there is one place to
change them.
"""

import os
from typing import Any

import torch as th
import yaml

from sb3_inril.common.inril import INRIL_ARGUMENTS

# Keys rl_zoo3 consumes itself (not constructor arguments).
ZOO_KEYS = frozenset(
    {
        "n_envs",
        "n_timesteps",
        "normalize",
        "normalize_kwargs",
        "monitor_kwargs",
        "env_kwargs",
        "frame_stack",
        "env_wrapper",
        "vec_env_wrapper",
        "callback",
    }
)
# Keys that configure IN-RIL itself (the rest configure the base algorithm): the constructor's own.
INRIL_KEYS = frozenset({"demonstrations", *INRIL_ARGUMENTS})


def hyperparams_dir() -> str:
    """``zoo_hyperparams/``: inside the installed package (the wheel copies it there), or at the top of
    the repository for an editable install."""
    package_dir = os.path.dirname(os.path.abspath(__file__))
    installed = os.path.join(package_dir, "zoo_hyperparams")
    return installed if os.path.isdir(installed) else os.path.join(os.path.dirname(package_dir), "zoo_hyperparams")


def read_entry(algo: str, env_id: str) -> dict[str, Any]:
    """
    The entry for ``env_id`` of ``zoo_hyperparams/<algo>.yml`` (its ``default:`` entry when it has
    none), with ``policy_kwargs`` strings evaluated as rl_zoo3 evaluates them.

    :raises FileNotFoundError: when there is no file for ``algo``; ``KeyError`` when neither the env
        nor ``default`` has an entry
    """
    path = os.path.join(hyperparams_dir(), f"{algo}.yml")
    with open(path) as file:
        entries = yaml.load(file, Loader=yaml.UnsafeLoader) or {}
    if env_id not in entries and "default" not in entries:
        raise KeyError(f"hyperparameters: {path} has no entry for {env_id!r} and no 'default:' entry")
    entry = dict(entries[env_id] if env_id in entries else entries["default"])
    if isinstance(entry.get("policy_kwargs"), str):
        entry["policy_kwargs"] = eval(entry["policy_kwargs"], {"dict": dict, "nn": th.nn, "th": th})  # as rl_zoo3 does
    return entry


def split_entry(entry: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """
    An entry's base-algorithm arguments (``policy`` excluded), IN-RIL arguments (demonstrations and
    pre-training excluded) and ``pretrain_kwargs``.
    """
    algorithm = {key: value for key, value in entry.items() if key not in ZOO_KEYS | INRIL_KEYS | {"policy"}}
    inril = {key: value for key, value in entry.items() if key in INRIL_KEYS - {"demonstrations", "pretrain_kwargs"}}
    return algorithm, inril, dict(entry.get("pretrain_kwargs") or {})
