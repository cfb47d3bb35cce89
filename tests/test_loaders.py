import json
import os

import gymnasium as gym
import h5py
import numpy as np
import pytest

from sb3_inril import InRILPPO, InRILSAC, load_demonstrations, save_demonstrations
from sb3_inril.demos.loading import DemonstrationSpec, detect_format


def pendulum_trajectories(n: int = 4, length: int = 30, seed: int = 0):
    from imitation.data import types

    rng = np.random.default_rng(seed)
    return [
        types.TrajectoryWithRew(
            obs=rng.normal(size=(length + 1, 3)).astype(np.float32),
            acts=rng.uniform(-2, 2, size=(length, 1)).astype(np.float32),
            infos=None,
            terminal=True,
            rews=rng.normal(size=length).astype(np.float32),
        )
        for _ in range(n)
    ]


def check_same(demos, trajectories):
    np.testing.assert_array_equal(demos.observations, np.concatenate([t.obs[:-1] for t in trajectories]))
    np.testing.assert_array_equal(demos.actions, np.concatenate([t.acts for t in trajectories]))
    assert demos.n_episodes == len(trajectories)
    np.testing.assert_allclose(demos.episode_returns, [t.rews.sum() for t in trajectories], rtol=1e-5)


def test_imitation_directory_written_by_imitation(tmp_path):
    from imitation.data import serialize

    trajectories = pendulum_trajectories()
    serialize.save(tmp_path / "imitation_demos", trajectories)
    assert detect_format(str(tmp_path / "imitation_demos")) == "imitation"
    demos = load_demonstrations(str(tmp_path / "imitation_demos"))
    check_same(demos, trajectories)
    assert demos.spec == DemonstrationSpec(str(tmp_path / "imitation_demos"), {})


def test_imitation_legacy_npz_and_pickle(tmp_path):
    import pickle

    from imitation.data import serialize

    trajectories = pendulum_trajectories()
    lengths = [len(t.acts) for t in trajectories]
    np.savez_compressed(  # imitation's legacy npz layout (what imitation.data.serialize.load reads)
        tmp_path / "legacy.npz",
        obs=np.concatenate([t.obs for t in trajectories]),
        acts=np.concatenate([t.acts for t in trajectories]),
        infos=np.array([{}] * sum(lengths), dtype=object),
        terminal=np.ones(len(trajectories), dtype=bool),
        rews=np.concatenate([t.rews for t in trajectories]),
        indices=np.cumsum(lengths)[:-1],
    )
    with pytest.warns(DeprecationWarning):
        reference = serialize.load(tmp_path / "legacy.npz")
    demos = load_demonstrations(str(tmp_path / "legacy.npz"))
    assert demos.metadata["format"] == "imitation-npz"
    check_same(demos, reference)
    with open(tmp_path / "legacy.pkl", "wb") as file:
        pickle.dump(list(trajectories), file)
    check_same(load_demonstrations(str(tmp_path / "legacy.pkl")), trajectories)


def write_robomimic(path, n_demos=4, length=20, truncate_demo=None, seed=0):
    """A file in robomimic's exact layout (as its dataset_states_to_obs.py writes it)."""
    rng = np.random.default_rng(seed)
    with h5py.File(path, "w") as file:
        data = file.create_group("data")
        data.attrs["env_args"] = json.dumps(
            {"env_name": "Lift", "type": 1, "env_kwargs": {"robots": ["Panda"], "control_freq": 20}}
        )
        total = 0
        for i in range(n_demos):
            demo = data.create_group(f"demo_{i}")
            steps = length + i
            demo.attrs["num_samples"] = steps
            demo.create_dataset("actions", data=rng.uniform(-1, 1, size=(steps, 7)))
            demo.create_dataset("rewards", data=np.r_[np.zeros(steps - 1), 1.0])
            demo.create_dataset("dones", data=np.r_[np.zeros(steps - 1), 1].astype(np.int64))
            demo.create_dataset("states", data=rng.normal(size=(steps, 32)))
            obs = demo.create_group("obs")
            obs.create_dataset("robot0_eef_pos", data=rng.normal(size=(steps, 3)))
            obs.create_dataset("robot0_eef_quat", data=rng.normal(size=(steps, 4)))
            obs.create_dataset("object", data=rng.normal(size=(steps - (1 if i == truncate_demo else 0), 10)))
            obs.create_dataset("agentview_image", data=np.zeros((steps, 8, 8, 3), dtype=np.uint8))
            demo.create_group("next_obs")
            total += steps
        data.attrs["total"] = total
        mask = file.create_group("mask")
        mask.create_dataset("train", data=np.array([b"demo_0", b"demo_1", b"demo_2"]))
        mask.create_dataset("valid", data=np.array([b"demo_3"]))


def test_robomimic_hdf5(tmp_path):
    path = str(tmp_path / "low_dim.hdf5")
    write_robomimic(path)
    demos = load_demonstrations(path)
    assert demos.metadata["obs_keys"] == ["object", "robot0_eef_pos", "robot0_eef_quat"]  # low-dim keys, sorted; no image
    assert demos.observations.shape == (20 + 21 + 22 + 23, 17) and demos.actions.shape == (86, 7)
    assert demos.metadata["env_args"]["env_name"] == "Lift" and demos.n_episodes == 4
    np.testing.assert_allclose(demos.episode_returns, [1, 1, 1, 1])
    with h5py.File(path) as file:
        expected = np.concatenate([file["data/demo_1/obs/robot0_eef_pos"][()], file["data/demo_1/obs/object"][()]], axis=1)
    valid = load_demonstrations(path, obs_keys=["robot0_eef_pos", "object"], filter_key="valid")
    assert valid.metadata["demos"] == ["demo_3"] and valid.observations.shape == (23, 13)
    train = load_demonstrations(path, obs_keys=["robot0_eef_pos", "object"], filter_key="train")
    np.testing.assert_allclose(train.observations[20:41], expected, rtol=1e-6)
    assert train.describe_observation() == "robot0_eef_pos=3, object=10"


def test_robomimic_errors(tmp_path):
    path = str(tmp_path / "low_dim.hdf5")
    write_robomimic(path)
    with pytest.raises(ValueError, match=r"unknown filter key 'test' .* expected one of \['train', 'valid'\]"):
        load_demonstrations(path, filter_key="test")
    with pytest.raises(
        ValueError,
        match=r"observation keys \['robot0_joint_pos'\] not found .* available keys and sizes: \{'agentview_image': 192, 'object': 10,",
    ):
        load_demonstrations(path, obs_keys=["robot0_joint_pos", "object"])
    broken = str(tmp_path / "broken.hdf5")
    write_robomimic(broken, truncate_demo=2)
    with pytest.raises(ValueError, match="demo 'demo_2': obs key 'object' has 21 steps, expected 22"):
        load_demonstrations(broken)
    with open(path, "rb") as source, open(tmp_path / "truncated.hdf5", "wb") as target:
        target.write(source.read()[:2000])
    with pytest.raises(ValueError, match=r"could not read .* as an HDF5 file"):
        load_demonstrations(str(tmp_path / "truncated.hdf5"))
    with pytest.raises(ValueError, match="only for robomimic files"):
        load_demonstrations({"obs": np.zeros((2, 3)), "acts": np.zeros((2, 1))}, filter_key="train")
    with pytest.raises(FileNotFoundError, match="file not found"):
        load_demonstrations(str(tmp_path / "nope.hdf5"))


def test_size_mismatch_names_the_keys(tmp_path):
    path = str(tmp_path / "low_dim.hdf5")
    write_robomimic(path)
    demos = load_demonstrations(path, obs_keys=["robot0_eef_pos"])
    with pytest.raises(
        ValueError, match=r"per-step shape \(3,\), expected \(17,\).*observation keys and sizes: robot0_eef_pos=3"
    ):
        InRILSAC("MlpPolicy", DummyEnv(17, 7), demonstrations=demos)


class DummyEnv(gym.Env):
    def __init__(self, obs_dim: int, act_dim: int) -> None:
        self.observation_space = gym.spaces.Box(-np.inf, np.inf, (obs_dim,), np.float32)
        self.action_space = gym.spaces.Box(-1, 1, (act_dim,), np.float32)

    def reset(self, seed=None, options=None):
        return np.zeros(self.observation_space.shape, np.float32), {}

    def step(self, action):
        return np.zeros(self.observation_space.shape, np.float32), 0.0, False, True, {}


def test_model_records_how_the_file_was_read(tmp_path):
    path = str(tmp_path / "low_dim.hdf5")
    write_robomimic(path)
    demos = load_demonstrations(path, obs_keys=["robot0_eef_pos", "object"], filter_key="train")
    env = DummyEnv(13, 7)
    model = InRILSAC(
        "MlpPolicy", env, demonstrations=demos, learning_starts=10, batch_size=16, policy_kwargs=dict(net_arch=[16])
    )
    assert model.demonstrations == DemonstrationSpec(path, {"obs_keys": ["robot0_eef_pos", "object"], "filter_key": "train"})
    model.learn(20)
    model.save(tmp_path / "model")
    loaded = InRILSAC.load(tmp_path / "model", env=env)
    assert len(loaded.demo_buffer) + loaded.demo_buffer.n_val == 20 + 21 + 22


def test_minari_dataset_by_id_and_path(tmp_path, monkeypatch):
    import minari
    from minari.data_collector import EpisodeBuffer

    # minari's own writer. (Its DataCollector wrapper needs jax, from minari[create], which this
    # project does not install: the buffers are filled by hand from real env steps instead.)
    monkeypatch.setenv("MINARI_DATASETS_PATH", str(tmp_path / "minari"))
    env = gym.make("Pendulum-v1", max_episode_steps=25)
    buffers = []
    for episode_index in range(3):
        obs, _ = env.reset(seed=episode_index)
        observations, actions, rewards, terminations, truncations = [obs], [], [], [], []
        done = False
        while not done:
            action = env.action_space.sample()
            obs, reward, terminated, truncated, _ = env.step(action)
            observations.append(obs)
            actions.append(action)
            rewards.append(reward)
            terminations.append(terminated)
            truncations.append(truncated)
            done = terminated or truncated
        buffers.append(
            EpisodeBuffer(
                id=episode_index,
                observations=np.array(observations),
                actions=np.array(actions),
                rewards=rewards,
                terminations=terminations,
                truncations=truncations,
                infos={},
            )
        )
    minari.create_dataset_from_buffers("pendulum/random-v0", buffers, env=env, algorithm_name="random")
    assert "pendulum/random-v0" in minari.list_local_datasets()
    by_id = load_demonstrations("pendulum/random-v0")
    assert by_id.n_episodes == 3 and by_id.observations.shape == (75, 3) and by_id.metadata["format"] == "minari"
    reference = minari.load_dataset("pendulum/random-v0")
    episode = next(iter(reference.iterate_episodes()))
    np.testing.assert_array_equal(by_id.actions[:25], episode.actions)
    by_path = load_demonstrations(str(tmp_path / "minari" / "pendulum" / "random-v0"))
    np.testing.assert_array_equal(by_path.observations, by_id.observations)
    InRILPPO("MlpPolicy", "Pendulum-v1", demonstrations=by_id, n_steps=64, batch_size=16).learn(64)
    with pytest.raises(FileNotFoundError, match="never downloaded"):
        load_demonstrations("pendulum/expert-v9")


def test_npz_round_trip_and_imitation_export(tmp_path, pendulum_demos):
    demos = load_demonstrations(pendulum_demos)
    demos.rewards = np.ones(len(demos.actions), np.float32)
    save_demonstrations(demos, str(tmp_path / "out.npz"))
    again = load_demonstrations(str(tmp_path / "out.npz"))
    np.testing.assert_array_equal(again.observations, demos.observations)
    np.testing.assert_array_equal(again.episode_starts, demos.episode_starts)
    save_demonstrations(again, str(tmp_path / "imitation_dir"), format="imitation")
    exported = load_demonstrations(str(tmp_path / "imitation_dir"))
    np.testing.assert_array_equal(exported.actions, demos.actions)
    assert exported.n_episodes == 10
    assert os.path.isdir(tmp_path / "imitation_dir")


def dict_demos(n_episodes: int = 3, length: int = 8) -> dict:
    rng = np.random.default_rng(0)
    n = n_episodes * length
    return {
        "obs": {"observation": rng.integers(0, 2, (n, 4)), "goal": rng.normal(size=(n, 2)).astype(np.float32)},
        "acts": rng.uniform(-1, 1, (n, 2)).astype(np.float32),
        "rewards": rng.normal(size=n).astype(np.float32),
        "dones": np.tile(np.arange(length) == length - 1, n_episodes),
    }


def test_dict_observations_npz_and_imitation_round_trip(tmp_path):
    from imitation.data import types

    source = load_demonstrations(dict_demos())
    assert source.is_dict and source.n_episodes == 3
    written = save_demonstrations(source, str(tmp_path / "dict_demos"))
    assert written == str(tmp_path / "dict_demos.npz")
    with np.load(written) as data:
        assert {"obs/observation", "obs/goal"} <= set(data.files)
    again = load_demonstrations(written)
    for key in ("observation", "goal"):
        np.testing.assert_array_equal(again.observations[key], source.observations[key])
    np.testing.assert_array_equal(again.dones, source.dones)
    np.testing.assert_array_equal(again.rewards, source.rewards)
    # imitation's DictObs trajectories are read; its dataset format can not hold them (imitation says so).
    trajectories = [
        types.TrajectoryWithRew(
            obs=types.DictObs(
                {key: np.concatenate([value[s : s + 8], value[s + 7 : s + 8]]) for key, value in again.observations.items()}
            ),
            acts=again.actions[s : s + 8],
            infos=None,
            terminal=True,
            rews=again.rewards[s : s + 8],
        )
        for s in (0, 8, 16)
    ]
    from_imitation = load_demonstrations(trajectories)
    np.testing.assert_array_equal(from_imitation.observations["goal"], source.observations["goal"])
    np.testing.assert_array_equal(from_imitation.rewards, source.rewards)
    with pytest.raises(ValueError, match="imitation's dataset format can not hold dict observations"):
        save_demonstrations(again, str(tmp_path / "imitation_dict"), format="imitation")
    assert not os.path.exists(tmp_path / "imitation_dict")


def test_conversion_keeps_what_the_source_has(tmp_path):
    no_rewards = load_demonstrations({k: v for k, v in dict_demos().items() if k != "rewards"})
    no_rewards.observations = no_rewards.observations["goal"]  # imitation's format holds array observations only
    path = save_demonstrations(no_rewards, str(tmp_path / "x.npz"))
    assert load_demonstrations(path).rewards is None  # absent rewards are never invented
    save_demonstrations(no_rewards, str(tmp_path / "imitation"), format="imitation")
    assert load_demonstrations(str(tmp_path / "imitation")).rewards is None
    terminals = no_rewards
    terminals.episode_terminals = np.array([True, False, True])
    again = load_demonstrations(save_demonstrations(terminals, str(tmp_path / "t.npz")))
    np.testing.assert_array_equal(again.episode_terminals, [True, False, True])
    save_demonstrations(terminals, str(tmp_path / "t_imitation"), format="imitation")
    np.testing.assert_array_equal(load_demonstrations(str(tmp_path / "t_imitation")).episode_terminals, [True, False, True])


def test_minari_dict_observations(tmp_path, monkeypatch):
    import minari
    from minari.data_collector import EpisodeBuffer

    monkeypatch.setenv("MINARI_DATASETS_PATH", str(tmp_path / "minari"))
    from stable_baselines3.common.envs import BitFlippingEnv

    env = gym.wrappers.TimeLimit(BitFlippingEnv(n_bits=3, continuous=True, max_steps=6), 6)
    buffers = []
    for episode_index in range(2):
        obs, _ = env.reset(seed=episode_index)
        observations, actions, rewards, terminations, truncations = [obs], [], [], [], []
        for _ in range(4):
            action = env.action_space.sample()
            obs, reward, _, _, _ = env.step(action)
            observations.append(obs)
            actions.append(action)
            rewards.append(reward)
            terminations.append(False)
            truncations.append(False)
        truncations[-1] = True
        stacked = {key: np.array([o[key] for o in observations]) for key in observations[0]}
        buffers.append(
            EpisodeBuffer(
                id=episode_index,
                observations=stacked,
                actions=np.array(actions),
                rewards=rewards,
                terminations=terminations,
                truncations=truncations,
                infos={},
            )
        )
    minari.create_dataset_from_buffers("bits/random-v0", buffers, env=env, algorithm_name="random")
    demos = load_demonstrations("bits/random-v0")
    assert demos.is_dict and set(demos.observations) == {"observation", "achieved_goal", "desired_goal"}
    assert demos.observations["observation"].shape == (8, 3) and demos.n_episodes == 2
    np.testing.assert_array_equal(demos.episode_terminals, [False, False])
    model = InRILSAC("MultiInputPolicy", env, demonstrations=demos, learning_starts=4, batch_size=8, il_interval=2)
    model.learn(12)
    assert model.interleaving.n_il_updates == model.interleaving.n_rl_updates // 2


class RobomimicLikeEnv(DummyEnv):
    """A stand-in for a robomimic env: it says which keys it observes, flat or as a Dict."""

    obs_key_sizes = {"robot0_eef_pos": 3, "object": 10}

    def __init__(self, as_dict: bool = False) -> None:
        super().__init__(13, 7)
        if as_dict:
            self.observation_space = gym.spaces.Dict(
                {key: gym.spaces.Box(-np.inf, np.inf, (size,), np.float32) for key, size in self.obs_key_sizes.items()}
            )

    def reset(self, seed=None, options=None):
        return self.observation_space.sample(), {}

    def step(self, action):
        return self.observation_space.sample(), 0.0, False, True, {}


@pytest.mark.parametrize("as_dict", [False, True])
def test_a_robomimic_path_is_read_with_the_env_keys_also_on_load(tmp_path, as_dict):
    path = str(tmp_path / "low_dim.hdf5")
    write_robomimic(path)
    env = RobomimicLikeEnv(as_dict)
    model = InRILSAC(
        "MlpPolicy" if not as_dict else "MultiInputPolicy", env, demonstrations=path, learning_starts=8, batch_size=8
    )
    # The env's keys in the env's order (gymnasium sorts the keys of a Dict space).
    keys = list(env.observation_space.spaces) if as_dict else ["robot0_eef_pos", "object"]
    expected = {"obs_keys": keys} | ({"observation_format": "dict"} if as_dict else {})
    assert model.demonstrations == DemonstrationSpec(path, expected)
    assert isinstance(model.demo_buffer.observations, dict) is as_dict
    model.save(tmp_path / "model")
    loaded = InRILSAC.load(tmp_path / "model", env=env, demonstrations=path)  # a path given to load is read the same way
    assert loaded.demonstrations == DemonstrationSpec(path, expected)
    assert len(loaded.demo_buffer) + loaded.demo_buffer.n_val == 20 + 21 + 22 + 23
    loaded.learn(16)


def test_robomimic_dict_reading(tmp_path):
    path = str(tmp_path / "low_dim.hdf5")
    write_robomimic(path)
    demos = load_demonstrations(path, observation_format="dict")
    assert list(demos.observations) == ["object", "robot0_eef_pos", "robot0_eef_quat"]
    flat = load_demonstrations(path)
    np.testing.assert_array_equal(
        np.concatenate(list(demos.observations.values()), axis=1).astype(np.float32), flat.observations
    )
    with pytest.raises(ValueError, match="observation_format: expected one of"):
        load_demonstrations(path, observation_format="nested")
