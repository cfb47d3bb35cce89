"""Demonstrations shipped with the package, made by ``scripts/collect_demos.py`` (see README.md here)."""

import json
import os

DATA_DIR = os.path.dirname(os.path.abspath(__file__))


def _file_stem(env_id: str, flavour: str) -> str:
    return f"{env_id.lower().replace('-', '_')}_{flavour}"


def demonstration_path(env_id: str, flavour: str = "expert") -> str:
    """
    Path of a shipped demonstration file.

    :param env_id: e.g. ``"Hopper-v5"`` or ``"robomimic/Lift-v0"``
    :param flavour: ``"expert"`` or ``"medium"`` (MuJoCo, ``.npz``), ``"scripted"`` (robomimic, ``.hdf5``)
    :return: the path of the file
    :raises FileNotFoundError: listing what is shipped
    """
    stem = os.path.join(DATA_DIR, _file_stem(env_id, flavour))
    for extension in (".npz", ".hdf5"):
        if os.path.exists(stem + extension):
            return stem + extension
    shipped = sorted(
        os.path.relpath(os.path.join(root, name), DATA_DIR).rsplit(".", 1)[0]
        for root, _, names in os.walk(DATA_DIR)
        for name in names
        if name.endswith((".npz", ".hdf5"))
    )
    raise FileNotFoundError(f"no shipped demonstrations for env {env_id!r}, flavour {flavour!r}; shipped: {shipped}")


SHIPPED_PREFIX = "shipped:"


def is_shipped_name(source: object) -> bool:
    """True for a name such as ``"shipped:Hopper-v5/medium"`` (how YAML files and saved models name shipped data)."""
    return isinstance(source, str) and source.startswith(SHIPPED_PREFIX)


def resolve_shipped(name: str) -> str:
    """
    The path of a shipped demonstration set named ``"shipped:<env id>/<flavour>"``.

    :param name: e.g. ``"shipped:Hopper-v5/medium"`` or ``"shipped:robomimic/Lift-v0/scripted"``
    :return: the path of the file inside the installed package
    :raises ValueError: for a malformed name; ``FileNotFoundError`` listing what is shipped
    """
    env_id, _, flavour = name[len(SHIPPED_PREFIX) :].rpartition("/")
    if not env_id or not flavour:
        raise ValueError(f"demonstrations: {name!r} is not a shipped name, expected 'shipped:<env id>/<flavour>'")
    return demonstration_path(env_id, flavour)


def demonstration_metadata(env_id: str, flavour: str = "expert") -> dict:
    """How a shipped demonstration file was made (command, seed, expert return or success rate, ...)."""
    with open(os.path.splitext(demonstration_path(env_id, flavour))[0] + ".json") as file:
        return json.load(file)
