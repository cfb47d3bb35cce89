import numpy as np
import pytest
import torch as th
from sb3_contrib import TQC
from stable_baselines3 import SAC

from sb3_inril import InRILSAC, InRILTQC

SMALL = dict(learning_starts=20, batch_size=32, seed=0, device="cpu", policy_kwargs=dict(net_arch=[32, 32]))
PAIRS = [(InRILSAC, SAC), (InRILTQC, TQC)]


def params_equal(first: th.nn.Module, second: th.nn.Module) -> bool:
    return all(th.equal(a, b) for a, b in zip(first.state_dict().values(), second.state_dict().values()))


def snapshot(module: th.nn.Module) -> dict[str, th.Tensor]:
    return {name: value.detach().clone() for name, value in module.state_dict().items()}


def unchanged(module: th.nn.Module, before: dict[str, th.Tensor]) -> bool:
    return all(th.equal(value, before[name]) for name, value in module.state_dict().items())


@pytest.mark.parametrize(
    "train_freq, gradient_steps, m, k, expected_rl",
    [
        (1, 1, 7, 1, 80),  # env steps 21..100 each train once
        (1, 2, 7, 2, 160),
        (4, 1, 3, 1, 20),  # train() every 4 env steps after learning_starts
        ((2, "step"), -1, 5, 3, 80),  # as many gradient steps as env steps
    ],
)
def test_exact_il_update_counts(pendulum_env, pendulum_demos, train_freq, gradient_steps, m, k, expected_rl):
    model = InRILSAC(
        "MlpPolicy",
        pendulum_env,
        demonstrations=pendulum_demos,
        il_interval=m,
        il_steps=k,
        train_freq=train_freq,
        gradient_steps=gradient_steps,
        **SMALL,
    )
    model.learn(100)
    assert model._n_updates == expected_rl
    assert model.interleaving.n_rl_updates == expected_rl
    assert model.interleaving.n_il_updates == (expected_rl // m) * k


def test_tqc_exact_il_update_counts(pendulum_env, pendulum_demos):
    model = InRILTQC("MlpPolicy", pendulum_env, demonstrations=pendulum_demos, il_interval=4, **SMALL)
    model.learn(60)
    assert model.interleaving.n_rl_updates == 40 and model.interleaving.n_il_updates == 10


@pytest.mark.parametrize("inril_class", [InRILSAC, InRILTQC])
@pytest.mark.parametrize("il_loss", ["nll", "mse"])
def test_il_step_touches_only_the_actor(pendulum_env, pendulum_demos, inril_class, il_loss):
    model = inril_class("MlpPolicy", pendulum_env, demonstrations=pendulum_demos, il_loss=il_loss, **SMALL)
    model.learn(40)  # some RL first, so that the optimizers have state
    critic, target, actor = snapshot(model.critic), snapshot(model.critic_target), snapshot(model.actor)
    ent_coef = model.log_ent_coef.detach().clone()
    ent_state = model.ent_coef_optimizer.state_dict()["state"][0]["step"].clone()
    sentinels = {id(p): th.full_like(p, 3.0) for p in model.policy.parameters()}
    for p in model.policy.parameters():
        p.grad = sentinels[id(p)]
    model.il_step()
    assert unchanged(model.critic, critic) and unchanged(model.critic_target, target)
    assert th.equal(model.log_ent_coef, ent_coef)
    assert th.equal(model.ent_coef_optimizer.state_dict()["state"][0]["step"], ent_state)
    assert not unchanged(model.actor, actor)
    assert all(p.grad is sentinels[id(p)] for p in model.policy.parameters())
    assert {id(p) for p in model.il_parameters()} == {id(p) for p in model.actor.parameters()}


@pytest.mark.parametrize("bound", [-2.0, 2.0])
def test_nll_is_safe_for_demo_actions_at_the_bounds(pendulum_env, bound):
    obs = np.random.default_rng(0).normal(size=(64, 3)).astype(np.float32)
    demos = {"obs": obs, "acts": np.full((64, 1), bound, dtype=np.float32)}  # exactly at the bound
    model = InRILSAC("MlpPolicy", pendulum_env, demonstrations=demos, demo_val_fraction=0.0, **SMALL)
    assert th.all(model.demo_buffer.actions.abs() <= 1.0 - 1e-3)
    assert th.all(model.demo_buffer.actions * np.sign(bound) > 0.99)
    batch = model.demo_buffer.sample(64)
    loss = model.compute_il_loss(batch)
    loss.backward()
    assert th.isfinite(loss) and loss.item() < 1e3
    assert all(th.isfinite(p.grad).all() for p in model.actor.parameters() if p.grad is not None)
    stats = model.pretrain(n_steps=200, learning_rate=3e-3)
    assert np.isfinite(stats["final_train_loss"])
    # The cloned policy goes to the bound, as the demonstrations do.
    action, _ = model.predict(obs[:8], deterministic=True)
    assert np.all(np.abs(action - bound) < 0.1)


@pytest.mark.parametrize("inril_class", [InRILSAC, InRILTQC])
def test_critic_warmup_freezes_the_actor(pendulum_env, pendulum_demos, inril_class):
    model = inril_class(
        "MlpPolicy", pendulum_env, demonstrations=pendulum_demos, il_interval=2, critic_warmup_steps=30, **SMALL
    )
    actor, critic, ent_coef = snapshot(model.actor), snapshot(model.critic), model.log_ent_coef.detach().clone()
    model.learn(50)  # exactly 30 gradient steps
    assert model._n_updates == 30 and model.interleaving.n_warmup_steps_done == 30
    assert unchanged(model.actor, actor) and th.equal(model.log_ent_coef, ent_coef)
    assert not unchanged(model.critic, critic)
    assert (
        model.interleaving.n_rl_updates == 0
        and model.interleaving.n_il_updates == 0
        and model.actor.optimizer.state_dict()["state"] == {}
    )
    model.learn(10, reset_num_timesteps=False)
    assert not unchanged(model.actor, actor) and not th.equal(model.log_ent_coef, ent_coef)
    assert model.interleaving.n_rl_updates == 10 and model.interleaving.n_il_updates == 5


def test_critic_warmup_on_ppo(pendulum_env, pendulum_demos):
    from sb3_inril import InRILPPO

    model = InRILPPO(
        "MlpPolicy",
        pendulum_env,
        demonstrations=pendulum_demos,
        critic_warmup_steps=8,
        n_steps=64,
        batch_size=16,
        n_epochs=2,
        seed=0,
    )
    actor_before = [p.detach().clone() for p in model.il_parameters()]
    value_before = snapshot(model.policy.value_net)
    model.learn(64)
    assert all(th.equal(p, q) for p, q in zip(model.il_parameters(), actor_before))
    assert not unchanged(model.policy.value_net, value_before)
    model.learn(64, reset_num_timesteps=False)
    assert not all(th.equal(p, q) for p, q in zip(model.il_parameters(), actor_before))


def test_critic_warmup_counted_in_rollouts_on_ppo(pendulum_env, pendulum_demos):
    from sb3_inril import InRILPPO

    model = InRILPPO(
        "MlpPolicy",
        pendulum_env,
        demonstrations=pendulum_demos,
        il_interval=2,
        critic_warmup_steps=2,
        critic_warmup_unit="train_call",
        n_steps=64,
        batch_size=16,
        n_epochs=2,
        seed=0,
    )
    actor_before = [p.detach().clone() for p in model.il_parameters()]
    value_before = snapshot(model.policy.value_net)
    model.learn(128)  # two rollouts, two train() calls: the whole warm-up
    state = model.interleaving
    assert state.n_warmup_train_calls_done == 2 and state.n_warmup_steps_done == 2 * 2 * 4  # calls x epochs x minibatches
    assert state.n_rl_updates == 0 and state.n_il_updates == 0
    assert all(th.equal(p, q) for p, q in zip(model.il_parameters(), actor_before))
    assert not unchanged(model.policy.value_net, value_before)
    model.learn(64, reset_num_timesteps=False)  # the third rollout moves the actor: 8 RL steps, 4 IL steps
    assert state.n_warmup_train_calls_done == 2 and state.n_rl_updates == 8 and state.n_il_updates == 4
    assert not all(th.equal(p, q) for p, q in zip(model.il_parameters(), actor_before))
    # With m counted in train() calls too, the warm-up's calls take no IL step and do not count.
    model = InRILPPO(
        "MlpPolicy",
        pendulum_env,
        demonstrations=pendulum_demos,
        il_interval=1,
        il_interval_unit="train_call",
        critic_warmup_steps=2,
        critic_warmup_unit="train_call",
        n_steps=64,
        batch_size=16,
        n_epochs=1,
        seed=0,
    )
    model.learn(128)
    assert model.interleaving.n_il_updates == 0 and model.interleaving.units_since_il == 0
    model.learn(128, reset_num_timesteps=False)
    assert model.interleaving.n_il_updates == 2 and model.interleaving.n_rl_updates == 8


@pytest.mark.parametrize("inril_class", ["InRILPPO", InRILSAC])
def test_critic_warmup_learning_rate(pendulum_env, pendulum_demos, inril_class):
    import sb3_inril

    inril_class = getattr(sb3_inril, inril_class) if isinstance(inril_class, str) else inril_class
    on_policy = inril_class.__name__ == "InRILPPO"
    settings = dict(n_steps=64, batch_size=16, n_epochs=1, seed=0) if on_policy else SMALL
    critic_of = (lambda m: m.policy.value_net) if on_policy else (lambda m: m.critic.qf0)
    optimizer_of = (lambda m: m.policy.optimizer) if on_policy else (lambda m: m.critic.optimizer)
    changes = {}
    for warmup_rate in (None, 1e-12):
        model = inril_class(
            "MlpPolicy",
            pendulum_env,
            demonstrations=pendulum_demos,
            learning_rate=1e-3,
            critic_warmup_steps=4,
            critic_warmup_learning_rate=warmup_rate,
            **settings,
        )
        before = snapshot(critic_of(model))
        model.learn(64 if on_policy else 24)  # exactly the 4 warm-up gradient steps
        assert model.interleaving.n_warmup_steps_done == 4 and model.interleaving.n_rl_updates == 0
        changes[warmup_rate] = max(
            (value - before[name]).abs().max().item() for name, value in critic_of(model).state_dict().items()
        )
        # The optimizer's own rate is back after every warm-up step.
        assert all(group["lr"] == pytest.approx(1e-3) for group in optimizer_of(model).param_groups)
    # Adam's first steps move each weight by about the learning rate: 1e-3 against 1e-12.
    assert changes[None] > 1e-4 and changes[1e-12] < 1e-9


def test_critic_warmup_arguments(pendulum_env):
    with pytest.raises(ValueError, match="critic_warmup_unit"):
        InRILSAC("MlpPolicy", pendulum_env, critic_warmup_steps=2, critic_warmup_unit="rollout", **SMALL)
    with pytest.raises(ValueError, match="critic_warmup_learning_rate"):
        InRILSAC("MlpPolicy", pendulum_env, critic_warmup_steps=2, critic_warmup_learning_rate=-1.0, **SMALL)
    with pytest.raises(ValueError, match="critic_warmup_learning_rate: only used with critic_warmup_steps > 0"):
        InRILSAC("MlpPolicy", pendulum_env, critic_warmup_learning_rate=1e-3, **SMALL)


def test_tensorboard_name_and_diagnostics(tmp_path, pendulum_env, pendulum_demos):
    model = InRILTQC("MlpPolicy", pendulum_env, demonstrations=pendulum_demos, tensorboard_log=str(tmp_path), **SMALL)
    model.learn(40)
    assert (tmp_path / "InRILTQC_1").is_dir()
    assert set(model.il_diagnostics()) == {"il_val_loss", "policy_drift"}
