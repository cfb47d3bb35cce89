"""Callbacks: evaluation curves for experiments, and the BC-regularised RL baseline."""

from typing import TYPE_CHECKING, Any, cast

import gymnasium as gym
import numpy as np
import torch as th
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.evaluation import evaluate_policy
from torch.utils.hooks import RemovableHandle

from sb3_inril.common.schedule import is_inril_model

if TYPE_CHECKING:
    from sb3_inril.common.inril import InRILMixin


def evaluate_with_success(model: Any, env: gym.Env, n_episodes: int, seed: int) -> tuple[float, float, float]:
    """
    Deterministic returns and success rate of ``n_episodes`` episodes from the start states of ``seed``.

    :return: mean return, return std, success rate (NaN when the env sets no ``info["is_success"]``)
    """
    successes: list[bool] = []

    def record_success(locals_: dict[str, Any], globals_: dict[str, Any]) -> None:
        if locals_["done"] and "is_success" in locals_["info"]:
            successes.append(bool(locals_["info"]["is_success"]))

    env.reset(seed=seed)
    returns, _ = evaluate_policy(
        model, env, n_episodes, deterministic=True, return_episode_rewards=True, callback=record_success
    )
    success_rate = float(np.mean(successes[:n_episodes])) if successes else float("nan")
    return float(np.mean(returns)), float(np.std(returns)), success_rate


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
    """

    def __init__(self, eval_env: gym.Env, eval_freq: int, n_eval_episodes: int, seed: int) -> None:
        super().__init__()
        self.eval_env, self.eval_freq, self.n_eval_episodes, self.seed = eval_env, eval_freq, n_eval_episodes, seed
        self.curve: list[tuple[int, float, float, float]] = []

    def evaluate(self) -> None:
        self.curve.append(
            (self.num_timesteps, *evaluate_with_success(self.model, self.eval_env, self.n_eval_episodes, self.seed))
        )
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


class BCRegularization(BaseCallback):
    """
    The usual baseline: minimise ``RL loss + weight * BC loss`` at every RL step of the actor.

    A pre-step hook on the actor's RL optimizer adds ``weight * grad(BC loss)`` on a fresh demo
    minibatch to the RL gradient just before the RL step: the gradient of the summed loss, applied
    by the RL optimizer. Needs an IN-RIL model (for its demonstrations and IL loss), normally with
    ``il_interval=None``. The BC gradient is added after PPO's gradient clipping.

    :param weight: the fixed weight of the BC loss
    """

    def __init__(self, weight: float = 0.1, verbose: int = 0) -> None:
        super().__init__(verbose)
        if not weight > 0:
            raise ValueError(f"BCRegularization: weight expected > 0, found {weight!r}")
        self.weight = weight
        self._handle: RemovableHandle | None = None
        self._loss_sum = 0.0
        self._n = 0

    def _init_callback(self) -> None:
        model = cast("InRILMixin", self.model)
        if not is_inril_model(model) or model.demo_buffer is None:
            raise TypeError("BCRegularization: needs an IN-RIL model with demonstrations")
        self._params = model.il_parameters()
        self._handle = model.rl_actor_optimizer().register_step_pre_hook(self._add_bc_gradient)

    def _add_bc_gradient(self, optimizer: th.optim.Optimizer, args: Any, kwargs: Any) -> None:
        model: Any = self.model
        if model.interleaving.il_step_running or all(param.grad is None for param in self._params):
            return
        batch = model.demo_buffer.sample(model.il_batch_size)
        with th.enable_grad():
            loss = model.compute_il_loss(batch)
            grads = th.autograd.grad(self.weight * loss, self._params, allow_unused=True)
        for param, grad in zip(self._params, grads):
            if grad is not None:
                param.grad = grad if param.grad is None else param.grad.add_(grad)
        self._loss_sum += loss.detach()
        self._n += 1

    def _on_step(self) -> bool:
        return True

    def _on_rollout_end(self) -> None:
        if self._n:
            self.logger.record("train/bc_reg_loss", float(self._loss_sum / self._n))
            self._loss_sum, self._n = 0.0, 0

    def _on_training_end(self) -> None:
        if self._handle is not None:
            self._handle.remove()
            self._handle = None
