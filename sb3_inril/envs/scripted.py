"""Scripted experts for robomimic's Lift, PickPlaceCan and NutAssemblySquare, and a writer of robomimic HDF5 files.

The experts drive the end effector with robosuite's delta OSC_POSE controller. Lift and
PickPlaceCan (:class:`ScriptedPickPolicy`: position only, orientation held): move above the
object, descend, close the gripper, then lift (Lift) or carry the object over its bin and release
it (PickPlaceCan). NutAssemblySquare (:class:`ScriptedSquarePolicy`: position and yaw, from the
nut's pose in the simulator): turn the fingers across the nut's handle, grasp it, lift, turn the
nut's square hole to the peg, carry the nut's centre over the peg and lower it down the peg.
Gaussian noise on the commanded motion makes the demonstrations diverse (and the expert
imperfect, like a human teleoperator).

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

SCRIPTED_TASKS = ("Lift", "PickPlaceCan", "NutAssemblySquare")
#: The tasks of :class:`ScriptedPickPolicy` (NutAssemblySquare has :class:`ScriptedSquarePolicy`).
PICK_TASKS = ("Lift", "PickPlaceCan")
#: Where the gripper holds the square nut's handle, from the nut's centre along its x axis. The
#: handle sticks out of the ring from 0.044 m to 0.079 m (robosuite's ``handle_site`` is at 0.054 m):
#: its middle leaves the fingers 1.7 cm either way before they land on the ring or miss the end.
HANDLE_OFFSET = 0.062
#: Height of the square nut's centre lying on the table (0.82 m) or around the peg's foot.
NUT_REST_HEIGHT = 0.83
#: How far the Panda's grip site turns about z from robosuite's starting pose (yaw pi / 2) before
#: its last joint stops (measured: -1.85 rad, more than +3 rad), with a margin.
WRIST_TURN_LIMITS = (-1.6, 2.5)
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
        if env.task not in PICK_TASKS:
            raise ValueError(
                f"task: no scripted expert for {env.task!r} in ScriptedPickPolicy, expected one of {PICK_TASKS}"
                " (NutAssemblySquare: ScriptedSquarePolicy)"
            )
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


def wrap_angle(angle: float, period: float = 2 * np.pi) -> float:
    """
    An angle modulo ``period``, in ``[-period / 2, period / 2)``.

    :param angle: in radians
    :param period: the symmetry's period (``pi`` for a two-finger gripper, ``pi / 2`` for a square)
    :return: the equivalent angle nearest zero
    """
    return float((angle + period / 2) % period - period / 2)


def yaw_of_quat(quat_xyzw: np.ndarray) -> float:
    """
    The heading of a frame's x axis in the horizontal plane (its yaw, for a rotation about z).

    :param quat_xyzw: a quaternion in robosuite's ``(x, y, z, w)`` order
    :return: the yaw in radians, in ``[-pi, pi]``
    """
    x, y, z, w = (float(value) for value in quat_xyzw)
    return float(np.arctan2(2.0 * (w * z + x * y), 1.0 - 2.0 * (y * y + z * z)))


def grasp_yaw_correction(nut_yaw: float, gripper_yaw: float) -> float:
    """
    The smallest rotation about z that turns the gripper's fingers across the square nut's handle.

    The handle sticks out along the nut's x axis; the fingers close along the gripper's x axis
    (robosuite's grip site, the frame OSC_POSE controls), which must therefore lie along the nut's
    y axis. The gripper is the same turned by 180 degrees, so either direction of that axis does.

    :param nut_yaw: the nut's yaw (the heading of its x axis, towards the handle)
    :param gripper_yaw: the gripper's yaw (the heading of the grip site's x axis, the fingers' axis)
    :return: the correction in radians, in ``[-pi / 2, pi / 2)``
    """
    return wrap_angle(nut_yaw + np.pi / 2 - gripper_yaw, np.pi)


def peg_yaw_correction(nut_yaw: float, peg_yaw: float = 0.0) -> float:
    """
    The smallest rotation about z that lines the nut's square hole up with the square peg.

    :param nut_yaw: the nut's yaw
    :param peg_yaw: the peg's yaw (robosuite's square peg is not rotated)
    :return: the correction in radians, in ``[-pi / 4, pi / 4)`` (a square is the same every 90 degrees)
    """
    return wrap_angle(peg_yaw - nut_yaw, np.pi / 2)


def choose_peg_correction(nut_yaw: float, gripper_turn: float, turn_limits: tuple[float, float] = WRIST_TURN_LIMITS) -> float:
    """
    The rotation about z that squares the held nut to the peg, within the arm's reach.

    Of the four that square it (:func:`peg_yaw_correction`, plus multiples of 90 degrees), the
    smallest whose handle (where the gripper holds the nut) does not point away from the robot
    (+x: the gripper would have to reach 5 cm beyond the peg, past the Panda's reach pointing down),
    and which keeps the gripper's total turn since the episode started within the wrist's range.

    :param nut_yaw: the nut's yaw (the heading of its handle)
    :param gripper_turn: how far the gripper has turned about z since the episode started
    :param turn_limits: the gripper's reachable turn about z from its starting pose, radians
    :return: the correction in radians (the smallest one if none is within the limits)
    """
    smallest = peg_yaw_correction(nut_yaw)
    for correction in sorted((smallest + k * np.pi / 2 for k in (-2, -1, 0, 1, 2)), key=abs):
        if np.cos(nut_yaw + correction) < 0.5 and turn_limits[0] <= gripper_turn + correction <= turn_limits[1]:
            return float(correction)
    return smallest


def nut_centre_target(peg_pos: np.ndarray, nut_to_gripper: np.ndarray, nut_height: float) -> np.ndarray:
    """
    Where the end effector goes to hold the nut's centre (not the gripper) over the peg.

    :param peg_pos: the peg's position (its x, y are used)
    :param nut_to_gripper: the gripper's position minus the nut's centre, as held
    :param nut_height: the height to hold the nut's centre at
    :return: the end effector's target position
    """
    return np.array([peg_pos[0], peg_pos[1], nut_height], dtype=np.float64) + np.asarray(nut_to_gripper, dtype=np.float64)


def _quat_xyzw_to_matrix(quat_xyzw: np.ndarray) -> np.ndarray:
    x, y, z, w = np.asarray(quat_xyzw, dtype=np.float64) / np.linalg.norm(quat_xyzw)
    return np.array(
        [
            [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
            [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
            [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)],
        ]
    )


def _rotation_vector(matrix: np.ndarray) -> np.ndarray:
    """The axis-angle vector of a rotation matrix (angle below pi: the small corrections asked here)."""
    cos = np.clip((np.trace(matrix) - 1.0) / 2.0, -1.0, 1.0)
    angle = np.arccos(cos)
    axis = np.array([matrix[2, 1] - matrix[1, 2], matrix[0, 2] - matrix[2, 0], matrix[1, 0] - matrix[0, 1]])
    if angle < 1e-6:
        return axis / 2.0
    return axis * angle / (2.0 * np.sin(angle))


def _down_with_yaw(yaw: float) -> np.ndarray:
    """The grip site pointing straight down (its z axis to -z), its x axis (the fingers') at ``yaw``."""
    cos, sin = np.cos(yaw), np.sin(yaw)
    return np.array([[cos, sin, 0.0], [sin, -cos, 0.0], [0.0, 0.0, -1.0]])


class ScriptedSquarePolicy:
    """
    A waypoint controller for NutAssemblySquare, on robosuite's raw observation dict.

    It reads the nut's pose (privileged simulator state) and drives the end effector's position
    and orientation with the delta OSC_POSE controller (rotations: axis-angle in the action's dims
    3:6, in the robot base's frame, which is the world's here): above the nut's handle with the
    fingers across it, down, close, up, turn the nut square to the peg (its handle not away from
    the robot, see :func:`choose_peg_correction`), move the nut's centre over the peg, down onto it,
    open. A nut left behind or dropped is grasped again. The episode usually ends (success) on the
    way down the peg, still holding the nut: the gripper, at the handle, is far enough from its centre.

    :param env: the robomimic env (its robosuite env gives the square peg's position)
    :param noise_std: standard deviation of the Gaussian noise added to the motion command
        (position and rotation)
    :param seed: seed of the noise
    :param gain: position command per metre of error (1 moves the target by 5 cm)
    :param rotation_gain: rotation command per radian of error (1 turns the target by 0.5 rad,
        so 2 asks for the whole error at once)
    :param carry_height: height of the nut's centre while it is carried over the peg (the peg's top
        is at 0.95 m, the nut 2 cm thick)
    """

    #: Phases, in order (printed by :attr:`phase_name` when debugging).
    PHASES = ("above handle", "down", "grasp", "lift and turn", "over peg", "onto peg", "release")

    def __init__(
        self,
        env: RobomimicEnv,
        noise_std: float = 0.0,
        seed: int | None = None,
        gain: float = 20.0,
        rotation_gain: float = 2.0,
        carry_height: float = 1.05,
    ) -> None:
        if env.task != "NutAssemblySquare":
            raise ValueError(f"task: ScriptedSquarePolicy is for 'NutAssemblySquare', found {env.task!r}")
        if noise_std < 0:
            raise ValueError(f"noise_std: expected >= 0, found {noise_std}")
        self.env, self.noise_std, self.gain, self.rotation_gain = env, noise_std, gain, rotation_gain
        self.carry_height = carry_height
        self.rng = np.random.default_rng(seed)
        robosuite_env = env.env
        self.peg_pos = np.array(robosuite_env.sim.data.body_xpos[robosuite_env.peg1_body_id])  # the square peg (fixed)
        self.reset()

    @property
    def phase_name(self) -> str:
        """The current phase, in words."""
        return self.PHASES[min(self.phase, len(self.PHASES) - 1)]

    def reset(self) -> None:
        """Start a new episode (phase 0: above the handle)."""
        self.phase, self.phase_steps = 0, 0
        #: The gripper's yaw at the episode's start (the wrist's range is measured from it).
        self.start_yaw: float | None = None
        #: The nut's yaw that squares it to the peg (chosen once it is held).
        self.nut_goal_yaw: float | None = None
        #: Where the gripper lifts the nut (straight up from the grasp).
        self.lift_xy = np.zeros(2)

    def _next_phase(self) -> None:
        self.phase, self.phase_steps = self.phase + 1, 0

    def _grasp_phase(
        self, eef: np.ndarray, eef_yaw: float, nut_yaw: float, handle: np.ndarray
    ) -> tuple[np.ndarray, float, float]:
        """Phases 0-2: the target position, yaw and gripper command on the way to the handle."""
        yaw = eef_yaw + grasp_yaw_correction(nut_yaw, eef_yaw)
        if self.phase == 0:  # above the handle, fingers across it
            target = handle + np.array([0.0, 0.0, 0.08])
            if np.linalg.norm((target - eef)[:2]) < 0.006 and abs(target[2] - eef[2]) < 0.02 and abs(yaw - eef_yaw) < 0.05:
                self._next_phase()
            return target, yaw, -1.0
        if self.phase == 1:  # down to it
            # Down only while over it (the noise pushes the gripper off): fingers landing on the
            # ring rather than around the handle do not hold the nut.
            target = handle if np.linalg.norm((handle - eef)[:2]) < 0.006 else np.array([handle[0], handle[1], eef[2]])
            # The fingertips reach the table about 1 cm above the handle's mid-height.
            if eef[2] - handle[2] < 0.012 or self.phase_steps > 40:
                self._next_phase()
            return target, yaw, -1.0
        # Grasp: hold still (the yaw as it is) while the fingers close.
        if self.phase_steps > 10:
            self._next_phase()
        return handle, eef_yaw, 1.0

    def _place_phase(
        self, eef: np.ndarray, eef_yaw: float, nut: np.ndarray, nut_yaw: float
    ) -> tuple[np.ndarray, float, float]:
        """Phases 3-6: the target position, yaw and gripper command with the nut held, then released."""
        if self.phase == 3:  # up over the peg's top, turning the nut's hole square to the peg
            if self.nut_goal_yaw is None:
                assert self.start_yaw is not None
                turn = wrap_angle(eef_yaw - self.start_yaw)  # within [-pi / 2, pi / 2] after the grasp
                self.nut_goal_yaw = nut_yaw + choose_peg_correction(nut_yaw, turn)
                self.lift_xy = eef[:2].copy()
            yaw = eef_yaw + wrap_angle(self.nut_goal_yaw - nut_yaw)
            # Straight up from where it was grasped: turning drags the hand, and left to drift it
            # comes back towards the base until the elbow is folded to its limit.
            target = np.array([*self.lift_xy, eef[2] + self.carry_height - nut[2]])
            if self.phase_steps > 15 and eef[2] - nut[2] > 0.05:  # the nut stayed behind: grasp it again
                self.phase, self.phase_steps, self.nut_goal_yaw = 0, 0, None
            elif nut[2] > self.carry_height - 0.01 and abs(yaw - eef_yaw) < 0.03:
                self._next_phase()
            return target, yaw, 1.0
        # Square to the peg: the smallest correction, small by now.
        yaw = eef_yaw + peg_yaw_correction(nut_yaw)
        if self.phase in (4, 5) and eef[2] - nut[2] > 0.05:  # dropped on the way: grasp it again
            self.phase, self.phase_steps, self.nut_goal_yaw = 0, 0, None
            return eef + np.array([0.0, 0.0, 0.05]), eef_yaw, -1.0
        if self.phase == 4:  # the nut's centre (not the gripper) over the peg
            # eef - nut: the nut-to-gripper offset as held now (measured at every step, so that it
            # follows the nut if it slips or swings in the fingers).
            target = nut_centre_target(self.peg_pos, eef - nut, self.carry_height)
            if np.linalg.norm((self.peg_pos - nut)[:2]) < 0.004:
                self._next_phase()
            return target, yaw, 1.0
        if self.phase == 5:  # down onto the peg
            target = nut_centre_target(self.peg_pos, eef - nut, NUT_REST_HEIGHT)
            if nut[2] < NUT_REST_HEIGHT + 0.02 or self.phase_steps > 80:
                self._next_phase()
            return target, yaw, 1.0
        # Release, then back up off the nut (the episode usually ends on success before this: the
        # nut is down the peg and the gripper, at its handle, is far enough from its centre).
        return eef + np.array([0.0, 0.0, 0.05 if self.phase_steps > 5 else 0.0]), eef_yaw, -1.0

    def __call__(self, raw: dict[str, np.ndarray]) -> np.ndarray:
        """
        The action for robosuite's raw observation.

        :param raw: robosuite's observation dict (``RobomimicEnv._last_raw``)
        :return: the OSC_POSE action: position and rotation deltas in [-1, 1], then the gripper (1: close)
        """
        eef = np.asarray(raw["robot0_eef_pos"], dtype=np.float64)
        # The controlled frame is the grip site (robot0_eef_quat is its parent body's, turned).
        eef_rotation = _quat_xyzw_to_matrix(raw["robot0_eef_quat_site"])
        eef_yaw = float(np.arctan2(eef_rotation[1, 0], eef_rotation[0, 0]))
        nut = np.asarray(raw["SquareNut_pos"], dtype=np.float64)
        nut_yaw = yaw_of_quat(raw["SquareNut_quat"])
        if self.start_yaw is None:
            self.start_yaw = eef_yaw
        self.phase_steps += 1
        if self.phase <= 2:
            handle = nut + HANDLE_OFFSET * np.array([np.cos(nut_yaw), np.sin(nut_yaw), 0.0])
            target, yaw, close = self._grasp_phase(eef, eef_yaw, nut_yaw, handle)
        else:
            target, yaw, close = self._place_phase(eef, eef_yaw, nut, nut_yaw)
        motion = np.zeros(6)
        motion[:3] = self.gain * (target - eef)
        # Down, turned to the yaw asked: the error as an axis-angle vector in the world frame
        # (also undoes any roll or pitch the arm has drifted into).
        motion[3:] = self.rotation_gain * _rotation_vector(_down_with_yaw(yaw) @ eef_rotation.T)
        motion = np.clip(motion, -1.0, 1.0)
        if self.noise_std > 0:
            motion = np.clip(motion + self.rng.normal(0.0, self.noise_std, 6), -1.0, 1.0)
        action = np.zeros(self.env.action_space.shape or (), dtype=np.float32)
        action[:6], action[-1] = motion, close
        return action


def make_scripted_policy(
    env: RobomimicEnv, noise_std: float = 0.0, seed: int | None = None
) -> ScriptedPickPolicy | ScriptedSquarePolicy:
    """
    The scripted expert of the env's task.

    :param env: a robomimic env of one of :data:`SCRIPTED_TASKS`
    :param noise_std: noise on the expert's motion command
    :param seed: seed of the noise
    :return: the expert, called on robosuite's raw observation dict
    """
    if env.task == "NutAssemblySquare":
        return ScriptedSquarePolicy(env, noise_std=noise_std, seed=seed)
    if env.task not in SCRIPTED_TASKS:
        raise ValueError(f"task: no scripted expert for {env.task!r}, expected one of {SCRIPTED_TASKS}")
    return ScriptedPickPolicy(env, noise_std=noise_std, seed=seed)


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

    :param task: one of :data:`SCRIPTED_TASKS`
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
    policy = make_scripted_policy(env, noise_std=noise_std, seed=seed)
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
