"""Residual PPO over a diffusion base (ResiP): sb3_inril.common.diffusion.residual."""

import gymnasium as gym
import numpy as np
import pytest
import torch as th
from stable_baselines3 import PPO
from stable_baselines3.common.evaluation import evaluate_policy
from stable_baselines3.common.vec_env import DummyVecEnv

from sb3_inril import InRILPPO
from sb3_inril.common.callbacks import EpisodeStartCallback
from sb3_inril.common.diffusion.residual import (
    ResidualBaseRolloutBuffer,
    ResidualDiffusionActorCriticPolicy,
    ResidualDiffusionPolicy,
)

SMALL = dict(n_steps=30, batch_size=15, n_epochs=2, seed=0)
POLICY = dict(base_chunk_size=3, denoising_steps=10, ddim_steps=5, denoiser_net_arch=[32, 32], residual_net_arch=[32])


def short_pendulum(steps: int = 10) -> gym.Env:
    # Episodes of 10 steps: not a multiple of the chunk size 3, so chunks cross episode ends unless re-planned.
    return gym.make("Pendulum-v1", max_episode_steps=steps)


def make(demos, policy="ResidualDiffusionPolicy", env=None, **extra):
    kwargs = {**SMALL, **extra}
    kwargs["policy_kwargs"] = {**POLICY, **kwargs.get("policy_kwargs", {})}
    return InRILPPO(policy, env or short_pendulum(), demonstrations=demos, **kwargs)


def values(params) -> list[th.Tensor]:
    return [p.detach().clone() for p in params]


def count_plans(policy: ResidualDiffusionActorCriticPolicy) -> list[int]:
    """Wrap plan_chunks to count the observations it plans for (the base's cost)."""
    planned: list[int] = []
    original = policy.plan_chunks

    def counting(latent_pi: th.Tensor) -> th.Tensor:
        planned.append(latent_pi.shape[0])
        return original(latent_pi)

    policy.plan_chunks = counting  # type: ignore[method-assign]
    return planned


def test_selected_by_name_and_by_residual_separation(pendulum_demos):
    model = make(pendulum_demos)
    assert isinstance(model.policy, ResidualDiffusionActorCriticPolicy) and model.is_residual
    assert model.gradient_separation == "residual" and model.il_loss == "denoising"
    assert isinstance(model.rollout_buffer, ResidualBaseRolloutBuffer)
    by_separation = make(pendulum_demos, policy="DiffusionPolicy", gradient_separation="residual")
    assert isinstance(by_separation.policy, ResidualDiffusionActorCriticPolicy)


def test_parameter_sets_are_disjoint_and_the_start_is_the_base(pendulum_demos):
    model = make(pendulum_demos)
    policy = model.policy
    base = {id(p) for p in policy.base_parameters()}
    rl = {id(p) for group in policy.optimizer.param_groups for p in group["params"]}
    il = {id(p) for group in model.il_optimizer.param_groups for p in group["params"]}
    assert il == base and base and not base & rl
    assert rl == {id(p) for p in policy.parameters()} - base  # residual, log_std, value function
    assert {id(p) for p in policy.residual_parameters()} <= rl
    assert {id(p) for p in policy.denoiser.parameters()} <= base
    model.pretrain(n_steps=5)
    obs = th.as_tensor(pendulum_demos["obs"][:20])
    with th.no_grad():
        # The residual's output layer starts at zero: the mean action is the base's first planned action.
        assert th.allclose(policy.get_distribution(obs).mode(), policy.base_actions(obs), atol=1e-6)
        assert th.all(policy.residual_actions(obs) == 0)


def test_il_changes_only_the_base_and_rl_only_the_residual(pendulum_demos):
    model = make(pendulum_demos, il_interval=None)
    policy = model.policy
    base, residual = values(policy.base_parameters()), values(policy.residual_parameters())
    model.learn(SMALL["n_steps"])  # one rollout, PPO only
    assert all(th.equal(p, q) for p, q in zip(policy.base_parameters(), base)), "RL changed the base"
    assert not all(th.equal(p, q) for p, q in zip(policy.residual_parameters(), residual))

    base, residual = values(policy.base_parameters()), values(policy.residual_parameters())
    critic = values(policy.value_net.parameters())
    model.il_step()
    assert all(th.equal(p, q) for p, q in zip(policy.residual_parameters(), residual)), "IL changed the residual"
    assert all(th.equal(p, q) for p, q in zip(policy.value_net.parameters(), critic)), "IL changed the critic"
    assert not all(th.equal(p, q) for p, q in zip(policy.base_parameters(), base))


def test_interleaving_counts_and_demonstrations_cut_into_the_base_chunks(pendulum_demos):
    model = make(pendulum_demos, il_interval=2)
    # Per-step demonstrations (N, 1) are imitated as chunks of 3: (N, 3, 1), the episode tails padded.
    assert model.demo_buffer is not None
    batch = model.demo_buffer.sample(4)
    assert tuple(batch.actions.shape[1:]) in {(3, 1), (3,)}
    model.learn(2 * SMALL["n_steps"])
    rl_steps = 2 * SMALL["n_epochs"] * (SMALL["n_steps"] // SMALL["batch_size"])
    assert model.interleaving.n_rl_updates == rl_steps
    assert model.interleaving.n_il_updates == rl_steps // 2


def test_chunks_are_executed_and_replanned_at_episode_starts(pendulum_demos):
    # No held-out demonstrations: no diagnostics, whose deterministic actions plan chunks too.
    model = make(pendulum_demos, il_interval=None, demo_val_fraction=0.0)
    model.pretrain(n_steps=200)  # a base whose plans differ from state to state (an untrained one saturates)
    planned = count_plans(model.policy)
    model.learn(SMALL["n_steps"])  # 30 steps = 3 episodes of 10 steps, chunks of 3
    # Per episode the base plans at steps 0, 3, 6, 9: 4 plans for 10 steps (the base's cost is amortised).
    assert sum(planned) == 3 * 4
    # The buffer's rows are [action, base action] (flattened by PPO's training; one env, so in step order).
    rows = model.rollout_buffer.actions.reshape(-1, 2)
    observations = th.as_tensor(model.rollout_buffer.observations.reshape(-1, 3))
    policy = model.policy
    with th.no_grad():  # the base is unchanged by RL: its plans can be made again
        for start in (0, 3, 6, 9, 10, 13):  # the chunks of the first episode, and the first of the second
            chunk = policy.plan_chunks(policy._actor_latent(observations[start : start + 1]))[0, :, 0].numpy()
            length = min(3, 10 - start % 10)
            assert np.allclose(rows[start : start + length, 1], chunk[:length], atol=1e-6), start
        # Had the chunk planned at step 9 run on into the next episode, step 10 would have its second action.
        stale = policy.plan_chunks(policy._actor_latent(observations[9:10]))[0, 1, 0].item()
    assert not np.isclose(rows[10, 1], stale)


def test_rollout_log_probs_match_evaluate_actions(pendulum_demos):
    # PPO's first ratio is 1: evaluate_actions on a stored row ([action, base action]) gives the rollout's log-probability.
    model = make(pendulum_demos, il_interval=None)
    model.learn(SMALL["n_steps"])
    buffer = model.rollout_buffer
    assert buffer.actions.shape[-1] == 2  # [action, base action]
    obs = th.as_tensor(buffer.observations.reshape(-1, 3))
    rows = th.as_tensor(buffer.actions.reshape(-1, 2))
    # The rollout's log-probabilities were those of the residual before training: evaluate a fresh rollout step.
    policy = model.policy
    policy.reset_episode_state(np.ones(1, dtype=bool))
    with th.no_grad():
        action, _, log_prob = policy(obs[:1])
        base, fresh = policy.take_rollout_base_actions()
        _, evaluated, entropy = policy.evaluate_actions(obs[:1], th.cat([action, th.as_tensor(base)], dim=1))
        assert fresh.tolist() == [True]
        assert th.allclose(evaluated, log_prob, atol=1e-6) and entropy is not None
        # And the stored rows are read the same way: the base action is the row's second half.
        _, stored, _ = policy.evaluate_actions(obs, rows)
    assert stored.shape == (len(rows),) and th.isfinite(stored).all()


def test_frozen_base_equals_residual_ppo_alone(pendulum_demos):
    # IN-RIL with IL off is residual PPO with SB3's own PPO, bit for bit (the base stays what pre-training made it).
    model = make(pendulum_demos, il_interval=None)
    start = {name: value.clone() for name, value in model.policy.state_dict().items()}
    model.learn(2 * SMALL["n_steps"])
    # Seeded at construction as the IN-RIL model was, so both learn from the same RNG state.
    plain = PPO(
        ResidualDiffusionPolicy,
        short_pendulum(),
        rollout_buffer_class=ResidualBaseRolloutBuffer,
        policy_kwargs=dict(POLICY),
        **SMALL,
    )
    plain.rollout_buffer.attach_policy(plain.policy)
    plain.policy.load_state_dict(start)
    plain.learn(2 * SMALL["n_steps"], callback=EpisodeStartCallback())
    for (name, p), q in zip(model.policy.state_dict().items(), plain.policy.state_dict().values()):
        assert th.equal(p, q), name


def test_sb3_ppo_without_the_callback_is_refused(pendulum_demos):
    plain = PPO(
        ResidualDiffusionPolicy,
        short_pendulum(),
        rollout_buffer_class=ResidualBaseRolloutBuffer,
        policy_kwargs=POLICY,
        **SMALL,
    )
    plain.rollout_buffer.attach_policy(plain.policy)
    with pytest.raises(RuntimeError, match="EpisodeStartCallback"):
        plain.learn(SMALL["n_steps"])


def test_predict_state_executes_chunks_and_evaluate_policy_uses_it(pendulum_demos):
    model = make(pendulum_demos)
    policy = model.policy
    obs = np.array([[1.0, 0.0, 0.1], [0.0, 1.0, -0.2]], dtype=np.float32)
    _, state = model.predict(obs, deterministic=True)
    assert state is not None and state[0].shape == (2, 3, 1) and list(state[1]) == [1, 1]
    chunk = state[0].copy()
    _, state = model.predict(obs, state=state, deterministic=True)
    assert list(state[1]) == [2, 2] and np.array_equal(state[0], chunk)  # the same chunk, its next step
    _, state = model.predict(obs, state=state, episode_start=np.array([True, False]), deterministic=True)
    assert list(state[1]) == [1, 0]  # env 0 re-planned, env 1 used up its chunk
    planned = count_plans(policy)
    env = DummyVecEnv([short_pendulum])
    evaluate_policy(model, env, n_eval_episodes=2)
    assert sum(planned) == 2 * 4  # 4 plans per 10-step episode: evaluate_policy passes the state back
    planned.clear()
    model.predict(obs[0])
    model.predict(obs[0])
    assert planned == [1, 1]  # without a state: a fresh plan every call
    with pytest.raises(ValueError, match="state"):
        model.predict(obs, state=(chunk,))


def test_save_load_round_trip(tmp_path, pendulum_demos):
    model = make(pendulum_demos)
    model.learn(SMALL["n_steps"])
    model.save(tmp_path / "model.zip")
    loaded = InRILPPO.load(tmp_path / "model.zip", env=short_pendulum())
    assert isinstance(loaded.policy, ResidualDiffusionActorCriticPolicy)
    assert loaded.policy.base_chunk_size == 3 and loaded.policy.ddim_steps == 5
    for (name, p), q in zip(model.policy.state_dict().items(), loaded.policy.state_dict().values()):
        assert th.equal(p, q), name
    obs = np.array([[1.0, 0.0, 0.1]], dtype=np.float32)
    assert np.array_equal(model.predict(obs, deterministic=True)[0], loaded.predict(obs, deterministic=True)[0])
    loaded.learn(SMALL["n_steps"])  # and it trains on


def test_dict_observations(pendulum_demos):
    from gymnasium import spaces

    class DictPendulum(gym.ObservationWrapper):
        def __init__(self, env: gym.Env) -> None:
            super().__init__(env)
            self.observation_space = spaces.Dict({"state": env.observation_space})

        def observation(self, observation):
            return {"state": observation}

    demos = {**pendulum_demos, "obs": {"state": pendulum_demos["obs"]}}
    model = InRILPPO(
        "MultiInputResidualDiffusionPolicy",
        DictPendulum(short_pendulum()),
        demonstrations=demos,
        policy_kwargs=POLICY,
        il_interval=2,
        **SMALL,
    )
    model.learn(SMALL["n_steps"])
    assert model.interleaving.n_il_updates > 0


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(base_chunk_size=0), "base_chunk_size"),
        (dict(ddim_steps=20, denoising_steps=10), "ddim_steps"),
        (dict(residual_scale=0.0), "residual_scale"),
        (dict(beta_schedule="quadratic"), "beta_schedule"),
    ],
)
def test_bad_arguments_are_named(pendulum_demos, kwargs, message):
    with pytest.raises(ValueError, match=message):
        make(pendulum_demos, policy_kwargs=kwargs)


def test_bad_spaces_losses_and_buffers_are_named(pendulum_demos):
    with pytest.raises(ValueError, match="action_space"):
        InRILPPO("ResidualDiffusionPolicy", "CartPole-v1")
    with pytest.raises(ValueError, match="use_sde"):
        make(pendulum_demos, use_sde=True)
    with pytest.raises(ValueError, match="il_loss"):
        make(pendulum_demos, il_loss="nll")
    from stable_baselines3.common.buffers import RolloutBuffer

    with pytest.raises(ValueError, match="rollout_buffer_class"):
        make(pendulum_demos, rollout_buffer_class=RolloutBuffer)
    with pytest.raises(ValueError, match="rollout_buffer_class"):
        InRILPPO("MlpPolicy", "Pendulum-v1", rollout_buffer_class=ResidualBaseRolloutBuffer)


def test_a2c_trains_the_residual_and_keeps_the_base(pendulum_demos):
    from sb3_inril import InRILA2C

    model = InRILA2C(
        "ResidualDiffusionPolicy",
        short_pendulum(),
        demonstrations=pendulum_demos,
        n_steps=10,
        il_interval=None,
        policy_kwargs=POLICY,
        seed=0,
    )
    base = values(model.policy.base_parameters())
    model.learn(20)
    assert all(th.equal(p, q) for p, q in zip(model.policy.base_parameters(), base))
    assert model.interleaving.n_rl_updates == 2


def test_bc_regularization_trains_the_residual_towards_the_demonstrations(pendulum_demos):
    from sb3_inril.common.callbacks import BCRegularization

    model = make(pendulum_demos, il_interval=None)
    model.pretrain(n_steps=50)
    callback = BCRegularization(1.0)
    model.learn(SMALL["n_steps"], callback=callback)  # sets the callback up
    batch = model.demo_buffer.sample(32)
    residual = model.policy.residual_parameters()
    grads = th.autograd.grad(callback.bc_loss(batch), residual, allow_unused=True)
    assert any(g is not None and g.abs().sum() > 0 for g in grads)
    # The base gets no gradient from it: its action enters the Gaussian detached.
    base_grads = th.autograd.grad(callback.bc_loss(batch), model.policy.base_parameters(), allow_unused=True)
    assert all(g is None or g.abs().sum() == 0 for g in base_grads)
    # The loss is the NLL of the chunk's first demonstrated action under the policy at the chunk's start.
    first = batch.actions.reshape(len(batch.actions), 3, -1)[:, 0]
    expected = -model.policy.get_distribution(batch.observations).log_prob(first).mean()
    assert th.allclose(callback.bc_loss(batch), expected)


def test_each_env_executes_its_own_chunks(pendulum_demos):
    # Two envs whose episodes end at different steps (10 and 7): each re-plans at its own episode starts.
    env = DummyVecEnv([short_pendulum, lambda: short_pendulum(7)])
    model = make(pendulum_demos, env=env, il_interval=None, demo_val_fraction=0.0)
    planned = count_plans(model.policy)
    model.learn(2 * SMALL["n_steps"])  # 30 steps per env
    # Env 0: 3 episodes x plans at 0, 3, 6, 9 = 12. Env 1: 4 episodes x plans at 0, 3, 6, then 2 steps
    # of a fifth (a plan at 0) = 13.
    assert sum(planned) == 12 + 13
