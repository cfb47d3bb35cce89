import os

import gymnasium as gym
import numpy as np
import pytest
import torch as th
from stable_baselines3.common.logger import configure
from stable_baselines3.common.vec_env import DummyVecEnv, VecNormalize

from sb3_inril import InRILPPO

SMALL = dict(n_steps=64, batch_size=16, n_epochs=2, seed=0, device="cpu")


def params_equal(first: th.nn.Module, second: th.nn.Module) -> bool:
    return all(th.equal(a, b) for a, b in zip(first.state_dict().values(), second.state_dict().values()))


@pytest.mark.parametrize(
    "n_steps, batch_size, n_epochs, m, k, iterations",
    [
        (64, 16, 2, 3, 1, 3),  # 8 RL steps per train(), 24 in all -> 8 injections
        (64, 16, 2, 5, 2, 3),  # 24 RL steps -> 4 injections of 2
        (64, 32, 1, 5, 1, 4),  # m larger than one train(): the count runs across train() calls
        (64, 16, 4, 1, 3, 2),  # every RL step
    ],
)
def test_exact_il_update_counts(pendulum_env, pendulum_demos, n_steps, batch_size, n_epochs, m, k, iterations):
    model = InRILPPO(
        "MlpPolicy",
        pendulum_env,
        demonstrations=pendulum_demos,
        il_interval=m,
        il_steps=k,
        n_steps=n_steps,
        batch_size=batch_size,
        n_epochs=n_epochs,
        seed=0,
    )
    model.learn(n_steps * iterations)
    rl_updates = iterations * n_epochs * (n_steps // batch_size)
    assert model.interleaving.n_rl_updates == rl_updates
    assert model.interleaving.n_il_updates == (rl_updates // m) * k


def test_train_call_unit(pendulum_env, pendulum_demos):
    model = InRILPPO(
        "MlpPolicy",
        pendulum_env,
        demonstrations=pendulum_demos,
        il_interval=2,
        il_steps=3,
        il_interval_unit="train_call",
        **SMALL,
    )
    model.learn(64 * 5)
    assert model.interleaving.n_rl_updates == 5 * 8
    assert model.interleaving.n_il_updates == (5 // 2) * 3


def test_same_seed_same_result(pendulum_demos):
    models = []
    for _ in range(2):
        model = InRILPPO("MlpPolicy", gym.make("Pendulum-v1"), demonstrations=pendulum_demos, il_interval=3, **SMALL)
        model.pretrain(n_epochs=2)
        model.learn(128)
        models.append(model)
    assert params_equal(models[0].policy, models[1].policy)
    assert models[0].il_optimizer.state_dict()["state"][0]["step"] == models[1].il_optimizer.state_dict()["state"][0]["step"]


@pytest.mark.parametrize("il_loss", ["nll", "mse"])
def test_il_step_touches_only_actor_parameters(pendulum_env, pendulum_demos, il_loss):
    model = InRILPPO("MlpPolicy", pendulum_env, demonstrations=pendulum_demos, il_loss=il_loss, **SMALL)
    policy = model.policy
    value_params = list(policy.mlp_extractor.value_net.parameters()) + list(policy.value_net.parameters())
    actor_params = model.il_parameters()
    assert not {id(p) for p in value_params} & {id(p) for p in actor_params}
    assert {id(p) for p in actor_params} | {id(p) for p in value_params} == {id(p) for p in policy.parameters()}
    # Gradients an RL step left behind: they must come back unchanged, and no value gradient may appear.
    sentinels = {id(p): th.full_like(p, 7.0) for p in policy.parameters()}
    for p in policy.parameters():
        p.grad = sentinels[id(p)]
    before = {id(p): p.detach().clone() for p in policy.parameters()}
    model.il_step()
    for p in value_params:
        assert th.equal(p, before[id(p)])
    changed = [not th.equal(p, before[id(p)]) for p in actor_params]
    if il_loss == "mse":  # log_std does not enter the MSE loss
        assert changed == [True] * (len(actor_params) - 1) + [False]
    else:
        assert all(changed)
    for p in policy.parameters():
        assert p.grad is sentinels[id(p)]
    assert model.interleaving.n_il_updates == 1


def test_il_gradient_is_the_bc_gradient(pendulum_env, pendulum_demos):
    """The IL step applies Adam to exactly the NLL gradient of the sampled minibatch."""
    model = InRILPPO("MlpPolicy", pendulum_env, demonstrations=pendulum_demos, il_learning_rate=1e-2, **SMALL)
    state = model.demo_buffer._generator.get_state()
    batch = model.demo_buffer.sample(model.il_batch_size)
    model.demo_buffer._generator.set_state(state)
    reference = [p.detach().clone().requires_grad_(True) for p in model.il_parameters()]
    twin = InRILPPO("MlpPolicy", pendulum_env, demonstrations=pendulum_demos, **SMALL)
    twin.policy.load_state_dict(model.policy.state_dict())
    loss = -twin.policy.get_distribution(batch.observations).log_prob(batch.actions).mean()
    grads = th.autograd.grad(loss, twin.il_parameters())
    model.il_step()
    # First Adam step: p <- p - lr * g / (|g| + eps), elementwise sign-like update.
    for p, p0, g in zip(model.il_parameters(), reference, grads):
        expected = p0 - 1e-2 * g / (g.abs() + 1e-8)
        assert th.allclose(p, expected, atol=1e-6)


def test_bad_arguments(pendulum_env, pendulum_demos):
    cases = [
        (dict(il_interval=0), ValueError, "il_interval: expected a positive int or None, found 0"),
        (dict(il_interval=2.5), TypeError, "il_interval: expected a positive int or None, found float 2.5"),
        (dict(il_steps=0), ValueError, "il_steps: expected a positive int, found 0"),
        (dict(il_batch_size=-1), ValueError, "il_batch_size"),
        (dict(il_loss="kl"), ValueError, "il_loss: expected one of ('nll', 'mse', 'denoising'), found 'kl'"),
        (dict(il_interval_unit="epoch"), ValueError, "il_interval_unit"),
        (dict(il_learning_rate=0.0), ValueError, "il_learning_rate: expected a finite value in (0.0, inf), found 0.0"),
        (dict(il_learning_rate="1e-3"), TypeError, "il_learning_rate: expected a number, found str '1e-3'"),
        (dict(il_learning_rate=float("nan")), ValueError, "il_learning_rate"),
        (dict(il_max_grad_norm=-1.0), ValueError, "il_max_grad_norm"),
        (dict(demo_val_fraction=1.0), ValueError, "demo_val_fraction: expected a finite value in [0.0, 1.0), found 1.0"),
        (dict(demo_val_fraction="0.1"), TypeError, "demo_val_fraction: expected a number, found str '0.1'"),
        (dict(il_share_optimizer="yes"), TypeError, "il_share_optimizer: expected a bool"),
        (dict(critic_warmup_steps=1.5), TypeError, "critic_warmup_steps"),
        (dict(pretrain_kwargs=[1]), TypeError, "pretrain_kwargs: expected a dict"),
    ]
    for kwargs, exception, message in cases:
        with pytest.raises(exception) as error:
            InRILPPO("MlpPolicy", pendulum_env, demonstrations=pendulum_demos, **kwargs)
        assert message in str(error.value)
    with pytest.raises(ValueError, match="'mse' needs a Box action space, found Discrete"):
        InRILPPO("MlpPolicy", "CartPole-v1", demonstrations={"obs": np.zeros((5, 4)), "acts": np.zeros(5)}, il_loss="mse")
    with pytest.raises(ValueError, match=r"'obs' has per-step shape \(4,\), expected \(3,\)"):
        InRILPPO("MlpPolicy", pendulum_env, demonstrations={"obs": np.zeros((5, 4)), "acts": np.zeros((5, 1))})


def test_without_demonstrations_it_is_the_parent_with_a_warning(pendulum_env):
    model = InRILPPO("MlpPolicy", pendulum_env, il_interval=5, **SMALL)
    with pytest.warns(UserWarning, match="no demonstrations, so no IL step is taken: this learns as plain PPO"):
        model.learn(64)
    assert model.interleaving.n_rl_updates == 8 and model.interleaving.n_il_updates == 0
    with pytest.raises(ValueError, match=r"pretrain\(\) needs demonstrations"):
        model.pretrain()
    assert model.num_timesteps == 64


def test_positional_arguments_after_env_are_the_parents(pendulum_env):
    model = InRILPPO("MlpPolicy", pendulum_env, 1e-4, 64, 16)  # learning_rate, n_steps, batch_size as for PPO
    assert (model.learning_rate, model.n_steps, model.batch_size) == (1e-4, 64, 16)
    assert model.demonstrations is None


def test_discrete_actions(pendulum_demos):
    rng = np.random.default_rng(0)
    demos = {"obs": rng.normal(size=(200, 4)).astype(np.float32), "acts": rng.integers(0, 2, 200)}
    model = InRILPPO("MlpPolicy", "CartPole-v1", demonstrations=demos, il_interval=2, **SMALL)
    model.pretrain(n_steps=5)
    model.learn(128)
    assert model.interleaving.n_il_updates == 8


def test_pretrain_learns_the_expert(pendulum_env, pendulum_demos):
    model = InRILPPO("MlpPolicy", pendulum_env, demonstrations=pendulum_demos, **SMALL)
    stats = model.pretrain(n_epochs=30, batch_size=64, learning_rate=3e-3, loss="mse", log_std=-2.0)
    assert stats["n_epochs"] == 30 and stats["n_steps"] == 30 * int(np.ceil(450 / 64))
    assert stats["final_val_loss"] < 0.2 * stats["initial_val_loss"]
    assert th.all(model.policy.log_std == -2.0)
    # The pre-trained policy is the drift reference: no drift right after pre-training.
    assert model.il_diagnostics()["policy_drift"] == 0.0
    with pytest.raises(ValueError, match="pass n_epochs or n_steps, not both"):
        model.pretrain(n_epochs=1, n_steps=1)
    assert model.pretrain(n_steps=3)["n_steps"] == 3


def test_logging_keys_and_tensorboard_name(tmp_path, pendulum_env, pendulum_demos):
    model = InRILPPO(
        "MlpPolicy", pendulum_env, demonstrations=pendulum_demos, il_interval=4, tensorboard_log=str(tmp_path), **SMALL
    )
    model.learn(192)
    assert os.path.isdir(tmp_path / "InRILPPO_1")
    model.set_logger(configure(str(tmp_path / "csv"), ["csv"]))
    model.learn(192, reset_num_timesteps=False)
    with open(tmp_path / "csv" / "progress.csv") as file:
        header = file.readline().strip().split(",")
        last = file.readlines()[-1].strip().split(",")
    row = dict(zip(header, last))
    for key in ["train/il_loss", "train/il_val_loss", "train/n_il_updates", "train/n_rl_updates", "train/policy_drift"]:
        assert key in row, key
    # Cumulative counts at the last dump (before the last train()): 5 train() calls of 8 RL steps.
    assert float(row["train/n_rl_updates"]) == 40 and float(row["train/n_il_updates"]) == 10
    assert float(row["train/policy_drift"]) > 0


def test_in_memory_demonstrations_are_not_saved(tmp_path, pendulum_env, pendulum_demos, demos_npz):
    model = InRILPPO("MlpPolicy", pendulum_env, demonstrations=pendulum_demos, **SMALL)
    model.save(tmp_path / "model")
    loaded = InRILPPO.load(tmp_path / "model", env=pendulum_env)
    assert loaded.demonstrations is None and loaded.demo_buffer is None
    with pytest.raises(ValueError, match="needs demonstrations"):
        loaded.pretrain()
    loaded = InRILPPO.load(tmp_path / "model", env=pendulum_env, demonstrations=pendulum_demos)
    loaded.learn(64)
    # A recorded path that vanished: a clear error, and a way out.
    model = InRILPPO("MlpPolicy", pendulum_env, demonstrations=demos_npz, **SMALL)
    model.save(tmp_path / "model2")
    os.remove(demos_npz)
    with pytest.warns(UserWarning, match="is gone"):
        loaded = InRILPPO.load(tmp_path / "model2", env=pendulum_env)  # inference needs no demonstrations
    loaded.predict(np.zeros(3, np.float32))
    with pytest.raises(FileNotFoundError, match="pass demonstrations=PATH to load"):
        loaded.learn(64)
    assert loaded.num_timesteps == 0
    assert InRILPPO.load(tmp_path / "model2", env=pendulum_env, demonstrations=None).demo_buffer is None


def test_vec_normalize(pendulum_demos):
    venv = VecNormalize(DummyVecEnv([lambda: gym.make("Pendulum-v1")]))
    model = InRILPPO("MlpPolicy", venv, demonstrations=pendulum_demos, il_interval=2, **SMALL)
    model.pretrain(n_steps=1)
    # Statistics that had seen no data are initialised from the demonstrations.
    np.testing.assert_allclose(venv.obs_rms.mean, pendulum_demos["obs"].mean(axis=0), atol=1e-3)
    model.learn(128)
    raw = model.demo_buffer.observations[:5]
    np.testing.assert_allclose(model.demo_buffer.normalize(raw).numpy(), venv.normalize_obs(raw.numpy()), rtol=1e-5, atol=1e-5)


def test_shared_optimizer(tmp_path, pendulum_env, pendulum_demos):
    model = InRILPPO("MlpPolicy", pendulum_env, demonstrations=pendulum_demos, il_interval=2, il_share_optimizer=True, **SMALL)
    model.learn(128)
    assert model.il_optimizer is model.policy.optimizer
    assert model.interleaving.n_rl_updates == 16 and model.interleaving.n_il_updates == 8
    model.save(tmp_path / "shared")
    InRILPPO.load(tmp_path / "shared", env=pendulum_env, demonstrations=pendulum_demos).learn(64)


def test_il_learning_rate_schedule(pendulum_env, pendulum_demos):
    model = InRILPPO("MlpPolicy", pendulum_env, demonstrations=pendulum_demos, il_learning_rate=lambda p: 1e-3 * p, **SMALL)
    model.learn(128)
    # Last train() ran at progress_remaining = 1 - 128/128 = 0: the lr follows the schedule.
    assert model.il_optimizer.param_groups[0]["lr"] == pytest.approx(0.0)
    assert model.policy.optimizer.param_groups[0]["lr"] == pytest.approx(3e-4)


def test_pretrain_kwargs_run_once_at_the_first_learn(tmp_path, pendulum_env, demos_npz):
    model = InRILPPO(
        "MlpPolicy", pendulum_env, demonstrations=demos_npz, pretrain_kwargs=dict(n_steps=7, log_std=-1.5), **SMALL
    )
    assert th.all(model.policy.log_std == 0.0)
    model.learn(64)
    assert model._pretrain_done and model.policy.log_std.detach().mean().item() != 0.0
    model.save(tmp_path / "model")
    loaded = InRILPPO.load(tmp_path / "model", env=pendulum_env)
    log_std = loaded.policy.log_std.detach().clone()
    loaded.learn(64, reset_num_timesteps=False)  # no second pre-training: log_std not reset to -1.5
    assert loaded._pretrain_done and not th.all(loaded.policy.log_std == -1.5)
    assert not th.equal(loaded.policy.log_std, th.full_like(log_std, -1.5))
    with pytest.raises(ValueError, match=r"pretrain_kwargs: unknown keys \['epochs'\]"):
        InRILPPO("MlpPolicy", pendulum_env, demonstrations=demos_npz, pretrain_kwargs=dict(epochs=3))
