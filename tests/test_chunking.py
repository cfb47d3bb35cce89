"""Action chunks: the wrapper's execution and reward bookkeeping, demonstrations cut into chunks, and
auto-chunking when per-step demonstrations meet a chunked env."""

import math
import os
import subprocess
import sys
from typing import Any

import gymnasium as gym
import numpy as np
import pytest
import yaml
from gymnasium import spaces
from stable_baselines3.common.env_checker import check_env
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.vec_env import VecNormalize

from sb3_inril import InRILPPO, InRILSAC
from sb3_inril.demos.chunking import ActionChunkWrapper, chunk_demonstrations
from sb3_inril.demos.demonstrations import Demonstrations


class CounterEnv(gym.Env):
    """Deterministic: the reward of step t (1-based) is t, the observation is t; it records the actions."""

    def __init__(self, terminate_at: int | None = None, success_at: int | None = None) -> None:
        self.observation_space = spaces.Box(0.0, 1000.0, (1,), np.float32)
        self.action_space = spaces.Box(np.array([-1.0, -2.0], np.float32), np.array([1.0, 3.0], np.float32))
        self.terminate_at, self.success_at = terminate_at, success_at
        self.t = 0
        self.actions: list[np.ndarray] = []

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[np.ndarray, dict]:
        super().reset(seed=seed)
        self.t = 0
        return np.zeros(1, np.float32), {}

    def step(self, action: np.ndarray) -> tuple[np.ndarray, float, bool, bool, dict]:
        self.t += 1
        self.actions.append(np.array(action))
        info = {"step": self.t}
        if self.success_at is not None:
            info["is_success"] = self.t >= self.success_at
        terminated = self.terminate_at is not None and self.t >= self.terminate_at
        return np.array([self.t], np.float32), float(self.t), terminated, False, info


def chunk_of(horizon: int, start: float = 0.0) -> np.ndarray:
    """A chunk of distinct in-bounds actions."""
    return (start + np.arange(horizon * 2, dtype=np.float32).reshape(horizon, 2)) / 100.0


# -- the wrapper -------------------------------------------------------------------------------------
def test_action_space_tiles_the_bounds():
    env = ActionChunkWrapper(CounterEnv(), chunk_size=3)
    assert env.action_space.shape == (3, 2) and env.action_space.dtype == np.float32
    np.testing.assert_array_equal(env.action_space.low, [[-1.0, -2.0]] * 3)
    np.testing.assert_array_equal(env.action_space.high, [[1.0, 3.0]] * 3)
    assert env.observation_space == env.env.observation_space
    assert env.action_chunk_size == 3


def test_actions_run_in_order_and_rewards_sum():
    inner = CounterEnv()
    env = ActionChunkWrapper(inner, chunk_size=4)
    env.reset()
    first, second = chunk_of(4), chunk_of(4, start=50.0)
    observation, reward, terminated, truncated, info = env.step(first)
    assert reward == 1 + 2 + 3 + 4 and not terminated and not truncated
    assert info["chunk_steps"] == 4 and info["step"] == 4  # the last executed step's info
    np.testing.assert_array_equal(info["chunk_rewards"], [1, 2, 3, 4])
    np.testing.assert_array_equal(observation, [4.0])
    _, reward, *_ = env.step(second)
    assert reward == 5 + 6 + 7 + 8
    np.testing.assert_array_equal(np.stack(inner.actions), np.concatenate([first, second]))


def test_discounted_chunks_give_the_per_step_discounted_return():
    g, horizon, n_chunks = 0.9, 4, 3
    env = ActionChunkWrapper(CounterEnv(), chunk_size=horizon, reward_discount=g)
    env.reset()
    chunk_rewards = [env.step(chunk_of(horizon))[1] for _ in range(n_chunks)]
    assert chunk_rewards[0] == pytest.approx(1 + 0.9 * 2 + 0.81 * 3 + 0.729 * 4)
    # The agent's return with gamma = g**H equals the per-step return discounted by g.
    agent_return = sum((g**horizon) ** k * reward for k, reward in enumerate(chunk_rewards))
    per_step_return = sum(g ** (t - 1) * t for t in range(1, horizon * n_chunks + 1))
    assert agent_return == pytest.approx(per_step_return)


def test_termination_inside_a_chunk_stops_execution():
    inner = CounterEnv(terminate_at=6)
    env = ActionChunkWrapper(inner, chunk_size=4)
    env.reset()
    env.step(chunk_of(4))
    observation, reward, terminated, truncated, info = env.step(chunk_of(4, start=50.0))
    assert terminated and not truncated
    assert len(inner.actions) == 6  # steps 7 and 8 of the chunk are not executed
    assert reward == 5 + 6 and info["chunk_steps"] == 2 and info["step"] == 6
    np.testing.assert_array_equal(info["chunk_rewards"], [5, 6])
    np.testing.assert_array_equal(observation, [6.0])


def test_time_limit_inside_a_chunk():
    inner = CounterEnv()
    env = ActionChunkWrapper(gym.wrappers.TimeLimit(inner, max_episode_steps=5), chunk_size=4)
    env.reset()
    assert env.step(chunk_of(4))[3] is False
    _, reward, terminated, truncated, info = env.step(chunk_of(4))
    assert truncated and not terminated
    assert len(inner.actions) == 5 and reward == 5 and info["chunk_steps"] == 1
    env.reset()  # a new episode starts a full chunk again
    assert env.step(chunk_of(4))[4]["chunk_steps"] == 4


def test_is_success_is_forwarded():
    env = ActionChunkWrapper(CounterEnv(terminate_at=6, success_at=6), chunk_size=4)
    env.reset()
    assert env.step(chunk_of(4))[4]["is_success"] is False
    _, _, terminated, _, info = env.step(chunk_of(4))
    assert terminated and info["is_success"] is True


def test_chunk_size_is_found_through_wrappers_and_vec_envs():
    env = gym.wrappers.RecordEpisodeStatistics(ActionChunkWrapper(gym.make("Pendulum-v1"), chunk_size=2))
    assert env.get_wrapper_attr("action_chunk_size") == 2
    vec_env = VecNormalize(
        make_vec_env("Pendulum-v1", n_envs=2, wrapper_class=ActionChunkWrapper, wrapper_kwargs={"chunk_size": 3})
    )
    assert vec_env.has_attr("action_chunk_size") and vec_env.get_attr("action_chunk_size") == [3, 3]
    assert vec_env.action_space.shape == (3, 1)
    check_env(ActionChunkWrapper(gym.make("Pendulum-v1"), chunk_size=3), warn=False)


@pytest.mark.parametrize(
    "kwargs, exception, fragment",
    [
        ({"chunk_size": 0}, ValueError, "chunk_size: expected a positive int, found 0"),
        ({"chunk_size": 2.0}, TypeError, "chunk_size: expected a positive int, found float"),
        ({"chunk_size": True}, TypeError, "chunk_size"),
        ({"chunk_size": 2, "reward_discount": 1.5}, ValueError, "reward_discount: expected a finite value in [0.0, 1.0]"),
        ({"chunk_size": 2, "reward_discount": math.nan}, ValueError, "reward_discount"),
        ({"chunk_size": 2, "reward_discount": "1"}, TypeError, "reward_discount: expected a number"),
    ],
)
def test_bad_arguments(kwargs, exception, fragment):
    with pytest.raises(exception, match="ActionChunkWrapper: " + fragment.replace("[", r"\[").replace("(", r"\(")):
        ActionChunkWrapper(CounterEnv(), **kwargs)


def test_bad_action_space_and_action_shape():
    with pytest.raises(TypeError, match=r"action_space is Discrete\(2\), expected a Box"):
        ActionChunkWrapper(gym.make("CartPole-v1"), chunk_size=2)
    env = ActionChunkWrapper(CounterEnv(), chunk_size=3)
    env.reset()
    with pytest.raises(ValueError, match=r"the action has shape \(6,\), expected \(3, 2\)"):
        env.step(np.zeros(6, np.float32))


# -- demonstrations ------------------------------------------------------------------------------------
def two_episodes(**extra: Any) -> Demonstrations:
    """Episodes of 4 and 2 steps; action t is (t, -t), reward t, observation 10 t."""
    actions = np.stack([np.arange(6.0), -np.arange(6.0)], axis=1)
    return Demonstrations(
        observations=10.0 * np.arange(6.0)[:, None],
        actions=actions,
        episode_starts=np.array([0, 4]),
        rewards=np.arange(6.0),
        dones=np.array([0, 0, 0, 1, 0, 1], bool),
        episode_terminals=np.array([True, False]),
        infos=[{"t": t} for t in range(6)],
        metadata={"format": "arrays"},
        **extra,
    )


def test_chunks_pad_the_episode_tails_with_the_last_action():
    chunked = chunk_demonstrations(two_episodes(), chunk_size=3)
    expected = np.array([[0, 1, 2], [1, 2, 3], [2, 3, 3], [3, 3, 3], [4, 5, 5], [5, 5, 5]], dtype=float)
    np.testing.assert_array_equal(chunked.actions[..., 0], expected)
    np.testing.assert_array_equal(chunked.actions[..., 1], -expected)
    assert chunked.actions.shape == (6, 3, 2)
    np.testing.assert_array_equal(chunked.observations, 10.0 * np.arange(6.0)[:, None])  # per step
    np.testing.assert_array_equal(chunked.rewards, [0 + 1 + 2, 1 + 2 + 3, 2 + 3, 3, 4 + 5, 5])  # no padded rewards
    np.testing.assert_array_equal(chunked.episode_starts, [0, 4])
    np.testing.assert_array_equal(chunked.dones, [0, 0, 0, 1, 0, 1])
    np.testing.assert_array_equal(chunked.episode_terminals, [True, False])
    assert chunked.infos == [{"t": t} for t in range(6)]
    assert chunked.metadata == {"format": "arrays", "action_chunk_size": 3, "action_chunk_tail": "pad"}
    assert chunked.spec is None


def test_chunks_dropping_the_tails():
    chunked = chunk_demonstrations(two_episodes(), chunk_size=3, tail="drop")
    np.testing.assert_array_equal(chunked.actions[..., 0], [[0, 1, 2], [1, 2, 3]])  # episode 2 is shorter than 3
    np.testing.assert_array_equal(chunked.observations, [[0.0], [10.0]])
    np.testing.assert_array_equal(chunked.rewards, [3, 6])
    np.testing.assert_array_equal(chunked.episode_starts, [0])
    np.testing.assert_array_equal(chunked.dones, [0, 1])
    np.testing.assert_array_equal(chunked.episode_terminals, [True])
    assert chunked.infos == [{"t": 0}, {"t": 1}]
    two = chunk_demonstrations(two_episodes(), chunk_size=2, tail="drop")
    np.testing.assert_array_equal(two.actions[..., 0], [[0, 1], [1, 2], [2, 3], [4, 5]])
    np.testing.assert_array_equal(two.episode_starts, [0, 3])
    np.testing.assert_array_equal(two.dones, [0, 0, 1, 1])
    with pytest.raises(ValueError, match=r"tail='drop' leaves no pair: every episode is shorter than chunk_size=5"):
        chunk_demonstrations(two_episodes(), chunk_size=5, tail="drop")


def test_chunk_size_one_and_missing_fields():
    demos = Demonstrations(np.zeros((3, 1)), np.arange(3.0)[:, None], np.array([0]))
    chunked = chunk_demonstrations(demos, chunk_size=1)
    np.testing.assert_array_equal(chunked.actions, np.arange(3.0)[:, None, None])
    assert chunked.rewards is None and chunked.dones is None and chunked.infos is None


def test_dict_observations_are_kept():
    observations = {"pos": np.arange(6.0)[:, None], "image": np.arange(6 * 4, dtype=np.uint8).reshape(6, 2, 2)}
    demos = Demonstrations(observations, np.arange(6.0)[:, None], np.array([0, 4]))
    for tail, rows in (("pad", np.arange(6)), ("drop", np.array([0, 1]))):
        chunked = chunk_demonstrations(demos, chunk_size=3, tail=tail)
        assert isinstance(chunked.observations, dict) and set(chunked.observations) == {"pos", "image"}
        for key, value in observations.items():
            np.testing.assert_array_equal(chunked.observations[key], value[rows])
            assert chunked.observations[key].dtype == value.dtype


def test_mappings_are_accepted(pendulum_demos):
    chunked = chunk_demonstrations(pendulum_demos, chunk_size=4)
    assert chunked.actions.shape == (500, 4, 1) and chunked.n_episodes == 10


@pytest.mark.parametrize(
    "kwargs, exception, fragment",
    [
        ({"chunk_size": 0}, ValueError, "chunk_demonstrations: chunk_size: expected a positive int, found 0"),
        ({"chunk_size": "3"}, TypeError, "chunk_demonstrations: chunk_size"),
        ({"chunk_size": 3, "tail": "edge"}, ValueError, "chunk_demonstrations: tail: expected one of"),
    ],
)
def test_chunk_demonstrations_bad_arguments(kwargs, exception, fragment):
    with pytest.raises(exception, match=fragment):
        chunk_demonstrations(two_episodes(), **kwargs)


def test_chunked_demonstrations_are_not_chunked_again():
    chunked = chunk_demonstrations(two_episodes(), chunk_size=3)
    with pytest.raises(ValueError, match=r"expected per-step actions, found demonstrations already chunked"):
        chunk_demonstrations(chunked, chunk_size=3)


# -- auto-chunking when attached -----------------------------------------------------------------------
def chunked_pendulum(chunk_size: int = 3) -> gym.Env:
    return ActionChunkWrapper(gym.make("Pendulum-v1"), chunk_size=chunk_size)


ALGOS = {
    InRILPPO: dict(n_steps=64, batch_size=32, n_epochs=1),
    InRILSAC: dict(learning_starts=50, batch_size=16, train_freq=4),
}


@pytest.mark.parametrize("inril_class", [InRILPPO, InRILSAC])
def test_per_step_demonstrations_are_chunked_at_attach(pendulum_demos, inril_class, capsys):
    model = inril_class(
        "MlpPolicy",
        chunked_pendulum(),
        demonstrations=pendulum_demos,
        il_interval=1,
        seed=0,
        verbose=1,
        policy_kwargs=dict(net_arch=[32]),
        **ALGOS[inril_class],
    )
    messages = [line for line in capsys.readouterr().out.splitlines() if "cut into chunks of 3" in line]
    assert len(messages) == 1
    model.learn(256)
    assert model.interleaving.n_il_updates > 0
    assert model.demo_buffer.actions.shape[1] == 3 * 1  # (H, A) flattened, as the policy's action space
    # The same data as chunking by hand.
    by_hand = inril_class(
        "MlpPolicy", chunked_pendulum(), demonstrations=chunk_demonstrations(pendulum_demos, 3), seed=0, **ALGOS[inril_class]
    )
    assert np.array_equal(model.demo_buffer.actions.cpu().numpy(), by_hand.demo_buffer.actions.cpu().numpy())


def test_diffusion_policy_on_chunks(pendulum_demos):
    model = InRILPPO(
        "DiffusionPolicy",
        chunked_pendulum(4),
        demonstrations=pendulum_demos,
        il_interval=1,
        n_steps=64,
        batch_size=32,
        n_epochs=1,
        seed=0,
        policy_kwargs=dict(denoising_steps=5, denoiser_net_arch=[32, 32]),
    )
    model.pretrain(n_steps=3)  # behaviour cloning on the chunks too
    model.learn(128)
    assert model.interleaving.n_il_updates > 0 and model.demo_buffer.actions.shape[1] == 4
    assert model.predict(model.env.reset(), deterministic=True)[0].shape == (1, 4, 1)


def test_chunked_at_attach_through_vec_normalize_and_after_load(demos_npz, tmp_path):
    vec_env = VecNormalize(
        make_vec_env("Pendulum-v1", n_envs=2, wrapper_class=ActionChunkWrapper, wrapper_kwargs={"chunk_size": 2})
    )
    model = InRILPPO("MlpPolicy", vec_env, demonstrations=demos_npz, il_interval=1, n_steps=32, batch_size=32, n_epochs=1)
    model.learn(64)
    assert model.demo_buffer.actions.shape[1] == 2 and model.interleaving.n_il_updates > 0
    model.save(tmp_path / "model")
    loaded = InRILPPO.load(tmp_path / "model", env=chunked_pendulum(2))
    loaded.learn(32)  # the recorded file is read again, and chunked again
    assert loaded.demo_buffer.actions.shape[1] == 2


def test_mismatched_action_shapes_still_fail(pendulum_demos):
    wrong_width = dict(pendulum_demos, acts=np.repeat(pendulum_demos["acts"], 2, axis=1))
    with pytest.raises(ValueError, match=r"field 'acts' has per-step shape \(2,\), expected \(3, 1\)"):
        InRILPPO("MlpPolicy", chunked_pendulum(), demonstrations=wrong_width)
    other_chunks = chunk_demonstrations(pendulum_demos, 2)
    with pytest.raises(ValueError, match=r"field 'acts' has per-step shape \(2, 1\), expected \(3, 1\)"):
        InRILPPO("MlpPolicy", chunked_pendulum(), demonstrations=other_chunks)
    with pytest.raises(ValueError, match=r"field 'acts' has per-step shape \(3, 1\), expected \(1,\)"):
        InRILPPO("MlpPolicy", "Pendulum-v1", demonstrations=chunk_demonstrations(pendulum_demos, 3))  # env not chunked


@pytest.mark.slow
def test_zoo_env_wrapper_key(tmp_path, pendulum_demos):
    """rl_zoo3's `env_wrapper` key chunks the env; the per-step demonstrations follow (also in BC pre-training)."""
    np.savez(tmp_path / "demos.npz", **pendulum_demos)
    entry = {
        "policy": "MlpPolicy",
        "n_timesteps": 128,
        "n_steps": 64,
        "batch_size": 16,
        "n_epochs": 1,
        "il_interval": 1,
        "demonstrations": "demos.npz",
        "pretrain_kwargs": {"n_steps": 5},
        "env_wrapper": [{"sb3_inril.demos.chunking.ActionChunkWrapper": {"chunk_size": 4}}],
    }
    with open(tmp_path / "inril_ppo.yml", "w") as file:
        yaml.safe_dump({"Pendulum-v1": entry}, file)
    args = "--algo inril_ppo --env Pendulum-v1 -n 128 -conf inril_ppo.yml -f logs --seed 0".split()
    result = subprocess.run(
        [sys.executable, "-m", "sb3_inril.train", *args],
        cwd=tmp_path,
        env=dict(os.environ, OMP_NUM_THREADS="1", PYTHONWARNINGS="ignore"),
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "per-step actions of shape (1,) cut into chunks of 4" in result.stdout
    model = InRILPPO.load(tmp_path / "logs" / "inril_ppo" / "Pendulum-v1_1" / "Pendulum-v1.zip")
    assert model.action_space.shape == (4, 1)
