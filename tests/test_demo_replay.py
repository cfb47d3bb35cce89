"""DemonstrationReplayBuffer: RLPD's symmetric sampling through SB3's replay buffer seam."""

import gymnasium as gym
import numpy as np
import pytest
import torch as th
from gymnasium import spaces
from stable_baselines3 import SAC, TD3
from stable_baselines3.common.vec_env import DummyVecEnv, VecNormalize

from sb3_inril import DemonstrationReplayBuffer, Demonstrations, InRILSAC, load_demonstrations
from tests.test_drop_in import SpacesEnv

OBS_SPACE = spaces.Box(-10.0, 10.0, (2,), np.float32)
ACTION_SPACE = spaces.Box(-2.0, 2.0, (1,), np.float32)


def two_episodes() -> Demonstrations:
    # Episode 1: pairs 0, 1, 2, ended in a terminal state; episode 2: pairs 3, 4, truncated.
    observations = np.arange(10, dtype=np.float32).reshape(5, 2)
    return Demonstrations(
        observations=observations,
        actions=np.array([[-2.0], [0.0], [1.0], [2.0], [3.0]], dtype=np.float32),
        episode_starts=np.array([0, 3]),
        rewards=np.array([1.0, 2.0, 3.0, 4.0, 5.0], dtype=np.float32),
        episode_terminals=np.array([True, False]),
    )


def make_buffer(demonstrations=None, **kwargs) -> DemonstrationReplayBuffer:
    return DemonstrationReplayBuffer(
        100, OBS_SPACE, ACTION_SPACE, device="cpu", demonstrations=demonstrations or two_episodes(), **kwargs
    )


def test_demonstration_transitions_by_hand():
    buffer = make_buffer()
    # Kept: 0->1, 1->2, 2 (terminal: done, its next observation masked), 3->4; pair 4 (truncated end) dropped.
    assert buffer.n_demo_transitions == 4
    np.testing.assert_array_equal(buffer.demo_observations, [[0, 1], [2, 3], [4, 5], [6, 7]])
    np.testing.assert_array_equal(buffer.demo_next_observations, [[2, 3], [4, 5], [4, 5], [8, 9]])
    np.testing.assert_array_equal(buffer.demo_dones, [0, 0, 1, 0])
    np.testing.assert_array_equal(buffer.demo_rewards, [1, 2, 3, 4])
    # Stored as SB3 stores the algorithm's own actions: rescaled from [-2, 2] to [-1, 1] (3.0 clipped).
    np.testing.assert_array_equal(buffer.demo_actions, [[-1.0], [0.0], [0.5], [1.0]])
    # Unknown episode ends count as truncated: both last pairs dropped.
    unknown = two_episodes()
    unknown.episode_terminals = None
    assert make_buffer(unknown).n_demo_transitions == 3


def test_chunk_transitions_by_hand():
    # An env acting in chunks of 2 (ActionChunkWrapper: action space (2, 1)): per-step demonstrations
    # become transitions t -> t+2 with the actions t, t+1 and the sum of their rewards.
    chunked = spaces.Box(-2.0, 2.0, (2, 1), np.float32)
    buffer = DemonstrationReplayBuffer(100, OBS_SPACE, chunked, device="cpu", demonstrations=two_episodes())
    # Episode 1 (pairs 0-2, terminal): 0 -> 2; 1 with actions 1, 2 reaches the terminal end (done, its
    # next observation masked); 2 with action 2 edge-padded (done). Episode 2 (pairs 3-4) ends truncated
    # before 3 + 2: both dropped.
    assert buffer.n_demo_transitions == 3 and buffer.demo_chunk_size == 2
    np.testing.assert_array_equal(buffer.demo_observations, [[0, 1], [2, 3], [4, 5]])
    np.testing.assert_array_equal(buffer.demo_next_observations, [[4, 5], [2, 3], [4, 5]])
    np.testing.assert_array_equal(buffer.demo_dones, [0, 1, 1])
    np.testing.assert_array_equal(buffer.demo_rewards, [1 + 2, 2 + 3, 3])
    # Flat rows, as SB3 stores the online actions, and mixed with them in one minibatch.
    np.testing.assert_array_equal(buffer.demo_actions, [[-1.0, 0.0], [0.0, 0.5], [0.5, 0.5]])
    buffer.add(np.zeros((1, 2)), np.ones((1, 2)), np.zeros((1, 2, 1)), np.zeros(1), np.zeros(1), [{}])
    assert buffer.sample(4).actions.shape == (4, 2)


def test_minibatches_are_half_demonstrations():
    buffer = make_buffer()
    for step in range(10):
        obs = np.full((1, 2), 100.0 + step, dtype=np.float32)  # online observations are >= 100
        buffer.add(obs, obs + 0.5, np.array([[0.25]]), np.array([-1.0]), np.array([False]), [{}])
    np.random.seed(0)
    batch = buffer.sample(9)
    assert batch.observations.shape == (9, 2) and batch.actions.shape == (9, 1) and batch.rewards.shape == (9, 1)
    n_demo = int((batch.observations[:, 0] < 100).sum())
    assert n_demo == round(0.5 * 9) == 4  # online rows first, then the demonstrations' rows
    online, demo = batch.observations[: 9 - n_demo], batch.observations[9 - n_demo :]
    assert th.all(online >= 100) and th.all(demo < 10)
    assert th.all(batch.rewards[: 9 - n_demo] == -1.0) and th.all(batch.rewards[9 - n_demo :] > 0)
    assert batch.discounts is None
    # The demonstrations' rows are transitions: next = the following pair except at the terminal one.
    for row in range(9 - n_demo, 9):
        obs, next_obs, done = batch.observations[row], batch.next_observations[row], batch.dones[row]
        assert th.equal(next_obs, obs) if done else th.equal(next_obs, obs + 2)
    quarter = make_buffer(demo_fraction=0.25)
    quarter.add(np.zeros((1, 2)), np.zeros((1, 2)), np.zeros((1, 1)), np.zeros(1), np.array([False]), [{}])
    assert int((quarter.sample(8).rewards > 0).sum()) == 2


def test_demonstrations_normalised_as_the_online_samples():
    venv = VecNormalize(DummyVecEnv([lambda: gym.make("Pendulum-v1")]), norm_reward=True)
    venv.reset()
    for _ in range(20):
        venv.step(np.array([[0.5]]))
    space = venv.observation_space
    demos = Demonstrations(
        observations=np.ones((4, 3), np.float32),
        actions=np.zeros((4, 1), np.float32),
        episode_starts=np.array([0]),
        rewards=np.full(4, -3.0, np.float32),
        episode_terminals=np.array([True]),
    )
    buffer = DemonstrationReplayBuffer(10, space, venv.action_space, device="cpu", demonstrations=demos, demo_fraction=0.5)
    buffer.add(np.ones((1, 3)), np.ones((1, 3)), np.zeros((1, 1)), np.array([-3.0]), np.array([False]), [{}])
    batch = buffer.sample(4, env=venv)
    expected_obs = th.as_tensor(venv.normalize_obs(np.ones((1, 3), np.float32)))
    assert th.allclose(batch.observations, expected_obs.expand(4, 3))
    assert th.allclose(batch.rewards, th.as_tensor(venv.normalize_reward(np.array([-3.0]))).float().expand(4, 1))


@pytest.mark.parametrize("algo_class", [SAC, TD3, InRILSAC])
def test_drop_in_for_off_policy_algorithms_with_save_and_load(tmp_path, algo_class):
    kwargs = dict(demonstrations="shipped:Pendulum-v1/medium") if algo_class is InRILSAC else {}
    model = algo_class(
        "MlpPolicy",
        "Pendulum-v1",
        replay_buffer_class=DemonstrationReplayBuffer,
        replay_buffer_kwargs=dict(demonstrations="shipped:Pendulum-v1/medium", demo_fraction=0.5),
        learning_starts=16,
        batch_size=32,
        seed=0,
        device="cpu",
        **kwargs,
    )
    assert model.replay_buffer.n_demo_transitions == 4000 - 20  # 20 truncated episodes of 200 pairs
    model.learn(48)
    assert model.replay_buffer.size() == 48
    model.save(tmp_path / "model")
    loaded = algo_class.load(tmp_path / "model", env=gym.make("Pendulum-v1"), device="cpu")
    assert isinstance(loaded.replay_buffer, DemonstrationReplayBuffer) and loaded.replay_buffer.demo_fraction == 0.5
    model.save_replay_buffer(tmp_path / "buffer")
    loaded.load_replay_buffer(tmp_path / "buffer")
    assert loaded.replay_buffer.size() == 48 and loaded.replay_buffer.n_demo_transitions == 3980
    loaded.learn(16, reset_num_timesteps=False)


def test_observations_as_the_env_returns_them_are_stored_as_sb3_stores_the_online_ones():
    # A Discrete observation: one integer per pair from the env, a row of one value in SB3's buffer.
    discrete = two_episodes()
    discrete.observations = np.array([0, 1, 2, 3, 4])
    buffer = DemonstrationReplayBuffer(10, spaces.Discrete(5), ACTION_SPACE, device="cpu", demonstrations=discrete)
    np.testing.assert_array_equal(buffer.demo_observations, [[0], [1], [2], [3]])
    np.testing.assert_array_equal(buffer.demo_next_observations, [[1], [2], [2], [4]])
    # A channel-last image env: SB3 gives its buffer the channel-first space of VecTransposeImage.
    images = two_episodes()
    images.observations = np.random.default_rng(0).integers(0, 256, (5, 8, 6, 3), dtype=np.uint8)
    channel_first = spaces.Box(0, 255, (3, 8, 6), np.uint8)
    buffer = DemonstrationReplayBuffer(10, channel_first, ACTION_SPACE, device="cpu", demonstrations=images)
    np.testing.assert_array_equal(buffer.demo_observations, images.observations[:4].transpose(0, 3, 1, 2))
    with pytest.raises(ValueError, match=r"field 'obs' expected rows of shape \(3, 8, 6\).*found \(8, 3, 6\)"):
        images.observations = images.observations.transpose(0, 1, 3, 2)  # neither layout
        DemonstrationReplayBuffer(10, channel_first, ACTION_SPACE, device="cpu", demonstrations=images)


@pytest.mark.parametrize("observation_space", [spaces.Discrete(4), spaces.Box(0, 255, (36, 36, 3), np.uint8)])
def test_off_policy_learning_on_discrete_and_image_observations(observation_space):
    env = SpacesEnv(observation_space, ACTION_SPACE)
    observation_space.seed(0)
    demos = Demonstrations(
        observations=np.stack([observation_space.sample() for _ in range(20)]),
        actions=np.linspace(-2.0, 2.0, 20, dtype=np.float32).reshape(20, 1),
        episode_starts=np.array([0, 10]),
        rewards=np.ones(20, np.float32),
    )
    policy = "CnnPolicy" if isinstance(observation_space, spaces.Box) else "MlpPolicy"
    model = InRILSAC(
        policy,
        env,
        demonstrations=demos,
        replay_buffer_class=DemonstrationReplayBuffer,
        replay_buffer_kwargs=dict(demonstrations=demos),
        learning_starts=8,
        batch_size=8,
        buffer_size=50,
        policy_kwargs=dict(net_arch=[8], features_extractor_kwargs=dict(features_dim=8)) if policy == "CnnPolicy" else None,
        seed=0,
        device="cpu",
    )
    assert model.replay_buffer.demo_observations.shape[1:] == model.replay_buffer.obs_shape
    model.learn(16)
    assert model.interleaving.n_rl_updates == 8


def test_bad_inputs():
    no_rewards = two_episodes()
    no_rewards.rewards = None
    with pytest.raises(ValueError, match="field 'rewards' expected"):
        make_buffer(no_rewards)
    for fraction in (0, 1, 1.5, -0.1):
        with pytest.raises(ValueError, match=r"demo_fraction: expected a finite value in \(0.0, 1.0\), found"):
            make_buffer(demo_fraction=fraction)
    for fraction in (True, "0.5", None):
        with pytest.raises(TypeError, match=r"demo_fraction: expected a number, found"):
            make_buffer(demo_fraction=fraction)
    with pytest.raises(ValueError, match="demonstrations expected"):
        DemonstrationReplayBuffer(10, OBS_SPACE, ACTION_SPACE, device="cpu")
    with pytest.raises(TypeError, match="found a Dict space"):
        DemonstrationReplayBuffer(10, spaces.Dict({"a": OBS_SPACE}), ACTION_SPACE, demonstrations=two_episodes())
    with pytest.raises(ValueError, match="action_space expected a bounded Box"):
        DemonstrationReplayBuffer(10, OBS_SPACE, spaces.Box(-np.inf, np.inf, (1,)), demonstrations=two_episodes())
    with pytest.raises(ValueError, match=r"field 'obs' expected rows of shape \(3,\).*found \(2,\)"):
        DemonstrationReplayBuffer(10, spaces.Box(-1, 1, (3,)), ACTION_SPACE, device="cpu", demonstrations=two_episodes())
    with pytest.raises(ValueError, match="field 'acts' expected 2 values per action"):
        DemonstrationReplayBuffer(10, OBS_SPACE, spaces.Box(-1, 1, (2,)), device="cpu", demonstrations=two_episodes())
    with pytest.raises(FileNotFoundError):
        make_buffer("/nonexistent/demos.npz")


def test_compare_rejects_rlpd_on_policy():
    from scripts.compare import main, method_kwargs

    with pytest.raises(SystemExit):
        main(["--algo", "ppo", "--methods", "rlpd", "--out", "/tmp/never_written"])
    kwargs = method_kwargs("rlpd_warmup", 10, 500, demos="shipped:Pendulum-v1/medium")
    assert kwargs["replay_buffer_class"] is DemonstrationReplayBuffer and kwargs["critic_warmup_steps"] == 500
    assert kwargs["replay_buffer_kwargs"] == dict(demonstrations="shipped:Pendulum-v1/medium", demo_fraction=0.5)


def test_a_robomimic_file_is_read_with_the_envs_keys():
    """A robomimic file records more keys than the env observes (Lift: 55 values, the env 19): IN-RIL's
    classes read the replayed demonstrations with the env's keys, as their IL steps do (compare.py's
    rlpd on Lift failed without it); a plain SB3 algorithm gets an error that says how."""
    from sb3_inril import InRILIDQL
    from sb3_inril.data import SHIPPED_PREFIX
    from sb3_inril.demos.chunking import ActionChunkWrapper

    shipped = f"{SHIPPED_PREFIX}robomimic/Lift-v0/scripted"
    env = gym.make("robomimic/Lift-v0", horizon=20)
    replay = dict(replay_buffer_class=DemonstrationReplayBuffer, replay_buffer_kwargs=dict(demonstrations=shipped))
    model = InRILSAC("MlpPolicy", env, demonstrations=shipped, learning_starts=0, device="cpu", **replay)
    buffer = model.replay_buffer
    assert isinstance(buffer, DemonstrationReplayBuffer) and buffer.demo_observations.shape[1:] == (19,)
    # The rows the IL steps read: the file read with the env's keys, in the env's order.
    expected = load_demonstrations(shipped, obs_keys=list(env.unwrapped.obs_key_sizes)).observations[0]
    assert np.array_equal(buffer.demo_observations[0], expected)
    # Keys given by the user win; chunked envs (IDQL's chunks of 4) too.
    chunked = InRILIDQL(
        "MlpPolicy", ActionChunkWrapper(env, chunk_size=4), demonstrations=shipped, learning_starts=0, device="cpu",
        policy_kwargs=dict(denoising_steps=2, net_arch=dict(pi=[8], qf=[8], vf=[8])), **replay,
    )  # fmt: skip
    assert chunked.replay_buffer.demo_observations.shape[1:] == (19,)
    with pytest.raises(ValueError, match=r"expected rows of shape \(19,\).*found \(55,\).*demo_load_kwargs=dict\(obs_keys"):
        SAC("MlpPolicy", env, device="cpu", **replay)
