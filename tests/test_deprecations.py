"""The old import paths and names keep working for one release, each with a DeprecationWarning that
names the new path (issue 31: demonstrations moved to sb3_inril.demos, one spelling for public names)."""

import importlib

import pytest

import sb3_inril
from sb3_inril import demos

MOVED_MODULES = {
    "sb3_inril.common.demonstrations": ("sb3_inril.demos.demonstrations", "Demonstrations"),
    "sb3_inril.common.loaders": ("sb3_inril.demos.loading", "load_demonstrations"),
    "sb3_inril.common.demo_buffer": ("sb3_inril.demos.buffer", "DemonstrationBuffer"),
    "sb3_inril.common.demo_replay": ("sb3_inril.demos.replay", "DemoReplayBuffer"),
    "sb3_inril.common.chunking": ("sb3_inril.demos.chunking", "ActionChunkWrapper"),
    "sb3_inril.common.hdf5_store": ("sb3_inril.demos.hdf5_store", "LazyRows"),
    "sb3_inril.common.parallel": ("sb3_inril.parallel", "resolve_num_threads"),
    "sb3_inril.common.behaviour_cloning": ("sb3_inril.common.behavior_cloning", "ILLossCalculator"),
    "sb3_inril.common.validation": ("sb3_inril.validation", "check_float"),
}


@pytest.mark.parametrize("old", sorted(MOVED_MODULES))
def test_an_old_module_path_gives_the_same_object_with_a_warning(old):
    new, name = MOVED_MODULES[old]
    module = importlib.import_module(old)
    with pytest.warns(DeprecationWarning, match=f"{old} moved to {new}: import {name} from {new}"):
        value = getattr(module, name)
    assert value is getattr(importlib.import_module(new), name)


def test_private_names_of_a_moved_module_are_forwarded_too():
    module = importlib.import_module("sb3_inril.common.loaders")
    with pytest.warns(DeprecationWarning):
        assert module._load_npz is importlib.import_module("sb3_inril.demos.formats.npz")._load_npz


def test_an_unknown_name_is_still_an_attribute_error():
    module = importlib.import_module("sb3_inril.common.loaders")
    with pytest.raises(AttributeError):
        module.__wrapped__  # noqa: B018
    common = importlib.import_module("sb3_inril.common")
    with pytest.raises(AttributeError, match="no attribute 'load_demonstrations'"):
        common.load_demonstrations  # noqa: B018


def test_the_demonstration_names_common_reexported_warn():
    common = importlib.import_module("sb3_inril.common")
    for name in ("ActionChunkWrapper", "DemonstrationBuffer", "Demonstrations", "chunk_demonstrations"):
        with pytest.warns(DeprecationWarning, match=f"sb3_inril.common moved to sb3_inril.demos: import {name}"):
            assert getattr(common, name) is getattr(demos, name)


def test_renamed_public_names_have_their_aliases():
    assert sb3_inril.DemoReplayBuffer is sb3_inril.DemonstrationReplayBuffer is demos.DemoReplayBuffer
    assert "DemonstrationReplayBuffer" in sb3_inril.__all__ and "DemoReplayBuffer" not in sb3_inril.__all__


def test_the_new_paths_import_without_a_warning(recwarn):
    for module in ("sb3_inril.demos", "sb3_inril.demos.loading", "sb3_inril.parallel", "sb3_inril.common.behavior_cloning"):
        importlib.import_module(module)
    assert not [w for w in recwarn if issubclass(w.category, DeprecationWarning) and "sb3_inril" in str(w.message)]
