"""Scripted experts for robomimic's Lift and PickPlaceCan, and a writer of robomimic HDF5 files.

The experts drive the end effector with robosuite's delta OSC_POSE controller (position only,
orientation held): move above the object, descend, close the gripper, then lift (Lift) or carry
the object over its bin and release it (PickPlaceCan). Gaussian noise on the commanded motion
makes the demonstrations diverse (and the expert imperfect, like a human teleoperator).

:func:`collect_robomimic_demos` rolls an expert out and writes robomimic's layout::

    data/                     attrs: total, env_args (JSON), sb3_inril (JSON: how it was made)
    data/demo_<i>/            attrs: num_samples, seed, model_file (MuJoCo XML, with include_model_file)
        obs/<key>, next_obs/<key>, actions, rewards, dones, states
    mask/train, mask/valid    demo names (90% / 10%)
"""

import json
import os
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from sb3_inril.demos.files import atomic_output
from sb3_inril.envs.robomimic import RobomimicEnv

SCRIPTED_TASKS = ("Lift", "PickPlaceCan")
#: The keys a scripted file stores: those of robomimic's low-dimensional datasets.
DATASET_OBS_KEYS = (
    "object",
    "robot0_eef_pos",
    "robot0_eef_quat",
    "robot0_eef_vel_ang",
    "robot0_eef_vel_lin",
    "robot0_gripper_qpos",
    "robot0_gripper_qvel",
    "robot0_joint_pos",
    "robot0_joint_pos_cos",
    "robot0_joint_pos_sin",
    "robot0_joint_vel",
)


class ScriptedPickPolicy:
    """
    A waypoint controller for Lift and PickPlaceCan, on robosuite's raw observation dict.

    :param env: the robomimic env (its robosuite env gives the object's and the bin's positions)
    :param noise_std: standard deviation of the Gaussian noise added to the motion command
    :param seed: seed of the noise
    :param gain: motion command per metre of position error (the command is clipped to [-1, 1],
        and 1 moves the target by 5 cm with robosuite's default OSC_POSE)
    """

    def __init__(self, env: RobomimicEnv, noise_std: float = 0.0, seed: int | None = None, gain: float = 20.0) -> None:
        if env.task not in SCRIPTED_TASKS:
            raise ValueError(f"task: no scripted expert for {env.task!r}, expected one of {SCRIPTED_TASKS}")
        if noise_std < 0:
            raise ValueError(f"noise_std: expected >= 0, found {noise_std}")
        self.env, self.noise_std, self.gain = env, noise_std, gain
        self.rng = np.random.default_rng(seed)
        self.object_key = "cube_pos" if env.task == "Lift" else "Can_pos"
        self.reset()

    def reset(self) -> None:
        """Start a new episode (phase 0: move above the object)."""
        self.phase, self.phase_steps = 0, 0

    def _goal(self) -> np.ndarray:
        robosuite_env = self.env.env
        return np.asarray(robosuite_env.target_bin_placements[robosuite_env.object_to_id["can"]])

    def _next_phase(self) -> None:
        self.phase, self.phase_steps = self.phase + 1, 0

    def __call__(self, raw: dict[str, np.ndarray]) -> np.ndarray:
        eef, obj = raw["robot0_eef_pos"], raw[self.object_key]
        close = -1.0
        self.phase_steps += 1
        if self.phase == 0:  # above the object
            target = obj + np.array([0.0, 0.0, 0.10])
            if np.linalg.norm((target - eef)[:2]) < 0.01 and abs(target[2] - eef[2]) < 0.02:
                self._next_phase()
        elif self.phase == 1:  # down to it
            target = obj + np.array([0.0, 0.0, -0.01])
            if eef[2] - obj[2] < 0.01 or self.phase_steps > 40:
                self._next_phase()
        elif self.phase == 2:  # grasp
            target, close = obj + np.array([0.0, 0.0, -0.01]), 1.0
            if self.phase_steps > 8:
                self._next_phase()
        elif self.phase == 3 and self.env.task == "Lift":  # lift
            target, close = eef + np.array([0.0, 0.0, 0.05]), 1.0
        elif self.phase == 3:  # up, then over the bin
            goal, close = self._goal(), 1.0
            if obj[2] < goal[2] + 0.12:
                target = np.array([obj[0], obj[1], goal[2] + 0.22])
            else:
                target = np.array([goal[0], goal[1], goal[2] + 0.20])
            if np.linalg.norm((goal - obj)[:2]) < 0.02:
                self._next_phase()
        else:  # release
            target = eef
        motion = np.clip(self.gain * (target - eef), -1.0, 1.0)
        if self.noise_std > 0:
            motion = np.clip(motion + self.rng.normal(0.0, self.noise_std, 3), -1.0, 1.0)
        action = np.zeros(self.env.action_space.shape or (), dtype=np.float32)
        action[:3], action[-1] = motion, close
        return action


def collect_robomimic_demos(
    task: str,
    n_demos: int,
    path: str,
    seed: int = 0,
    noise_std: float = 0.05,
    horizon: int | None = None,
    keep_failures: bool = False,
    valid_fraction: float = 0.1,
    max_attempts: int | None = None,
    include_model_file: bool = False,
    command: str | None = None,
    progress: bool = True,
    camera_names: list[str] | tuple[str, ...] = (),
    camera_size: int = 84,
) -> dict[str, Any]:
    """
    Roll the scripted expert out and write ``n_demos`` episodes in robomimic's HDF5 layout.

    :param task: ``"Lift"`` or ``"PickPlaceCan"``
    :param n_demos: demonstrations to write
    :param path: the ``.hdf5`` file to write (a ``.json`` with the statistics goes beside it)
    :param seed: robosuite builds the model with it (recorded in ``env_args``), episode ``i`` is
        reset with ``seed + i``, the noise is seeded with it: the same call writes the same file
    :param noise_std: noise on the expert's motion command
    :param horizon: steps per episode (default: robomimic's for the task; the one used is recorded)
    :param keep_failures: also write episodes that did not succeed (by default they are dropped)
    :param valid_fraction: fraction of the demos in ``mask/valid`` (the rest in ``mask/train``)
    :param max_attempts: give up after this many episodes (default ``4 * n_demos``)
    :param include_model_file: store the MuJoCo XML in every demo, as robomimic does for its
        ``reset_to`` playback (40 kB a demo; the XML is the same for every demo of a task and is
        ``RobomimicEnv.from_dataset(path).model_xml()``)
    :param command: the command line to record in the file
    :param progress: show a tqdm bar
    :param camera_names: cameras whose images are also written, as ``<camera>_image`` (``uint8``
        ``(camera_size, camera_size, 3)``, upright, robomimic's layout), e.g. ``["agentview",
        "robot0_eye_in_hand"]``; needs an offscreen renderer (see :func:`~sb3_inril.envs.robomimic.set_default_gl_backend`)
    :param camera_size: height and width of the images
    :return: the statistics (success rate over every attempted episode, lengths, ...)
    """
    import h5py

    if n_demos < 1:
        raise ValueError(f"n_demos: expected >= 1, found {n_demos}")
    if not 0.0 <= valid_fraction < 1.0:
        raise ValueError(f"valid_fraction: expected a value in [0, 1), found {valid_fraction}")
    image_keys = [f"{camera}_image" for camera in camera_names]
    camera_kwargs: dict[str, Any] = {}
    if image_keys:  # the expert reads robosuite's raw observations: the env's own keys do not matter to it
        camera_kwargs = dict(
            obs_keys=[*DATASET_OBS_KEYS[:1], *image_keys],
            observation_format="dict",
            camera_height=camera_size,
            camera_width=camera_size,
        )
    env = RobomimicEnv(task, horizon=horizon, seed=seed, **camera_kwargs)
    policy = ScriptedPickPolicy(env, noise_std=noise_std, seed=seed)
    max_attempts = max_attempts or 4 * n_demos
    episodes: list[tuple[int, str | None, dict[str, list]]] = []
    successes: list[bool] = []
    bar = tqdm(total=n_demos, desc=f"scripted {task}", disable=not progress)
    while len(episodes) < n_demos and len(successes) < max_attempts:
        episode_seed = seed + len(successes)
        env.reset(seed=episode_seed)
        policy.reset()
        raw = env._last_raw
        steps: dict[str, list] = {"obs": [], "next_obs": [], "actions": [], "rewards": [], "states": []}
        model_file = env.model_xml() if include_model_file else None
        success = False
        for _ in range(env.horizon):
            action = policy(raw)
            steps["obs"].append(env.raw_observation(raw))
            steps["states"].append(env.get_state())
            _, reward, terminated, truncated, info = env.step(action)
            raw = env._last_raw
            steps["next_obs"].append(env.raw_observation(raw))
            steps["actions"].append(action.astype(np.float64))
            steps["rewards"].append(reward)
            success = info["is_success"]
            if terminated or truncated:
                break
        successes.append(success)
        if success or keep_failures:
            episodes.append((episode_seed, model_file, steps))
            bar.update(1)
        bar.set_postfix(success_rate=f"{np.mean(successes):.2f}")
    bar.close()
    env_args, env_horizon = env.env_args, env.horizon
    env.close()
    if not episodes:
        raise RuntimeError(f"the scripted expert succeeded in none of {len(successes)} {task} episodes")

    lengths = [len(steps["actions"]) for _, _, steps in episodes]
    stats = {
        "command": command,
        "task": task,
        "seed": seed,
        "noise_std": noise_std,
        "horizon": env_horizon,
        "keep_failures": keep_failures,
        "n_demos": len(episodes),
        "n_attempts": len(successes),
        "success_rate": float(np.mean(successes)),
        "length_mean": float(np.mean(lengths)),
        "length_min": int(np.min(lengths)),
        "length_max": int(np.max(lengths)),
        "n_transitions": int(np.sum(lengths)),
        "obs_keys": [*DATASET_OBS_KEYS, *image_keys],
    }
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    rng = np.random.default_rng(seed)
    names = [f"demo_{index}" for index in range(len(episodes))]
    n_valid = round(valid_fraction * len(names))
    valid = set(rng.permutation(names)[:n_valid].tolist()) if n_valid else set()
    with atomic_output(path) as temporary, h5py.File(temporary, "w") as file:
        data = file.create_group("data")
        for name, (episode_seed, model_file, steps) in zip(names, episodes):
            group = data.create_group(name)
            length = len(steps["actions"])
            for part in ("obs", "next_obs"):
                part_group = group.create_group(part)
                for key in DATASET_OBS_KEYS:
                    # float32 (robomimic's own files hold float64; every reader casts to float32).
                    values = np.stack([step[key] for step in steps[part]]).astype(np.float32)
                    part_group.create_dataset(key, data=values)
                for key in image_keys:  # uint8, as robomimic's image datasets
                    part_group.create_dataset(key, data=np.stack([step[key] for step in steps[part]]).astype(np.uint8))
            group.create_dataset("actions", data=np.stack(steps["actions"]))
            group.create_dataset("rewards", data=np.asarray(steps["rewards"], dtype=np.float64))
            dones = np.zeros(length, dtype=np.int64)
            dones[-1] = 1
            group.create_dataset("dones", data=dones)
            group.create_dataset("states", data=np.stack(steps["states"]))
            group.attrs["num_samples"] = length
            if include_model_file:
                group.attrs["model_file"] = model_file
            group.attrs["seed"] = episode_seed
        data.attrs["total"] = int(np.sum(lengths))
        data.attrs["env_args"] = json.dumps(env_args)
        data.attrs["sb3_inril"] = json.dumps(stats)
        mask = file.create_group("mask")
        mask.create_dataset("train", data=np.array([n for n in names if n not in valid], dtype="S"))
        mask.create_dataset("valid", data=np.array([n for n in names if n in valid], dtype="S"))
    with open(os.path.splitext(path)[0] + ".json", "w") as file:
        json.dump(stats, file, indent=2)
    return stats
