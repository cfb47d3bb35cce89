"""Diffusion policies fine-tuned by PPO over the denoising chain (DPPO), with IN-RIL's denoising IL."""

import csv

import gymnasium as gym
import numpy as np
import pytest
import torch as th
from stable_baselines3.common.buffers import RolloutBuffer
from stable_baselines3.common.evaluation import evaluate_policy
from stable_baselines3.common.logger import configure
from stable_baselines3.common.vec_env import DummyVecEnv

from sb3_inril import InRILPPO
from sb3_inril.a2c import InRILA2C
from sb3_inril.common.diffusion import (
    DenoisingChainRolloutBuffer,
    DictDenoisingChainRolloutBuffer,
    DiffusionActorCriticPolicy,
)
from sb3_inril.common.diffusion.denoiser import cosine_beta_schedule

# Rollout-only tests build models without demonstrations on purpose.
pytestmark = pytest.mark.filterwarnings("ignore:InRILPPO. no demonstrations")

SMALL = dict(denoising_steps=6, denoiser_net_arch=[32, 32], net_arch=dict(pi=[], vf=[32]))


def small_model(demos=None, policy_kwargs=None, **kwargs):
    kwargs = {"n_steps": 64, "batch_size": 64, "n_epochs": 2, "seed": 0, "il_interval": 2, **kwargs}
    return InRILPPO(
        "DiffusionPolicy", "Pendulum-v1", demonstrations=demos, policy_kwargs={**SMALL, **(policy_kwargs or {})}, **kwargs
    )


def collect_one_rollout(model):
    _, callback = model._setup_learn(model.n_steps, callback=None)
    callback.on_training_start(locals(), globals())
    assert model.collect_rollouts(model.env, callback, model.rollout_buffer, n_rollout_steps=model.n_steps)


def test_chain_log_likelihood_by_hand():
    model = small_model(
        policy_kwargs=dict(ft_denoising_steps=6, log_prob_reduction="sum", log_prob_clamp=None, min_logprob_denoising_std=1e-4)
    )
    policy = model.policy
    obs = th.as_tensor(np.array([[0.3, -0.2, 0.5], [-1.0, 0.1, 2.0]], dtype=np.float32))
    with th.no_grad():
        _, chain, sampled_log_probs = policy.sample(policy._actor_latent(obs))
        log_probs = policy.chain_step_log_probs(obs, chain)
    assert chain.shape == (2, 7, 1) and log_probs.shape == (2, 6)
    np.testing.assert_allclose(log_probs.numpy(), sampled_log_probs.numpy(), rtol=1e-5, atol=1e-5)

    # DDPM's posterior q(x_{t-1} | x_t, x0_hat) written out in float64, step by step.
    betas = cosine_beta_schedule(6).double().numpy()
    abar = np.cumprod(1 - betas)
    expected = np.zeros((2, 6))
    with th.no_grad():
        latent = policy._actor_latent(obs)
        for j, t in enumerate(range(5, -1, -1)):
            x, x_next = chain[:, j].double().numpy(), chain[:, j + 1].double().numpy()
            eps = policy.denoiser(chain[:, j], th.full((2,), t), latent).double().numpy()
            abar_prev = abar[t - 1] if t > 0 else 1.0
            x0 = np.clip((x - np.sqrt(1 - abar[t]) * eps) / np.sqrt(abar[t]), -1, 1)
            mean = (
                betas[t] * np.sqrt(abar_prev) / (1 - abar[t]) * x0
                + (1 - abar_prev) * np.sqrt(1 - betas[t]) / (1 - abar[t]) * x
            )
            std = max(np.sqrt(betas[t] * (1 - abar_prev) / (1 - abar[t])), 1e-4)
            expected[:, j] = (-0.5 * ((x_next - mean) / std) ** 2 - np.log(std) - 0.5 * np.log(2 * np.pi)).sum(-1)
    np.testing.assert_allclose(log_probs.numpy(), expected, rtol=1e-4, atol=1e-4)
    # The chain's log-likelihood is the sum over its steps.
    np.testing.assert_allclose(log_probs.sum(1).numpy(), expected.sum(1), rtol=1e-4, atol=1e-4)


def test_ratio_is_one_on_the_first_minibatch_after_a_rollout():
    model = small_model(n_steps=32, batch_size=40)
    collect_one_rollout(model)
    buffer = model.rollout_buffer
    assert isinstance(buffer, DenoisingChainRolloutBuffer)
    n_ft = model.policy.ft_denoising_steps
    batches = list(buffer.get(40))
    assert sum(len(batch.actions) for batch in batches) == 32 * n_ft  # one sample per (env step, denoising step)
    model.policy.set_training_mode(True)
    with th.no_grad():
        _, log_prob, entropy = model.policy.evaluate_actions(batches[0].observations, batches[0].actions)
    ratio = th.exp(log_prob - batches[0].old_log_prob)
    np.testing.assert_allclose(ratio.numpy(), 1.0, atol=1e-5)
    assert entropy is not None and not entropy.requires_grad


def test_advantages_carry_the_denoising_discount():
    model = small_model(n_steps=16, policy_kwargs=dict(denoising_discount=0.5))
    collect_one_rollout(model)
    buffer = model.rollout_buffer
    n_ft = model.policy.ft_denoising_steps
    (batch,) = list(buffer.get(None))
    steps = batch.actions[:, -1].long().numpy()
    # The same transition's samples: advantage times 0.5 ** (K' - 1 - j).
    advantages = buffer.advantages.flatten()
    for sample in range(len(steps)):
        transition = np.flatnonzero(np.isclose(buffer.values.flatten(), batch.old_values[sample].item()))[0]
        assert batch.advantages[sample].item() == pytest.approx(
            advantages[transition] * 0.5 ** (n_ft - 1 - steps[sample]), rel=1e-5
        )
    # The stored pair is consecutive elements of the stored chain.
    chains = buffer.chains
    assert chains.shape == (16, n_ft + 1, 1)


def test_gradients_reach_only_the_fine_tuned_steps():
    model = small_model(policy_kwargs=dict(ft_denoising_steps=2))
    policy = model.policy
    frozen_before = [p.clone() for p in policy.frozen_denoiser.parameters()]
    assert all(not p.requires_grad for p in policy.frozen_denoiser.parameters())
    optimizer_params = {id(p) for group in policy.optimizer.param_groups for p in group["params"]}
    assert not optimizer_params & {id(p) for p in policy.frozen_denoiser.parameters()}
    assert not {id(p) for p in model.il_parameters()} & {id(p) for p in policy.frozen_denoiser.parameters()}

    collect_one_rollout(model)
    batch = next(model.rollout_buffer.get(64))
    policy.set_training_mode(True)
    _, log_prob, _ = policy.evaluate_actions(batch.observations, batch.actions)
    log_prob.sum().backward()
    assert all(p.grad is None for p in policy.frozen_denoiser.parameters())
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in policy.denoiser.parameters())
    # The log-densities of the fine-tuned steps depend on the fine-tuned denoiser only.
    obs = batch.observations[:8]
    chain = th.as_tensor(model.rollout_buffer.chains[:8])
    with th.no_grad():
        before = policy.chain_step_log_probs(obs, chain)
        for param in policy.frozen_denoiser.parameters():
            param.add_(1.0)
        assert th.equal(before, policy.chain_step_log_probs(obs, chain))
        for param, value in zip(policy.frozen_denoiser.parameters(), frozen_before):
            param.copy_(value)
    # Learning moves the fine-tuned denoiser and never the frozen one.
    denoiser_before = [p.clone() for p in policy.denoiser.parameters()]
    model.learn(128)
    assert all(th.equal(a, b) for a, b in zip(frozen_before, policy.frozen_denoiser.parameters()))
    assert any(not th.equal(a, b) for a, b in zip(denoiser_before, policy.denoiser.parameters()))


def test_early_steps_use_the_frozen_denoiser():
    model = small_model(policy_kwargs=dict(ft_denoising_steps=2))
    policy = model.policy
    assert policy.sampler_timesteps == [5, 4, 3, 2, 1, 0] and policy.fine_tuned_below == 2
    assert policy._denoiser_for(2) is policy.frozen_denoiser and policy._denoiser_for(1) is policy.denoiser


@pytest.mark.slow  # about 20 s of BC: a diffusion policy needs more steps than a Gaussian one
def test_pretrain_lowers_the_held_out_loss_and_beats_random(tmp_path):
    model = InRILPPO(
        "DiffusionPolicy",
        "Pendulum-v1",
        demonstrations="shipped:Pendulum-v1/expert",
        seed=0,
        policy_kwargs=dict(denoising_steps=10, ddim_steps=5, denoiser_net_arch=[256, 256]),
    )
    stats = model.pretrain(n_steps=2500, batch_size=256, learning_rate=1e-3)
    assert stats["final_val_loss"] < 0.5 * stats["initial_val_loss"]
    # pretrain freezes the pre-trained denoiser for the early steps.
    assert all(th.equal(a, b) for a, b in zip(model.policy.denoiser.parameters(), model.policy.frozen_denoiser.parameters()))
    env = gym.make("Pendulum-v1")
    bc_return, _ = evaluate_policy(model, env, n_eval_episodes=5, deterministic=True)
    env.reset(seed=0)
    env.action_space.seed(0)
    random_returns = []
    for _ in range(5):
        env.reset()
        total, done = 0.0, False
        while not done:
            _, reward, terminated, truncated, _ = env.step(env.action_space.sample())
            total += float(reward)
            done = terminated or truncated
        random_returns.append(total)
    # Measured: about -500 after 2,500 steps (the expert's demonstrations: -177), random about -1,250.
    assert bc_return > np.mean(random_returns) + 300, (bc_return, np.mean(random_returns))


def test_held_out_diagnostics_are_stable_and_draw_no_global_randomness(pendulum_demos):
    model = small_model(pendulum_demos)
    first = model.il_diagnostics()
    state = th.random.get_rng_state()
    second = model.il_diagnostics()
    assert th.equal(state, th.random.get_rng_state())
    assert first == second and set(first) == {"il_val_loss", "policy_drift"}
    assert first["policy_drift"] == 0.0


def test_predict_deterministic_is_a_function_of_the_observation():
    model = small_model(policy_kwargs=dict(ddim_steps=3))
    obs = np.array([[0.1, 0.2, 0.3], [0.5, -0.5, 1.0]], dtype=np.float32)
    first, _ = model.predict(obs, deterministic=True)
    second, _ = model.predict(obs, deterministic=True)
    assert np.array_equal(first, second) and first.shape == (2, 1)
    assert np.all(np.abs(first) <= 2.0)
    stochastic = np.stack([model.predict(obs, deterministic=False)[0] for _ in range(5)])
    assert np.all(np.abs(stochastic) <= 2.0) and stochastic.std(axis=0).min() > 0


def test_interleaving_logs_the_denoising_loss(tmp_path, pendulum_demos):
    model = small_model(pendulum_demos, n_steps=64, batch_size=64, n_epochs=1, il_interval=1)
    model.set_logger(configure(str(tmp_path), ["csv"]))
    model.learn(192)
    n_ft = model.policy.ft_denoising_steps
    assert model.interleaving.n_rl_updates == 3 * n_ft  # 64 env steps x K' samples / 64 per minibatch, 3 rollouts
    assert model.interleaving.n_il_updates == 3 * n_ft
    rows = list(csv.DictReader(open(tmp_path / "progress.csv")))
    logged = [row for row in rows if row.get("train/il_loss")]
    assert logged and all(np.isfinite(float(row["train/il_loss"])) for row in logged)
    assert all(float(row["train/il_val_loss"]) > 0 and float(row["train/policy_drift"]) >= 0 for row in logged)


def test_surgery_on_the_denoiser(pendulum_demos):
    model = small_model(pendulum_demos, gradient_separation="surgery", il_interval=1)
    model.learn(128)
    assert model.gradient_surgery is not None
    statistics = model.gradient_surgery.statistics()
    assert -1.0 <= statistics["grad_cos_mean"] <= 1.0 and "il_projected_frac" in statistics


def test_same_seed_same_result(pendulum_demos):
    params = []
    for _ in range(2):
        model = small_model(pendulum_demos)
        model.pretrain(n_steps=20)
        model.learn(128)
        params.append(th.nn.utils.parameters_to_vector(model.policy.parameters()))
    assert th.equal(params[0], params[1])


def test_save_load_round_trip(tmp_path, pendulum_demos):
    model = small_model(pendulum_demos, policy_kwargs=dict(sampler="ddim", ddim_steps=3, ft_denoising_steps=2))
    model.pretrain(n_steps=20)
    model.learn(64)
    obs = np.array([[0.1, 0.2, 0.3]], dtype=np.float32)
    action, _ = model.predict(obs, deterministic=True)
    model.save(tmp_path / "model.zip")
    loaded = InRILPPO.load(tmp_path / "model.zip", env="Pendulum-v1", demonstrations=pendulum_demos)
    assert type(loaded.policy) is type(model.policy) and loaded.policy.sampler == "ddim"
    assert loaded.policy.ft_denoising_steps == 2 and isinstance(loaded.rollout_buffer, DenoisingChainRolloutBuffer)
    np.testing.assert_array_equal(loaded.predict(obs, deterministic=True)[0], action)
    for a, b in zip(model.policy.frozen_denoiser.parameters(), loaded.policy.frozen_denoiser.parameters()):
        assert th.equal(a, b)
    loaded.learn(64)


def test_a2c_and_dict_observations(pendulum_demos):
    model = InRILA2C(
        "DiffusionPolicy", "Pendulum-v1", demonstrations=pendulum_demos, n_steps=8, seed=0, il_interval=1, policy_kwargs=SMALL
    )
    model.learn(32)
    assert model.interleaving.n_il_updates > 0

    def make_dict_env():
        env = gym.make("Pendulum-v1")
        return gym.wrappers.TransformObservation(
            env, lambda obs: {"state": obs}, gym.spaces.Dict({"state": env.observation_space})
        )

    dict_demos = {**pendulum_demos, "obs": {"state": pendulum_demos["obs"]}}
    model = InRILPPO(
        "MultiInputDiffusionPolicy",
        DummyVecEnv([make_dict_env]),
        demonstrations=dict_demos,
        n_steps=32,
        batch_size=32,
        seed=0,
        policy_kwargs=SMALL,
    )
    assert isinstance(model.rollout_buffer, DictDenoisingChainRolloutBuffer)
    model.learn(64)
    assert model.interleaving.n_il_updates > 0


def test_action_chunk_shaped_action_space():
    class ChunkEnv(gym.Wrapper):
        def __init__(self, env):
            super().__init__(env)
            self.action_space = gym.spaces.Box(-2.0, 2.0, shape=(4, 1), dtype=np.float32)

        def step(self, action):
            return self.env.step(action[0])

    model = InRILPPO(
        "DiffusionPolicy", ChunkEnv(gym.make("Pendulum-v1")), n_steps=16, batch_size=16, seed=0, policy_kwargs=SMALL
    )
    assert model.policy.action_dim == 4
    action, _ = model.predict(np.zeros(3, dtype=np.float32), deterministic=True)
    assert action.shape == (4, 1)
    model.learn(32)


@pytest.mark.parametrize(
    ("kwargs", "policy", "error", "match"),
    [
        (dict(policy_kwargs=dict(denoising_steps=0)), "DiffusionPolicy", ValueError, "denoising_steps"),
        (dict(policy_kwargs=dict(ft_denoising_steps=30)), "DiffusionPolicy", ValueError, "ft_denoising_steps: at most"),
        (dict(policy_kwargs=dict(ddim_steps=40)), "DiffusionPolicy", ValueError, "ddim_steps: at most"),
        (dict(policy_kwargs=dict(sampler="euler")), "DiffusionPolicy", ValueError, "sampler"),
        (dict(policy_kwargs=dict(denoising_discount=0.0)), "DiffusionPolicy", ValueError, "denoising_discount"),
        (dict(policy_kwargs=dict(log_prob_clamp=(2, -5))), "DiffusionPolicy", ValueError, "log_prob_clamp"),
        (dict(policy_kwargs=dict(squash_output=False)), "DiffusionPolicy", ValueError, "squash_output"),
        (dict(use_sde=True), "DiffusionPolicy", ValueError, "use_sde"),
        (
            dict(il_loss="nll"),
            "DiffusionPolicy",
            ValueError,
            r"il_loss: DiffusionActorCriticPolicy is imitated by one of \('denoising',\), found il_loss='nll'",
        ),
        (
            dict(il_loss="denoising"),
            "MlpPolicy",
            ValueError,
            r"il_loss: ActorCriticPolicy is imitated by one of \('nll', 'mse'\), found il_loss='denoising' \(a loss of another kind",
        ),
        (dict(rollout_buffer_class=RolloutBuffer), "DiffusionPolicy", ValueError, "rollout_buffer_class"),
        (dict(rollout_buffer_class=DenoisingChainRolloutBuffer), "MlpPolicy", ValueError, "rollout_buffer_class"),
    ],
)
def test_bad_arguments(kwargs, policy, error, match):
    with pytest.raises(error, match=match):
        InRILPPO(policy, "Pendulum-v1", n_steps=16, batch_size=16, **kwargs)


def test_bad_action_spaces():
    with pytest.raises(ValueError, match="action_space: a diffusion policy needs a Box"):
        InRILPPO("DiffusionPolicy", "CartPole-v1")
    # SB3's algorithms refuse unbounded Box actions themselves; the policy says why it needs bounds.
    unbounded = gym.spaces.Box(-np.inf, np.inf, shape=(1,), dtype=np.float32)
    with pytest.raises(
        ValueError, match="action_space: a diffusion policy scales actions to \\[-1, 1\\] and needs finite bounds"
    ):
        DiffusionActorCriticPolicy(gym.spaces.Box(-1, 1, shape=(3,)), unbounded, lambda _: 1e-3)


def test_several_envs_and_vec_normalize(pendulum_demos):
    from stable_baselines3.common.env_util import make_vec_env
    from stable_baselines3.common.vec_env import VecNormalize

    env = VecNormalize(make_vec_env("Pendulum-v1", n_envs=3, seed=0))
    model = InRILPPO(
        "DiffusionPolicy",
        env,
        demonstrations=pendulum_demos,
        n_steps=16,
        batch_size=48,
        seed=0,
        il_interval=2,
        policy_kwargs=SMALL,
    )
    model.pretrain(n_steps=5)
    model.learn(96)
    buffer = model.rollout_buffer
    n_ft = model.policy.ft_denoising_steps
    assert buffer.chains.shape == (16 * 3, n_ft + 1, 1)  # flattened by the last train()
    # The stored chain ends at the stored action: the buffer keeps what the env executed.
    np.testing.assert_allclose(buffer.chains[:, -1], buffer.actions, atol=1e-6)
    assert model.interleaving.n_il_updates > 0
