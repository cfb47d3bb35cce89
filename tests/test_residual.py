import gymnasium as gym
import numpy as np
import pytest
import torch as th
from stable_baselines3.common.vec_env import DummyVecEnv, VecNormalize

from sb3_inril import InRILPPO, InRILSAC, InRILTQC
from sb3_inril.common.callbacks import BCRegularization
from sb3_inril.common.residual import ResidualPolicyMixin

PPO_SMALL = dict(n_steps=64, batch_size=16, n_epochs=2, seed=0)
OFF_SMALL = dict(learning_starts=20, batch_size=32, seed=0, policy_kwargs=dict(net_arch=[32, 32]))
CASES = [(InRILPPO, PPO_SMALL), (InRILSAC, OFF_SMALL), (InRILTQC, OFF_SMALL)]


def make(inril_class, kwargs, demos, **extra):
    kwargs = {**kwargs, **extra}
    kwargs["policy_kwargs"] = dict(kwargs.get("policy_kwargs", {}))  # SB3 adds keys to the dict it is given
    return inril_class("MlpPolicy", "Pendulum-v1", demonstrations=demos, gradient_separation="residual", **kwargs)


def values(params) -> list[th.Tensor]:
    return [p.detach().clone() for p in params]


def all_equal(params, before) -> bool:
    return all(th.equal(p, q) for p, q in zip(params, before))


def none_equal(params, before) -> bool:
    return not any(th.equal(p, q) for p, q in zip(params, before))


def rl_optimizer_params(model) -> set[int]:
    return {id(p) for group in model.rl_actor_optimizer().param_groups for p in group["params"]}


@pytest.mark.parametrize("inril_class, kwargs", CASES)
def test_initial_action_is_the_base_action(pendulum_demos, inril_class, kwargs):
    model = make(inril_class, kwargs, pendulum_demos)
    assert model.is_residual and type(model.policy).__name__.startswith("Residual")
    model.pretrain(n_steps=20)
    obs = th.as_tensor(pendulum_demos["obs"][:64])
    with th.no_grad():
        assert th.equal(model.policy._predict(obs, deterministic=True), model.policy.base_actions(obs))
        assert th.all(model.policy.residual_actions(obs) == 0)


@pytest.mark.parametrize("inril_class, kwargs", CASES)
def test_parameter_sets_are_disjoint(pendulum_demos, inril_class, kwargs):
    model = make(inril_class, kwargs, pendulum_demos)
    il = {id(p) for group in model.il_optimizer.param_groups for p in group["params"]}
    rl = rl_optimizer_params(model)
    assert il and rl and not il & rl
    assert il == {id(p) for p in model.policy.base_parameters()}
    assert rl == {id(p) for p in model.policy.residual_parameters()} | (
        {id(p) for p in model.policy.parameters()} - il if inril_class is InRILPPO else set()
    )


@pytest.mark.parametrize("inril_class, kwargs", CASES)
def test_rl_leaves_the_base_and_il_leaves_the_residual_unchanged(pendulum_demos, inril_class, kwargs):
    model = make(inril_class, kwargs, pendulum_demos, il_interval=None)
    base, residual = model.policy.base_parameters(), model.policy.residual_parameters()
    base_before, residual_before = values(base), values(residual)
    model.learn(100)
    assert all_equal(base, base_before)  # bit for bit
    assert not all_equal(residual, residual_before)
    residual_before, base_before = values(residual), values(base)
    model.il_step()
    assert all_equal(residual, residual_before)
    assert not all_equal(base, base_before)


@pytest.mark.parametrize("inril_class, kwargs", CASES)
def test_interleaved_training_save_load_and_diagnostics(tmp_path, demos_npz, inril_class, kwargs):
    model = make(
        inril_class, kwargs, demos_npz, il_interval=3, policy_kwargs=dict(kwargs.get("policy_kwargs", {}), residual_scale=0.5)
    )
    model.pretrain(n_steps=10)
    model.learn(100)
    assert model.interleaving.n_il_updates == model.interleaving.n_rl_updates // 3 > 0
    diagnostics = model.il_diagnostics()
    assert diagnostics["residual_norm"] > 0
    model.save(tmp_path / "model")
    loaded = inril_class.load(tmp_path / "model", env=gym.make("Pendulum-v1"))
    assert loaded.is_residual and loaded.gradient_separation == "residual" and loaded.policy.residual_scale == 0.5
    assert all_equal(loaded.policy.parameters(), values(model.policy.parameters()))
    assert loaded.il_diagnostics()["residual_norm"] == pytest.approx(diagnostics["residual_norm"])
    obs = th.as_tensor(np.load(demos_npz)["obs"][:16])
    assert th.equal(loaded.policy._predict(obs, True), model.policy._predict(obs, True))
    loaded.learn(40, reset_num_timesteps=False)


def test_selected_by_policy_name_and_options(pendulum_demos):
    model = InRILPPO(
        "ResidualMlpPolicy",
        "Pendulum-v1",
        demonstrations=pendulum_demos,
        policy_kwargs=dict(residual_scale=0.2, residual_net_arch=[16], residual_sees_base_action=False),
        **PPO_SMALL,
    )
    assert model.gradient_separation == "residual" and isinstance(model.policy, ResidualPolicyMixin)
    assert model.policy.residual_net[0].in_features == model.policy.mlp_extractor.latent_dim_pi
    model.learn(64)


def test_residual_errors(pendulum_demos):
    with pytest.raises(ValueError, match="'residual' needs a residual policy"):
        InRILPPO("CnnPolicy", "Pendulum-v1", demonstrations=pendulum_demos, gradient_separation="residual")
    with pytest.raises(ValueError, match="separates IL and RL by construction"):
        InRILPPO("ResidualMlpPolicy", "Pendulum-v1", demonstrations=pendulum_demos, gradient_separation="surgery")
    with pytest.raises(ValueError, match=r"residual_scale: expected a finite value in \(0.0, inf\), found 0.0"):
        make(InRILSAC, dict(OFF_SMALL, policy_kwargs=dict(residual_scale=0)), pendulum_demos)
    with pytest.raises(ValueError, match="need a Box action space"):
        InRILPPO("MlpPolicy", "CartPole-v1", gradient_separation="residual")
    with pytest.raises(ValueError, match="use_sde"):
        InRILSAC("MlpPolicy", "Pendulum-v1", gradient_separation="residual", use_sde=True)


def test_critic_warmup_holds_the_residual(pendulum_demos):
    model = make(InRILSAC, OFF_SMALL, pendulum_demos, critic_warmup_steps=20)
    residual = model.policy.residual_parameters()
    before = values(residual)
    model.learn(40)
    assert all_equal(residual, before)
    model.learn(5, reset_num_timesteps=False)
    assert not all_equal(residual, before)


def test_vec_normalize(pendulum_demos):
    venv = VecNormalize(DummyVecEnv([lambda: gym.make("Pendulum-v1")]))
    model = InRILPPO(
        "MlpPolicy", venv, demonstrations=pendulum_demos, gradient_separation="residual", il_interval=2, **PPO_SMALL
    )
    model.pretrain(n_steps=5)
    model.learn(128)
    assert model.interleaving.n_il_updates == 8


@pytest.mark.parametrize("inril_class, kwargs", CASES)
def test_bc_regularization_of_a_residual_policy_trains_only_the_residual(pendulum_demos, inril_class, kwargs):
    # The RL optimizer holds the residual side only: BC regularisation pulls the whole policy's action
    # towards the demonstrations through the residual, and leaves the base as pre-training made it.
    steps = 64 if inril_class is InRILPPO else 60
    runs = {}
    for weight in (None, 1.0):
        model = make(inril_class, kwargs, pendulum_demos, il_interval=None)
        base = values(model.policy.base_parameters())
        callback = BCRegularization(weight) if weight else None
        model.learn(steps, callback=callback)
        assert all_equal(model.policy.base_parameters(), base)
        runs[weight] = values(model.policy.residual_parameters())
        if callback is not None:
            assert callback.bc_loss(model.demo_buffer.sample(8)).requires_grad
    assert not all(th.equal(p, q) for p, q in zip(runs[None], runs[1.0]))
