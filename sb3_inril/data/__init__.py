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


def demonstration_metadata(env_id: str, flavour: str = "expert") -> dict:
    """How a shipped demonstration file was made (command, seed, expert return or success rate, ...)."""
    with open(os.path.splitext(demonstration_path(env_id, flavour))[0] + ".json") as file:
        return json.load(file)
