"""A performance floor for fine-tuning: an imitation strength that adapts to a constraint, and a
rollback guard.

- :class:`PerformanceFloor` keeps the policy's return (or success rate) over its recent *training*
  episodes above ``(1 - tolerance)`` times the same measurement of the start policy, and/or its
  imitation loss on the held-out demonstrations below the start's plus a budget, by dual ascent: a
  Lagrange multiplier per constraint rises while the constraint is violated and decays to zero while
  it holds with room to spare; their sum is the imitation strength (IN-RIL's IL steps per RL step,
  or :class:`~sb3_inril.common.callbacks.BCRegularization`'s weight). It spends no env step.
- :class:`RollbackGuard` evaluates on a fixed set of start states every ``eval_freq`` steps, keeps
  the best policy (with every optimizer and the normaliser's statistics) and restores it when an
  evaluation falls below the floor by more than its own standard error. Its evaluation episodes are
  env steps, counted in :attr:`RollbackGuard.eval_env_steps`.
"""

import copy
import math
from typing import Any, Literal

import gymnasium as gym
import numpy as np
import torch as th
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.save_util import recursive_getattr
from stable_baselines3.common.vec_env import VecEnv, sync_envs_normalization

from sb3_inril.common.callbacks import BCRegularization, evaluate_episodes
from sb3_inril.common.schedule import is_inril_model
from sb3_inril.validation import check_choice, check_float, check_positive_int

METRICS = ("auto", "return", "success")


def floor_of(reference: float, tolerance: float) -> float:
    """
    The lowest score allowed: ``(1 - tolerance) * reference`` for a positive reference, and the same
    distance below a negative one (``reference - tolerance * |reference|``: a Pendulum return of
    -900 with 5% gives -945, not -855).
    """
    return reference - tolerance * abs(reference)


class DualAscent:
    """
    A Lagrange multiplier for the constraint ``violation <= 0``, by projected dual ascent:
    ``lambda <- clip(lambda + rate * violation, low, high)``.

    It rises while the constraint is violated (``violation > 0``) and decays, by ``decay_rate`` times
    the margin, while it holds.

    :param rate: the multiplier's step size per update (per unit of violation)
    :param initial: the multiplier before any update
    :param low: its lower bound (0: no imitation when the constraint holds)
    :param high: its upper bound
    :param decay_rate: the step size while the constraint holds (``violation < 0``); None: ``rate``.
        A smaller one lets the multiplier fall more slowly than it rises
    """

    def __init__(
        self, rate: float = 1.0, initial: float = 0.0, low: float = 0.0, high: float = 1.0, decay_rate: float | None = None
    ) -> None:
        self.rate = check_float("multiplier_rate", rate, 0.0, low_open=True)
        self.decay_rate = self.rate if decay_rate is None else check_float("decay_rate", decay_rate, 0.0, low_open=True)
        self.low = check_float("multiplier_low", low, 0.0)
        self.high = check_float("max_strength", high, self.low)
        self.value = check_float("initial_strength", initial, self.low, self.high)
        self.n_updates = 0

    def update(self, violation: float) -> float:
        """One ascent step on a measured violation (positive: the constraint is violated); the new value."""
        rate = self.rate if violation > 0 else self.decay_rate
        self.value = float(np.clip(self.value + rate * float(violation), self.low, self.high))
        self.n_updates += 1
        return self.value

    def __repr__(self) -> str:
        return (
            f"DualAscent(rate={self.rate}, decay_rate={self.decay_rate}, value={self.value}, low={self.low}, high={self.high})"
        )


class EpisodeTracker:
    """
    The training episodes a model finishes, read off the ``infos``/``dones``/``rewards`` that SB3's
    ``collect_rollouts`` (on- and off-policy alike) hands its callbacks at every step: no extra env
    step. A return is Monitor's ``info["episode"]["r"]`` where the env has a Monitor (SB3 adds one
    to an env it makes), else the sum of the env's rewards before any ``VecNormalize`` scaling;
    success is the last ``info["is_success"]`` of an episode.

    :param n_envs: the number of envs of the training VecEnv
    :param window: how many of the latest finished episodes :meth:`score` averages
    """

    def __init__(self, n_envs: int, window: int) -> None:
        self.window = window
        self.running = np.zeros(n_envs, dtype=np.float64)
        self.returns: list[float] = []  # every finished episode, in the order they finished
        self.successes: list[float] = []  # NaN where the episode reported no is_success

    def step(self, rewards: np.ndarray, dones: np.ndarray, infos: list[dict[str, Any]]) -> int:
        """Account one VecEnv step; the number of episodes it finished."""
        self.running += np.asarray(rewards, dtype=np.float64).reshape(-1)
        finished = 0
        for index in np.flatnonzero(np.asarray(dones).reshape(-1)):
            info = infos[index]
            episode = info.get("episode")
            episode_return = (
                float(episode["r"]) if isinstance(episode, dict) and "r" in episode else float(self.running[index])
            )
            success = float(bool(info["is_success"])) if "is_success" in info else math.nan
            self.running[index] = 0.0
            self.returns.append(episode_return)
            self.successes.append(success)
            finished += 1
        return finished

    @property
    def n_episodes(self) -> int:
        return len(self.returns)

    @property
    def reports_success(self) -> bool:
        """True once a finished episode reported ``info["is_success"]``."""
        return any(not math.isnan(s) for s in self.successes)

    def _values(self, metric: Literal["return", "success"], episodes: slice | None) -> list[float]:
        """The measured values of ``episodes`` (default: the latest ``window``), episodes without one left out."""
        values = (self.returns if metric == "return" else self.successes)[episodes or slice(-self.window, None)]
        return [v for v in values if not math.isnan(v)]

    def score(self, metric: Literal["return", "success"], episodes: slice | None = None) -> float:
        """The mean return or success rate over the latest ``window`` episodes (or a slice of all)."""
        values = self._values(metric, episodes)
        return float(np.mean(values)) if values else math.nan

    def standard_error(self, metric: Literal["return", "success"]) -> float:
        """The standard error of :meth:`score`'s mean over the latest ``window`` episodes (0 for fewer than 2)."""
        values = self._values(metric, None)
        return float(np.std(values, ddof=1) / math.sqrt(len(values))) if len(values) > 1 else 0.0


class PerformanceFloor(BaseCallback):
    """
    An imitation strength that follows a constraint: the policy must not fall below its start.

    Two constraints, each with its own Lagrange multiplier (:class:`DualAscent`):

    - **performance**: the mean return (or success rate, for envs that report
      ``info["is_success"]``) of the latest ``window`` finished *training* episodes must stay at or
      above :func:`floor_of` ``(reference, tolerance)``, where ``reference`` is the same measurement
      of the start policy: the first ``window`` training episodes of ``learn()`` (PPO's first
      rollout, and with an off-policy algorithm the episodes before ``learning_starts`` or during the
      critic warm-up, come from the start policy itself) unless given. The violation is measured
      relative to ``|reference|``: ``(floor - score) / |reference|``;
    - **imitation loss** (with ``il_loss_budget``): the IL loss on the held-out demonstrations must
      stay at or below its value when ``learn()`` starts plus ``il_loss_budget``; the violation is
      ``(loss - start - budget) / budget``.

    After every rollout in which at least one training episode finished (on-policy: every rollout;
    off-policy: every ``train_freq`` collection), each multiplier takes one ascent step; the
    imitation strength is their sum, bounded by ``max_strength``. It rises when the policy is
    slipping and decays to zero when the policy is safely above its floor. It drives:

    - with ``bc_regularization`` given (a :class:`~sb3_inril.common.callbacks.BCRegularization`
      in the same ``learn()`` call): its BC weight;
    - otherwise the IN-RIL model's IL steps per RL step: strength ``s`` in ``(0, 1)`` sets
      ``il_interval = round(1 / s)`` and ``il_steps = 1``, ``s >= 1`` sets ``il_interval = 1`` and
      ``il_steps = round(s)``, and ``s`` below ``1 / max_il_interval`` turns IL off
      (``il_interval = None``).

    No env step is spent: both measurements come from what training already produces. Logged under
    ``train/``: ``floor_score``, ``floor_reference``, ``floor_violation``, ``floor_multiplier``,
    ``floor_strength`` (and with the IL-loss constraint ``floor_il_val_loss``,
    ``floor_il_violation``, ``floor_il_multiplier``); :attr:`history` keeps one row per update.

    :param tolerance: the fraction of ``|reference|`` the score may lose (0.05: 5%)
    :param metric: ``"return"``, ``"success"``, or ``"auto"`` (success once an episode reports
        ``info["is_success"]``, else return)
    :param window: how many of the latest finished training episodes the score averages (and how
        many first episodes measure the reference)
    :param reference: the start policy's score, if known (e.g. from an evaluation); None measures it
        from the first ``window`` training episodes
    :param il_loss_budget: the held-out IL loss may rise this much above its start (None: no such
        constraint)
    :param multiplier_rate: each multiplier's ascent step per unit of (relative) violation
    :param decay_rate: the step while a constraint holds (None: ``multiplier_rate``); smaller lets the
        strength fall more slowly than it rises
    :param confidence: the performance constraint checks the window's mean minus this many standard
        errors (a lower confidence bound: noisy episodes then read as a risk, not as room to spare);
        0 checks the mean
    :param initial_strength: the imitation strength until the first update; None takes the setting
        the model (or ``bc_regularization``) has when the first ``learn()`` call starts. A floor passed to
        later ``learn()`` calls (a run continued with ``reset_num_timesteps=False``, or the model loaded
        from a checkpoint) goes on from its multipliers, reference and measured episodes
    :param max_strength: the strength's upper bound (IL steps per RL step, or BC weight)
    :param max_il_interval: IL turns off below a strength of ``1 / max_il_interval``
    :param bc_regularization: the :class:`BCRegularization` whose weight this drives (None: drive
        the IN-RIL model's IL rate)
    """

    def __init__(
        self,
        tolerance: float = 0.05,
        metric: Literal["auto", "return", "success"] = "auto",
        window: int = 5,
        reference: float | None = None,
        il_loss_budget: float | None = None,
        multiplier_rate: float = 1.0,
        decay_rate: float | None = None,
        confidence: float = 0.0,
        initial_strength: float | None = None,
        max_strength: float = 1.0,
        max_il_interval: int = 100,
        bc_regularization: BCRegularization | None = None,
        verbose: int = 0,
    ) -> None:
        super().__init__(verbose)
        self.tolerance = check_float("tolerance", tolerance, 0.0, 1.0)
        check_choice("metric", metric, METRICS)
        check_positive_int("window", window, allow_none=False)
        check_positive_int("max_il_interval", max_il_interval, allow_none=False)
        if reference is not None:
            check_float("reference", reference, -math.inf)
        if il_loss_budget is not None:
            check_float("il_loss_budget", il_loss_budget, 0.0, low_open=True)
        check_float("multiplier_rate", multiplier_rate, 0.0, low_open=True)
        if decay_rate is not None:
            check_float("decay_rate", decay_rate, 0.0, low_open=True)
        self.confidence = check_float("confidence", confidence, 0.0)
        check_float("max_strength", max_strength, 0.0, low_open=True)
        if initial_strength is not None:
            check_float("initial_strength", initial_strength, 0.0, max_strength)
        if bc_regularization is not None and not isinstance(bc_regularization, BCRegularization):
            raise TypeError(
                f"bc_regularization: expected a BCRegularization callback or None, found {type(bc_regularization).__name__}"
            )
        self.metric = metric
        self.window = window
        self.reference = None if reference is None else float(reference)
        self.il_loss_budget = il_loss_budget
        self.multiplier_rate = float(multiplier_rate)
        self.decay_rate = decay_rate
        self.initial_strength = initial_strength
        self.max_strength = float(max_strength)
        self.max_il_interval = max_il_interval
        self.bc_regularization = bc_regularization
        self.history: list[dict[str, float]] = []
        self.tracker: EpisodeTracker | None = None
        self.performance: DualAscent | None = None
        self.imitation: DualAscent | None = None
        self.il_loss_start: float | None = None
        self._episodes_at_last_update = 0

    # -- set-up ------------------------------------------------------------------------------------
    def _init_callback(self) -> None:
        model: Any = self.model
        if not is_inril_model(model) or model.demo_buffer is None:
            raise TypeError(
                f"PerformanceFloor: needs an IN-RIL model with demonstrations, found {type(model).__name__}"
                + ("" if not is_inril_model(model) else " without demonstrations")
            )
        if self.bc_regularization is None and model.adaptive_interval is not None:
            raise ValueError(
                "PerformanceFloor: il_interval='adaptive' sets the IL rate from the gradients' agreement; the floor "
                "sets it from the constraint. Use a fixed il_interval (the floor's starting rate) or None"
            )
        if self.il_loss_budget is not None and model.demo_buffer.validation_batch(1) is None:
            raise ValueError(
                "PerformanceFloor: il_loss_budget needs held-out demonstrations, found none (demo_val_fraction=0 or too "
                "few episodes)"
            )
        # A floor passed to a later learn() call (a run continued with reset_num_timesteps=False, or the model
        # loaded from a checkpoint) goes on from its multipliers and measured episodes, as it keeps its
        # reference: made afresh, the performance multiplier restarted at the model's rounded IL rate (0.7
        # became 1.0) and the IL-loss multiplier at 0.
        if self.performance is None:
            initial = (
                self.initial_strength if self.initial_strength is not None else min(self._strength_now(), self.max_strength)
            )
            self.performance = DualAscent(self.multiplier_rate, initial, 0.0, self.max_strength, self.decay_rate)
        if self.imitation is None and self.il_loss_budget:
            self.imitation = DualAscent(self.multiplier_rate, 0.0, 0.0, self.max_strength, self.decay_rate)
        if self.tracker is None or self.tracker.running.shape != (self.training_env.num_envs,):
            self.tracker = EpisodeTracker(self.training_env.num_envs, self.window)
            self._episodes_at_last_update = 0
        else:
            # The finished episodes are kept; the sums of the episodes learn() has just reset (all of them after
            # a reset, e.g. a loaded model's) start again, those the env goes on with (reset_num_timesteps=False) go on.
            starts = getattr(self.model, "_last_episode_starts", None)
            if starts is not None:
                self.tracker.running[np.asarray(starts, dtype=bool).reshape(-1)] = 0.0
        self._apply(self.strength)

    def _on_training_start(self) -> None:
        if self.il_loss_budget is not None and self.il_loss_start is None:
            self.il_loss_start = self._il_val_loss()

    def _strength_now(self) -> float:
        """The imitation strength the model (or the BC regularisation) has now."""
        if self.bc_regularization is not None:
            weight = self.bc_regularization.weight
            return float(weight(1.0)) if callable(weight) else float(weight)
        return self.il_rate

    def _il_val_loss(self) -> float:
        model: Any = self.model  # an IN-RIL model (checked when attached)
        return float(model.il_diagnostics()["il_val_loss"])

    @property
    def strength(self) -> float:
        """The imitation strength in force: the multipliers' sum, bounded by ``max_strength``."""
        assert self.performance is not None, "PerformanceFloor: not attached to a model yet"
        total = self.performance.value + (self.imitation.value if self.imitation is not None else 0.0)
        return min(total, self.max_strength)

    def _apply(self, strength: float) -> None:
        if self.bc_regularization is not None:
            self.bc_regularization.weight = strength  # 0 computes no BC loss
            return
        model: Any = self.model
        if strength < 1.0 / self.max_il_interval:
            model.il_interval = None
        elif strength < 1.0:
            model.il_interval, model.il_steps = max(1, round(1.0 / strength)), 1
        else:
            model.il_interval, model.il_steps = 1, max(1, round(strength))

    @property
    def il_rate(self) -> float:
        """IL steps per RL step the IN-RIL model runs now (what :meth:`_apply` rounded the strength to)."""
        model: Any = self.model
        return 0.0 if model.il_interval is None else model.il_steps / model.il_interval

    # -- measurement ---------------------------------------------------------------------------------
    def _metric(self) -> Literal["return", "success"]:
        assert self.tracker is not None
        if self.metric == "auto":
            return "success" if self.tracker.reports_success else "return"
        return "success" if self.metric == "success" else "return"

    def _on_step(self) -> bool:
        assert self.tracker is not None
        rewards = self.locals.get("rewards")
        dones = self.locals.get("dones")
        infos = self.locals.get("infos")
        if rewards is None or dones is None or infos is None:
            return True
        normalizer = self.model.get_vec_normalize_env()
        if normalizer is not None:  # the env's own rewards, not VecNormalize's scaled ones
            rewards = normalizer.get_original_reward()
        self.tracker.step(rewards, dones, infos)
        return True

    def _on_rollout_end(self) -> None:
        assert self.tracker is not None and self.performance is not None
        if self.tracker.n_episodes == self._episodes_at_last_update:
            return  # nothing new measured: no step
        self._episodes_at_last_update = self.tracker.n_episodes
        metric = self._metric()
        if self.reference is None:
            if self.tracker.n_episodes < self.window:
                return  # the start policy is still being measured
            self.reference = self.tracker.score(metric, slice(0, self.window))
        score = self.tracker.score(metric)
        row: dict[str, float] = {"timesteps": float(self.num_timesteps), "score": score, "reference": self.reference}
        if self.confidence > 0:
            score -= self.confidence * self.tracker.standard_error(metric)
            row["lower_bound"] = score
        if math.isfinite(score) and math.isfinite(self.reference):
            scale = abs(self.reference) if self.reference != 0 else 1.0
            violation = (floor_of(self.reference, self.tolerance) - score) / scale
            self.performance.update(violation)
            row["violation"] = violation
        if self.imitation is not None and self.il_loss_start is not None and self.il_loss_budget is not None:
            loss = self._il_val_loss()
            il_violation = (loss - self.il_loss_start - self.il_loss_budget) / self.il_loss_budget
            self.imitation.update(il_violation)
            row.update(il_val_loss=loss, il_violation=il_violation, il_multiplier=self.imitation.value)
        self._apply(self.strength)
        row.update(multiplier=self.performance.value, strength=self.strength)
        if self.bc_regularization is None:
            row["il_rate"] = self.il_rate
        self.history.append(row)
        for key, value in row.items():
            if key != "timesteps":
                self.logger.record(f"train/floor_{key}", value)


class RollbackGuard(BaseCallback):
    """
    Keep the best policy seen, and go back to it when an evaluation falls below the floor.

    At the start of ``learn()`` and every ``eval_freq`` env steps, the deterministic policy plays
    ``n_eval_episodes`` episodes from the same start states (the eval env reset with ``seed`` each
    time). The first evaluation is the reference; the floor is :func:`floor_of` ``(reference,
    tolerance)`` unless given. An evaluation that beats the best so far makes a snapshot: every
    state dict and tensor SB3 saves for the algorithm (the policy, every optimizer, SAC's entropy
    coefficient, IN-RIL's IL optimizer, ...) and the ``VecNormalize`` statistics. An evaluation whose
    mean is below the floor by more than its own standard error (``std / sqrt(n)``) restores the
    snapshot, bit for bit, and training goes on from it. The replay buffer is kept (data, not policy).
    With an on-policy algorithm, the rollout being collected when a rollback happens was played
    (wholly, with ``eval_freq`` a multiple of ``n_steps * n_envs``) by the abandoned policy: the next
    update of the restored policy learns from it as PPO learns from any stale data, through its
    clipped probability ratio.

    The evaluation episodes are env steps: :attr:`eval_env_steps` counts them (logged as
    ``rollback/eval_env_steps``, with ``rollback/n_rollbacks`` and ``rollback/best_score``), and a
    fair comparison adds them to the guarded run's budget.

    :param eval_env: the evaluation env (not the training env); with ``VecNormalize`` its statistics
        are synchronised from the training env's before every evaluation, as SB3's ``EvalCallback`` does
    :param eval_freq: evaluate every this many env steps (of the training env)
    :param n_eval_episodes: episodes per evaluation
    :param seed: the seed of the start states
    :param tolerance: the fraction of ``|reference|`` an evaluation may lose before a rollback is considered
    :param floor: the floor itself, if known (None: from the first evaluation and ``tolerance``)
    :param metric: ``"return"``, ``"success"``, or ``"auto"`` (success when the env reports ``info["is_success"]``)
    :param restore_best_at_end: at the end of ``learn()``, also restore the best snapshot if the last
        evaluation is below it by more than its standard error (the policy to deploy)
    """

    def __init__(
        self,
        eval_env: gym.Env | VecEnv,
        eval_freq: int,
        n_eval_episodes: int = 10,
        seed: int = 0,
        tolerance: float = 0.05,
        floor: float | None = None,
        metric: Literal["auto", "return", "success"] = "auto",
        restore_best_at_end: bool = False,
        verbose: int = 0,
    ) -> None:
        super().__init__(verbose)
        check_positive_int("eval_freq", eval_freq, allow_none=False)
        check_positive_int("n_eval_episodes", n_eval_episodes, allow_none=False)
        check_choice("metric", metric, METRICS)
        self.tolerance = check_float("tolerance", tolerance, 0.0, 1.0)
        if floor is not None:
            check_float("floor", floor, -math.inf)
        self.eval_env = eval_env
        self.eval_freq, self.n_eval_episodes, self.seed = eval_freq, n_eval_episodes, seed
        self.floor = None if floor is None else float(floor)
        self.metric = metric
        self.restore_best_at_end = bool(restore_best_at_end)
        self.eval_env_steps = 0
        self.n_rollbacks = 0
        self.best_score = -math.inf
        self.best_timesteps: int | None = None
        self.evaluations: list[dict[str, float]] = []
        self._snapshot: dict[str, Any] | None = None
        self._last_eval_at: int | None = None

    # -- evaluation ----------------------------------------------------------------------------------
    def evaluate(self) -> tuple[float, float]:
        """One evaluation: the score (mean return or success rate) and its standard error."""
        if self.model.get_vec_normalize_env() is not None and isinstance(self.eval_env, VecEnv):
            sync_envs_normalization(self.training_env, self.eval_env)
        returns, lengths, successes = evaluate_episodes(self.model, self.eval_env, self.n_eval_episodes, self.seed)
        self.eval_env_steps += sum(lengths)
        use_success = self.metric == "success" or (self.metric == "auto" and len(successes) > 0)
        values = np.asarray(successes if use_success else returns, dtype=np.float64)
        if values.size == 0:
            raise ValueError("RollbackGuard: metric='success' but the eval env reports no info['is_success']")
        standard_error = float(values.std(ddof=1) / np.sqrt(values.size)) if values.size > 1 else 0.0
        return float(values.mean()), standard_error

    # -- snapshots -----------------------------------------------------------------------------------
    def take_snapshot(self) -> dict[str, Any]:
        """A deep copy of everything the guard restores (the model's state dicts and tensors, the normaliser's statistics)."""
        state_dicts, tensors = self.model._get_torch_save_params()  # what the algorithm's own save() writes
        snapshot: dict[str, Any] = {
            "state_dicts": {name: copy.deepcopy(recursive_getattr(self.model, name).state_dict()) for name in state_dicts},
            "tensors": {name: recursive_getattr(self.model, name).detach().clone() for name in tensors},
        }
        normalizer = self.model.get_vec_normalize_env()
        if normalizer is not None:
            snapshot["normalizer"] = (copy.deepcopy(normalizer.obs_rms), copy.deepcopy(normalizer.ret_rms))
        return snapshot

    def restore(self, snapshot: dict[str, Any]) -> None:
        """Put a snapshot back into the model, bit for bit (copies: the snapshot stays usable)."""
        for name, state in snapshot["state_dicts"].items():
            recursive_getattr(self.model, name).load_state_dict(copy.deepcopy(state))
        with th.no_grad():
            for name, tensor in snapshot["tensors"].items():
                recursive_getattr(self.model, name).copy_(tensor)
        normalizer = self.model.get_vec_normalize_env()
        if "normalizer" in snapshot and normalizer is not None:
            normalizer.obs_rms, normalizer.ret_rms = copy.deepcopy(snapshot["normalizer"])

    # -- the guard -----------------------------------------------------------------------------------
    def _check(self, at_end: bool = False) -> None:
        score, standard_error = self.evaluate()
        self._last_eval_at = self.num_timesteps
        if self.floor is None:
            self.floor = floor_of(score, self.tolerance)
        row = {"timesteps": float(self.num_timesteps), "score": score, "standard_error": standard_error, "rolled_back": 0.0}
        if score > self.best_score:
            self.best_score, self.best_timesteps = score, self.num_timesteps
            self._snapshot = self.take_snapshot()
        elif self._snapshot is not None and (
            score < self.floor - standard_error
            or (at_end and self.restore_best_at_end and score < self.best_score - standard_error)
        ):
            self.restore(self._snapshot)
            self.n_rollbacks += 1
            row["rolled_back"] = 1.0
            if self.verbose:
                print(
                    f"RollbackGuard: {score:.3f} +- {standard_error:.3f} at {self.num_timesteps} steps is below the floor "
                    f"{self.floor:.3f}: back to the policy of step {self.best_timesteps} ({self.best_score:.3f})"
                )
        self.evaluations.append(row)
        self.logger.record("rollback/score", score)
        self.logger.record("rollback/best_score", self.best_score)
        self.logger.record("rollback/n_rollbacks", self.n_rollbacks)
        self.logger.record("rollback/eval_env_steps", self.eval_env_steps)

    def _on_training_start(self) -> None:
        if self._snapshot is None:
            self._check()

    def _on_step(self) -> bool:
        if self.num_timesteps % self.eval_freq < self.training_env.num_envs and self._last_eval_at != self.num_timesteps:
            self._check()
        return True

    def _on_training_end(self) -> None:
        # Always a fresh evaluation: the last one ran during the last rollout, before the last update.
        if self.restore_best_at_end:
            self._check(at_end=True)
