"""The one IN-RIL mechanism, shared by every algorithm of the package.

``InRILMixin`` goes in front of an SB3 algorithm class (``class InRILPPO(InRILMixin, PPO)``). It
never copies the algorithm's training loop: it registers a post-step hook on the optimizer that
updates the actor, counts the RL gradient steps there, and after every ``il_interval`` of them
takes ``il_steps`` behaviour-cloning steps on demonstration minibatches with its own optimizer.
An algorithm plugs in by saying which optimizer updates its actor, which parameters make up its
actor, and how its actor scores a demonstration action (the ``_il_*`` methods below).
"""

import copy
import hashlib
import inspect
import math
import os
import time
import warnings
from collections.abc import Callable
from typing import Any, Literal

import numpy as np
import torch as th
from gymnasium import spaces
from stable_baselines3.common import utils
from stable_baselines3.common.distributions import Distribution
from stable_baselines3.common.policies import ActorCriticPolicy, BasePolicy
from stable_baselines3.common.preprocessing import is_image_space
from stable_baselines3.common.type_aliases import GymEnv, Schedule
from stable_baselines3.common.utils import FloatSchedule, update_learning_rate
from stable_baselines3.common.vec_env import VecTransposeImage, unwrap_vec_wrapper
from tqdm.auto import tqdm

from sb3_inril.common.demo_buffer import DemonstrationBatch, DemonstrationBuffer, TensorObservations
from sb3_inril.common.demonstrations import Demonstrations, DemonstrationSource, DemonstrationSpec
from sb3_inril.common.loaders import check_observation_layout, detect_format, load_demonstrations
from sb3_inril.common.residual import ResidualPolicyMixin
from sb3_inril.common.surgery import AdaptiveInterval, GradientSurgery
from sb3_inril.data import is_shipped_name, resolve_shipped

IL_LOSSES = ("nll", "mse")
IL_INTERVAL_UNITS = ("gradient_step", "train_call")
SEPARATIONS = (None, "surgery", "residual")
# Diagnostics (validation loss, drift) are computed on at most this many held-out pairs.
MAX_DIAGNOSTIC_BATCH = 2048


def _check_positive_int(name: str, value: Any, allow_none: bool) -> None:
    if value is None and allow_none:
        return
    expected = "a positive int or None" if allow_none else "a positive int"
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name}: expected {expected}, found {type(value).__name__} {value!r}")
    if value < 1:
        raise ValueError(f"{name}: expected {expected}, found {value!r}")


def _check_float(
    name: str, value: Any, low: float, high: float = math.inf, low_open: bool = False, high_open: bool = False
) -> float:
    """A real number in a range, or a ``TypeError``/``ValueError`` naming the argument."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name}: expected a number, found {type(value).__name__} {value!r}")
    value = float(value)
    above = value > low if low_open else value >= low
    below = value < high if high_open else value <= high
    if not (math.isfinite(value) and above and below):
        interval = f"{'(' if low_open else '['}{low}, {high}{')' if high_open or high == math.inf else ']'}"
        raise ValueError(f"{name}: expected a finite value in {interval}, found {value!r}")
    return value


def _check_bool(name: str, value: Any) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name}: expected a bool, found {type(value).__name__} {value!r}")
    return bool(value)


def _check_rate(name: str, value: Any) -> None:
    """A learning rate: a positive finite number or a schedule (a callable)."""
    if value is None or callable(value):
        return
    _check_float(name, value, 0.0, low_open=True)


def file_fingerprint(path: str) -> dict[str, Any]:
    """Size and SHA-256 of a file, or of every file of a directory (sorted by relative path)."""
    digest, size = hashlib.sha256(), 0
    files = [path]
    if os.path.isdir(path):
        files = sorted(os.path.join(root, name) for root, _, names in os.walk(path) for name in names)
    for name in files:
        if os.path.isdir(path):
            digest.update(os.path.relpath(name, path).encode())
        with open(name, "rb") as file:
            for chunk in iter(lambda: file.read(1 << 20), b""):
                digest.update(chunk)
                size += len(chunk)
    return {"size": size, "sha256": digest.hexdigest()}


def demonstrations_env_id(metadata: dict[str, Any]) -> str | None:
    """The env id demonstrations were recorded on, when their metadata says (collection scripts, Minari)."""
    collection = metadata.get("collection")
    if isinstance(collection, dict) and isinstance(collection.get("env"), str):
        return collection["env"]
    env_id = metadata.get("env_id")
    return env_id if isinstance(env_id, str) else None


class InRILMixin:
    """
    Interleaved reinforcement and imitation learning (IN-RIL) for an SB3 algorithm.

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
        distribution) or ``"mse"`` (squared error of the deterministic action)
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

    # Set by the SB3 algorithm this mixin goes with.
    policy: BasePolicy
    action_space: spaces.Space
    observation_space: spaces.Space
    device: th.device
    seed: int | None
    batch_size: int
    learning_rate: float | Schedule
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
        il_loss: Literal["nll", "mse"] = "nll",
        il_interval_unit: Literal["gradient_step", "train_call"] = "gradient_step",
        il_max_grad_norm: float | None = None,
        il_share_optimizer: bool = False,
        demo_val_fraction: float = 0.1,
        critic_warmup_steps: int = 0,
        il_squash_margin: float = 1e-3,
        gradient_separation: Literal["surgery", "residual"] | None = None,
        surgery_kwargs: dict[str, Any] | None = None,
        il_trains_shared_features: bool = True,
        pretrain_kwargs: dict[str, Any] | None = None,
        _init_setup_model: bool = True,
        **kwargs: Any,
    ) -> None:
        if gradient_separation not in SEPARATIONS:
            raise ValueError(f"gradient_separation: expected one of {SEPARATIONS}, found {gradient_separation!r}")
        if gradient_separation == "residual":
            policy = self._residual_policy(policy)
        # The parent's arguments pass through untouched, so that a new SB3 release's arguments work too.
        # The IN-RIL arguments are keyword-only: positional arguments after ``env`` are the parent's.
        super().__init__(policy, env, *args, _init_setup_model=False, **kwargs)  # type: ignore[call-arg]
        self.adaptive_interval: AdaptiveInterval | None = None
        if il_interval == "adaptive":
            self.adaptive_interval = AdaptiveInterval()
        elif isinstance(il_interval, AdaptiveInterval):
            self.adaptive_interval = il_interval
        else:
            if isinstance(il_interval, str):
                raise ValueError(
                    f"il_interval: expected a positive int, 'adaptive', an AdaptiveInterval or None, found {il_interval!r}"
                )
            _check_positive_int("il_interval", il_interval, allow_none=True)
        if surgery_kwargs is not None and gradient_separation != "surgery":
            raise ValueError(
                f"surgery_kwargs: only used with gradient_separation='surgery', found gradient_separation={gradient_separation!r}"
            )
        if gradient_separation == "surgery":
            GradientSurgery(**(surgery_kwargs or {}))  # check the options now, before any training
        _check_positive_int("il_steps", il_steps, allow_none=False)
        _check_positive_int("il_batch_size", il_batch_size, allow_none=True)
        if il_loss not in IL_LOSSES:
            raise ValueError(f"il_loss: expected one of {IL_LOSSES}, found {il_loss!r}")
        if il_interval_unit not in IL_INTERVAL_UNITS:
            raise ValueError(f"il_interval_unit: expected one of {IL_INTERVAL_UNITS}, found {il_interval_unit!r}")
        if il_max_grad_norm is not None:
            _check_float("il_max_grad_norm", il_max_grad_norm, 0.0, low_open=True)
        _check_rate("il_learning_rate", il_learning_rate)
        _check_float("demo_val_fraction", demo_val_fraction, 0.0, 1.0, high_open=True)
        _check_float("il_squash_margin", il_squash_margin, 0.0, 1.0, low_open=True, high_open=True)
        _check_bool("il_share_optimizer", il_share_optimizer)
        _check_bool("il_trains_shared_features", il_trains_shared_features)
        if isinstance(critic_warmup_steps, bool) or not isinstance(critic_warmup_steps, (int, np.integer)):
            raise TypeError(
                f"critic_warmup_steps: expected an int >= 0, found {type(critic_warmup_steps).__name__} {critic_warmup_steps!r}"
            )
        if critic_warmup_steps < 0:
            raise ValueError(f"critic_warmup_steps: expected an int >= 0, found {critic_warmup_steps!r}")
        if pretrain_kwargs is not None and not isinstance(pretrain_kwargs, dict):
            raise TypeError(f"pretrain_kwargs: expected a dict or None, found {type(pretrain_kwargs).__name__}")
        if surgery_kwargs is not None and not isinstance(surgery_kwargs, dict):
            raise TypeError(f"surgery_kwargs: expected a dict or None, found {type(surgery_kwargs).__name__}")
        self._preloaded_demonstrations: Demonstrations | None = None
        self.demonstrations = self._recordable(demonstrations)
        self.il_interval = il_interval if il_interval is None or self.adaptive_interval is not None else int(il_interval)
        self.il_steps = int(il_steps)
        self.il_batch_size = il_batch_size
        self.il_learning_rate = il_learning_rate
        self.il_loss = il_loss
        self.il_interval_unit = il_interval_unit
        self.il_max_grad_norm = il_max_grad_norm
        self.il_share_optimizer = il_share_optimizer
        self.demo_val_fraction = demo_val_fraction
        self.critic_warmup_steps = int(critic_warmup_steps)
        self.il_squash_margin = il_squash_margin
        self.gradient_separation = gradient_separation
        self.surgery_kwargs = surgery_kwargs
        self.il_trains_shared_features = bool(il_trains_shared_features)
        if pretrain_kwargs is not None:
            unknown = sorted(set(pretrain_kwargs) - PRETRAIN_ARGUMENTS)
            if unknown:
                raise ValueError(f"pretrain_kwargs: unknown keys {unknown}, expected some of {sorted(PRETRAIN_ARGUMENTS)}")
        self.pretrain_kwargs = pretrain_kwargs
        self._pretrain_done = False
        # Cumulative counters, saved with the model like SB3's ``_n_updates``.
        self._n_rl_updates = 0
        self._n_il_updates = 0
        self._rl_units_since_il = 0
        self._n_warmup_steps_done = 0
        self._demonstrations_fingerprint: dict[str, Any] | None = None
        if _init_setup_model:
            self._setup_model()
            # Demonstrations given to the constructor are read and validated now, before any training.
            self.demo_buffer  # noqa: B018

    @classmethod
    def _residual_policy(cls, policy: str | type[BasePolicy]) -> str | type[BasePolicy]:
        """The residual counterpart of ``policy`` for ``gradient_separation="residual"``."""
        if policy == "MlpPolicy":
            return "ResidualMlpPolicy"
        if isinstance(policy, str) and issubclass(cls.policy_aliases.get(policy, object), ResidualPolicyMixin):  # type: ignore[attr-defined]
            return policy
        if isinstance(policy, type) and issubclass(policy, ResidualPolicyMixin):
            return policy
        raise ValueError(
            f"gradient_separation: 'residual' needs 'MlpPolicy' or a residual policy (e.g. 'ResidualMlpPolicy'), found {policy!r}"
        )

    @property
    def is_residual(self) -> bool:
        """True when the policy separates the networks: IL trains its base, RL its residual."""
        return isinstance(self.policy, ResidualPolicyMixin)

    # ------------------------------------------------------------------------------------------
    # The actor, for every kind of SB3 policy: an actor-critic policy with a shared optimizer
    # (PPO, A2C, TRPO, ...), or a separate ``actor`` with its own optimizer, stochastic (SAC, TQC)
    # or deterministic (TD3, DDPG). An algorithm with another layout overrides these.
    # ------------------------------------------------------------------------------------------
    def _il_rl_optimizer(self) -> th.optim.Optimizer:
        """The optimizer whose steps update the actor during RL (their count is ``m``'s unit)."""
        actor = getattr(self, "actor", None)
        return actor.optimizer if actor is not None else self.policy.optimizer

    def _shared_features_extractor(self) -> th.nn.Module | None:
        """The actor's features extractor when the critic uses it too (and it has parameters), else None."""
        if not getattr(self.policy, "share_features_extractor", False):
            return None
        if isinstance(self.policy, ActorCriticPolicy):
            extractor = self.policy.pi_features_extractor
        else:
            extractor = getattr(getattr(self, "actor", None), "features_extractor", None)
        return extractor if extractor is not None and any(True for _ in extractor.parameters()) else None

    def _actor_parameters(self) -> list[th.nn.Parameter]:
        """The actor's parameters (a residual policy's base), its features extractor included."""
        if isinstance(self.policy, ResidualPolicyMixin):
            params = {id(param): param for param in self.policy.base_parameters()}
        elif isinstance(self.policy, ActorCriticPolicy):
            modules = [self.policy.pi_features_extractor, self.policy.mlp_extractor.policy_net, self.policy.action_net]
            params = {id(param): param for module in modules for param in module.parameters()}
            log_std = getattr(self.policy, "log_std", None)
            if isinstance(log_std, th.nn.Parameter):
                params[id(log_std)] = log_std
        else:
            params = {id(param): param for param in self.actor.parameters()}  # type: ignore[attr-defined]
        return list(params.values())

    def _il_parameters(self) -> list[th.nn.Parameter]:
        """The parameters IL updates: the actor's, less a shared extractor if ``il_trains_shared_features`` is False."""
        shared = self._shared_features_extractor()
        excluded = set() if shared is None or self.il_trains_shared_features else {id(p) for p in shared.parameters()}
        return [param for param in self._actor_parameters() if id(param) not in excluded]

    def _rl_actor_parameters(self) -> list[th.nn.Parameter]:
        """The actor's parameters that the RL optimizer updates (held during the critic warm-up)."""
        if isinstance(self.policy, ResidualPolicyMixin):
            return self.policy.residual_parameters()
        if isinstance(self.policy, ActorCriticPolicy):
            return self._actor_parameters()
        return [param for group in self._il_rl_optimizer().param_groups for param in group["params"]]

    def _il_frozen_during_warmup(self) -> list[th.optim.Optimizer]:
        """Optimizers, besides the actor's, whose steps are skipped during the critic warm-up."""
        ent_coef_optimizer = getattr(self, "ent_coef_optimizer", None)
        return [ent_coef_optimizer] if ent_coef_optimizer is not None else []

    def _il_distribution(self, observations: th.Tensor) -> Distribution:
        """The actor's action distribution (a residual policy's base's) for demonstration observations."""
        if isinstance(self.policy, ResidualPolicyMixin):
            return self.policy.base_distribution(observations)
        if isinstance(self.policy, ActorCriticPolicy):
            return self.policy.get_distribution(observations)
        actor = getattr(self, "actor", None)
        if actor is None or not hasattr(actor, "get_action_dist_params"):
            raise ValueError(self._deterministic_actor_message())
        mean_actions, log_std, kwargs = actor.get_action_dist_params(observations)
        return actor.action_dist.proba_distribution(mean_actions, log_std, **kwargs)

    def _deterministic_actor_message(self) -> str:
        return f"il_loss: 'nll' needs a stochastic actor, {type(self.policy).__name__} is deterministic; use 'mse'"

    def _il_transform_actions(self, actions: np.ndarray) -> np.ndarray:
        """Validated (flattened) env actions to the policy's action space: squashing policies act in [-1, 1]."""
        if not (self.policy.squash_output and isinstance(self.action_space, spaces.Box)):
            return actions
        low, high = self.action_space.low.reshape(-1), self.action_space.high.reshape(-1)
        scaled = 2.0 * ((actions - low) / (high - low)) - 1.0  # SB3's scale_action, on flattened actions
        # Keep demo actions off the tanh asymptotes, where the NLL and its gradient blow up.
        bound = 1.0 - self.il_squash_margin
        return np.clip(scaled, -bound, bound)

    # ------------------------------------------------------------------------------------------
    # Set-up, saving
    # ------------------------------------------------------------------------------------------
    def _setup_model(self) -> None:
        super()._setup_model()  # type: ignore[misc]
        self._setup_inril()

    def _setup_inril(self) -> None:
        if self.il_loss == "mse" and not isinstance(self.action_space, spaces.Box):
            raise ValueError(f"il_loss: 'mse' needs a Box action space, found {self.action_space}; use 'nll'")
        actor = getattr(self, "actor", None)
        if self.il_loss == "nll" and actor is not None and not hasattr(actor, "get_action_dist_params"):
            raise ValueError(self._deterministic_actor_message())
        if self.is_residual and self.gradient_separation not in (None, "residual"):
            raise ValueError(
                f"gradient_separation: a residual policy separates IL and RL by construction, found gradient_separation={self.gradient_separation!r}"
            )
        if self.is_residual:
            self.gradient_separation = "residual"
        self.il_batch_size = self.il_batch_size or getattr(self, "batch_size", 64)
        # A path given to load(demonstrations=PATH) is recorded like one given to the constructor.
        self.demonstrations = self._recordable(self.demonstrations)
        self._demo_buffer: DemonstrationBuffer | None = None
        # The reference for ``train/policy_drift``: the policy at the end of pre-training (or at
        # creation), made before any hook is registered, so it carries none.
        self.pretrained_policy = self._copy_policy()
        self._il_params = self._il_parameters()
        if self.il_share_optimizer:
            self.il_optimizer = self._il_rl_optimizer()
        else:
            self.il_optimizer = th.optim.Adam(self._il_params, lr=self.il_lr_schedule(1.0))
        self._il_rl_optimizer().register_step_pre_hook(self._before_rl_optimizer_step)
        self._il_rl_optimizer().register_step_post_hook(self._on_rl_optimizer_step)
        for optimizer in self._il_frozen_during_warmup():
            optimizer.register_step_pre_hook(self._before_frozen_optimizer_step)
        self._rl_step_skipped = False
        # Gradient surgery measures the IL/RL cosine, which the adaptive interval needs too.
        self.gradient_surgery: GradientSurgery | None = None
        if self.gradient_separation == "surgery":
            GradientSurgery(**(self.surgery_kwargs or {})).attach(self)
        elif self.adaptive_interval is not None:
            GradientSurgery(project="none").attach(self)
        self._il_step_running = False
        self._il_loss_sum = th.zeros((), device=self.device)
        self._il_loss_count = 0

    def _copy_policy(self) -> BasePolicy:
        """
        A frozen copy of the policy, rebuilt from its constructor parameters (as SB3's policy
        ``load`` does) rather than deep-copied: gSDE's exploration matrices are not graph leaves and
        can not be deep-copied. The construction draws no number from the global RNGs (forked),
        so that a model with IL off stays its parent bit for bit.
        """
        devices = [self.device] if self.device.type == "cuda" else []
        with th.random.fork_rng(devices=devices):
            reference = type(self.policy)(**self.policy._get_constructor_parameters())  # type: ignore[arg-type]
        reference.load_state_dict(self.policy.state_dict())
        reference.to(self.device)
        reference.set_training_mode(False)
        reference.requires_grad_(False)
        return reference

    @property
    def il_lr_schedule(self) -> Schedule:
        """The IL learning-rate schedule: ``il_learning_rate``'s, or the RL one in force now."""
        if self.il_learning_rate is None:
            return self.lr_schedule  # type: ignore[attr-defined]
        return FloatSchedule(self.il_learning_rate)

    def _recordable(self, demonstrations: Any) -> Any:
        """What the model keeps (and saves) of a demonstration source: a path, a spec, or the data."""
        if isinstance(demonstrations, Demonstrations) and demonstrations.spec is not None:
            # Read from a file: keep the data for now, record how to read it again.
            self._preloaded_demonstrations = demonstrations
            return demonstrations.spec
        if is_shipped_name(demonstrations):  # recorded by name: found in the package on any machine
            robomimic = detect_format(demonstrations) == "robomimic"
            return DemonstrationSpec(demonstrations, self._robomimic_read_options()) if robomimic else demonstrations
        if isinstance(demonstrations, (str, os.PathLike)) and os.path.exists(demonstrations):
            # An absolute path survives a change of working directory.
            path = os.path.abspath(os.fspath(demonstrations))
            if detect_format(path) == "robomimic":
                return DemonstrationSpec(path, self._robomimic_read_options())
            return path
        return demonstrations

    def _env_observation_space(self) -> spaces.Space:
        """The observation space as the env returns observations (before SB3 transposes images)."""
        env = getattr(self, "env", None)
        transposer = unwrap_vec_wrapper(env, VecTransposeImage) if env is not None else None
        if isinstance(transposer, VecTransposeImage) and not transposer.skip:
            return transposer.venv.observation_space
        return self.observation_space

    def _observation_transform(self) -> Callable[[TensorObservations], TensorObservations] | None:
        """SB3's channel-last to channel-first transposition of image observations, per minibatch."""
        env_space = self._env_observation_space()
        if env_space is self.observation_space:
            return None

        def channels_first(observations: TensorObservations) -> TensorObservations:
            if isinstance(observations, dict):
                transposed = dict(observations)
                for key, space in env_space.spaces.items():  # type: ignore[attr-defined]
                    if is_image_space(space) and space.shape != self.observation_space[key].shape:  # type: ignore[index]
                        transposed[key] = observations[key].permute(0, 3, 1, 2)
                return transposed
            return observations.permute(0, 3, 1, 2)

        return channels_first

    def _env_observation_layout(self) -> dict[str, int] | None:
        """The env's observation keys and sizes (``obs_key_sizes`` of a robomimic env), if it has them."""
        env = getattr(self, "env", None)
        if env is None or not env.has_attr("obs_key_sizes"):
            return None
        return dict(env.get_attr("obs_key_sizes", indices=[0])[0])

    def _robomimic_read_options(self) -> dict[str, Any]:
        """How a robomimic file is read for this env: its keys, in its order, flat or as a dict."""
        options: dict[str, Any] = {}
        layout = self._env_observation_layout()
        env_space = self._env_observation_space()
        if isinstance(env_space, spaces.Dict):
            options = {"obs_keys": list(env_space.spaces), "observation_format": "dict"}
        elif layout is not None:
            options = {"obs_keys": list(layout)}
        return options

    def _env_id(self) -> str | None:
        env = getattr(self, "env", None)
        if env is None:
            return None
        try:
            spec = env.get_attr("spec", indices=[0])[0]
        except Exception:  # an env without a spec attribute
            return None
        return getattr(spec, "id", None)

    @property
    def demo_buffer(self) -> DemonstrationBuffer | None:
        """The demonstrations, read and validated when first needed (a loaded model reads them only
        when ``learn``/``pretrain`` needs them, so that inference never does)."""
        if self._demo_buffer is None and self.demonstrations is not None:
            self._demo_buffer = self._make_demo_buffer(self.demonstrations)
        return self._demo_buffer

    def _make_demo_buffer(self, source: Any) -> DemonstrationBuffer:
        preloaded = self._preloaded_demonstrations
        env_layout = self._env_observation_layout()
        try:
            if preloaded is not None and preloaded.spec == source:
                demonstrations = preloaded
            elif isinstance(source, DemonstrationSpec):
                demonstrations = source.load()
            else:
                demonstrations = load_demonstrations(source)
        except FileNotFoundError as error:
            raise FileNotFoundError(
                f"{error}. A loaded model re-attaches the demonstrations recorded when it was saved: pass "
                "demonstrations=PATH to load() (or call set_demonstrations(PATH)) to point at them."
            ) from error
        except ValueError as error:
            if env_layout is not None and "observation keys" in str(error):
                raise ValueError(f"{error}; the env observes: {env_layout}") from error
            raise
        demo_layout = demonstrations.metadata.get("obs_key_sizes")
        if env_layout is not None and demo_layout and not demonstrations.is_dict:  # dicts: checked key by key
            check_observation_layout(demo_layout, env_layout, demonstrations.metadata.get("source", "demonstrations"))
        recorded_env, env_id = demonstrations_env_id(demonstrations.metadata), self._env_id()
        if recorded_env is not None and env_id is not None and recorded_env != env_id:
            warnings.warn(
                f"demonstrations: {demonstrations.metadata.get('source', 'the demonstrations')} were recorded on "
                f"{recorded_env!r}, the model's env is {env_id!r}",
                stacklevel=3,
            )
        self._preloaded_demonstrations = None  # the buffer holds the data now
        try:
            return DemonstrationBuffer(
                demonstrations,
                self._env_observation_space(),
                self.action_space,
                device=self.device,
                val_fraction=self.demo_val_fraction,
                seed=self.seed,
                action_transform=self._il_transform_actions,
                vec_normalize_getter=self.get_vec_normalize_env,  # type: ignore[attr-defined]
                observation_transform=self._observation_transform(),
                min_train_pairs=self.il_batch_size,  # type: ignore[arg-type]
            )
        except ValueError as error:
            layout = demonstrations.describe_observation()
            if layout and "'obs" in str(error):
                raise ValueError(f"{error}; the demonstrations' observation keys and sizes: {layout}") from error
            raise

    def set_demonstrations(self, demonstrations: DemonstrationSource | None) -> None:
        """
        Attach (or detach, with None) demonstrations, read and validated against the model's spaces now.

        :param demonstrations: see the class docstring
        """
        recordable = self._recordable(demonstrations)
        self._demo_buffer = None if recordable is None else self._make_demo_buffer(recordable)
        self.demonstrations = recordable
        self._demonstrations_fingerprint = None

    def reset_drift_reference(self) -> None:
        """Make the current policy the reference of ``train/policy_drift`` (``pretrain`` does this)."""
        self.pretrained_policy.load_state_dict(self.policy.state_dict())

    def _demonstrations_path(self) -> str | None:
        """The file or directory the demonstrations are read from (None for in-memory data)."""
        source = self._demonstrations_path_recorded()
        if is_shipped_name(source):
            try:
                source = resolve_shipped(source)  # type: ignore[arg-type]
            except FileNotFoundError:
                return None
        return source if isinstance(source, str) and os.path.exists(source) else None

    def save(self, path: Any, exclude: Any = None, include: Any = None) -> None:
        """
        Save the model (see SB3's ``save``), with how to read its demonstrations again and a
        fingerprint (size, SHA-256) of their file, so that ``load`` can tell when it changed.

        :raises ValueError: when ``path`` is the demonstrations file itself
        """
        demo_path = self._demonstrations_path()
        if demo_path is not None and isinstance(path, (str, os.PathLike)):
            target = os.fspath(path)
            candidates = {os.path.realpath(target)}
            if not os.path.splitext(target)[1]:
                candidates.add(os.path.realpath(target + ".zip"))  # SB3 appends .zip to a path without suffix
            if os.path.realpath(demo_path) in candidates:
                raise ValueError(
                    f"path: {target!r} is the model's demonstrations file; saving there would overwrite it. Choose another path"
                )
        if demo_path is not None:
            stat = os.stat(demo_path)
            cached = self._demonstrations_fingerprint
            key = {
                "source": self._demonstrations_path_recorded(),
                "path": demo_path,
                "mtime_ns": stat.st_mtime_ns,
                "stat_size": stat.st_size,
            }
            if cached is None or any(cached.get(name) != value for name, value in key.items()):
                self._demonstrations_fingerprint = {**key, **file_fingerprint(demo_path)}
        super().save(path, exclude=exclude, include=include)  # type: ignore[misc]

    def _check_demonstrations_fingerprint(self) -> None:
        """Warn when the demonstrations recorded at save time have changed since, or are gone."""
        recorded = self._demonstrations_fingerprint
        if recorded is None or recorded.get("source") != self._demonstrations_path_recorded():
            return  # nothing recorded, or other demonstrations were given to load()
        path = self._demonstrations_path()
        if path is None:
            warnings.warn(
                f"demonstrations: {recorded['source']!r}, recorded when the model was saved, is gone; the model "
                "predicts without it, learn()/pretrain() need demonstrations=PATH",
                stacklevel=3,
            )
            return
        current = file_fingerprint(path)
        changes = [
            f"{key} {recorded[key]} -> {current[key]}" for key in ("size", "sha256") if recorded.get(key) != current[key]
        ]
        if changes:
            warnings.warn(
                f"demonstrations: {path!r} has changed since the model was saved ({'; '.join(changes)})", stacklevel=3
            )

    def _demonstrations_path_recorded(self) -> str | None:
        source = self.demonstrations.source if isinstance(self.demonstrations, DemonstrationSpec) else self.demonstrations
        return source if isinstance(source, str) else None

    @classmethod
    def load(cls, path: Any, env: GymEnv | str | None = None, *args: Any, **kwargs: Any) -> Any:
        """
        Load a model (see SB3's ``load``). ``env`` may also be an env id, made with ``gym.make`` as
        the constructor does. The demonstrations recorded at save time (or ``demonstrations=PATH``)
        are read only when ``learn``/``pretrain`` needs them; a warning says when their file has
        changed since the model was saved, or is gone.
        """
        if isinstance(env, str):
            import gymnasium as gym

            env = gym.make(env)
        model = super().load(path, env, *args, **kwargs)  # type: ignore[misc]
        model._check_demonstrations_fingerprint()
        return model

    def _excluded_save_params(self) -> list[str]:
        excluded = super()._excluded_save_params() + [  # type: ignore[misc]
            "_demo_buffer",
            "_il_params",
            "_il_loss_sum",
            "_il_loss_count",
            "_il_step_running",
            "_rl_step_skipped",
            "gradient_surgery",
            "_preloaded_demonstrations",
            "_warned_no_demonstrations",
        ]
        if not isinstance(self.demonstrations, (str, DemonstrationSpec)):
            # In-memory demonstrations are not pickled into the zip: pass them again to load().
            excluded.append("demonstrations")
        return excluded

    def _get_torch_save_params(self) -> tuple[list[str], list[str]]:
        state_dicts, variables = super()._get_torch_save_params()  # type: ignore[misc]
        state_dicts = state_dicts + ["pretrained_policy"]
        if not self.il_share_optimizer:
            state_dicts.append("il_optimizer")
        return state_dicts, variables

    # ------------------------------------------------------------------------------------------
    # The interleaving
    # ------------------------------------------------------------------------------------------
    def _check_ready_for_il(self, what: str) -> None:
        if self.demo_buffer is None:
            raise ValueError(
                f"demonstrations: {what} needs demonstrations, found None. Pass demonstrations=... to the "
                "constructor (or to load()), or call set_demonstrations(...)"
            )

    @property
    def in_critic_warmup(self) -> bool:
        """True while the first ``critic_warmup_steps`` RL gradient steps update only the critics."""
        return self._n_warmup_steps_done < self.critic_warmup_steps

    @staticmethod
    def _drop_gradients(params: Any) -> None:
        # torch optimizers skip parameters without a gradient: no update, no change of their state.
        for param in params:
            param.grad = None

    def _before_rl_optimizer_step(self, optimizer: th.optim.Optimizer, args: Any, kwargs: Any) -> None:
        """Pre-step hook on the RL optimizer of the actor: during the critic warm-up, the actor stays put."""
        if self._il_step_running or not self.in_critic_warmup:
            return
        self._drop_gradients(self._rl_actor_parameters())
        self._n_warmup_steps_done += 1
        self._rl_step_skipped = True

    def _before_frozen_optimizer_step(self, optimizer: th.optim.Optimizer, args: Any, kwargs: Any) -> None:
        if self.in_critic_warmup:
            self._drop_gradients(param for group in optimizer.param_groups for param in group["params"])

    def _on_rl_optimizer_step(self, optimizer: th.optim.Optimizer, args: Any, kwargs: Any) -> None:
        """Post-step hook on the RL optimizer of the actor: one RL update has just been applied."""
        if self._il_step_running:  # the IL step itself, when it shares the RL optimizer
            return
        if self._rl_step_skipped:  # critic warm-up: the actor was not updated
            self._rl_step_skipped = False
            return
        self._n_rl_updates += 1
        if self.il_interval_unit == "gradient_step":
            self._count_rl_unit()

    @property
    def current_il_interval(self) -> int | None:
        """The interleaving interval ``m`` in force now (None: no interleaving)."""
        if self.adaptive_interval is not None:
            return self.adaptive_interval.interval
        return self.il_interval  # type: ignore[return-value]

    def _count_rl_unit(self) -> None:
        interval = self.current_il_interval
        if interval is None or self._demo_buffer is None:  # no demonstrations: plain RL
            return
        self._rl_units_since_il += 1
        if self._rl_units_since_il >= interval:
            self._rl_units_since_il = 0
            for _ in range(self.il_steps):
                self._il_step()

    def _il_step(self) -> None:
        """One IL gradient step on a fresh demonstration minibatch."""
        assert self.demo_buffer is not None
        batch = self.demo_buffer.sample(self.il_batch_size)
        params = self._il_params
        # Set the RL gradients aside (references, no copies) and put them back afterwards, so that
        # whatever runs after the RL step still sees the RL gradients.
        rl_grads = [param.grad for param in params]
        for param in params:
            param.grad = None
        self._il_step_running = True
        try:
            with th.enable_grad():
                loss = self._il_compute_loss(batch)
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
            self._il_step_running = False
            for param, grad in zip(params, rl_grads):
                param.grad = grad
        self._n_il_updates += 1
        self._il_loss_sum += loss.detach()  # no .item(): no device sync on the hot path
        self._il_loss_count += 1

    def _il_compute_loss(self, batch: DemonstrationBatch, loss: str | None = None) -> th.Tensor:
        loss = loss or self.il_loss
        if loss == "nll":
            return -self._il_distribution(batch.observations).log_prob(batch.actions).mean()
        if isinstance(self.policy, ResidualPolicyMixin):
            actions = self.policy.base_actions(batch.observations)
        else:
            actions = self.policy._predict(batch.observations, deterministic=True)
        return th.mean((actions - batch.actions) ** 2)

    def train(self, *args: Any, **kwargs: Any) -> None:
        if not self.il_share_optimizer:
            update_learning_rate(self.il_optimizer, self.il_lr_schedule(self._current_progress_remaining))
        super().train(*args, **kwargs)  # type: ignore[misc]
        if self.il_interval_unit == "train_call":
            self._count_rl_unit()

    def _setup_learn(self, *args: Any, **kwargs: Any) -> Any:
        # Read and validated before the first step, not in the middle of a run.
        if self.demo_buffer is None and self.il_interval is not None and not getattr(self, "_warned_no_demonstrations", False):
            warnings.warn(
                f"{type(self).__name__}: no demonstrations, so no IL step is taken: this learns as plain "
                f"{self._parent_name()} (pass demonstrations=... or call set_demonstrations(...) to interleave)",
                stacklevel=3,
            )
            self._warned_no_demonstrations = True
        if self.pretrain_kwargs is not None and not self._pretrain_done:
            # Before the parent's set-up: its env reset would already move VecNormalize statistics.
            self.pretrain(**self.pretrain_kwargs)
        return super()._setup_learn(*args, **kwargs)  # type: ignore[misc]

    def learn(self, *args: Any, **kwargs: Any) -> Any:
        # TensorBoard runs are named after the IN-RIL class (InRILPPO_1), not the parent (PPO_1),
        # unless the caller names them: read from the parent's own signature, whatever its order.
        bound = inspect.signature(super().learn).bind_partial(*args, **kwargs)  # type: ignore[misc]
        if "tb_log_name" not in bound.arguments:
            kwargs["tb_log_name"] = type(self).__name__
        return super().learn(*args, **kwargs)  # type: ignore[misc]

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
        super().dump_logs(*args, **kwargs)  # type: ignore[misc]

    def _record_inril_logs(self) -> None:
        logger = self.logger  # type: ignore[attr-defined]
        logger.record("train/n_rl_updates", self._n_rl_updates)
        logger.record("train/n_il_updates", self._n_il_updates)
        if self.critic_warmup_steps > 0:
            logger.record("train/critic_warmup_steps_done", self._n_warmup_steps_done)
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
            plus ``residual_norm`` (mean norm of ``scale * residual``) for residual policies.
            The drift is the mean L2 distance between the deterministic actions of the current and
            the pre-trained policy (the fraction of differing actions for discrete action spaces).
        """
        if self.demo_buffer is None:
            return {}
        batch = self.demo_buffer.validation_batch(MAX_DIAGNOSTIC_BATCH)
        if batch is None:
            return {}
        with th.no_grad():
            val_loss = self._il_compute_loss(batch).item()
            actions = self.policy._predict(batch.observations, deterministic=True)
            reference = self.pretrained_policy._predict(batch.observations, deterministic=True)
            if isinstance(self.action_space, spaces.Box):
                drift = th.linalg.vector_norm((actions - reference).flatten(1).float(), dim=1).mean().item()
            else:
                drift = (actions != reference).float().mean().item()
            diagnostics = {"il_val_loss": val_loss, "policy_drift": drift}
            if isinstance(self.policy, ResidualPolicyMixin):
                residual = self.policy.residual_actions(batch.observations)
                diagnostics["residual_norm"] = th.linalg.vector_norm(residual, dim=-1).mean().item()
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
        loss: Literal["nll", "mse"] | None = None,
        log_std: float | None = None,
        init_vec_normalize: bool = True,
        progress_bar: bool = False,
    ) -> dict[str, Any]:
        """
        Behaviour cloning of the actor on the demonstrations, before (or between) RL runs.

        The pre-trained policy becomes the reference of ``train/policy_drift``.

        :param n_epochs: passes over the training demonstrations (default 10 when ``n_steps`` is None)
        :param n_steps: gradient steps instead of epochs
        :param batch_size: minibatch size (default: ``il_batch_size``)
        :param learning_rate: learning rate of the pre-training Adam (its own, fresh optimizer)
        :param loss: ``"nll"`` or ``"mse"`` (default: ``il_loss``)
        :param log_std: afterwards, set the policy's state-independent ``log_std`` to this value so
            that the first rollouts do not explore so widely that they wreck the cloned behaviour
        :param init_vec_normalize: when the env is wrapped in ``VecNormalize`` whose statistics have
            not seen data yet, initialise them from the demonstration observations first
        :param progress_bar: show a tqdm progress bar
        :return: ``n_steps``, ``n_epochs``, ``initial_val_loss``, ``final_train_loss``,
            ``final_val_loss``, ``loss_history`` (mean training loss per epoch) and ``wall_time_s``
        """
        self._check_ready_for_il("pretrain()")
        assert self.demo_buffer is not None
        if n_epochs is not None and n_steps is not None:
            raise ValueError(f"pretrain: pass n_epochs or n_steps, not both (found {n_epochs} and {n_steps})")
        if n_epochs is None and n_steps is None:
            n_epochs = 10
        _check_positive_int("n_epochs", n_epochs, allow_none=True)
        _check_positive_int("n_steps", n_steps, allow_none=True)
        _check_positive_int("batch_size", batch_size, allow_none=True)
        loss = loss or self.il_loss
        if loss not in IL_LOSSES:
            raise ValueError(f"loss: expected one of {IL_LOSSES}, found {loss!r}")
        learning_rate = _check_float("learning_rate", learning_rate, 0.0, low_open=True)
        if log_std is not None:
            log_std = _check_float("log_std", log_std, -math.inf)
            if not isinstance(getattr(self.policy, "log_std", None), th.nn.Parameter):
                raise ValueError(f"log_std: the policy {type(self.policy).__name__} has no state-independent log_std to set")
        _check_bool("init_vec_normalize", init_vec_normalize)
        batch_size = batch_size or self.il_batch_size
        # A non-finite loss stops pre-training and puts everything back as it was.
        policy_state = {name: value.clone() for name, value in self.policy.state_dict().items()}
        vec_normalize = self.get_vec_normalize_env()  # type: ignore[attr-defined]
        saved_obs_rms = None
        if init_vec_normalize and vec_normalize is not None and vec_normalize.norm_obs:
            rms_by_key = vec_normalize.obs_rms if isinstance(vec_normalize.obs_rms, dict) else {None: vec_normalize.obs_rms}
            if all(rms.count < 1 for rms in rms_by_key.values()):
                saved_obs_rms = copy.deepcopy(vec_normalize.obs_rms)
                raw = self.demo_buffer.raw_observations()
                for key, rms in rms_by_key.items():
                    rms.update(raw[key] if key is not None else raw)  # type: ignore[index]

        logger = getattr(self, "_logger", None)
        if logger is None:
            logger = utils.configure_logger(self.verbose, self.tensorboard_log, f"{type(self).__name__}_pretrain")  # type: ignore[attr-defined]
        optimizer = th.optim.Adam(self._il_params, lr=learning_rate)
        steps_per_epoch = int(np.ceil(len(self.demo_buffer) / batch_size))
        total_steps = n_steps if n_steps is not None else n_epochs * steps_per_epoch  # type: ignore[operator]
        initial_val = self._validation_loss(loss)
        history: list[float] = []
        start, step = time.time(), 0
        self.policy.set_training_mode(True)
        bar = tqdm(total=total_steps, desc="BC pre-training", disable=not progress_bar)
        while step < total_steps:
            epoch_losses = []
            for batch in self.demo_buffer.iterate_epoch(batch_size):
                batch_loss = self._il_compute_loss(batch, loss)
                if not th.isfinite(batch_loss):
                    bar.close()
                    self.policy.load_state_dict(policy_state)
                    if saved_obs_rms is not None:
                        vec_normalize.obs_rms = saved_obs_rms
                    raise ValueError(
                        f"pretrain: the {loss} loss became {batch_loss.item()} at step {step} (learning_rate={learning_rate}); "
                        "the policy (and VecNormalize statistics) are back as they were before pretrain(). Lower "
                        "learning_rate, or check the demonstrations for extreme values"
                    )
                optimizer.zero_grad(set_to_none=True)
                batch_loss.backward()
                optimizer.step()
                epoch_losses.append(batch_loss.detach())
                step += 1
                bar.update(1)
                if step >= total_steps:
                    break
            history.append(th.stack(epoch_losses).mean().item())
            val = self._validation_loss(loss)
            logger.record("pretrain/loss", history[-1])
            if val is not None:
                logger.record("pretrain/val_loss", val)
            logger.record("pretrain/epoch", len(history))
            logger.dump(step=step)
            bar.set_postfix(loss=f"{history[-1]:.4f}")
        bar.close()
        self.policy.set_training_mode(False)
        if log_std is not None:
            with th.no_grad():
                self.policy.log_std.fill_(log_std)  # type: ignore[operator]
        self.reset_drift_reference()
        self._pretrain_done = True
        return {
            "n_steps": step,
            "n_epochs": len(history),
            "initial_val_loss": initial_val,
            "final_train_loss": history[-1],
            "final_val_loss": self._validation_loss(loss),
            "loss_history": history,
            "wall_time_s": time.time() - start,
        }

    def _validation_loss(self, loss: str) -> float | None:
        assert self.demo_buffer is not None
        batch = self.demo_buffer.validation_batch()
        if batch is None:
            return None
        with th.no_grad():
            return self._il_compute_loss(batch, loss).item()


# What ``pretrain_kwargs`` (and an rl-zoo YAML) may hold: pretrain's own arguments.
PRETRAIN_ARGUMENTS = set(inspect.signature(InRILMixin.pretrain).parameters) - {"self"}
