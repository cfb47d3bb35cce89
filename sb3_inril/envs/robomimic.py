"""Robomimic's manipulation tasks as gymnasium envs, built with robosuite 1.5 directly.

robomimic's own ``EnvRobosuite`` needs ``mujoco_py``; this module needs only ``robosuite`` (and
``mujoco==3.9.0``, the newest version robosuite 1.5.2 runs with). An env is made from a task name
(``RobomimicEnv("Lift")``, ``gym.make("robomimic/Lift-v0")``) or from the ``env_args`` stored in a
robomimic HDF5 file (``RobomimicEnv.from_dataset(path)``), old robosuite 1.2-1.4 controller
configurations included.

Observations are the observation keys, in the order given: concatenated into one vector
(``observation_format="flat"``, the default) or a ``spaces.Dict`` of one vector per key
(``"dict"``). Camera images are keys ``<camera>_image`` (robomimic's names: ``agentview_image``,
``robot0_eye_in_hand_image``), ``uint8`` arrays ``(height, width, 3)``, channel-last and upright as
robomimic's files store them (robosuite 1.5 renders them upside down, its default ``"opengl"``
image convention, and robomimic flips them before writing: so does this env); they need
``observation_format="dict"`` and an offscreen renderer (MuJoCo's ``MUJOCO_GL``: ``egl``, set here
when the user has not set it, works on a CPU-only machine with Mesa's EGL). Key names are robomimic's: robosuite's ``object-state`` is ``object``;
``robot<i>_eef_vel_lin`` / ``robot<i>_eef_vel_ang`` (in robomimic's datasets, gone from robosuite
1.5's observations) are computed from the end-effector site's velocity. The reward is sparse (1 on
success) by default, ``info["is_success"]`` is set at every step (SB3 logs it as
``rollout/success_rate``), and an episode ends on success (``terminate_on_success``) or is truncated
at ``horizon`` steps.

The ``object`` vector has the layout of robomimic's ``low_dim_v141`` files (robosuite 1.4.1; its
v0.1 files, robosuite 1.2, have the same) by default, ``object_layout="v141"``. robosuite 1.5 builds
``object-state`` differently, with the same size, so a policy trained on those files would read
swapped or negated features from robosuite 1.5's own vector:

- NutAssemblySquare and PickPlaceCan: robosuite 1.5 puts ``<obj>_to_robot0_eef_pos``,
  ``<obj>_to_robot0_eef_quat`` before ``<obj>_pos``, ``<obj>_quat`` (1.4: after), and computes the
  relative pose before the object's pose is sampled, from the cached one: zeros after a reset, the
  previous step's object pose afterwards (1.4: the current pose, at every step);
- TwoArmTransport: robosuite 1.5 puts the two flags ``payload_in_target_bin``,
  ``trash_in_trash_bin`` before the four ``gripper<i>_to_*`` vectors (1.4: after them, last);
- Lift: same order, but robosuite 1.5's ``gripper_to_cube_pos`` is ``cube - eef``, 1.4's
  ``eef - cube``.

The v141 layout is built from the individual observables, named in
:data:`V141_OBJECT_OBSERVABLES`, which robosuite evaluates in robosuite 1.4's order (so the relative
poses are computed from the current object pose, as 1.4 did). ``object_layout="v15"`` keeps robosuite
1.5's ``object-state`` as it is: the layout of robomimic's ``low_dim_v15`` files (robomimic >= 0.4).
:meth:`RobomimicEnv.from_dataset` picks the layout from the file's ``env_args``
(:func:`object_layout_of_env_args`).
"""

import copy
import inspect
import json
import logging
import os
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from sb3_inril.demos.files import to_jsonable
from sb3_inril.demos.formats.base import OBSERVATION_FORMATS
from sb3_inril.demos.loading import check_observation_layout
from sb3_inril.validation import check_positive_int

#: The robomimic tasks, their robots, and robomimic's evaluation horizons.
ROBOMIMIC_TASKS: dict[str, dict[str, Any]] = {
    "Lift": dict(robots=["Panda"], horizon=400),
    "PickPlaceCan": dict(robots=["Panda"], horizon=400),
    "NutAssemblySquare": dict(robots=["Panda"], horizon=400),
    "TwoArmTransport": dict(robots=["Panda", "Panda"], env_configuration="opposed", horizon=700),
}

#: The observation keys robomimic's low-dimensional configurations train on (alphabetical, as
#: the demonstration loader orders a file's keys).
_SINGLE_ARM_KEYS = ["object", "robot0_eef_pos", "robot0_eef_quat", "robot0_gripper_qpos"]
DEFAULT_OBS_KEYS: dict[str, list[str]] = {
    "Lift": _SINGLE_ARM_KEYS,
    "PickPlaceCan": _SINGLE_ARM_KEYS,
    "NutAssemblySquare": _SINGLE_ARM_KEYS,
    "TwoArmTransport": sorted(
        [*_SINGLE_ARM_KEYS, "robot1_eef_pos", "robot1_eef_quat", "robot1_gripper_qpos"],
    ),
}

#: robomimic's ``object`` vector in its v0.1 and v141 files: the object observables in the order
#: robosuite 1.2-1.4 concatenated them into ``object-state`` (their ``_setup_observables``), by
#: robosuite 1.5's names (the same ones).
V141_OBJECT_OBSERVABLES: dict[str, tuple[str, ...]] = {
    "Lift": ("cube_pos", "cube_quat", "gripper_to_cube_pos"),
    "PickPlaceCan": ("Can_pos", "Can_quat", "Can_to_robot0_eef_pos", "Can_to_robot0_eef_quat"),
    "NutAssemblySquare": ("SquareNut_pos", "SquareNut_quat", "SquareNut_to_robot0_eef_pos", "SquareNut_to_robot0_eef_quat"),
    "TwoArmTransport": (
        "payload_pos",
        "payload_quat",
        "trash_pos",
        "trash_quat",
        "lid_handle_pos",
        "lid_handle_quat",
        "target_bin_pos",
        "trash_bin_pos",
        "gripper0_to_payload",
        "gripper0_to_lid_handle",
        "gripper1_to_payload",
        "gripper1_to_trash",
        "payload_in_target_bin",
        "trash_in_trash_bin",
    ),
}
#: Object observables robosuite 1.5 computes with the opposite sign: robosuite 1.2-1.4's Lift had
#: ``gripper_to_cube_pos = eef_pos - cube_pos``, 1.5 has ``cube_pos - eef_pos``.
_V141_NEGATED_OBSERVABLES: dict[str, tuple[str, ...]] = {"Lift": ("gripper_to_cube_pos",)}
#: ``object_layout`` values: robomimic's ``low_dim_v141`` files (robosuite <= 1.4) and ``low_dim_v15`` files.
OBJECT_LAYOUTS = ("v141", "v15")

_RENDERING_OFF = dict(has_renderer=False, has_offscreen_renderer=False, use_camera_obs=False)
#: robomimic's name of a camera's image: ``<camera>_image`` (robosuite 1.5 uses the same names).
IMAGE_SUFFIX = "_image"
#: robomimic's image datasets are rendered at 84 x 84.
DEFAULT_CAMERA_SIZE = 84
_VELOCITY_SUFFIXES = ("_eef_vel_lin", "_eef_vel_ang")


def is_image_key(key: str) -> bool:
    """True for a camera image key (``<camera>_image``, robomimic's and robosuite's name)."""
    return key.endswith(IMAGE_SUFFIX)


def set_default_gl_backend() -> str:
    """
    Select MuJoCo's offscreen renderer for camera observations, unless the user has chosen one.

    ``MUJOCO_GL=egl`` renders without a display; on a machine without a GPU, Mesa's EGL (the
    ``libegl1``, ``libegl-mesa0`` and ``libgl1-mesa-dri`` packages on Debian/Ubuntu) renders on the
    CPU. robosuite 1.5 itself switches to ``egl`` when ``MUJOCO_GL`` is unset (its
    ``MUJOCO_GPU_RENDERING`` macro); setting it here, before robosuite is imported, makes the choice
    visible and keeps it for other MuJoCo renderers in the process. ``MUJOCO_GL=osmesa`` needs
    ``libOSMesa`` (``libosmesa6``) instead.

    :return: the backend in use (``MUJOCO_GL``)
    """
    os.environ.setdefault("MUJOCO_GL", "egl")
    if os.environ["MUJOCO_GL"] == "egl":
        os.environ.setdefault("PYOPENGL_PLATFORM", "egl")  # PyOpenGL must load EGL, not GLX, without a display
    return os.environ["MUJOCO_GL"]


def _require_robosuite() -> Any:
    try:
        import robosuite
    except ImportError as error:  # pragma: no cover - robosuite is part of the normal set-up
        raise ImportError(
            "robomimic tasks need robosuite: pip install mujoco==3.9.0 && pip install --no-deps robosuite==1.5.2 "
            "(see the README for robosuite's other dependencies)"
        ) from error
    logging.getLogger("robosuite_logs").setLevel(logging.WARNING)
    return robosuite


def default_env_args(task: str) -> dict[str, Any]:
    """The ``env_args`` (robomimic's format) of a task with robomimic's low-dimensional settings."""
    if task not in ROBOMIMIC_TASKS:
        raise ValueError(f"task: unknown robomimic task {task!r}, expected one of {sorted(ROBOMIMIC_TASKS)}")
    env_kwargs = {key: value for key, value in ROBOMIMIC_TASKS[task].items() if key != "horizon"}
    env_kwargs.update(control_freq=20, reward_shaping=False, use_object_obs=True, ignore_done=True, **_RENDERING_OFF)
    return {"env_name": task, "type": 1, "env_kwargs": env_kwargs}


def _env_args_dict(env_args: Any) -> dict[str, Any]:
    """``env_args`` (a dict or its JSON) as a dict, checked: a ValueError naming the field otherwise."""
    if isinstance(env_args, (str, bytes)):
        try:
            env_args = json.loads(env_args)
        except ValueError as error:  # json.JSONDecodeError, UnicodeDecodeError
            raise ValueError(
                f"env_args: expected robomimic's env metadata as JSON, found {env_args[:80]!r}: {error}"
            ) from error
    if not isinstance(env_args, dict):
        raise ValueError(f"env_args: expected a dict (robomimic's format), found {env_args!r}")
    env_kwargs = env_args.get("env_kwargs", {})
    if not isinstance(env_kwargs, dict):
        raise ValueError(
            f"env_args: field 'env_kwargs' is {type(env_kwargs).__name__} {env_kwargs!r}, expected a dict of robosuite.make arguments"
        )
    return env_args


def object_layout_of_env_args(env_args: dict[str, Any] | str) -> str:
    """
    The ``object`` layout of a robomimic file, from its ``env_args``.

    Files this package writes record it (``"object_layout"``); robomimic's record the robosuite
    version they were made with (``"env_version"``, 1.5 and later: ``"v15"``); a file with neither
    is taken for an older robomimic file (``"v141"``).

    :param env_args: the dict (or JSON string) stored in ``data.attrs["env_args"]``
    :return: one of :data:`OBJECT_LAYOUTS`
    """
    env_args = _env_args_dict(env_args)
    if env_args.get("object_layout") in OBJECT_LAYOUTS:
        return env_args["object_layout"]
    # robomimic writes env_version beside env_name; older configurations carried it in env_kwargs.
    version = env_args.get("env_version") or env_args.get("env_kwargs", {}).get("env_version")
    try:
        major_minor = tuple(int(part) for part in str(version).split(".")[:2])
    except ValueError:
        return "v141"
    return "v15" if major_minor >= (1, 5) else "v141"


def convert_controller_config(controller_config: dict[str, Any] | None, robot: str) -> dict[str, Any] | None:
    """
    A controller configuration from any robosuite version, in robosuite 1.5's composite format.

    robosuite <= 1.4 (robomimic's datasets) stored one arm controller (``{"type": "OSC_POSE", ...}``);
    1.5 wants ``{"type": "BASIC", "body_parts": {"right": {...}}}``. Renamed fields of robosuite 1.2
    (``damping``, ``control_delta``) are mapped to their 1.5 names.

    :param controller_config: the stored configuration (None: the robot's default)
    :param robot: the robot's name (its default composite configuration is the base)
    :return: the configuration for ``robosuite.make``
    """
    if controller_config is None:
        return None
    from robosuite.controllers.composite.composite_controller_factory import (
        is_part_controller_config,
        refactor_composite_controller_config,
    )

    if not is_part_controller_config(controller_config):
        return controller_config
    part = copy.deepcopy(controller_config)
    renamed = {"damping": "damping_ratio", "damping_limits": "damping_ratio_limits"}
    for old, new in renamed.items():
        if old in part:
            part.setdefault(new, part.pop(old))
    if "control_delta" in part:
        part.setdefault("input_type", "delta" if part.pop("control_delta") else "absolute")
    return refactor_composite_controller_config(part, robot, ["right"])


def robosuite_kwargs_from_env_args(env_args: dict[str, Any] | str) -> tuple[str, dict[str, Any]]:
    """
    The task name and the ``robosuite.make`` keyword arguments of robomimic ``env_args``.

    Rendering is switched off; arguments robosuite 1.5 no longer has are dropped with a warning.

    :param env_args: the dict (or JSON string) stored in ``data.attrs["env_args"]`` of a robomimic file
    :return: ``(task, kwargs)``
    :raises ValueError: naming the field when ``env_args`` is not robomimic's robosuite format
    """
    robosuite = _require_robosuite()
    env_args = _env_args_dict(env_args)
    if "env_name" not in env_args:
        raise ValueError(
            f"env_args: expected a dict with 'env_name' and 'env_kwargs' (robomimic's format), found {env_args!r}"
        )
    if env_args.get("type", 1) != 1:
        raise ValueError(
            f"env_args: field 'type' is {env_args['type']!r}, expected 1 (robosuite); other simulators are not supported"
        )
    task = env_args["env_name"]
    if not isinstance(task, str) or task not in robosuite.environments.base.REGISTERED_ENVS:
        raise ValueError(f"env_args: field 'env_name' is {task!r}, not a robosuite 1.5 environment")
    kwargs = copy.deepcopy(dict(env_args.get("env_kwargs", {})))
    robots = kwargs.get("robots", ROBOMIMIC_TASKS.get(task, {}).get("robots", ["Panda"]))
    robots = [robots] if isinstance(robots, str) else robots
    if not isinstance(robots, (list, tuple)) or not robots or not all(isinstance(robot, str) for robot in robots):
        raise ValueError(f"env_args: field 'env_kwargs.robots' is {robots!r}, expected a robot name or a list of them")
    kwargs["robots"] = list(robots)
    if "controller_configs" in kwargs:
        kwargs["controller_configs"] = convert_controller_config(kwargs["controller_configs"], kwargs["robots"][0])
    kwargs.update(_RENDERING_OFF)
    accepted = _init_arguments(robosuite.environments.base.REGISTERED_ENVS[task])
    dropped = sorted(key for key in kwargs if key not in accepted)
    if dropped:
        logging.getLogger(__name__).warning("env_args: ignoring %s, not arguments of robosuite 1.5's %s", dropped, task)
    return task, {key: value for key, value in kwargs.items() if key in accepted}


def _init_arguments(env_class: type) -> set[str]:
    """The keyword arguments an env class takes, following ``**kwargs`` up its parents."""
    accepted: set[str] = set()
    for klass in env_class.__mro__:
        if "__init__" not in vars(klass):
            continue
        parameters = inspect.signature(vars(klass)["__init__"]).parameters.values()
        accepted.update(p.name for p in parameters if p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL) and p.name != "self")
        if not any(p.kind == p.VAR_KEYWORD for p in parameters):
            break
    return accepted


class RobomimicEnv(gym.Env):
    """
    A robomimic task (robosuite 1.5) as a gymnasium env with low-dimensional and camera observations.

    :param task: a robosuite environment name (``"Lift"``, ``"PickPlaceCan"``, ``"NutAssemblySquare"``,
        ``"TwoArmTransport"``); ignored when ``env_args`` is given
    :param env_args: robomimic ``env_args`` (dict or JSON string) to build the env from instead
    :param obs_keys: the observation keys, in this order (default: robomimic's low-dimensional keys
        for the task, see :data:`DEFAULT_OBS_KEYS`); ``<camera>_image`` keys (``agentview_image``,
        ``robot0_eye_in_hand_image``) switch that camera on
    :param observation_format: ``"flat"``: the keys' values concatenated into one float32 vector;
        ``"dict"``: a ``spaces.Dict`` of one float32 vector per key, in the order of ``obs_keys``
        (camera images: ``uint8`` ``Box(0, 255, (height, width, 3))``; they need ``"dict"``)
    :param reward_type: ``"sparse"`` (1 on success, else 0) or ``"dense"`` (robosuite's shaped reward)
    :param horizon: steps before the episode is truncated (default: robomimic's for the task)
    :param terminate_on_success: end the episode at the first success
    :param seed: robosuite's own seed: the random draws made while building the model (Lift's
        cube size, ...) and the first episodes' placements; recorded in :attr:`env_args`.
        ``reset(seed=...)`` seeds each episode
    :param env_kwargs: more ``robosuite.make`` arguments (override ``env_args``)
    :param object_layout: the ``object`` vector's layout: ``"v141"`` (robomimic's ``low_dim_v141``
        and v0.1 files, robosuite <= 1.4; the tasks of :data:`V141_OBJECT_OBSERVABLES`, other tasks
        keep robosuite 1.5's) or ``"v15"`` (robosuite 1.5's ``object-state``, robomimic's
        ``low_dim_v15`` files); default: ``env_args``'s (:func:`object_layout_of_env_args`), else ``"v141"``
    :param camera_height: height of the camera images (default: ``env_args``'s ``camera_heights``, else 84)
    :param camera_width: width of the camera images (default: ``env_args``'s ``camera_widths``, else 84)
    """

    metadata = {"render_modes": []}

    def __init__(
        self,
        task: str | None = None,
        env_args: dict[str, Any] | str | None = None,
        obs_keys: list[str] | None = None,
        reward_type: str = "sparse",
        horizon: int | None = None,
        terminate_on_success: bool = True,
        seed: int | None = None,
        env_kwargs: dict[str, Any] | None = None,
        observation_format: str = "flat",
        object_layout: str | None = None,
        camera_height: int | None = None,
        camera_width: int | None = None,
    ) -> None:
        image_keys = _image_keys(obs_keys, observation_format)
        robosuite = _require_robosuite()
        if reward_type not in ("sparse", "dense"):
            raise ValueError(f"reward_type: expected 'sparse' or 'dense', found {reward_type!r}")
        if observation_format not in OBSERVATION_FORMATS:
            raise ValueError(f"observation_format: expected one of {OBSERVATION_FORMATS}, found {observation_format!r}")
        if object_layout is not None and object_layout not in OBJECT_LAYOUTS:
            raise ValueError(f"object_layout: expected one of {OBJECT_LAYOUTS}, found {object_layout!r}")
        if env_args is None:
            if task is None:
                raise ValueError("task: expected a robomimic task name or env_args, found neither")
            env_args = default_env_args(task)
        task, kwargs = robosuite_kwargs_from_env_args(env_args)
        if object_layout is None:
            object_layout = object_layout_of_env_args(env_args)
        kwargs.update(env_kwargs or {})
        #: The cameras observed, each as ``<camera>_image`` (robomimic's key).
        self.camera_names = [key[: -len(IMAGE_SUFFIX)] for key in image_keys]
        kwargs.update(self._camera_kwargs(kwargs, camera_height, camera_width))
        if seed is not None:
            kwargs["seed"] = int(seed)
        if horizon is None:
            horizon = ROBOMIMIC_TASKS.get(task, {}).get("horizon", 400)
        check_positive_int("horizon", horizon, allow_none=False)
        self.task = task
        self.horizon = int(horizon)
        self.reward_type = reward_type
        self.terminate_on_success = terminate_on_success
        # robosuite's own horizon is not used for ending episodes (ignore_done); a soft reset
        # (hard_reset=False) keeps the model loaded between episodes, 5-10x faster.
        kwargs.update(reward_shaping=reward_type == "dense", ignore_done=True, hard_reset=False, horizon=self.horizon)
        if kwargs.get("controller_configs") is None:  # recorded in env_args: a file says how it was made
            from robosuite.controllers import load_composite_controller_config

            kwargs["controller_configs"] = load_composite_controller_config(robot=kwargs["robots"][0])
        self.robosuite_kwargs = kwargs
        if image_keys:
            self._check_cameras(robosuite, task, kwargs)
        self.env = robosuite.make(task, **kwargs)
        self.object_layout = object_layout
        #: The observables the ``object`` vector concatenates (None: robosuite's ``object-state``).
        self.object_observables = self._setup_object_layout() if object_layout == "v141" else None
        # The layout is recorded: a file written from this env is read back with it (from_dataset).
        self.env_args = {"env_name": task, "type": 1, "env_kwargs": to_jsonable(kwargs), "object_layout": object_layout}
        self.observation_format = observation_format

        raw = self.env.reset()
        #: Every low-dimensional key this env can observe, with its size (robomimic's names).
        self.available_key_sizes = available = self._available_sizes(raw)
        #: The camera images observed, with their shapes ``(height, width, 3)``.
        self.image_shapes = {key: tuple(np.shape(raw[key])) for key in image_keys}
        self.obs_keys = list(obs_keys) if obs_keys is not None else list(DEFAULT_OBS_KEYS.get(task, _SINGLE_ARM_KEYS))
        unknown = [key for key in self.obs_keys if key not in available and key not in self.image_shapes]
        if unknown or not self.obs_keys:
            raise ValueError(
                f"obs_keys: {unknown or self.obs_keys} not observations of robosuite's {task}; "
                f"available keys and sizes: {available}"
            )
        # Values per step (an image: height * width * 3), as the loader measures a file's keys.
        self.obs_key_sizes = {
            key: int(np.prod(self.image_shapes[key])) if key in self.image_shapes else available[key] for key in self.obs_keys
        }
        if observation_format == "dict":
            # A sequence of pairs keeps the keys in the order given (a dict would be sorted).
            boxes = [
                (key, spaces.Box(0, 255, self.image_shapes[key], np.uint8))
                if key in self.image_shapes
                else (key, spaces.Box(-np.inf, np.inf, (size,), np.float32))
                for key, size in self.obs_key_sizes.items()
            ]
            self.observation_space = spaces.Dict(boxes)
        else:
            size = sum(self.obs_key_sizes.values())
            self.observation_space = spaces.Box(-np.inf, np.inf, (size,), np.float32)
        low, high = self.env.action_spec
        self.action_space = spaces.Box(low.astype(np.float32), high.astype(np.float32), dtype=np.float32)
        self._elapsed_steps = 0

    @classmethod
    def from_dataset(cls, path: str, obs_keys: list[str] | None = None, **kwargs: Any) -> "RobomimicEnv":
        """
        The env a robomimic HDF5 file was recorded in, observing what the loader reads from it.

        :param path: the HDF5 file (its ``data.attrs["env_args"]``)
        :param obs_keys: default: the file's low-dimensional keys in alphabetical order, as
            :func:`~sb3_inril.load_demonstrations` reads them; image keys (``agentview_image``) render
            those cameras at the file's image size (with ``observation_format="dict"``)
        :param kwargs: more :class:`RobomimicEnv` arguments (``object_layout`` defaults to the file's,
            see :func:`object_layout_of_env_args`)
        """
        from sb3_inril.demos.loading import read_robomimic_env_args, robomimic_obs_layout

        file_layout = robomimic_obs_layout(path, include_images=True)
        low_dim = robomimic_obs_layout(path)
        env = cls(env_args=read_robomimic_env_args(path), obs_keys=obs_keys or list(low_dim), **kwargs)
        # Keys the file lacks, or holds with other sizes, are caught now, not at the first IL step.
        demo_layout = {key: file_layout[key] for key in env.obs_keys if key in file_layout}
        check_observation_layout(demo_layout, env.obs_key_sizes, path)
        return env

    def _camera_kwargs(self, kwargs: dict[str, Any], height: int | None, width: int | None) -> dict[str, Any]:
        """robosuite's camera arguments for :attr:`camera_names` (none without cameras)."""
        if not self.camera_names:
            return {}
        #: The images' (height, width): the arguments, else ``env_args``'s, else robomimic's 84 x 84.
        self.camera_size = (
            int(height or _first_size(kwargs.get("camera_heights")) or DEFAULT_CAMERA_SIZE),
            int(width or _first_size(kwargs.get("camera_widths")) or DEFAULT_CAMERA_SIZE),
        )
        return dict(
            has_offscreen_renderer=True,
            use_camera_obs=True,
            camera_names=self.camera_names,
            camera_heights=self.camera_size[0],
            camera_widths=self.camera_size[1],
            camera_depths=False,
        )

    @staticmethod
    def _check_cameras(robosuite: Any, task: str, kwargs: dict[str, Any]) -> None:
        """A named error for a camera the task's model lacks (robosuite fails later, deep in its renderer)."""
        # robosuite's camera list is known only once the model is built: build it without rendering.
        probe = robosuite.make(task, **{**kwargs, **_RENDERING_OFF})
        try:
            cameras = [probe.sim.model.camera_id2name(index) for index in range(probe.sim.model.ncam)]
        finally:
            probe.close()
        unknown = [name for name in kwargs["camera_names"] if name not in cameras]
        if unknown:
            raise ValueError(
                f"obs_keys: {[name + IMAGE_SUFFIX for name in unknown]} name cameras robosuite's {task} does not have; "
                f"its cameras: {[name + IMAGE_SUFFIX for name in cameras]}"
            )

    def _setup_object_layout(self) -> tuple[str, ...] | None:
        """Make robosuite compute the ``object`` observables as robosuite 1.4 did; their names."""
        names = V141_OBJECT_OBSERVABLES.get(self.task)
        observables = self.env._observables
        if names is None or not getattr(self.env, "use_object_obs", True):
            return None
        missing = [name for name in names if name not in observables]
        if missing:
            raise ValueError(
                f"object_layout: robosuite's {self.task} has no observables {missing} for the 'v141' layout "
                f"(its object observables: {[n for n, o in observables.items() if o.modality == 'object']}); "
                "use object_layout='v15'"
            )
        # robosuite updates the observables in this dict's order, each reading those before it from
        # a cache. robosuite 1.5 puts <obj>_to_robot0_eef_pos before <obj>_pos: it reads the pose
        # cached at the previous step (zeros after a reset). In robosuite 1.4's order it reads the
        # current one, as the recorded files did. robosuite offers no call to reorder them.
        order = list(observables)
        first = min(order.index(name) for name in names)
        others = [name for name in order if name not in names]
        self.env._observables = {name: observables[name] for name in [*others[:first], *names, *others[first:]]}
        self._negate_v141_observables()
        return names

    def _negate_v141_observables(self) -> None:
        """The observables whose sign robosuite 1.5 flipped, computed as robosuite 1.4 did (again after a
        model rebuild: robosuite then gives every observable a fresh sensor)."""
        observables = self.env._observables
        for name in _V141_NEGATED_OBSERVABLES.get(self.task, ()):
            self.env.modify_observable(name, "sensor", _negated(observables[name]._sensor))

    def _velocity(self, robot_index: int, suffix: str) -> np.ndarray:
        robot = self.env.robots[robot_index]
        site = self.env.sim.model.site_id2name(robot.eef_site_id["right"])
        data = self.env.sim.data
        return np.asarray(data.get_site_xvelp(site) if suffix == "_eef_vel_lin" else data.get_site_xvelr(site))

    def _available_sizes(self, raw: dict[str, np.ndarray]) -> dict[str, int]:
        sizes = {}
        for key, value in raw.items():
            if np.ndim(value) <= 1:
                sizes["object" if key == "object-state" else key] = int(np.size(value))
        for index in range(len(self.env.robots)):
            for suffix in _VELOCITY_SUFFIXES:
                sizes[f"robot{index}{suffix}"] = 3
        return dict(sorted(sizes.items()))

    def _value(self, raw: dict[str, np.ndarray], key: str) -> np.ndarray:
        if key in self.image_shapes:
            return self._image(raw[key])
        if key == "object":
            if self.object_observables is None:
                return raw["object-state"]
            return np.concatenate([np.ravel(raw[name]) for name in self.object_observables]).astype(np.float64)
        if key.endswith(_VELOCITY_SUFFIXES) and key not in raw:
            suffix = "_eef_vel_lin" if key.endswith("_eef_vel_lin") else "_eef_vel_ang"
            return self._velocity(int(key[len("robot") : -len(suffix)]), suffix)
        return raw[key]

    @staticmethod
    def _image(image: np.ndarray) -> np.ndarray:
        """A camera image upright, as robomimic's files store it (robosuite's default convention
        renders it upside down; robomimic's ``EnvRobosuite`` flips it with ``[::-1]``)."""
        from robosuite import macros

        upside_down = macros.IMAGE_CONVENTION == "opengl"
        return np.ascontiguousarray(image[::-1] if upside_down else image, dtype=np.uint8)

    def flatten(self, raw: dict[str, np.ndarray]) -> np.ndarray:
        """The flat observation of a robosuite observation dict (whatever ``observation_format`` is)."""
        return np.concatenate([np.ravel(self._value(raw, key)) for key in self.obs_keys]).astype(np.float32)

    def observation(self, raw: dict[str, np.ndarray]) -> np.ndarray | dict[str, np.ndarray]:
        """The observation of a robosuite observation dict, in ``observation_format``."""
        if self.observation_format == "flat":
            return self.flatten(raw)
        return {
            key: self._image(raw[key]) if key in self.image_shapes else np.ravel(self._value(raw, key)).astype(np.float32)
            for key in self.obs_keys
        }

    def raw_observation(self, raw: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Every low-dimensional observation under robomimic's key names (what a dataset stores), and
        the observed camera images (``uint8``, upright)."""
        values = {key: np.asarray(self._value(raw, key), dtype=np.float64) for key in self.available_key_sizes}
        return {**values, **{key: self._image(raw[key]) for key in self.image_shapes}}

    def _reseed(self, seed: int) -> None:
        # robosuite draws object placements and joint noise from env.rng and its samplers' rng.
        rng = np.random.default_rng(seed)
        self.env.rng = rng
        samplers = [getattr(self.env, "placement_initializer", None)]
        while samplers:
            sampler = samplers.pop()
            if sampler is None:
                continue
            sampler.rng = rng
            samplers.extend(getattr(sampler, "samplers", {}).values())

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray | dict[str, np.ndarray], dict]:
        super().reset(seed=seed)
        if seed is not None:
            self._reseed(seed)
            # A seeded reset rebuilds the model too: robosuite draws part of an episode's randomness
            # when it builds the model (Lift's cube size), and a soft reset keeps the draw made when
            # this env was built. Without this, two envs reset with the same seed (the evaluation
            # envs of two methods) would differ. Unseeded resets stay soft (5-10x faster).
            self.env.hard_reset = True
            try:
                self._last_raw = self.env.reset()
            finally:
                self.env.hard_reset = False
            if self.object_observables is not None and _V141_NEGATED_OBSERVABLES.get(self.task):
                # The rebuild gave the flipped observables robosuite 1.5's sensors: flip them back and
                # observe again (the v141 order reads this step's poses, so the rest is unchanged).
                self._negate_v141_observables()
                self._last_raw = self.env._get_observations(force_update=True)
            self._elapsed_steps = 0
            return self.observation(self._last_raw), {"is_success": False}
        self._last_raw = self.env.reset()
        self._elapsed_steps = 0
        return self.observation(self._last_raw), {"is_success": False}

    def step(self, action: np.ndarray) -> tuple[np.ndarray | dict[str, np.ndarray], float, bool, bool, dict]:
        raw, reward, _, info = self.env.step(np.asarray(action, dtype=np.float64))
        self._last_raw = raw
        self._elapsed_steps += 1
        success = bool(self.env._check_success())
        if self.reward_type == "sparse":
            reward = float(success)
        info = dict(info, is_success=success)
        terminated = success and self.terminate_on_success
        truncated = self._elapsed_steps >= self.horizon and not terminated
        return self.observation(raw), float(reward), terminated, truncated, info

    def get_state(self) -> np.ndarray:
        """The flattened MuJoCo state (robomimic's ``states`` dataset)."""
        return np.asarray(self.env.sim.get_state().flatten())

    def model_xml(self) -> str:
        """The MuJoCo model (robomimic's ``model_file`` attribute)."""
        return self.env.sim.model.get_xml()

    def close(self) -> None:
        if getattr(self, "env", None) is not None:
            self.env.close()
            self.env = None


def _image_keys(obs_keys: list[str] | None, observation_format: str) -> list[str]:
    """The camera image keys of ``obs_keys``, checked; selects the offscreen renderer when there are any."""
    image_keys = [key for key in obs_keys or () if is_image_key(key)]
    if image_keys and observation_format != "dict":
        raise ValueError(
            f"observation_format: camera images {image_keys} need observation_format='dict' "
            f"(a flat vector can not hold uint8 images), found {observation_format!r}"
        )
    if image_keys:
        set_default_gl_backend()  # before robosuite is imported: it reads MUJOCO_GL then
    return image_keys


def _first_size(value: Any) -> int | None:
    """A camera size of ``env_args`` (one int, or one per camera: the first)."""
    if isinstance(value, (list, tuple)):
        return int(value[0]) if value else None
    return None if value is None else int(value)


def _negated(sensor_fn: Any) -> Any:
    """A robosuite sensor returning the negative of ``sensor_fn``'s value."""
    from robosuite.utils.observables import sensor

    @sensor(modality=sensor_fn.__modality__)
    def negated(obs_cache: dict[str, Any]) -> np.ndarray:
        return -np.asarray(sensor_fn(obs_cache))

    negated.__name__ = sensor_fn.__name__
    return negated


def make_robomimic_env(task_or_dataset: str, **kwargs: Any) -> RobomimicEnv:
    """
    A robomimic env from a task name (``"Lift"``) or from a robomimic HDF5 file's ``env_args``.

    :param task_or_dataset: a key of :data:`ROBOMIMIC_TASKS` (or another robosuite env name), or
        the path of a ``.hdf5``/``.h5`` file (see :meth:`RobomimicEnv.from_dataset`)
    :param kwargs: more :class:`RobomimicEnv` arguments
    """
    if str(task_or_dataset).lower().endswith((".hdf5", ".h5")):
        if not os.path.exists(task_or_dataset):
            raise FileNotFoundError(f"task_or_dataset: robomimic file not found: {task_or_dataset!r}")
        return RobomimicEnv.from_dataset(task_or_dataset, **kwargs)
    return RobomimicEnv(task_or_dataset, **kwargs)
