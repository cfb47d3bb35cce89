"""The collection scripts refuse to overwrite what they would write, before any env or model is built."""

import importlib.util
import os
from types import ModuleType
from typing import Any

import pytest

SCRIPTS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "scripts")


class Started(Exception):
    """Raised where a script would start its real work (load or train a model, build an env)."""


def load_script(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"script_{name}", os.path.join(SCRIPTS, f"{name}.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def refused(capsys, main: Any, argv: list[str]) -> str:
    """Run ``main(argv)``, expect exit code 2 and one line ``error: ...`` on stderr; return that line."""
    with pytest.raises(SystemExit) as raised:
        main(argv)
    assert raised.value.code == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and err.startswith("error: "), err
    return err.strip()


# -- scripts/collect_demos.py ----------------------------------------------------------------------
@pytest.fixture
def collect_demos(monkeypatch) -> ModuleType:
    module = load_script("collect_demos")

    class NeverBuilt:
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            raise Started("a model was built")

        @classmethod
        def load(cls, *args: Any, **kwargs: Any) -> None:
            raise Started("a model was loaded")

    monkeypatch.setattr(module, "ALGOS", {"sac": NeverBuilt})

    def make(*args: Any, **kwargs: Any) -> None:
        raise Started("an env was built")

    monkeypatch.setattr(module.gym, "make", make)
    return module


@pytest.mark.parametrize("existing", [".npz", ".json", "_expert.zip", "imitation"])
def test_collect_demos_refuses_to_overwrite_before_anything_runs(tmp_path, capsys, collect_demos, existing):
    out = str(tmp_path / "demos")
    path = tmp_path / "imitation" if existing == "imitation" else tmp_path / f"demos{existing}"
    if existing == "imitation":
        path.mkdir()
    else:
        path.write_bytes(b"precious")
    source = ["--train-steps", "10"] if existing == "_expert.zip" else ["--model", str(tmp_path / "expert.zip")]
    argv = [*source, "--algo", "sac", "--env", "Pendulum-v1", "--out", out, "--imitation-dir", str(tmp_path / "imitation")]
    line = refused(capsys, collect_demos.main, argv)
    assert repr(str(path)) in line and "--force" in line
    assert path.is_dir() if existing == "imitation" else path.read_bytes() == b"precious"
    with pytest.raises(Started):  # with --force, the script goes on to its work
        collect_demos.main([*argv, "--force"])


def test_collect_demos_runs_when_nothing_exists(tmp_path, collect_demos):
    with pytest.raises(Started, match="loaded"):
        collect_demos.main(["--model", "expert.zip", "--algo", "sac", "--env", "Pendulum-v1", "--out", str(tmp_path / "d")])


def test_collect_demos_names_every_existing_output(tmp_path, capsys, collect_demos):
    for name in ("d.npz", "d.json"):
        (tmp_path / name).write_text("{}")
    argv = ["--model", "expert.zip", "--algo", "sac", "--env", "Pendulum-v1", "--out", str(tmp_path / "d")]
    line = refused(capsys, collect_demos.main, argv)
    assert repr(str(tmp_path / "d.npz")) in line and repr(str(tmp_path / "d.json")) in line


# -- scripts/collect_robomimic_demos.py ------------------------------------------------------------
@pytest.fixture
def collect_robomimic(monkeypatch) -> tuple[ModuleType, list]:
    module = load_script("collect_robomimic_demos")
    calls: list = []

    def collect(task: str, n_demos: int, path: str, **kwargs: Any) -> dict[str, Any]:
        calls.append(path)
        return dict(success_rate=1.0, n_attempts=1, n_demos=1, n_transitions=5, length_mean=5.0)

    monkeypatch.setattr(module, "collect_robomimic_demos", collect)
    return module, calls


@pytest.mark.parametrize("existing", [".hdf5", ".json"])
def test_collect_robomimic_refuses_to_overwrite_before_anything_runs(tmp_path, capsys, collect_robomimic, existing):
    module, calls = collect_robomimic
    path = tmp_path / f"lift{existing}"
    path.write_bytes(b"precious")
    argv = ["--task", "Lift", "--demos", "1", "--out", str(tmp_path / "lift")]
    line = refused(capsys, module.main, argv)
    assert repr(str(path)) in line and "--force" in line
    assert calls == [] and path.read_bytes() == b"precious"
    module.main([*argv, "--force"])
    assert calls == [str(tmp_path / "lift.hdf5")]


def test_collect_robomimic_runs_when_nothing_exists(tmp_path, collect_robomimic):
    module, calls = collect_robomimic
    stats = module.main(["--task", "Lift", "--demos", "1", "--out", str(tmp_path / "lift")])
    assert calls == [str(tmp_path / "lift.hdf5")] and stats["n_demos"] == 1
