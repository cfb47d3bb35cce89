"""Policies of IDQL: a diffusion actor, twin Q critics with a target copy, and a state value V.

The actor is the package's diffusion denoiser (:class:`sb3_inril.common.diffusion.MlpDenoiser`,
the one DPPO fine-tunes) on the observation's features; it acts through the critics. ``predict``
draws ``n_action_samples`` candidate actions (or action chunks) per observation, all of them in
one batched pass through the denoising chain, scores them with the target critics' ``min(Q1, Q2)``
in one batched pass, and picks one:

* ``deterministic=True``: the candidate with the highest target Q (the candidates are drawn by the
  less noisy chain: the posterior std floored at 1e-3, no noise at the last step). With
  ``deterministic_noise="fixed"`` (default) the chain's noises are N fixed draws (seeded, the same
  for every observation and every call), so that, as SB3's ``predict(deterministic=True)`` is, the
  action is a function of the observation: the same for a batch as alone, after save/load, in every
  evaluation; ``"fresh"`` draws them anew at every call (DPPO's evaluation);
* ``deterministic=False`` (exploration, what the off-policy loop calls): with
  ``expectile_exploration`` (default), a candidate at random, each with weight ``exploration_weight``
  (0.7) where its advantage ``Q - V`` is positive and ``1 - exploration_weight`` elsewhere, the
  weights normalised over the candidates (DPPO's "expectile exploration"); without it, the argmax.
"""

from typing import Any, ClassVar

import torch as th
from gymnasium import spaces
from stable_baselines3.common.policies import BaseModel, BasePolicy, ContinuousCritic
from stable_baselines3.common.preprocessing import get_action_dim
from stable_baselines3.common.torch_layers import (
    BaseFeaturesExtractor,
    CombinedExtractor,
    FlattenExtractor,
    NatureCNN,
    create_mlp,
)
from stable_baselines3.common.type_aliases import PyTorchObs, Schedule
from torch import nn

from sb3_inril.common.diffusion.denoiser import (
    BETA_SCHEDULES,
    DiffusionSchedule,
    MlpDenoiser,
    check_bounded_box,
    denoising_loss,
    sample_ddpm,
)
from sb3_inril.validation import check_bool, check_choice, check_float, check_positive_int

#: The noise of deterministic sampling: the same seeded draws every time, or new ones.
DETERMINISTIC_NOISES = ("fixed", "fresh")


def exploration_weights(q_values: th.Tensor, values: th.Tensor, exploration_weight: float) -> th.Tensor:
    """
    The probabilities of the expectile exploration draw: ``exploration_weight`` for a candidate whose
    advantage ``Q - V`` is positive, ``1 - exploration_weight`` for the others, normalised per row.

    :param q_values: (batch, n_candidates), ``min(Q1, Q2)`` of the target critics
    :param values: (batch, 1), ``V`` of the observations
    :return: (batch, n_candidates), each row summing to 1
    """
    weights = th.where(q_values - values > 0, exploration_weight, 1.0 - exploration_weight)
    return weights / weights.sum(dim=1, keepdim=True)


def repeat_observations(observations: PyTorchObs, n: int) -> PyTorchObs:
    """Each observation ``n`` times in a row (row ``b * n + j`` is observation ``b``), dicts key by key."""
    if isinstance(observations, dict):
        return {key: value.repeat_interleave(n, dim=0) for key, value in observations.items()}
    return observations.repeat_interleave(n, dim=0)


class DiffusionActor(BasePolicy):
    """
    A DDPM diffusion model over (flattened) actions or action chunks in ``[-1, 1]``:
    ``eps_theta(x_t, t, s)`` on the features of the observation.

    :param observation_space: the observation space
    :param action_space: the (Box) action space
    :param net_arch: hidden layers of the denoiser MLP
    :param features_extractor: the network that extracts the observation's features
    :param features_dim: number of features
    :param activation_fn: activation of the denoiser (DPPO: Mish)
    :param normalize_images: divide image observations by 255
    :param denoising_steps: T, the number of DDPM timesteps (DPPO: 20)
    :param beta_schedule: ``"cosine"`` (DPPO's) or ``"linear"``
    :param time_embedding_dim: size of the timestep embedding
    :param denoised_clip_value: clip of the predicted clean action at each step (1.0: the bounds)
    :param randn_clip_value: each step's sampling noise is clipped to ``[-c, c]`` (DPPO: 3)
    :param min_sampling_denoising_std: floor of each step's std when exploring (DPPO: 0.1)
    :param deterministic_noise: the noise of deterministic sampling: ``"fixed"``, the same seeded
        draws for every observation and call (a deterministic action), or ``"fresh"``, new draws
    """

    #: The seed of the fixed draws of deterministic sampling (``deterministic_noise="fixed"``).
    FIXED_NOISE_SEED: ClassVar[int] = 0

    def __init__(
        self,
        observation_space: spaces.Space,
        action_space: spaces.Box,
        net_arch: list[int],
        features_extractor: BaseFeaturesExtractor,
        features_dim: int,
        activation_fn: type[nn.Module] = nn.Mish,
        normalize_images: bool = True,
        denoising_steps: int = 20,
        beta_schedule: str = "cosine",
        time_embedding_dim: int = 16,
        denoised_clip_value: float | None = 1.0,
        randn_clip_value: float | None = 3.0,
        min_sampling_denoising_std: float = 0.1,
        deterministic_noise: str = "fixed",
    ) -> None:
        check_choice("deterministic_noise", deterministic_noise, DETERMINISTIC_NOISES)
        super().__init__(
            observation_space,
            action_space,
            features_extractor=features_extractor,
            normalize_images=normalize_images,
            squash_output=True,
        )
        self.net_arch = net_arch
        self.features_dim = features_dim
        self.activation_fn = activation_fn
        self.denoising_steps = denoising_steps
        self.beta_schedule = beta_schedule
        self.time_embedding_dim = time_embedding_dim
        self.denoised_clip_value = denoised_clip_value
        self.randn_clip_value = randn_clip_value
        self.min_sampling_denoising_std = min_sampling_denoising_std
        self.deterministic_noise = deterministic_noise
        # The fixed draws per (number of samples, device): made from the seed when first needed, not saved.
        self._fixed_noise: dict[tuple[int, str], th.Tensor] = {}
        self.action_dim = get_action_dim(action_space)
        self.denoiser = MlpDenoiser(self.action_dim, features_dim, net_arch, activation_fn, time_embedding_dim)
        self.diffusion = DiffusionSchedule(denoising_steps, beta_schedule, denoised_clip_value)  # type: ignore[arg-type]  # checked by the policy
        timesteps = self.diffusion.sampler_timesteps("ddpm")
        self._step_coefficients: list[list[float]] = self.diffusion.step_table(timesteps, "ddpm").tolist()

    def _get_constructor_parameters(self) -> dict[str, Any]:
        data = super()._get_constructor_parameters()
        data.update(
            net_arch=self.net_arch,
            features_dim=self.features_dim,
            activation_fn=self.activation_fn,
            features_extractor=self.features_extractor,
            denoising_steps=self.denoising_steps,
            beta_schedule=self.beta_schedule,
            time_embedding_dim=self.time_embedding_dim,
            denoised_clip_value=self.denoised_clip_value,
            randn_clip_value=self.randn_clip_value,
            min_sampling_denoising_std=self.min_sampling_denoising_std,
            deterministic_noise=self.deterministic_noise,
        )
        return data

    def sample_from_features(
        self, features: th.Tensor, deterministic: bool = False, noise: th.Tensor | None = None
    ) -> th.Tensor:
        """One action in ``[-1, 1]`` per row of ``features``, by the DDPM chain (see :func:`sample_ddpm`)."""
        return sample_ddpm(
            self.denoiser,
            self.diffusion,
            features,
            self.action_dim,
            self._step_coefficients,
            deterministic=deterministic,
            min_sampling_std=self.min_sampling_denoising_std,
            randn_clip_value=self.randn_clip_value,
            noise=noise,
        )

    def fixed_noise(self, n_samples: int, device: th.device) -> th.Tensor:
        """
        The fixed draws of deterministic sampling for ``n_samples`` samples per observation: shape
        ``(T + 1, n_samples, action_dim)``, drawn on the CPU from :attr:`FIXED_NOISE_SEED` (the same
        values on every device), made once per device.
        """
        key = (n_samples, str(device))
        if key not in self._fixed_noise:
            generator = th.Generator().manual_seed(self.FIXED_NOISE_SEED)
            draws = th.randn((len(self._step_coefficients) + 1, n_samples, self.action_dim), generator=generator)
            self._fixed_noise[key] = draws.to(device)
        return self._fixed_noise[key]

    def sample(self, observations: PyTorchObs, n_samples: int = 1, deterministic: bool = False) -> th.Tensor:
        """
        ``n_samples`` actions per observation in one batched chain: (batch * n_samples, action_dim),
        row ``b * n_samples + j`` the j-th sample of observation ``b``. Deterministic sampling with
        ``deterministic_noise="fixed"`` gives the j-th sample of every observation the j-th fixed
        draws, so that a row depends on its observation only (not on the batch).
        """
        features = self.extract_features(observations, self.features_extractor)
        noise = None
        if deterministic and self.deterministic_noise == "fixed":
            noise = self.fixed_noise(n_samples, features.device).repeat(1, features.shape[0], 1)
        return self.sample_from_features(features.repeat_interleave(n_samples, dim=0), deterministic, noise)

    def denoising_loss(self, observations: PyTorchObs, actions: th.Tensor, generator: th.Generator | None = None) -> th.Tensor:
        """The noise-prediction loss of actions in ``[-1, 1]`` (see :func:`sb3_inril.common.diffusion.denoiser.denoising_loss`)."""
        features = self.extract_features(observations, self.features_extractor)
        return denoising_loss(self.denoiser, self.diffusion, actions, features, generator)

    def forward(self, obs: PyTorchObs, deterministic: bool = False) -> th.Tensor:
        return self.sample(obs, 1, deterministic)

    def _predict(self, observation: PyTorchObs, deterministic: bool = False) -> th.Tensor:
        return self(observation, deterministic)


class ValueNetwork(BaseModel):
    """
    The state value ``V(s)``: an MLP on the observation's features.

    :param net_arch: hidden layer sizes
    :param features_extractor: the network that extracts the observation's features
    :param features_dim: number of features
    :param activation_fn: activation
    :param normalize_images: divide image observations by 255
    """

    features_extractor: BaseFeaturesExtractor

    def __init__(
        self,
        observation_space: spaces.Space,
        action_space: spaces.Space,
        net_arch: list[int],
        features_extractor: BaseFeaturesExtractor,
        features_dim: int,
        activation_fn: type[nn.Module] = nn.ReLU,
        normalize_images: bool = True,
    ) -> None:
        super().__init__(
            observation_space, action_space, features_extractor=features_extractor, normalize_images=normalize_images
        )
        self.net_arch = net_arch
        self.features_dim = features_dim
        self.activation_fn = activation_fn
        self.vf = nn.Sequential(*create_mlp(features_dim, 1, net_arch, activation_fn))

    def forward(self, obs: PyTorchObs) -> th.Tensor:
        """``V(obs)``, shape (batch, 1)."""
        return self.vf(self.extract_features(obs, self.features_extractor))


class IDQLPolicy(BasePolicy):
    """
    The policy of :class:`sb3_inril.idql.IDQL`: a diffusion actor that acts through twin Q critics
    (``critic``, and the Polyak-averaged ``critic_target`` that scores the candidates) and a state
    value ``value_net`` (see the module's docstring for the action selection). Actions are squashed:
    the policy acts in ``[-1, 1]`` and SB3 rescales to the env's (finite) bounds.

    :param observation_space: the observation space
    :param action_space: the action space (a Box with finite bounds)
    :param lr_schedule: learning-rate schedule of the critics, the value and (until IDQL sets its
        own rate) the actor
    :param net_arch: hidden layers: a list for the critics and the value, or a dict with ``pi``
        (the denoiser's), ``qf`` (the critics') and ``vf`` (the value's) (default:
        ``dict(pi=[256, 256, 256], qf=[256, 256], vf=[256, 256])``)
    :param activation_fn: activation of the critics and the value
    :param denoiser_activation_fn: activation of the denoiser (DPPO: Mish)
    :param features_extractor_class: features extractor of each network (each has its own)
    :param features_extractor_kwargs: its keyword arguments
    :param normalize_images: divide image observations by 255
    :param optimizer_class: optimizer of each network
    :param optimizer_kwargs: its keyword arguments
    :param n_critics: number of Q critics (IQL/IDQL: 2, the minimum is their target)
    :param share_features_extractor: must be False: each network has its own features extractor
    :param n_action_samples: N, the candidates drawn per observation (DPPO: 10)
    :param exploration_weight: the weight of a candidate with a positive advantage in the
        exploration draw (DPPO's ``critic_hyperparam``: 0.7), in (0, 1)
    :param expectile_exploration: explore by the weighted draw (True) or by the argmax (False)
    :param denoising_steps: T, the number of DDPM timesteps (DPPO: 20)
    :param beta_schedule: ``"cosine"`` (DPPO's) or ``"linear"``
    :param time_embedding_dim: size of the timestep embedding
    :param denoised_clip_value: clip of the predicted clean action at each step (1.0: the bounds)
    :param randn_clip_value: each step's sampling noise is clipped to ``[-c, c]`` (DPPO: 3)
    :param min_sampling_denoising_std: floor of each step's std when exploring (DPPO: 0.1)
    :param deterministic_noise: the noise of ``predict(deterministic=True)``'s candidates: ``"fixed"``
        (the same seeded draws for every observation and call: a deterministic action) or ``"fresh"``
        (new draws at every call, DPPO's evaluation)
    :param use_sde: must be False: the denoising noise is the exploration
    """

    # The imitation protocol (sb3_inril.common.policy_protocol.ImitationPolicy): imitated by the
    # denoising loss, its only one (there is no closed-form action distribution for the NLL).
    default_il_loss: ClassVar[str] = "denoising"
    il_losses: ClassVar[tuple[str, ...]] = ("denoising",)

    actor: DiffusionActor
    critic: ContinuousCritic
    critic_target: ContinuousCritic
    value_net: ValueNetwork

    def __init__(
        self,
        observation_space: spaces.Space,
        action_space: spaces.Space,
        lr_schedule: Schedule,
        net_arch: list[int] | dict[str, list[int]] | None = None,
        activation_fn: type[nn.Module] = nn.ReLU,
        denoiser_activation_fn: type[nn.Module] = nn.Mish,
        features_extractor_class: type[BaseFeaturesExtractor] = FlattenExtractor,
        features_extractor_kwargs: dict[str, Any] | None = None,
        normalize_images: bool = True,
        optimizer_class: type[th.optim.Optimizer] = th.optim.Adam,
        optimizer_kwargs: dict[str, Any] | None = None,
        n_critics: int = 2,
        share_features_extractor: bool = False,
        n_action_samples: int = 10,
        exploration_weight: float = 0.7,
        expectile_exploration: bool = True,
        denoising_steps: int = 20,
        beta_schedule: str = "cosine",
        time_embedding_dim: int = 16,
        denoised_clip_value: float | None = 1.0,
        randn_clip_value: float | None = 3.0,
        min_sampling_denoising_std: float = 0.1,
        deterministic_noise: str = "fixed",
        use_sde: bool = False,
    ) -> None:
        check_bounded_box(action_space, "IDQL's diffusion actor")
        if use_sde:
            raise ValueError("use_sde: IDQL explores through its denoising noise and candidate draw, found use_sde=True")
        if share_features_extractor:
            raise ValueError(
                "share_features_extractor: each of IDQL's networks (denoiser, critics, value) has its own "
                "features extractor, found True"
            )
        check_positive_int("n_action_samples", n_action_samples, allow_none=False)
        check_positive_int("n_critics", n_critics, allow_none=False)
        check_positive_int("denoising_steps", denoising_steps, allow_none=False)
        check_positive_int("time_embedding_dim", time_embedding_dim, allow_none=False)
        check_float("exploration_weight", exploration_weight, 0.0, 1.0, low_open=True, high_open=True)
        check_bool("expectile_exploration", expectile_exploration)
        check_choice("beta_schedule", beta_schedule, BETA_SCHEDULES)
        check_choice("deterministic_noise", deterministic_noise, DETERMINISTIC_NOISES)
        check_float("min_sampling_denoising_std", min_sampling_denoising_std, 0.0)
        for name, value in (("denoised_clip_value", denoised_clip_value), ("randn_clip_value", randn_clip_value)):
            if value is not None:
                check_float(name, value, 0.0, low_open=True)
        super().__init__(
            observation_space,
            action_space,
            features_extractor_class,
            features_extractor_kwargs,
            optimizer_class=optimizer_class,
            optimizer_kwargs=optimizer_kwargs,
            squash_output=True,
            normalize_images=normalize_images,
        )
        if net_arch is None:
            net_arch = dict(pi=[256, 256, 256], qf=[256, 256], vf=[256, 256])
        if isinstance(net_arch, dict):
            unknown = sorted(set(net_arch) - {"pi", "qf", "vf"})
            if unknown:
                raise ValueError(f"net_arch: unknown keys {unknown}, expected some of ['pi', 'qf', 'vf']")
            pi_arch = list(net_arch.get("pi", [256, 256, 256]))
            qf_arch = list(net_arch.get("qf", [256, 256]))
            vf_arch = list(net_arch.get("vf", qf_arch))
        else:
            pi_arch = qf_arch = vf_arch = list(net_arch)
        self.net_arch = net_arch
        self.activation_fn = activation_fn
        self.denoiser_activation_fn = denoiser_activation_fn
        self.n_critics = n_critics
        self.share_features_extractor = share_features_extractor
        self.n_action_samples = int(n_action_samples)
        self.exploration_weight = float(exploration_weight)
        self.expectile_exploration = bool(expectile_exploration)
        self.actor_kwargs: dict[str, Any] = dict(
            net_arch=pi_arch,
            activation_fn=denoiser_activation_fn,
            normalize_images=normalize_images,
            denoising_steps=int(denoising_steps),
            beta_schedule=beta_schedule,
            time_embedding_dim=int(time_embedding_dim),
            denoised_clip_value=denoised_clip_value,
            randn_clip_value=randn_clip_value,
            min_sampling_denoising_std=float(min_sampling_denoising_std),
            deterministic_noise=deterministic_noise,
        )
        self.critic_kwargs: dict[str, Any] = dict(
            net_arch=qf_arch,
            activation_fn=activation_fn,
            normalize_images=normalize_images,
            n_critics=n_critics,
            share_features_extractor=False,
        )
        self.value_kwargs: dict[str, Any] = dict(
            net_arch=vf_arch, activation_fn=activation_fn, normalize_images=normalize_images
        )
        self._build(lr_schedule)

    def _build(self, lr_schedule: Schedule) -> None:
        self.actor = self.make_actor()
        self.actor.optimizer = self.optimizer_class(self.actor.parameters(), lr=lr_schedule(1), **self.optimizer_kwargs)  # type: ignore[call-arg]  # SB3 passes the learning rate this way
        self.critic = self.make_critic()
        self.critic.optimizer = self.optimizer_class(self.critic.parameters(), lr=lr_schedule(1), **self.optimizer_kwargs)  # type: ignore[call-arg]  # SB3 passes the learning rate this way
        self.critic_target = self.make_critic()
        self.critic_target.load_state_dict(self.critic.state_dict())
        # The target is updated by Polyak averaging only, and is never in training mode.
        self.critic_target.set_training_mode(False)
        self.critic_target.requires_grad_(False)
        self.value_net = self.make_value()
        self.value_net.optimizer = self.optimizer_class(
            self.value_net.parameters(), lr=lr_schedule(1), **self.optimizer_kwargs
        )  # type: ignore[call-arg]  # SB3 passes the learning rate this way

    def make_actor(self) -> DiffusionActor:
        extractor = self.make_features_extractor()
        return DiffusionActor(
            self.observation_space,
            self.action_space,  # type: ignore[arg-type]  # a Box, checked in __init__
            features_extractor=extractor,
            features_dim=extractor.features_dim,
            **self.actor_kwargs,
        ).to(self.device)

    def make_critic(self) -> ContinuousCritic:
        extractor = self.make_features_extractor()
        return ContinuousCritic(
            self.observation_space,
            self.action_space,  # type: ignore[arg-type]  # a Box, checked in __init__
            features_extractor=extractor,
            features_dim=extractor.features_dim,
            **self.critic_kwargs,
        ).to(self.device)

    def make_value(self) -> ValueNetwork:
        extractor = self.make_features_extractor()
        return ValueNetwork(
            self.observation_space,
            self.action_space,
            features_extractor=extractor,
            features_dim=extractor.features_dim,
            **self.value_kwargs,
        ).to(self.device)

    def _get_constructor_parameters(self) -> dict[str, Any]:
        data = super()._get_constructor_parameters()
        data.update(
            net_arch=self.net_arch,
            activation_fn=self.activation_fn,
            denoiser_activation_fn=self.denoiser_activation_fn,
            n_critics=self.n_critics,
            share_features_extractor=self.share_features_extractor,
            n_action_samples=self.n_action_samples,
            exploration_weight=self.exploration_weight,
            expectile_exploration=self.expectile_exploration,
            denoising_steps=self.actor_kwargs["denoising_steps"],
            beta_schedule=self.actor_kwargs["beta_schedule"],
            time_embedding_dim=self.actor_kwargs["time_embedding_dim"],
            denoised_clip_value=self.actor_kwargs["denoised_clip_value"],
            randn_clip_value=self.actor_kwargs["randn_clip_value"],
            min_sampling_denoising_std=self.actor_kwargs["min_sampling_denoising_std"],
            deterministic_noise=self.actor_kwargs["deterministic_noise"],
            lr_schedule=self._dummy_schedule,  # dummy lr schedule, not needed for loading policy alone
            optimizer_class=self.optimizer_class,
            optimizer_kwargs=self.optimizer_kwargs,
            features_extractor_class=self.features_extractor_class,
            features_extractor_kwargs=self.features_extractor_kwargs,
        )
        return data

    # ------------------------------------------------------------------------------------------
    # Acting
    # ------------------------------------------------------------------------------------------
    def target_q_min(self, observations: PyTorchObs, actions: th.Tensor) -> th.Tensor:
        """``min_i Q_i(s, a)`` of the target critics, shape (batch, 1)."""
        return th.min(th.cat(self.critic_target(observations, actions), dim=1), dim=1, keepdim=True)[0]

    def score_candidates(self, observations: PyTorchObs, deterministic: bool) -> tuple[th.Tensor, th.Tensor]:
        """
        The candidates of each observation and their target Q, each in one batched pass.

        :return: candidates (batch, N, action_dim) and ``min(Q1, Q2)`` of the target critics (batch, N)
        """
        n = self.n_action_samples
        candidates = self.actor.sample(observations, n, deterministic)
        q_values = self.target_q_min(repeat_observations(observations, n), candidates)
        batch = candidates.shape[0] // n
        return candidates.view(batch, n, -1), q_values.view(batch, n)

    def select(self, candidates: th.Tensor, q_values: th.Tensor, observations: PyTorchObs, deterministic: bool) -> th.Tensor:
        """
        One candidate per observation: the argmax of the target Q when ``deterministic`` (or without
        ``expectile_exploration``), else a draw with :func:`exploration_weights`.

        :param candidates: (batch, N, action_dim)
        :param q_values: (batch, N)
        :return: (batch, action_dim)
        """
        if deterministic or not self.expectile_exploration:
            index = q_values.argmax(dim=1)
        else:
            probabilities = exploration_weights(q_values, self.value_net(observations), self.exploration_weight)
            index = th.multinomial(probabilities, 1).squeeze(1)
        return candidates[th.arange(candidates.shape[0], device=candidates.device), index]

    def forward(self, obs: PyTorchObs, deterministic: bool = False) -> th.Tensor:
        return self._predict(obs, deterministic=deterministic)

    def _predict(self, observation: PyTorchObs, deterministic: bool = False) -> th.Tensor:
        candidates, q_values = self.score_candidates(observation, deterministic)
        return self.select(candidates, q_values, observation, deterministic)

    def set_training_mode(self, mode: bool) -> None:
        """Train or evaluation mode of the actor, the critics and the value (the target stays in evaluation mode)."""
        self.actor.set_training_mode(mode)
        self.critic.set_training_mode(mode)
        self.value_net.set_training_mode(mode)
        self.training = mode

    # ------------------------------------------------------------------------------------------
    # The imitation protocol
    # ------------------------------------------------------------------------------------------
    def actor_parameters(self) -> list[nn.Parameter]:
        """The diffusion actor's parameters (its own features extractor included)."""
        return list(self.actor.parameters())

    def il_loss(
        self, loss: str, observations: PyTorchObs, actions: th.Tensor, generator: th.Generator | None = None
    ) -> th.Tensor:
        """The imitation protocol's policy loss: ``"denoising"``, the actor's noise-prediction loss."""
        if loss != "denoising":
            raise ValueError(f"il_loss: {type(self).__name__} is imitated by its 'denoising' loss, found {loss!r}")
        return self.actor.denoising_loss(observations, actions, generator)


MlpPolicy = IDQLPolicy


class CnnPolicy(IDQLPolicy):
    """:class:`IDQLPolicy` on images (SB3's ``NatureCNN`` features extractor for each network)."""

    def __init__(
        self, observation_space: spaces.Space, action_space: spaces.Space, lr_schedule: Schedule, **kwargs: Any
    ) -> None:
        kwargs.setdefault("features_extractor_class", NatureCNN)
        super().__init__(observation_space, action_space, lr_schedule, **kwargs)


class MultiInputPolicy(IDQLPolicy):
    """:class:`IDQLPolicy` for Dict observations (SB3's ``CombinedExtractor`` for each network)."""

    def __init__(
        self, observation_space: spaces.Space, action_space: spaces.Space, lr_schedule: Schedule, **kwargs: Any
    ) -> None:
        kwargs.setdefault("features_extractor_class", CombinedExtractor)
        super().__init__(observation_space, action_space, lr_schedule, **kwargs)
