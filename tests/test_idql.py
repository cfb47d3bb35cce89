"""IDQL and InRILIDQL: the critics' losses against hand computations, the action selection, the
interleaving counts, bit-for-bit equality with IL off, save/load, determinism, the SB3 features
an off-policy algorithm takes (Dict observations, action chunks, VecNormalize, demonstration
replay), and every bad argument with its error."""

import copy
from typing import Any

import gymnasium as gym
import numpy as np
import pytest
import torch as th
from gymnasium import spaces
from stable_baselines3.common.buffers import ReplayBuffer
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.envs import SimpleMultiObsEnv
from stable_baselines3.common.vec_env import VecNormalize

from sb3_inril import IDQL, DemonstrationReplayBuffer, InRILIDQL
from sb3_inril.demos.chunking import ActionChunkWrapper
from sb3_inril.idql import expectile_loss
from sb3_inril.idql.policies import IDQLPolicy, exploration_weights, repeat_observations

TINY_POLICY = dict(denoising_steps=4, net_arch=dict(pi=[16, 16], qf=[16, 16], vf=[16]), n_action_samples=4)
SMALL: dict[str, Any] = dict(learning_starts=20, batch_size=16, seed=0, device="cpu", policy_kwargs=TINY_POLICY)
MODELS = [IDQL, InRILIDQL]


def make_model(model_class: type, env: Any, demos: Any = None, **kwargs: Any) -> Any:
    settings = {**SMALL, **kwargs}
    if model_class is InRILIDQL:
        settings.setdefault("demonstrations", demos)
    return model_class("MlpPolicy", env, **settings)


def state(module: th.nn.Module) -> dict[str, th.Tensor]:
    return {name: value.detach().clone() for name, value in module.state_dict().items()}


def same(module: th.nn.Module, before: dict[str, th.Tensor]) -> bool:
    return all(th.equal(value, before[name]) for name, value in module.state_dict().items())


# ----------------------------------------------------------------------------------------------
# The critics
# ----------------------------------------------------------------------------------------------
def test_expectile_loss_by_hand():
    u = th.tensor([-2.0, -0.5, 0.0, 0.5, 3.0])
    # |tau - 1(u < 0)| u^2 with tau = 0.8: 0.2 * 4, 0.2 * 0.25, 0, 0.8 * 0.25, 0.8 * 9
    expected = th.tensor([0.8, 0.05, 0.0, 0.2, 7.2])
    assert th.allclose(expectile_loss(u, 0.8), expected)
    assert th.allclose(expectile_loss(u, 0.5), 0.5 * u**2)


def hand_expectile(samples: np.ndarray, tau: float) -> float:
    """The tau-expectile by bisection on its first-order condition tau E[(q-v)+] = (1-tau) E[(v-q)+]."""
    low, high = float(samples.min()), float(samples.max())
    for _ in range(100):
        v = (low + high) / 2
        excess = tau * np.maximum(samples - v, 0).mean() - (1 - tau) * np.maximum(v - samples, 0).mean()
        low, high = (v, high) if excess > 0 else (low, v)
    return (low + high) / 2


@pytest.mark.parametrize("tau", [0.5, 0.8, 0.95])
def test_value_converges_to_the_expectile_of_a_fixed_q_distribution(tau):
    """IDQL's value_loss, minimised over V for a fixed Q distribution (the target critics frozen to
    return a known value per action), lands on that distribution's tau-expectile."""
    env = gym.make("Pendulum-v1")
    model = make_model(
        IDQL, env, expectile=tau, learning_rate=3e-2, policy_kwargs=dict(TINY_POLICY, net_arch=dict(pi=[8], qf=[8], vf=[]))
    )
    rng = np.random.default_rng(0)
    q_samples = rng.gamma(2.0, 1.5, size=512).astype(np.float32)  # skewed: mean and expectiles differ
    # Q(s, a) = the sample indexed by the action: the target critics replaced by a lookup.
    actions = th.linspace(-1, 1, len(q_samples)).unsqueeze(1)
    lookup = dict(zip(actions.squeeze(1).tolist(), q_samples.tolist()))
    model.policy.target_q_min = lambda obs, acts: th.tensor([[lookup[a]] for a in acts.squeeze(1).tolist()])
    observations = th.zeros(len(q_samples), 3)  # one state: V is a single number (vf=[]: a linear layer on zeros)
    batch = type("Batch", (), dict(observations=observations, actions=actions))()
    for _ in range(1500):
        loss = model.value_loss(batch)
        model.value_net.optimizer.zero_grad()
        loss.backward()
        model.value_net.optimizer.step()
    v = model.value_net(observations[:1]).item()
    assert v == pytest.approx(hand_expectile(q_samples, tau), abs=0.02)
    assert tau == 0.5 or v > q_samples.mean() + 0.3  # not the mean


def test_q_target_masks_termination_not_truncation():
    """Through SB3's replay buffer: a time limit's truncation keeps gamma V(s'), a termination drops it."""
    env = gym.make("Pendulum-v1")
    model = make_model(IDQL, env, gamma=0.9)
    buffer = ReplayBuffer(10, env.observation_space, env.action_space, device="cpu", handle_timeout_termination=True)
    obs, next_obs = np.zeros((1, 3), np.float32), np.ones((1, 3), np.float32)
    action = np.zeros((1, 1), np.float32)
    buffer.add(obs, next_obs, action, np.array([1.5]), np.array([True]), [{"TimeLimit.truncated": True}])
    buffer.add(obs, next_obs, action, np.array([2.5]), np.array([True]), [{}])
    buffer.add(obs, next_obs, action, np.array([0.5]), np.array([False]), [{}])
    data = buffer._get_samples(np.array([0, 1, 2]))
    next_value = model.value_net(th.ones(1, 3)).item()
    target = model.q_target(data).squeeze(1)
    assert target.tolist() == pytest.approx([1.5 + 0.9 * next_value, 2.5, 0.5 + 0.9 * next_value], abs=1e-6)
    # The critic loss is the sum of both critics' mean squared errors to that target.
    q1, q2 = model.critic(data.observations, data.actions)
    expected = ((q1.squeeze(1) - target) ** 2).mean() + ((q2.squeeze(1) - target) ** 2).mean()
    assert model.critic_loss(data).item() == pytest.approx(expected.item(), rel=1e-6)


# ----------------------------------------------------------------------------------------------
# Action selection
# ----------------------------------------------------------------------------------------------
def test_argmax_selection_returns_the_highest_q_candidate():
    env = gym.make("Pendulum-v1")
    model = make_model(IDQL, env, policy_kwargs=dict(TINY_POLICY, n_action_samples=7))
    policy: IDQLPolicy = model.policy
    obs = th.as_tensor(np.stack([env.observation_space.sample() for _ in range(5)]))
    # A known critic: Q(s, a) = -(a - 0.3)^2, highest for the candidate nearest 0.3.
    policy.target_q_min = lambda o, a: -((a - 0.3) ** 2).sum(dim=1, keepdim=True)
    th.manual_seed(0)
    with th.no_grad():
        candidates, q_values = policy.score_candidates(obs, deterministic=True)
    assert candidates.shape == (5, 7, 1) and q_values.shape == (5, 7)
    chosen = policy.select(candidates, q_values, obs, deterministic=True)
    nearest = candidates[th.arange(5), (candidates.squeeze(2) - 0.3).abs().argmin(dim=1)]
    assert th.equal(chosen, nearest)
    # predict() does the same end to end (the same draws with the same seed), in env units.
    th.manual_seed(0)
    action, _ = model.predict(obs.numpy(), deterministic=True)
    assert np.allclose(action, 2.0 * nearest.numpy(), atol=1e-6)  # Pendulum's bounds are [-2, 2]


def test_exploration_draw_follows_the_expectile_weights():
    q_values = th.tensor([[1.0, -1.0, 2.0, 0.0, -3.0]])  # advantages against V = 0.5: +, -, +, -, -
    values = th.tensor([[0.5]])
    weights = exploration_weights(q_values, values, 0.7)
    expected = th.tensor([[0.7, 0.3, 0.7, 0.3, 0.3]]) / 2.3
    assert th.allclose(weights, expected)
    # The policy's draw, seeded, over many rows: frequencies within 4 standard errors of the weights.
    env = gym.make("Pendulum-v1")
    policy: IDQLPolicy = make_model(IDQL, env, policy_kwargs=dict(TINY_POLICY, n_action_samples=5)).policy
    n = 20_000
    candidates = th.arange(5.0).repeat(n, 1).unsqueeze(2)  # candidate j is the number j
    policy.value_net.forward = lambda obs: values.expand(obs.shape[0], 1)
    th.manual_seed(0)
    chosen = policy.select(candidates, q_values.expand(n, 5), th.zeros(n, 3), deterministic=False)
    frequencies = np.bincount(chosen.squeeze(1).long().numpy(), minlength=5) / n
    p = expected.squeeze(0).numpy()
    assert np.all(np.abs(frequencies - p) < 4 * np.sqrt(p * (1 - p) / n)), frequencies
    # Without expectile exploration the training draw is the argmax too.
    policy.expectile_exploration = False
    assert th.all(policy.select(candidates[:10], q_values.expand(10, 5), th.zeros(10, 3), deterministic=False) == 2.0)


def test_candidates_are_drawn_in_one_batch_per_call():
    """The N candidates of a batch of observations go through each denoising step as one batch."""
    env = gym.make("Pendulum-v1")
    model = make_model(IDQL, env, policy_kwargs=dict(TINY_POLICY, n_action_samples=6, denoising_steps=5))
    batches = []
    handle = model.actor.denoiser.register_forward_hook(lambda module, args, out: batches.append(args[0].shape[0]))
    model.predict(np.stack([env.observation_space.sample() for _ in range(3)]), deterministic=True)
    handle.remove()
    assert batches == [18] * 5


def test_deterministic_predict_is_a_function_of_the_observation():
    env = gym.make("Pendulum-v1")
    model = make_model(IDQL, env, policy_kwargs=dict(TINY_POLICY, n_action_samples=5))
    obs = np.stack([env.observation_space.sample() for _ in range(4)])
    th.manual_seed(1)
    first, _ = model.predict(obs, deterministic=True)
    th.manual_seed(2)
    assert np.array_equal(first, model.predict(obs, deterministic=True)[0])  # whatever torch's generator holds
    # A row depends on its observation only: alone, or in a batch in another order, the same action.
    for i in range(4):
        assert np.allclose(model.predict(obs[i], deterministic=True)[0], first[i], atol=1e-6)
    assert np.allclose(model.predict(obs[::-1].copy(), deterministic=True)[0], first[::-1], atol=1e-6)
    # The N candidates are still N different draws (the same N for every observation and call).
    with th.no_grad():
        candidates, _ = model.policy.score_candidates(th.as_tensor(obs), deterministic=True)
    assert len(th.unique(candidates[0].squeeze(1))) > 2  # (an untrained denoiser's clip to the bounds can tie some)
    noise = model.actor.fixed_noise(5, th.device("cpu"))
    assert noise.shape == (4 + 1, 5, 1) and th.equal(noise, th.randn((5, 5, 1), generator=th.Generator().manual_seed(0)))
    # Exploring, and deterministic with fresh draws (DPPO's evaluation), the action changes from call to call.
    assert not np.array_equal(model.predict(obs, deterministic=False)[0], model.predict(obs, deterministic=False)[0])
    fresh = make_model(IDQL, env, policy_kwargs=dict(TINY_POLICY, n_action_samples=5, deterministic_noise="fresh"))
    fresh.policy.load_state_dict(model.policy.state_dict())
    assert not np.array_equal(fresh.predict(obs, deterministic=True)[0], fresh.predict(obs, deterministic=True)[0])
    # "fresh" draws from torch's generator as before "fixed" existed: the same seed, the same action.
    th.manual_seed(5)
    again = fresh.predict(obs, deterministic=True)[0]
    th.manual_seed(5)
    assert np.array_equal(again, fresh.predict(obs, deterministic=True)[0])


def test_sample_ddpm_takes_given_noise():
    env = gym.make("Pendulum-v1")
    actor = make_model(IDQL, env).actor
    features = th.randn(3, 3)
    noise = th.randn(4 + 1, 3, 1)
    with th.no_grad():
        given = actor.sample_from_features(features, deterministic=False, noise=noise)
        assert th.equal(given, actor.sample_from_features(features, deterministic=False, noise=noise.clone()))
        # The same draws from torch's generator, in the order the chain takes them, give the same actions.
        th.manual_seed(0)
        drawn = actor.sample_from_features(features, deterministic=False)
        th.manual_seed(0)
        replayed = th.stack([th.randn(3, 1) for _ in range(5)])
        assert th.equal(drawn, actor.sample_from_features(features, deterministic=False, noise=replayed))
        with pytest.raises(ValueError, match=r"noise: expected shape \(5, 3, 1\)"):
            actor.sample_from_features(features, noise=noise[:4])


def test_repeat_observations_dict():
    obs = {"a": th.tensor([[1.0], [2.0]]), "b": th.tensor([[3.0], [4.0]])}
    repeated = repeat_observations(obs, 2)
    assert isinstance(repeated, dict)
    assert repeated["a"].squeeze(1).tolist() == [1, 1, 2, 2] and repeated["b"].squeeze(1).tolist() == [3, 3, 4, 4]


# ----------------------------------------------------------------------------------------------
# Training: updates, warm-up, targets
# ----------------------------------------------------------------------------------------------
def test_train_updates_each_network_and_the_target_by_polyak():
    env = gym.make("Pendulum-v1")
    model = make_model(IDQL, env, tau=0.25, target_update_interval=2)
    model.learn(20)  # learning_starts: no update yet
    actor, critic, target, value = state(model.actor), state(model.critic), state(model.critic_target), state(model.value_net)
    assert same(model.critic, target)
    model.learn(1, reset_num_timesteps=False)  # one gradient step: not yet a target update
    assert model._n_updates == 1 and same(model.critic_target, target)
    assert not same(model.actor, actor) and not same(model.critic, critic) and not same(model.value_net, value)
    critic_now = state(model.critic)
    model.learn(1, reset_num_timesteps=False)
    after = state(model.critic)
    for name, value in model.critic_target.state_dict().items():  # target <- 0.75 target + 0.25 critic
        assert th.allclose(value, 0.75 * target[name] + 0.25 * after[name], atol=1e-6), name
    assert not same(model.critic, critic_now)


@pytest.mark.parametrize("model_class", MODELS)
def test_critic_warmup_holds_the_actor(model_class, pendulum_demos):
    env = gym.make("Pendulum-v1")
    model = make_model(
        model_class, env, pendulum_demos, critic_warmup_steps=15, **({"il_interval": 2} if model_class is InRILIDQL else {})
    )
    actor = state(model.actor)
    model.learn(35)  # exactly 15 gradient steps
    assert model._n_updates == 15 and same(model.actor, actor)
    assert model.actor.optimizer.state_dict()["state"] == {}
    if model_class is InRILIDQL:
        assert model.interleaving.n_warmup_steps_done == 15 and model.interleaving.n_il_updates == 0
    model.learn(4, reset_num_timesteps=False)
    assert not same(model.actor, actor)
    if model_class is InRILIDQL:
        assert model.interleaving.n_rl_updates == 4 and model.interleaving.n_il_updates == 2


# ----------------------------------------------------------------------------------------------
# IN-RIL on IDQL
# ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "train_freq, gradient_steps, m, k, expected_rl",
    [(1, 1, 3, 1, 40), (1, 2, 5, 2, 80), (4, 1, 3, 1, 10), ((2, "step"), -1, 10, 1, 40)],
)
def test_exact_il_update_counts(pendulum_demos, train_freq, gradient_steps, m, k, expected_rl):
    model = make_model(
        InRILIDQL,
        gym.make("Pendulum-v1"),
        pendulum_demos,
        il_interval=m,
        il_steps=k,
        train_freq=train_freq,
        gradient_steps=gradient_steps,
    )
    model.learn(60)
    assert model._n_updates == expected_rl == model.interleaving.n_rl_updates
    assert model.interleaving.n_il_updates == (expected_rl // m) * k


def test_il_step_trains_the_denoiser_only(pendulum_demos):
    model = make_model(InRILIDQL, gym.make("Pendulum-v1"), pendulum_demos, il_interval=1)
    model.learn(21)
    critic, target, value, actor = state(model.critic), state(model.critic_target), state(model.value_net), state(model.actor)
    model.il_step()
    assert same(model.critic, critic) and same(model.critic_target, target) and same(model.value_net, value)
    assert not same(model.actor, actor)
    assert model.il_loss == "denoising"
    assert {id(p) for p in model.il_parameters()} == {id(p) for p in model.actor.parameters()}


@pytest.mark.parametrize("kwargs", [{}, {"critic_warmup_steps": 10}, {"gradient_steps": 2, "train_freq": 2}])
def test_il_off_is_idql_bit_for_bit(pendulum_demos, kwargs):
    """Logging included: 1,000 steps dump the logs (and InRILIDQL's held-out diagnostics) once."""
    settings = dict(SMALL, **kwargs)
    plain = IDQL("MlpPolicy", gym.make("Pendulum-v1"), **settings)
    plain.learn(1000)
    inril = InRILIDQL("MlpPolicy", gym.make("Pendulum-v1"), demonstrations=pendulum_demos, il_interval=None, **settings)
    inril.learn(1000)
    for name, value in plain.policy.state_dict().items():
        assert th.equal(value, inril.policy.state_dict()[name]), name
    for optimizer in ("actor", "critic", "value_net"):
        a, b = getattr(plain, optimizer).optimizer.state_dict(), getattr(inril, optimizer).optimizer.state_dict()
        assert all(th.equal(a["state"][i]["exp_avg"], b["state"][i]["exp_avg"]) for i in a["state"])
    assert inril.interleaving.n_il_updates == 0


def test_surgery_projects_the_denoiser_gradient(pendulum_demos):
    """With ``when="always"``, every IL gradient of the denoiser is orthogonal to the latest RL one
    when the IL optimizer steps (it was not before the projection)."""
    model = make_model(
        InRILIDQL,
        gym.make("Pendulum-v1"),
        pendulum_demos,
        il_interval=1,
        gradient_separation="surgery",
        surgery_kwargs=dict(project="il", when="always"),
    )
    params = model.il_parameters()
    flat = lambda: th.cat([p.grad.flatten() for p in params if p.grad is not None])  # noqa: E731
    seen: dict[str, Any] = {"rl": None, "cosines": []}

    def on_rl(optimizer: Any, args: Any, kwargs: Any) -> None:
        seen["rl"] = flat().clone()

    def on_il(optimizer: Any, args: Any, kwargs: Any) -> None:  # registered after the surgery's hook
        il = flat()
        seen["cosines"].append(th.nn.functional.cosine_similarity(il, seen["rl"], dim=0).item())

    model.actor.optimizer.register_step_pre_hook(on_rl)
    model.il_optimizer.register_step_pre_hook(on_il)
    model.learn(40)
    assert len(seen["cosines"]) == model.interleaving.n_il_updates == 20
    assert np.max(np.abs(seen["cosines"])) < 1e-4
    stats = model.gradient_surgery.statistics()
    assert stats["il_projected_frac"] == 1.0 and abs(stats["grad_cos_mean"]) > 1e-3  # the raw gradients were not orthogonal


def test_pretrain_trains_the_denoiser_on_the_demonstrations(pendulum_demos):
    model = make_model(InRILIDQL, gym.make("Pendulum-v1"), pendulum_demos)
    critic = state(model.critic)
    stats = model.pretrain(n_epochs=30, batch_size=64, progress_bar=False)
    assert stats["final_val_loss"] < 0.5 * stats["initial_val_loss"]
    assert same(model.critic, critic)  # pre-training is the actor's
    # The drift reference is the pre-trained policy.
    assert all(th.equal(v, model.pretrained_policy.state_dict()[k]) for k, v in model.policy.state_dict().items())


# ----------------------------------------------------------------------------------------------
# Save/load, determinism
# ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("model_class", MODELS)
def test_save_load_round_trip(tmp_path, model_class, demos_npz):
    model = make_model(
        model_class, gym.make("Pendulum-v1"), demos_npz, **({"il_interval": 3} if model_class is InRILIDQL else {})
    )
    model.learn(60)
    path = tmp_path / "model.zip"
    model.save(path)
    loaded = model_class.load(path, env=gym.make("Pendulum-v1"), device="cpu")
    for name, value in model.policy.state_dict().items():  # actor, critic, critic_target, value_net
        assert th.equal(value, loaded.policy.state_dict()[name]), name
    assert any(name.startswith("critic_target.") for name in loaded.policy.state_dict())
    for optimizer in ("actor", "critic", "value_net"):
        assert str(getattr(model, optimizer).optimizer.state_dict()) == str(getattr(loaded, optimizer).optimizer.state_dict())
    assert loaded.expectile == model.expectile and loaded.policy.n_action_samples == 4
    obs = np.stack([gym.make("Pendulum-v1").observation_space.sample() for _ in range(4)])
    expected, _ = model.predict(obs, deterministic=True)
    th.manual_seed(3)  # deterministic predictions do not depend on torch's generator
    got, _ = loaded.predict(obs, deterministic=True)
    assert np.array_equal(expected, got)
    if model_class is InRILIDQL:
        assert loaded.interleaving.n_il_updates == model.interleaving.n_il_updates > 0
        for name, value in model.pretrained_policy.state_dict().items():  # the frozen pre-trained copy
            assert th.equal(value, loaded.pretrained_policy.state_dict()[name]), name
        loaded.learn(10, reset_num_timesteps=False)  # and it trains on


@pytest.mark.parametrize("model_class", MODELS)
def test_determinism_with_a_seed(model_class, pendulum_demos):
    runs = []
    for _ in range(2):
        model = make_model(
            model_class, gym.make("Pendulum-v1"), pendulum_demos, **({"il_interval": 2} if model_class is InRILIDQL else {})
        )
        model.learn(50)
        runs.append((state(model.policy), model.predict(np.zeros((2, 3), np.float32))[0]))
    assert same_dicts(runs[0][0], runs[1][0]) and np.array_equal(runs[0][1], runs[1][1])


def same_dicts(a: dict[str, th.Tensor], b: dict[str, th.Tensor]) -> bool:
    return a.keys() == b.keys() and all(th.equal(a[key], b[key]) for key in a)


# ----------------------------------------------------------------------------------------------
# What SB3's off-policy algorithms take
# ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("model_class", MODELS)
def test_run_vec_env_vec_normalize_and_n_step(model_class, pendulum_demos):
    env = VecNormalize(make_vec_env("Pendulum-v1", n_envs=2, seed=0))
    model = make_model(model_class, env, pendulum_demos, n_steps=3, train_freq=2, gradient_steps=1)
    model.learn(80)
    assert model._n_updates > 0
    action, _ = model.predict(env.reset(), deterministic=True)
    assert action.shape == (2, 1) and np.all(np.abs(action) <= 2.0)


@pytest.mark.parametrize("model_class", MODELS)
def test_dict_observations(model_class):
    env = SimpleMultiObsEnv(random_start=False, discrete_actions=False)
    demos = None
    if model_class is InRILIDQL:
        obs = [env.reset(seed=i)[0] for i in range(40)]
        demos = {
            "obs": {key: np.stack([o[key] for o in obs]) for key in obs[0]},
            "acts": np.stack([env.action_space.sample() for _ in obs]),
            "dones": np.arange(40) % 10 == 9,
        }
    settings = {**SMALL, **({"demonstrations": demos, "il_interval": 2} if demos is not None else {})}
    model = model_class("MultiInputPolicy", env, **settings)
    model.learn(40)
    assert model._n_updates == 20
    if model_class is InRILIDQL:
        assert model.interleaving.n_il_updates == 10
    model.predict(env.reset()[0], deterministic=True)


@pytest.mark.parametrize("model_class", MODELS)
def test_action_chunks(model_class, pendulum_demos):
    """Per-step demonstrations are cut into the env's chunks; a transition is a chunk of 3 actions."""
    env = ActionChunkWrapper(gym.make("Pendulum-v1"), chunk_size=3)
    model = make_model(model_class, env, pendulum_demos, **({"il_interval": 2} if model_class is InRILIDQL else {}))
    assert model.actor.action_dim == 3 and model.policy.action_space.shape == (3, 1)
    model.learn(30)
    assert model.replay_buffer.actions.shape[-1] == 3
    action, _ = model.predict(env.observation_space.sample(), deterministic=True)
    assert action.shape == (3, 1)
    if model_class is InRILIDQL:
        assert model.demo_buffer.actions.shape[-1] == 3 and model.interleaving.n_il_updates == 5


@pytest.mark.parametrize("model_class", MODELS)
def test_demonstration_replay_buffer(model_class):
    """RLPD-style: half of every minibatch from the demonstrations, for the critics and the actor."""
    model = make_model(
        model_class,
        gym.make("Pendulum-v1"),
        "shipped:Pendulum-v1/expert",
        replay_buffer_class=DemonstrationReplayBuffer,
        replay_buffer_kwargs=dict(demonstrations="shipped:Pendulum-v1/expert", demo_fraction=0.5),
    )
    assert isinstance(model.replay_buffer, DemonstrationReplayBuffer)
    model.learn(40)
    assert model._n_updates == 20


# ----------------------------------------------------------------------------------------------
# Bad arguments
# ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(use_sde=True), "use_sde"),
        (dict(expectile=1.0), "expectile"),
        (dict(expectile=0.0), "expectile"),
        (dict(tau=1.5), "tau"),
        (dict(critic_warmup_steps=-1), "critic_warmup_steps"),
        (dict(target_update_interval=0), "target_update_interval"),
        (dict(actor_learning_rate=-1.0), "actor_learning_rate"),
        (dict(policy_kwargs=dict(n_action_samples=0)), "n_action_samples"),
        (dict(policy_kwargs=dict(exploration_weight=1.0)), "exploration_weight"),
        (dict(policy_kwargs=dict(share_features_extractor=True)), "share_features_extractor"),
        (dict(policy_kwargs=dict(net_arch=dict(pi=[8], q=[8]))), "net_arch"),
        (dict(policy_kwargs=dict(beta_schedule="square")), "beta_schedule"),
        (dict(policy_kwargs=dict(denoising_steps=0)), "denoising_steps"),
        (dict(policy_kwargs=dict(deterministic_noise="seeded")), "deterministic_noise"),
    ],
)
def test_bad_arguments_are_named(kwargs, match):
    settings = {**{k: v for k, v in SMALL.items() if k != "policy_kwargs"}, **kwargs}
    with pytest.raises((ValueError, TypeError), match=match):
        IDQL("MlpPolicy", "Pendulum-v1", **settings)


def test_action_spaces_refused():
    with pytest.raises(ValueError, match="action_space"):
        IDQLPolicy(spaces.Box(-1, 1, (2,)), spaces.Box(-np.inf, np.inf, (1,)), lambda _: 1e-3)
    with pytest.raises(AssertionError, match="action space"):  # SB3's own check of supported spaces
        IDQL("MlpPolicy", "CartPole-v1")


def test_inril_idql_refuses_nll_and_residual(pendulum_demos):
    with pytest.raises(ValueError, match="il_loss"):
        InRILIDQL("MlpPolicy", "Pendulum-v1", demonstrations=pendulum_demos, il_loss="nll", **SMALL)
    with pytest.raises(ValueError, match="gradient_separation"):
        InRILIDQL("MlpPolicy", "Pendulum-v1", demonstrations=pendulum_demos, gradient_separation="residual", **SMALL)


def test_il_learning_rate_defaults_to_the_actors(pendulum_demos):
    model = make_model(InRILIDQL, gym.make("Pendulum-v1"), pendulum_demos, learning_rate=1e-3, actor_learning_rate=1e-5)
    assert model.il_optimizer.param_groups[0]["lr"] == 1e-5 and model.actor.optimizer.param_groups[0]["lr"] == 1e-5
    assert model.critic.optimizer.param_groups[0]["lr"] == 1e-3
    model = make_model(InRILIDQL, gym.make("Pendulum-v1"), pendulum_demos, actor_learning_rate=1e-5, il_learning_rate=1e-4)
    assert model.il_optimizer.param_groups[0]["lr"] == 1e-4


def test_policy_alone_round_trip(tmp_path):
    model = make_model(IDQL, gym.make("Pendulum-v1"))
    model.policy.save(tmp_path / "policy.pt")
    policy = IDQLPolicy.load(tmp_path / "policy.pt")
    assert same_dicts(state(policy), state(model.policy))
    copied = copy.deepcopy(model.policy)
    assert same_dicts(state(copied), state(model.policy))
