"""The collection scripts refuse to overwrite what they would write, before any env or model is built."""

from types import ModuleType
from typing import Any

import pytest

from scripts import collect_demos as collect_demos_script
from scripts import collect_robomimic_demos as collect_robomimic_script


class Started(Exception):
    """Raised where a script would start its real work (load or train a model, build an env)."""


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
    module = collect_demos_script

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
    module = collect_robomimic_script
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


def test_collect_robomimic_remakes_a_file_from_its_record(tmp_path, capsys, monkeypatch):
    import json

    module = collect_robomimic_script
    made = {"task": "Lift", "seed": 1, "noise_std": 0.05, "keep_failures": False, "n_demos": 2, "n_transitions": 9}
    made |= {"success_rate": 1.0, "n_attempts": 2, "length_mean": 4.5}

    def collect(task: str, n_demos: int, path: str, **kwargs: Any) -> dict[str, Any]:
        # As the real one: the .hdf5 and the statistics beside it.
        stats = made | {"command": kwargs["command"], "task": task, "n_demos": n_demos, "seed": kwargs["seed"]}
        (tmp_path / "lift.hdf5").write_bytes(b"demos")
        (tmp_path / "lift.json").write_text(json.dumps(stats))
        return stats

    monkeypatch.setattr(module, "collect_robomimic_demos", collect)
    argv = ["--task", "Lift", "--demos", "2", "--seed", "1", "--out", str(tmp_path / "lift")]
    line = refused(capsys, module.main, [*argv, "--remake"])
    assert "--remake: expected the record" in line and "lift.json" in line
    record = made | {"command": "python the original command"}
    (tmp_path / "lift.json").write_text(json.dumps(record))
    # Arguments that contradict the record are refused before anything runs.
    line = refused(capsys, module.main, [*argv[:-4], "--seed", "2", "--out", str(tmp_path / "lift"), "--remake"])
    assert line.startswith("error: --remake: seed: expected 1") and "found 2" in line
    assert not (tmp_path / "lift.hdf5").exists()
    # The same statistics: the file is made, the record (its command) stays as it was.
    module.main([*argv, "--remake"])
    assert (tmp_path / "lift.hdf5").read_bytes() == b"demos"
    assert json.loads((tmp_path / "lift.json").read_text()) == record
    # The .hdf5 exists now: refused without --force.
    assert "--force" in refused(capsys, module.main, [*argv, "--remake"])
    # Different statistics: the new file is removed, the record kept, and the difference named.
    made["n_transitions"] = 8
    with pytest.raises(SystemExit) as raised:
        module.main([*argv, "--remake", "--force"])
    assert raised.value.code == 1
    assert "n_transitions: expected 9, found 8" in capsys.readouterr().err
    assert not (tmp_path / "lift.hdf5").exists() and json.loads((tmp_path / "lift.json").read_text()) == record
