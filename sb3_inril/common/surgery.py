"""Gradient surgery between the IL and the RL gradients of the actor (PCGrad rule), and the
adaptive interleaving interval that the measured agreement of the two gradients drives.

Both work on the gradients IN-RIL already computes: a pre-step hook on each optimizer reads the
gradient that is about to be applied, compares it with the latest gradient of the other kind and,
if asked, projects it, in place, before the optimizer uses it. No extra backward pass.
"""

from typing import TYPE_CHECKING, Any, Literal

import torch as th
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.logger import Logger
from torch.utils.hooks import RemovableHandle

from sb3_inril.common.schedule import is_inril_model

if TYPE_CHECKING:
    from sb3_inril.common.inril import InRILMixin

PROJECT_OPTIONS = ("il", "rl", "both", "none")
WHEN_OPTIONS = ("conflict", "always")
GRANULARITY_OPTIONS = ("global", "per_tensor")
REFERENCE_OPTIONS = ("last", "ema")


def project_gradient(
    gradient: th.Tensor, reference: th.Tensor, when: Literal["conflict", "always"] = "conflict", eps: float = 1e-20
) -> tuple[th.Tensor, th.Tensor]:
    """
    The PCGrad rule: ``g <- g - (g . r / |r|^2) r``, on conflict (``g . r < 0``) or always.

    Computed without a host-device synchronisation: a gradient that is not projected comes back
    bit for bit (``g - 0 * r``).

    :param gradient: the flat gradient to project
    :param reference: the flat gradient it must not work against
    :param when: ``"conflict"`` or ``"always"``
    :param eps: guards the division for a zero reference
    :return: the projected gradient and a bool tensor, True when it was projected
    """
    dot = th.dot(gradient, reference)
    norm_sq = th.dot(reference, reference)
    projected = norm_sq > eps
    if when == "conflict":
        projected = projected & (dot < 0)
    coefficient = th.where(projected, dot / norm_sq.clamp_min(eps), th.zeros_like(dot))
    return gradient - coefficient * reference, projected


class AdaptiveInterval:
    """
    An interleaving interval ``m`` driven by the measured agreement of the IL and RL gradients.

    The cosine ``rho`` between the IL gradient and the latest RL gradient is averaged with an
    exponential moving average (``decay``) at every IL step, and

    ``m = round(m_min + (m_max - m_min) * (1 - rho) / 2)``

    so that full agreement (``rho = 1``) gives ``m_min`` (IL often), opposition (``rho = -1``) gives
    ``m_max`` (more RL steps between IL steps), and orthogonal gradients the midpoint.

    :param m_min: smallest interval
    :param m_max: largest interval
    :param decay: EMA decay of the cosine
    :param initial_cos: the cosine assumed before any measurement
    """

    def __init__(self, m_min: int = 2, m_max: int = 30, decay: float = 0.9, initial_cos: float = 0.0) -> None:
        if not (isinstance(m_min, int) and isinstance(m_max, int) and 1 <= m_min <= m_max):
            raise ValueError(f"AdaptiveInterval: expected ints 1 <= m_min <= m_max, found m_min={m_min!r}, m_max={m_max!r}")
        if not 0.0 <= decay < 1.0:
            raise ValueError(f"AdaptiveInterval: decay expected in [0, 1), found {decay!r}")
        self.m_min, self.m_max, self.decay = m_min, m_max, decay
        self.cos_ema = float(initial_cos)
        self.n_updates = 0

    def update(self, cos: float) -> None:
        self.cos_ema = self.decay * self.cos_ema + (1.0 - self.decay) * float(cos)
        self.n_updates += 1

    @property
    def interval(self) -> int:
        return round(self.m_min + (self.m_max - self.m_min) * (1.0 - self.cos_ema) / 2.0)

    def __repr__(self) -> str:
        return f"AdaptiveInterval(m_min={self.m_min}, m_max={self.m_max}, decay={self.decay})"


class GradientSurgery(BaseCallback):
    """
    Separate conflicting IL and RL gradients of an IN-RIL model's actor (PCGrad rule).

    Pass it to ``learn(callback=...)`` (it attaches when training starts and detaches when it
    ends), or build the model with ``gradient_separation="surgery", surgery_kwargs={...}``.
    It registers a pre-step hook on the RL optimizer of the actor and on the IL optimizer; each
    hook flattens the gradient about to be applied (over the parameters that both losses touch),
    logs its cosine with the latest gradient of the other kind, and projects it if asked.

    :param project: which gradient is projected: ``"il"`` (against the latest RL gradient),
        ``"rl"`` (against the latest IL gradient), ``"both"``, or ``"none"`` (measure only)
    :param when: ``"conflict"`` (only if the dot product is negative) or ``"always"``
        (keep the orthogonal complement)
    :param granularity: ``"global"`` (one flat vector of all shared parameters) or ``"per_tensor"``
    :param reference: ``"last"`` gradient of the other kind, or an ``"ema"`` of them
    :param ema_decay: decay of the EMA reference
    :param verbose: verbosity
    """

    def __init__(
        self,
        project: Literal["il", "rl", "both", "none"] = "il",
        when: Literal["conflict", "always"] = "conflict",
        granularity: Literal["global", "per_tensor"] = "global",
        reference: Literal["last", "ema"] = "last",
        ema_decay: float = 0.9,
        verbose: int = 0,
    ) -> None:
        super().__init__(verbose)
        for name, value, options in [
            ("project", project, PROJECT_OPTIONS),
            ("when", when, WHEN_OPTIONS),
            ("granularity", granularity, GRANULARITY_OPTIONS),
            ("reference", reference, REFERENCE_OPTIONS),
        ]:
            if value not in options:
                raise ValueError(f"GradientSurgery: {name} expected one of {options}, found {value!r}")
        if not 0.0 <= ema_decay < 1.0:
            raise ValueError(f"GradientSurgery: ema_decay expected in [0, 1), found {ema_decay!r}")
        self.project, self.when, self.granularity, self.reference = project, when, granularity, reference
        self.ema_decay = ema_decay
        self._handles: list[RemovableHandle] = []
        self._attached_by_learn = False
        self.inril_model: InRILMixin | None = None

    # -- attaching ------------------------------------------------------------------------------
    def attach(self, model: "InRILMixin") -> None:
        """Hook into the optimizers of an IN-RIL model."""
        if not is_inril_model(model):
            raise TypeError(f"GradientSurgery: needs an IN-RIL model (InRILPPO, InRILSAC, ...), found {type(model).__name__}")
        if model.gradient_surgery is not None and model.gradient_surgery is not self:
            raise ValueError(
                "GradientSurgery: the model already has gradient surgery (gradient_separation='surgery' or an "
                "adaptive il_interval); configure it with surgery_kwargs instead of passing a second one"
            )
        self.detach()
        self.inril_model = model
        model.gradient_surgery = self
        self._params = model.il_parameters()
        self._references: dict[bool, tuple[tuple[bool, ...], th.Tensor, th.Tensor] | None] = {True: None, False: None}
        optimizers = {id(model.rl_actor_optimizer()): model.rl_actor_optimizer(), id(model.il_optimizer): model.il_optimizer}
        for optimizer in optimizers.values():
            self._handles.append(optimizer.register_step_pre_hook(self._before_step))
        self._reset_statistics()

    def detach(self) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles = []
        if self.inril_model is not None and self.inril_model.gradient_surgery is self:
            self.inril_model.gradient_surgery = None
        self.inril_model = None

    def _init_callback(self) -> None:
        self.attach(self.model)  # type: ignore[arg-type]  # checked by attach(): an IN-RIL model
        self._attached_by_learn = True
        # Detached however learn() ends: after an exception SB3 never calls on_training_end, and the hooks
        # stayed, projecting in every later learn() call (and refusing the next GradientSurgery).
        assert self.inril_model is not None
        self.inril_model.detach_when_learn_ends(self._on_training_end)

    def _on_step(self) -> bool:
        return True

    def _on_training_end(self) -> None:
        if self._attached_by_learn:
            self.detach()
            self._attached_by_learn = False

    # -- the hook ------------------------------------------------------------------------------
    # A reference is (which parameters had a gradient, the flat gradient over those, its norm).
    def _before_step(self, optimizer: th.optim.Optimizer, args: Any, kwargs: Any) -> None:
        model = self.inril_model
        assert model is not None
        is_il = model.interleaving.il_step_running
        grads = [param.grad for param in self._params]
        present = tuple(grad is not None for grad in grads)
        if not any(present):  # e.g. the critic warm-up dropped them
            return
        present_grads = [grad for grad in grads if grad is not None]
        flat = th.cat([grad.reshape(-1) for grad in present_grads])  # a new tensor: projection never writes it
        norm = th.linalg.vector_norm(flat)
        reference = self._references[not is_il]
        if reference is not None:
            reference_present, reference_flat, reference_norm = reference
            if reference_present == present:  # the usual case: the same parameters on both sides
                self._compare_and_project(is_il, present_grads, flat, norm, reference_flat, reference_norm)
            else:  # only the parameters that both gradients touch
                shared = [i for i, (a, b) in enumerate(zip(present, reference_present)) if a and b]
                if shared:
                    own = self._segments(present, grads)
                    other = self._segments(reference_present, grads)
                    shared_flat = th.cat([flat[own[i]] for i in shared])
                    shared_reference = th.cat([reference_flat[other[i]] for i in shared])
                    self._compare_and_project(
                        is_il,
                        [grads[i] for i in shared],  # type: ignore[misc]  # the shared parameters have gradients here
                        shared_flat,
                        th.linalg.vector_norm(shared_flat),
                        shared_reference,
                        th.linalg.vector_norm(shared_reference),
                    )
        self._update_reference(is_il, present, flat, norm)

    def _segments(self, present: tuple[bool, ...], grads: list[th.Tensor | None]) -> dict[int, slice]:
        """Where each present parameter's gradient lies in a flat vector built over ``present``."""
        segments, offset = {}, 0
        for i, (is_present, param) in enumerate(zip(present, self._params)):
            if is_present:
                segments[i] = slice(offset, offset + param.numel())
                offset += param.numel()
        return segments

    def _compare_and_project(
        self,
        is_il: bool,
        grads: list[th.Tensor],
        flat: th.Tensor,
        norm: th.Tensor,
        flat_reference: th.Tensor,
        reference_norm: th.Tensor,
    ) -> None:
        cos = th.dot(flat, flat_reference) / (norm * reference_norm).clamp_min(1e-20)
        stats = self._stats
        stats["cos_sum"] += cos
        stats["cos_min"] = th.minimum(stats["cos_min"], cos)
        stats["n_cos"] += 1
        model = self.inril_model
        if is_il and model is not None and model.adaptive_interval is not None:
            model.adaptive_interval.update(cos.item())
        if self.project not in ("both", "il" if is_il else "rl"):
            return
        if self.granularity == "global":
            new_flat, projected = project_gradient(flat, flat_reference, self.when)
            for grad, new in zip(grads, th.split(new_flat, [grad.numel() for grad in grads])):
                grad.copy_(new.view_as(grad))
        else:
            projected = th.zeros((), dtype=th.bool, device=flat.device)
            for grad, reference in zip(grads, th.split(flat_reference, [grad.numel() for grad in grads])):
                new, tensor_projected = project_gradient(grad.reshape(-1), reference, self.when)
                grad.copy_(new.view_as(grad))
                projected = projected | tensor_projected
        stats["il_projected" if is_il else "rl_projected"] += projected.float()

    def _update_reference(self, is_il: bool, present: tuple[bool, ...], flat: th.Tensor, norm: th.Tensor) -> None:
        # The reference is the gradient as computed (before any projection), as in PCGrad.
        key = "il" if is_il else "rl"
        self._stats[f"{key}_norm_sum"] += norm
        self._stats[f"n_{key}"] += 1
        old = self._references[is_il]
        if self.reference == "ema" and old is not None and old[0] == present:
            average = old[1].mul_(self.ema_decay).add_(flat, alpha=1 - self.ema_decay)
            self._references[is_il] = (present, average, th.linalg.vector_norm(average))
        else:
            self._references[is_il] = (present, flat, norm)

    # -- statistics -----------------------------------------------------------------------------
    def _reset_statistics(self) -> None:
        device = self._params[0].device
        zero = th.zeros((), device=device)
        self._stats: dict[str, Any] = {
            "cos_sum": zero.clone(),
            "cos_min": th.full((), float("inf"), device=device),
            "n_cos": 0,
            "il_projected": zero.clone(),
            "rl_projected": zero.clone(),
            "il_norm_sum": zero.clone(),
            "rl_norm_sum": zero.clone(),
            "n_il": 0,
            "n_rl": 0,
        }

    def statistics(self) -> dict[str, float]:
        """Statistics since the last reset: cosine (mean, min), projected fractions, gradient norms."""
        stats = self._stats
        result: dict[str, float] = {}
        if stats["n_cos"] > 0:
            result["grad_cos_mean"] = (stats["cos_sum"] / stats["n_cos"]).item()
            result["grad_cos_min"] = stats["cos_min"].item()
        for key in ("il", "rl"):
            if stats[f"n_{key}"] > 0:
                result[f"{key}_grad_norm"] = (stats[f"{key}_norm_sum"] / stats[f"n_{key}"]).item()
                result[f"{key}_projected_frac"] = (stats[f"{key}_projected"] / stats[f"n_{key}"]).item()
        return result

    def record(self, logger: Logger) -> None:
        """Record the statistics under ``train/`` and start a new logging window."""
        for key, value in self.statistics().items():
            logger.record(f"train/{key}", value)
        self._reset_statistics()
