"""Reading plain ``.npz`` demonstrations and imitation's legacy ``.npz``."""

import json
from typing import Any

import numpy as np

from sb3_inril.demos.demonstrations import (
    Demonstrations,
    as_demonstrations,
    from_episodes,
    to_array,
)


def _load_npz(path: str) -> Demonstrations:
    mapping: dict[str, np.ndarray] = {}
    pickled: list[str] = []
    try:
        with np.load(path, allow_pickle=False) as data:
            for key in data.files:
                try:
                    mapping[key] = data[key]
                except ValueError:  # a pickled object array (e.g. imitation's `infos`): never unpickled
                    pickled.append(key)
    except PermissionError:
        raise
    except Exception as error:  # zipfile.BadZipFile, OSError, EOFError ...
        raise ValueError(f"demonstrations: could not read {path!r} as an .npz file: {error}") from error
    needed = [key for key in pickled if key.split("/")[0] in ("obs", "observations", "acts", "actions", "rewards", "dones")]
    if needed:
        raise ValueError(
            f"demonstrations: {path!r} member(s) {needed} hold pickled Python objects, expected numeric arrays "
            "(ragged or mixed data is saved as objects; pickles are never loaded)"
        )
    metadata: dict[str, Any] = {"format": "npz", "source": path}
    if "metadata" in mapping:  # how the data was made (scripts/collect_demos.py)
        text = str(mapping.pop("metadata"))
        try:
            metadata["collection"] = json.loads(text)
        except json.JSONDecodeError:
            metadata["collection"] = text
    if "demonstrations_metadata" in mapping:  # what save_demonstrations kept of the source's metadata
        kept = _json_member(mapping.pop("demonstrations_metadata"), "demonstrations_metadata", path)
        metadata = {**kept, "format": "npz", "source": path}
    infos = _json_member(mapping.pop("infos_json"), "infos_json", path) if "infos_json" in mapping else None
    if "indices" in mapping:  # imitation's legacy npz: trajectories concatenated, split at `indices`
        return _load_imitation_legacy_npz(mapping, metadata)
    for prefix in ("obs", "observations"):  # dict observations: one member per key, obs/<key>
        keys = [key for key in mapping if key.startswith(prefix + "/")]
        if keys and prefix not in mapping:
            mapping[prefix] = {key[len(prefix) + 1 :]: mapping.pop(key) for key in keys}  # type: ignore[assignment]  # dict observations: one array per key
    episode_terminals = mapping.pop("episode_terminals", None)  # per episode, as save_demonstrations writes it
    demonstrations = as_demonstrations(mapping, metadata)
    if episode_terminals is not None or infos is not None:
        demonstrations.episode_terminals = episode_terminals
        demonstrations.infos = infos
        demonstrations.__post_init__()  # checks their lengths
    return demonstrations


def _json_member(value: np.ndarray, name: str, path: str) -> Any:
    try:
        return json.loads(str(value))
    except json.JSONDecodeError as error:
        raise ValueError(f"demonstrations: {path!r} member {name!r} is not valid JSON: {error}") from error


def _load_imitation_legacy_npz(mapping: dict[str, np.ndarray], metadata: dict[str, Any]) -> Demonstrations:
    for key in ("obs", "acts"):
        if key not in mapping:
            raise ValueError(
                f"demonstrations: imitation npz {metadata['source']!r} has no key {key!r}, found {sorted(mapping)}"
            )
    indices = to_array(mapping["indices"], "indices").astype(np.int64)
    acts = np.split(to_array(mapping["acts"], "acts"), indices)
    obs = np.split(to_array(mapping["obs"], "obs"), indices + np.arange(1, len(indices) + 1))
    if len(obs) != len(acts) or any(len(o) != len(a) + 1 for o, a in zip(obs, acts)):
        raise ValueError(
            f"demonstrations: imitation npz {metadata['source']!r}: 'obs' and 'acts' do not split into trajectories at 'indices'"
        )
    metadata["format"] = "imitation-npz"
    rewards = np.split(np.asarray(mapping["rews"], dtype=np.float32), indices) if "rews" in mapping else None
    terminals = mapping.get("terminal")
    return from_episodes(
        [o[:-1] for o in obs],
        acts,
        rewards,
        metadata,
        episode_terminals=None if terminals is None or len(terminals) != len(acts) else terminals.tolist(),
    )
