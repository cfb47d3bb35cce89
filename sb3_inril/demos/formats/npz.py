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

# The members the readers use (``obs/<key>`` for dict observations): none may be a pickle. Others
# (imitation's legacy ``infos``) are skipped when they are.
READ_MEMBERS = (
    *("obs", "observations", "acts", "actions", "rewards", "rews", "dones", "terminals", "episode_starts"),
    *("episode_terminals", "infos_json", "demonstrations_metadata", "indices", "terminal"),
)


def _load_npz(path: str) -> Demonstrations:
    mapping: dict[str, np.ndarray] = {}
    pickled: list[str] = []
    unreadable: dict[str, str] = {}
    try:
        with np.load(path, allow_pickle=False) as data:
            for key in data.files:
                try:
                    mapping[key] = data[key]
                except ValueError as error:
                    if "allow_pickle" in str(error):  # a pickled object array (e.g. imitation's `infos`): never unpickled
                        pickled.append(key)
                    else:  # a corrupt member: a truncated array, a malformed .npy header ...
                        unreadable[key] = str(error)
    except PermissionError:
        raise
    except Exception as error:  # zipfile.BadZipFile, OSError, EOFError ...
        raise ValueError(f"demonstrations: could not read {path!r} as an .npz file: {error}") from error
    if unreadable:
        first, reason = next(iter(unreadable.items()))
        raise ValueError(
            f"demonstrations: {path!r} member(s) {sorted(unreadable)} could not be read, expected .npy arrays; "
            f"{first!r}: {reason}"
        )
    needed = [key for key in pickled if key.split("/")[0] in READ_MEMBERS]
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
        kept = _json_member(mapping.pop("demonstrations_metadata"), "demonstrations_metadata", path, dict)
        metadata = {**kept, "format": "npz", "source": path}
    infos = _json_member(mapping.pop("infos_json"), "infos_json", path, list) if "infos_json" in mapping else None
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


def _json_member(value: np.ndarray, name: str, path: str, expected: type) -> Any:
    if value.ndim != 0 or not np.issubdtype(value.dtype, np.str_):
        raise ValueError(
            f"demonstrations: {path!r} member {name!r} has dtype {value.dtype} and shape {value.shape}, expected one "
            "JSON string"
        )
    try:
        loaded = json.loads(str(value))
    except json.JSONDecodeError as error:
        raise ValueError(f"demonstrations: {path!r} member {name!r} is not valid JSON: {error}") from error
    if not isinstance(loaded, expected):
        raise ValueError(
            f"demonstrations: {path!r} member {name!r} holds a JSON {type(loaded).__name__}, expected a "
            f"{'list (one dict per pair)' if expected is list else 'JSON object (a dict)'}"
        )
    return loaded


def _load_imitation_legacy_npz(mapping: dict[str, np.ndarray], metadata: dict[str, Any]) -> Demonstrations:
    for key in ("obs", "acts"):
        if key not in mapping:
            raise ValueError(
                f"demonstrations: imitation npz {metadata['source']!r} has no key {key!r}, found {sorted(mapping)}"
            )
    where = f"imitation npz {metadata['source']!r}"
    all_acts = to_array(mapping["acts"], "acts", where)
    n_acts = len(all_acts)
    indices = to_array(mapping["indices"], "indices", where).reshape(-1)
    if not np.all(np.equal(np.mod(indices, 1), 0)):
        raise ValueError(f"demonstrations: field 'indices' ({where}) has non-integer values {indices[:5]}, expected integers")
    indices = indices.astype(np.int64)
    if np.any(np.diff(np.concatenate([[0], indices, [n_acts]])) <= 0):
        raise ValueError(
            f"demonstrations: field 'indices' ({where}) is {indices[:10].tolist()}{' ...' if len(indices) > 10 else ''}, "
            f"expected strictly increasing trajectory boundaries within (0, {n_acts}) (the number of actions)"
        )
    acts = np.split(all_acts, indices)
    obs = np.split(to_array(mapping["obs"], "obs", where), indices + np.arange(1, len(indices) + 1))
    if len(obs) != len(acts) or any(len(o) != len(a) + 1 for o, a in zip(obs, acts)):
        raise ValueError(
            f"demonstrations: imitation npz {metadata['source']!r}: 'obs' and 'acts' do not split into trajectories at 'indices'"
        )
    metadata["format"] = "imitation-npz"
    rewards = None
    if "rews" in mapping:
        rews = to_array(mapping["rews"], "rews", where).reshape(-1)
        if len(rews) != n_acts:
            raise ValueError(
                f"demonstrations: field 'rews' ({where}) has {len(rews)} values, expected {n_acts} (one per action)"
            )
        rewards = np.split(rews.astype(np.float32), indices)
    terminals = mapping.get("terminal")
    if terminals is not None:
        terminals = to_array(terminals, "terminal", where).reshape(-1)
        if len(terminals) != len(acts):
            raise ValueError(
                f"demonstrations: field 'terminal' ({where}) has {len(terminals)} values, expected one per trajectory "
                f"({len(acts)})"
            )
    return from_episodes(
        [o[:-1] for o in obs],
        acts,
        rewards,
        metadata,
        episode_terminals=terminals,
    )
