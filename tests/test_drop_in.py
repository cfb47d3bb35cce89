"""Every IN-RIL class is a drop-in replacement for its parent, for every SB3 feature the parent
supports: gSDE, Dict observations, HER, Box actions of any shape, MultiDiscrete / MultiBinary
actions and observations, Discrete observations, shared features extractors, CnnPolicy on
channel-last images. Each case: construction, ``learn`` with IL steps counted, ``predict``,
save/load round trip, determinism with a seed (the way sb3-contrib's tests iterate a model list).
"""

import copy
import warnings
from collections.abc import Callable
from typing import Any

import gymnasium as gym
import numpy as np
import pytest
import torch as th
from gymnasium import spaces
from sb3_contrib import TQC
from stable_baselines3 import A2C, PPO, SAC, TD3, HerReplayBuffer
from stable_baselines3.common.envs import BitFlippingEnv, FakeImageEnv
from stable_baselines3.common.torch_layers import BaseFeaturesExtractor
from stable_baselines3.common.vec_env import DummyVecEnv, VecNormalize

from sb3_inril import IDQL, InRILA2C, InRILIDQL, InRILPPO, InRILSAC, InRILTD3, InRILTQC


class SpacesEnv(gym.Env):
    """An env with any observation and action space; observations are samples, episodes 10 steps."""

    def __init__(self, observation_space: spaces.Space, action_space: spaces.Space) -> None:
        self.observation_space, self.action_space = observation_space, action_space
        self._steps = 0

    def reset(self, *, seed: int | None = None, options: dict | None = None) -> tuple[Any, dict]:
        super().reset(seed=seed)
        self.observation_space.seed(int(self.np_random.integers(2**31)))
        self._steps = 0
        return self.observation_space.sample(), {}

    def step(self, action: Any) -> tuple[Any, float, bool, bool, dict]:
        assert self.action_space.contains(np.asarray(action, dtype=self.action_space.dtype).reshape(self.action_space.shape))
        self._steps += 1
        return (
            self.observation_space.sample(),
            float(np.sum(np.asarray(action, dtype=np.float32))),
            False,
            self._steps >= 10,
            {},
        )


class TinyExtractor(BaseFeaturesExtractor):
    """A features extractor with parameters (FlattenExtractor has none), to observe sharing."""

    def __init__(self, observation_space: spaces.Box, features_dim: int = 8) -> None:
        super().__init__(observation_space, features_dim)
        self.linear = th.nn.Linear(int(np.prod(observation_space.shape)), features_dim)

    def forward(self, observations: th.Tensor) -> th.Tensor:
        return th.relu(self.linear(observations.flatten(1)))


BOX3 = spaces.Box(-1.0, 1.0, (3,), np.float32)
ON_POLICY = (InRILPPO, InRILA2C)
# The off-policy classes whose policy SB3 lays out (an actor with mu/log_std, a features extractor it may share).
SB3_OFF_POLICY = (InRILSAC, InRILTQC, InRILTD3)
OFF_POLICY = (*SB3_OFF_POLICY, InRILIDQL)
ALL = ON_POLICY + OFF_POLICY
DICT_WITH_IMAGE = spaces.Dict({"img": spaces.Box(0, 255, (36, 36, 1), np.uint8), "vec": BOX3})


def demonstrations_for(env: gym.Env, n_episodes: int = 4, length: int = 12, seed: int = 0) -> dict[str, Any]:
    """Demonstrations in the env's own layout: sampled from its spaces, dict observations per key."""
    observation_space, action_space = env.observation_space, env.action_space
    observation_space.seed(seed)
    action_space.seed(seed)
    n = n_episodes * length
    samples = [observation_space.sample() for _ in range(n)]
    if isinstance(observation_space, spaces.Dict):
        obs: Any = {key: np.stack([np.asarray(sample[key]) for sample in samples]) for key in observation_space.spaces}
    else:
        obs = np.stack([np.asarray(sample) for sample in samples])
    acts = np.stack([np.asarray(action_space.sample()) for _ in range(n)])
    return {"obs": obs, "acts": acts, "episode_starts": np.arange(0, n, length)}


# (name, classes it applies to, env factory, extra constructor arguments)
FEATURES: list[tuple[str, tuple[type, ...], Callable[[], gym.Env], dict[str, Any]]] = [
    ("gsde", (InRILPPO, InRILA2C, InRILSAC, InRILTQC), lambda: gym.make("Pendulum-v1"), dict(use_sde=True)),
    ("box_2x2_actions", ALL, lambda: SpacesEnv(BOX3, spaces.Box(-1, 1, (2, 2), np.float32)), {}),
    ("multidiscrete_actions", ON_POLICY, lambda: SpacesEnv(BOX3, spaces.MultiDiscrete([3, 2])), {}),
    ("multibinary_actions", ON_POLICY, lambda: SpacesEnv(BOX3, spaces.MultiBinary(3)), {}),
    ("discrete_observations", ALL, lambda: SpacesEnv(spaces.Discrete(5), spaces.Box(-1, 1, (2,))), {}),
    ("multidiscrete_observations", ON_POLICY, lambda: SpacesEnv(spaces.MultiDiscrete([3, 4]), spaces.Discrete(2)), {}),
    ("multibinary_observations", ALL, lambda: SpacesEnv(spaces.MultiBinary(4), spaces.Box(-1, 1, (2,))), {}),
    # An image key (channel-last, transposed by SB3) beside a vector: SB3's SimpleMultiObsEnv draws its
    # images from the unseeded global RNG when it is built, so it is not reproducible.
    (
        "dict_observations",
        ON_POLICY,
        lambda: SpacesEnv(DICT_WITH_IMAGE, spaces.Discrete(3)),
        dict(policy="MultiInputPolicy"),
    ),
    (
        "dict_observations",
        OFF_POLICY,
        lambda: SpacesEnv(spaces.Dict({"a": BOX3, "b": spaces.MultiBinary(2)}), spaces.Box(-1, 1, (2,))),
        dict(policy="MultiInputPolicy"),
    ),
    (
        "her",
        OFF_POLICY,
        lambda: BitFlippingEnv(n_bits=4, continuous=True, max_steps=8),
        dict(policy="MultiInputPolicy", replay_buffer_class=HerReplayBuffer, replay_buffer_kwargs=dict(n_sampled_goal=2)),
    ),
    (
        "cnn_channel_last",
        (InRILPPO, InRILA2C, InRILSAC, InRILTD3, InRILIDQL),
        lambda: FakeImageEnv(screen_height=36, screen_width=36, n_channels=1, discrete=False, channel_first=False),
        dict(policy="CnnPolicy", policy_kwargs=dict(features_extractor_kwargs=dict(features_dim=16))),
    ),
    (
        "shared_features_extractor",
        SB3_OFF_POLICY,  # IDQL refuses it by name (tests/test_idql.py)
        lambda: gym.make("Pendulum-v1"),
        dict(policy_kwargs=dict(share_features_extractor=True, features_extractor_class=TinyExtractor)),
    ),
]
CASES = [
    pytest.param(cls, name, make_env, kwargs, id=f"{cls.__name__}-{name}")
    for name, classes, make_env, kwargs in FEATURES
    for cls in classes
]


def small_arguments(cls: type) -> dict[str, Any]:
    if cls is InRILPPO:
        return dict(n_steps=32, batch_size=16, n_epochs=2)
    if cls is InRILA2C:
        return dict(n_steps=8)
    if cls is InRILIDQL:  # a short chain and few candidates: every env step runs the chain over them
        return dict(
            learning_starts=16, batch_size=16, buffer_size=500, policy_kwargs=dict(denoising_steps=3, n_action_samples=3)
        )
    return dict(learning_starts=16, batch_size=16, buffer_size=500)


def arguments_for(cls: type, kwargs: dict[str, Any]) -> dict[str, Any]:
    """The case's arguments over the class's small ones (policy_kwargs merged), a deep copy: SB3 writes into policy_kwargs."""
    small = small_arguments(cls)
    merged = {**small, **kwargs}
    if "policy_kwargs" in small and "policy_kwargs" in kwargs:
        merged["policy_kwargs"] = {**small["policy_kwargs"], **kwargs["policy_kwargs"]}
    return copy.deepcopy(merged)


def build(cls: type, make_env: Callable[[], gym.Env], kwargs: dict[str, Any], seed: int = 0, **extra: Any) -> Any:
    kwargs = arguments_for(cls, kwargs)
    policy = kwargs.pop("policy", "MlpPolicy")
    env = make_env()
    demos = demonstrations_for(env)
    return cls(policy, env, demonstrations=demos, il_interval=3, seed=seed, device="cpu", **kwargs, **extra)


@pytest.mark.parametrize("cls, name, make_env, kwargs", CASES)
def test_feature(tmp_path, cls, name, make_env, kwargs):
    model = build(cls, make_env, kwargs)
    model.learn(64)
    assert model.interleaving.n_rl_updates > 0
    assert model.interleaving.n_il_updates == model.interleaving.n_rl_updates // 3  # k = 1 IL step after every 3 RL steps
    diagnostics = model.il_diagnostics()
    assert np.isfinite(diagnostics["il_val_loss"]) and np.isfinite(diagnostics["policy_drift"])

    obs, _ = model.env.envs[0].reset(seed=1) if hasattr(model.env, "envs") else (None, None)
    th.manual_seed(0)  # IDQL's deterministic predict ranks sampled candidates: the same draws for the loaded model
    action, _ = model.predict(obs, deterministic=True)
    assert model.action_space.contains(np.asarray(action, dtype=model.action_space.dtype).reshape(model.action_space.shape))

    model.save(tmp_path / "model")
    loaded = cls.load(tmp_path / "model", env=make_env(), demonstrations=demonstrations_for(make_env()))
    for name_, tensor in model.policy.state_dict().items():
        assert th.equal(tensor, loaded.policy.state_dict()[name_]), name_
    th.manual_seed(0)
    np.testing.assert_array_equal(loaded.predict(obs, deterministic=True)[0], action)
    assert loaded.interleaving.n_il_updates == model.interleaving.n_il_updates
    if cls in OFF_POLICY:  # as with SAC: the replay buffer is saved on its own (HER needs whole episodes in it)
        model.save_replay_buffer(tmp_path / "buffer")
        loaded.load_replay_buffer(tmp_path / "buffer")
    loaded.learn(32, reset_num_timesteps=False)  # goes on training after the round trip
    assert loaded.interleaving.n_il_updates == loaded.interleaving.n_rl_updates // 3

    # Determinism: the same seed gives the same parameters.
    again = build(cls, make_env, kwargs)
    again.learn(64)
    for name_, tensor in model.policy.state_dict().items():
        assert th.equal(tensor, again.policy.state_dict()[name_]), name_


PARENTS = {InRILPPO: PPO, InRILA2C: A2C, InRILSAC: SAC, InRILTQC: TQC, InRILTD3: TD3, InRILIDQL: IDQL}


@pytest.mark.parametrize("cls, name, make_env, kwargs", CASES)
def test_feature_with_interleaving_off_is_the_parent(cls, name, make_env, kwargs):
    kwargs = arguments_for(cls, kwargs)
    policy = kwargs.pop("policy", "MlpPolicy")
    arguments = dict(seed=0, device="cpu", **kwargs)
    envs = [make_env(), make_env()]
    demos = demonstrations_for(envs[0])  # seeds the spaces (SB3's FakeImageEnv samples from them)
    demonstrations_for(envs[1])
    ours = cls(policy, envs[0], demonstrations=demos, il_interval=None, **copy.deepcopy(arguments))
    ours.learn(64)
    parent = PARENTS[cls](policy, envs[1], **copy.deepcopy(arguments))
    parent.learn(64)
    for key, tensor in parent.policy.state_dict().items():
        assert th.equal(tensor, ours.policy.state_dict()[key]), key


def warning_texts(build_and_learn: Callable[[], Any]) -> list[str]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")  # as pytest's recwarn: nothing filtered
        build_and_learn()
    return [str(warning.message) for warning in caught]


@pytest.mark.parametrize("verbose", [0, 1])
@pytest.mark.parametrize("cls", ALL)
def test_without_demonstrations_or_inril_arguments_it_warns_as_its_parent(cls, verbose, capsys):
    # SB3's own tests count warnings (``assert len(recwarn) == 0``): as a drop-in (no demonstrations, no
    # IN-RIL argument) a model warns exactly as its parent; verbose=1 says why no IL step is taken.
    arguments = dict(seed=0, device="cpu", verbose=verbose, **small_arguments(cls))
    parent_name = PARENTS[cls].__name__
    parents = warning_texts(lambda: PARENTS[cls]("MlpPolicy", "Pendulum-v1", **arguments).learn(64))
    parent_out = capsys.readouterr().out
    ours = warning_texts(lambda: cls("MlpPolicy", "Pendulum-v1", **arguments).learn(64))
    out = capsys.readouterr().out
    assert [text.replace(cls.__name__, parent_name) for text in ours] == parents
    notice = f"{cls.__name__}: no demonstrations, so no IL step is taken: this learns as plain {parent_name}"
    assert (notice in out) is (verbose == 1) and notice not in parent_out


@pytest.mark.parametrize("cls", ALL)
def test_without_demonstrations_but_with_inril_arguments_it_warns_once_naming_them(cls):
    model = cls("MlpPolicy", "Pendulum-v1", seed=0, device="cpu", il_interval=3, il_steps=2, **small_arguments(cls))
    assert model.inril_arguments_given == ["il_interval", "il_steps"]
    texts = warning_texts(lambda: (model.learn(32), model.learn(32)))
    ours = [text for text in texts if "no demonstrations" in text]
    assert ours == [
        f"{cls.__name__}: no demonstrations, so no IL step is taken: this learns as plain {PARENTS[cls].__name__} "
        "(pass demonstrations=... or call set_demonstrations(...) to interleave); IN-RIL arguments given: il_interval, il_steps"
    ]
    # A default value given explicitly is not a request: 10 is il_interval's default.
    assert cls("MlpPolicy", "Pendulum-v1", il_interval=10, **small_arguments(cls)).inril_arguments_given == []


@pytest.mark.parametrize("cls", ALL)
def test_parent_policy_aliases_are_kept(cls):
    parent = PARENTS[cls]
    assert set(parent.policy_aliases) <= set(cls.policy_aliases)
    assert "MultiInputPolicy" in cls.policy_aliases
    assert ("ResidualMlpPolicy" in cls.policy_aliases) is (cls not in (InRILTD3, InRILIDQL))  # no residual policy


@pytest.mark.parametrize("cls", SB3_OFF_POLICY)
@pytest.mark.parametrize("trains_shared", [True, False])
def test_il_never_touches_the_critic_layers(cls, trains_shared):
    make_env = FEATURES[-1][2]
    model = build(cls, make_env, FEATURES[-1][3], il_trains_shared_features=trains_shared)
    extractor = model.actor.features_extractor
    assert extractor is model.critic.features_extractor  # shared
    critic_layers = {name: p.clone() for name, p in model.critic.named_parameters() if "features_extractor" not in name}
    extractor_before = [p.clone() for p in extractor.parameters()]
    actor_before = [p.clone() for p in model.actor.mu.parameters()]
    for _ in range(3):
        model.il_step()
    for name, param in model.critic.named_parameters():
        if "features_extractor" not in name:
            assert th.equal(param, critic_layers[name]), name
    assert not all(th.equal(a, b) for a, b in zip(actor_before, model.actor.mu.parameters()))
    extractor_moved = not all(th.equal(a, b) for a, b in zip(extractor_before, extractor.parameters()))
    assert extractor_moved is trains_shared


def test_ppo_shared_cnn_extractor_is_trained_by_il_unless_asked_not_to():
    make_env = FEATURES[-2][2]
    for trains_shared in (True, False):
        model = build(InRILPPO, make_env, FEATURES[-2][3], il_trains_shared_features=trains_shared)
        value_before = [p.clone() for p in model.policy.value_net.parameters()]
        extractor_before = [p.clone() for p in model.policy.features_extractor.parameters()]
        model.il_step()
        assert all(th.equal(a, b) for a, b in zip(value_before, model.policy.value_net.parameters()))
        moved = not all(th.equal(a, b) for a, b in zip(extractor_before, model.policy.features_extractor.parameters()))
        assert moved is trains_shared


def test_cnn_demonstrations_in_the_env_layout_are_transposed():
    make_env = FEATURES[-2][2]
    model = build(InRILPPO, make_env, FEATURES[-2][3])
    assert model.observation_space.shape == (1, 36, 36)  # SB3 transposed the env's (36, 36, 1)
    demos = demonstrations_for(make_env())
    batch = model.demo_buffer.validation_batch()
    assert batch.observations.shape[1:] == (1, 36, 36) and batch.observations.dtype == th.uint8
    assert model.demo_buffer.observations.dtype == th.uint8  # images are kept as uint8
    first_held_out = batch.observations[0, 0].numpy()
    assert any(np.array_equal(first_held_out, image[:, :, 0]) for image in demos["obs"])
    # Demonstrations in the transposed layout: the error names the env's own space.
    wrong = dict(demos, obs=demos["obs"].transpose(0, 3, 1, 2))
    with pytest.raises(ValueError, match=r"per-step shape \(1, 36, 36\), expected \(36, 36, 1\) .*Box\(0, 255, \(36, 36, 1\)"):
        model.set_demonstrations(wrong)


def test_il_loss_under_gsde_is_the_nll_of_the_gsde_distribution():
    model = build(InRILPPO, FEATURES[0][2], FEATURES[0][3])
    batch = model.demo_buffer.sample(8)
    distribution = model.policy.get_distribution(batch.observations)
    assert type(distribution).__name__ == "StateDependentNoiseDistribution"
    expected = -distribution.log_prob(batch.actions).mean()
    assert th.allclose(model.compute_il_loss(batch), expected)


def test_il_learning_rate_follows_a_replaced_rl_schedule(pendulum_env, pendulum_demos):
    model = InRILPPO("MlpPolicy", pendulum_env, demonstrations=pendulum_demos, n_steps=32, batch_size=16, seed=0)
    assert model.il_lr_schedule(1.0) == 3e-4
    model.lr_schedule = lambda _: 1e-5
    model.learn(32)
    assert model.il_optimizer.param_groups[0]["lr"] == pytest.approx(1e-5)
    assert (
        InRILPPO("MlpPolicy", pendulum_env, demonstrations=pendulum_demos, il_learning_rate=1e-2).il_lr_schedule(0.5) == 1e-2
    )


def test_vec_normalize_on_dict_observations():
    env = VecNormalize(DummyVecEnv([lambda: SpacesEnv(DICT_WITH_IMAGE, spaces.Discrete(3))]), norm_obs_keys=["vec"])
    demos = demonstrations_for(env.envs[0])
    model = InRILPPO("MultiInputPolicy", env, demonstrations=demos, n_steps=32, batch_size=16, seed=0, device="cpu")
    model.pretrain(n_steps=2)  # initialises the statistics from the demonstrations
    assert env.obs_rms["vec"].count > 1
    batch = model.demo_buffer.validation_batch()
    raw = model.demo_buffer.val_observations
    expected = env.normalize_obs({"vec": raw["vec"].numpy(), "img": raw["img"].numpy()})["vec"]
    np.testing.assert_allclose(batch.observations["vec"].numpy(), expected, rtol=1e-5, atol=1e-5)
    # Not a normalised key; transposed to channel-first as SB3 does with the env's images.
    assert th.equal(batch.observations["img"], raw["img"].permute(0, 3, 1, 2))
    model.learn(64)
    assert model.interleaving.n_il_updates > 0


def test_td3_takes_the_squared_error_and_refuses_the_nll(pendulum_demos):
    model = InRILTD3("MlpPolicy", "Pendulum-v1", demonstrations=pendulum_demos, learning_starts=16, seed=0)
    assert model.il_loss == "mse"
    batch = model.demo_buffer.sample(8)
    expected = th.mean((model.actor(batch.observations) - batch.actions) ** 2)
    assert th.allclose(model.compute_il_loss(batch), expected)
    with pytest.raises(ValueError, match="'nll' needs a stochastic actor, TD3Policy is deterministic; use 'mse'"):
        InRILTD3("MlpPolicy", "Pendulum-v1", demonstrations=pendulum_demos, il_loss="nll")


@pytest.mark.parametrize("cls", ALL)
def test_learn_declares_its_signature(cls):
    import inspect

    parameters = inspect.signature(cls.learn).parameters
    expected = ["self", "total_timesteps", "callback", "log_interval", "tb_log_name", "reset_num_timesteps", "progress_bar"]
    assert list(parameters) == expected
    assert parameters["tb_log_name"].default == cls.__name__
    assert parameters["log_interval"].default == inspect.signature(PARENTS[cls].learn).parameters["log_interval"].default
