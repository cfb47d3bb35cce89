from typing import cast

import numpy as np
import pytest
import torch as th
from stable_baselines3 import PPO
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.on_policy_algorithm import OnPolicyAlgorithm
from stable_baselines3.common.utils import LinearSchedule

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
    for bad in (0.0, -0.1, float("nan"), float("inf"), "0.1", True, None):
        with pytest.raises(ValueError, match=r"weight expected a finite number > 0, found"):
            BCRegularization(bad)
    # A schedule is checked at the start, the middle and the end of training, before any run.
    with pytest.raises(ValueError, match=r"weight\(0.0\) expected a finite number >= 0, found -0.1"):
        BCRegularization(lambda progress: 0.1 if progress > 0 else -0.1)
    with pytest.raises(ValueError, match=r"weight\(1.0\) expected a finite number >= 0, found nan"):
        BCRegularization(lambda progress: float("nan"))
    with pytest.raises(TypeError, match="needs an IN-RIL model with demonstrations"):
        InRILPPO("MlpPolicy", pendulum_env, il_interval=None, **SMALL).learn(64, callback=BCRegularization())


def test_bc_regularization_weight_schedule(pendulum_env, pendulum_demos):
    model = InRILPPO("MlpPolicy", pendulum_env, demonstrations=pendulum_demos, il_interval=None, **SMALL)
    callback = BCRegularization(weight=LinearSchedule(0.4, 0.0, 1.0))
    callback.init_callback(model)
    params = model.il_parameters()
    rl_grads = [th.randn_like(p) for p in params]
    model._current_progress_remaining = 0.25  # 0.4 -> 0 linearly: 0.1 here
    for p, g in zip(params, rl_grads):
        p.grad = g.clone()
    state = model.demo_buffer._generator.get_state()
    bc_grads = th.autograd.grad(model.compute_il_loss(model.demo_buffer.sample(model.il_batch_size)), params)
    model.demo_buffer._generator.set_state(state)
    callback._add_bc_gradient(model.policy.optimizer, (), {})
    for p, g, b in zip(params, rl_grads, bc_grads):
        assert th.allclose(p.grad, g + 0.1 * b, atol=1e-6)
    assert callback.current_weight() == pytest.approx(0.1)
    # At weight 0 the RL gradient is left as it is and no demonstration batch is drawn.
    model._current_progress_remaining = 0.0
    for p, g in zip(params, rl_grads):
        p.grad = g.clone()
    state = model.demo_buffer._generator.get_state()
    callback._add_bc_gradient(model.policy.optimizer, (), {})
    assert all(th.equal(p.grad, g) for p, g in zip(params, rl_grads))
    assert th.equal(model.demo_buffer._generator.get_state(), state)
    # A schedule that breaks only mid-run fails with the progress at which it broke.
    callback.weight = lambda progress: -1.0 if progress == 0.5 else 0.1
    model._current_progress_remaining = 0.5
    with pytest.raises(ValueError, match=r"weight\(0.5\) expected a finite number >= 0, found -1.0"):
        callback._add_bc_gradient(model.policy.optimizer, (), {})
    callback.on_training_end()


def test_bc_regularization_fading_in_training(pendulum_env, pendulum_demos, tmp_path):
    from stable_baselines3.common.logger import configure

    model = InRILPPO("MlpPolicy", pendulum_env, demonstrations=pendulum_demos, il_interval=None, **SMALL)
    model.set_logger(configure(str(tmp_path), ["csv"]))
    callback = BCRegularization(weight=LinearSchedule(0.1, 0.0, 1.0))
    model.learn(256, callback=callback)  # 4 rollouts of 64 steps: trained at progress 0.75, 0.5, 0.25, 0
    assert model.interleaving.n_rl_updates == 32
    rows = (tmp_path / "progress.csv").read_text().splitlines()
    header = rows[0].split(",")
    weights = [row.split(",")[header.index("train/bc_reg_weight")] for row in rows[1:]]
    # Logged after the rollout that follows each update: none before the first, and the last
    # update's weight is never dumped (learn() ends after it).
    assert weights[0] == "" and [float(w) for w in weights[1:]] == pytest.approx([0.075, 0.05, 0.025])
    assert callback._last_weight == 0.0


def test_diagnostics_one_row_per_rollout_with_the_update_that_followed(pendulum_env, pendulum_demos):
    model = InRILPPO("MlpPolicy", pendulum_env, demonstrations=pendulum_demos, n_steps=64, batch_size=32, n_epochs=2, seed=0)
    captured = []

    class Capture(FineTuningDiagnostics):
        def _on_rollout_end(self) -> None:
            buffer = cast(OnPolicyAlgorithm, self.model).rollout_buffer  # InRILPPO
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
    for bad in (0, -1):
        with pytest.raises(ValueError, match="every: expected a positive int, found"):
            FineTuningDiagnostics(every=bad)
    for bad in (2.5, True):
        with pytest.raises(TypeError, match="every: expected a positive int, found"):
            FineTuningDiagnostics(every=bad)


def test_eval_curve_points_and_the_final_evaluation_episodes(pendulum_env, pendulum_demos):
    import gymnasium as gym
    from stable_baselines3.common.monitor import Monitor

    from sb3_inril.common.callbacks import EvalCurve

    eval_env = Monitor(gym.make("Pendulum-v1", max_episode_steps=5))
    model = InRILPPO("MlpPolicy", pendulum_env, demonstrations=pendulum_demos, il_interval=None, **SMALL)
    curve = EvalCurve(eval_env, eval_freq=64, n_eval_episodes=2, seed=3, final_n_eval_episodes=7)
    model.learn(128, callback=curve)
    # At 0 (the start), 64 and 128 steps; the last, at the end of the budget, with 7 episodes.
    assert [point[0] for point in curve.curve] == [0, 64, 128]
    assert len(eval_env.get_episode_rewards()) == 2 + 2 + 7
    # The same start states every time: the first two episodes of the final evaluation are those of the others.
    rewards = eval_env.get_episode_rewards()
    assert curve.curve[0][1] == pytest.approx(np.mean(rewards[:2]))
    assert curve.curve[2][1] == pytest.approx(np.mean(rewards[4:]))
    with pytest.raises(ValueError, match="final_n_eval_episodes"):
        EvalCurve(eval_env, eval_freq=64, n_eval_episodes=2, seed=3, final_n_eval_episodes=0)


class RaiseAt(BaseCallback):
    """A callback that fails halfway through learn() (as a user's callback, or a KeyboardInterrupt, may)."""

    def __init__(self, timesteps: int) -> None:
        super().__init__()
        self.timesteps = timesteps

    def _on_step(self) -> bool:
        if self.num_timesteps >= self.timesteps:
            raise RuntimeError("a callback failed")
        return True


@pytest.mark.parametrize("cls, kwargs", [(InRILPPO, SMALL), (InRILSAC, dict(learning_starts=16, batch_size=16, seed=0))])
def test_bc_regularization_is_detached_when_learn_raises(pendulum_env, pendulum_demos, cls, kwargs):
    """SB3 calls on_training_end only when learn() returns: the BC hook stayed on the optimizer after an
    exception and BC-regularised every later learn() call of the model."""
    model = cls("MlpPolicy", pendulum_env, demonstrations=pendulum_demos, il_interval=None, **kwargs)
    optimizer = model.rl_actor_optimizer()
    n_hooks = len(optimizer._optimizer_step_pre_hooks)
    callback = BCRegularization(0.1)
    with pytest.raises(RuntimeError, match="a callback failed"):
        model.learn(200, callback=[callback, RaiseAt(100)])
    assert len(optimizer._optimizer_step_pre_hooks) == n_hooks
    model.learn(32, callback=callback, reset_num_timesteps=False)  # the same callback again: one hook, then none
    assert len(optimizer._optimizer_step_pre_hooks) == n_hooks
