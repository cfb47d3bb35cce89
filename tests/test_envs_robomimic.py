import json
import logging
import subprocess
import sys

import gymnasium as gym
import h5py
import numpy as np
import pytest
import robosuite.utils.transform_utils as T
from gymnasium import spaces
from stable_baselines3.common.env_checker import check_env

from sb3_inril import InRILPPO, load_demonstrations
from sb3_inril.data import demonstration_metadata, demonstration_path
from sb3_inril.demos.loading import DemonstrationSpec, check_observation_layout
from sb3_inril.envs import ROBOMIMIC_TASKS, make_robomimic_env, robomimic_env_id
from sb3_inril.envs.robomimic import (
    DEFAULT_OBS_KEYS,
    RobomimicEnv,
    convert_controller_config,
    object_layout_of_env_args,
    robosuite_kwargs_from_env_args,
)
from sb3_inril.envs.scripted import DATASET_OBS_KEYS, ScriptedPickPolicy, collect_robomimic_demos

LIFT_SIZES = {"object": 10, "robot0_eef_pos": 3, "robot0_eef_quat": 4, "robot0_gripper_qpos": 2}
_TRANSPORT_POSES = [
    *("payload_pos", "payload_quat", "trash_pos", "trash_quat", "lid_handle_pos", "lid_handle_quat"),
    *("target_bin_pos", "trash_bin_pos"),
]
_TRANSPORT_RELATIVE = ["gripper0_to_payload", "gripper0_to_lid_handle", "gripper1_to_payload", "gripper1_to_trash"]
_TRANSPORT_FLAGS = ["payload_in_target_bin", "trash_in_trash_bin"]
# The object observables in the order robosuite 1.4.1's _setup_observables concatenated them (the
# layout of robomimic's v141 files), written out here rather than read from the module under test.
V141_ORDER = {
    "Lift": ["cube_pos", "cube_quat", "gripper_to_cube_pos"],
    "PickPlaceCan": ["Can_pos", "Can_quat", "Can_to_robot0_eef_pos", "Can_to_robot0_eef_quat"],
    "NutAssemblySquare": ["SquareNut_pos", "SquareNut_quat", "SquareNut_to_robot0_eef_pos", "SquareNut_to_robot0_eef_quat"],
    "TwoArmTransport": _TRANSPORT_POSES + _TRANSPORT_RELATIVE + _TRANSPORT_FLAGS,
}
# robosuite 1.5.2's order (its object-state).
V15_ORDER = {
    "Lift": V141_ORDER["Lift"],
    "PickPlaceCan": ["Can_to_robot0_eef_pos", "Can_to_robot0_eef_quat", "Can_pos", "Can_quat"],
    "NutAssemblySquare": ["SquareNut_to_robot0_eef_pos", "SquareNut_to_robot0_eef_quat", "SquareNut_pos", "SquareNut_quat"],
    "TwoArmTransport": _TRANSPORT_POSES + _TRANSPORT_FLAGS + _TRANSPORT_RELATIVE,
}
OBJECT_NAME = {"PickPlaceCan": "Can", "NutAssemblySquare": "SquareNut"}


@pytest.fixture(scope="module")
def lift_file(tmp_path_factory) -> str:
    path = str(tmp_path_factory.mktemp("robomimic") / "lift.hdf5")
    stats = collect_robomimic_demos("Lift", 3, path, seed=5, noise_std=0.05, horizon=80, progress=False, command="test")
    assert stats["n_demos"] == 3
    return path


def run_scripted_episode(env: RobomimicEnv, seed: int) -> tuple[int, float, bool, bool, dict]:
    policy = ScriptedPickPolicy(env, seed=seed)
    env.reset(seed=seed)
    for step in range(1, env.horizon + 1):
        _, reward, terminated, truncated, info = env.step(policy(env._last_raw))
        if terminated or truncated:
            return step, reward, terminated, truncated, info
    raise AssertionError("the episode did not end at the horizon")


def object_in_gripper_frame(obj_pos, obj_quat, eef_pos, eef_quat) -> tuple[np.ndarray, np.ndarray]:
    """The object's pose in the end effector's frame, as robosuite computes ``<obj>_to_robot0_eef_*``."""
    world_in_gripper = T.pose_inv(T.pose2mat((np.asarray(eef_pos), np.asarray(eef_quat))))
    return T.mat2pose(T.pose_in_A_to_pose_in_B(T.pose2mat((np.asarray(obj_pos), np.asarray(obj_quat))), world_in_gripper))


def named_concatenation(raw: dict, names: list[str]) -> np.ndarray:
    return np.concatenate([np.ravel(raw[name]) for name in names]).astype(np.float32)


def test_ids_registered_on_import_without_importing_robosuite():
    code = (
        "import sys, gymnasium as gym, sb3_inril\n"
        "ids = [i for i in gym.registry if i.startswith('robomimic/')]\n"
        "print(sorted(ids), 'robosuite' in sys.modules)"
    )
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    expected = sorted(robomimic_env_id(task) for task in ROBOMIMIC_TASKS)
    assert output.strip() == f"{expected} False"


def test_gym_make_spaces_seeding_and_horizon():
    env = gym.make("robomimic/Lift-v0", horizon=5)
    unwrapped = env.unwrapped
    assert unwrapped.obs_keys == DEFAULT_OBS_KEYS["Lift"] and unwrapped.obs_key_sizes == LIFT_SIZES
    assert env.observation_space.shape == (19,) and env.observation_space.dtype == np.float32
    assert env.action_space.shape == (7,)
    np.testing.assert_array_equal(env.action_space.low, -1.0)
    first, info = env.reset(seed=3)
    assert info == {"is_success": False} and first.dtype == np.float32
    np.testing.assert_array_equal(env.reset(seed=3)[0], first)
    assert not np.array_equal(env.reset(seed=4)[0], first)
    env.reset(seed=3)
    for step in range(1, 6):
        obs, reward, terminated, truncated, info = env.step(np.zeros(7, dtype=np.float32))
        assert reward == 0.0 and not terminated and info["is_success"] is False
        assert truncated == (step == 5)
    assert obs.shape == (19,)
    env.close()


@pytest.mark.parametrize("task", ["Lift", "PickPlaceCan"])
def test_a_seeded_reset_fixes_the_whole_episode_model_included(task):
    # Two envs built unseeded draw different models (Lift: the cube's size). reset(seed=s) rebuilds
    # the model from s: the same episodes in both, model, observations and unseeded resets after it,
    # which is what makes evaluations of different methods (different processes) comparable.
    first, second = RobomimicEnv(task, horizon=8), RobomimicEnv(task, horizon=8)
    if task == "Lift":
        assert not np.array_equal(first.env.cube.size, second.env.cube.size)
    actions = np.random.default_rng(0).uniform(-1, 1, (20, 7)).astype(np.float32)
    observations: list[list[np.ndarray]] = [[], []]
    for env, seen in zip((first, second), observations):
        seen.append(env.reset(seed=7)[0])
        for action in actions:
            obs, _, terminated, truncated, _ = env.step(action)
            seen.append(obs)
            if terminated or truncated:
                seen.append(env.reset()[0])  # unseeded: the next episode of seed 7's stream
    assert first.model_xml() == second.model_xml()
    assert len(observations[0]) == len(observations[1]) == 1 + 20 + 2
    for a, b in zip(*observations):
        np.testing.assert_array_equal(a, b)
    # Another seed, another model and start; the same seed again, the same ones.
    other = first.reset(seed=8)[0]
    assert not np.array_equal(other, observations[0][0])
    np.testing.assert_array_equal(first.reset(seed=7)[0], observations[0][0])
    if task == "Lift":
        np.testing.assert_array_equal(first.env.cube.size, second.env.cube.size)
    first.close()
    second.close()


def test_success_is_rewarded_and_ends_the_episode():
    env = RobomimicEnv("Lift", horizon=80)
    step, reward, terminated, truncated, info = run_scripted_episode(env, seed=0)
    assert (reward, terminated, truncated, info["is_success"]) == (1.0, True, False, True)
    assert step < 80
    env.close()
    running = RobomimicEnv("Lift", horizon=80, terminate_on_success=False)
    step, reward, terminated, truncated, info = run_scripted_episode(running, seed=0)
    assert step == 80 and truncated and not terminated and info["is_success"]
    running.close()


def test_dense_reward_is_robosuites_shaped_reward():
    env = RobomimicEnv("Lift", reward_type="dense", horizon=3)
    env.reset(seed=0)
    _, reward, *_ = env.step(np.zeros(7, dtype=np.float32))
    assert 0.0 < reward < 1.0  # the reaching term, not a success
    env.close()


def test_other_tasks_build_with_robomimic_keys():
    square = RobomimicEnv("NutAssemblySquare", horizon=2)
    assert list(square.obs_key_sizes) == DEFAULT_OBS_KEYS["NutAssemblySquare"]
    assert square.observation_space.shape == (sum(square.obs_key_sizes.values()),)
    square.close()
    transport = RobomimicEnv("TwoArmTransport", horizon=2)
    assert transport.action_space.shape == (14,)
    assert "robot1_eef_pos" in transport.obs_key_sizes
    transport.reset(seed=0)
    assert transport.step(np.zeros(14, dtype=np.float32))[0].shape == transport.observation_space.shape
    transport.close()


@pytest.mark.parametrize("task", list(V141_ORDER))
def test_object_vector_has_robomimic_v141_layout(task):
    env = RobomimicEnv(task, horizon=3)
    size = env.obs_key_sizes["object"]
    obs, _ = env.reset(seed=0)
    rng = np.random.default_rng(0)
    for _ in range(3):
        raw = env._last_raw
        expected = named_concatenation(raw, V141_ORDER[task])
        assert expected.shape == (size,)
        np.testing.assert_array_equal(obs[:size], expected)  # "object" comes first in the default keys
        if task != "Lift":  # Lift's order did not change, its sign did (below)
            assert not np.allclose(obs[:size], named_concatenation(raw, V15_ORDER[task]))
        # The relative observables as robosuite 1.4 computed them, from this step's poses.
        if task == "Lift":
            np.testing.assert_allclose(raw["gripper_to_cube_pos"], raw["robot0_eef_pos"] - raw["cube_pos"], atol=1e-12)
        elif task == "TwoArmTransport":
            np.testing.assert_allclose(raw["gripper0_to_payload"], raw["payload_pos"] - raw["robot0_eef_pos"], atol=1e-12)
            np.testing.assert_allclose(raw["gripper1_to_trash"], raw["trash_pos"] - raw["robot1_eef_pos"], atol=1e-12)
        else:
            name = OBJECT_NAME[task]
            pos, quat = object_in_gripper_frame(
                raw[f"{name}_pos"], raw[f"{name}_quat"], raw["robot0_eef_pos"], raw["robot0_eef_quat"]
            )
            assert np.linalg.norm(raw[f"{name}_to_robot0_eef_pos"]) > 0.01  # not robosuite 1.5's zeros after a reset
            np.testing.assert_allclose(raw[f"{name}_to_robot0_eef_pos"], pos, atol=1e-9)
            np.testing.assert_allclose(raw[f"{name}_to_robot0_eef_quat"], quat, atol=1e-6)
        obs, *_ = env.step(rng.uniform(-1, 1, env.action_space.shape).astype(np.float32))
    assert list(env.object_observables) == V141_ORDER[task] and env.env_args["object_layout"] == "v141"
    env.close()


def test_v15_layout_is_robosuite_15s_object_state():
    env = RobomimicEnv("PickPlaceCan", horizon=5, object_layout="v15")
    assert env.object_observables is None and env.env_args["object_layout"] == "v15"
    obs, _ = env.reset(seed=0)
    raw = env._last_raw
    np.testing.assert_array_equal(obs[:14], raw["object-state"].astype(np.float32))
    np.testing.assert_array_equal(obs[:14], named_concatenation(raw, V15_ORDER["PickPlaceCan"]))
    # robosuite 1.5 computes the relative pose before the can's pose: zeros after a reset, then the
    # previous step's pose of the can in the current frame of the end effector.
    np.testing.assert_array_equal(obs[:7], 0.0)
    for _ in range(3):
        previous = raw
        env.step(np.array([0.5, 0.5, -0.5, 0, 0, 0, 0], dtype=np.float32))
        raw = env._last_raw
        pos, _ = object_in_gripper_frame(
            previous["Can_pos"], previous["Can_quat"], raw["robot0_eef_pos"], raw["robot0_eef_quat"]
        )
        np.testing.assert_allclose(raw["Can_to_robot0_eef_pos"], pos, atol=1e-9)
    env.close()


def test_object_layout_of_env_args(lift_file, tmp_path):
    assert object_layout_of_env_args({"env_name": "Lift", "env_version": "1.5.1", "type": 1}) == "v15"
    assert object_layout_of_env_args({"env_name": "Lift", "env_version": "1.4.1", "type": 1}) == "v141"
    assert object_layout_of_env_args(json.dumps({"env_name": "Lift", "env_kwargs": {"env_version": "1.2.0"}})) == "v141"
    assert object_layout_of_env_args({"env_name": "Lift", "type": 1}) == "v141"
    assert object_layout_of_env_args({"env_name": "Lift", "env_version": "1.4.1", "object_layout": "v15"}) == "v15"
    # A file written by robomimic with robosuite 1.5 (low_dim_v15) is observed in its layout.
    path = str(tmp_path / "v15.hdf5")
    with h5py.File(lift_file, "r") as source, h5py.File(path, "w") as target:
        source.copy("data", target)
        env_args = json.loads(target["data"].attrs["env_args"])
        del env_args["object_layout"]
        target["data"].attrs["env_args"] = json.dumps(dict(env_args, env_version="1.5.1"))
    for file, kwargs, layout in ((path, {}, "v15"), (lift_file, {}, "v141"), (path, {"object_layout": "v141"}, "v141")):
        env = RobomimicEnv.from_dataset(file, horizon=2, **kwargs)
        assert env.object_layout == layout
        env.close()


def test_dict_observations():
    keys = ["robot0_gripper_qpos", "object", "robot0_eef_pos"]  # not sorted: kept in this order
    # The same robosuite seed: the same cube size (drawn when the env is built).
    flat = RobomimicEnv("Lift", horizon=3, obs_keys=keys, seed=0)
    env = RobomimicEnv("Lift", horizon=3, obs_keys=keys, observation_format="dict", seed=0)
    assert isinstance(env.observation_space, spaces.Dict) and list(env.observation_space.spaces) == keys
    for key, size in env.obs_key_sizes.items():
        box = env.observation_space[key]
        assert isinstance(box, spaces.Box) and box.shape == (size,) and box.dtype == np.float32
    assert env.obs_key_sizes == flat.obs_key_sizes == {"robot0_gripper_qpos": 2, "object": 10, "robot0_eef_pos": 3}
    split = np.cumsum(list(env.obs_key_sizes.values()))[:-1]
    observations = [(flat.reset(seed=3)[0], env.reset(seed=3)[0])]
    action = np.array([0.3, -0.2, 0.5, 0, 0, 0, 1], dtype=np.float32)
    for _ in range(2):
        observations.append((flat.step(action)[0], env.step(action)[0]))
    for flat_obs, obs in observations:
        assert list(obs) == keys and env.observation_space.contains(obs)
        for key, part in zip(keys, np.split(flat_obs, split)):
            assert obs[key].dtype == np.float32
            np.testing.assert_array_equal(obs[key], part)
    flat.close()
    env.close()
    made = gym.make("robomimic/Lift-v0", horizon=3, observation_format="dict")
    assert list(made.observation_space.spaces) == DEFAULT_OBS_KEYS["Lift"]
    assert made.unwrapped.obs_key_sizes == LIFT_SIZES
    made.close()


@pytest.mark.parametrize("observation_format", ["flat", "dict"])
def test_check_env(observation_format):
    env = RobomimicEnv("Lift", horizon=20, observation_format=observation_format)
    check_env(env, skip_render_check=True)
    env.close()


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(task="Stack2"), "task: unknown robomimic task 'Stack2'"),
        (
            dict(task="Lift", observation_format="nested"),
            "observation_format: expected one of ('flat', 'dict'), found 'nested'",
        ),
        (dict(task="Lift", object_layout="v14"), "object_layout: expected one of ('v141', 'v15'), found 'v14'"),
        (dict(), "task: expected a robomimic task name or env_args"),
        (dict(task="Lift", reward_type="shaped"), "reward_type: expected 'sparse' or 'dense', found 'shaped'"),
        (dict(task="Lift", horizon=0), "horizon: expected a positive int, found 0"),
        (dict(task="Lift", obs_keys=["object", "robot0_eef_speed"]), "obs_keys: ['robot0_eef_speed'] not observations"),
        (dict(env_args={"env_kwargs": {}}), "env_args: expected a dict with 'env_name'"),
        (dict(env_args={"env_name": "Lift", "type": 2}), "env_args: field 'type' is 2, expected 1"),
        (dict(env_args={"env_name": "Stack9", "type": 1}), "env_args: field 'env_name' is 'Stack9'"),
    ],
)
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError) as error:
        RobomimicEnv(**kwargs)
    assert message in str(error.value)
    if "obs_keys" in kwargs:
        assert "'robot0_eef_vel_lin': 3" in str(error.value)  # the available keys with their sizes


def test_old_robomimic_env_args_are_converted(caplog):
    # env_args as robomimic's robosuite-1.2/1.4 datasets store them.
    old = {
        "env_name": "Lift",
        "type": 1,
        "env_kwargs": {
            "has_renderer": False,
            "has_offscreen_renderer": True,
            "ignore_done": True,
            "use_object_obs": True,
            "use_camera_obs": True,
            "control_freq": 20,
            "camera_names": ["agentview"],
            "controller_configs": {
                "type": "OSC_POSE",
                "input_max": 1,
                "input_min": -1,
                "output_max": [0.05, 0.05, 0.05, 0.5, 0.5, 0.5],
                "output_min": [-0.05, -0.05, -0.05, -0.5, -0.5, -0.5],
                "kp": 150,
                "damping": 1,
                "impedance_mode": "fixed",
                "kp_limits": [0, 300],
                "damping_limits": [0, 10],
                "control_delta": True,
                "uncouple_pos_ori": True,
                "interpolation": None,
                "ramp_ratio": 0.2,
            },
            "robots": "Panda",
            "reward_shaping": False,
            "env_version": "1.4.1",
        },
    }
    with caplog.at_level(logging.WARNING):
        task, kwargs = robosuite_kwargs_from_env_args(json.dumps(old))
    assert task == "Lift" and kwargs["robots"] == ["Panda"]
    assert kwargs["use_camera_obs"] is False and kwargs["has_offscreen_renderer"] is False
    arm = kwargs["controller_configs"]["body_parts"]["right"]
    assert kwargs["controller_configs"]["type"] == "BASIC"
    assert arm["type"] == "OSC_POSE" and arm["damping_ratio"] == 1 and arm["damping_ratio_limits"] == [0, 10]
    assert arm["input_type"] == "delta" and "control_delta" not in arm and arm["gripper"] == {"type": "GRIP"}
    assert "env_version" not in kwargs and "'env_version'" in caplog.text
    env = RobomimicEnv(env_args=old, horizon=2)
    assert env.observation_space.shape == (19,)
    env.close()
    composite = {"type": "BASIC", "body_parts": {"right": {"type": "OSC_POSE"}}}
    assert convert_controller_config(composite, "Panda") is composite
    assert convert_controller_config(None, "Panda") is None


def test_scripted_file_is_robomimic_layout(lift_file):
    with h5py.File(lift_file, "r") as file:
        data = file["data"]
        demos = sorted(data.keys())
        assert demos == ["demo_0", "demo_1", "demo_2"]
        env_args = json.loads(data.attrs["env_args"])
        assert env_args["env_name"] == "Lift" and env_args["type"] == 1 and env_args["object_layout"] == "v141"
        assert env_args["env_kwargs"]["controller_configs"]["body_parts"]["right"]["type"] == "OSC_POSE"
        made = json.loads(data.attrs["sb3_inril"])
        assert made["command"] == "test" and made["seed"] == 5 and made["success_rate"] == 1.0
        total = 0
        for name in demos:
            group = data[name]
            length = group.attrs["num_samples"]
            total += length
            assert sorted(group["obs"].keys()) == sorted(DATASET_OBS_KEYS) == sorted(group["next_obs"].keys())
            assert group["actions"].shape == (length, 7) and group["rewards"].shape == (length,)
            assert group["rewards"][-1] == 1.0 and group["rewards"][:-1].sum() == 0.0
            assert group["dones"][-1] == 1 and group["dones"][:-1].sum() == 0
            assert group["states"].shape[0] == length
            # next_obs is obs shifted by one step
            np.testing.assert_array_equal(group["next_obs"]["robot0_eef_pos"][:-1], group["obs"]["robot0_eef_pos"][1:])
        assert data.attrs["total"] == total
        train = sorted(name.decode() for name in file["mask"]["train"][()])
        valid = sorted(name.decode() for name in file["mask"]["valid"][()])
        assert len(valid) == 0 or not set(train) & set(valid)
        assert sorted(train + valid) == demos
    demos = load_demonstrations(lift_file)
    assert demos.observations.shape == (total, 55) and demos.n_episodes == 3


def test_env_from_dataset_observes_what_the_loader_reads(lift_file):
    demos = load_demonstrations(lift_file)
    env = make_robomimic_env(lift_file, horizon=80)  # RobomimicEnv.from_dataset
    assert env.obs_key_sizes == demos.metadata["obs_key_sizes"]
    assert env.observation_space.shape == demos.observations.shape[1:]
    # The env_args record robosuite's seed (the cube's size): the same start states as the demos.
    assert env.env_args["env_kwargs"]["seed"] == 5
    with h5py.File(lift_file, "r") as file:
        seeds = [int(file[f"data/demo_{i}"].attrs["seed"]) for i in range(3)]
    for seed, start in zip(seeds, demos.episode_starts):
        np.testing.assert_allclose(env.reset(seed=seed)[0], demos.observations[start], atol=1e-6)
    env.close()


def test_model_reads_a_robomimic_path_with_the_envs_keys(lift_file, tmp_path):
    env = gym.make("robomimic/Lift-v0", horizon=10)
    model = InRILPPO("MlpPolicy", env, demonstrations=lift_file, n_steps=16, batch_size=8, n_epochs=1, il_interval=2, seed=0)
    assert model.demonstrations == DemonstrationSpec(lift_file, {"obs_keys": DEFAULT_OBS_KEYS["Lift"]})
    assert model.demo_buffer.observations.shape[1] == 19
    model.learn(32)
    assert (model.interleaving.n_rl_updates, model.interleaving.n_il_updates) == (4, 2 * model.il_steps)
    assert len(model.ep_success_buffer) > 0  # SB3 logs rollout/success_rate from info["is_success"]
    model.save(tmp_path / "model")
    loaded = InRILPPO.load(tmp_path / "model", env=env)
    assert loaded.demonstrations == model.demonstrations
    np.testing.assert_array_equal(loaded.demo_buffer.observations.numpy(), model.demo_buffer.observations.numpy())
    env.close()


def test_observation_key_mismatches_are_caught_before_training(lift_file, tmp_path):
    env = gym.make("robomimic/Lift-v0", horizon=10)
    # Demonstrations read with the file's keys (55 values) for an env observing 4 keys (19).
    with pytest.raises(ValueError) as error:
        InRILPPO("MlpPolicy", env, demonstrations=load_demonstrations(lift_file))
    message = str(error.value)
    assert "not observed by the env: ['robot0_eef_vel_ang'" in message and "'robot0_eef_pos': 3" in message
    # Same keys and total size, another order.
    keys = list(reversed(DEFAULT_OBS_KEYS["Lift"]))
    with pytest.raises(ValueError, match="same keys in another order"):
        InRILPPO("MlpPolicy", env, demonstrations=load_demonstrations(lift_file, obs_keys=keys))
    # A file without a key the env observes, and one whose key has another size.
    for name, change in (("missing", "drop"), ("resized", "resize")):
        path = str(tmp_path / f"{name}.hdf5")
        with h5py.File(lift_file, "r") as source, h5py.File(path, "w") as target:
            source.copy("data", target)
            for demo in target["data"]:
                obs = target["data"][demo]["obs"]
                quat = obs["robot0_eef_quat"][()]
                del obs["robot0_eef_quat"]
                if change == "resize":
                    obs.create_dataset("robot0_eef_quat", data=quat[:, :3])
        with pytest.raises(ValueError) as error:
            InRILPPO("MlpPolicy", env, demonstrations=path)
        message = str(error.value)
        if change == "drop":
            assert "['robot0_eef_quat'] not found" in message and "the env observes: {'object': 10" in message
        else:
            assert "sizes differ (demonstrations vs env): ['robot0_eef_quat: 3 vs 4']" in message
        with pytest.raises(ValueError, match="robot0_eef_quat"):
            RobomimicEnv.from_dataset(path, obs_keys=DEFAULT_OBS_KEYS["Lift"], horizon=2)
    env.close()


def test_check_observation_layout_messages():
    check_observation_layout({"a": 1, "b": 2}, {"a": 1, "b": 2})
    with pytest.raises(ValueError, match=r"missing from the demonstrations: \['c'\]"):
        check_observation_layout({"a": 1}, {"a": 1, "c": 3})


def test_shipped_scripted_demonstrations():
    for task in ("Lift", "PickPlaceCan"):
        env_id = robomimic_env_id(task)
        path = demonstration_path(env_id, "scripted")
        made = demonstration_metadata(env_id, "scripted")
        assert made["task"] == task and made["success_rate"] > 0.9 and made["command"].startswith("python scripts/")
        demos = load_demonstrations(path, obs_keys=DEFAULT_OBS_KEYS[task])
        assert demos.n_episodes == made["n_demos"] and len(demos.actions) == made["n_transitions"]
        # Their object vector has the layout the env observes (robomimic's v141), at every step.
        with h5py.File(path, "r") as file:
            assert json.loads(file["data"].attrs["env_args"])["object_layout"] == "v141"
            obs = {key: file["data/demo_0/obs"][key][()] for key in ("object", "robot0_eef_pos", "robot0_eef_quat")}
        if task == "Lift":
            np.testing.assert_allclose(obs["object"][:, 7:10], obs["robot0_eef_pos"] - obs["object"][:, :3], atol=1e-5)
        else:
            for row, eef_pos, eef_quat in zip(obs["object"], obs["robot0_eef_pos"], obs["robot0_eef_quat"]):
                pos, quat = object_in_gripper_frame(row[:3], row[3:7], eef_pos, eef_quat)
                np.testing.assert_allclose(row[7:10], pos, atol=1e-5)
                np.testing.assert_allclose(row[10:14], quat, atol=1e-4)
    with pytest.raises(FileNotFoundError, match="robomimic/lift_v0_scripted"):
        demonstration_path("robomimic/Lift-v0", "expert")


def test_collect_rejects_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match="n_demos: expected >= 1, found 0"):
        collect_robomimic_demos("Lift", 0, str(tmp_path / "x.hdf5"))
    with pytest.raises(FileNotFoundError, match=r"robomimic file not found: 'nope\.hdf5'"):
        make_robomimic_env("nope.hdf5")
    assert make_robomimic_env("Lift", horizon=3).horizon == 3
    with pytest.raises(ValueError, match="no scripted expert for 'NutAssemblySquare'"):
        ScriptedPickPolicy(RobomimicEnv("NutAssemblySquare", horizon=2))
