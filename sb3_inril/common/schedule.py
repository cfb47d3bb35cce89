"""The state of the interleaving schedule: which RL updates have happened and when IL steps are due.

Pure bookkeeping, no torch: the hooks of :class:`sb3_inril.common.inril.InRILMixin` report each
RL update of the actor here and take ``il_steps`` IL steps whenever :meth:`count_unit` says so.
It is public (``model.interleaving``), read by gradient surgery, callbacks and the logger, and
saved with the model like SB3's ``_n_updates``.
"""

from dataclasses import dataclass

#: What ``il_interval`` counts.
IL_INTERVAL_UNITS = ("gradient_step", "train_call")


@dataclass
class InterleavingState:
    """
    Counters and flags of the interleaving.

    :param n_rl_updates: RL optimizer steps that updated the actor (critic warm-up steps excluded)
    :param n_il_updates: IL gradient steps taken
    :param units_since_il: units of ``il_interval`` counted since the last IL injection
    :param n_warmup_steps_done: RL steps of the critic warm-up that held the actor
    :param n_warmup_train_calls_done: ``train()`` calls of the warm-up (``critic_warmup_unit="train_call"``)
    :param il_step_running: True while an IL step runs (hooks on a shared optimizer ignore it)
    :param rl_step_skipped: True between the pre- and post-step hooks of a held (warm-up) RL step
    """

    n_rl_updates: int = 0
    n_il_updates: int = 0
    units_since_il: int = 0
    n_warmup_steps_done: int = 0
    n_warmup_train_calls_done: int = 0
    il_step_running: bool = False
    rl_step_skipped: bool = False

    def count_unit(self, interval: int | None) -> bool:
        """Count one unit of ``il_interval``; True when an IL injection is due now."""
        if interval is None:
            return False
        self.units_since_il += 1
        if self.units_since_il >= interval:
            self.units_since_il = 0
            return True
        return False

    def in_critic_warmup(self, critic_warmup_steps: int) -> bool:
        """True while the first ``critic_warmup_steps`` RL steps update only the critics."""
        return self.n_warmup_steps_done < critic_warmup_steps


def is_inril_model(model: object) -> bool:
    """True for a model with IN-RIL's extension API (its schedule state), without importing the mixin."""
    return isinstance(getattr(model, "interleaving", None), InterleavingState)
