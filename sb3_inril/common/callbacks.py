"""Callbacks: evaluation curves and fine-tuning diagnostics for experiments, and the BC-regularised RL baseline."""

from typing import TYPE_CHECKING, Any, cast

import gymnasium as gym
import numpy as np
import torch as th
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.evaluation import evaluate_policy
from stable_baselines3.common.type_aliases import Schedule
from stable_baselines3.common.vec_env import VecEnv
from torch.utils.hooks import RemovableHandle

from sb3_inril.common.schedule import is_inril_model
from sb3_inril.validation import check_positive_int

if TYPE_CHECKING:
    from sb3_inril.common.inril import InRILMixin


def evaluate_episodes(
    model: Any, env: gym.Env | VecEnv, n_episodes: int, seed: int
) -> tuple[list[float], list[int], list[float]]:
    """
    ``n_episodes`` deterministic episodes from the start states of ``seed`` (the env is reseeded
    first, so every call plays the same start states).

    :return: the returns, the lengths, and the success of each episode that reported
        ``info["is_success"]`` (empty when the env reports none)
    """
    successes: list[float] = []

    def record_success(locals_: dict[str, Any], globals_: dict[str, Any]) -> None:
        if locals_["done"] and "is_success" in locals_["info"]:
            successes.append(float(bool(locals_["info"]["is_success"])))

    if isinstance(env, VecEnv):
        env.seed(seed)  # applied at evaluate_policy's reset
    else:
        env.reset(seed=seed)  # seeds its RNG: evaluate_policy's reset then draws the same start states
    returns, lengths = evaluate_policy(
        model, env, n_episodes, deterministic=True, return_episode_rewards=True, callback=record_success
    )
    # With return_episode_rewards=True evaluate_policy returns the per-episode lists.
    return [float(r) for r in cast(list[float], returns)], [int(n) for n in cast(list[int], lengths)], successes[:n_episodes]


def evaluate_with_success(model: Any, env: gym.Env, n_episodes: int, seed: int) -> tuple[float, float, float]:
    """
    Deterministic returns and success rate of ``n_episodes`` episodes from the start states of ``seed``.

    :return: mean return, return std, success rate (NaN when the env sets no ``info["is_success"]``)
    """
    returns, _, successes = evaluate_episodes(model, env, n_episodes, seed)
    success_rate = float(np.mean(successes)) if successes else float("nan")
    return float(np.mean(returns)), float(np.std(returns)), success_rate


class EpisodeStartCallback(BaseCallback):
    """
    Tells the policy which rollout envs start an episode, through its ``reset_episode_state``
    (the imitation protocol), before it acts in them again: a policy that keeps per-episode state
    (a residual policy over a diffusion base executes the chunk its base planned) forgets it there.
    SB3's ``collect_rollouts`` does not tell the policy; the on-policy IN-RIL classes add this
    callback to every ``learn``; with SB3's own algorithms pass it yourself. A policy without
    ``reset_episode_state`` is left alone.
    """

    def _reset(self, episode_starts: Any) -> None:
        reset = getattr(self.model.policy, "reset_episode_state", None)
        if callable(reset) and episode_starts is not None:
            reset(np.asarray(episode_starts, dtype=bool))

    def _on_training_start(self) -> None:
        # After learn()'s set-up: every env when it has just been reset (all True), else those whose episode ended last.
        self._reset(getattr(self.model, "_last_episode_starts", None))

    def _on_step(self) -> bool:
        # Called after env.step and before the policy acts on the new observations.
        self._reset(self.locals.get("dones"))
        return True


class EvalCurve(BaseCallback):
    """
    Deterministic evaluation every ``eval_freq`` environment steps, including at step 0, on the
    same start states each time (the eval env is reset with ``seed`` before every evaluation).

    Each point of :attr:`curve` is ``(timesteps, mean return, return std, success rate)``; the
    success rate is the fraction of episodes whose last ``info["is_success"]`` is true (NaN when
    the env does not report it).

    :param eval_env: the evaluation env (not the training env)
    :param eval_freq: evaluate every this many environment steps
    :param n_eval_episodes: episodes per evaluation
    :param seed: seed of the evaluation episodes
    :param final_n_eval_episodes: episodes of the evaluation at the end of ``learn()``'s budget (the one
        a final score is read from: a smaller standard error where it matters; its first
        ``n_eval_episodes`` start states are those of the others); None: ``n_eval_episodes``
    """

    def __init__(
        self, eval_env: gym.Env, eval_freq: int, n_eval_episodes: int, seed: int, final_n_eval_episodes: int | None = None
    ) -> None:
        super().__init__()
        check_positive_int("final_n_eval_episodes", final_n_eval_episodes, allow_none=True)
        self.eval_env, self.eval_freq, self.n_eval_episodes, self.seed = eval_env, eval_freq, n_eval_episodes, seed
        self.final_n_eval_episodes = final_n_eval_episodes
        self.curve: list[tuple[int, float, float, float]] = []

    def evaluate(self) -> None:
        episodes = self.n_eval_episodes
        total = getattr(self.model, "_total_timesteps", None)
        if self.final_n_eval_episodes is not None and total is not None and self.num_timesteps >= total:
            episodes = self.final_n_eval_episodes
        self.curve.append((self.num_timesteps, *evaluate_with_success(self.model, self.eval_env, episodes, self.seed)))
        self.logger.record("eval/mean_reward", self.curve[-1][1])
        if np.isfinite(self.curve[-1][3]):
            self.logger.record("eval/success_rate", self.curve[-1][3])

    def _on_training_start(self) -> None:
        if not self.curve:
            self.evaluate()

    def _on_step(self) -> bool:
        if self.num_timesteps % self.eval_freq == 0:
            self.evaluate()
        return True


def check_weight(value: Any, name: str, allow_zero: bool) -> float:
    """A BC weight as a float; a clear error when it is not a finite number > 0 (>= 0 for a schedule's values)."""
    expected = ">= 0" if allow_zero else "> 0"
    is_number = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_))
    number = float(value) if is_number else float("nan")
    if not np.isfinite(number) or number < 0 or (number == 0 and not allow_zero):
        raise ValueError(f"BCRegularization: {name} expected a finite number {expected}, found {value!r}")
    return number


class BCRegularization(BaseCallback):
    """
    The usual baseline: minimise ``RL loss + weight * BC loss`` at every RL step of the actor.

    A pre-step hook on the actor's RL optimizer adds ``weight * grad(BC loss)`` on a fresh demo
    minibatch to the RL gradient just before the RL step: the gradient of the summed loss, applied
    by the RL optimizer. Needs an IN-RIL model (for its demonstrations and IL loss), normally with
    ``il_interval=None``. The BC gradient is added after PPO's gradient clipping.

    The weight may fade as training goes, like SB3's learning rates: a schedule is a function of
    the progress remaining (1 at the start of ``learn()``, 0 at its end), e.g.
    ``LinearSchedule(0.1, 0.0, 1.0)`` (from ``stable_baselines3.common.utils``) fades it from 0.1 to 0
    (measured on Hopper at 100,000 steps: no better than the fixed weight, docs/results.md). The
    weight in use is logged as
    ``train/bc_reg_weight``; a step whose weight is 0 computes no BC loss.

    With a residual policy (network separation) the RL optimizer holds the residual side only: the
    BC term is then the NLL of the demonstrated action under the whole policy, whose gradient
    reaches the residual (and ``log_std``), never the base.

    :param weight: the weight of the BC loss: a number > 0, or a schedule whose values are >= 0
    """

    def __init__(self, weight: float | Schedule = 0.1, verbose: int = 0) -> None:
        super().__init__(verbose)
        if callable(weight):
            for progress in (1.0, 0.5, 0.0):  # a broken schedule fails here, not halfway through a run
                check_weight(weight(progress), f"weight({progress})", allow_zero=True)
        else:
            check_weight(weight, "weight", allow_zero=False)
        self.weight = weight
        self._handle: RemovableHandle | None = None
        self._loss_sum: float | th.Tensor = 0.0  # a tensor while summing: no device sync per RL step
        self._n = 0
        self._last_weight: float | None = None

    def _init_callback(self) -> None:
        model = cast("InRILMixin", self.model)
        if not is_inril_model(model) or model.demo_buffer is None:
            raise TypeError("BCRegularization: needs an IN-RIL model with demonstrations")
        # A residual policy's RL optimizer never holds its base (what IL trains): the BC term then
        # regularises the policy RL trains, the whole policy's action (base + residual) through its residual.
        self._regularises_residual = bool(model.is_residual)
        self._params = model.rl_actor_parameters() if self._regularises_residual else model.il_parameters()
        self._remove_hook()  # attached by hand before, or by a learn() call of another model
        self._handle = model.rl_actor_optimizer().register_step_pre_hook(self._add_bc_gradient)
        # Removed however learn() ends: after an exception SB3 never calls on_training_end, and the BC term
        # stayed on the optimizer, regularising every later learn() call of the model.
        model.detach_when_learn_ends(self._remove_hook)

    def bc_loss(self, batch: Any) -> th.Tensor:
        """
        The BC loss of a demonstration batch: the model's IL loss, or for a residual policy the NLL of
        the demonstrated action under the whole policy (whose base enters detached: only the residual
        side gets its gradient; a policy that imitates chunks: the chunk's first action).
        """
        model: Any = self.model
        if not self._regularises_residual:
            return model.compute_il_loss(batch)
        actions = batch.actions
        horizon = int(getattr(model.policy, "il_action_chunk_size", 1))
        if horizon > 1:
            actions = actions.reshape(actions.shape[0], horizon, -1)[:, 0]
        return -model._actor_distribution(batch.observations).log_prob(actions).mean()

    def _add_bc_gradient(self, optimizer: th.optim.Optimizer, args: Any, kwargs: Any) -> None:
        model: Any = self.model
        if model.interleaving.il_step_running or all(param.grad is None for param in self._params):
            return
        weight = self.current_weight()
        self._last_weight = weight
        if weight == 0.0:
            return
        batch = model.demo_buffer.sample(model.il_batch_size)
        with th.enable_grad():
            loss = self.bc_loss(batch)
            grads = th.autograd.grad(weight * loss, self._params, allow_unused=True)
        for param, grad in zip(self._params, grads):
            if grad is not None:
                param.grad = grad if param.grad is None else param.grad.add_(grad)
        self._loss_sum += loss.detach()
        self._n += 1

    def current_weight(self) -> float:
        """The BC loss's weight now: the number, or the schedule at the model's progress remaining."""
        if not callable(self.weight):
            return float(self.weight)
        progress = float(self.model._current_progress_remaining)
        return check_weight(self.weight(progress), f"weight({progress})", allow_zero=True)

    def _on_step(self) -> bool:
        return True

    def _on_rollout_end(self) -> None:
        if self._last_weight is not None:  # the weight of the last RL step (before this rollout)
            self.logger.record("train/bc_reg_weight", self._last_weight)
        if self._n:
            self.logger.record("train/bc_reg_loss", float(self._loss_sum / self._n))
            self._loss_sum, self._n = 0.0, 0

    def _remove_hook(self) -> None:
        if self._handle is not None:
            self._handle.remove()
            self._handle = None

    def _on_training_end(self) -> None:
        self._remove_hook()


class FineTuningDiagnostics(BaseCallback):
    """
    What drives a collapse after BC, recorded as fine-tuning goes: one row per rollout (at most one
    per ``every`` environment steps), for on-policy and off-policy algorithms alike.

    Each row holds ``timesteps`` and, for on-policy algorithms, the statistics of the rollout just
    collected, before the update that uses it: ``advantage_mean``, ``advantage_std``,
    ``advantage_positive_fraction`` and ``value_explained_variance`` (of the critic's values against
    the rollout's returns: how well the critic knew the policy's returns when the actor moved).
    Every ``train/...`` value the algorithm logged at its last update (``approx_kl``,
    ``clip_fraction``, ``std``, ``value_loss``, SAC's ``actor_loss``, ``critic_loss``, ``ent_coef``,
    IN-RIL's ``il_loss``, ...) is added to the row of the rollout it followed, and for an IN-RIL
    model the drift from the pre-trained policy (``policy_drift``), the held-out IL loss and the
    counts of RL and IL updates so far.

    :param every: record at most once per this many environment steps (off-policy algorithms
        "collect a rollout" every ``train_freq`` steps)
    """

    def __init__(self, every: int = 1, verbose: int = 0) -> None:
        super().__init__(verbose)
        check_positive_int("every", every, allow_none=False)
        self.every = every
        self.rows: list[dict[str, float]] = []
        self._last_recorded: int | None = None
        self._awaiting_update: dict[str, float] | None = None  # the last row, until its update's values are in

    def _due(self) -> bool:
        return self._last_recorded is None or self.num_timesteps - self._last_recorded >= self.every

    def _add_training_values(self) -> None:
        row, self._awaiting_update = self._awaiting_update, None
        if row is None:
            return
        for key, value in self.model.logger.name_to_value.items():
            if key.startswith("train/") and isinstance(value, (int, float, np.floating, np.integer)):
                row[key.removeprefix("train/")] = float(value)
        if is_inril_model(self.model):
            model = cast("InRILMixin", self.model)
            row.update(model.il_diagnostics())
            row.update(
                n_rl_updates=float(model.interleaving.n_rl_updates), n_il_updates=float(model.interleaving.n_il_updates)
            )

    def _on_rollout_start(self) -> None:
        self._add_training_values()  # the update that followed the previous rollout is done

    def _on_rollout_end(self) -> None:
        if not self._due():
            return
        self._last_recorded = self.num_timesteps
        row: dict[str, float] = {"timesteps": float(self.num_timesteps)}
        buffer = getattr(self.model, "rollout_buffer", None)
        if buffer is not None and getattr(buffer, "full", False):
            advantages = np.asarray(buffer.advantages, dtype=np.float64).ravel()
            returns = np.asarray(buffer.returns, dtype=np.float64).ravel()
            values = np.asarray(buffer.values, dtype=np.float64).ravel()
            variance = returns.var()
            row.update(
                advantage_mean=float(advantages.mean()),
                advantage_std=float(advantages.std()),
                advantage_positive_fraction=float((advantages > 0).mean()),
                value_explained_variance=float(1 - (returns - values).var() / variance) if variance > 0 else float("nan"),
            )
        self.rows.append(row)
        self._awaiting_update = row

    def _on_step(self) -> bool:
        return True

    def _on_training_end(self) -> None:
        self._add_training_values()
