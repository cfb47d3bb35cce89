"""Reading Minari datasets stored locally, by id or by path; never downloaded."""

import errno
import os
from typing import Any

import numpy as np

from sb3_inril.demos.demonstrations import (
    Demonstrations,
    from_episodes,
    n_rows,
    take_rows,
    to_array,
    to_flags,
    to_observations,
)
from sb3_inril.demos.formats.base import _require


def _minari_data_path(source: str) -> str | None:
    for candidate in (os.path.join(source, "data"), source):
        if os.path.isfile(os.path.join(candidate, "metadata.json")):
            return candidate
    return None


def _load_minari(source: str) -> Demonstrations:
    minari = _require("minari", "Minari datasets")
    data_path = _minari_data_path(source) if os.path.isdir(source) else None
    try:
        if data_path is None:
            local = minari.list_local_datasets()
            if source not in local:
                raise FileNotFoundError(
                    errno.ENOENT,
                    f"demonstrations: no file or directory {source!r} (working directory {os.getcwd()!r}), and no Minari "
                    f"dataset of that id stored locally (datasets are never downloaded); local Minari datasets: {sorted(local)}",
                    source,
                )
            dataset = minari.load_dataset(source)
        else:
            dataset = minari.MinariDataset(data_path)
        observations, actions, rewards, terminals = [], [], [], []
        for episode in dataset.iterate_episodes():
            where = f"Minari dataset {source!r} episode {episode.id}"
            obs = to_observations(episode.observations, "observations", where)
            observations.append(take_rows(obs, slice(0, n_rows(obs) - 1)))
            actions.append(to_array(episode.actions, "actions", where))
            rewards.append(to_array(episode.rewards, "rewards", where).astype(np.float32))
            terminations = to_flags(to_array(episode.terminations, "terminations", where).reshape(-1), "terminations", where)
            if len(terminations) != len(actions[-1]):
                raise ValueError(
                    f"demonstrations: {where}: field 'terminations' has {len(terminations)} values and 'actions' "
                    f"{len(actions[-1])}, expected one termination flag per action"
                )
            terminals.append(bool(terminations[-1]) if len(terminations) else False)
    except (FileNotFoundError, PermissionError):
        raise
    except ValueError as error:
        if str(error).startswith("demonstrations:"):  # ours, already named
            raise
        raise ValueError(
            f"demonstrations: could not read the Minari dataset {source!r}: {type(error).__name__}: {error}"
        ) from error
    except Exception as error:  # a corrupt dataset: missing or malformed metadata.json, main_data.hdf5 ...
        raise ValueError(
            f"demonstrations: could not read the Minari dataset {source!r}: {type(error).__name__}: {error}"
        ) from error
    if not actions:
        raise ValueError(f"demonstrations: Minari dataset {source!r} holds no episode")
    metadata: dict[str, Any] = {"format": "minari", "source": source, "dataset_id": getattr(dataset.spec, "dataset_id", None)}
    env_spec = getattr(dataset.spec, "env_spec", None)
    metadata["env_id"] = getattr(env_spec, "id", None)
    return from_episodes(
        observations,
        actions,
        rewards,
        metadata,
        episode_terminals=terminals,
        episode_names=[f"Minari dataset {source!r} episode {index}" for index in range(len(actions))],
    )
