"""Residual PPO over a diffusion base, as ResiP does it (Ankile et al. 2024, "From Imitation to
Refinement", https://arxiv.org/abs/2407.16677; ``ankile/robust-rearrangement``): the paper's
FurnitureBench arm.

A diffusion model pre-trained on the demonstrations (the base) plans a chunk of ``H`` actions from
one observation with its deterministic DDIM chain; the chunk is executed step by step. At every env
step a small Gaussian MLP (the residual) sees the current observation and the base's action for
this step and adds a correction, scaled (``residual_scale``, 0.1) and initialised at zero::

    a_t = base_chunk(s_{t0})[t - t0] + residual_scale * residual(s_t, base action)   (in [-1, 1] units)

PPO trains the residual, its ``log_std`` and the value function; IN-RIL's network separation trains
the base by its denoising loss on the demonstrations (cut into chunks of ``H``). The two sets are
disjoint by construction: RL's optimizer never holds the base, and the base action enters the RL
computation as data.

How chunks are handled (ResiP's way, stated because it shapes everything else):

* the base runs once per chunk, so its cost per env step is ``1 / H`` of a chain (the residual, a
  small MLP, runs every step); the chunk is re-planned when it is used up and when an episode starts;
* the residual acts per env step on the *current* observation (closed loop inside the chunk), so
  PPO's transition is one env step and ``gamma`` is per step, as for any SB3 policy;
* the base action of each step is stored with the step in the rollout buffer
  (:class:`ResidualBaseRolloutBuffer`: the buffer's action rows are ``[action, base action]``) and
  PPO's ratio is taken under the stored base action: the base that planned it may have moved since
  (IL trains it between rollouts), which leaves PPO's ratio exact, since the base action is part of
  the residual's input, not of its parameters.

Knowing when an episode starts. SB3's ``collect_rollouts`` does not tell the policy; the on-policy
IN-RIL classes do (:class:`sb3_inril.common.callbacks.EpisodeStartCallback`, added to every
``learn``), through the policy's ``reset_episode_state`` (the imitation protocol). With SB3's own
``PPO``, pass that callback yourself; the rollout buffer raises when a chunk planned in one episode
was executed at the start of the next. ``predict`` takes SB3's ``state``/``episode_start`` (as
``evaluate_policy`` passes them) for the chunk being executed; without a state, every call plans a
fresh chunk and acts with its first action.
"""

from functools import partial
from typing import Any, ClassVar

import numpy as np
import torch as th
from gymnasium import spaces
from stable_baselines3.common.buffers import DictRolloutBuffer, RolloutBuffer
from stable_baselines3.common.distributions import DiagGaussianDistribution, Distribution
from stable_baselines3.common.policies import ActorCriticPolicy
from stable_baselines3.common.preprocessing import get_action_dim
from stable_baselines3.common.torch_layers import CombinedExtractor
from stable_baselines3.common.type_aliases import PyTorchObs, Schedule
from torch import nn

from sb3_inril.common.diffusion.denoiser import (
    BETA_SCHEDULES,
    DiffusionSchedule,
    MlpDenoiser,
    check_bounded_box,
    denoising_loss,
)
from sb3_inril.common.residual import ResidualPolicyMixin, build_residual_mlp, check_residual_arguments
from sb3_inril.validation import check_choice, check_float, check_positive_int

#: The per-env chunk being executed: the chunks (n_envs, H, A) in [-1, 1] and the index of the next step of each.
ChunkState = tuple[np.ndarray, np.ndarray]


class ResidualDiffusionActorCriticPolicy(ResidualPolicyMixin, ActorCriticPolicy):
    """
    Residual Gaussian policy over a diffusion base that plans action chunks (ResiP; see the
    module's docstring for the chunk execution).

    The base: SB3's features extractor and ``net_arch["pi"]`` (default none) feed a DDPM denoiser
    over chunks of ``base_chunk_size`` actions in ``[-1, 1]`` (``T = denoising_steps``), sampled by
    its deterministic DDIM chain (``ddim_steps``, from ``x_T = 0``). IL trains the base by the
    denoising loss (``il_loss="denoising"``, the only one: the base has no closed-form density).
    The residual: an MLP on the base's actor features and the base's action for the step (both
    detached), its output layer initialised to zero, scaled by ``residual_scale``; the Gaussian's
    ``log_std`` is state-independent (SB3's) and starts at ``log_std_init`` (default -2: the
    correction explores, the base's behaviour is kept). Right after pre-training the policy's mean
    action is the base's. Box action spaces with finite bounds, without gSDE.

    :param base_chunk_size: H, the actions the base plans at once (1: a plan every step)
    :param denoising_steps: T, the DDPM timesteps of the base's training (DPPO's robomimic: 20)
    :param ddim_steps: steps of the base's DDIM chain when it acts (default 5; at most T, as DPPO's
        FurnitureBench configs use 5 DDIM steps)
    :param residual_scale: scale of the residual's output, in ``[-1, 1]`` action units (ResiP: 0.1)
    :param residual_net_arch: hidden layers of the residual (default ``[256, 256]``)
    :param residual_sees_base_action: feed the base's action to the residual (ResiP does)
    :param denoiser_net_arch: hidden layers of the denoiser (default ``[256, 256, 256]``)
    :param denoiser_activation_fn: activation of the denoiser
    :param time_embedding_dim: size of the denoiser's timestep embedding
    :param beta_schedule: ``"cosine"`` or ``"linear"``
    :param denoised_clip_value: clip of the predicted clean action at each denoising step
    :param kwargs: the arguments of SB3's ``ActorCriticPolicy`` (``net_arch`` default
        ``dict(pi=[], vf=[256, 256])``, ``log_std_init`` default -2.0)
    """

    # The imitation protocol (sb3_inril.common.policy_protocol.ImitationPolicy).
    default_il_loss: ClassVar[str] = "denoising"
    il_losses: ClassVar[tuple[str, ...]] = ("denoising",)
    action_low: th.Tensor
    action_high: th.Tensor

    def __init__(
        self,
        observation_space: spaces.Space,
        action_space: spaces.Space,
        lr_schedule: Schedule,
        base_chunk_size: int = 1,
        denoising_steps: int = 20,
        ddim_steps: int | None = 5,
        residual_scale: float = 0.1,
        residual_net_arch: list[int] | None = None,
        residual_sees_base_action: bool = True,
        denoiser_net_arch: list[int] | None = None,
        denoiser_activation_fn: type[nn.Module] = nn.Mish,
        time_embedding_dim: int = 16,
        beta_schedule: str = "cosine",
        denoised_clip_value: float | None = 1.0,
        **kwargs: Any,
    ) -> None:
        check_bounded_box(action_space, "a residual diffusion policy (its base)")
        if kwargs.get("use_sde", False):
            raise ValueError("use_sde: residual policies do not support gSDE, found use_sde=True")
        if kwargs.get("squash_output", False):
            raise ValueError("squash_output: the residual's Gaussian is not squashed (actions are clipped), found True")
        check_positive_int("base_chunk_size", base_chunk_size, allow_none=False)
        check_positive_int("denoising_steps", denoising_steps, allow_none=False)
        check_positive_int("ddim_steps", ddim_steps, allow_none=True)
        if ddim_steps is not None and ddim_steps > denoising_steps:
            raise ValueError(f"ddim_steps: at most denoising_steps={denoising_steps}, found {ddim_steps}")
        check_choice("beta_schedule", beta_schedule, BETA_SCHEDULES)
        check_positive_int("time_embedding_dim", time_embedding_dim, allow_none=False)
        if denoised_clip_value is not None:
            check_float("denoised_clip_value", denoised_clip_value, 0.0, low_open=True)
        self.base_chunk_size = int(base_chunk_size)
        self.denoising_steps = int(denoising_steps)
        self.ddim_steps = ddim_steps
        self.residual_scale = residual_scale
        self.residual_net_arch = check_residual_arguments(
            residual_scale, [256, 256] if residual_net_arch is None else residual_net_arch
        )
        self.residual_sees_base_action = residual_sees_base_action
        self.denoiser_net_arch = list(denoiser_net_arch) if denoiser_net_arch is not None else [256, 256, 256]
        self.denoiser_activation_fn = denoiser_activation_fn
        self.time_embedding_dim = int(time_embedding_dim)
        self.beta_schedule = beta_schedule
        self.denoised_clip_value = denoised_clip_value
        kwargs.setdefault("net_arch", dict(pi=[], vf=[256, 256]))
        kwargs.setdefault("log_std_init", -2.0)
        super().__init__(observation_space, action_space, lr_schedule, **kwargs)
        # The chunk each rollout env is executing (forward()), and what the rollout buffer takes.
        self._rollout_chunks: ChunkState | None = None
        self._rollout_base_actions: np.ndarray | None = None
        self._rollout_fresh: np.ndarray | None = None
        # predict()'s chunk state, handed to _predict() for one call (see predict()).
        self._predict_state: ChunkState | None = None

    # ------------------------------------------------------------------------------------------
    # Construction
    # ------------------------------------------------------------------------------------------
    @property
    def step_action_dim(self) -> int:
        """Dimension of one (flattened) env action."""
        return get_action_dim(self.action_space)

    @property
    def il_action_chunk_size(self) -> int:
        """The imitation protocol: IL imitates chunks of H actions, cut from per-step demonstrations."""
        return self.base_chunk_size

    def _build(self, lr_schedule: Schedule) -> None:
        self._build_mlp_extractor()
        if self.share_features_extractor and any(True for _ in self.features_extractor.parameters()):
            raise ValueError(
                "share_features_extractor: a residual policy keeps the value function RL-only, so a features "
                "extractor with parameters can not be shared with the base; found share_features_extractor=True"
            )
        self.value_net = nn.Linear(self.mlp_extractor.latent_dim_vf, 1)
        dim = self.step_action_dim
        self.denoiser = MlpDenoiser(
            self.base_chunk_size * dim,
            self.mlp_extractor.latent_dim_pi,
            self.denoiser_net_arch,
            self.denoiser_activation_fn,
            self.time_embedding_dim,
        )
        self.diffusion = DiffusionSchedule(self.denoising_steps, self.beta_schedule, self.denoised_clip_value)  # type: ignore[arg-type]  # checked against BETA_SCHEDULES
        self.base_timesteps: list[int] = self.diffusion.sampler_timesteps("ddim", self.ddim_steps)
        self._base_steps: list[list[float]] = self.diffusion.step_table(self.base_timesteps, "ddim", 0.0).tolist()
        input_dim = self.mlp_extractor.latent_dim_pi + (dim if self.residual_sees_base_action else 0)
        self.residual_net, self.residual_out, _ = build_residual_mlp(
            input_dim, self.residual_net_arch, self.activation_fn, dim
        )
        self.log_std = nn.Parameter(th.ones(dim) * self.log_std_init, requires_grad=True)
        assert isinstance(self.action_space, spaces.Box)
        for name, bound in (("action_low", self.action_space.low), ("action_high", self.action_space.high)):
            self.register_buffer(name, th.as_tensor(bound, dtype=th.float32).reshape(-1), persistent=False)
        if self.ortho_init:
            # SB3's initialisation of the critic side; the denoiser and the residual keep theirs.
            for module, gain in [
                (self.mlp_extractor.value_net, np.sqrt(2)),
                (self.value_net, 1.0),
                (self.vf_features_extractor, np.sqrt(2)),
            ]:
                module.apply(partial(self.init_weights, gain=gain))
        # The RL optimizer holds the RL side only: residual, log_std, value function.
        base = {id(param) for param in self.base_parameters()}
        rl_params = [param for param in self.parameters() if id(param) not in base]
        self.optimizer = self.optimizer_class(rl_params, lr=lr_schedule(1), **self.optimizer_kwargs)  # type: ignore[call-arg]  # SB3 passes the learning rate this way

    def _get_constructor_parameters(self) -> dict[str, Any]:
        data = super()._get_constructor_parameters()
        data.pop("squash_output", None)
        data.update(self._residual_constructor_parameters())
        data.update(
            base_chunk_size=self.base_chunk_size,
            denoising_steps=self.denoising_steps,
            ddim_steps=self.ddim_steps,
            denoiser_net_arch=self.denoiser_net_arch,
            denoiser_activation_fn=self.denoiser_activation_fn,
            time_embedding_dim=self.time_embedding_dim,
            beta_schedule=self.beta_schedule,
            denoised_clip_value=self.denoised_clip_value,
        )
        return data

    @classmethod
    def rollout_buffer_class_for(cls, observation_space: spaces.Space, requested: type | None) -> type | None:
        """The imitation protocol: the buffer that stores each step's base action."""
        own = DictResidualBaseRolloutBuffer if isinstance(observation_space, spaces.Dict) else ResidualBaseRolloutBuffer
        if requested is None:
            return own
        if not issubclass(requested, BaseActionStorageMixin):
            raise ValueError(
                f"rollout_buffer_class: {cls.__name__} needs a buffer that stores the base action of every step "
                f"({own.__name__}), found {requested.__name__}"
            )
        return requested

    # ------------------------------------------------------------------------------------------
    # The base and the residual
    # ------------------------------------------------------------------------------------------
    def _actor_latent(self, obs: PyTorchObs) -> th.Tensor:
        features = super(ActorCriticPolicy, self).extract_features(obs, self.pi_features_extractor)
        return self.mlp_extractor.forward_actor(features)

    def _latents(self, obs: PyTorchObs) -> tuple[th.Tensor, th.Tensor]:
        features = self.extract_features(obs)
        if self.share_features_extractor:
            return self.mlp_extractor(features)
        pi_features, vf_features = features
        return self.mlp_extractor.forward_actor(pi_features), self.mlp_extractor.forward_critic(vf_features)

    def to_unit(self, actions: th.Tensor) -> th.Tensor:
        """Env actions (..., A) to ``[-1, 1]`` units (SB3's ``scale_action``)."""
        return 2.0 * (actions - self.action_low) / (self.action_high - self.action_low) - 1.0

    def to_env(self, actions: th.Tensor) -> th.Tensor:
        """``[-1, 1]`` units (..., A) to env actions (SB3's ``unscale_action``)."""
        return self.action_low + 0.5 * (actions + 1.0) * (self.action_high - self.action_low)

    def plan_chunks(self, latent_pi: th.Tensor) -> th.Tensor:
        """The base's chunks for actor features ``latent_pi``: the DDIM chain without noise from
        ``x_T = 0``, (batch, H, A) in ``[-1, 1]`` (differentiable w.r.t. the base)."""
        x = th.zeros(latent_pi.shape[0], self.base_chunk_size * self.step_action_dim, device=latent_pi.device)
        for t, coefficients in zip(self.base_timesteps, self._base_steps):
            eps = self.denoiser(x, th.full((x.shape[0],), t, device=x.device, dtype=th.long), latent_pi)
            x, _ = self.diffusion.transition(x, eps, coefficients, "ddim")
        return x.clamp(-1.0, 1.0).view(-1, self.base_chunk_size, self.step_action_dim)

    def _residual(self, latent_pi: th.Tensor, base_unit: th.Tensor) -> th.Tensor:
        inputs = th.cat([latent_pi, base_unit], dim=-1) if self.residual_sees_base_action else latent_pi
        return self.residual_scale * self.residual_out(self.residual_net(inputs))

    def _distribution(self, latent_pi: th.Tensor, base_unit: th.Tensor) -> DiagGaussianDistribution:
        """The residual Gaussian around the base action; RL gradients reach neither the base's features nor its action."""
        latent_pi, base_unit = latent_pi.detach(), base_unit.detach()
        mean = self.to_env(base_unit + self._residual(latent_pi, base_unit))
        return DiagGaussianDistribution(self.step_action_dim).proba_distribution(mean, self.log_std)

    def _next_base_actions(self, latent_pi: th.Tensor, state: ChunkState | None) -> tuple[th.Tensor, ChunkState, np.ndarray]:
        """
        Each row's base action for this step from its chunk (re-planned where the chunk is used up or
        its episode starts, or where there is no state for the batch), and the state after the step.

        :return: base actions (batch, A) in ``[-1, 1]``, the next state, and which rows planned now
        """
        batch = latent_pi.shape[0]
        if state is None or state[0].shape[0] != batch:
            chunks = np.zeros((batch, self.base_chunk_size, self.step_action_dim), dtype=np.float32)
            steps = np.zeros(batch, dtype=np.int64)
        else:
            chunks, steps = state[0].copy(), state[1].copy()
        fresh = steps == 0
        if fresh.any():
            with th.no_grad():
                planned = self.plan_chunks(latent_pi[th.as_tensor(fresh, device=latent_pi.device)])
            chunks[fresh] = planned.cpu().numpy()
        base = th.as_tensor(chunks[np.arange(batch), steps], device=latent_pi.device)
        return base, (chunks, (steps + 1) % self.base_chunk_size), fresh

    def reset_episode_state(self, episode_starts: np.ndarray) -> None:
        """The imitation protocol: the rollout envs whose episode starts plan a new chunk at their next step."""
        if self._rollout_chunks is not None:
            starts = np.asarray(episode_starts, dtype=bool).reshape(-1)
            if starts.shape[0] != self._rollout_chunks[1].shape[0]:
                self._rollout_chunks = None  # another number of envs: every env plans anew
            else:
                self._rollout_chunks[1][starts] = 0

    # ------------------------------------------------------------------------------------------
    # What SB3 calls
    # ------------------------------------------------------------------------------------------
    def forward(self, obs: th.Tensor, deterministic: bool = False) -> tuple[th.Tensor, th.Tensor, th.Tensor]:
        """
        Act in the rollout envs: each env's base action from the chunk it is executing, the
        residual's correction, the value; the base actions are kept for the rollout buffer.
        """
        latent_pi, latent_vf = self._latents(obs)
        base, self._rollout_chunks, self._rollout_fresh = self._next_base_actions(latent_pi, self._rollout_chunks)
        distribution = self._distribution(latent_pi, base)
        actions = distribution.get_actions(deterministic=deterministic)
        self._rollout_base_actions = base.cpu().numpy()
        return actions.reshape((-1, *self.action_space.shape)), self.value_net(latent_vf), distribution.log_prob(actions)  # type: ignore[misc]  # Box shape

    def take_rollout_base_actions(self) -> tuple[np.ndarray, np.ndarray]:
        """The base actions (n_envs, A) of the last ``forward()``, and which envs planned a chunk there (each taken once)."""
        if self._rollout_base_actions is None or self._rollout_fresh is None:
            raise RuntimeError(
                "ResidualBaseRolloutBuffer.add: no base actions from a rollout forward() of the residual diffusion "
                "policy (the buffer stores those of the policy(obs) call that chose the actions)"
            )
        taken = (self._rollout_base_actions, self._rollout_fresh)
        self._rollout_base_actions = self._rollout_fresh = None
        return taken

    def evaluate_actions(self, obs: PyTorchObs, actions: th.Tensor) -> tuple[th.Tensor, th.Tensor, th.Tensor | None]:
        """Value, log-likelihood and entropy of stored steps: ``actions`` rows are ``[action, base action]``
        (as :class:`ResidualBaseRolloutBuffer` yields them)."""
        dim = self.step_action_dim
        latent_pi, latent_vf = self._latents(obs)
        distribution = self._distribution(latent_pi, actions[:, dim:])
        return self.value_net(latent_vf), distribution.log_prob(actions[:, :dim]), distribution.entropy()

    def get_distribution(self, obs: PyTorchObs) -> Distribution:
        """The action distribution at the start of a chunk (the base's first planned action)."""
        latent_pi = self._actor_latent(obs)
        return self._distribution(latent_pi, self.plan_chunks(latent_pi)[:, 0])

    def predict_values(self, obs: PyTorchObs) -> th.Tensor:
        return self.value_net(self._latents(obs)[1])

    def _predict(self, observation: PyTorchObs, deterministic: bool = False) -> th.Tensor:
        latent_pi = self._actor_latent(observation)
        base, self._predict_state, _ = self._next_base_actions(latent_pi, self._predict_state)
        return self._distribution(latent_pi, base).get_actions(deterministic=deterministic)

    def predict(
        self,
        observation: np.ndarray | dict[str, np.ndarray],
        state: tuple[np.ndarray, ...] | None = None,
        episode_start: np.ndarray | None = None,
        deterministic: bool = False,
    ) -> tuple[np.ndarray, tuple[np.ndarray, ...] | None]:
        """
        SB3's ``predict``; the returned state is the chunk each env is executing: pass it back with
        ``episode_start`` (as ``evaluate_policy`` does) to execute the base's chunks. Without a
        state, the call plans a fresh chunk and acts with its first action.
        """
        chunk_state: ChunkState | None = None
        if state is not None:
            if len(state) != 2:
                raise ValueError(f"state: expected the (chunks, steps) pair predict() returned, found {len(state)} arrays")
            chunks, steps = np.array(state[0], dtype=np.float32), np.array(state[1], dtype=np.int64)
            if episode_start is not None:
                steps[np.asarray(episode_start, dtype=bool).reshape(-1)] = 0
            chunk_state = (chunks, steps)
        self._predict_state = chunk_state
        try:
            actions, _ = super().predict(observation, None, None, deterministic)
            next_state = self._predict_state
        finally:
            self._predict_state = None
        return actions, next_state

    # ------------------------------------------------------------------------------------------
    # Imitation: the base, by its denoising loss on chunks of the demonstrations' actions
    # ------------------------------------------------------------------------------------------
    def base_parameters(self) -> list[nn.Parameter]:
        modules = [self.pi_features_extractor, self.mlp_extractor.policy_net, self.denoiser]
        return list({id(p): p for module in modules for p in module.parameters()}.values())

    def residual_parameters(self) -> list[nn.Parameter]:
        return [*self.residual_net.parameters(), *self.residual_out.parameters(), self.log_std]

    def actor_parameters(self) -> list[nn.Parameter]:
        """The imitation protocol: the base's and the residual's parameters."""
        return [*self.base_parameters(), *self.residual_parameters()]

    def base_distribution(self, obs: th.Tensor) -> Distribution:
        raise NotImplementedError(
            f"{type(self).__name__}: the diffusion base has no closed-form action distribution; it is imitated by its "
            "'denoising' loss (il_loss='denoising')"
        )

    def base_actions(self, obs: th.Tensor) -> th.Tensor:
        """The base's first planned action in env units (differentiable w.r.t. the base)."""
        return self.to_env(self.plan_chunks(self._actor_latent(obs))[:, 0])

    def residual_actions(self, obs: th.Tensor) -> th.Tensor:
        """The residual's correction at a chunk's start, in env units."""
        latent_pi = self._actor_latent(obs)
        base = self.plan_chunks(latent_pi)[:, 0]
        return self.to_env(base + self._residual(latent_pi, base)) - self.to_env(base)

    def il_loss(
        self, loss: str, observations: PyTorchObs, actions: th.Tensor, generator: th.Generator | None = None
    ) -> th.Tensor:
        """The imitation protocol's policy loss: the base's denoising loss of demonstration chunks
        (env actions, (batch, H, A) or flattened), scaled to ``[-1, 1]``."""
        if loss != "denoising":
            raise ValueError(f"il_loss: {type(self).__name__} is imitated by its 'denoising' loss, found {loss!r}")
        chunks = self.to_unit(actions.reshape(-1, self.base_chunk_size, self.step_action_dim)).clamp(-1.0, 1.0)
        return denoising_loss(self.denoiser, self.diffusion, chunks.flatten(1), self._actor_latent(observations), generator)


class MultiInputResidualDiffusionActorCriticPolicy(ResidualDiffusionActorCriticPolicy):
    """:class:`ResidualDiffusionActorCriticPolicy` for Dict observations (SB3's ``CombinedExtractor``)."""

    def __init__(
        self, observation_space: spaces.Space, action_space: spaces.Space, lr_schedule: Schedule, **kwargs: Any
    ) -> None:
        kwargs.setdefault("features_extractor_class", CombinedExtractor)
        super().__init__(observation_space, action_space, lr_schedule, **kwargs)


class BaseActionStorageMixin:
    """
    Stores, with every step, the base action the residual diffusion policy acted around: the
    buffer's action rows are ``[action, base action]``, which ``PPO.train`` hands to the policy's
    ``evaluate_actions`` as they are.
    """

    policy: ResidualDiffusionActorCriticPolicy | None = None
    action_dim: int
    n_envs: int

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.env_action_dim = self.action_dim
        self.action_dim = 2 * self.env_action_dim
        self.reset()  # type: ignore[attr-defined]  # the SB3 buffer this mixin goes in front of

    def attach_policy(self, policy: ResidualDiffusionActorCriticPolicy) -> None:
        """
        Store the base actions of ``policy`` (the algorithm calls this once the policy exists).

        :raises ValueError: naming ``rollout_buffer_class``, for a policy without base actions
        """
        if not callable(getattr(policy, "take_rollout_base_actions", None)):
            raise ValueError(
                f"rollout_buffer_class: {type(self).__name__} stores the base action of every step and only a residual "
                f"diffusion policy has them; found {type(policy).__name__}"
            )
        self.policy = policy

    def add(
        self,
        obs: Any,
        action: np.ndarray,
        reward: np.ndarray,
        episode_start: np.ndarray,
        value: th.Tensor,
        log_prob: th.Tensor,
    ) -> None:
        if self.policy is None:
            raise RuntimeError(f"{type(self).__name__}.add: no policy attached (attach_policy(policy) first)")
        base, fresh = self.policy.take_rollout_base_actions()
        stale = np.asarray(episode_start, dtype=bool).reshape(-1) & ~fresh
        if stale.any():
            raise RuntimeError(
                f"{type(self).__name__}.add: env(s) {np.flatnonzero(stale).tolist()} started an episode while executing a "
                "chunk planned in the previous one: the policy was not told of the episode's start. The IN-RIL classes "
                "tell it; with SB3's own algorithms pass callback=sb3_inril.common.callbacks.EpisodeStartCallback()"
            )
        action = np.concatenate([np.asarray(action).reshape(self.n_envs, self.env_action_dim), base], axis=1)
        super().add(obs, action, reward, episode_start, value, log_prob)  # type: ignore[misc]  # the SB3 buffer this mixin goes in front of


class ResidualBaseRolloutBuffer(BaseActionStorageMixin, RolloutBuffer):
    """SB3's ``RolloutBuffer`` that stores each step's base action (see :class:`BaseActionStorageMixin`)."""


class DictResidualBaseRolloutBuffer(BaseActionStorageMixin, DictRolloutBuffer):
    """SB3's ``DictRolloutBuffer`` that stores each step's base action (see :class:`BaseActionStorageMixin`)."""


ResidualDiffusionPolicy = ResidualDiffusionActorCriticPolicy
MultiInputResidualDiffusionPolicy = MultiInputResidualDiffusionActorCriticPolicy
