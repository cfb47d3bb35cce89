"""Reading imitation's datasets: a directory written by ``imitation.data.serialize.save`` (HuggingFace
``datasets`` format) or imitation's legacy pickle."""

import json
import os
import pickle
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from sb3_inril.demos.demonstrations import (
    Demonstrations,
    as_demonstrations,
)
from sb3_inril.demos.formats.base import METADATA_SIDECAR, _require


def _load_imitation(path: str) -> Demonstrations:
    metadata = {"format": "imitation", "source": path}
    if os.path.isdir(path):
        serialize = _require("imitation.data.serialize", "imitation datasets")
        try:
            trajectories = serialize.load(path)
            trajectories = list(trajectories)
        except Exception as error:
            raise ValueError(f"demonstrations: could not read {path!r} as an imitation dataset directory: {error}") from error
    else:
        _require("imitation.data.types", "imitation pickles")  # the pickled classes live there
        try:
            with open(path, "rb") as file:
                trajectories = pickle.load(file)
        except PermissionError:
            raise
        except Exception as error:
            raise ValueError(
                f"demonstrations: could not read {path!r} as a pickle of imitation trajectories: {error}"
            ) from error
        if not isinstance(trajectories, Sequence) or isinstance(trajectories, (str, bytes)):
            raise ValueError(
                f"demonstrations: the pickle {path!r} holds a {type(trajectories).__name__}, expected a sequence of "
                "imitation Trajectory objects"
            )
        wrong = [type(item).__name__ for item in trajectories if not (hasattr(item, "obs") and hasattr(item, "acts"))]
        if wrong:
            raise ValueError(
                f"demonstrations: the pickle {path!r} holds a sequence of {wrong[0]}, expected imitation Trajectory objects"
            )
    if len(trajectories) == 0:
        raise ValueError(f"demonstrations: the imitation dataset {path!r} holds no trajectory, expected at least one")
    sidecar = os.path.join(path, METADATA_SIDECAR)
    if os.path.isdir(path) and os.path.isfile(sidecar):
        with open(sidecar, "rb") as file:
            try:
                kept = json.loads(file.read().decode("utf-8"))
            except (json.JSONDecodeError, UnicodeDecodeError) as error:
                raise ValueError(f"demonstrations: {sidecar!r} is not valid JSON: {error}") from error
        if not isinstance(kept, dict):
            raise ValueError(f"demonstrations: {sidecar!r} holds a JSON {type(kept).__name__}, expected an object (a dict)")
        metadata = {**kept, "format": "imitation", "source": path}
    demonstrations = as_demonstrations(trajectories, metadata)
    # imitation's own flattening (flatten_trajectories) marks the last pair of every trajectory done.
    dones = np.zeros(len(demonstrations), dtype=bool)
    dones[np.append(demonstrations.episode_starts[1:], len(demonstrations)) - 1] = True
    demonstrations.dones = dones
    infos: list[Any] = [getattr(trajectory, "infos", None) for trajectory in trajectories]
    if all(info is not None for info in infos):
        for index, (info, length) in enumerate(zip(infos, demonstrations.episode_lengths)):
            # Checked per trajectory: lengths that only add up over all trajectories would misalign them.
            if isinstance(info, (str, bytes, Mapping)) or not hasattr(info, "__len__") or len(info) != length:
                found = f"{len(info)} entries" if hasattr(info, "__len__") else f"a {type(info).__name__}"
                raise ValueError(
                    f"demonstrations: trajectory {index} of {path!r}: field 'infos' has {found}, expected {length} "
                    "dicts (one per action)"
                )
            wrong = [step for step in info if not isinstance(step, Mapping)]
            if wrong:
                raise ValueError(
                    f"demonstrations: trajectory {index} of {path!r}: field 'infos' holds {type(wrong[0]).__name__} "
                    f"{wrong[0]!r}, expected one dict per action"
                )
        demonstrations.infos = [dict(step) for info in infos for step in info]
        demonstrations.__post_init__()
    return demonstrations
