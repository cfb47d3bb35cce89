"""Environments: robomimic's manipulation tasks (robosuite 1.5), registered with gymnasium."""

import gymnasium as gym

from sb3_inril.envs.robomimic import (
    OBJECT_LAYOUTS,
    OBSERVATION_FORMATS,
    ROBOMIMIC_TASKS,
    V141_OBJECT_OBSERVABLES,
    RobomimicEnv,
    make_robomimic_env,
    object_layout_of_env_args,
)


def robomimic_env_id(task: str) -> str:
    """The gymnasium id of a robomimic task, e.g. ``robomimic/Lift-v0``."""
    return f"robomimic/{task}-v0"


def register_robomimic_envs() -> None:
    """
    Register ``robomimic/<Task>-v0`` for every task (robosuite is imported only when one is made).

    ``gym.make``'s keyword arguments go to :class:`RobomimicEnv`, e.g.
    ``gym.make("robomimic/Lift-v0", observation_format="dict", object_layout="v15")``.
    """
    for task in ROBOMIMIC_TASKS:
        if robomimic_env_id(task) not in gym.registry:
            gym.register(robomimic_env_id(task), entry_point="sb3_inril.envs.robomimic:RobomimicEnv", kwargs={"task": task})


__all__ = [
    "OBJECT_LAYOUTS",
    "OBSERVATION_FORMATS",
    "ROBOMIMIC_TASKS",
    "V141_OBJECT_OBSERVABLES",
    "RobomimicEnv",
    "make_robomimic_env",
    "object_layout_of_env_args",
    "register_robomimic_envs",
    "robomimic_env_id",
]
