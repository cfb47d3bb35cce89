"""Every malformed input gets a named error (source, expected, found) before anything trains,
and of the documented exception types only: ValueError, TypeError, FileNotFoundError, PermissionError."""

import io
import json
import os
import pickle
import zipfile
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import gymnasium as gym
import h5py
import numpy as np
import pytest
import torch as th
from gymnasium import spaces

from sb3_inril import InRILPPO, InRILSAC, load_demonstrations
from sb3_inril.demos.demonstrations import Demonstrations, validate_observations
from sb3_inril.demos.loading import detect_format, read_robomimic_env_args
from sb3_inril.envs.robomimic import object_layout_of_env_args

N = 40  # 4 episodes of 10 pairs, Pendulum-v1 shaped


def demos(**changes: Any) -> dict[str, Any]:
    rng = np.random.default_rng(0)
    data: dict[str, Any] = {
        "obs": rng.uniform(-1, 1, (N, 3)).astype(np.float32),
        "acts": rng.uniform(-2, 2, (N, 1)).astype(np.float32),
        "episode_starts": np.arange(0, N, 10),
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def pendulum_model(source: Any, **kwargs: Any) -> InRILPPO:
    return InRILPPO("MlpPolicy", "Pendulum-v1", demonstrations=source, n_steps=32, batch_size=16, **kwargs)


IN_MEMORY = [
    ("float64 overflowing float32", demos(obs=np.full((N, 3), 1e300)), ValueError, ["'obs'", "non-finite", "float32"]),
    ("integer Box actions", demos(acts=np.ones((N, 1), np.int64)), ValueError, ["'acts'", "dtype int64", "float dtype"]),
    ("dones of the wrong length", demos(episode_starts=None, dones=np.zeros(N - 3)), ValueError, ["'dones'", f"({N})"]),
    ("rewards of the wrong length", demos(rewards=np.zeros(N + 1)), ValueError, ["'rewards'", f"({N},)"]),
    ("episode_starts not at 0", demos(episode_starts=np.array([3, 10])), ValueError, ["'episode_starts'", "start at 0"]),
    (
        "episode_starts not increasing",
        demos(episode_starts=np.array([0, 20, 10])),
        ValueError,
        ["'episode_starts'", "strictly increasing", "episode 1"],
    ),
    ("empty episode", demos(episode_starts=np.array([0, 10, 10])), ValueError, ["strictly increasing"]),
    ("episode_starts out of range", demos(episode_starts=np.array([0, N])), ValueError, ["out of range", str(N)]),
    ("string observations", demos(obs=np.full((N, 3), "a")), ValueError, ["'obs'", "dtype <U1"]),
    ("ragged list", demos(obs=[[0.0, 0.0, 0.0]] * (N - 1) + [[0.0]]), ValueError, ["'obs'", "ragged"]),
    ("object array", demos(acts=np.array([[0.0]] * N, dtype=object)), ValueError, ["'acts'", "dtype object"]),
    ("empty dict observations", demos(obs={}), ValueError, ["'obs'", "empty dict"]),
    ("NaN reward", demos(rewards=np.r_[np.zeros(N - 1), np.nan]), ValueError, ["'rewards'", "non-finite", f"row {N - 1}"]),
    ("empty rewards", demos(rewards=np.zeros(0)), ValueError, ["'rewards'", "shape (0,)", f"({N},)"]),
    (
        "NaN done flag",
        demos(episode_starts=None, dones=np.r_[np.zeros(N - 1), np.nan]),
        ValueError,
        ["'dones'", "other than 0/1", f"row {N - 1}"],
    ),
]


@pytest.mark.parametrize("source, exception, fragments", [pytest.param(*case[1:], id=case[0]) for case in IN_MEMORY])
def test_in_memory_demonstrations(source, exception, fragments):
    with pytest.raises(exception) as error:
        pendulum_model(source)
    for fragment in fragments:
        assert fragment in str(error.value), str(error.value)


def test_observations_outside_the_box_warn_with_the_first_row():
    obs = demos()["obs"]
    obs[7, 1] = 100.0  # Pendulum's angular velocity is within [-8, 8]
    with pytest.warns(UserWarning, match=r"'obs' has 1 rows outside the bounds .* first at row 7"):
        pendulum_model(demos(obs=obs))


def test_trajectories_with_an_empty_or_ragged_episode():
    from imitation.data import types

    rng = np.random.default_rng(0)
    good = types.Trajectory(obs=rng.normal(size=(6, 3)), acts=rng.uniform(-1, 1, (5, 1)), infos=None, terminal=True)
    # imitation refuses an empty Trajectory itself; a look-alike object reaches our check.
    empty = SimpleNamespace(obs=rng.normal(size=(1, 3)), acts=np.zeros((0, 1)), infos=None, terminal=True)
    with pytest.raises(ValueError, match="trajectory 1 has no step"):
        pendulum_model([good, empty])
    wider = types.Trajectory(obs=rng.normal(size=(6, 4)), acts=rng.uniform(-1, 1, (5, 1)), infos=None, terminal=True)
    with pytest.raises(ValueError, match=r"trajectory 1: field 'obs' has per-step shape \(4,\), trajectory 0 has \(3,\)"):
        pendulum_model([good, wider])


@pytest.mark.parametrize(
    "observations, fragments",
    [
        (np.array([0, 3, 16, 2]), ["'obs'", "Discrete(16)", "first at row 2"]),
        (np.array([0, 1.5, 2, 3]), ["'obs'", "non-integer", "row 1"]),
        (np.zeros((4, 2)), ["'obs'", "per-step shape (2,)"]),
    ],
)
def test_discrete_observations(observations, fragments):
    source = {"obs": observations, "acts": np.array([0, 1, 2, 3])}
    with pytest.raises(ValueError) as error:
        InRILPPO("MlpPolicy", "FrozenLake-v1", demonstrations=source, n_steps=32, batch_size=16)
    for fragment in fragments:
        assert fragment in str(error.value)


DICT_SPACE = spaces.Dict({"a": spaces.Box(-1, 1, (3,), np.float32), "b": spaces.MultiBinary(2)})


@pytest.mark.parametrize(
    "observations, fragments",
    [
        ({"a": np.zeros((4, 3))}, ["keys ['a']", "missing: ['b']"]),
        ({"a": np.zeros((4, 3)), "b": np.zeros((4, 2)), "c": np.zeros((4, 1))}, ["not in the env's observation_space: ['c']"]),
        ({"a": np.zeros((4, 2)), "b": np.zeros((4, 2))}, ["'obs/a'", "per-step shape (2,), expected (3,)"]),
        ({"a": np.full((4, 3), "x"), "b": np.zeros((4, 2))}, ["'obs/a'", "dtype <U1"]),
        ({"a": np.zeros((4, 3)), "b": np.full((4, 2), 2)}, ["'obs/b'", "outside MultiBinary(2)"]),
        (np.zeros((4, 3)), ["expected a dict with the keys ['a', 'b']"]),
    ],
)
def test_dict_observations_are_checked_key_by_key(observations, fragments):
    with pytest.raises(ValueError) as error:
        validate_observations(Demonstrations(observations, np.zeros((4, 1)), [0]).observations, DICT_SPACE)
    for fragment in fragments:
        assert fragment in str(error.value)


def test_split_warnings(pendulum_env):
    with pytest.warns(UserWarning, match="hold out no whole episode"):
        pendulum_model(demos(episode_starts=np.array([0])))
    with pytest.warns(UserWarning, match="fewer than one IL minibatch"):
        pendulum_model(demos(), il_batch_size=64)


def test_hyperparameter_types_are_named():
    with pytest.raises(TypeError, match=r"obs_keys: expected a list of observation key names, found str 'object'"):
        load_demonstrations("unused.hdf5", obs_keys="object")
    with pytest.raises(ValueError, match=r"obs_keys: expected each key once, found \['object'\] more than once"):
        load_demonstrations("unused.hdf5", obs_keys=["object", "object"])
    with pytest.raises(ValueError, match=r"obs_keys: expected at least one observation key, found \[\]"):
        load_demonstrations("unused.hdf5", obs_keys=[])
    with pytest.raises(TypeError, match=r"cache_bytes: expected an int >= 0, found str 'lots'"):
        load_demonstrations("unused.hdf5", cache_bytes="lots")
    model = pendulum_model(demos())
    for kwargs, exception, fragment in [
        (dict(learning_rate=-1.0), ValueError, "learning_rate: expected a finite value in (0.0, inf), found -1.0"),
        (dict(learning_rate=float("nan")), ValueError, "learning_rate"),
        (dict(learning_rate="1e-3"), TypeError, "learning_rate: expected a number, found str"),
        (dict(log_std=float("inf")), ValueError, "log_std"),
        (dict(n_epochs=1.5), TypeError, "n_epochs"),
    ]:
        with pytest.raises(exception) as error:
            model.pretrain(**kwargs)
        assert fragment in str(error.value)


@pytest.mark.parametrize(
    "pretrain_kwargs, exception, fragment",
    [
        ({"n_epochs": "x"}, TypeError, "pretrain_kwargs: n_epochs: expected a positive int or None, found str 'x'"),
        ({"n_epochs": 0}, ValueError, "pretrain_kwargs: n_epochs: expected a positive int or None, found 0"),
        ({"batch_size": 0}, ValueError, "pretrain_kwargs: batch_size: expected a positive int or None, found 0"),
        ({"learning_rate": "x"}, TypeError, "pretrain_kwargs: learning_rate: expected a number, found str 'x'"),
        ({"log_std": float("nan")}, ValueError, "pretrain_kwargs: log_std: expected a finite value"),
        ({"n_epochs": 1, "n_steps": 3}, ValueError, "pretrain_kwargs: pretrain: pass n_epochs or n_steps, not both"),
    ],
)
def test_pretrain_kwargs_values_are_checked_when_the_model_is_made(pretrain_kwargs, exception, fragment):
    # Before, only the first learn() checked them (after the zoo built the envs and the model), and the
    # message ("n_epochs: ...") did not say it was pretrain_kwargs' n_epochs rather than the algorithm's.
    with pytest.raises(exception) as error:
        pendulum_model(demos(), pretrain_kwargs=pretrain_kwargs)
    assert fragment in str(error.value), str(error.value)


def test_a_diverging_pretrain_stops_and_puts_the_policy_back():
    model = pendulum_model(demos(), il_loss="mse")
    before = {name: value.clone() for name, value in model.policy.state_dict().items()}
    with pytest.raises(ValueError, match=r"pretrain: the mse loss became (inf|nan) at step \d+ .*back as they were"):
        model.pretrain(n_epochs=5, learning_rate=1e30)
    for name, value in model.policy.state_dict().items():
        assert th.equal(value, before[name]), name


# -- files ---------------------------------------------------------------------------------------
def write_robomimic(path: str, demos_spec: dict[str, dict[str, Any]]) -> str:
    with h5py.File(path, "w") as file:
        data = file.create_group("data")
        for name, fields in demos_spec.items():
            group = data.create_group(name)
            for key, value in fields.items():
                if key == "obs":
                    obs = group.create_group("obs")
                    for obs_key, obs_value in value.items():
                        obs.create_dataset(obs_key, data=obs_value)
                else:
                    group.create_dataset(key, data=value)
    return path


def good_demo(steps: int = 5, action_dim: int = 7) -> dict[str, Any]:
    return {"obs": {"object": np.zeros((steps, 10))}, "actions": np.zeros((steps, action_dim)), "rewards": np.zeros(steps)}


def case_pickle_of_something_else(tmp_path) -> str:
    path = tmp_path / "demos.pkl"
    path.write_bytes(pickle.dumps({"obs": [1, 2, 3]}))
    return str(path)


def case_pickle_of_a_list_of_ints(tmp_path) -> str:
    path = tmp_path / "demos.pkl"
    path.write_bytes(pickle.dumps([1, 2, 3]))
    return str(path)


def case_corrupt_imitation_directory(tmp_path) -> str:
    (tmp_path / "imitation").mkdir()
    (tmp_path / "imitation" / "dataset_info.json").write_text("{not json")
    return str(tmp_path / "imitation")


def case_corrupt_minari_directory(tmp_path) -> str:
    (tmp_path / "minari" / "data").mkdir(parents=True)
    (tmp_path / "minari" / "data" / "metadata.json").write_text("{not json")
    return str(tmp_path / "minari")


def case_symlink_loop(tmp_path) -> str:
    os.symlink(tmp_path / "b.npz", tmp_path / "a.npz")
    os.symlink(tmp_path / "a.npz", tmp_path / "b.npz")
    return str(tmp_path / "a.npz")


def case_relative_typo(tmp_path) -> str:
    os.chdir(tmp_path)
    return "my_demoss"


def case_npz_object_member(tmp_path) -> str:
    path = tmp_path / "demos.npz"
    np.savez(path, obs=np.array([[0.0], [1.0, 2.0]], dtype=object), acts=np.zeros((2, 1)))
    return str(path)


def case_npz_rewards_wrong_length(tmp_path) -> str:
    path = tmp_path / "demos.npz"
    np.savez(path, obs=np.zeros((5, 3)), acts=np.zeros((5, 1)), rewards=np.zeros(4))
    return str(path)


def case_hdf5_other_action_width(tmp_path) -> str:
    return write_robomimic(str(tmp_path / "d.hdf5"), {"demo_0": good_demo(), "demo_1": good_demo(action_dim=6)})


def case_hdf5_data_is_a_dataset(tmp_path) -> str:
    with h5py.File(tmp_path / "d.hdf5", "w") as file:
        file.create_dataset("data", data=np.zeros(3))
    return str(tmp_path / "d.hdf5")


def case_hdf5_first_demo_without_obs(tmp_path) -> str:
    return write_robomimic(str(tmp_path / "d.hdf5"), {"demo_0": {"actions": np.zeros((5, 7))}, "demo_1": good_demo()})


def case_hdf5_zero_length_demo(tmp_path) -> str:
    return write_robomimic(str(tmp_path / "d.hdf5"), {"demo_0": good_demo(), "demo_1": good_demo(steps=0)})


def case_npz_corrupt_episode_starts(tmp_path) -> str:
    path = tmp_path / "demos.npz"
    arrays = demos()
    member = io.BytesIO()
    np.save(member, arrays.pop("episode_starts"))
    np.savez(path, **arrays)
    with zipfile.ZipFile(path, "a") as archive:  # a truncated member, once taken for a pickle and skipped
        archive.writestr("episode_starts.npy", member.getvalue()[:-8])
    return str(path)


def case_npz_pickled_episode_starts(tmp_path) -> str:
    path = tmp_path / "demos.npz"
    np.savez(path, **demos(episode_starts=np.array([0, 10, 20, 30], dtype=object)))
    return str(path)


def case_npz_metadata_not_a_dict(tmp_path) -> str:
    path = tmp_path / "demos.npz"
    np.savez(path, **demos(), demonstrations_metadata=np.array("[1, 2]"))
    return str(path)


def case_npz_infos_not_dicts(tmp_path) -> str:
    path = tmp_path / "demos.npz"
    np.savez(path, **demos(), infos_json=np.array(json.dumps(list(range(N)))))
    return str(path)


def case_legacy_npz_non_integer_indices(tmp_path) -> str:
    path = tmp_path / "legacy.npz"  # 2 trajectories of 5 pairs, split at 4.5
    np.savez(path, obs=np.zeros((12, 3)), acts=np.zeros((10, 1)), indices=np.array([4.5]))
    return str(path)


def case_legacy_npz_terminal_of_the_wrong_length(tmp_path) -> str:
    path = tmp_path / "legacy.npz"
    np.savez(path, obs=np.zeros((12, 3)), acts=np.zeros((10, 1)), indices=np.array([5]), terminal=np.array([True]))
    return str(path)


def pendulum_trajectory(**fields: Any) -> Any:
    from imitation.data import types

    trajectory = types.TrajectoryWithRew(
        obs=np.zeros((6, 3)), acts=np.zeros((5, 1)), infos=None, terminal=True, rews=np.zeros(5)
    )
    for key, value in fields.items():  # a pickle holds what __post_init__ would refuse
        object.__setattr__(trajectory, key, value)
    return trajectory


def case_pickle_rewards_misaligned(tmp_path) -> str:
    path = tmp_path / "demos.pkl"  # 4 + 6 rewards for 5 + 5 actions: the totals agree
    path.write_bytes(pickle.dumps([pendulum_trajectory(rews=np.zeros(4)), pendulum_trajectory(rews=np.zeros(6))]))
    return str(path)


def case_pickle_infos_not_dicts(tmp_path) -> str:
    path = tmp_path / "demos.pkl"
    path.write_bytes(pickle.dumps([pendulum_trajectory(infos=np.arange(5))]))
    return str(path)


def case_imitation_metadata_not_a_dict(tmp_path) -> str:
    from imitation.data import serialize

    path = tmp_path / "imitation"
    serialize.save(path, [pendulum_trajectory()])
    (path / "sb3_inril_metadata.json").write_text("[1, 2]")
    return str(path)


def case_hdf5_actions_a_group(tmp_path) -> str:
    path = write_robomimic(str(tmp_path / "d.hdf5"), {"demo_0": good_demo(), "demo_1": good_demo()})
    with h5py.File(path, "a") as file:
        del file["data/demo_1/actions"]
        file.create_group("data/demo_1/actions")
    return path


def case_hdf5_dangling_link(tmp_path) -> str:
    path = write_robomimic(str(tmp_path / "d.hdf5"), {"demo_0": good_demo(), "demo_1": good_demo()})
    with h5py.File(path, "a") as file:
        del file["data/demo_1/obs/object"]
        file["data/demo_1/obs/object"] = h5py.SoftLink("/nowhere")
    return path


def case_hdf5_corrupt_chunk(tmp_path) -> str:
    path = str(tmp_path / "d.hdf5")
    with h5py.File(path, "w") as file:
        demo = file.create_group("data/demo_0")
        demo.create_dataset("obs/object", data=np.zeros((5, 10)))
        demo.create_dataset("actions", data=np.ones((5, 7)), chunks=(5, 7), compression="gzip")
        chunk = demo["actions"].id.get_chunk_info(0)
    with open(path, "r+b") as file:  # the compressed bytes overwritten: h5py's OSError when read
        file.seek(chunk.byte_offset)
        file.write(b"\xff" * chunk.size)
    return path


def case_hdf5_mask_a_dataset(tmp_path) -> tuple[str, dict[str, Any]]:
    path = write_robomimic(str(tmp_path / "d.hdf5"), {"demo_0": good_demo()})
    with h5py.File(path, "a") as file:
        file.create_dataset("mask", data=np.zeros(3))
    return path, {"filter_key": "train"}


def case_hdf5_mask_without_names(tmp_path) -> tuple[str, dict[str, Any]]:
    path = write_robomimic(str(tmp_path / "d.hdf5"), {"demo_0": good_demo()})
    with h5py.File(path, "a") as file:
        file.create_dataset("mask/train", dtype="S6")  # an HDF5 null dataspace: no value
    return path, {"filter_key": "train"}


FILE_CASES: list[tuple[Callable[..., Any], type[Exception], list[str]]] = [
    (case_pickle_of_something_else, ValueError, ["holds a dict", "expected a sequence of imitation Trajectory"]),
    (case_pickle_of_a_list_of_ints, ValueError, ["holds a sequence of int"]),
    (case_corrupt_imitation_directory, ValueError, ["could not read", "imitation dataset directory"]),
    (case_corrupt_minari_directory, ValueError, ["could not read the Minari dataset"]),
    (case_symlink_loop, ValueError, ["symbolic link loop"]),
    (case_relative_typo, FileNotFoundError, ["file not found: 'my_demoss'", "relative to the working directory"]),
    (case_npz_object_member, ValueError, ["['obs']", "pickled Python objects"]),
    (case_npz_rewards_wrong_length, ValueError, ["'rewards'", "(5,)"]),
    (case_hdf5_other_action_width, ValueError, ["demo 'demo_1'", "(6,)", "(7,)"]),
    (case_hdf5_data_is_a_dataset, ValueError, ["'data' as a dataset"]),
    (case_hdf5_first_demo_without_obs, ValueError, ["demo 'demo_0' has no 'obs' group"]),
    (case_hdf5_zero_length_demo, ValueError, ["demo 'demo_1'", "no step"]),
    (case_npz_corrupt_episode_starts, ValueError, ["['episode_starts'] could not be read"]),
    (case_npz_pickled_episode_starts, ValueError, ["['episode_starts']", "pickled Python objects"]),
    (case_npz_metadata_not_a_dict, ValueError, ["'demonstrations_metadata'", "JSON list", "expected a JSON object"]),
    (case_npz_infos_not_dicts, ValueError, ["'infos'", "int 0 at pair 0", "expected one dict per pair"]),
    (case_legacy_npz_non_integer_indices, ValueError, ["'indices'", "non-integer"]),
    (case_legacy_npz_terminal_of_the_wrong_length, ValueError, ["'terminal'", "1 values", "one per trajectory (2)"]),
    (case_pickle_rewards_misaligned, ValueError, ["trajectory 0", "'rewards' has 4 values, expected 5"]),
    (case_pickle_infos_not_dicts, ValueError, ["trajectory 0", "'infos' holds int64", "expected one dict per action"]),
    (case_imitation_metadata_not_a_dict, ValueError, ["sb3_inril_metadata.json", "JSON list", "expected an object"]),
    (case_hdf5_actions_a_group, ValueError, ["'actions' in demo 'demo_1'", "expected a dataset, found a group"]),
    (case_hdf5_dangling_link, ValueError, ["'object' in demo 'demo_1'", "could not be opened"]),
    (case_hdf5_corrupt_chunk, ValueError, ["could not read", "is it corrupt?"]),
    (case_hdf5_mask_a_dataset, ValueError, ["'mask'", "expected a group, found a dataset"]),
    (case_hdf5_mask_without_names, ValueError, ["'/mask/train'", "expected a 1-D array of demo names"]),
]


@pytest.mark.parametrize("make_case, exception, fragments", FILE_CASES, ids=[case[0].__name__[5:] for case in FILE_CASES])
def test_malformed_files(tmp_path, monkeypatch, make_case, exception, fragments):
    monkeypatch.chdir(tmp_path)
    made = make_case(tmp_path)
    path, kwargs = made if isinstance(made, tuple) else (made, {})
    with pytest.raises(exception) as error:
        load_demonstrations(path, **kwargs)
    for fragment in fragments:
        assert fragment in str(error.value), str(error.value)
    assert type(error.value) in (ValueError, TypeError, FileNotFoundError, PermissionError)


def test_unreadable_file_is_a_permission_error(tmp_path, monkeypatch):
    path = tmp_path / "demos.npz"
    np.savez(path, **demos())
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda p, mode: False if os.fspath(p) == str(path) else real_access(p, mode))
    with pytest.raises(PermissionError, match="no permission to read"):
        load_demonstrations(str(path))


def test_demonstrations_of_another_env_warn(tmp_path):
    path = tmp_path / "demos.npz"
    np.savez(path, **demos(), metadata=np.array(json.dumps({"env": "HalfCheetah-v5"})))
    with pytest.warns(UserWarning, match="recorded on 'HalfCheetah-v5', the model's env is 'Pendulum-v1'"):
        InRILSAC("MlpPolicy", "Pendulum-v1", demonstrations=str(path))


def test_a_named_pipe_is_refused_before_it_is_read(tmp_path):
    path = str(tmp_path / "demos.npz")
    os.mkfifo(path)  # opening it for reading would wait for a writer
    with pytest.raises(ValueError, match="is not a regular file"):
        detect_format(path)
    with pytest.raises(ValueError, match="is not a regular file"):
        load_demonstrations(path)


def test_robomimic_env_args_of_the_wrong_type(tmp_path):
    path = write_robomimic(str(tmp_path / "d.hdf5"), {"demo_0": good_demo()})
    with h5py.File(path, "a") as file:
        file["data"].attrs["env_args"] = "[1, 2]"
    with pytest.raises(ValueError, match=r"env_args: .* holds a JSON list, expected an object"):
        read_robomimic_env_args(path)
    assert load_demonstrations(path).metadata["env_args"] is None  # metadata only: the demonstrations are read
    with pytest.raises(ValueError, match=r"env_args: field 'env_kwargs' is list \[1\], expected a dict"):
        object_layout_of_env_args({"env_name": "Lift", "env_kwargs": [1]})
    with pytest.raises(ValueError, match="env_args: expected robomimic's env metadata as JSON"):
        object_layout_of_env_args("{not json")


def test_minari_terminations_of_the_wrong_length(tmp_path, monkeypatch):
    import minari
    from minari.data_collector import EpisodeBuffer

    monkeypatch.setenv("MINARI_DATASETS_PATH", str(tmp_path / "minari"))
    env = gym.make("Pendulum-v1")
    rng = np.random.default_rng(0)
    buffers = [
        EpisodeBuffer(
            id=index,
            observations=rng.uniform(-1, 1, (6, 3)).astype(np.float32),
            actions=rng.uniform(-2, 2, (5, 1)).astype(np.float32),
            rewards=list(rng.normal(size=5)),
            terminations=[False] * 5,
            truncations=[False] * 4 + [True],
            infos={},
        )
        for index in range(2)
    ]
    minari.create_dataset_from_buffers("pendulum/broken-v0", buffers, env=env, algorithm_name="random")
    path = tmp_path / "minari" / "pendulum" / "broken-v0"
    with h5py.File(path / "data" / "main_data.hdf5", "a") as file:
        del file["episode_1/terminations"]
        file["episode_1/terminations"] = np.zeros(4, dtype=bool)  # only its last flag was read
    with pytest.raises(ValueError, match=r"episode 1: field 'terminations' has 4 values and 'actions' 5"):
        load_demonstrations(str(path))
