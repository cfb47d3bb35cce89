from typing import Any, cast

import numpy as np
import pytest
import torch as th
from stable_baselines3 import PPO
from stable_baselines3.common.logger import configure

from sb3_inril import InRILPPO, InRILSAC, InRILTQC
from sb3_inril.common.surgery import AdaptiveInterval, GradientSurgery, project_gradient

PPO_SMALL: dict[str, Any] = dict(n_steps=64, batch_size=16, n_epochs=2, seed=0)
OFF_SMALL: dict[str, Any] = dict(learning_starts=20, batch_size=32, seed=0, policy_kwargs=dict(net_arch=[32, 32]))


def test_hand_computed_projection():
    g, r = th.tensor([1.0, -1.0]), th.tensor([0.0, 1.0])
    projected, flag = project_gradient(g, r)
    assert th.equal(projected, th.tensor([1.0, 0.0])) and flag.item()
    g, r = th.tensor([3.0, 1.0, -2.0]), th.tensor([-1.0, 2.0, 2.0])  # dot = -3 - ... = -5, |r|^2 = 9
    projected, _ = project_gradient(g, r)
    assert th.allclose(projected, g + 5 / 9 * r)
    # "always" keeps the orthogonal complement, even without conflict.
    projected, flag = project_gradient(th.tensor([1.0, 1.0]), th.tensor([2.0, 0.0]), when="always")
    assert th.equal(projected, th.tensor([0.0, 1.0])) and flag.item()


def test_projection_removes_conflict_and_keeps_agreement_bit_for_bit():
    generator = th.Generator().manual_seed(0)
    for _ in range(200):
        g, r = th.randn(1000, generator=generator), th.randn(1000, generator=generator)
        g, r = g / g.norm(), r / r.norm()  # gradient-sized vectors: the bar is absolute
        projected, flag = project_gradient(g, r)
        assert th.dot(projected, r).item() >= -1e-6
        scale = float(th.rand((), generator=generator) * 1e3)  # larger ones: relative to |g| |r|
        big, _ = project_gradient(scale * g, r)
        assert th.dot(big, r).item() >= -1e-6 * scale
        if th.dot(g, r) >= 0:
            assert th.equal(projected, g) and not flag.item()
        else:
            assert flag.item()
    zero_reference, flag = project_gradient(th.ones(3), th.zeros(3))
    assert th.equal(zero_reference, th.ones(3)) and not flag.item()


def surgery_model(granularity: str) -> InRILPPO:
    demos = {"obs": np.zeros((20, 3), np.float32), "acts": np.zeros((20, 1), np.float32)}
    return InRILPPO(
        "MlpPolicy",
        "Pendulum-v1",
        demonstrations=demos,
        gradient_separation="surgery",
        surgery_kwargs=dict(granularity=granularity),
        **PPO_SMALL,
    )


def run_il_hook(model: InRILPPO, il_grads: list[th.Tensor], rl_grads: list[th.Tensor]) -> list[th.Tensor]:
    params = model.il_parameters()
    surgery = model.gradient_surgery
    assert surgery is not None
    surgery._references[False] = (
        tuple(True for _ in rl_grads),
        th.cat([g.reshape(-1) for g in rl_grads]),
        th.cat([g.reshape(-1) for g in rl_grads]).norm(),
    )
    for param, grad in zip(params, il_grads):
        param.grad = grad.clone()
    model.interleaving.il_step_running = True
    surgery._before_step(model.il_optimizer, (), {})
    model.interleaving.il_step_running = False
    return [cast(th.Tensor, param.grad) for param in params]  # set above, projected in place


def test_per_tensor_differs_from_global_where_it_should():
    results = {}
    for granularity in ("global", "per_tensor"):
        model = surgery_model(granularity)
        params = model.il_parameters()
        # The first tensor agrees strongly, the second conflicts a little: no conflict overall.
        il = [
            th.full_like(p, 1.0) if i == 0 else (th.full_like(p, -0.01) if i == 1 else th.zeros_like(p))
            for i, p in enumerate(params)
        ]
        rl = [th.full_like(p, 1.0) if i in (0, 1) else th.zeros_like(p) for i, p in enumerate(params)]
        results[granularity] = run_il_hook(model, il, rl)
        if granularity == "global":
            assert all(th.equal(a, b) for a, b in zip(results[granularity], il))  # bit for bit
        else:
            assert th.equal(results[granularity][0], il[0])
            assert th.allclose(results[granularity][1], th.zeros_like(il[1]), atol=1e-8)  # projected away
    assert not th.equal(results["global"][1], results["per_tensor"][1])


@pytest.mark.parametrize("inril_class, kwargs", [(InRILPPO, PPO_SMALL), (InRILSAC, OFF_SMALL), (InRILTQC, OFF_SMALL)])
def test_callback_projects_il_gradients_during_training(tmp_path, pendulum_env, pendulum_demos, inril_class, kwargs):
    model = inril_class("MlpPolicy", pendulum_env, demonstrations=pendulum_demos, il_interval=2, **kwargs)
    surgery = GradientSurgery(project="both")
    applied: list[tuple[th.Tensor, th.Tensor]] = []

    def capture(optimizer, args, kw):
        if model.interleaving.il_step_running and surgery._references[False] is not None:
            present, ref, _ = surgery._references[False]
            grads = [p.grad for p in model.il_parameters()]
            assert tuple(g is not None for g in grads) == present
            applied.append((th.cat([g.reshape(-1) for g in grads if g is not None]), ref))

    model.set_logger(configure(str(tmp_path), ["csv"]))
    model.learn(200, callback=surgery, reset_num_timesteps=False, log_interval=1)
    assert model.gradient_surgery is None and surgery._handles == []  # detached after learn
    surgery.attach(model)
    handle = model.il_optimizer.register_step_pre_hook(capture)  # runs after the surgery hook
    model.learn(200, reset_num_timesteps=False, log_interval=1)
    handle.remove()
    assert len(applied) > 5
    assert all(th.dot(g, r).item() >= -1e-5 * (g.norm() * r.norm()).item() for g, r in applied)
    stats = surgery.statistics()
    assert {
        "grad_cos_mean",
        "grad_cos_min",
        "il_projected_frac",
        "rl_projected_frac",
        "il_grad_norm",
        "rl_grad_norm",
    } <= stats.keys()
    text = open(tmp_path / "progress.csv").read()
    assert "train/grad_cos_mean" in text and "train/il_projected_frac" in text


def test_constructor_path_and_save_load(tmp_path, pendulum_env, demos_npz):
    model = InRILSAC(
        "MlpPolicy",
        pendulum_env,
        demonstrations=demos_npz,
        il_interval=3,
        gradient_separation="surgery",
        surgery_kwargs=dict(project="both", reference="ema", ema_decay=0.5),
        **OFF_SMALL,
    )
    model.learn(80)
    assert model.gradient_surgery is not None and model.gradient_surgery.reference == "ema"
    assert model.gradient_surgery.statistics()["il_projected_frac"] >= 0
    model.save(tmp_path / "model")
    loaded = InRILSAC.load(tmp_path / "model", env=pendulum_env)
    assert loaded.gradient_surgery is not None and loaded.gradient_surgery.project == "both"
    loaded.learn(40, reset_num_timesteps=False)
    assert loaded.gradient_surgery.statistics()["grad_cos_min"] <= 1.0
    with pytest.raises(ValueError, match="already has gradient surgery"):
        loaded.learn(10, callback=GradientSurgery())


def test_bad_surgery_options(pendulum_env, pendulum_demos):
    with pytest.raises(ValueError, match=r"project expected one of \('il', 'rl', 'both', 'none'\), found 'critic'"):
        GradientSurgery(project="critic")
    with pytest.raises(ValueError, match="granularity"):
        InRILPPO(
            "MlpPolicy",
            pendulum_env,
            demonstrations=pendulum_demos,
            gradient_separation="surgery",
            surgery_kwargs=dict(granularity="x"),
        )
    with pytest.raises(ValueError, match="surgery_kwargs: only used with gradient_separation='surgery'"):
        InRILPPO("MlpPolicy", pendulum_env, demonstrations=pendulum_demos, surgery_kwargs=dict(project="il"))
    with pytest.raises(ValueError, match="gradient_separation: expected one of"):
        InRILPPO("MlpPolicy", pendulum_env, demonstrations=pendulum_demos, gradient_separation="pcgrad")
    with pytest.raises(TypeError, match="needs an IN-RIL model"):
        PPO("MlpPolicy", pendulum_env, n_steps=64, batch_size=16).learn(64, callback=GradientSurgery())
    with pytest.raises(ValueError, match="il_interval: expected a positive int, 'adaptive'"):
        InRILPPO("MlpPolicy", pendulum_env, demonstrations=pendulum_demos, il_interval="fast")
    with pytest.raises(ValueError, match="m_min <= m_max"):
        AdaptiveInterval(m_min=10, m_max=5)


def test_adaptive_rule_moves_m_the_right_way():
    schedule = AdaptiveInterval(m_min=2, m_max=30, decay=0.5)
    assert schedule.interval == 16  # no measurement yet: the midpoint
    intervals = []
    for _ in range(20):
        schedule.update(-1.0)  # persistent conflict
        intervals.append(schedule.interval)
    assert intervals == sorted(intervals) and intervals[-1] == 30
    for _ in range(30):
        schedule.update(1.0)  # agreement
    assert schedule.interval == 2
    schedule.cos_ema = 0.5
    assert schedule.interval == round(2 + 28 * 0.25)


def test_adaptive_interval_in_training(tmp_path, pendulum_env, pendulum_demos):
    model = InRILPPO(
        "MlpPolicy",
        pendulum_env,
        demonstrations=pendulum_demos,
        il_interval=AdaptiveInterval(m_min=1, m_max=5, decay=0.0),
        **PPO_SMALL,
    )
    model.set_logger(configure(str(tmp_path), ["csv"]))
    model.learn(320)
    # IL steps follow RL steps: every IL step measured a cosine against an RL gradient.
    assert model.adaptive_interval.n_updates == model.interleaving.n_il_updates
    assert model.interleaving.n_rl_updates // 5 <= model.interleaving.n_il_updates <= model.interleaving.n_rl_updates
    cos = model.adaptive_interval.cos_ema  # decay 0: the last measurement
    assert model.current_il_interval == round(1 + 4 * (1 - cos) / 2)
    text = open(tmp_path / "progress.csv").read()
    assert "train/il_interval" in text and "train/grad_cos_mean" in text


def test_only_parameters_both_gradients_touch_are_compared(pendulum_env, pendulum_demos):
    """Under the MSE loss log_std gets no IL gradient: the comparison leaves it out."""
    model = InRILPPO("MlpPolicy", pendulum_env, demonstrations=pendulum_demos, il_interval=1, il_loss="mse", **PPO_SMALL)
    surgery = GradientSurgery(project="il", when="always")
    surgery.attach(model)
    log_std_index = next(i for i, p in enumerate(model.il_parameters()) if p is model.policy.log_std)
    applied = []

    def capture(optimizer, args, kw):
        if model.interleaving.il_step_running:
            present, ref, _ = surgery._references[False]
            grads = [p.grad for p in model.il_parameters()]
            assert grads[log_std_index] is None and present[log_std_index]
            segments = surgery._segments(present, grads)
            shared = [i for i, g in enumerate(grads) if g is not None]
            g = th.cat([grads[i].reshape(-1) for i in shared])
            r = th.cat([ref[segments[i]] for i in shared])
            applied.append(th.dot(g, r).abs().item() / (g.norm() * r.norm()).item())

    model.il_optimizer.register_step_pre_hook(capture)
    model.learn(64)
    assert len(applied) == 8 and max(applied) < 1e-5  # "always": orthogonal to the RL gradient
    assert surgery.statistics()["il_projected_frac"] == 1.0


def test_a_surgery_callback_is_detached_when_learn_raises(pendulum_env, pendulum_demos):
    """SB3 calls on_training_end only when learn() returns: after an exception the callback stayed
    attached, projecting in every later learn() call and refusing the next GradientSurgery."""
    from stable_baselines3.common.callbacks import BaseCallback

    class Fail(BaseCallback):
        def _on_step(self) -> bool:
            if self.num_timesteps >= 100:
                raise KeyboardInterrupt
            return True

    model = InRILSAC("MlpPolicy", pendulum_env, demonstrations=pendulum_demos, il_interval=3, **OFF_SMALL)
    n_hooks = len(model.actor.optimizer._optimizer_step_pre_hooks), len(model.il_optimizer._optimizer_step_pre_hooks)
    with pytest.raises(KeyboardInterrupt):
        model.learn(200, callback=[GradientSurgery(project="both"), Fail()])
    assert model.gradient_surgery is None
    assert (len(model.actor.optimizer._optimizer_step_pre_hooks), len(model.il_optimizer._optimizer_step_pre_hooks)) == n_hooks
    surgery = GradientSurgery()
    model.learn(40, callback=surgery, reset_num_timesteps=False)
    assert surgery.inril_model is None and model.gradient_surgery is None
