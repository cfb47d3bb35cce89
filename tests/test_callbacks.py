import numpy as np
import pytest
import torch as th
from stable_baselines3 import PPO

from sb3_inril import InRILPPO, InRILSAC
from sb3_inril.common.callbacks import BCRegularization, FineTuningDiagnostics

SMALL = dict(n_steps=64, batch_size=16, n_epochs=2, seed=0)


def test_bc_regularization_adds_the_weighted_bc_gradient(pendulum_env, pendulum_demos):
    model = InRILPPO("MlpPolicy", pendulum_env, demonstrations=pendulum_demos, il_interval=None, **SMALL)
    n_hooks = len(model.policy.optimizer._optimizer_step_pre_hooks)  # IN-RIL's own (critic warm-up)
    callback = BCRegularization(weight=0.5)
    callback.init_callback(model)
    assert len(model.policy.optimizer._optimizer_step_pre_hooks) == n_hooks + 1
    params = model.il_parameters()
    rl_grads = [th.randn_like(p) for p in params]
    for p, g in zip(params, rl_grads):
        p.grad = g.clone()
    state = model.demo_buffer._generator.get_state()
    batch = model.demo_buffer.sample(model.il_batch_size)
    model.demo_buffer._generator.set_state(state)
    bc_grads = th.autograd.grad(model.compute_il_loss(batch), params)
    callback._add_bc_gradient(model.policy.optimizer, (), {})
    for p, g, b in zip(params, rl_grads, bc_grads):
        assert th.allclose(p.grad, g + 0.5 * b, atol=1e-6)
    value = model.policy.value_net.weight
    assert value.grad is None  # the value function gets no BC gradient
    callback.on_training_end()
    assert len(model.policy.optimizer._optimizer_step_pre_hooks) == n_hooks


def test_bc_regularization_in_training_and_errors(pendulum_env, pendulum_demos):
    model = InRILPPO("MlpPolicy", pendulum_env, demonstrations=pendulum_demos, il_interval=None, **SMALL)
    model.learn(128, callback=BCRegularization(0.1))
    assert model.interleaving.n_il_updates == 0 and model.interleaving.n_rl_updates == 16
    with pytest.raises(ValueError, match="weight expected > 0"):
        BCRegularization(0.0)
    with pytest.raises(TypeError, match="needs an IN-RIL model with demonstrations"):
        InRILPPO("MlpPolicy", pendulum_env, il_interval=None, **SMALL).learn(64, callback=BCRegularization())


def test_diagnostics_one_row_per_rollout_with_the_update_that_followed(pendulum_env, pendulum_demos):
    model = InRILPPO("MlpPolicy", pendulum_env, demonstrations=pendulum_demos, n_steps=64, batch_size=32, n_epochs=2, seed=0)
    captured = []

    class Capture(FineTuningDiagnostics):
        def _on_rollout_end(self) -> None:
            buffer = self.model.rollout_buffer
            captured.append((buffer.advantages.copy(), buffer.returns.copy(), buffer.values.copy()))
            super()._on_rollout_end()

    diagnostics = Capture()
    model.learn(192, callback=diagnostics)
    rows = diagnostics.rows
    assert [row["timesteps"] for row in rows] == [64, 128, 192]
    for row, (advantages, returns, values) in zip(rows, captured):
        assert row["advantage_mean"] == pytest.approx(advantages.mean())
        assert row["advantage_std"] == pytest.approx(advantages.std())
        assert row["advantage_positive_fraction"] == pytest.approx((advantages > 0).mean())
        returns, values = returns.astype(np.float64), values.astype(np.float64)
        expected = 1 - np.var(returns - values) / np.var(returns)
        assert row["value_explained_variance"] == pytest.approx(expected, rel=1e-5)
        # PPO's own figures of the update that used this rollout, and IN-RIL's drift after it.
        assert {"approx_kl", "clip_fraction", "std", "value_loss", "explained_variance", "policy_drift"} <= set(row)
        assert row["explained_variance"] == pytest.approx(expected, rel=1e-4, abs=1e-6)
    # 64 / 32 minibatches x 2 epochs per update; one IL step per 10 RL steps.
    assert [row["n_rl_updates"] for row in rows] == [4, 8, 12] and [row["n_il_updates"] for row in rows] == [0, 0, 1]
    # A plain SB3 algorithm: the same rows, without IN-RIL's keys.
    plain = FineTuningDiagnostics()
    PPO("MlpPolicy", pendulum_env, n_steps=64, batch_size=32, n_epochs=1, seed=0).learn(128, callback=plain)
    assert len(plain.rows) == 2 and "approx_kl" in plain.rows[0] and "policy_drift" not in plain.rows[0]


def test_diagnostics_every_n_steps_off_policy(pendulum_env, pendulum_demos):
    model = InRILSAC("MlpPolicy", pendulum_env, demonstrations=pendulum_demos, learning_starts=20, batch_size=16, seed=0)
    diagnostics = FineTuningDiagnostics(every=25)
    model.learn(100, callback=diagnostics)
    assert [row["timesteps"] for row in diagnostics.rows] == [1, 26, 51, 76]
    assert "advantage_mean" not in diagnostics.rows[0]
    assert {"actor_loss", "critic_loss", "ent_coef", "policy_drift"} <= set(diagnostics.rows[-1])
    for bad in (0, -1, 2.5, True):
        with pytest.raises(ValueError, match="every expected a positive integer"):
            FineTuningDiagnostics(every=bad)
