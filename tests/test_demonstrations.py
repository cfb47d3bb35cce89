from types import SimpleNamespace

import gymnasium as gym
import numpy as np
import pytest
import torch as th
from gymnasium import spaces
from stable_baselines3.common.vec_env import DummyVecEnv, VecNormalize

from sb3_inril import load_demonstrations
from sb3_inril.demos.buffer import DemonstrationBuffer
from sb3_inril.demos.demonstrations import as_demonstrations, validate_demonstrations

OBS_SPACE = spaces.Box(-np.inf, np.inf, (3,), np.float32)
ACT_SPACE = spaces.Box(-2.0, 2.0, (1,), np.float32)


def make_buffer(source, **kwargs) -> DemonstrationBuffer:
    return DemonstrationBuffer(source, OBS_SPACE, ACT_SPACE, **kwargs)


def good(n: int = 20) -> dict[str, np.ndarray]:
    return {"obs": np.zeros((n, 3), np.float32), "acts": np.zeros((n, 1), np.float32)}


@pytest.mark.parametrize(
    "change, exception, fragments",
    [
        ({"obs": np.zeros((20, 4), np.float32)}, ValueError, ["'obs'", "(4,)", "expected (3,)"]),
        ({"acts": np.zeros((20, 2), np.float32)}, ValueError, ["'acts'", "(2,)", "expected (1,)"]),
        ({"obs": np.zeros((19, 3), np.float32)}, ValueError, ["length mismatch", "19", "20"]),
        ({"obs": np.zeros((0, 3)), "acts": np.zeros((0, 1))}, ValueError, ["empty", "'obs' has 0"]),
        ({"obs": np.full((20, 3), "a")}, ValueError, ["'obs'", "dtype <U1", "real numeric"]),
        ({"acts": np.zeros((20, 1), np.complex64)}, ValueError, ["'acts'", "complex64"]),
        ({"obs": np.array([[0.0, np.nan, 0.0]] * 20)}, ValueError, ["'obs'", "20 non-finite", "row 0"]),
        ({"acts": np.array([[np.inf]] + [[0.0]] * 19)}, ValueError, ["'acts'", "1 non-finite"]),
        (
            {"acts": np.array([[0.0]] * 5 + [[2.5]] + [[0.0]] * 14)},
            ValueError,
            ["'acts'", "outside the action bounds", "row 5", "2.5"],
        ),
    ],
)
def test_bad_demonstrations_are_rejected(change, exception, fragments):
    data = good()
    data.update(change)
    with pytest.raises(exception) as error:
        make_buffer(data)
    for fragment in fragments:
        assert fragment in str(error.value)


def test_actions_within_tolerance_are_clipped():
    data = good()
    data["acts"][0] = 2.0 + 1e-7
    buffer = make_buffer(data, val_fraction=0.0)
    assert buffer.actions.max().item() <= 2.0


def test_bad_sources(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"missing\.npz"):
        make_buffer(str(tmp_path / "missing.npz"))
    (tmp_path / "demos.txt").write_text("x")
    with pytest.raises(ValueError, match=r"can not tell the format of .*demos\.txt'"):
        make_buffer(str(tmp_path / "demos.txt"))
    (tmp_path / "broken.npz").write_bytes(b"PK\x03\x04 truncated")
    with pytest.raises(ValueError, match="could not read"):
        make_buffer(str(tmp_path / "broken.npz"))
    np.savez(tmp_path / "nokey.npz", observations=np.zeros((3, 3)))
    with pytest.raises(ValueError, match=r"no action array .* \['acts', 'actions'\], found \['observations'\]"):
        make_buffer(str(tmp_path / "nokey.npz"))
    with pytest.raises(TypeError, match="found int"):
        make_buffer(3)
    with pytest.raises(ValueError, match="empty"):
        make_buffer([])


def test_discrete_actions():
    space = spaces.Discrete(3)
    obs = np.zeros((4, 3), np.float32)
    _, actions = validate_demonstrations(as_demonstrations({"obs": obs, "acts": np.array([0, 1, 2, 1])}), OBS_SPACE, space)
    assert actions.dtype == np.int64
    with pytest.raises(ValueError, match=r"'acts' has 1 rows with values outside Discrete\(3\).*row 2: 3"):
        validate_demonstrations(as_demonstrations({"obs": obs, "acts": np.array([0, 1, 3, 1])}), OBS_SPACE, space)
    with pytest.raises(ValueError, match="non-integer"):
        validate_demonstrations(as_demonstrations({"obs": obs, "acts": np.array([0, 1.5, 2, 1])}), OBS_SPACE, space)


def test_imitation_objects_and_npz_give_the_same_data(tmp_path, pendulum_demos):
    from imitation.data import types

    obs, acts = pendulum_demos["obs"], pendulum_demos["acts"]
    n = len(acts)
    transitions = types.Transitions(
        obs=obs,
        acts=acts,
        infos=np.array([{}] * n),
        next_obs=obs,
        dones=pendulum_demos["dones"],
    )
    trajectories = [
        types.Trajectory(
            obs=np.concatenate([obs[i : i + 50], obs[i + 49 : i + 50]]), acts=acts[i : i + 50], infos=None, terminal=True
        )
        for i in range(0, n, 50)
    ]
    np.savez(tmp_path / "d.npz", **pendulum_demos)
    results = [as_demonstrations(s) for s in (transitions, trajectories, pendulum_demos)]
    results.append(load_demonstrations(str(tmp_path / "d.npz")))
    for result in results:
        np.testing.assert_array_equal(result.observations, obs)
        np.testing.assert_array_equal(result.actions, acts)
        np.testing.assert_array_equal(result.episode_starts, np.arange(0, n, 50))
    # imitation refuses such a Trajectory itself; a look-alike object reaches our check.
    bad = [SimpleNamespace(obs=obs[:50], acts=acts[:50])]
    with pytest.raises(ValueError, match=r"trajectory 0 field 'obs' has length 50, expected len\(acts\) \+ 1 = 51"):
        as_demonstrations(bad)


def test_split_holds_out_whole_episodes(pendulum_demos):
    buffer = make_buffer(pendulum_demos, val_fraction=0.2, seed=1)
    assert buffer.n_val == 2 * 50 and len(buffer) == 8 * 50
    train = {tuple(row) for row in buffer.observations.numpy()}
    val = {tuple(row) for row in buffer.val_observations.numpy()}
    assert not train & val


def test_sample_is_seeded_and_on_device(pendulum_demos):
    first = make_buffer(pendulum_demos, seed=3).sample(32)
    second = make_buffer(pendulum_demos, seed=3).sample(32)
    assert isinstance(first.observations, th.Tensor) and first.observations.shape == (32, 3)
    assert first.actions.shape == (32, 1) and first.actions.dtype == th.float32
    assert th.equal(first.observations, second.observations)
    assert not th.equal(first.observations, make_buffer(pendulum_demos, seed=4).sample(32).observations)


def test_vec_normalize_statistics_at_sampling_time(pendulum_demos):
    venv = VecNormalize(DummyVecEnv([lambda: gym.make("Pendulum-v1")]))
    venv.obs_rms.update(np.random.default_rng(0).normal(3.0, 2.0, size=(100, 3)))
    buffer = make_buffer(pendulum_demos, vec_normalize_getter=lambda: venv, val_fraction=0.0)
    expected = venv.normalize_obs(buffer.observations.numpy())
    np.testing.assert_allclose(buffer.normalize(buffer.observations).numpy(), expected, rtol=1e-5, atol=1e-5)
    # New statistics are picked up at the next sample.
    venv.obs_rms.update(np.full((100, 3), -5.0))
    expected = venv.normalize_obs(buffer.observations.numpy())
    np.testing.assert_allclose(buffer.normalize(buffer.observations).numpy(), expected, rtol=1e-5, atol=1e-5)
