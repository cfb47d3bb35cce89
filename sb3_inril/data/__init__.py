"""Demonstrations shipped with the package, made by ``scripts/collect_demos.py`` (see README.md here)."""

import json
import os

DATA_DIR = os.path.dirname(os.path.abspath(__file__))


def _file_stem(env_id: str, flavour: str) -> str:
    return f"{env_id.lower().replace('-', '_')}_{flavour}"


def demonstration_path(env_id: str, flavour: str = "expert") -> str:
    """
    Path of a shipped demonstration file.

    :param env_id: e.g. ``"Hopper-v5"``
    :param flavour: ``"expert"`` or ``"medium"``
    :return: the path of the ``.npz`` file
    :raises FileNotFoundError: listing what is shipped
    """
    path = os.path.join(DATA_DIR, _file_stem(env_id, flavour) + ".npz")
    if not os.path.exists(path):
        shipped = sorted(name[:-4] for name in os.listdir(DATA_DIR) if name.endswith(".npz"))
        raise FileNotFoundError(f"no shipped demonstrations for env {env_id!r}, flavour {flavour!r}; shipped: {shipped}")
    return path


def demonstration_metadata(env_id: str, flavour: str = "expert") -> dict:
    """How a shipped demonstration file was made (command, seed, expert return, ...)."""
    with open(demonstration_path(env_id, flavour)[:-4] + ".json") as file:
        return json.load(file)
