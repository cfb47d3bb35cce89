"""Diffusion actor-critic policies for on-policy algorithms, fine-tuned by PPO over the denoising
chain as DPPO does (Ren et al. 2024, https://arxiv.org/abs/2409.00588).

The seam. SB3's ``PPO.train`` asks the policy for ``evaluate_actions(observations, actions)`` on the
minibatches its rollout buffer yields, and its ``collect_rollouts`` stores what ``policy(obs)``
returns. Both stay as they are:

* ``policy(obs)`` samples a denoising chain, returns its last element (the action, in ``[-1, 1]``:
  the policy is a squashing one, so SB3 rescales it to the env's bounds) and keeps the fine-tuned
  part of the chain for the rollout buffer;
* :class:`sb3_inril.common.diffusion.buffers.DenoisingChainRolloutBuffer` stores the chains and
  yields one sample per (env step, fine-tuned denoising step), DPPO's two-level MDP: its "action"
  is the pair ``(x_k, x_{k-1})`` with the step's index, its old log-probability that of the step,
  its advantage the env step's times ``denoising_discount ** (K' - 1 - j)``;
* ``evaluate_actions`` returns the log-density of each such denoising transition.

So PPO's clipped ratio applies per denoising step, as DPPO's does, and PPO (or A2C) is unchanged.
Why not one sample per env step with the chain's joint likelihood: the ratio of a product of K'
Gaussian transitions over many action dimensions leaves any clip range at once; DPPO's per-step
ratio of the per-dimension mean log-density is what its clip of 0.01 was tuned for. Differences
from DPPO, both from keeping ``PPO.train``: one clip range for all denoising steps (DPPO grows it
from 1e-3 to ``clip`` along the chain), and advantages normalised per minibatch after the denoising
discount (DPPO normalises before).
"""

import copy
from functools import partial
from typing import Any, ClassVar, Literal

import numpy as np
import torch as th
from gymnasium import spaces
from stable_baselines3.common.distributions import Distribution
from stable_baselines3.common.policies import ActorCriticPolicy
from stable_baselines3.common.preprocessing import get_action_dim
from stable_baselines3.common.torch_layers import CombinedExtractor
from stable_baselines3.common.type_aliases import PyTorchObs, Schedule
from torch import nn

from sb3_inril.common.diffusion.buffers import (
    DenoisingChainRolloutBuffer,
    DenoisingChainStorageMixin,
    DictDenoisingChainRolloutBuffer,
)
from sb3_inril.common.diffusion.denoiser import (
    BETA_SCHEDULES,
    SAMPLERS,
    DiffusionSchedule,
    MlpDenoiser,
    check_bounded_box,
    denoising_loss,
)
from sb3_inril.validation import check_choice, check_float, check_positive_int

LOG_PROB_REDUCTIONS = ("mean", "sum")


class DiffusionActorCriticPolicy(ActorCriticPolicy):
    """
    An actor-critic policy whose actor is a DDPM diffusion model over (flattened) actions or action
    chunks: ``eps_theta(x_t, t, s)`` on the observation's features (SB3's features extractor and
    ``net_arch["pi"]``), and a value function on the observation only (``net_arch["vf"]``).

    Sampling runs the sampler's chain from Gaussian noise; the last ``ft_denoising_steps`` steps
    use the fine-tuned denoiser (``denoiser``), the earlier ones a frozen copy of it
    (``frozen_denoiser``, taken when ``pretrain`` ends) as DPPO does. In rollouts each step's std
    is floored at ``min_sampling_denoising_std`` so that fine-tuning explores; ``predict(...,
    deterministic=True)`` runs the DDIM chain (``ddim_steps``) without noise from ``x_T = 0``. The predicted clean
    action is clipped to the action bounds at every step, and so is the final action.

    Box action spaces with finite bounds only (actions are scaled to ``[-1, 1]``), without gSDE.

    :param denoising_steps: T, the number of DDPM timesteps (DPPO: 20)
    :param ft_denoising_steps: K', how many of the sampler's last steps are fine-tuned by RL
        (default: half of the sampler's steps, at least 1; DPPO: 10 of 20)
    :param sampler: the chain that acts in rollouts and is fine-tuned: ``"ddpm"`` (all T steps) or
        ``"ddim"`` (``ddim_steps`` of them, with noise scale ``ddim_eta``)
    :param ddim_steps: steps of the DDIM chain (for ``sampler="ddim"`` and for deterministic
        prediction; default T)
    :param ddim_eta: DDIM's noise scale in rollouts (1.0: DDPM-like; deterministic prediction uses 0)
    :param min_sampling_denoising_std: floor of each denoising step's std when sampling (DPPO: 0.1)
    :param min_logprob_denoising_std: floor of the std in the log-densities PPO's ratio is made of
    :param denoising_discount: the advantage of denoising step j (0 = first fine-tuned step) is
        scaled by ``denoising_discount ** (K' - 1 - j)`` (DPPO: 0.99)
    :param log_prob_reduction: ``"mean"`` (DPPO's: the mean per-dimension log-density of a
        transition) or ``"sum"`` (the transition's log-density)
    :param log_prob_clamp: per-dimension log-densities are clamped to this range before the
        reduction (DPPO: (-5, 2)); None: no clamping
    :param denoiser_net_arch: hidden layers of the denoiser MLP (default ``[256, 256, 256]``)
    :param denoiser_activation_fn: activation of the denoiser (DPPO: Mish)
    :param time_embedding_dim: size of the timestep embedding
    :param beta_schedule: ``"cosine"`` (DPPO's) or ``"linear"``
    :param denoised_clip_value: clip of the predicted clean action at each step, in the scaled
        action space (1.0 = the action bounds)
    :param randn_clip_value: the sampling noise of each step is clipped to ``[-c, c]`` (DPPO: 3)
    :param kwargs: the arguments of SB3's ``ActorCriticPolicy`` (``net_arch`` default
        ``dict(pi=[], vf=[256, 256])``: the denoiser is the actor's network)
    """

    # The imitation protocol (sb3_inril.common.policy_protocol.ImitationPolicy).
    #: The IL loss of IN-RIL for this policy: the denoising (noise-prediction) loss, its only one
    #: (there is no closed-form action distribution for the NLL).
    default_il_loss: ClassVar[str] = "denoising"
    il_losses: ClassVar[tuple[str, ...]] = ("denoising",)
    sampler_step_table: th.Tensor

    def __init__(
        self,
        observation_space: spaces.Space,
        action_space: spaces.Space,
        lr_schedule: Schedule,
        denoising_steps: int = 20,
        ft_denoising_steps: int | None = None,
        sampler: Literal["ddpm", "ddim"] = "ddpm",
        ddim_steps: int | None = None,
        ddim_eta: float = 1.0,
        min_sampling_denoising_std: float = 0.1,
        min_logprob_denoising_std: float = 0.1,
        denoising_discount: float = 0.99,
        log_prob_reduction: Literal["mean", "sum"] = "mean",
        log_prob_clamp: tuple[float, float] | None = (-5.0, 2.0),
        denoiser_net_arch: list[int] | None = None,
        denoiser_activation_fn: type[nn.Module] = nn.Mish,
        time_embedding_dim: int = 16,
        beta_schedule: Literal["cosine", "linear"] = "cosine",
        denoised_clip_value: float | None = 1.0,
        randn_clip_value: float | None = 3.0,
        **kwargs: Any,
    ) -> None:
        check_bounded_box(action_space, "a diffusion policy")
        if kwargs.get("use_sde", False):
            raise ValueError("use_sde: a diffusion policy explores through its denoising noise, found use_sde=True")
        if kwargs.pop("squash_output", None) is False:
            raise ValueError("squash_output: a diffusion policy always acts in [-1, 1] (squashed), found False")
        check_positive_int("denoising_steps", denoising_steps, allow_none=False)
        check_choice("sampler", sampler, SAMPLERS)
        check_positive_int("ddim_steps", ddim_steps, allow_none=True)
        if ddim_steps is not None and ddim_steps > denoising_steps:
            raise ValueError(f"ddim_steps: at most denoising_steps={denoising_steps}, found {ddim_steps}")
        n_sampler_steps = denoising_steps if sampler == "ddpm" else (ddim_steps or denoising_steps)
        check_positive_int("ft_denoising_steps", ft_denoising_steps, allow_none=True)
        if ft_denoising_steps is not None and ft_denoising_steps > n_sampler_steps:
            raise ValueError(f"ft_denoising_steps: at most the sampler's {n_sampler_steps} steps, found {ft_denoising_steps}")
        for name, value in (("denoised_clip_value", denoised_clip_value), ("randn_clip_value", randn_clip_value)):
            if value is not None:
                check_float(name, value, 0.0, low_open=True)
        check_float("ddim_eta", ddim_eta, 0.0)
        check_float("min_sampling_denoising_std", min_sampling_denoising_std, 0.0)
        check_float("min_logprob_denoising_std", min_logprob_denoising_std, 0.0, low_open=True)
        check_float("denoising_discount", denoising_discount, 0.0, 1.0, low_open=True)
        check_choice("log_prob_reduction", log_prob_reduction, LOG_PROB_REDUCTIONS)
        check_choice("beta_schedule", beta_schedule, BETA_SCHEDULES)
        check_positive_int("time_embedding_dim", time_embedding_dim, allow_none=False)
        if log_prob_clamp is not None:
            if not isinstance(log_prob_clamp, (tuple, list)) or len(log_prob_clamp) != 2:
                raise ValueError(f"log_prob_clamp: expected (low, high) or None, found {log_prob_clamp!r}")
            low, high = (check_float("log_prob_clamp", value, -np.inf) for value in log_prob_clamp)
            if not low < high:
                raise ValueError(f"log_prob_clamp: expected (low, high) with low < high, found {log_prob_clamp}")
            log_prob_clamp = (low, high)
        self.denoising_steps = int(denoising_steps)
        self.ft_denoising_steps = int(ft_denoising_steps or max(1, n_sampler_steps // 2))
        self.sampler = sampler
        self.ddim_steps = ddim_steps
        self.ddim_eta = float(ddim_eta)
        self.min_sampling_denoising_std = float(min_sampling_denoising_std)
        self.min_logprob_denoising_std = float(min_logprob_denoising_std)
        self.denoising_discount = float(denoising_discount)
        self.log_prob_reduction = log_prob_reduction
        self.log_prob_clamp = log_prob_clamp
        self.denoiser_net_arch = list(denoiser_net_arch) if denoiser_net_arch is not None else [256, 256, 256]
        self.denoiser_activation_fn = denoiser_activation_fn
        self.time_embedding_dim = int(time_embedding_dim)
        self.beta_schedule = beta_schedule
        self.denoised_clip_value = denoised_clip_value
        self.randn_clip_value = randn_clip_value
        kwargs.setdefault("net_arch", dict(pi=[], vf=[256, 256]))
        super().__init__(observation_space, action_space, lr_schedule, **kwargs)
        # SB3's ActorCriticPolicy allows squashing only with gSDE; the flag is what makes SB3
        # rescale [-1, 1] actions to the env's bounds in rollouts and predict().
        self._squash_output = True
        # The chain of the last rollout forward(), taken by the rollout buffer.
        self._rollout_chain: tuple[th.Tensor, th.Tensor] | None = None

    # ------------------------------------------------------------------------------------------
    # Construction
    # ------------------------------------------------------------------------------------------
    @property
    def action_dim(self) -> int:
        """Dimension of the flattened action (chunk) the model denoises."""
        return get_action_dim(self.action_space)

    def _build(self, lr_schedule: Schedule) -> None:
        self._build_mlp_extractor()
        self.value_net = nn.Linear(self.mlp_extractor.latent_dim_vf, 1)
        self.denoiser = MlpDenoiser(
            self.action_dim,
            self.mlp_extractor.latent_dim_pi,
            self.denoiser_net_arch,
            self.denoiser_activation_fn,
            self.time_embedding_dim,
        )
        self.diffusion = DiffusionSchedule(self.denoising_steps, self.beta_schedule, self.denoised_clip_value)
        timesteps = self.diffusion.sampler_timesteps(self.sampler, self.ddim_steps)
        self.sampler_timesteps: list[int] = timesteps
        self.deterministic_timesteps: list[int] = self.diffusion.sampler_timesteps("ddim", self.ddim_steps)
        # Timesteps at or above this one are denoised by the frozen copy (in any chain).
        self.fine_tuned_below = timesteps[len(timesteps) - self.ft_denoising_steps] + 1
        # Each step's coefficients, computed once: as floats for sampling (one step for the whole
        # batch), as a table for PPO's minibatches (each row its own step). Both hold the same numbers.
        table = self.diffusion.step_table(timesteps, self.sampler, self.ddim_eta)
        self.register_buffer("sampler_step_table", table, persistent=False)
        self._sampler_steps: list[list[float]] = table.tolist()
        self._deterministic_steps: list[list[float]] = self.diffusion.step_table(
            self.deterministic_timesteps, "ddim", 0.0
        ).tolist()
        if self.ortho_init:
            # SB3's initialisation of the critic side and the features; the denoiser keeps PyTorch's.
            extractors = [self.pi_features_extractor, self.vf_features_extractor]
            for module, gain in [
                (self.mlp_extractor, np.sqrt(2)),
                (self.value_net, 1.0),
                *((e, np.sqrt(2)) for e in extractors),
            ]:
                module.apply(partial(self.init_weights, gain=gain))
        # The earlier denoising steps stay those of the pre-trained model: a frozen copy.
        self.frozen_denoiser = copy.deepcopy(self.denoiser).requires_grad_(False)
        trainable = [param for param in self.parameters() if param.requires_grad]
        self.optimizer = self.optimizer_class(trainable, lr=lr_schedule(1), **self.optimizer_kwargs)  # type: ignore[call-arg]  # SB3 passes the learning rate this way

    def _get_constructor_parameters(self) -> dict[str, Any]:
        data = super()._get_constructor_parameters()
        data.pop("squash_output", None)
        data.update(
            denoising_steps=self.denoising_steps,
            ft_denoising_steps=self.ft_denoising_steps,
            sampler=self.sampler,
            ddim_steps=self.ddim_steps,
            ddim_eta=self.ddim_eta,
            min_sampling_denoising_std=self.min_sampling_denoising_std,
            min_logprob_denoising_std=self.min_logprob_denoising_std,
            denoising_discount=self.denoising_discount,
            log_prob_reduction=self.log_prob_reduction,
            log_prob_clamp=self.log_prob_clamp,
            denoiser_net_arch=self.denoiser_net_arch,
            denoiser_activation_fn=self.denoiser_activation_fn,
            time_embedding_dim=self.time_embedding_dim,
            beta_schedule=self.beta_schedule,
            denoised_clip_value=self.denoised_clip_value,
            randn_clip_value=self.randn_clip_value,
        )
        return data

    def freeze_pretrained_denoiser(self) -> None:
        """Make the current denoiser the frozen one of the early denoising steps (``pretrain`` calls this)."""
        self.frozen_denoiser.load_state_dict(self.denoiser.state_dict())

    def on_pretrain_end(self) -> None:
        """DPPO fine-tunes the last denoising steps and keeps the pre-trained model for the others."""
        self.freeze_pretrained_denoiser()

    @classmethod
    def rollout_buffer_class_for(cls, observation_space: spaces.Space, requested: type | None) -> type | None:
        """The rollouts store denoising chains: a buffer that stores them (``requested`` must be one)."""
        if requested is None:
            return (
                DictDenoisingChainRolloutBuffer if isinstance(observation_space, spaces.Dict) else DenoisingChainRolloutBuffer
            )
        if not (isinstance(requested, type) and issubclass(requested, DenoisingChainStorageMixin)):
            raise ValueError(
                f"rollout_buffer_class: a diffusion policy needs a buffer that stores denoising chains (a "
                f"DenoisingChainStorageMixin); found {getattr(requested, '__name__', requested)} with {cls.__name__}"
            )
        return requested

    def actor_parameters(self) -> list[nn.Parameter]:
        """The actor's trainable parameters: its features extractor, ``net_arch["pi"]`` and the denoiser."""
        modules = [self.pi_features_extractor, self.mlp_extractor.policy_net, self.denoiser]
        return list({id(param): param for module in modules for param in module.parameters()}.values())

    # ------------------------------------------------------------------------------------------
    # The chain
    # ------------------------------------------------------------------------------------------
    def _actor_latent(self, obs: PyTorchObs) -> th.Tensor:
        features = super(ActorCriticPolicy, self).extract_features(obs, self.pi_features_extractor)
        return self.mlp_extractor.forward_actor(features)

    def _denoiser_for(self, t: int) -> nn.Module:
        return self.denoiser if t < self.fine_tuned_below else self.frozen_denoiser

    def _noise(self, like: th.Tensor) -> th.Tensor:
        noise = th.randn_like(like)
        return noise if self.randn_clip_value is None else noise.clamp(-self.randn_clip_value, self.randn_clip_value)

    def step_log_prob(self, mean: th.Tensor, std: th.Tensor | float, x_next: th.Tensor) -> th.Tensor:
        """Log-density of ``x_next`` under one denoising transition, as PPO's ratio uses it (std floored,
        per-dimension values clamped, then reduced over the action dimensions)."""
        std = th.as_tensor(std, dtype=mean.dtype, device=mean.device).clamp(min=self.min_logprob_denoising_std).expand_as(mean)
        # The Gaussian log-density written out: a Normal object per step costs more than the step.
        log_prob = -0.5 * ((x_next - mean) / std) ** 2 - th.log(std) - 0.5 * np.log(2 * np.pi)
        if self.log_prob_clamp is not None:
            log_prob = log_prob.clamp(*self.log_prob_clamp)
        return log_prob.mean(dim=-1) if self.log_prob_reduction == "mean" else log_prob.sum(dim=-1)

    def sample(self, latent_pi: th.Tensor, deterministic: bool = False) -> tuple[th.Tensor, th.Tensor, th.Tensor]:
        """
        Run the denoising chain for actor features ``latent_pi``.

        :param deterministic: the DDIM chain without noise (``ddim_steps``) from ``x_T = 0`` instead
            of the sampler's chain from Gaussian noise
        :return: the action in ``[-1, 1]`` (batch, action_dim); the fine-tuned part of the chain
            (batch, K' + 1, action_dim), ``x`` before the first fine-tuned step to the action; the
            log-density of each fine-tuned step (batch, K') (the last two empty when deterministic)
        """
        batch = latent_pi.shape[0]
        # The deterministic chain starts from the prior's mode, so that predict(deterministic=True)
        # is a function of the observation.
        shape = (batch, self.action_dim)
        x = th.zeros(shape, device=latent_pi.device) if deterministic else th.randn(shape, device=latent_pi.device)
        timesteps = self.deterministic_timesteps if deterministic else self.sampler_timesteps
        steps = self._deterministic_steps if deterministic else self._sampler_steps
        sampler: Literal["ddpm", "ddim"] = "ddim" if deterministic else self.sampler
        first_ft = len(timesteps) - self.ft_denoising_steps
        chain, log_probs = [], []
        for i, (t, coefficients) in enumerate(zip(timesteps, steps)):
            eps = self._denoiser_for(t)(x, th.full((batch,), t, device=x.device, dtype=th.long), latent_pi)
            mean, std = self.diffusion.transition(x, eps, coefficients, sampler)
            if deterministic:
                x_next = mean
            else:
                x_next = mean + max(float(std), self.min_sampling_denoising_std) * self._noise(mean)
            if i == len(timesteps) - 1:
                x_next = x_next.clamp(-1.0, 1.0)  # the action itself stays in bounds
            if not deterministic and i >= first_ft:
                if i == first_ft:
                    chain.append(x)
                chain.append(x_next)
                log_probs.append(self.step_log_prob(mean, std, x_next))
            x = x_next
        if deterministic:
            return x, x.new_zeros(batch, 0, self.action_dim), x.new_zeros(batch, 0)
        return x, th.stack(chain, dim=1), th.stack(log_probs, dim=1)

    def chain_step_log_probs(self, obs: PyTorchObs, chain: th.Tensor) -> th.Tensor:
        """
        Log-density of every fine-tuned denoising step of stored chains, under the current denoiser.

        :param chain: (batch, K' + 1, action_dim), as :meth:`sample` returns it
        :return: (batch, K'); the chain's log-likelihood is their sum (with ``log_prob_reduction="sum"``
            and no clamp, the exact Gaussian log-density of the chain given its first element)
        """
        latent_pi = self._actor_latent(obs)
        n_ft = self.ft_denoising_steps
        steps = th.arange(n_ft, device=chain.device).repeat(chain.shape[0])
        rows = th.arange(chain.shape[0], device=chain.device).repeat_interleave(n_ft)
        log_probs, _ = self._denoising_step(latent_pi[rows], chain[rows, steps], chain[rows, steps + 1], steps)
        return log_probs.view(-1, n_ft)

    def _denoising_step(
        self, latent_pi: th.Tensor, x: th.Tensor, x_next: th.Tensor, step: th.Tensor
    ) -> tuple[th.Tensor, th.Tensor]:
        """
        Log-density of ``x -> x_next`` at fine-tuned step ``step`` (0 = the first) for each row, and
        the entropy of that Gaussian transition (reduced like the log-density; it depends on the
        schedule and the std floor only, so it carries no gradient, as in DPPO).
        """
        index = step + len(self.sampler_timesteps) - self.ft_denoising_steps
        timesteps = th.as_tensor(self.sampler_timesteps, device=x.device)[index]
        eps = self.denoiser(x, timesteps, latent_pi)
        mean, std = self.diffusion.transition(x, eps, self.sampler_step_table[index], self.sampler)
        std = th.as_tensor(std).clamp(min=self.min_logprob_denoising_std).expand_as(mean).detach()
        entropy = 0.5 + 0.5 * np.log(2 * np.pi) + th.log(std)
        entropy = entropy.mean(dim=-1) if self.log_prob_reduction == "mean" else entropy.sum(dim=-1)
        return self.step_log_prob(mean, std, x_next), entropy

    # ------------------------------------------------------------------------------------------
    # What SB3 calls
    # ------------------------------------------------------------------------------------------
    def forward(self, obs: th.Tensor, deterministic: bool = False) -> tuple[th.Tensor, th.Tensor, th.Tensor]:
        """
        Sample an action by the denoising chain and the value of ``obs``; in rollouts (no gradient,
        not deterministic) the chain is kept for the rollout buffer.

        :return: action in ``[-1, 1]`` (shaped as the action space), value, and the sum of the
            fine-tuned steps' log-densities
        """
        features = self.extract_features(obs)
        if self.share_features_extractor:
            latent_pi, latent_vf = self.mlp_extractor(features)
        else:
            pi_features, vf_features = features
            latent_pi = self.mlp_extractor.forward_actor(pi_features)
            latent_vf = self.mlp_extractor.forward_critic(vf_features)
        values = self.value_net(latent_vf)
        actions, chain, log_probs = self.sample(latent_pi, deterministic)
        if not deterministic and not th.is_grad_enabled():
            self._rollout_chain = (chain, log_probs)
        return actions.reshape((-1, *self.action_space.shape)), values, log_probs.sum(dim=1)  # type: ignore[misc]  # Box shape

    def take_rollout_chain(self) -> tuple[th.Tensor, th.Tensor]:
        """The chain and step log-densities of the last rollout ``forward()`` (each is taken once)."""
        if self._rollout_chain is None:
            raise RuntimeError(
                "DenoisingChainRolloutBuffer.add: no chain from a rollout forward() of the diffusion policy "
                "(the buffer stores the chain of the policy(obs) call that chose the actions)"
            )
        chain, self._rollout_chain = self._rollout_chain, None
        return chain

    def _predict(self, observation: PyTorchObs, deterministic: bool = False) -> th.Tensor:
        actions, _, _ = self.sample(self._actor_latent(observation), deterministic)
        return actions

    def evaluate_actions(self, obs: PyTorchObs, actions: th.Tensor) -> tuple[th.Tensor, th.Tensor, th.Tensor | None]:
        """
        Value, log-density and entropy of denoising transitions, as the chain rollout buffer yields
        them: ``actions`` rows are ``[x_k, x_{k-1}, j]`` (j: index of the fine-tuned step).
        """
        dim = self.action_dim
        x, x_next, step = actions[:, :dim], actions[:, dim : 2 * dim], actions[:, 2 * dim].round().long()
        features = self.extract_features(obs)
        if self.share_features_extractor:
            latent_pi, latent_vf = self.mlp_extractor(features)
        else:
            pi_features, vf_features = features
            latent_pi = self.mlp_extractor.forward_actor(pi_features)
            latent_vf = self.mlp_extractor.forward_critic(vf_features)
        log_prob, entropy = self._denoising_step(latent_pi, x, x_next, step)
        return self.value_net(latent_vf), log_prob, entropy

    def get_distribution(self, obs: PyTorchObs) -> Distribution:
        raise NotImplementedError(
            "DiffusionActorCriticPolicy: a diffusion policy has no closed-form action distribution; "
            "use predict()/sample() for actions, chain_step_log_probs() for log-densities"
        )

    # ------------------------------------------------------------------------------------------
    # Imitation
    # ------------------------------------------------------------------------------------------
    def il_loss(
        self, loss: str, observations: PyTorchObs, actions: th.Tensor, generator: th.Generator | None = None
    ) -> th.Tensor:
        """The imitation protocol's policy loss: ``"denoising"``, :meth:`denoising_loss`."""
        if loss != "denoising":
            raise ValueError(f"il_loss: {type(self).__name__} is imitated by its 'denoising' loss, found {loss!r}")
        return self.denoising_loss(observations, actions, generator)

    def denoising_loss(self, obs: PyTorchObs, actions: th.Tensor, generator: th.Generator | None = None) -> th.Tensor:
        """
        The DDPM noise-prediction loss ``|| eps - eps_theta(x_t, t, s) ||^2`` of (demonstration)
        actions in ``[-1, 1]``, ``t`` uniform over the T timesteps, ``eps ~ N(0, I)``.

        :param generator: draw ``t`` and ``eps`` from it (held-out losses use a fixed one, so that
            they are comparable from one evaluation to the next and draw nothing from the global RNG)
        """
        return denoising_loss(self.denoiser, self.diffusion, actions, self._actor_latent(obs), generator)


class MultiInputDiffusionActorCriticPolicy(DiffusionActorCriticPolicy):
    """:class:`DiffusionActorCriticPolicy` for Dict observations (SB3's ``CombinedExtractor``)."""

    def __init__(
        self, observation_space: spaces.Space, action_space: spaces.Space, lr_schedule: Schedule, **kwargs: Any
    ) -> None:
        kwargs.setdefault("features_extractor_class", CombinedExtractor)
        super().__init__(observation_space, action_space, lr_schedule, **kwargs)


DiffusionPolicy = DiffusionActorCriticPolicy
MultiInputDiffusionPolicy = MultiInputDiffusionActorCriticPolicy
