"""pretrain(): early stopping by default (the held-out loss, patience, the best weights restored, a budget),
explicit n_epochs/n_steps unchanged, a diverging loss stopped with a named error, and the default reaching
the demonstrator on the shipped Pendulum expert with every policy type the library has."""

import math
import time
from typing import Any

import gymnasium as gym
import numpy as np
import pytest
import torch as th
from stable_baselines3.common.evaluation import evaluate_policy
from stable_baselines3.common.logger import configure
from stable_baselines3.common.vec_env import DummyVecEnv, VecNormalize

from sb3_inril import InRILA2C, InRILIDQL, InRILPPO, InRILSAC, InRILTD3
from sb3_inril.common.behavior_cloning import (
    DEFAULT_MAX_EPOCHS,
    PATIENCE_EPOCH_STEPS,
    EarlyStopping,
    ILLossCalculator,
    PretrainDivergedError,
    _BestTracker,
)
from sb3_inril.data import demonstration_metadata
from sb3_inril.demos.chunking import ActionChunkWrapper
from tests.test_drop_in import BOX3, SpacesEnv

SMALL = dict(n_steps=64, batch_size=16, n_epochs=2, seed=0, device="cpu")


def state_of(model: Any) -> dict[str, th.Tensor]:
    return {name: value.clone() for name, value in model.policy.state_dict().items()}


def same_state(model: Any, state: dict[str, th.Tensor]) -> bool:
    return all(th.equal(value, state[name]) for name, value in model.policy.state_dict().items())


# -- the default: early stopping -------------------------------------------------------------------
def test_the_default_stops_by_itself_and_restores_the_best_weights(pendulum_env, pendulum_demos):
    model = InRILPPO("MlpPolicy", pendulum_env, demonstrations=pendulum_demos, il_loss="mse", **SMALL)
    stats = model.pretrain(learning_rate=3e-3)
    assert stats["stop_reason"] == "converged" and stats["criterion"] == "val_loss"
    assert stats["n_epochs"] < DEFAULT_MAX_EPOCHS
    # Patience epochs after the best one, and the best weights are what is left.
    assert stats["n_epochs"] >= stats["best_epoch"] + 20
    assert stats["best_val_loss"] == min([stats["initial_val_loss"], *stats["val_loss_history"]])
    assert stats["final_val_loss"] == stats["best_val_loss"]
    assert stats["val_loss_history"][-1] != stats["best_val_loss"]  # the last epoch was not the best
    assert stats["final_val_loss"] < 0.1 * stats["initial_val_loss"]


def test_a_budget_that_runs_out_while_improving_warns(pendulum_env, pendulum_demos):
    model = InRILPPO("MlpPolicy", pendulum_env, demonstrations=pendulum_demos, **SMALL)
    with pytest.warns(
        UserWarning, match=r"the held-out nll loss was still improving .* max_epochs=3, ran out .* larger max_epochs"
    ):
        stats = model.pretrain(max_epochs=3)
    assert stats["stop_reason"] == "max_epochs" and stats["n_epochs"] == 3 and stats["best_epoch"] == 3
    assert stats["n_steps"] == 3 * math.ceil(450 / 16)


@pytest.mark.filterwarnings("ignore:pretrain. the training nll loss was still improving")
def test_nothing_held_out_watches_the_training_loss_and_says_so(pendulum_env, pendulum_demos):
    model = InRILPPO("MlpPolicy", pendulum_env, demonstrations=pendulum_demos, demo_val_fraction=0.0, **SMALL)
    with pytest.warns(
        UserWarning, match=r"nothing is held out \(demo_val_fraction=0\), so early stopping watches the training"
    ):
        stats = model.pretrain(max_epochs=4, patience=2)
    assert stats["criterion"] == "train_loss" and stats["best_val_loss"] is None and stats["final_val_loss"] is None
    assert stats["best_epoch"] == int(np.argmin(stats["loss_history"])) + 1


def test_patience_counts_only_significant_improvements():
    policy = th.nn.Linear(1, 1)
    tracker = _BestTracker(policy, 1.0, {}, EarlyStopping(max_epochs=100, patience=3, min_delta=0.1))
    # 0.95 is the best so far (its weights are kept) but not 10% below 1.0: patience keeps counting.
    decisions = [tracker.update(epoch, value) for epoch, value in enumerate([0.95, 0.85, 0.8, 0.79, 0.78], start=1)]
    assert decisions == [False, False, False, False, True]
    assert tracker.best == 0.78 and tracker.best_epoch == 5
    # Relative to the magnitude: a loss that goes negative (an NLL) is compared the same way.
    tracker = _BestTracker(policy, -1.0, {}, EarlyStopping(max_epochs=100, patience=3, min_delta=0.1))
    assert [tracker.update(epoch, value) for epoch, value in enumerate([-1.2, -1.25, -1.3, -1.31], start=1)] == [
        False,
        False,
        False,
        True,
    ]
    # Worse than the policy before any step: the initial weights stay the best.
    tracker = _BestTracker(policy, 0.5, {"initial": th.zeros(1)}, EarlyStopping(max_epochs=100, patience=2, min_delta=0.0))
    assert [tracker.update(1, 0.6), tracker.update(2, 0.7)] == [False, True]
    assert tracker.best_epoch == 0 and "initial" in tracker.best_state
    # Short epochs count as a fraction of one: patience 2 with epochs of half the steps is 4 epochs.
    tracker = _BestTracker(policy, 0.5, {}, EarlyStopping(max_epochs=100, patience=2, min_delta=0.0))
    assert [tracker.update(epoch, 0.6, weight=0.5) for epoch in range(1, 5)] == [False, False, False, True]


def test_logs_how_it_stopped(tmp_path, pendulum_env, pendulum_demos, capsys):
    model = InRILPPO("MlpPolicy", pendulum_env, demonstrations=pendulum_demos, il_loss="mse", verbose=1, **SMALL)
    model.set_logger(configure(str(tmp_path), ["csv"]))
    stats = model.pretrain(learning_rate=3e-3, patience=3)
    printed = capsys.readouterr().out
    assert f"pretrain: stopped after {stats['n_epochs']} epochs" in printed
    assert f"the best weights, of epoch {stats['best_epoch']}, restored" in printed
    with open(tmp_path / "progress.csv") as file:
        header = file.readline().strip().split(",")
        rows = [dict(zip(header, line.strip().replace('"', "").split(","))) for line in file]
    assert len(rows) == stats["n_epochs"]
    assert rows[-1]["pretrain/stop_reason"] == "converged" and rows[0]["pretrain/stop_reason"] == ""
    assert int(float(rows[-1]["pretrain/best_epoch"])) == stats["best_epoch"]
    # 29 steps an epoch (450 pairs, batch 16) count as 29/50 of an epoch of patience: 6 epochs of them make 3.
    assert int(float(rows[-1]["pretrain/epochs_without_improvement"])) == math.ceil(3 / (29 / PATIENCE_EPOCH_STEPS)) == 6


# -- explicit budgets ------------------------------------------------------------------------------
def test_explicit_budgets_keep_their_meaning(pendulum_env, pendulum_demos):
    model = InRILPPO("MlpPolicy", pendulum_env, demonstrations=pendulum_demos, **SMALL)
    stats = model.pretrain(n_epochs=3)
    assert (stats["stop_reason"], stats["n_epochs"], stats["n_steps"]) == ("n_epochs", 3, 3 * math.ceil(450 / 16))
    # No early stopping, no restoring: the policy is the last epoch's.
    assert stats["final_val_loss"] == stats["val_loss_history"][-1]
    stats = model.pretrain(n_steps=40)
    assert (stats["stop_reason"], stats["n_steps"], stats["n_epochs"]) == ("n_steps", 40, 2)
    with pytest.raises(ValueError, match="pretrain: patience, min_delta set early stopping, which a fixed n_epochs turns off"):
        model.pretrain(n_epochs=3, patience=5, min_delta=0.01)
    with pytest.raises(ValueError, match="pass n_epochs or n_steps, not both"):
        model.pretrain(n_epochs=1, n_steps=1)
    with pytest.raises(TypeError, match="max_epochs: expected a positive int or None, found float"):
        model.pretrain(max_epochs=2.5)


def test_an_explicit_budget_trains_exactly_as_a_plain_loop(pendulum_env, pendulum_demos):
    """The fixed budget is the loop it always was: Adam over shuffled epochs, nothing restored."""
    model = InRILPPO("MlpPolicy", pendulum_env, demonstrations=pendulum_demos, **SMALL)
    twin = InRILPPO("MlpPolicy", pendulum_env, demonstrations=pendulum_demos, **SMALL)
    twin.policy.load_state_dict(model.policy.state_dict())
    model.pretrain(n_epochs=2, learning_rate=1e-3)
    calculator = ILLossCalculator("nll")
    optimizer = th.optim.Adam(twin.il_parameters(), lr=1e-3)
    twin.policy.set_training_mode(True)
    for _ in range(2):
        for batch in twin.demo_buffer.iterate_epoch(twin.il_batch_size):
            loss = calculator(twin, batch)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
    assert same_state(model, state_of(twin))


# -- the loss --------------------------------------------------------------------------------------
def random_demos(env: gym.Env, n: int = 40) -> dict[str, np.ndarray]:
    """Demonstrations drawn from the env's spaces: what the loss is checked against, not what it learns."""
    env.observation_space.seed(0)
    env.action_space.seed(0)
    return {
        "obs": np.stack([env.observation_space.sample() for _ in range(n)]),
        "acts": np.stack([np.asarray(env.action_space.sample()) for _ in range(n)]),
    }


# (class, policy, env, loss, message): a loss the model's action space or policy can not take. Before they
# were checked, "mse" on Discrete actions failed inside torch ("mean(): could not infer output dtype"), and on
# MultiBinary actions (a rounded mode) or a diffusion policy (its sampled action) trained nothing while
# pre-training reported a loss; IDQL's actor was trained by a loss its policy says it is not imitated by.
LOSSES_REFUSED = [
    (InRILPPO, "MlpPolicy", "CartPole-v1", "mse", "loss: 'mse' needs a Box action space, found Discrete(2); use 'nll'"),
    (InRILA2C, "MlpPolicy", "multibinary", "mse", "loss: 'mse' needs a Box action space, found MultiBinary(3); use 'nll'"),
    (
        InRILPPO,
        "DiffusionPolicy",
        "Pendulum-v1",
        "mse",
        "loss: DiffusionActorCriticPolicy is imitated by one of ('denoising',), found loss='mse'",
    ),
    (InRILIDQL, "MlpPolicy", "Pendulum-v1", "mse", "loss: IDQLPolicy is imitated by one of ('denoising',), found loss='mse'"),
    (
        InRILTD3,
        "MlpPolicy",
        "Pendulum-v1",
        "nll",
        "loss: 'nll' needs a stochastic actor, TD3Policy is deterministic; use 'mse'",
    ),
    (
        InRILSAC,
        "MlpPolicy",
        "Pendulum-v1",
        "denoising",
        "loss: SACPolicy is imitated by one of ('nll', 'mse'), found loss='denoising' (a loss of another kind of policy)",
    ),
]


@pytest.mark.parametrize("cls, policy, env_id, loss, message", LOSSES_REFUSED)
def test_a_loss_the_model_can_not_take_is_refused_by_name(cls, policy, env_id, loss, message):
    def make_env() -> gym.Env:
        if env_id == "multibinary":
            return SpacesEnv(BOX3, gym.spaces.MultiBinary(3))
        return gym.make(env_id)

    kwargs: dict[str, Any] = dict(seed=0, device="cpu")
    if policy == "DiffusionPolicy" or cls is InRILIDQL:
        kwargs["policy_kwargs"] = dict(denoising_steps=3)
    model = cls(policy, make_env(), demonstrations=random_demos(make_env()), **kwargs)
    before = state_of(model)
    with pytest.raises(ValueError) as error:
        model.pretrain(n_epochs=1, loss=loss)
    assert str(error.value) == message
    assert same_state(model, before)  # refused before any step
    with pytest.raises(ValueError) as error:
        model.compute_il_loss(model.demo_buffer.sample(4), loss=loss)
    assert str(error.value) == message
    # From an rl-zoo YAML: refused when the model is made, not at the first learn() that pre-trains.
    with pytest.raises(ValueError, match=r"pretrain_kwargs\['loss'\]: "):
        cls(policy, make_env(), pretrain_kwargs=dict(loss=loss), **kwargs)


# -- divergence ------------------------------------------------------------------------------------
def test_a_huge_learning_rate_stops_with_a_named_error_and_restores_everything(pendulum_demos):
    venv = VecNormalize(DummyVecEnv([lambda: gym.make("Pendulum-v1")]))
    model = InRILPPO("MlpPolicy", venv, demonstrations=pendulum_demos, **SMALL)
    before, rms_before = state_of(model), venv.obs_rms.mean.copy()
    # Today's torch says "Expected parameter scale ... to satisfy the constraint" for a Gaussian whose std
    # went non-finite; pretrain names the divergence instead.
    with pytest.raises(
        PretrainDivergedError, match=r"pretrain: the nll loss .* at step \d+ \(learning_rate=1e\+30\)"
    ) as error:
        model.pretrain(learning_rate=1e30)
    assert isinstance(error.value, ValueError) and "back as they were" in str(error.value)
    assert same_state(model, before)  # bit for bit
    np.testing.assert_array_equal(venv.obs_rms.mean, rms_before)
    assert venv.obs_rms.count < 1  # the statistics have seen no data again


def test_an_exploding_loss_is_a_divergence(monkeypatch, pendulum_env, pendulum_demos):
    model = InRILPPO("MlpPolicy", pendulum_env, demonstrations=pendulum_demos, il_loss="mse", **SMALL)
    before = state_of(model)
    real_call = ILLossCalculator.__call__
    calls = iter(range(10**6))

    def exploding(self: ILLossCalculator, *args: Any, **kwargs: Any) -> th.Tensor:
        loss = real_call(self, *args, **kwargs)
        return loss * 1e5 if next(calls) >= 5 and not kwargs.get("held_out") else loss

    monkeypatch.setattr(ILLossCalculator, "__call__", exploding)
    with pytest.raises(PretrainDivergedError, match=r"the mse loss exploded to .* \(over 1000 times its first value"):
        model.pretrain()
    assert same_state(model, before)


# -- every policy type reaches the demonstrator on Pendulum -----------------------------------------
def pendulum_model(kind: str) -> tuple[Any, gym.Env]:
    demos = "shipped:Pendulum-v1/expert"
    if kind == "chunked diffusion":
        return (
            InRILPPO(
                "DiffusionPolicy", ActionChunkWrapper(gym.make("Pendulum-v1"), chunk_size=4), demonstrations=demos, seed=0
            ),
            ActionChunkWrapper(gym.make("Pendulum-v1"), chunk_size=4),
        )
    model: Any = {
        "gaussian": lambda: InRILPPO("MlpPolicy", "Pendulum-v1", demonstrations=demos, seed=0),
        "squashed gaussian": lambda: InRILSAC("MlpPolicy", "Pendulum-v1", demonstrations=demos, seed=0),
        "deterministic": lambda: InRILTD3("MlpPolicy", "Pendulum-v1", demonstrations=demos, seed=0),
        "residual": lambda: InRILPPO("MlpPolicy", "Pendulum-v1", demonstrations=demos, gradient_separation="residual", seed=0),
        "diffusion": lambda: InRILPPO("DiffusionPolicy", "Pendulum-v1", demonstrations=demos, seed=0),
    }[kind]()
    return model, gym.make("Pendulum-v1")


# The margins. The demonstrator (the shipped file's metadata) returns -177 on average over its 20 episodes
# (-116 to -326). With the defaults, every policy that acts at every step comes within MARGIN of that
# (measured over 20 episodes: Gaussian -148, squashed Gaussian -383, deterministic -154, residual -173,
# diffusion -181); a diffusion policy on chunks of 4 actions executed open loop within CHUNKED_MARGIN (-614).
# All of them at least ABOVE_RANDOM above a random policy (about -1,230).
MARGIN = 350.0
CHUNKED_MARGIN = 600.0
ABOVE_RANDOM = 450.0


def random_return(env: gym.Env, n_episodes: int) -> float:
    env.reset(seed=1000)
    env.action_space.seed(0)
    returns = []
    for _ in range(n_episodes):
        env.reset()
        total, done = 0.0, False
        while not done:
            _, reward, terminated, truncated, _ = env.step(env.action_space.sample())
            total += float(reward)
            done = terminated or truncated
        returns.append(total)
    return float(np.mean(returns))


@pytest.mark.slow  # the default trains until it converges: 15-100 s per policy type on one thread
@pytest.mark.parametrize(
    "kind", ["gaussian", "squashed gaussian", "deterministic", "residual", "diffusion", "chunked diffusion"]
)
def test_the_default_reaches_the_demonstrator_on_pendulum(kind):
    demonstrator = demonstration_metadata("Pendulum-v1", "expert")["return_mean"]
    model, env = pendulum_model(kind)
    start = time.time()
    stats = model.pretrain()
    assert stats["stop_reason"] == "converged", stats["stop_reason"]
    assert stats["final_val_loss"] == stats["best_val_loss"]
    env.reset(seed=1000)
    bc_return, _ = evaluate_policy(model, env, n_eval_episodes=10, deterministic=True, warn=False)
    random = random_return(gym.make("Pendulum-v1"), 10)
    print(f"{kind}: {bc_return:.0f} after {stats['n_epochs']} epochs, {time.time() - start:.0f} s (random {random:.0f})")
    margin = CHUNKED_MARGIN if kind == "chunked diffusion" else MARGIN
    assert bc_return > demonstrator - margin, (bc_return, demonstrator, stats["n_epochs"])
    assert bc_return > random + ABOVE_RANDOM, (bc_return, random)
