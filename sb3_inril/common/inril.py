"""The one IN-RIL mechanism, shared by every algorithm of the package.

``InRILMixin`` goes, through an algorithm family's mixin, in front of an SB3 algorithm class
(``class InRILPPO(InRILOnPolicyMixin, PPO)``). It never copies the algorithm's training loop: it
registers a post-step hook on the optimizer that updates the actor, counts the RL gradient steps
there (:class:`sb3_inril.common.schedule.InterleavingState`), and after every ``il_interval`` of
them takes ``il_steps`` behaviour-cloning steps on demonstration minibatches with its own
optimizer (:class:`sb3_inril.common.behavior_cloning.ILLossCalculator`). Where the actor is, is
the family's business (:mod:`sb3_inril.common.on_policy`, :mod:`sb3_inril.common.off_policy`);
how demonstrations are attached and saved is :mod:`sb3_inril.common.attachment`'s.
"""

import inspect
import os
import warnings
from collections.abc import Callable
from typing import Any, ClassVar, Literal

import numpy as np
import torch as th
from gymnasium import spaces
from stable_baselines3.common.distributions import Distribution
from stable_baselines3.common.policies import BasePolicy
from stable_baselines3.common.save_util import load_from_zip_file
from stable_baselines3.common.type_aliases import GymEnv, Schedule
from stable_baselines3.common.utils import update_learning_rate

try:
    from stable_baselines3.common.utils import FloatSchedule
except ImportError:  # stable-baselines3 < 2.7: the same conversion under its older name
    from stable_baselines3.common.utils import get_schedule_fn as FloatSchedule  # type: ignore[assignment]  # the older name of the same conversion

from sb3_inril.common.attachment import DemonstrationAttachmentMixin
from sb3_inril.common.behavior_cloning import IL_LOSSES, ILLossCalculator, check_pretrain_arguments, pretrain_policy
from sb3_inril.common.policy_protocol import GENERIC_IL_LOSSES, il_losses_of, policy_hook, separates_il_and_rl
from sb3_inril.common.saving import AtomicSaveMixin
from sb3_inril.common.schedule import IL_INTERVAL_UNITS, InterleavingState
from sb3_inril.common.surgery import AdaptiveInterval, GradientSurgery
from sb3_inril.demos.buffer import DemonstrationBatch, TensorObservations
from sb3_inril.demos.demonstrations import Demonstrations, DemonstrationSource, DemonstrationSpec
from sb3_inril.demos.loading import detect_format
from sb3_inril.demos.replay import DemonstrationReplayBuffer
from sb3_inril.validation import (
    check_bool,
    check_choice,
    check_float,
    check_non_negative_int,
    check_optional_dict,
    check_positive_int,
    check_rate,
)

SEPARATIONS = (None, "surgery", "residual")
# Diagnostics (validation loss, drift) are computed on at most this many held-out pairs.
MAX_DIAGNOSTIC_BATCH = 2048


class InRILMixin(DemonstrationAttachmentMixin, AtomicSaveMixin):
    """
    Interleaved reinforcement and imitation learning (IN-RIL) for an SB3 algorithm.

    Not used directly: an algorithm family's mixin (:class:`sb3_inril.common.on_policy.InRILOnPolicyMixin`,
    :class:`sb3_inril.common.off_policy.InRILOffPolicyMixin`) says where its actor is, and an
    algorithm is a declaration, ``class InRILPPO(InRILOnPolicyMixin, PPO)``.

    The extension API (what surgery, callbacks, residual policies and new algorithms use):
    :meth:`il_parameters`, :meth:`rl_actor_optimizer`, :meth:`compute_il_loss`, :meth:`il_distribution`,
    :meth:`il_deterministic_actions`, :attr:`interleaving` (the schedule's public state) and
    :meth:`il_step`. An algorithm family implements ``rl_actor_optimizer``, ``_actor_parameters``,
    ``_actor_distribution``, ``_actor_deterministic_actions`` and, when it has them,
    ``_rl_actor_parameters``, ``_frozen_during_warmup`` and ``_features_extractor_shared_with_critic``:
    its reading of SB3's layout. The policy has the last word: what it says through the imitation
    protocol (:class:`sb3_inril.common.policy_protocol.ImitationPolicy`: which parameters IL trains,
    the distribution or loss it is imitated by, ...) overrides the family's reading, so that a new
    kind of policy needs no change here.

    :param demonstrations: expert demonstrations: what :func:`sb3_inril.load_demonstrations`
        returns, a path it reads (``.npz``, robomimic ``.hdf5``, imitation dataset directory or
        ``.pkl``, Minari dataset path or id), a dict of arrays, imitation's ``Transitions`` or a
        sequence of imitation ``Trajectory`` objects; for a ``spaces.Dict`` observation space, the
        observations are a dict of arrays per key. Paths (how a file was read, and a fingerprint of
        it) are recorded in the saved model and re-attached on ``load``, read when ``learn`` or
        ``pretrain`` first needs them; in-memory data is not saved. Without demonstrations the
        algorithm is its plain SB3 parent (with a warning) until ``set_demonstrations`` is called.
    :param il_interval: ``m``, the number of RL gradient steps between two IL injections.
        ``None`` turns interleaving off (the algorithm is then its plain SB3 parent).
        ``"adaptive"`` (or an :class:`sb3_inril.common.surgery.AdaptiveInterval`) lets the measured
        cosine between the IL and RL gradients set ``m``: more conflict, more RL steps between IL steps.
    :param il_steps: ``k``, the number of IL gradient steps per injection
    :param il_batch_size: demonstrations per IL minibatch (default: the RL batch size)
    :param il_learning_rate: learning rate of the IL optimizer, float or schedule of the remaining
        progress (default: the RL learning-rate schedule ``lr_schedule``, followed also when it is
        replaced after construction)
    :param il_loss: ``"nll"`` (negative log-likelihood of the demo action under the policy's action
        distribution), ``"mse"`` (squared error of the deterministic action) or ``"denoising"`` (the
        noise-prediction loss of a diffusion policy); default: the policy's ``default_il_loss`` when
        it has one (diffusion policies: ``"denoising"``), else the class's (``"nll"``; ``"mse"`` for
        deterministic actors such as TD3's)
    :param il_interval_unit: what ``il_interval`` counts: ``"gradient_step"`` (optimizer steps of the
        actor) or ``"train_call"`` (calls to ``train()``, i.e. rollouts for on-policy algorithms)
    :param il_max_grad_norm: clip the IL gradient to this norm (None: no clipping)
    :param il_share_optimizer: take IL steps with the RL optimizer (at the IL learning rate)
        instead of a separate Adam
    :param demo_val_fraction: fraction of demonstration episodes held out for ``train/il_val_loss``
        and ``train/policy_drift``
    :param critic_warmup_steps: for the first N RL gradient steps, update only the critics (value
        function): the actor's optimizer steps and the entropy coefficient's are skipped, and no IL
        step is taken, so that a random critic cannot drag a pre-trained actor away
    :param critic_warmup_unit: what ``critic_warmup_steps`` counts: ``"gradient_step"`` (RL optimizer
        steps) or ``"train_call"`` (calls to ``train()``: rollouts for on-policy algorithms, so that PPO's
        critic can fit the returns of the BC policy over whole rollouts before the actor moves)
    :param critic_warmup_learning_rate: the critics' learning rate during the warm-up (None: their
        own); for PPO, whose one optimizer holds actor and critic, the rate of the warm-up steps
    :param il_squash_margin: for policies that squash actions with tanh (SAC, TQC), demo actions
        are clipped to ``[-1 + margin, 1 - margin]`` in the squashed space, where the NLL is finite
    :param gradient_separation: ``"surgery"``: project conflicting IL and RL gradients (see
        :class:`sb3_inril.common.surgery.GradientSurgery`); ``"residual"``: a residual policy
        (``MlpPolicy`` becomes ``ResidualMlpPolicy``) whose base only IL trains and whose residual
        only RL trains (see :mod:`sb3_inril.common.residual`); None: no separation
    :param surgery_kwargs: options of the gradient surgery (``project``, ``when``, ``granularity``,
        ``reference``, ``ema_decay``)
    :param il_trains_shared_features: when the actor shares its features extractor with the
        critic (PPO's default, SAC/TQC with ``share_features_extractor=True``), IL steps update that
        extractor too, as the actor's RL loss does; this moves the critic's input features but never
        the critic's own layers. False: IL leaves a shared extractor alone (IL then trains only the
        actor's own layers). Actors with their own extractor are always trained whole.
    :param pretrain_kwargs: when given, the first ``learn()`` starts with ``pretrain(**pretrain_kwargs)``
        (once: a loaded model that was pre-trained does not pre-train again); this is how BC
        pre-training is configured from an rl-zoo YAML file
    :param kwargs: the arguments of the SB3 algorithm (``learning_rate``, ``batch_size``, ...)
    """

    #: The IL loss when ``il_loss`` is not given (deterministic actors: ``"mse"``).
    default_il_loss: ClassVar[str] = "nll"

    # Set by the SB3 algorithm this mixin goes with.
    policy: BasePolicy
    action_space: spaces.Space
    observation_space: spaces.Space
    device: th.device
    seed: int | None
    batch_size: int
    learning_rate: float | Schedule
    lr_schedule: Schedule
    verbose: int
    tensorboard_log: str | None
    _current_progress_remaining: float

    def __init__(
        self,
        policy: str | type[BasePolicy],
        env: GymEnv | str | None,
        *args: Any,
        demonstrations: DemonstrationSource | None = None,
        il_interval: int | Literal["adaptive"] | AdaptiveInterval | None = 10,
        il_steps: int = 1,
        il_batch_size: int | None = None,
        il_learning_rate: float | Schedule | None = None,
        il_loss: Literal["nll", "mse", "denoising"] | None = None,
        il_interval_unit: Literal["gradient_step", "train_call"] = "gradient_step",
        il_max_grad_norm: float | None = None,
        il_share_optimizer: bool = False,
        demo_val_fraction: float = 0.1,
        critic_warmup_steps: int = 0,
        critic_warmup_unit: Literal["gradient_step", "train_call"] = "gradient_step",
        critic_warmup_learning_rate: float | None = None,
        il_squash_margin: float = 1e-3,
        gradient_separation: Literal["surgery", "residual"] | None = None,
        surgery_kwargs: dict[str, Any] | None = None,
        il_trains_shared_features: bool = True,
        pretrain_kwargs: dict[str, Any] | None = None,
        _init_setup_model: bool = True,
        **kwargs: Any,
    ) -> None:
        # The IN-RIL arguments by name, read off the signature (INRIL_ARGUMENTS): their one list.
        given = locals()
        arguments = {name: given[name] for name in INRIL_ARGUMENTS}
        check_choice("gradient_separation", gradient_separation, SEPARATIONS)
        if gradient_separation == "residual":
            policy = self._residual_policy(policy)
        # The parent's arguments pass through untouched, so that a new SB3 release's arguments work too.
        # The IN-RIL arguments are keyword-only: positional arguments after ``env`` are the parent's.
        super().__init__(policy, env, *args, _init_setup_model=False, **kwargs)  # type: ignore[call-arg]  # the mixin's parent is the SB3 algorithm it goes in front of
        # Every argument is checked before anything else is built (the parent's are the parent's business).
        self.adaptive_interval = _adaptive_interval(il_interval)
        # A policy may name its own IL loss (a diffusion policy's is its denoising loss).
        policy_class = self.policy_class  # type: ignore[attr-defined]  # set by SB3's BaseAlgorithm
        loss_kind: str = self.default_il_loss if il_loss is None else il_loss
        if il_loss is None:
            loss_kind = getattr(policy_class, "default_il_loss", loss_kind)
        _check_arguments({**arguments, "il_loss": loss_kind}, policy_losses=il_losses_of(policy_class))
        # Without demonstrations a model built with none of these arguments is its parent exactly, down
        # to its warnings (code and tests written for PPO/SAC count them); one built with them asked
        # for imitation and is warned when learn() starts that none happens.
        self.inril_arguments_given = [name for name, value in arguments.items() if not _is_default(name, value)]
        self._preloaded_demonstrations: Demonstrations | None = None
        self.demonstrations = self._recordable(demonstrations)
        self.il_interval = il_interval if il_interval is None or self.adaptive_interval is not None else int(il_interval)  # type: ignore[arg-type]  # an int here: the other kinds were handled above
        self.il_steps = int(il_steps)
        self.il_batch_size = il_batch_size  # type: ignore[assignment]  # None until _setup_inril: the RL batch size
        self.il_learning_rate = il_learning_rate
        self.il_loss = loss_kind
        self.il_interval_unit = il_interval_unit
        self.il_max_grad_norm = il_max_grad_norm
        self.il_share_optimizer = il_share_optimizer
        self.demo_val_fraction = demo_val_fraction
        self.critic_warmup_steps = int(critic_warmup_steps)
        self.critic_warmup_unit = critic_warmup_unit
        self.critic_warmup_learning_rate = None if critic_warmup_learning_rate is None else float(critic_warmup_learning_rate)
        self.il_squash_margin = il_squash_margin
        self.gradient_separation = gradient_separation
        self.surgery_kwargs = surgery_kwargs
        self.il_trains_shared_features = bool(il_trains_shared_features)
        self.pretrain_kwargs = pretrain_kwargs
        self._pretrain_done = False
        # The schedule's counters, saved with the model like SB3's ``_n_updates``.
        self.interleaving = InterleavingState()
        self._demonstrations_fingerprint: dict[str, Any] | None = None
        self._demonstrations_left_out = False
        if _init_setup_model:
            self._setup_model()
            # Demonstrations given to the constructor are read and validated now, before any training.
            self.demo_buffer  # noqa: B018

    @classmethod
    def _residual_policy(cls, policy: str | type[BasePolicy]) -> str | type[BasePolicy]:
        """The residual counterpart of ``policy`` for ``gradient_separation="residual"``."""
        # A policy name with a residual counterpart in the algorithm's aliases (MlpPolicy, DiffusionPolicy, ...).
        if isinstance(policy, str) and f"Residual{policy}" in cls.policy_aliases:  # type: ignore[attr-defined]  # policy_aliases belongs to the SB3 algorithm class
            return f"Residual{policy}"
        if isinstance(policy, str) and policy.startswith("MultiInput"):
            counterpart = f"MultiInputResidual{policy.removeprefix('MultiInput')}"
            if counterpart in cls.policy_aliases:  # type: ignore[attr-defined]  # policy_aliases belongs to the SB3 algorithm class
                return counterpart
        policy_class = cls.policy_aliases.get(policy) if isinstance(policy, str) else policy  # type: ignore[attr-defined]  # policy_aliases belongs to the SB3 algorithm class
        if separates_il_and_rl(policy_class):
            return policy
        raise ValueError(
            f"gradient_separation: 'residual' needs a residual policy ('ResidualMlpPolicy', 'ResidualDiffusionPolicy', "
            f"or the name of a policy {cls.__name__} has a residual counterpart of), found {policy!r}"
        )

    @property
    def is_residual(self) -> bool:
        """True when the policy separates the networks (``separates_il_and_rl``): IL trains its base, RL its residual."""
        return separates_il_and_rl(self.policy)

    # ------------------------------------------------------------------------------------------
    # The extension API. An algorithm family implements the ``_actor_*`` methods and
    # ``rl_actor_optimizer``; the public methods below are what surgery, callbacks and users call.
    # ------------------------------------------------------------------------------------------
    def rl_actor_optimizer(self) -> th.optim.Optimizer:
        """The optimizer whose steps update the actor during RL (their count is ``m``'s unit)."""
        raise NotImplementedError(f"{type(self).__name__}: an algorithm family implements rl_actor_optimizer()")

    def _actor_parameters(self) -> list[th.nn.Parameter]:
        """The actor's parameters, its features extractor included."""
        raise NotImplementedError

    def _actor_distribution(self, observations: TensorObservations) -> Distribution:
        """The actor's action distribution for (preprocessed-by-SB3) observations."""
        raise NotImplementedError

    def _actor_deterministic_actions(self, observations: TensorObservations) -> th.Tensor:
        """The actor's deterministic action, differentiable, flattened as SB3's distributions give it."""
        raise NotImplementedError

    def _rl_actor_parameters(self) -> list[th.nn.Parameter]:
        """The actor's parameters the RL optimizer updates (held during the critic warm-up)."""
        return [param for group in self.rl_actor_optimizer().param_groups for param in group["params"]]

    def _frozen_during_warmup(self) -> list[th.optim.Optimizer]:
        """Optimizers, besides the actor's, whose steps are skipped during the critic warm-up."""
        return []

    def _critic_optimizers(self) -> list[th.optim.Optimizer]:
        """The optimizers that update the critics (PPO's: the one optimizer of actor and critic)."""
        return []

    def _features_extractor_shared_with_critic(self) -> th.nn.Module | None:
        """The actor's features extractor when the critic uses it too, else None."""
        return None

    def _check_actor(self, loss: str, argument: str = "il_loss") -> None:
        """Raise, naming ``argument``, before training when the actor can not take ``loss`` (e.g. NLL of a deterministic actor)."""

    def _check_il_loss(self, loss: str, argument: str = "il_loss") -> None:
        """
        Raise a ``ValueError`` naming ``argument`` when the model can not be imitated by ``loss``:
        ``"mse"`` without a Box action space, a loss the policy is not imitated by (not in its
        ``il_losses``), ``"nll"`` of a deterministic actor.

        The constructor's ``il_loss`` and the ``loss`` that ``pretrain`` and ``compute_il_loss`` take in
        its place are checked alike: unchecked, ``"mse"`` on Discrete actions failed inside torch, and on
        MultiBinary actions or a diffusion policy it trained nothing, silently (their deterministic
        action has no gradient).
        """
        if loss == "mse" and not isinstance(self.action_space, spaces.Box):
            raise ValueError(f"{argument}: 'mse' needs a Box action space, found {self.action_space}; use 'nll'")
        losses = il_losses_of(self.policy)
        if loss not in losses:
            known_elsewhere = loss in IL_LOSSES and loss not in GENERIC_IL_LOSSES
            raise ValueError(
                f"{argument}: {type(self.policy).__name__} is imitated by one of {losses}, found {argument}={loss!r}"
                + (" (a loss of another kind of policy)" if known_elsewhere else "")
            )
        self._check_actor(loss, argument)

    def _policy_or_family(self, name: str, family_default: Any) -> Any:
        """The policy's implementation of protocol method ``name``, else the family's ``family_default``."""
        hook = policy_hook(self.policy, name)
        return family_default if hook is None else hook

    def actor_parameters(self) -> list[th.nn.Parameter]:
        """The actor's parameters, its features extractor included (the policy's ``actor_parameters``, else the family's)."""
        return self._policy_or_family("actor_parameters", self._actor_parameters)()

    def rl_actor_parameters(self) -> list[th.nn.Parameter]:
        """The actor's parameters RL updates, held during the critic warm-up (a residual policy: its residual)."""
        return self._policy_or_family("rl_actor_parameters", self._rl_actor_parameters)()

    def il_parameters(self) -> list[th.nn.Parameter]:
        """
        The parameters IL updates: the policy's ``il_parameters`` (a residual policy's base), else the
        actor's; less a features extractor shared with the critic when ``il_trains_shared_features`` is False.
        """
        params = self._policy_or_family("il_parameters", self.actor_parameters)()
        shared = self._features_extractor_shared_with_critic()
        excluded = set() if shared is None or self.il_trains_shared_features else {id(p) for p in shared.parameters()}
        return [param for param in params if id(param) not in excluded]

    def il_distribution(self, observations: TensorObservations) -> Distribution:
        """The action distribution IL scores demonstrations under (``il_loss="nll"``; a residual policy's base's)."""
        return self._policy_or_family("il_distribution", self._actor_distribution)(observations)

    def il_deterministic_actions(self, observations: TensorObservations) -> th.Tensor:
        """The deterministic action IL compares with demonstrations (``il_loss="mse"``; a residual policy's base's)."""
        return self._policy_or_family("il_deterministic_actions", self._actor_deterministic_actions)(observations)

    def compute_il_loss(self, batch: DemonstrationBatch, loss: Literal["nll", "mse", "denoising"] | None = None) -> th.Tensor:
        """The IL loss of a demonstration batch (``il_loss``'s kind unless ``loss`` is given)."""
        if loss is not None:  # the constructor's checks of il_loss, for the loss that stands in for it here
            self._check_il_loss(loss, "loss")
        # The model's own calculator (made once in _setup_inril): the BC-regularisation callback calls this every RL step.
        calculator = self._il_loss_calculator if loss is None else ILLossCalculator(loss)
        return calculator(self, batch)

    def il_policy_loss(
        self, loss: str, observations: TensorObservations, actions: th.Tensor, generator: th.Generator | None = None
    ) -> th.Tensor:
        """
        A loss of the policy's own (its ``il_loss``, e.g. a diffusion policy's ``"denoising"``) of
        demonstration actions.

        :param generator: draw the loss's noise from it (held-out evaluations pass a fixed one)
        """
        hook = policy_hook(self.policy, "il_loss")
        if hook is None or loss not in il_losses_of(self.policy):
            raise ValueError(
                f"il_loss: {loss!r} is not a loss of {type(self.policy).__name__}, which is imitated by {il_losses_of(self.policy)}"
            )
        return hook(loss, observations, actions, generator)

    def il_denoising_loss(
        self, observations: TensorObservations, actions: th.Tensor, generator: th.Generator | None = None
    ) -> th.Tensor:
        """The noise-prediction loss of demonstration actions under a diffusion policy (``il_loss="denoising"``)."""
        return self.il_policy_loss("denoising", observations, actions, generator)

    def _deterministic_actor_message(self, argument: str = "il_loss") -> str:
        return f"{argument}: 'nll' needs a stochastic actor, {type(self.policy).__name__} is deterministic; use 'mse'"

    def _il_transform_actions(self, actions: np.ndarray) -> np.ndarray:
        """Validated (flattened) env actions to the policy's action space: squashing policies act in [-1, 1]."""
        space = self._il_action_space()  # the env's, or chunks of its actions where the policy imitates chunks
        if not (self.policy.squash_output and isinstance(space, spaces.Box)):
            return actions
        low, high = space.low.reshape(-1), space.high.reshape(-1)
        scaled = 2.0 * ((actions - low) / (high - low)) - 1.0  # SB3's scale_action, on flattened actions
        # Keep demo actions off the tanh asymptotes, where the NLL and its gradient blow up.
        bound = 1.0 - self.il_squash_margin
        return np.clip(scaled, -bound, bound)

    # ------------------------------------------------------------------------------------------
    # Set-up, saving
    # ------------------------------------------------------------------------------------------
    def _setup_model(self) -> None:
        self._read_replayed_demonstrations_as_the_il_steps_do()
        super()._setup_model()  # type: ignore[misc]  # the mixin's parent is the SB3 class it goes in front of
        self._setup_inril()

    def _read_replayed_demonstrations_as_the_il_steps_do(self) -> None:
        """
        A :class:`~sb3_inril.demos.replay.DemonstrationReplayBuffer` (RLPD) that reads a robomimic file
        reads it with the env's observation keys, as the IL steps do: SB3 gives a replay buffer the
        spaces only, and a robomimic file holds every key it recorded (Lift: 55 values, the env
        observes 19). Keys the user gives in ``demo_load_kwargs`` are kept.
        """
        buffer_class = getattr(self, "replay_buffer_class", None)
        if not (isinstance(buffer_class, type) and issubclass(buffer_class, DemonstrationReplayBuffer)):
            return
        kwargs = dict(getattr(self, "replay_buffer_kwargs", None) or {})
        source = kwargs.get("demonstrations")
        if not isinstance(source, (str, os.PathLike)) or detect_format(source) != "robomimic":
            return
        read_options = {**self._robomimic_read_options(), **(kwargs.get("demo_load_kwargs") or {})}
        self.replay_buffer_kwargs = {**kwargs, "demo_load_kwargs": read_options}

    def _setup_inril(self) -> None:
        # load(path, il_interval=..., ...) sets these attributes without the constructor: checked here as the
        # constructor checks them, and the adaptive interval made to follow il_interval (unchecked,
        # il_interval="adaptive" failed with a TypeError at the first RL step, and a fixed il_interval given
        # to an adaptive model was ignored).
        self._follow_il_interval()
        arguments = {name: getattr(self, name) for name in INRIL_ARGUMENTS}
        _check_arguments(arguments, policy_losses=il_losses_of(self.policy))
        self._check_il_loss(self.il_loss)
        if self.pretrain_kwargs is not None and self.pretrain_kwargs.get("loss") is not None:
            # Checked here, not at the first learn() that pre-trains (an rl-zoo YAML's mistake, found before any step).
            self._check_il_loss(self.pretrain_kwargs["loss"], "pretrain_kwargs['loss']")
        if self.pretrain_kwargs is not None:
            # The other values too (unchecked, pretrain_kwargs={'n_epochs': 'x'} in a zoo YAML failed at the
            # first learn(), after the envs and the model were built, as "n_epochs: ..." which reads like the
            # algorithm's own n_epochs).
            try:
                check_pretrain_arguments(self, **{key: value for key, value in self.pretrain_kwargs.items() if key != "loss"})
            except (TypeError, ValueError) as error:
                raise type(error)(f"pretrain_kwargs: {error}") from error
        if self.is_residual and self.gradient_separation not in (None, "residual"):
            raise ValueError(
                f"gradient_separation: a residual policy separates IL and RL by construction, found gradient_separation={self.gradient_separation!r}"
            )
        if self.is_residual:
            self.gradient_separation = "residual"
        self.il_batch_size = self.il_batch_size or getattr(self, "batch_size", 64)
        self._adopt_old_counters()
        self._il_loss_calculator = ILLossCalculator(self.il_loss)
        # A path given to load(demonstrations=PATH) is recorded like one given to the constructor.
        self.demonstrations = self._recordable(self.demonstrations)
        self._demo_buffer = None
        # The reference for ``train/policy_drift``: the policy at the end of pre-training (or at
        # creation), made before any hook is registered, so it carries none.
        self.pretrained_policy = self._copy_policy()
        self._il_params = self.il_parameters()
        if self.il_share_optimizer:
            self.il_optimizer = self.rl_actor_optimizer()
        else:
            self.il_optimizer = th.optim.Adam(self._il_params, lr=self.il_lr_schedule(1.0))
        # Registered first: on an optimizer shared with the actor (PPO) it must see the warm-up step
        # before the actor's hook counts it.
        self._warmup_saved_learning_rates: list[float] | None = None
        for optimizer in self._critic_optimizers():
            optimizer.register_step_pre_hook(self._before_critic_optimizer_step)
            optimizer.register_step_post_hook(self._after_critic_optimizer_step)
        self.rl_actor_optimizer().register_step_pre_hook(self._before_rl_optimizer_step)
        self.rl_actor_optimizer().register_step_post_hook(self._on_rl_optimizer_step)
        for optimizer in self._frozen_during_warmup():
            optimizer.register_step_pre_hook(self._before_frozen_optimizer_step)
        self.interleaving.il_step_running = self.interleaving.rl_step_skipped = False
        # Gradient surgery measures the IL/RL cosine, which the adaptive interval needs too.
        self.gradient_surgery: GradientSurgery | None = None
        if self.gradient_separation == "surgery":
            GradientSurgery(**(self.surgery_kwargs or {})).attach(self)
        elif self.adaptive_interval is not None:
            GradientSurgery(project="none").attach(self)
        self._il_loss_sum = th.zeros((), device=self.device)
        self._il_loss_count = 0

    def _follow_il_interval(self) -> None:
        """The adaptive interval ``il_interval`` asks for: a saved model's own (its measured cosine) when
        it stays ``"adaptive"``, the :class:`AdaptiveInterval` given, a new one, or none for a fixed interval."""
        if isinstance(self.il_interval, AdaptiveInterval):
            self.adaptive_interval = self.il_interval
        elif self.il_interval != "adaptive" or not isinstance(self.adaptive_interval, AdaptiveInterval):
            self.adaptive_interval = _adaptive_interval(self.il_interval)

    def _adopt_old_counters(self) -> None:
        """A model saved before the schedule had its own state kept its counters as attributes."""
        for old, new in (
            ("_n_rl_updates", "n_rl_updates"),
            ("_n_il_updates", "n_il_updates"),
            ("_rl_units_since_il", "units_since_il"),
            ("_n_warmup_steps_done", "n_warmup_steps_done"),
        ):
            if old in self.__dict__:
                setattr(self.interleaving, new, int(self.__dict__.pop(old)))

    def _copy_policy(self) -> BasePolicy:
        """
        A frozen copy of the policy, rebuilt from its constructor parameters (as SB3's policy
        ``load`` does) rather than deep-copied: gSDE's exploration matrices are not graph leaves and
        can not be deep-copied. The construction draws no number from the global RNGs (forked),
        so that a model with IL off stays its parent bit for bit.
        """
        devices = [self.device] if self.device.type == "cuda" else []
        with th.random.fork_rng(devices=devices):
            reference = type(self.policy)(**self.policy._get_constructor_parameters())
        reference.load_state_dict(self.policy.state_dict())
        reference.to(self.device)
        reference.set_training_mode(False)
        reference.requires_grad_(False)
        return reference

    @property
    def il_lr_schedule(self) -> Schedule:
        """The IL learning-rate schedule: ``il_learning_rate``'s, or the RL one in force now."""
        if self.il_learning_rate is None:
            return self.lr_schedule
        return FloatSchedule(self.il_learning_rate)

    def reset_drift_reference(self) -> None:
        """Make the current policy the reference of ``train/policy_drift`` (``pretrain`` does this)."""
        self.pretrained_policy.load_state_dict(self.policy.state_dict())

    def _excluded_save_params(self) -> list[str]:
        excluded = super()._excluded_save_params() + [  # type: ignore[misc]  # the mixin's parent is the SB3 class it goes in front of
            "_demo_buffer",
            "_il_params",
            "_il_loss_sum",
            "_il_loss_count",
            "_il_loss_calculator",
            "gradient_surgery",
            "_preloaded_demonstrations",
            "_warned_no_demonstrations",
            "_learn_detachers",  # the clean-ups of the running learn() call's callbacks (a checkpoint saved during it)
        ]
        if not isinstance(self.demonstrations, (str, DemonstrationSpec)):
            # In-memory demonstrations are not pickled into the zip: pass them again to load().
            excluded.append("demonstrations")
        return excluded

    def _inril_state_dicts(self) -> list[str]:
        """The state dicts IN-RIL saves on top of its parent's: the drift reference and the IL optimizer."""
        return ["pretrained_policy"] + ([] if self.il_share_optimizer else ["il_optimizer"])

    def _get_torch_save_params(self) -> tuple[list[str], list[str]]:
        state_dicts, variables = super()._get_torch_save_params()  # type: ignore[misc]  # the mixin's parent is the SB3 class it goes in front of
        return state_dicts + self._inril_state_dicts(), variables

    def set_parameters(self, load_path_or_dict: Any, exact_match: bool = True, device: th.device | str = "auto") -> None:
        """
        SB3's ``set_parameters`` (a zip file or ``get_parameters()``'s dict). The parameters of a model of
        the parent algorithm with the same kind of policy (a plain PPO's zip: every state dict of the
        parent, none of IN-RIL's) are taken, with a warning, as those of a model that has not interleaved
        yet: the drift reference becomes the loaded policy, the IL optimizer starts afresh. So
        ``InRILPPO.load("ppo_model", env=..., demonstrations=...)`` fine-tunes a PPO model with IN-RIL
        (where ``load`` failed on the names of the parameters).
        """
        if isinstance(load_path_or_dict, dict):
            params = load_path_or_dict
        else:
            _, params, _ = load_from_zip_file(load_path_or_dict, device=device, load_data=False)
        own = self._inril_state_dicts()
        parents = set(self._get_torch_save_params()[0]) - set(own)
        known_policy = type(self.policy) in self.policy_aliases.values()  # type: ignore[attr-defined]  # policy_aliases belongs to the SB3 algorithm class
        if exact_match and set(params) == parents and known_policy:
            super().set_parameters(params, exact_match=False, device=device)  # type: ignore[misc]  # the mixin's parent is the SB3 class it goes in front of
            self.reset_drift_reference()
            warnings.warn(
                f"{type(self).__name__}: the parameters of a {self._parent_name()} model, without IN-RIL's {own}: "
                "taken as a model that has not interleaved yet (drift reference: the loaded policy; a new IL optimizer)",
                stacklevel=2,
            )
            return
        super().set_parameters(params, exact_match=exact_match, device=device)  # type: ignore[misc]  # the mixin's parent is the SB3 class it goes in front of

    # ------------------------------------------------------------------------------------------
    # The interleaving
    # ------------------------------------------------------------------------------------------
    def check_ready_for_il(self, what: str) -> None:
        """Raise, naming ``what`` needs them, when the model has no demonstrations."""
        if self.demo_buffer is None:
            raise ValueError(
                f"demonstrations: {what} needs demonstrations, found None. Pass demonstrations=... to the "
                "constructor (or to load()), or call set_demonstrations(...)"
            )

    @property
    def in_critic_warmup(self) -> bool:
        """True while the first ``critic_warmup_steps`` RL gradient steps (or ``train()`` calls, with
        ``critic_warmup_unit="train_call"``) update only the critics."""
        if self.critic_warmup_unit == "train_call":
            return self.interleaving.n_warmup_train_calls_done < self.critic_warmup_steps
        return self.interleaving.in_critic_warmup(self.critic_warmup_steps)

    def _before_critic_optimizer_step(self, optimizer: th.optim.Optimizer, args: Any, kwargs: Any) -> None:
        """During the warm-up, the critics learn at ``critic_warmup_learning_rate`` (put back after the step)."""
        if self.critic_warmup_learning_rate is None or self.interleaving.il_step_running or not self.in_critic_warmup:
            return
        self._warmup_saved_learning_rates = [group["lr"] for group in optimizer.param_groups]
        for group in optimizer.param_groups:
            group["lr"] = self.critic_warmup_learning_rate

    def _after_critic_optimizer_step(self, optimizer: th.optim.Optimizer, args: Any, kwargs: Any) -> None:
        saved, self._warmup_saved_learning_rates = self._warmup_saved_learning_rates, None
        if saved is not None:
            for group, learning_rate in zip(optimizer.param_groups, saved):
                group["lr"] = learning_rate

    @staticmethod
    def _drop_gradients(params: Any) -> None:
        # torch optimizers skip parameters without a gradient: no update, no change of their state.
        for param in params:
            param.grad = None

    def _before_rl_optimizer_step(self, optimizer: th.optim.Optimizer, args: Any, kwargs: Any) -> None:
        """Pre-step hook on the RL optimizer of the actor: during the critic warm-up, the actor stays put."""
        if self.interleaving.il_step_running or not self.in_critic_warmup:
            return
        self._drop_gradients(self.rl_actor_parameters())
        self.interleaving.n_warmup_steps_done += 1
        self.interleaving.rl_step_skipped = True

    def _before_frozen_optimizer_step(self, optimizer: th.optim.Optimizer, args: Any, kwargs: Any) -> None:
        if self.in_critic_warmup:
            self._drop_gradients(param for group in optimizer.param_groups for param in group["params"])

    def _on_rl_optimizer_step(self, optimizer: th.optim.Optimizer, args: Any, kwargs: Any) -> None:
        """Post-step hook on the RL optimizer of the actor: one RL update has just been applied."""
        state = self.interleaving
        if state.il_step_running:  # the IL step itself, when it shares the RL optimizer
            return
        if state.rl_step_skipped:  # critic warm-up: the actor was not updated
            state.rl_step_skipped = False
            return
        state.n_rl_updates += 1
        if self.il_interval_unit == "gradient_step":
            self._count_rl_unit()

    @property
    def current_il_interval(self) -> int | None:
        """The interleaving interval ``m`` in force now (None: no interleaving)."""
        if self.adaptive_interval is not None:
            return self.adaptive_interval.interval
        return self.il_interval  # type: ignore[return-value]  # an int or None once the adaptive case is handled

    def _count_rl_unit(self) -> None:
        if self._demo_buffer is None:  # no demonstrations: plain RL
            return
        if self.interleaving.count_unit(self.current_il_interval):
            for _ in range(self.il_steps):
                self.il_step()

    def il_step(self) -> None:
        """One IL gradient step on a fresh demonstration minibatch (the schedule calls it)."""
        self.check_ready_for_il("il_step()")
        assert self.demo_buffer is not None
        batch = self.demo_buffer.sample(self.il_batch_size)
        params = self._il_params
        # Set the RL gradients aside (references, no copies) and put them back afterwards, so that
        # whatever runs after the RL step still sees the RL gradients.
        rl_grads = [param.grad for param in params]
        for param in params:
            param.grad = None
        self.interleaving.il_step_running = True
        try:
            with th.enable_grad():
                loss = self._il_loss_calculator(self, batch)
                loss.backward()
            if self.il_max_grad_norm is not None:
                th.nn.utils.clip_grad_norm_(params, self.il_max_grad_norm)
            if self.il_share_optimizer:
                rl_lrs = [group["lr"] for group in self.il_optimizer.param_groups]
                update_learning_rate(self.il_optimizer, self.il_lr_schedule(self._current_progress_remaining))
                self.il_optimizer.step()
                for group, lr in zip(self.il_optimizer.param_groups, rl_lrs):
                    group["lr"] = lr
            else:
                self.il_optimizer.step()
        finally:
            self.interleaving.il_step_running = False
            for param, grad in zip(params, rl_grads):
                param.grad = grad
        self.interleaving.n_il_updates += 1
        self._il_loss_sum += loss.detach()  # no .item(): no device sync on the hot path
        self._il_loss_count += 1

    def train(self, *args: Any, **kwargs: Any) -> None:
        if not self.il_share_optimizer:
            update_learning_rate(self.il_optimizer, self.il_lr_schedule(self._current_progress_remaining))
        warming_up = self.in_critic_warmup  # a call that starts in the warm-up is a warm-up call
        super().train(*args, **kwargs)  # type: ignore[misc]  # the mixin's parent is the SB3 class it goes in front of
        if warming_up and self.critic_warmup_unit == "train_call":
            self.interleaving.n_warmup_train_calls_done += 1
        if self.il_interval_unit == "train_call" and not warming_up:  # no IL step in the warm-up
            self._count_rl_unit()

    def _setup_learn(self, *args: Any, **kwargs: Any) -> Any:
        # Read and validated before the first step, not in the middle of a run.
        if self.demo_buffer is None and self.il_interval is not None and not getattr(self, "_warned_no_demonstrations", False):
            message = (
                f"{type(self).__name__}: no demonstrations, so no IL step is taken: this learns as plain "
                f"{self._parent_name()} (pass demonstrations=... or call set_demonstrations(...) to interleave)"
            )
            given = getattr(self, "inril_arguments_given", [])  # absent from models saved before it existed
            if getattr(self, "_demonstrations_left_out", False):
                # A model that interleaved with in-memory demonstrations, loaded without them: said whatever its
                # arguments (with the defaults it went on as plain RL without a word).
                warnings.warn(
                    f"{message}; the model was saved with in-memory demonstrations, which are not saved with it: pass "
                    "them again with load(..., demonstrations=...)",
                    stacklevel=3,
                )
            elif given:
                warnings.warn(f"{message}; IN-RIL arguments given: {', '.join(given)}", stacklevel=3)
            elif self.verbose >= 1:
                print(message)
            self._warned_no_demonstrations = True
        if self.pretrain_kwargs is not None and not self._pretrain_done:
            # Before the parent's set-up: its env reset would already move VecNormalize statistics.
            self.pretrain(**self.pretrain_kwargs)
        return super()._setup_learn(*args, **kwargs)  # type: ignore[misc]  # the mixin's parent is the SB3 class it goes in front of

    def learn(self, *args: Any, **kwargs: Any) -> Any:
        """
        SB3's ``learn``; what its callbacks attached to the model (:meth:`detach_when_learn_ends`) is
        detached however the call ends. SB3 calls ``on_training_end`` only when ``learn()`` returns:
        after an exception (a callback that raises, a ``KeyboardInterrupt``) a ``BCRegularization``'s
        BC term and a ``GradientSurgery`` callback's projection stayed on the optimizers and acted in
        every later ``learn()`` call, and the next ``GradientSurgery`` was refused.
        """
        self._learn_detachers: list[Callable[[], None]] | None = []
        try:
            return super().learn(*args, **kwargs)  # type: ignore[misc]  # the mixin's parent is the SB3 class it goes in front of
        finally:
            detachers, self._learn_detachers = self._learn_detachers or [], None
            for detach in reversed(detachers):
                detach()

    def detach_when_learn_ends(self, detach: Callable[[], None]) -> None:
        """
        Call ``detach`` when the running ``learn()`` call ends, by returning or by an exception: a
        callback that hooks into the model's optimizers registers its clean-up here. Outside
        ``learn()`` (a callback attached by hand with ``init_callback``) nothing is registered:
        detaching is then the caller's.

        :param detach: the clean-up, safe to call when it has already run (``on_training_end``)
        """
        detachers = getattr(self, "_learn_detachers", None)  # absent from models built before learn() ran
        if detachers is not None:
            detachers.append(detach)

    def _parent_name(self) -> str:
        """The SB3 algorithm this class extends (PPO, SAC, ...)."""
        return next(
            base.__name__ for base in type(self).__mro__ if hasattr(base, "learn") and not issubclass(base, InRILMixin)
        )

    # ------------------------------------------------------------------------------------------
    # Logging
    # ------------------------------------------------------------------------------------------
    def dump_logs(self, *args: Any, **kwargs: Any) -> None:
        self._record_inril_logs()
        super().dump_logs(*args, **kwargs)  # type: ignore[misc]  # the mixin's parent is the SB3 class it goes in front of

    def _record_inril_logs(self) -> None:
        logger = self.logger  # type: ignore[attr-defined]  # SB3's BaseAlgorithm sets it
        logger.record("train/n_rl_updates", self.interleaving.n_rl_updates)
        logger.record("train/n_il_updates", self.interleaving.n_il_updates)
        if self.critic_warmup_steps > 0:
            logger.record("train/critic_warmup_steps_done", self.interleaving.n_warmup_steps_done)
        if self.il_interval is not None:
            logger.record("train/il_interval", self.current_il_interval)
            logger.record("train/il_learning_rate", self.il_lr_schedule(self._current_progress_remaining))
        if self.gradient_surgery is not None:
            self.gradient_surgery.record(logger)
        if self._il_loss_count > 0:
            logger.record("train/il_loss", (self._il_loss_sum / self._il_loss_count).item())
            self._il_loss_sum.zero_()
            self._il_loss_count = 0
        diagnostics = self.il_diagnostics()
        for key, value in diagnostics.items():
            logger.record(f"train/{key}", value)

    def il_diagnostics(self) -> dict[str, float]:
        """
        IL loss on the held-out demonstrations and drift from the pre-trained policy.

        :return: ``{"il_val_loss": ..., "policy_drift": ...}`` (empty without held-out demonstrations),
            plus the policy's own ``il_diagnostics`` (residual policies: ``residual_norm``, the mean
            norm of ``scale * residual``).
            The drift is the mean L2 distance between the deterministic actions of the current and
            the pre-trained policy (the fraction of differing actions for discrete action spaces).
        """
        if self.demo_buffer is None:
            return {}
        batch = self.demo_buffer.validation_batch(MAX_DIAGNOSTIC_BATCH)
        if batch is None:
            return {}
        # Diagnostics draw nothing from the global RNGs (a policy that samples to act, IDQL's, would
        # otherwise make a run with logging differ from one without).
        devices = [self.device] if self.device.type == "cuda" else []
        with th.no_grad(), th.random.fork_rng(devices=devices):
            val_loss = self._il_loss_calculator(self, batch, held_out=True).item()
            actions = self.policy._predict(batch.observations, deterministic=True)
            reference = self.pretrained_policy._predict(batch.observations, deterministic=True)
            if isinstance(self.action_space, spaces.Box):
                drift = th.linalg.vector_norm((actions - reference).flatten(1).float(), dim=1).mean().item()
            else:
                drift = (actions != reference).float().mean().item()
            diagnostics = {"il_val_loss": val_loss, "policy_drift": drift}
            policy_diagnostics = policy_hook(self.policy, "il_diagnostics")
            if policy_diagnostics is not None:
                diagnostics.update(policy_diagnostics(batch.observations))
        return diagnostics

    # ------------------------------------------------------------------------------------------
    # Behaviour-cloning pre-training
    # ------------------------------------------------------------------------------------------
    def pretrain(
        self,
        n_epochs: int | None = None,
        n_steps: int | None = None,
        batch_size: int | None = None,
        learning_rate: float = 1e-3,
        loss: Literal["nll", "mse", "denoising"] | None = None,
        log_std: float | None = None,
        init_vec_normalize: bool = True,
        progress_bar: bool | None = None,
        max_epochs: int | None = None,
        patience: int | None = None,
        min_delta: float | None = None,
    ) -> dict[str, Any]:
        """
        Behaviour cloning of the actor on the demonstrations, before (or between) RL runs.

        By default (neither ``n_epochs`` nor ``n_steps``) it trains until the held-out IL loss
        (``demo_val_fraction`` of the episodes; the training loss, with a warning, when nothing is
        held out) has not improved by ``min_delta`` for ``patience`` epochs, within ``max_epochs``,
        and leaves the policy with the weights of its best epoch; a ``UserWarning`` says when the
        budget ran out while the loss was still improving. A loss that diverges (non-finite, over
        1,000 times its first value, or a distribution with non-finite parameters) raises
        :class:`~sb3_inril.common.behavior_cloning.PretrainDivergedError` (a ``ValueError``) with the
        policy and VecNormalize statistics put back. The pre-trained policy becomes the reference of
        ``train/policy_drift``.

        :param n_epochs: exactly this many passes over the training demonstrations (no early stopping)
        :param n_steps: exactly this many gradient steps (no early stopping)
        :param batch_size: minibatch size (default: ``il_batch_size``)
        :param learning_rate: learning rate of the pre-training Adam (its own, fresh optimizer)
        :param loss: ``"nll"``, ``"mse"`` or ``"denoising"`` (default: ``il_loss``)
        :param log_std: afterwards, set the policy's state-independent ``log_std`` to this value so
            that the first rollouts do not explore so widely that they wreck the cloned behaviour
        :param init_vec_normalize: when the env is wrapped in ``VecNormalize`` whose statistics have
            not seen data yet, initialise them from the demonstration observations first
        :param progress_bar: show a tqdm progress bar (default: when stderr is a terminal)
        :param max_epochs: early stopping's budget in epochs (default 500)
        :param patience: early stopping: epochs without a significant improvement before stopping (default
            20; an epoch of fewer than 50 gradient steps counts as that fraction of one)
        :param min_delta: early stopping: the relative improvement that counts (default 1e-3)
        :return: ``n_steps``, ``n_epochs``, ``stop_reason`` (``"converged"``, ``"max_epochs"``,
            ``"n_epochs"`` or ``"n_steps"``), ``criterion`` (``"val_loss"`` or ``"train_loss"``),
            ``best_epoch`` and ``best_val_loss`` (0 and the initial loss when no epoch beat the
            policy as it was), ``initial_val_loss``, ``final_train_loss``, ``final_val_loss``,
            ``loss_history`` and ``val_loss_history`` (per epoch) and ``wall_time_s``; the same go
            to the logger under ``pretrain/``
        """
        if loss is not None:  # the constructor's checks of il_loss, for the loss that stands in for it here
            self._check_il_loss(loss, "loss")
        stats = pretrain_policy(
            self,
            n_epochs=n_epochs,
            n_steps=n_steps,
            batch_size=batch_size,
            learning_rate=learning_rate,
            loss=loss,
            log_std=log_std,
            init_vec_normalize=init_vec_normalize,
            progress_bar=progress_bar,
            max_epochs=max_epochs,
            patience=patience,
            min_delta=min_delta,
        )
        on_pretrain_end = policy_hook(self.policy, "on_pretrain_end")
        if on_pretrain_end is not None:  # e.g. a diffusion policy freezes the copy of its early denoising steps
            on_pretrain_end()
        self._pretrain_done = True
        return stats


# What ``pretrain_kwargs`` (and an rl-zoo YAML) may hold: pretrain's own arguments.
PRETRAIN_ARGUMENTS = set(inspect.signature(InRILMixin.pretrain).parameters) - {"self"}


_INIT_PARAMETERS = inspect.signature(InRILMixin.__init__).parameters
#: The names of the IN-RIL constructor arguments (keyword-only; ``demonstrations`` aside), read off
#: the signature: their one list (the zoo's keys and the "arguments given" warning use it too).
INRIL_ARGUMENTS: tuple[str, ...] = tuple(
    name
    for name, parameter in _INIT_PARAMETERS.items()
    if parameter.kind is inspect.Parameter.KEYWORD_ONLY and name not in ("demonstrations", "_init_setup_model")
)
#: The defaults of the constructor's arguments, read once.
_INIT_DEFAULTS = {name: parameter.default for name, parameter in _INIT_PARAMETERS.items()}


def _is_default(name: str, value: Any) -> bool:
    """Whether ``value`` is the default of the IN-RIL argument ``name`` (same type and value)."""
    default = _INIT_DEFAULTS[name]
    return value is default or (type(value) is type(default) and value == default)


def _adaptive_interval(il_interval: Any) -> AdaptiveInterval | None:
    """The adaptive interval ``il_interval`` asks for, or None for a fixed one (checked in _check_arguments)."""
    if il_interval == "adaptive":
        return AdaptiveInterval()
    return il_interval if isinstance(il_interval, AdaptiveInterval) else None


def _check_arguments(arguments: dict[str, Any], policy_losses: tuple[str, ...]) -> None:
    """
    The IN-RIL arguments (by name, as :data:`INRIL_ARGUMENTS`), checked: a ``TypeError``/``ValueError``
    naming the argument.

    :param policy_losses: the IL losses the policy class can be imitated by
    """
    il_interval, surgery_kwargs, pretrain_kwargs = (
        arguments["il_interval"],
        arguments["surgery_kwargs"],
        arguments["pretrain_kwargs"],
    )
    gradient_separation, critic_warmup_steps = arguments["gradient_separation"], arguments["critic_warmup_steps"]
    critic_warmup_learning_rate, il_max_grad_norm = arguments["critic_warmup_learning_rate"], arguments["il_max_grad_norm"]
    if isinstance(il_interval, str) and il_interval != "adaptive":
        raise ValueError(
            f"il_interval: expected a positive int, 'adaptive', an AdaptiveInterval or None, found {il_interval!r}"
        )
    if not isinstance(il_interval, (str, AdaptiveInterval)):
        check_positive_int("il_interval", il_interval, allow_none=True)
    if surgery_kwargs is not None and gradient_separation != "surgery":
        raise ValueError(
            f"surgery_kwargs: only used with gradient_separation='surgery', found gradient_separation={gradient_separation!r}"
        )
    check_optional_dict("surgery_kwargs", surgery_kwargs)
    check_optional_dict("pretrain_kwargs", pretrain_kwargs)
    if gradient_separation == "surgery":
        GradientSurgery(**(surgery_kwargs or {}))  # checks its options
    if pretrain_kwargs is not None:
        unknown = sorted(set(pretrain_kwargs) - PRETRAIN_ARGUMENTS)
        if unknown:
            raise ValueError(f"pretrain_kwargs: unknown keys {unknown}, expected some of {sorted(PRETRAIN_ARGUMENTS)}")
    check_positive_int("il_steps", arguments["il_steps"], allow_none=False)
    check_positive_int("il_batch_size", arguments["il_batch_size"], allow_none=True)
    # The losses every policy has, those of known policy kinds, and the policy's own.
    check_choice("il_loss", arguments["il_loss"], tuple(dict.fromkeys(IL_LOSSES + policy_losses)))
    check_choice("il_interval_unit", arguments["il_interval_unit"], IL_INTERVAL_UNITS)
    if il_max_grad_norm is not None:
        check_float("il_max_grad_norm", il_max_grad_norm, 0.0, low_open=True)
    check_rate("il_learning_rate", arguments["il_learning_rate"])
    check_float("demo_val_fraction", arguments["demo_val_fraction"], 0.0, 1.0, high_open=True)
    check_float("il_squash_margin", arguments["il_squash_margin"], 0.0, 1.0, low_open=True, high_open=True)
    check_bool("il_share_optimizer", arguments["il_share_optimizer"])
    check_bool("il_trains_shared_features", arguments["il_trains_shared_features"])
    check_non_negative_int("critic_warmup_steps", critic_warmup_steps)
    check_choice("critic_warmup_unit", arguments["critic_warmup_unit"], IL_INTERVAL_UNITS)
    if critic_warmup_learning_rate is not None:
        check_float("critic_warmup_learning_rate", critic_warmup_learning_rate, 0.0, low_open=True)
        if critic_warmup_steps == 0:
            raise ValueError(
                f"critic_warmup_learning_rate: only used with critic_warmup_steps > 0, found critic_warmup_steps={critic_warmup_steps}"
            )
