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
import time
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import torch as th
from stable_baselines3.common import utils
from stable_baselines3.common.vec_env import VecNormalize
from tqdm.auto import tqdm

from sb3_inril.common.demo_buffer import DemonstrationBatch, DemonstrationBuffer
from sb3_inril.common.validation import check_bool, check_choice, check_float, check_positive_int

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
        ``"denoising"``: the noise-prediction loss of a diffusion policy
    """

    def __init__(self, loss: Literal["nll", "mse", "denoising"] = "nll") -> None:
        check_choice("il_loss", loss, IL_LOSSES)
        self.loss = loss

    def __call__(self, model: "InRILMixin", batch: DemonstrationBatch, held_out: bool = False) -> th.Tensor:
        """
        :param held_out: a held-out evaluation: a loss that draws noise (``"denoising"``) draws it
            from a fixed-seed generator instead of the global RNG
        """
        if self.loss == "denoising":
            generator = None
            if held_out:
                generator = th.Generator(device=model.device).manual_seed(HELD_OUT_NOISE_SEED)
            return model.il_denoising_loss(batch.observations, batch.actions, generator)
        if self.loss == "nll":
            return -model.il_distribution(batch.observations).log_prob(batch.actions).mean()
        return th.mean((model.il_deterministic_actions(batch.observations) - batch.actions) ** 2)


def pretrain_policy(
    model: "InRILMixin",
    n_epochs: int | None = None,
    n_steps: int | None = None,
    batch_size: int | None = None,
    learning_rate: float = 1e-3,
    loss: Literal["nll", "mse", "denoising"] | None = None,
    log_std: float | None = None,
    init_vec_normalize: bool = True,
    progress_bar: bool = False,
) -> dict[str, Any]:
    """Behaviour cloning of ``model``'s actor; see :meth:`sb3_inril.common.inril.InRILMixin.pretrain`."""
    model.check_ready_for_il("pretrain()")
    buffer = model.demo_buffer
    assert buffer is not None
    if n_epochs is not None and n_steps is not None:
        raise ValueError(f"pretrain: pass n_epochs or n_steps, not both (found {n_epochs} and {n_steps})")
    if n_epochs is None and n_steps is None:
        n_epochs = 10
    check_positive_int("n_epochs", n_epochs, allow_none=True)
    check_positive_int("n_steps", n_steps, allow_none=True)
    check_positive_int("batch_size", batch_size, allow_none=True)
    calculator = ILLossCalculator(loss or model.il_loss)  # type: ignore[arg-type]  # il_loss is checked to be one of IL_LOSSES
    learning_rate = check_float("learning_rate", learning_rate, 0.0, low_open=True)
    if log_std is not None:
        log_std = check_float("log_std", log_std, -math.inf)
        if not isinstance(getattr(model.policy, "log_std", None), th.nn.Parameter):
            raise ValueError(f"log_std: the policy {type(model.policy).__name__} has no state-independent log_std to set")
    check_bool("init_vec_normalize", init_vec_normalize)
    batch_size = batch_size or model.il_batch_size
    # A non-finite loss stops pre-training and puts everything back as it was.
    policy_state = {name: value.clone() for name, value in model.policy.state_dict().items()}
    vec_normalize = model.get_vec_normalize_env()
    saved_obs_rms = _init_vec_normalize(vec_normalize, buffer) if init_vec_normalize else None

    logger = getattr(model, "_logger", None)
    if logger is None:
        logger = utils.configure_logger(model.verbose, model.tensorboard_log, f"{type(model).__name__}_pretrain")
    optimizer = th.optim.Adam(model.il_parameters(), lr=learning_rate)
    steps_per_epoch = int(np.ceil(len(buffer) / batch_size))
    total_steps = n_steps if n_steps is not None else n_epochs * steps_per_epoch  # type: ignore[operator]  # n_epochs is set when n_steps is None
    initial_val = validation_loss(model, calculator)
    history: list[float] = []
    start, step = time.time(), 0
    model.policy.set_training_mode(True)
    bar = tqdm(total=total_steps, desc="BC pre-training", disable=not progress_bar)
    while step < total_steps:
        epoch_losses = []
        for batch in buffer.iterate_epoch(batch_size):
            batch_loss = calculator(model, batch)
            if not th.isfinite(batch_loss):
                bar.close()
                model.policy.load_state_dict(policy_state)
                if saved_obs_rms is not None:
                    vec_normalize.obs_rms = saved_obs_rms  # type: ignore[union-attr]  # saved only when there is a VecNormalize
                raise ValueError(
                    f"pretrain: the {calculator.loss} loss became {batch_loss.item()} at step {step} "
                    f"(learning_rate={learning_rate}); the policy (and VecNormalize statistics) are back as they were "
                    "before pretrain(). Lower learning_rate, or check the demonstrations for extreme values"
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
        val = validation_loss(model, calculator)
        logger.record("pretrain/loss", history[-1])
        if val is not None:
            logger.record("pretrain/val_loss", val)
        logger.record("pretrain/epoch", len(history))
        logger.dump(step=step)
        bar.set_postfix(loss=f"{history[-1]:.4f}")
    bar.close()
    model.policy.set_training_mode(False)
    if log_std is not None:
        with th.no_grad():
            model.policy.log_std.fill_(log_std)  # type: ignore[operator]  # checked above to be a Parameter
    model.reset_drift_reference()
    return {
        "n_steps": step,
        "n_epochs": len(history),
        "initial_val_loss": initial_val,
        "final_train_loss": history[-1],
        "final_val_loss": validation_loss(model, calculator),
        "loss_history": history,
        "wall_time_s": time.time() - start,
    }


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
