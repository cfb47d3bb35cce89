"""The performance floor (sb3_inril.common.floor): the dual ascent, the constrained imitation strength
on synthetic returns, the episodes it measures against the buffers' own records, and the rollback
guard's bit-for-bit restore."""

import itertools
import math
from typing import Any

import gymnasium as gym
import numpy as np
import pytest
import torch as th
from stable_baselines3 import PPO, SAC
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.monitor import Monitor
from stable_baselines3.common.save_util import recursive_getattr
from stable_baselines3.common.vec_env import VecNormalize

from sb3_inril import InRILPPO, InRILSAC
from sb3_inril.common.callbacks import BCRegularization
from sb3_inril.common.floor import DualAscent, EpisodeTracker, PerformanceFloor, RollbackGuard, floor_of

SMALL = dict(n_steps=64, batch_size=16, n_epochs=2, seed=0)


class EndAfter(gym.Wrapper):
    """Pendulum whose episodes *terminate* after ``steps`` steps: PPO adds no bootstrapped value to the
    last reward of a terminated episode (it does to a truncated one), so the buffers' rewards are the env's."""

    def __init__(self, env: gym.Env, steps: int) -> None:
        super().__init__(env)
        self.steps, self.t = steps, 0

    def reset(self, **kwargs: Any) -> Any:
        self.t = 0
        return self.env.reset(**kwargs)

    def step(self, action: Any) -> Any:
        obs, reward, terminated, truncated, info = self.env.step(action)
        self.t += 1
        return obs, reward, terminated or self.t >= self.steps, truncated, info


def short_pendulum(steps: int = 50) -> gym.Env:
    return EndAfter(gym.make("Pendulum-v1"), steps)


# -- the dual ascent ---------------------------------------------------------------------------------
def test_dual_ascent_rises_on_violation_and_decays_to_zero():
    multiplier = DualAscent(rate=0.5, initial=0.2, low=0.0, high=1.0)
    assert multiplier.update(0.4) == pytest.approx(0.4)  # 0.2 + 0.5 * 0.4
    assert multiplier.update(2.0) == 1.0  # bounded above
    values = [multiplier.update(-0.05) for _ in range(50)]
    assert values[0] == pytest.approx(0.975) and all(b <= a for a, b in itertools.pairwise(values))
    assert values[-1] == 0.0  # bounded below: no imitation when the constraint holds with room
    assert multiplier.n_updates == 52


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(rate=0.0), r"multiplier_rate: expected a finite value in \(0.0, inf\), found 0.0"),
        (dict(rate=float("nan")), "multiplier_rate"),
        (dict(initial=2.0), r"initial_strength: expected a finite value in \[0.0, 1.0\], found 2.0"),
        (dict(low=-1.0), "multiplier_low"),
        (dict(initial=0.5, high=0.2), "initial_strength"),
    ],
)
def test_dual_ascent_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        DualAscent(**kwargs)


def test_floor_of_positive_and_negative_references():
    assert floor_of(1000.0, 0.05) == pytest.approx(950.0)
    assert floor_of(-900.0, 0.05) == pytest.approx(-945.0)  # below a negative reference, not above it
    assert floor_of(0.6, 0.1) == pytest.approx(0.54)


# -- the constrained imitation strength ----------------------------------------------------------------
def attached_floor(model: Any, **kwargs: Any) -> PerformanceFloor:
    floor = PerformanceFloor(**kwargs)
    model._setup_learn(64, callback=None)  # the logger the callback records to
    floor.init_callback(model)
    return floor


def finish_episodes(floor: PerformanceFloor, returns: list[float]) -> None:
    """Feed whole synthetic episodes (one reward each, Monitor's info) and end a rollout."""
    for value in returns:
        floor.locals = {"rewards": np.array([value]), "dones": np.array([True]), "infos": [{"episode": {"r": value}}]}
        floor.on_step()
    floor.on_rollout_end()


def test_floor_strength_follows_synthetic_returns(pendulum_env, pendulum_demos):
    model = InRILPPO("MlpPolicy", pendulum_env, demonstrations=pendulum_demos, il_interval=10, **SMALL)
    floor = attached_floor(model, tolerance=0.05, window=4, multiplier_rate=1.0, max_strength=1.0)
    assert floor.strength == pytest.approx(0.1)  # the model's m = 10 is the starting strength
    finish_episodes(floor, [-900.0, -880.0])
    assert floor.reference is None and floor.history == []  # still measuring the start policy
    finish_episodes(floor, [-920.0, -900.0])
    assert floor.reference == pytest.approx(-900.0)  # the first window's mean
    # At the start's own level: 5% above the floor, so the strength decays by rate * 0.05.
    assert floor.history[-1]["violation"] == pytest.approx(-0.05)
    assert floor.strength == pytest.approx(0.05)
    # Slipping: the last 4 episodes average -1260, 0.35 of |reference| below the floor (-945).
    finish_episodes(floor, [-1260.0] * 4)
    assert floor.history[-1]["violation"] == pytest.approx(0.35)
    assert floor.strength == pytest.approx(0.40)
    assert (model.il_interval, model.il_steps) == (2, 1) and floor.il_rate == 0.5  # round(1 / 0.4)
    finish_episodes(floor, [-2000.0] * 4)
    assert floor.strength == 1.0 and (model.il_interval, model.il_steps) == (1, 1)  # bounded by max_strength
    # Recovered well above the start: the strength decays to zero and IL turns off.
    for _ in range(10):
        finish_episodes(floor, [-300.0] * 4)
    assert floor.strength == 0.0 and model.il_interval is None
    # A rollout that finished no episode measures nothing new: no step.
    n = len(floor.history)
    floor.on_rollout_end()
    assert len(floor.history) == n
    assert model.logger.name_to_value["train/floor_strength"] == 0.0


def test_floor_drives_the_bc_weight(pendulum_env, pendulum_demos):
    model = InRILPPO("MlpPolicy", pendulum_env, demonstrations=pendulum_demos, il_interval=None, **SMALL)
    bc = BCRegularization(0.1)
    floor = attached_floor(model, window=2, bc_regularization=bc, reference=100.0)
    assert floor.strength == pytest.approx(0.1)
    finish_episodes(floor, [50.0, 50.0])  # (95 - 50) / 100 = 0.45 over the floor
    assert bc.weight == pytest.approx(0.55) and model.il_interval is None  # the IL rate is not touched
    for _ in range(20):
        finish_episodes(floor, [200.0, 200.0])
    assert bc.weight == 0.0


def test_floor_success_metric_and_il_loss_constraint(pendulum_env, pendulum_demos):
    model = InRILPPO("MlpPolicy", pendulum_env, demonstrations=pendulum_demos, il_interval=None, **SMALL)
    floor = attached_floor(model, window=2, il_loss_budget=0.5, multiplier_rate=0.5, initial_strength=0.0)
    losses = iter([1.0, 1.0, 1.2, 2.5])
    floor._il_val_loss = lambda: next(losses)
    floor._on_training_start()
    assert floor.il_loss_start == 1.0
    for success in ([1.0, 1.0], [1.0, 1.0]):
        for value in success:
            floor.locals = {"rewards": np.array([0.0]), "dones": np.array([True]), "infos": [{"is_success": value}]}
            floor.on_step()
        floor.on_rollout_end()
    assert floor._metric() == "success" and floor.reference == 1.0
    # Losses 1.0 and 1.2: under the start + budget (violations -1, -0.6); the multiplier stays at 0.
    assert [row["il_violation"] for row in floor.history] == pytest.approx([-1.0, -0.6])
    assert floor.imitation is not None and floor.imitation.value == 0.0
    finish = {"rewards": np.array([0.0]), "dones": np.array([True]), "infos": [{"is_success": 0.0}]}
    for _ in range(2):
        floor.locals = finish
        floor.on_step()
    floor.on_rollout_end()  # success 0 (violation 0.95) and loss 2.5 (violation (2.5 - 1.5) / 0.5 = 2)
    assert floor.history[-1]["il_violation"] == pytest.approx(2.0)
    assert floor.imitation.value == pytest.approx(1.0)  # 0.5 * 2, at the bound
    assert floor.strength == 1.0  # the sum, bounded


def test_floor_errors(pendulum_env, pendulum_demos):
    with pytest.raises(ValueError, match=r"tolerance: expected a finite value in \[0.0, 1.0\], found 1.5"):
        PerformanceFloor(tolerance=1.5)
    with pytest.raises(ValueError, match="metric"):
        PerformanceFloor(metric="reward")
    with pytest.raises(ValueError, match="window"):
        PerformanceFloor(window=0)
    with pytest.raises(ValueError, match=r"il_loss_budget: expected a finite value in \(0.0, inf\), found -1.0"):
        PerformanceFloor(il_loss_budget=-1)
    with pytest.raises(TypeError, match="bc_regularization: expected a BCRegularization callback or None, found float"):
        PerformanceFloor(bc_regularization=0.1)
    with pytest.raises(TypeError, match="needs an IN-RIL model with demonstrations, found PPO"):
        PPO("MlpPolicy", pendulum_env, **SMALL).learn(64, callback=PerformanceFloor())
    adaptive = InRILPPO("MlpPolicy", pendulum_env, demonstrations=pendulum_demos, il_interval="adaptive", **SMALL)
    with pytest.raises(ValueError, match="il_interval='adaptive'"):
        adaptive.learn(64, callback=PerformanceFloor())
    no_held_out = InRILPPO("MlpPolicy", pendulum_env, demonstrations=pendulum_demos, demo_val_fraction=0.0, **SMALL)
    with pytest.raises(ValueError, match="il_loss_budget needs held-out demonstrations"):
        no_held_out.learn(64, callback=PerformanceFloor(il_loss_budget=0.1))


def returns_between(rewards: np.ndarray, ends: np.ndarray) -> list[float]:
    """Hand count: the sum of the rewards of every episode that ends in this record (one env)."""
    returns, running = [], 0.0
    for reward, end in zip(rewards, ends):
        running += float(reward)
        if end:
            returns.append(running)
            running = 0.0
    return returns


def test_floor_measures_the_rollout_buffers_episodes(pendulum_demos):
    """On-policy: the episodes the floor measured are the rollout buffer's finished ones (episode_starts mark them)."""
    model = InRILPPO(
        "MlpPolicy", short_pendulum(), demonstrations=pendulum_demos, n_steps=256, batch_size=64, n_epochs=1, seed=0
    )
    floor = PerformanceFloor(window=3)
    model.learn(256, callback=floor)
    buffer = model.rollout_buffer
    starts = buffer.episode_starts[:, 0]
    ends = np.append(starts[1:], 0.0).astype(bool)  # a step ends an episode when the next one starts one
    expected = returns_between(buffer.rewards[:, 0], ends)
    assert len(expected) == 5  # 256 steps of 50-step episodes
    assert floor.tracker is not None and floor.tracker.returns == pytest.approx(expected, rel=1e-6)
    assert floor.reference == pytest.approx(np.mean(expected[:3]), rel=1e-6)
    assert floor.tracker.score("return") == pytest.approx(np.mean(expected[-3:]), rel=1e-6)


def test_floor_measures_the_replay_buffers_episodes(pendulum_demos):
    """Off-policy: the floor's episodes are the replay buffer's (its dones mark truncation too)."""
    model = InRILSAC("MlpPolicy", short_pendulum(), demonstrations=pendulum_demos, learning_starts=100, seed=0)
    floor = PerformanceFloor(window=2)
    model.learn(260, callback=floor)
    buffer = model.replay_buffer
    size = buffer.pos
    expected = returns_between(buffer.rewards[:size, 0], buffer.dones[:size, 0].astype(bool))
    assert len(expected) == 5
    assert floor.tracker is not None and floor.tracker.returns == pytest.approx(expected, rel=1e-6)
    # One dual step per train_freq collection that finished an episode, from the one that completed the
    # 2-episode reference on.
    assert [row["timesteps"] for row in floor.history] == [100.0, 150.0, 200.0, 250.0]


def test_episode_tracker_without_monitor_sums_the_rewards():
    tracker = EpisodeTracker(n_envs=2, window=2)
    tracker.step(np.array([1.0, 2.0]), np.array([False, False]), [{}, {}])
    assert tracker.step(np.array([1.0, 3.0]), np.array([False, True]), [{}, {"is_success": True}]) == 1
    tracker.step(np.array([4.0, 1.0]), np.array([True, False]), [{}, {}])
    assert tracker.returns == [5.0, 6.0] and tracker.successes[0] == 1.0 and math.isnan(tracker.successes[1])
    assert tracker.score("success") == 1.0 and tracker.score("return") == 5.5


# -- the rollback guard ---------------------------------------------------------------------------------
def state_of(model: Any) -> dict[str, Any]:
    """Every state dict and tensor SB3 saves, and the VecNormalize statistics, as plain copies."""
    state_dicts, tensors = model._get_torch_save_params()
    state = {name: _copy(recursive_getattr(model, name).state_dict()) for name in state_dicts}
    state.update({name: recursive_getattr(model, name).detach().clone() for name in tensors})
    normalizer = model.get_vec_normalize_env()
    if normalizer is not None:
        for name in ("obs_rms", "ret_rms"):
            rms = getattr(normalizer, name)
            state[name] = (np.copy(rms.mean), np.copy(rms.var), rms.count)
    return state


def _copy(value: Any) -> Any:
    if isinstance(value, th.Tensor):
        return value.detach().clone()
    if isinstance(value, dict):
        return {key: _copy(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_copy(item) for item in value)
    return value


def assert_same(a: Any, b: Any, path: str = "") -> None:
    if isinstance(a, th.Tensor):
        assert th.equal(a, b), path
    elif isinstance(a, np.ndarray):
        assert np.array_equal(a, b), path
    elif isinstance(a, dict):
        assert a.keys() == b.keys(), path
        for key in a:
            assert_same(a[key], b[key], f"{path}.{key}")
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b)):
            assert_same(x, y, f"{path}[{i}]")
    else:
        assert a == b, path


@pytest.mark.parametrize("algo", [PPO, SAC])
def test_guard_restores_policy_optimizers_and_normaliser_bit_for_bit(algo):
    env = VecNormalize(make_vec_env("Pendulum-v1", n_envs=1, seed=0))
    kwargs = dict(n_steps=64, batch_size=32, n_epochs=2) if algo is PPO else dict(learning_starts=32, batch_size=32)
    model = algo("MlpPolicy", env, seed=0, **kwargs)
    model.learn(128)
    guard = RollbackGuard(Monitor(gym.make("Pendulum-v1")), eval_freq=64, n_eval_episodes=1)
    guard.init_callback(model)
    snapshot = guard.take_snapshot()
    before = state_of(model)
    model.learn(128, reset_num_timesteps=False)
    after = state_of(model)
    with pytest.raises(AssertionError):
        assert_same(before, after)  # training moved every part the snapshot holds
    guard.restore(snapshot)
    assert_same(before, state_of(model))
    guard.restore(snapshot)  # the snapshot survives a restore
    assert_same(before, state_of(model))


def test_guard_rolls_back_below_the_floor_and_counts_its_steps(pendulum_demos):
    model = InRILSAC("MlpPolicy", short_pendulum(), demonstrations=pendulum_demos, learning_starts=0, seed=0)
    # A floor no evaluation reaches: an evaluation that does not beat the best so far rolls back to it.
    guard = RollbackGuard(Monitor(short_pendulum()), eval_freq=50, n_eval_episodes=2, floor=1e6, restore_best_at_end=True)
    model.learn(150, callback=guard)
    rows = guard.evaluations
    assert [row["timesteps"] for row in rows] == [0.0, 50.0, 100.0, 150.0, 150.0]  # and a last one at the end
    best = -math.inf
    for row in rows:
        assert row["rolled_back"] == float(row["score"] <= best)
        best = max(best, row["score"])
    assert guard.n_rollbacks == sum(row["rolled_back"] for row in rows) >= 1
    assert guard.eval_env_steps == 5 * 2 * 50  # five evaluations of two 50-step episodes
    assert guard._snapshot is not None
    assert_same(guard._snapshot["state_dicts"]["policy"], state_of(model)["policy"])  # the deployed policy is the best
    assert model.logger.name_to_value["rollback/eval_env_steps"] == 500


def test_guard_keeps_an_improving_policy(pendulum_env):
    model = PPO("MlpPolicy", pendulum_env, **SMALL)
    guard = RollbackGuard(Monitor(gym.make("Pendulum-v1")), eval_freq=64, n_eval_episodes=1, floor=-1e9)
    model.learn(192, callback=guard)
    assert guard.n_rollbacks == 0 and len(guard.evaluations) == 4  # at 0, 64, 128, 192
    with pytest.raises(ValueError, match="eval_freq"):
        RollbackGuard(pendulum_env, eval_freq=0)
    with pytest.raises(ValueError, match=r"tolerance: expected a finite value in \[0.0, 1.0\], found -0.1"):
        RollbackGuard(pendulum_env, eval_freq=10, tolerance=-0.1)


def test_floor_sets_the_il_rate_of_a_real_run(pendulum_demos):
    """Exact IL counts: a floor that is always violated runs IL at its maximum rate (1 per RL step) from
    the first update on; one that always holds, from strength 0, runs none."""
    violated = InRILPPO("MlpPolicy", short_pendulum(), demonstrations=pendulum_demos, il_interval=None, **SMALL)
    violated.learn(128, callback=PerformanceFloor(reference=1e6, initial_strength=0.0))
    assert violated.interleaving.n_rl_updates == 16 and violated.interleaving.n_il_updates == 16
    assert violated.il_interval == 1
    holds = InRILPPO("MlpPolicy", short_pendulum(), demonstrations=pendulum_demos, il_interval=10, **SMALL)
    holds.learn(128, callback=PerformanceFloor(reference=-1e6, initial_strength=0.0))
    assert holds.interleaving.n_rl_updates == 16 and holds.interleaving.n_il_updates == 0
    assert holds.il_interval is None


def test_dual_ascent_decays_at_its_own_rate():
    multiplier = DualAscent(rate=1.0, initial=0.5, decay_rate=0.1)
    assert multiplier.update(0.2) == pytest.approx(0.7)  # rises at rate
    assert multiplier.update(-0.5) == pytest.approx(0.65)  # falls at decay_rate
    with pytest.raises(ValueError, match=r"decay_rate: expected a finite value in \(0.0, inf\), found 0.0"):
        DualAscent(decay_rate=0)


def test_floor_checks_a_lower_confidence_bound(pendulum_env, pendulum_demos):
    model = InRILPPO("MlpPolicy", pendulum_env, demonstrations=pendulum_demos, il_interval=None, **SMALL)
    floor = attached_floor(model, window=4, reference=100.0, confidence=2.0, initial_strength=0.0)
    finish_episodes(floor, [110.0, 90.0, 120.0, 80.0])  # mean 100, sd 18.26, standard error 9.13
    standard_error = np.std([110.0, 90.0, 120.0, 80.0], ddof=1) / 2.0
    assert floor.history[-1]["lower_bound"] == pytest.approx(100.0 - 2.0 * standard_error)
    # At its start's mean, the mean alone would read 5% of room (violation -0.05); the bound reads a risk.
    assert floor.history[-1]["violation"] == pytest.approx((95.0 - (100.0 - 2.0 * standard_error)) / 100.0)
    assert floor.history[-1]["violation"] > 0 and floor.strength == pytest.approx(floor.history[-1]["violation"])


def test_a_floor_passed_to_the_next_learn_goes_on(pendulum_env, pendulum_demos):
    """A run continued (reset_num_timesteps=False, or from a checkpoint) with the same floor: its multipliers
    and measured episodes go on. They were made afresh: the performance multiplier at the model's rounded
    IL rate, the IL-loss one at 0."""
    model = InRILPPO("MlpPolicy", pendulum_env, demonstrations=pendulum_demos, il_interval=10, **SMALL)
    floor = attached_floor(model, window=4, il_loss_budget=0.5)
    finish_episodes(floor, [-900.0] * 4)
    finish_episodes(floor, [-1260.0] * 4)
    assert floor.performance is not None and floor.imitation is not None and floor.tracker is not None
    floor.imitation.value = 0.1  # as if the held-out IL loss had risen
    floor._apply(floor.strength)
    before = (floor.performance.value, floor.imitation.value, floor.performance.n_updates, floor.tracker.n_episodes)
    assert before[:2] == (pytest.approx(0.4), 0.1) and (model.il_interval, model.il_steps) == (2, 1)
    model._setup_learn(64, callback=None, reset_num_timesteps=False)
    floor.init_callback(model)  # what the next learn() call does first
    assert (floor.performance.value, floor.imitation.value, floor.performance.n_updates, floor.tracker.n_episodes) == before
    assert floor.strength == pytest.approx(0.5) and floor.reference == pytest.approx(-900.0)
