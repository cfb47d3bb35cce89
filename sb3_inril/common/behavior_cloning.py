"""The IL loss and behaviour-cloning pre-training.

:class:`ILLossCalculator` is in the shape of imitation's ``BehaviorCloningLossCalculator``: a small
callable that scores a demonstration batch under a model's actor. It asks the model (the extension
API of :class:`sb3_inril.common.inril.InRILMixin`) for the actor's action distribution
(``il_distribution``) or deterministic action (``il_deterministic_actions``), so that the same
loss serves an actor-critic policy, SAC's squashed actor, TD3's deterministic actor and the base of
a residual policy. :func:`pretrain_policy` runs BC with it (``model.pretrain`` calls it).
"""

import copy
import math
import sys
import time
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, NoReturn

import numpy as np
import torch as th
from stable_baselines3.common import utils
from stable_baselines3.common.vec_env import VecNormalize
from tqdm.auto import tqdm

from sb3_inril.demos.buffer import DemonstrationBatch, DemonstrationBuffer
from sb3_inril.validation import check_bool, check_float, check_positive_int

if TYPE_CHECKING:
    from sb3_inril.common.inril import InRILMixin

IL_LOSSES = ("nll", "mse", "denoising")
# A fixed seed for the noise of held-out denoising losses: comparable from one evaluation to the next.
HELD_OUT_NOISE_SEED = 0


class ILLossCalculator:
    """
    The IL loss of a demonstration batch.

    :param loss: ``"nll"``: negative log-likelihood of the demonstration action under the actor's
        action distribution (SB3's distribution: Gaussian, gSDE, squashed Gaussian, categorical,
        multi-categorical, Bernoulli); ``"mse"``: squared error of the deterministic action (Box);
        any other: a loss of the policy's own (its ``il_loss`` in the imitation protocol, e.g. a
        diffusion policy's ``"denoising"`` noise-prediction loss)
    """

    def __init__(self, loss: Literal["nll", "mse", "denoising"] | str = "nll") -> None:
        if not isinstance(loss, str) or not loss:
            raise ValueError(f"il_loss: expected one of {IL_LOSSES} or a loss of the policy's own, found {loss!r}")
        self.loss = loss

    def __call__(self, model: "InRILMixin", batch: DemonstrationBatch, held_out: bool = False) -> th.Tensor:
        """
        :param held_out: a held-out evaluation: a policy's loss that draws noise (``"denoising"``) draws it
            from a fixed-seed generator instead of the global RNG
        """
        if self.loss == "nll":
            return -model.il_distribution(batch.observations).log_prob(batch.actions).mean()
        if self.loss == "mse":
            return th.mean((model.il_deterministic_actions(batch.observations) - batch.actions) ** 2)
        generator = None
        if held_out:
            generator = th.Generator(device=model.device).manual_seed(HELD_OUT_NOISE_SEED)
        return model.il_policy_loss(self.loss, batch.observations, batch.actions, generator)


#: Defaults of the early stopping that ``pretrain()`` does when neither ``n_epochs`` nor ``n_steps`` is given.
DEFAULT_MAX_EPOCHS = 500
DEFAULT_PATIENCE = 20
DEFAULT_MIN_DELTA = 1e-3
#: An epoch of fewer gradient steps counts as that fraction of an epoch of patience: with a small data set or a
#: large batch (SAC's 256 on 3,600 pairs: 15 steps) patience still means hundreds of steps, not a few dozen.
PATIENCE_EPOCH_STEPS = 50
#: A batch loss over this many times the first one (or over this many units when that is below 1) is a divergence.
DIVERGENCE_FACTOR = 1e3
STOP_REASONS = ("converged", "max_epochs", "n_epochs", "n_steps")


class PretrainDivergedError(ValueError):
    """Behaviour-cloning pre-training diverged (a non-finite or exploding loss, or an actor distribution with
    non-finite parameters); the policy and the VecNormalize statistics are back as they were before."""


@dataclass
class EarlyStopping:
    """
    When pre-training stops by itself: the monitored loss (held out, else training) has not improved by
    ``min_delta`` (relative) for ``patience`` epochs, or ``max_epochs`` have run.

    :param max_epochs: the budget, in passes over the training demonstrations
    :param patience: epochs without a significant improvement before stopping (an epoch of fewer than
        ``PATIENCE_EPOCH_STEPS`` gradient steps counts as that fraction of one)
    :param min_delta: an improvement counts when the loss falls below ``(1 - min_delta)`` times the last
        counted value (``min_delta`` times its magnitude, for a loss that can be negative such as the NLL)
    """

    max_epochs: int = DEFAULT_MAX_EPOCHS
    patience: int = DEFAULT_PATIENCE
    min_delta: float = DEFAULT_MIN_DELTA


class _BestTracker:
    """The best monitored loss so far (and, when early stopping, the policy's weights there) and the
    epochs since the last significant improvement."""

    def __init__(
        self, policy: th.nn.Module, initial: float | None, initial_state: dict[str, th.Tensor], stopping: EarlyStopping | None
    ) -> None:
        self.policy, self.stopping = policy, stopping
        # The policy before any step is a candidate too: pre-training must not leave it worse on held-out data.
        self.best = initial if initial is not None else math.inf
        self.best_epoch = 0
        self.best_state = initial_state
        self._reference = self.best  # the loss at the last significant improvement
        self.epochs_without_improvement = 0
        self._patience_used = 0.0

    def update(self, epoch: int, value: float, weight: float = 1.0) -> bool:
        """Record the monitored loss after ``epoch`` (which counts as ``weight`` epochs of patience); True when
        early stopping says stop."""
        if value < self.best:
            self.best, self.best_epoch = value, epoch
            if self.stopping is not None:
                self.best_state = _clone_state(self.policy)
        min_delta = self.stopping.min_delta if self.stopping is not None else 0.0
        if math.isinf(self._reference) or value < self._reference - min_delta * abs(self._reference):
            self._reference, self.epochs_without_improvement, self._patience_used = value, 0, 0.0
        else:
            self.epochs_without_improvement += 1
            self._patience_used += weight
        # The tolerance: fractional weights that add up to ``patience`` must stop, rounding or not.
        return self.stopping is not None and self._patience_used >= self.stopping.patience - 1e-9


class _Pretraining:
    """One ``pretrain()`` run: the loop and what it needs to put back when the loss diverges."""

    def __init__(
        self, model: "InRILMixin", calculator: ILLossCalculator, learning_rate: float, init_vec_normalize: bool
    ) -> None:
        self.model, self.calculator, self.learning_rate = model, calculator, learning_rate
        self.policy_state = _clone_state(model.policy)
        self.vec_normalize = model.get_vec_normalize_env()
        assert model.demo_buffer is not None
        self.saved_obs_rms = _init_vec_normalize(self.vec_normalize, model.demo_buffer) if init_vec_normalize else None
        self.optimizer = th.optim.Adam(model.il_parameters(), lr=learning_rate)
        self.first_loss: float | None = None
        self.step = 0

    def restore_and_raise(self, what: str, cause: BaseException | None = None) -> NoReturn:
        self.model.policy.load_state_dict(self.policy_state)
        if self.saved_obs_rms is not None:
            self.vec_normalize.obs_rms = self.saved_obs_rms  # type: ignore[union-attr]  # saved only with a VecNormalize
        raise PretrainDivergedError(
            f"pretrain: the {self.calculator.loss} loss {what} at step {self.step} (learning_rate={self.learning_rate}); "
            "the policy (and VecNormalize statistics) are back as they were before pretrain(). "
            "Lower learning_rate, or check the demonstrations for extreme values"
        ) from cause

    def batch_loss(self, batch: DemonstrationBatch) -> th.Tensor:
        """The loss of one batch, checked for divergence."""
        try:
            loss = self.calculator(self.model, batch)
        except ValueError as error:
            # torch.distributions refuses non-finite parameters ("Expected parameter scale ... to satisfy the
            # constraint"): the last step made the weights non-finite. Before any step, it is no divergence.
            if self.step == 0:
                raise
            self.restore_and_raise(f"could not be computed ({str(error).splitlines()[0]})", error)
        value = loss.item()
        if not math.isfinite(value):
            self.restore_and_raise(f"became {value}")
        if self.first_loss is None:
            self.first_loss = value
        elif value > DIVERGENCE_FACTOR * max(abs(self.first_loss), 1.0):
            self.restore_and_raise(
                f"exploded to {value:.4g} (over {DIVERGENCE_FACTOR:g} times its first value, {self.first_loss:.4g})"
            )
        return loss

    def epoch(self, batch_size: int, total_steps: int, bar: Any) -> float:
        """One pass over the training demonstrations (cut short at ``total_steps``); its mean training loss."""
        assert self.model.demo_buffer is not None
        losses = []
        for batch in self.model.demo_buffer.iterate_epoch(batch_size):
            loss = self.batch_loss(batch)
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            self.optimizer.step()
            losses.append(loss.detach())
            self.step += 1
            bar.update(1)
            if self.step >= total_steps:
                break
        return th.stack(losses).mean().item()


def pretrain_policy(
    model: "InRILMixin",
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
    """Behaviour cloning of ``model``'s actor; see :meth:`sb3_inril.common.inril.InRILMixin.pretrain`."""
    model.check_ready_for_il("pretrain()")
    buffer = model.demo_buffer
    assert buffer is not None
    stopping, learning_rate, log_std, show_bar = check_pretrain_arguments(
        model,
        n_epochs=n_epochs,
        n_steps=n_steps,
        batch_size=batch_size,
        learning_rate=learning_rate,
        log_std=log_std,
        init_vec_normalize=init_vec_normalize,
        progress_bar=progress_bar,
        max_epochs=max_epochs,
        patience=patience,
        min_delta=min_delta,
    )
    calculator = ILLossCalculator(loss or model.il_loss)
    batch_size = batch_size or model.il_batch_size
    run = _Pretraining(model, calculator, learning_rate, init_vec_normalize)

    logger = getattr(model, "_logger", None)
    if logger is None:
        logger = utils.configure_logger(model.verbose, model.tensorboard_log, f"{type(model).__name__}_pretrain")
    steps_per_epoch = int(np.ceil(len(buffer) / batch_size))
    if n_steps is not None:
        total_steps, stop_reason = n_steps, "n_steps"
    elif n_epochs is not None:
        total_steps, stop_reason = n_epochs * steps_per_epoch, "n_epochs"
    else:
        assert stopping is not None
        total_steps, stop_reason = stopping.max_epochs * steps_per_epoch, "max_epochs"
    initial_val = validation_loss(model, calculator)
    if stopping is not None and initial_val is None:
        warnings.warn(
            "pretrain: nothing is held out (demo_val_fraction=0), so early stopping watches the training loss, "
            "which keeps falling while the policy overfits; hold out episodes (demo_val_fraction > 0) or pass n_epochs",
            UserWarning,
            stacklevel=3,
        )
    tracker = _BestTracker(model.policy, initial_val, run.policy_state, stopping)
    history: list[float] = []
    val_history: list[float] = []
    start = time.time()
    model.policy.set_training_mode(True)
    bar = tqdm(total=total_steps, desc="BC pre-training", disable=not show_bar)
    try:
        while run.step < total_steps:
            history.append(run.epoch(batch_size, total_steps, bar))
            val = validation_loss(model, calculator)
            if val is not None:
                val_history.append(val)
            weight = min(1.0, steps_per_epoch / PATIENCE_EPOCH_STEPS)
            converged = tracker.update(len(history), val if val is not None else history[-1], weight)
            if converged:
                stop_reason = "converged"
            _record_epoch(logger, history[-1], val, len(history), tracker, converged or run.step >= total_steps, stop_reason)
            logger.dump(step=run.step)
            bar.set_postfix(loss=f"{history[-1]:.4g}", best=f"{tracker.best:.4g}")
            if converged:
                break
    finally:
        bar.close()
    model.policy.set_training_mode(False)
    if stopping is not None:
        # Early stopping leaves the best policy seen, not the last one.
        model.policy.load_state_dict(tracker.best_state)
    if log_std is not None:
        with th.no_grad():
            model.policy.log_std.fill_(log_std)  # type: ignore[operator]  # checked above to be a Parameter
    model.reset_drift_reference()
    stats = {
        "n_steps": run.step,
        "n_epochs": len(history),
        "stop_reason": stop_reason,
        "criterion": "val_loss" if initial_val is not None else "train_loss",
        "best_epoch": tracker.best_epoch,
        "best_val_loss": tracker.best if initial_val is not None else None,
        "initial_val_loss": initial_val,
        "final_train_loss": history[-1],
        "final_val_loss": validation_loss(model, calculator),
        "loss_history": history,
        "val_loss_history": val_history,
        "wall_time_s": time.time() - start,
    }
    _report(model, stats, calculator.loss, stopping)
    return stats


def check_pretrain_arguments(
    model: "InRILMixin",
    n_epochs: int | None = None,
    n_steps: int | None = None,
    batch_size: int | None = None,
    learning_rate: float = 1e-3,
    log_std: float | None = None,
    init_vec_normalize: bool = True,
    progress_bar: bool | None = None,
    max_epochs: int | None = None,
    patience: int | None = None,
    min_delta: float | None = None,
) -> tuple[EarlyStopping | None, float, float | None, bool]:
    """
    :func:`pretrain_policy`'s arguments (``loss`` aside: the model checks it against its policy), checked
    without touching the demonstrations. Also called when a model is set up with ``pretrain_kwargs``, so
    that a mistake in them (an rl-zoo YAML's) is found when the model is made, not at the first
    ``learn()``, after the env and the model were built.

    :param model: the model to pre-train (its policy must have a state-independent ``log_std`` when
        ``log_std`` is given)
    :return: the early stopping to do (None for a fixed ``n_epochs``/``n_steps``), the learning rate and
        ``log_std`` as floats, and whether to show the progress bar
    :raises TypeError, ValueError: naming the argument
    """
    stopping = _early_stopping(n_epochs, n_steps, max_epochs, patience, min_delta)
    check_positive_int("batch_size", batch_size, allow_none=True)
    learning_rate = check_float("learning_rate", learning_rate, 0.0, low_open=True)
    if log_std is not None:
        log_std = check_float("log_std", log_std, -math.inf)
        if not isinstance(getattr(model.policy, "log_std", None), th.nn.Parameter):
            raise ValueError(f"log_std: the policy {type(model.policy).__name__} has no state-independent log_std to set")
    check_bool("init_vec_normalize", init_vec_normalize)
    # By default the bar is shown where someone watches (a terminal), not in test logs, CI or redirected output.
    show_bar = sys.stderr.isatty() if progress_bar is None else check_bool("progress_bar", progress_bar)
    return stopping, learning_rate, log_std, show_bar


def _early_stopping(
    n_epochs: int | None, n_steps: int | None, max_epochs: int | None, patience: int | None, min_delta: float | None
) -> EarlyStopping | None:
    """The checked budget arguments: the early stopping to do (None for a fixed ``n_epochs``/``n_steps``)."""
    if n_epochs is not None and n_steps is not None:
        raise ValueError(f"pretrain: pass n_epochs or n_steps, not both (found {n_epochs} and {n_steps})")
    check_positive_int("n_epochs", n_epochs, allow_none=True)
    check_positive_int("n_steps", n_steps, allow_none=True)
    check_positive_int("max_epochs", max_epochs, allow_none=True)
    check_positive_int("patience", patience, allow_none=True)
    if min_delta is not None:
        min_delta = check_float("min_delta", min_delta, 0.0)
    if n_epochs is None and n_steps is None:
        return EarlyStopping(
            DEFAULT_MAX_EPOCHS if max_epochs is None else max_epochs,
            DEFAULT_PATIENCE if patience is None else patience,
            DEFAULT_MIN_DELTA if min_delta is None else min_delta,
        )
    given = [
        name
        for name, value in [("max_epochs", max_epochs), ("patience", patience), ("min_delta", min_delta)]
        if value is not None
    ]
    if given:
        fixed = "n_epochs" if n_epochs is not None else "n_steps"
        raise ValueError(
            f"pretrain: {', '.join(given)} set early stopping, which a fixed {fixed} turns off; pass one or the other"
        )
    return None


def _record_epoch(
    logger: Any, loss: float, val: float | None, epoch: int, tracker: _BestTracker, last: bool, stop_reason: str
) -> None:
    logger.record("pretrain/loss", loss)
    if val is not None:
        logger.record("pretrain/val_loss", val)
    logger.record("pretrain/epoch", epoch)
    logger.record("pretrain/best_epoch", tracker.best_epoch)
    logger.record("pretrain/epochs_without_improvement", tracker.epochs_without_improvement)
    if last:
        logger.record("pretrain/stop_reason", stop_reason)


def _report(model: "InRILMixin", stats: dict[str, Any], loss: str, stopping: EarlyStopping | None) -> None:
    """Say how pre-training stopped: a warning when the budget ran out while the loss was still improving,
    a line when ``verbose >= 1``."""
    watched = f"{'held-out' if stats['criterion'] == 'val_loss' else 'training'} {loss} loss"
    best = stats["best_val_loss"] if stats["criterion"] == "val_loss" else min(stats["loss_history"])
    if stats["stop_reason"] == "max_epochs":
        assert stopping is not None
        warnings.warn(
            f"pretrain: the {watched} was still improving when the budget, max_epochs={stopping.max_epochs}, ran out "
            f"(best {best:.4g}, at epoch {stats['best_epoch']}); pass a larger max_epochs (or n_epochs) to train longer",
            UserWarning,
            stacklevel=4,
        )
    if model.verbose < 1:
        return
    how = {
        "converged": f"the {watched} stopped improving (by {stopping.min_delta:g} relative for {stopping.patience} epochs)"
        if stopping is not None
        else "",
        "max_epochs": "the budget ran out (max_epochs), the loss still improving",
        "n_epochs": "n_epochs done",
        "n_steps": "n_steps done",
    }[stats["stop_reason"]]
    restored = f"; the best weights, of epoch {stats['best_epoch']}, restored" if stopping is not None else ""
    print(
        f"pretrain: stopped after {stats['n_epochs']} epochs ({stats['n_steps']} steps, {stats['wall_time_s']:.1f} s): "
        f"{how}; {watched} {best:.4g} at its best{restored}"
    )


def _clone_state(module: th.nn.Module) -> dict[str, th.Tensor]:
    return {name: value.clone() for name, value in module.state_dict().items()}


def _init_vec_normalize(vec_normalize: VecNormalize | None, buffer: DemonstrationBuffer) -> Any:
    """Initialise VecNormalize statistics that have seen no data from the demonstrations; return the
    statistics as they were (None when nothing changed)."""
    if vec_normalize is None or not vec_normalize.norm_obs:
        return None
    rms_by_key = vec_normalize.obs_rms if isinstance(vec_normalize.obs_rms, dict) else {None: vec_normalize.obs_rms}
    if any(rms.count >= 1 for rms in rms_by_key.values()):
        return None
    saved = copy.deepcopy(vec_normalize.obs_rms)
    raw = buffer.raw_observations()
    for key, rms in rms_by_key.items():
        rms.update(raw[key] if isinstance(raw, dict) else raw)
    return saved


def validation_loss(model: "InRILMixin", calculator: ILLossCalculator, max_size: int | None = None) -> float | None:
    """The IL loss on the held-out demonstrations (None when nothing is held out)."""
    assert model.demo_buffer is not None
    batch = model.demo_buffer.validation_batch(max_size)
    if batch is None:
        return None
    with th.no_grad():
        return calculator(model, batch, held_out=True).item()
