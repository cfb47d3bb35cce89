"""The pieces of a DDPM/DDIM action diffusion model: the noise schedule, the samplers' timesteps,
one Gaussian denoising transition, and an MLP noise predictor ``eps_theta(x_t, t, s)``.

Everything here works on flattened actions in ``[-1, 1]`` (a chunk of H actions of dimension A is a
vector of H * A numbers) and on per-row timesteps, so that one batch may mix denoising steps (PPO's
minibatches over the denoising chain do).
"""

import math
from typing import Any, Literal

import numpy as np
import torch as th
from gymnasium import spaces
from torch import nn

BETA_SCHEDULES = ("cosine", "linear")
SAMPLERS = ("ddpm", "ddim")


def check_bounded_box(action_space: Any, owner: str) -> None:
    """
    A diffusion model denoises actions scaled to ``[-1, 1]``: its action space must be a Box with finite bounds.

    :param owner: who needs it, for the message (e.g. ``"a diffusion policy"``)
    :raises ValueError: naming ``action_space``
    """
    if not isinstance(action_space, spaces.Box):
        raise ValueError(f"action_space: {owner} needs a Box action space, found {action_space}")
    if not (np.all(np.isfinite(action_space.low)) and np.all(np.isfinite(action_space.high))):
        raise ValueError(f"action_space: {owner} scales actions to [-1, 1] and needs finite bounds, found {action_space}")


def cosine_beta_schedule(n_steps: int, s: float = 0.008) -> th.Tensor:
    """The cosine schedule of Nichol & Dhariwal (2021), as DPPO and diffusion policy use it."""
    steps = th.arange(n_steps + 1, dtype=th.float64)
    alphas_cumprod = th.cos(((steps / n_steps) + s) / (1 + s) * math.pi * 0.5) ** 2
    alphas_cumprod = alphas_cumprod / alphas_cumprod[0]
    betas = 1 - (alphas_cumprod[1:] / alphas_cumprod[:-1])
    return th.clamp(betas, 0.0, 0.999).float()


def linear_beta_schedule(n_steps: int) -> th.Tensor:
    """The linear schedule of Ho et al. (2020), rescaled to ``n_steps``."""
    scale = 1000 / n_steps
    return th.linspace(scale * 1e-4, scale * 0.02, n_steps, dtype=th.float64).clamp(0.0, 0.999).float()


class DiffusionSchedule(nn.Module):
    """
    The forward process ``x_t = sqrt(abar_t) x_0 + sqrt(1 - abar_t) eps`` over ``n_steps`` DDPM
    timesteps, and the reverse transitions of a DDPM or DDIM sampler.

    A sampler is a decreasing list of timesteps ``t_0 > t_1 > ... > t_{S-1} = 0`` (all ``n_steps`` of
    them for DDPM, ``ddim_steps`` evenly spaced ones for DDIM); step ``i`` goes from ``x_{t_i}`` to
    ``x_{t_{i+1}}`` (to the action ``x_0`` after the last).

    :param n_steps: T, the number of DDPM timesteps
    :param beta_schedule: ``"cosine"`` (DPPO's) or ``"linear"``
    :param denoised_clip_value: the predicted clean action is clipped to ``[-c, c]`` at every
        denoising step (1.0: the action bounds, as DPPO does); None: no clipping
    """

    betas: th.Tensor
    alphas_cumprod: th.Tensor
    alphas_cumprod_prev: th.Tensor

    def __init__(
        self,
        n_steps: int,
        beta_schedule: Literal["cosine", "linear"] = "cosine",
        denoised_clip_value: float | None = 1.0,
    ) -> None:
        super().__init__()
        self.n_steps = n_steps
        self.denoised_clip_value = denoised_clip_value
        betas = cosine_beta_schedule(n_steps) if beta_schedule == "cosine" else linear_beta_schedule(n_steps)
        alphas_cumprod = th.cumprod(1.0 - betas, dim=0)
        # Not saved in the state dict: they follow from the constructor arguments.
        self.register_buffer("betas", betas, persistent=False)
        self.register_buffer("alphas_cumprod", alphas_cumprod, persistent=False)
        self.register_buffer("alphas_cumprod_prev", th.cat([th.ones(1), alphas_cumprod[:-1]]), persistent=False)

    def sampler_timesteps(self, sampler: Literal["ddpm", "ddim"], ddim_steps: int | None = None) -> list[int]:
        """The decreasing timesteps a sampler visits (``ddim_steps`` of them for DDIM, evenly spaced)."""
        if sampler == "ddpm":
            return list(range(self.n_steps - 1, -1, -1))
        n = ddim_steps or self.n_steps
        ratio = self.n_steps // n
        return [i * ratio for i in range(n - 1, -1, -1)]

    def add_noise(self, x0: th.Tensor, t: th.Tensor, noise: th.Tensor) -> th.Tensor:
        """``x_t`` for clean actions ``x0``, per-row timesteps ``t`` and Gaussian ``noise``."""
        abar = self.alphas_cumprod[t].unsqueeze(-1)
        return abar.sqrt() * x0 + (1.0 - abar).sqrt() * noise

    def step_table(self, timesteps: list[int], sampler: Literal["ddpm", "ddim"], ddim_eta: float = 1.0) -> th.Tensor:
        """
        The coefficients of each step of a sampler's chain, computed once (in float64).

        Step ``i`` goes from ``x_{t_i}`` to ``x_{t_{i+1}}`` (the clean action after the last). With the
        predicted noise ``eps`` and the clean action it implies, ``x0 = (x - s1 eps) / s0`` (clipped):
        DDPM's posterior mean is ``a x0 + b x``, DDIM's ``a x0 + b eps'`` with ``eps'`` the noise the
        clipped ``x0`` implies; ``std`` is the step's noise scale before any floor.

        :return: (len(timesteps), 5): ``s0, s1, a, b, std`` per step
        """
        abar = self.alphas_cumprod.double()
        rows = []
        for i, t in enumerate(timesteps):
            abar_t = abar[t]
            abar_prev = abar[timesteps[i + 1]] if i + 1 < len(timesteps) else th.ones((), dtype=th.float64)
            s0, s1 = abar_t.sqrt(), (1.0 - abar_t).sqrt()
            if sampler == "ddpm":
                beta = 1.0 - abar_t / abar_prev  # beta_t when the chain visits every timestep
                a = beta * abar_prev.sqrt() / (1.0 - abar_t)
                b = (1.0 - abar_prev) * (1.0 - beta).sqrt() / (1.0 - abar_t)
                std = (beta * (1.0 - abar_prev) / (1.0 - abar_t)).clamp(min=0.0).sqrt()
            else:
                std = ddim_eta * ((1.0 - abar_prev) / (1.0 - abar_t) * (1.0 - abar_t / abar_prev)).clamp(min=0.0).sqrt()
                a, b = abar_prev.sqrt(), (1.0 - abar_prev - std**2).clamp(min=0.0).sqrt()
            rows.append(th.stack([s0, s1, a, b, std]))
        return th.stack(rows).float()

    def transition(
        self, x: th.Tensor, eps: th.Tensor, coefficients: th.Tensor | list[float], sampler: Literal["ddpm", "ddim"]
    ) -> tuple[th.Tensor, th.Tensor | float]:
        """
        Mean and standard deviation (before any floor) of one denoising step.

        :param x: ``x_t``, shape (batch, dim)
        :param eps: the denoiser's noise prediction at ``(x_t, t)``
        :param coefficients: the step's row of :meth:`step_table`: a (batch, 5) tensor (each row its
            own step) or one row as floats (every row the same step)
        :param sampler: ``"ddpm"`` or ``"ddim"``
        :return: ``(mean, std)``, the std (batch, 1) or a float
        """
        columns: list[th.Tensor] | list[float]
        if isinstance(coefficients, th.Tensor):
            columns = [coefficients[:, i : i + 1] for i in range(5)]
        else:
            columns = list(coefficients)
        s0, s1, a, b, std = columns
        x0 = (x - s1 * eps) / s0
        if self.denoised_clip_value is not None:
            x0 = x0.clamp(-self.denoised_clip_value, self.denoised_clip_value)
        if sampler == "ddpm":
            return a * x0 + b * x, std
        # DDIM: the noise implied by the (clipped) clean action, then a step along it.
        return a * x0 + b * ((x - s0 * x0) / s1), std


class SinusoidalTimeEmbedding(nn.Module):
    """The transformer's sinusoidal position embedding of the timestep, then a small MLP."""

    def __init__(self, dim: int, activation_fn: type[nn.Module] = nn.Mish) -> None:
        super().__init__()
        self.dim = dim
        self.mlp = nn.Sequential(nn.Linear(dim, dim * 2), activation_fn(), nn.Linear(dim * 2, dim))

    def forward(self, t: th.Tensor) -> th.Tensor:
        half = self.dim // 2
        scale = math.log(10000) / max(half - 1, 1)
        freqs = th.exp(th.arange(half, device=t.device, dtype=th.float32) * -scale)
        angles = t.float().unsqueeze(-1) * freqs.unsqueeze(0)
        embedding = th.cat([angles.sin(), angles.cos()], dim=-1)
        if self.dim % 2:
            embedding = th.cat([embedding, th.zeros_like(embedding[:, :1])], dim=-1)
        return self.mlp(embedding)


class MlpDenoiser(nn.Module):
    """
    ``eps_theta(x_t, t, s)``: an MLP on the noisy action, the timestep embedding and the
    observation's features.

    :param action_dim: dimension of the (flattened) action or action chunk
    :param condition_dim: dimension of the observation features it is conditioned on
    :param net_arch: hidden layer sizes
    :param activation_fn: activation (DPPO uses Mish)
    :param time_embedding_dim: size of the timestep embedding
    """

    def __init__(
        self,
        action_dim: int,
        condition_dim: int,
        net_arch: list[int],
        activation_fn: type[nn.Module] = nn.Mish,
        time_embedding_dim: int = 16,
    ) -> None:
        super().__init__()
        self.time_embedding = SinusoidalTimeEmbedding(time_embedding_dim, activation_fn)
        layers: list[nn.Module] = []
        last = action_dim + time_embedding_dim + condition_dim
        for size in net_arch:
            layers += [nn.Linear(last, size), activation_fn()]
            last = size
        layers.append(nn.Linear(last, action_dim))
        self.net = nn.Sequential(*layers)

    def forward(self, x: th.Tensor, t: th.Tensor, condition: th.Tensor) -> th.Tensor:
        return self.net(th.cat([x, self.time_embedding(t), condition], dim=-1))


def denoising_loss(
    denoiser: nn.Module,
    schedule: DiffusionSchedule,
    x0: th.Tensor,
    condition: th.Tensor,
    generator: th.Generator | None = None,
) -> th.Tensor:
    """
    The DDPM noise-prediction loss ``|| eps - eps_theta(x_t, t, s) ||^2`` of clean (flattened)
    actions ``x0`` in ``[-1, 1]``, ``t`` uniform over the schedule's T timesteps, ``eps ~ N(0, I)``:
    the IL loss of every diffusion policy of the package (DPPO's and IDQL's).

    :param condition: the observation features the denoiser is conditioned on, one row per action
    :param generator: draw ``t`` and ``eps`` from it (held-out losses use a fixed one, so that they
        are comparable from one evaluation to the next and draw nothing from the global RNG)
    """
    x0 = x0.reshape(x0.shape[0], -1)
    t = th.randint(0, schedule.n_steps, (x0.shape[0],), device=x0.device, generator=generator)
    noise = th.randn(x0.shape, device=x0.device, generator=generator)
    x_t = schedule.add_noise(x0, t, noise)
    return th.mean((denoiser(x_t, t, condition) - noise) ** 2)


def sample_ddpm(
    denoiser: nn.Module,
    schedule: DiffusionSchedule,
    condition: th.Tensor,
    action_dim: int,
    step_coefficients: list[list[float]],
    deterministic: bool = False,
    min_sampling_std: float = 0.1,
    randn_clip_value: float | None = 3.0,
    noise: th.Tensor | None = None,
) -> th.Tensor:
    """
    Actions drawn by the full DDPM chain from Gaussian noise, one per row of ``condition``, in
    ``[-1, 1]`` (the action is clipped after the last step).

    The noise scale of each step is DPPO's: the posterior std floored at ``min_sampling_std`` when
    exploring; when ``deterministic``, floored at 1e-3 and zero at the last step (a less noisy
    sample, still a sample: the chain starts from noise).

    :param step_coefficients: the rows of ``schedule.step_table(schedule.sampler_timesteps("ddpm"), "ddpm")``
    :param randn_clip_value: each step's noise is clipped to ``[-c, c]`` (None: not clipped)
    :param noise: the chain's standard normal draws, shape ``(n_steps + 1, rows, action_dim)``: the
        first starts the chain, the others are the steps' (clipped as drawn ones are); None: drawn
        from torch's generator
    """
    n_steps = len(step_coefficients)
    shape = (condition.shape[0], action_dim)
    if noise is not None and tuple(noise.shape) != (n_steps + 1, *shape):
        raise ValueError(
            f"noise: expected shape {(n_steps + 1, *shape)} (steps + 1, rows, action_dim), found {tuple(noise.shape)}"
        )
    x = th.randn(shape, device=condition.device) if noise is None else noise[0]
    for i, coefficients in enumerate(step_coefficients):
        t = th.full((x.shape[0],), n_steps - 1 - i, device=x.device, dtype=th.long)
        mean, std = schedule.transition(x, denoiser(x, t, condition), coefficients, "ddpm")
        last = i == n_steps - 1
        if deterministic:
            scale = 0.0 if last else max(float(std), 1e-3)
        else:
            scale = max(float(std), min_sampling_std)
        step_noise = th.randn_like(mean) if noise is None else noise[i + 1]
        if randn_clip_value is not None:
            step_noise = step_noise.clamp(-randn_clip_value, randn_clip_value)
        x = mean + scale * step_noise
    return x.clamp(-1.0, 1.0)
