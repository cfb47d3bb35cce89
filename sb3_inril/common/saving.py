"""Saving that never leaves half a file where a checkpoint was.

SB3's ``save`` and ``save_replay_buffer`` write the target file in place: an interrupted save (an
exception, ``KeyboardInterrupt``, a full disk) left a truncated zip or pickle where the previous
checkpoint (``CheckpointCallback``'s, ``EvalCallback``'s best model) had been. These mixins write a
temporary sibling and move it into place (:func:`sb3_inril.demos.files.atomic_sb3_output`); what is
written, and where, is SB3's.
"""

from typing import Any

from sb3_inril.demos.files import atomic_sb3_output


class AtomicSaveMixin:
    """``save`` through a temporary file: goes in front of an SB3 algorithm class."""

    def save(self, path: Any, exclude: Any = None, include: Any = None) -> None:
        """
        Save the model (see SB3's ``save``); a path is written whole or not at all.

        :param path: a path (``.zip`` added to a name without an extension) or a file-like object
        :param exclude: names of the attributes not to save, besides the algorithm's own exclusions
        :param include: names of attributes to save that would be excluded otherwise
        """
        with atomic_sb3_output(path, "zip") as target:
            super().save(target, exclude=exclude, include=include)  # type: ignore[misc]  # the mixin's parent is the SB3 class it goes in front of


class AtomicReplayBufferSaveMixin(AtomicSaveMixin):
    """``save`` and ``save_replay_buffer`` through temporary files, for an off-policy algorithm."""

    def save_replay_buffer(self, path: Any) -> None:
        """
        Save the replay buffer (see SB3's ``save_replay_buffer``); a path is written whole or not at all.

        :param path: a path (``.pkl`` added to a name without an extension) or a file-like object
        """
        with atomic_sb3_output(path, "pkl") as target:
            super().save_replay_buffer(target)  # type: ignore[misc]  # the mixin's parent is the SB3 class it goes in front of
