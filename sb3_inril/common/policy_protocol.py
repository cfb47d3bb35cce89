"""The imitation protocol: what a policy tells IN-RIL about imitating with it.

IN-RIL's mechanism (:class:`sb3_inril.common.inril.InRILMixin`) never asks what kind of policy it
holds. It asks the policy, through the optional members listed in :class:`ImitationPolicy`, and
falls back to the algorithm family's reading of SB3's layout where the policy is silent. SB3's own
policies implement none of them and are imitated as SB3 lays them out (the actor-critic's
``mlp_extractor.policy_net`` and ``action_net``, SAC's ``actor``); a residual policy says that IL
trains its base and RL its residual; a diffusion policy says that it is imitated by its denoising
loss, which rollout buffer stores its chains, and what pre-training ends with.

A new kind of policy is a class that implements the members it needs: nothing in the package is
edited (``tests/test_policy_protocol.py`` adds one in the test file alone).
"""

from collections.abc import Callable
from typing import Any, ClassVar, Protocol

import torch as th
from gymnasium import spaces
from stable_baselines3.common.distributions import Distribution

#: The losses every policy with an SB3 action distribution (``"nll"``) or a deterministic Box
#: action (``"mse"``) can be imitated by; a policy adds its own through ``il_losses``.
GENERIC_IL_LOSSES = ("nll", "mse")

#: The protocol's methods (the class attributes are read with ``getattr`` and a default).
PROTOCOL_METHODS = frozenset(
    {
        "actor_parameters",
        "il_parameters",
        "rl_actor_parameters",
        "il_distribution",
        "il_deterministic_actions",
        "il_loss",
        "il_diagnostics",
        "on_pretrain_end",
        "rollout_buffer_class_for",
        "reset_episode_state",
    }
)


class ImitationPolicy(Protocol):
    """
    The members a policy may implement to say how IN-RIL imitates with it. Every member is
    optional: where a policy has none, the algorithm family's default applies (the default is
    named with each member). Tensors of observations are what SB3's ``obs_to_tensor`` gives
    (a tensor, or a dict of tensors for ``spaces.Dict``); actions are flattened, in the policy's
    action space (squashing policies: ``[-1, 1]``).
    """

    #: The IL loss when the user gives no ``il_loss`` (default: the algorithm's, ``"nll"``;
    #: ``"mse"`` for deterministic actors such as TD3's).
    default_il_loss: ClassVar[str]
    #: The losses the policy can be imitated by (default :data:`GENERIC_IL_LOSSES`). A loss other
    #: than ``"nll"`` and ``"mse"`` is computed by :meth:`il_loss`.
    il_losses: ClassVar[tuple[str, ...]]
    #: True when IL and RL train disjoint parameter sets (network separation, e.g. a residual
    #: policy): ``gradient_separation="residual"`` asks for such a policy, and gradient surgery
    #: is refused on one (default False).
    separates_il_and_rl: ClassVar[bool]
    #: IL imitates chunks of this many consecutive actions while the env takes one action a step
    #: (a residual policy over a chunk-planning diffusion base): per-step demonstrations are cut into
    #: such chunks when attached and validated as ``(H, *A)`` actions (default 1: the env's actions).
    il_action_chunk_size: int

    def actor_parameters(self) -> list[th.nn.Parameter]:
        """
        The actor's trainable parameters, features extractor included (default: the family's
        reading of SB3's layout: the actor-critic's ``pi_features_extractor``,
        ``mlp_extractor.policy_net``, ``action_net`` and ``log_std``; an off-policy ``actor``).
        """
        ...

    def il_parameters(self) -> list[th.nn.Parameter]:
        """The parameters IL updates (default: :meth:`actor_parameters`; a residual policy: its base)."""
        ...

    def rl_actor_parameters(self) -> list[th.nn.Parameter]:
        """
        The actor-side parameters RL updates, held during the critic warm-up (default: those of the
        actor's RL optimizer, less the critic's when it shares one; a residual policy: its residual).
        """
        ...

    def il_distribution(self, observations: Any) -> Distribution:
        """The action distribution ``il_loss="nll"`` scores demonstrations under (default: the actor's)."""
        ...

    def il_deterministic_actions(self, observations: Any) -> th.Tensor:
        """The differentiable deterministic action ``il_loss="mse"`` compares with demonstrations."""
        ...

    def il_loss(self, loss: str, observations: Any, actions: th.Tensor, generator: th.Generator | None = None) -> th.Tensor:
        """
        A loss of the policy's own (one of :attr:`il_losses` other than ``"nll"``/``"mse"``, e.g. a
        diffusion policy's ``"denoising"``), averaged over the batch.

        :param generator: when given, draw any noise from it (held-out evaluations pass a fixed one,
            so that they are comparable from one evaluation to the next and leave the global RNG alone)
        """
        ...

    def il_diagnostics(self, observations: Any) -> dict[str, float]:
        """Extra diagnostics on held-out demonstration observations, logged as ``train/<key>``."""
        ...

    def on_pretrain_end(self) -> None:
        """Called when behaviour-cloning pre-training ends (a diffusion policy freezes its early steps)."""
        ...

    @classmethod
    def rollout_buffer_class_for(cls, observation_space: spaces.Space, requested: type | None) -> type | None:
        """
        On-policy algorithms: the rollout buffer class to use, given the user's ``rollout_buffer_class``
        (None: SB3's choice); raise ``ValueError`` naming ``rollout_buffer_class`` when ``requested``
        can not serve the policy. After the buffer is built, a buffer with ``attach_policy`` is given
        the policy (and may refuse it with a ``ValueError``).
        """
        ...

    def reset_episode_state(self, episode_starts: Any) -> None:
        """
        Forget per-episode state (e.g. the action chunk being executed) for the rollout envs whose
        episode starts (a boolean array, one per env), before the policy acts in them again
        (default: the policy keeps none). The on-policy IN-RIL classes call it through
        :class:`sb3_inril.common.callbacks.EpisodeStartCallback`.
        """
        ...


def policy_hook(policy: Any, name: str) -> Callable[..., Any] | None:
    """
    The policy's (or policy class's) implementation of protocol method ``name``, or None where it
    leaves it to the algorithm.

    :raises KeyError: for a name that is not one of :data:`PROTOCOL_METHODS` (a typo would otherwise
        silently fall back to the default)
    """
    if name not in PROTOCOL_METHODS:
        raise KeyError(f"{name!r} is not a member of the imitation protocol: {sorted(PROTOCOL_METHODS)}")
    member = getattr(policy, name, None)
    return member if callable(member) else None


def il_losses_of(policy: Any) -> tuple[str, ...]:
    """The IL losses a policy (or policy class) can be imitated by."""
    return tuple(getattr(policy, "il_losses", GENERIC_IL_LOSSES))


def separates_il_and_rl(policy: Any) -> bool:
    """Whether a policy (or policy class) trains IL and RL on disjoint parameter sets."""
    return bool(getattr(policy, "separates_il_and_rl", False))
