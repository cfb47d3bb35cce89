"""``sb3-inril demos inspect|convert``: figures, one-line errors (exit code 2), safe conversion.

Tests commented ``NEEDS save_demonstrations`` depend on ``save_demonstrations`` /
``load_demonstrations`` (sb3_inril/demos/loading.py) keeping every field through a round trip
(rewards only when present, done flags, infos, metadata); they fail until the loaders do. Every
other test is independent of how the loaders are written.
"""

import builtins
import json
import os
import pickle
import subprocess
import sys
import warnings
import zipfile
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from sb3_inril import demos_cli, load_demonstrations
from sb3_inril.demos_cli import main


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def assert_one_error_line(code: int, out: str, err: str, *expected: str) -> str:
    """Exit code 2, nothing on stdout, exactly one line ``error: ...`` on stderr (holding ``expected``)."""
    assert code == 2, (code, out, err)
    assert out == ""
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert "Traceback" not in err
    for text in expected:
        assert text in lines[0], (text, lines[0])
    return lines[0]


def save_npz(path, n: int = 10, **arrays: Any) -> str:
    """A small valid .npz (obs (n, 3), acts (n, 1), 2 episodes), with ``arrays`` added or replaced."""
    contents: dict[str, Any] = dict(
        obs=np.arange(3 * n, dtype=np.float32).reshape(n, 3),
        acts=np.linspace(-1, 1, n, dtype=np.float32).reshape(n, 1),
        episode_starts=np.array([0, n // 2]),
    )
    contents.update(arrays)
    np.savez(path, **{key: value for key, value in contents.items() if value is not None})
    return str(path)


def files_in(folder) -> list[str]:
    return sorted(os.listdir(folder))


# -- inspect -------------------------------------------------------------------------------------
def test_inspect_prints_episodes_returns_shapes_and_ranges(tmp_path, capsys):
    obs = np.arange(30, dtype=np.float32).reshape(10, 3)
    np.savez(tmp_path / "d.npz", obs=obs, acts=np.full((10, 1), 0.5), rewards=np.ones(10), episode_starts=np.array([0, 4]))
    code, out, err = run(capsys, "inspect", str(tmp_path / "d.npz"), "--episodes")
    assert code == 0 and err == ""
    assert "episodes: 2   transitions: 10" in out
    assert "episode length: min 4  mean 5.0  max 6" in out
    assert "episode return: mean 5.00  std 1.00  min 4.00  max 6.00" in out
    assert "observations: shape (3,), dtype float32, min 0, max 29" in out
    assert "      1      4       6  6.00" in out


def test_inspect_says_rewards_absent_and_invents_no_return(tmp_path, capsys):
    code, out, _ = run(capsys, "inspect", save_npz(tmp_path / "d.npz"), "--episodes")
    assert code == 0
    assert "rewards: absent" in out.splitlines()
    assert "episode return" not in out
    assert "      1      5       5  -" in out  # no return in the episode list either


def fake_demos(**fields: Any) -> SimpleNamespace:
    """Demonstrations as the loaders will return them (optional fields included), independent of the loaders."""
    n = 6
    values: dict[str, Any] = dict(
        observations={
            "pos": np.arange(2 * n, dtype=np.float32).reshape(n, 2),
            "image": np.zeros((n, 2, 2), dtype=np.uint8),
        },
        actions=np.ones((n, 1), dtype=np.float32),
        episode_starts=np.array([0, 2]),
        rewards=None,
        dones=np.array([0, 1, 0, 0, 0, 1], dtype=bool),
        episode_terminals=np.array([True, False]),
        infos=[{"step": index} for index in range(n)],
        metadata={"format": "fake", "source": "memory", "env_id": "Fake-v0"},
    )
    values.update(fields)
    return SimpleNamespace(**values)


def test_inspect_dict_observations_ranges_per_key_and_optional_fields(monkeypatch, capsys):
    monkeypatch.setattr(demos_cli, "load_demonstrations", lambda source, **kwargs: fake_demos())
    code, out, err = run(capsys, "inspect", "whatever-id")
    assert code == 0, err
    lines = out.splitlines()
    assert "observation keys: pos=(2,), image=(2, 2)" in lines
    assert "observations['pos']: shape (2,), dtype float32, min 0, max 11" in lines
    assert "observations['image']: shape (2, 2), dtype uint8, min 0, max 0" in lines
    assert "rewards: absent" in lines
    assert "dones: 2 set, of 6 transitions" in lines
    assert "episode_terminals: 1 set, of 2 episodes" in lines
    assert "infos: 6 entries" in lines
    assert 'env_id: "Fake-v0"' in lines


def test_inspect_counts_non_finite_values_instead_of_printing_nan_ranges(monkeypatch, capsys):
    observations = np.array([[0.0, np.nan], [2.0, 1.0], [np.inf, 3.0]], dtype=np.float32)
    demos = fake_demos(
        observations=observations,
        actions=np.zeros((3, 1)),
        episode_starts=np.array([0]),
        dones=None,
        episode_terminals=None,
        infos=None,
    )
    monkeypatch.setattr(demos_cli, "load_demonstrations", lambda source, **kwargs: demos)
    code, out, _ = run(capsys, "inspect", "whatever-id")
    assert code == 0
    assert "observations: shape (2,), dtype float32, min 0, max 3, 2 non-finite values (NaN/inf)" in out
    assert "  [0] min          0  max          2  mean          1  std          1  (1 non-finite)" in out


@pytest.mark.parametrize(
    "fields, expected",
    [
        (dict(observations=np.zeros((5, 3))), "length mismatch"),  # 5 observations, 6 actions
        (dict(observations={"pos": np.zeros((6, 2)), "vel": np.zeros((4, 2))}), "'vel': 4"),
        (dict(rewards=np.zeros(4)), "rewards"),
        (dict(dones=np.zeros(5, dtype=bool)), "dones"),
        (dict(episode_terminals=np.zeros(3, dtype=bool)), "episode_terminals"),
        (dict(infos=[{}] * 5), "infos"),
        (dict(episode_starts=np.array([0, 9])), "episode_starts"),
        (dict(episode_starts=np.array([1, 3])), "episode_starts"),
        (dict(episode_starts=np.array([0, 3, 3])), "episode_starts"),
        (dict(actions=np.array(["a"] * 6)), "dtype"),
        (dict(actions=np.zeros((0, 1))), "'acts' has 0"),
        (dict(observations=b"not an array"), "field 'obs'"),
        (dict(observations={}), "empty dict"),
        (dict(metadata=["not", "a", "dict"]), "metadata"),
    ],
)
def test_inconsistent_demonstrations_are_reported_never_described(monkeypatch, capsys, fields, expected):
    """What a reader returns passes Demonstrations' own checks again (not a second set of checks)."""
    monkeypatch.setattr(demos_cli, "load_demonstrations", lambda source, **kwargs: fake_demos(**fields))
    assert_one_error_line(*run(capsys, "inspect", "whatever-id"), expected)


# -- malformed inputs: one line, exit code 2, for inspect and convert -----------------------------
def _zip_with_text_member(path) -> None:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("obs", "this member is text, not an array")
        with archive.open("acts.npy", "w") as member:
            np.lib.format.write_array(member, np.zeros((4, 1), np.float32))


def _truncated_npz(path) -> None:
    save_npz(path, n=200)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _hdf5_without_data(path) -> None:
    h5py = pytest.importorskip("h5py")
    with h5py.File(path, "w") as file:
        file.create_group("other")


MALFORMED: dict[str, tuple[str, Any, str]] = {
    # name: (file name, how to make it, text the error names)
    "missing file": ("missing.npz", None, "missing.npz"),
    "missing path without extension": ("no_such_dataset", None, ""),
    "empty file": ("empty.npz", lambda p: p.write_bytes(b""), "empty.npz"),
    "corrupt npz": ("corrupt.npz", lambda p: p.write_bytes(b"PK\x03\x04 garbage" * 10), "corrupt.npz"),
    "truncated npz": ("truncated.npz", _truncated_npz, "truncated.npz"),
    "directory that is not a dataset": ("folder", lambda p: (p.mkdir(), (p / "notes.txt").write_text("hi")), "folder"),
    "directory named .npz": ("dir.npz", lambda p: p.mkdir(), "dir.npz"),
    "symlink loop": (
        "loop.npz",
        lambda p: (p.symlink_to(p.with_name("loop2.npz")), p.with_name("loop2.npz").symlink_to(p)),
        "symlink",
    ),
    "broken symlink": ("broken.npz", lambda p: p.symlink_to(p.with_name("nowhere.npz")), "symlink"),
    "fifo": ("pipe.npz", lambda p: os.mkfifo(p), "neither a regular file nor a directory"),
    "npz member that is not an array": ("text_member.npz", _zip_with_text_member, "obs"),
    "npz with a pickled object member": (
        "object.npz",
        lambda p: np.savez(p, obs=np.array([[1.0], [1.0, 2.0]], dtype=object), acts=np.zeros((2, 1))),
        "obs",
    ),
    "string actions": ("strings.npz", lambda p: save_npz(p, acts=np.array(["a"] * 10)), "dtype"),
    "scalar observations": ("scalar.npz", lambda p: save_npz(p, obs=np.float32(1.0)), ""),
    "rewards of the wrong length": ("rewards.npz", lambda p: save_npz(p, rewards=np.ones(7)), "rewards"),
    "ragged observations and actions": ("ragged.npz", lambda p: save_npz(p, obs=np.zeros((12, 3), np.float32)), "12 rows"),
    "episode starts out of range": ("starts.npz", lambda p: save_npz(p, episode_starts=np.array([0, 20])), "episode_starts"),
    "episode starts not increasing": (
        "order.npz",
        lambda p: save_npz(p, episode_starts=np.array([0, 6, 3])),
        "episode_starts",
    ),
    "no transition": ("zero.npz", lambda p: save_npz(p, n=0, episode_starts=None), "0 rows"),
    "pickle holding something else": ("trajs.pkl", lambda p: p.write_bytes(pickle.dumps({"a": 1})), ""),
    "not a pickle": ("garbage.pkl", lambda p: p.write_bytes(b"\x00\x01 not a pickle"), ""),
    "unknown extension": ("demos.txt", lambda p: p.write_text("1 2 3"), "demos.txt"),
    "corrupt hdf5": ("corrupt.hdf5", lambda p: p.write_bytes(b"\x89HDF\r\n garbage" * 10), "corrupt.hdf5"),
    "hdf5 without a data group": ("nodata.hdf5", _hdf5_without_data, "data"),
}


@pytest.fixture(params=sorted(MALFORMED))
def malformed(request, tmp_path) -> tuple[str, str]:
    name, make, expected = MALFORMED[request.param]
    path = tmp_path / "input" / name
    path.parent.mkdir()
    if make is not None:
        make(path)
    return str(path), expected


@pytest.mark.timeout(60)  # a FIFO read without a check blocks forever
def test_inspect_malformed_input_one_error_line_exit_2(malformed, capsys):
    path, expected = malformed
    assert_one_error_line(*run(capsys, "inspect", path), expected)


@pytest.mark.timeout(60)
def test_convert_malformed_input_one_error_line_exit_2_and_writes_nothing(malformed, tmp_path, capsys):
    path, expected = malformed
    out = tmp_path / "out"
    out.mkdir()
    assert_one_error_line(*run(capsys, "convert", path, str(out / "converted.npz")), expected)
    assert files_in(out) == []  # no output, no temporary file left behind


def test_unreadable_file(tmp_path, capsys, monkeypatch):
    path = tmp_path / "secret.npz"
    save_npz(path)
    path.chmod(0)
    if os.access(path, os.R_OK):  # root reads anything: emulate the permission error
        real_open = builtins.open

        def guarded_open(file: Any, *args: Any, **kwargs: Any) -> Any:
            if isinstance(file, (str, os.PathLike)) and os.path.abspath(file) == str(path):
                raise PermissionError(13, "Permission denied", str(file))
            return real_open(file, *args, **kwargs)

        monkeypatch.setattr(builtins, "open", guarded_open)
    try:
        assert_one_error_line(*run(capsys, "inspect", str(path)), "Permission denied", "secret.npz")
    finally:
        path.chmod(0o644)


@pytest.mark.parametrize(
    "raised, expected",
    [
        (KeyError("obs"), "error: KeyError: 'obs'"),
        (RuntimeError("first line\nsecond line"), "error: RuntimeError: first line second line"),
        (ValueError("demonstrations: bad"), "error: demonstrations: bad"),
        (AttributeError(), "error: AttributeError"),
    ],
)
def test_any_exception_is_one_line(monkeypatch, capsys, raised, expected):
    def broken(source: str, **kwargs: Any) -> Any:
        print("a library's progress bar", file=sys.stderr)
        warnings.warn("a library's warning", stacklevel=1)
        raise raised

    monkeypatch.setattr(demos_cli, "load_demonstrations", broken)
    line = assert_one_error_line(*run(capsys, "inspect", "whatever-id"))
    assert line == expected


def test_keyboard_interrupt_is_not_swallowed(monkeypatch):
    def interrupted(source: str, **kwargs: Any) -> Any:
        raise KeyboardInterrupt

    monkeypatch.setattr(demos_cli, "load_demonstrations", interrupted)
    with pytest.raises(KeyboardInterrupt):
        main(["inspect", "whatever-id"])


def test_library_output_on_stderr_is_kept_on_success(monkeypatch, capsys):
    def noisy(source: str, **kwargs: Any) -> Any:
        print("loading shards", file=sys.stderr)
        return fake_demos()

    monkeypatch.setattr(demos_cli, "load_demonstrations", noisy)
    code, out, err = run(capsys, "inspect", "whatever-id")
    assert code == 0 and "episodes: 2" in out and err == "loading shards\n"


def test_usage_errors_exit_2():
    with pytest.raises(SystemExit) as raised:
        main(["inspect", "x.npz", "--max-dims", "-3"])
    assert raised.value.code == 2


@pytest.mark.parametrize("command", ["inspect", "convert"])
def test_command_line_errors_have_no_traceback(tmp_path, command):
    corrupt = tmp_path / "corrupt.npz"
    corrupt.write_bytes(b"not a zip file")
    args = [str(corrupt)] + ([str(tmp_path / "out.npz")] if command == "convert" else [])
    result = subprocess.run(
        [sys.executable, "-m", "sb3_inril", "demos", command, *args],
        capture_output=True,
        text=True,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
    )
    assert result.returncode == 2, result.stderr
    assert result.stdout == ""
    assert result.stderr.splitlines() == [result.stderr.strip()] and result.stderr.startswith("error: ")
    assert "corrupt.npz" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "out.npz").exists()


# -- convert: outputs ------------------------------------------------------------------------------
def test_convert_refuses_an_existing_output_without_force(tmp_path, capsys):
    source = save_npz(tmp_path / "d.npz", rewards=np.ones(10))
    target = tmp_path / "out.npz"
    target.write_bytes(b"precious")
    assert_one_error_line(*run(capsys, "convert", source, str(target)), str(target), "--force")
    assert target.read_bytes() == b"precious"
    code, _, err = run(capsys, "convert", source, str(target), "--force")
    assert code == 0, err
    np.testing.assert_array_equal(load_demonstrations(str(target)).rewards, np.ones(10))
    assert files_in(tmp_path) == ["d.npz", "out.npz"]  # no temporary file left


def test_convert_refuses_an_existing_imitation_directory_without_force(tmp_path, capsys):
    source = save_npz(tmp_path / "d.npz")
    target = tmp_path / "imitation_out"
    target.mkdir()
    assert_one_error_line(*run(capsys, "convert", source, str(target)), "already exists", "--force")


def test_convert_with_force_never_replaces_a_directory_that_is_not_a_dataset(tmp_path, capsys):
    source = save_npz(tmp_path / "d.npz")
    target = tmp_path / "my_project"
    target.mkdir()
    (target / "notes.txt").write_text("keep me")
    assert_one_error_line(*run(capsys, "convert", source, str(target), "--force"), "not an imitation dataset")
    assert files_in(target) == ["notes.txt"]


@pytest.mark.parametrize("spelling", ["same", "dot-slash", "symlink", "hard link", "dot-dot"])
def test_convert_refuses_to_write_onto_its_input(tmp_path, capsys, monkeypatch, spelling):
    (tmp_path / "sub").mkdir()
    source = save_npz(tmp_path / "d.npz", rewards=np.ones(10))
    before = (tmp_path / "d.npz").read_bytes()
    monkeypatch.chdir(tmp_path)
    if spelling == "symlink":
        (tmp_path / "link.npz").symlink_to(tmp_path / "d.npz")
    if spelling == "hard link":
        os.link(tmp_path / "d.npz", tmp_path / "hard.npz")
    output = {
        "same": source,
        "dot-slash": "./d.npz",
        "symlink": "link.npz",
        "hard link": "hard.npz",
        "dot-dot": "sub/../d.npz",
    }[spelling]
    assert_one_error_line(*run(capsys, "convert", "d.npz", output, "--force"), "is the input")
    assert (tmp_path / "d.npz").read_bytes() == before


def test_convert_refuses_an_output_inside_the_input_directory(tmp_path, capsys):
    source = tmp_path / "dataset"
    source.mkdir()
    (source / "nested").mkdir()
    assert_one_error_line(*run(capsys, "convert", str(source), str(source / "out.npz")), "inside the input")
    output = source / "nested" / "out"
    assert_one_error_line(*run(capsys, "convert", str(source), str(output), "--to", "imitation"), "inside the input")
    assert files_in(source) == ["nested"] and files_in(source / "nested") == []


def test_convert_refuses_to_replace_a_directory_that_holds_the_input(tmp_path, capsys):
    folder = tmp_path / "folder"
    folder.mkdir()
    (folder / "state.json").write_text("{}")  # looks like an imitation dataset
    source = save_npz(folder / "d.npz")
    assert_one_error_line(
        *run(capsys, "convert", source, str(folder), "--to", "imitation", "--force"), "inside the output directory"
    )
    assert files_in(folder) == ["d.npz", "state.json"]


def test_convert_refuses_a_missing_output_folder(tmp_path, capsys):
    source = save_npz(tmp_path / "d.npz")
    assert_one_error_line(*run(capsys, "convert", source, str(tmp_path / "nope" / "out.npz")), "does not exist")


def test_convert_refuses_an_npz_name_for_a_directory_format(tmp_path, capsys):
    source = save_npz(tmp_path / "d.npz")
    assert_one_error_line(*run(capsys, "convert", source, str(tmp_path / "out.npz"), "--to", "imitation"), "ends with .npz")


def test_convert_appends_npz_and_prints_the_path_it_really_wrote(tmp_path, capsys):
    source = save_npz(tmp_path / "d.npz", rewards=np.ones(10))
    code, out, err = run(capsys, "convert", source, str(tmp_path / "out"), "--to", "npz")
    assert code == 0, err
    written = tmp_path / "out.npz"
    assert (
        out.splitlines()[0] == f"wrote 2 episodes, 10 transitions to {written} (npz; '.npz' appended to '{tmp_path / 'out'}')"
    )
    assert files_in(tmp_path) == ["d.npz", "out.npz"]
    # and the extension check holds for the appended name too
    assert_one_error_line(*run(capsys, "convert", source, str(tmp_path / "out"), "--to", "npz"), str(written), "--force")


def test_convert_prints_rewards_absent_and_never_invents_rewards(tmp_path, capsys):
    source = save_npz(tmp_path / "d.npz")
    code, out, err = run(capsys, "convert", source, str(tmp_path / "out.npz"))
    assert code == 0, err
    assert "rewards: absent" in out.splitlines()
    with np.load(tmp_path / "out.npz") as written:
        assert "rewards" not in written.files and "rews" not in written.files
    assert load_demonstrations(str(tmp_path / "out.npz")).rewards is None


def test_convert_keeps_rewards(tmp_path, capsys):
    rewards = np.linspace(0, 1, 10, dtype=np.float32)
    source = save_npz(tmp_path / "d.npz", rewards=rewards)
    code, out, err = run(capsys, "convert", source, str(tmp_path / "out.npz"))
    assert code == 0, err
    assert "rewards: kept" in out.splitlines()
    np.testing.assert_array_equal(load_demonstrations(str(tmp_path / "out.npz")).rewards, rewards)


# -- convert: the written output is checked against the source ------------------------------------
class FakeStore:
    """A reader and a writer independent of sb3_inril.demos.loading: pickles what it is given."""

    def __init__(self, source: str, demos: SimpleNamespace, lose: str | None = None) -> None:
        self.source, self.demos, self.lose = source, demos, lose

    def load(self, path: str, **kwargs: Any) -> SimpleNamespace:
        if path == self.source:
            return self.demos
        with open(path, "rb") as file:
            return pickle.load(file)

    def save(self, demos: SimpleNamespace, path: str, format: str = "npz") -> str:
        written = SimpleNamespace(**vars(demos))
        if self.lose == "rewards":
            written.rewards = np.zeros(len(demos.actions), np.float32)  # invents rewards
        elif self.lose == "observation key":
            written.observations = {"pos": demos.observations["pos"]}
        elif self.lose == "metadata":
            written.metadata = {"format": format, "source": path}
        elif self.lose is not None:
            setattr(written, self.lose, None)
        with open(path, "wb") as file:
            pickle.dump(written, file)
        return path


def test_convert_dict_observations_and_every_optional_field(tmp_path, capsys, monkeypatch):
    store = FakeStore("memory-id", fake_demos(rewards=np.arange(6, dtype=np.float32)))
    monkeypatch.setattr(demos_cli, "load_demonstrations", store.load)
    monkeypatch.setattr(demos_cli, "save_demonstrations", store.save)
    code, out, err = run(capsys, "convert", "memory-id", str(tmp_path / "out.npz"))
    assert code == 0, err
    assert out.splitlines() == [
        f"wrote 2 episodes, 6 transitions to {tmp_path / 'out.npz'} (npz)",
        "rewards: kept",
        "dones: kept",
        "episode_terminals: kept",
        "infos: kept",
        "metadata: kept (env_id)",
    ]


@pytest.mark.parametrize("lose", ["rewards", "dones", "episode_terminals", "infos", "metadata", "observation key"])
def test_convert_refuses_a_lossy_conversion_and_leaves_no_output(tmp_path, capsys, monkeypatch, lose):
    demos = fake_demos(rewards=None if lose == "rewards" else np.ones(6, np.float32))
    demos.dones = np.array([0, 1, 0, 1, 0, 1], dtype=bool)  # not only at the ends of the 2 episodes: information
    store = FakeStore("memory-id", demos, lose=lose)
    monkeypatch.setattr(demos_cli, "load_demonstrations", store.load)
    monkeypatch.setattr(demos_cli, "save_demonstrations", store.save)
    target = tmp_path / "out.npz"
    target.write_bytes(b"previous output")
    expected = {"rewards": "rewards were invented", "metadata": "env_id", "observation key": "keys"}.get(lose, lose)
    assert_one_error_line(*run(capsys, "convert", "memory-id", str(target), "--force"), expected)
    assert target.read_bytes() == b"previous output"  # the previous output survives a failed conversion
    assert files_in(tmp_path) == ["out.npz"]


def test_convert_dones_that_only_mark_episode_ends_are_kept_by_the_episode_boundaries(tmp_path, capsys, monkeypatch):
    store = FakeStore("memory-id", fake_demos(), lose="dones")  # dones True at the last step of both episodes
    monkeypatch.setattr(demos_cli, "load_demonstrations", store.load)
    monkeypatch.setattr(demos_cli, "save_demonstrations", store.save)
    code, out, err = run(capsys, "convert", "memory-id", str(tmp_path / "imitation_out"))
    assert code == 0, err
    assert "dones: kept as the episode boundaries (they mark exactly the last step of every episode)" in out.splitlines()


def test_convert_reports_a_writer_that_writes_nothing(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(demos_cli, "save_demonstrations", lambda demos, path, format="npz": None)
    source = save_npz(tmp_path / "d.npz")
    assert_one_error_line(*run(capsys, "convert", source, str(tmp_path / "out.npz")), "did not create")
    assert files_in(tmp_path) == ["d.npz"]


# -- convert: round trips through the real writer -------------------------------------------------
# NEEDS save_demonstrations: save_demonstrations(format="imitation") must not invent rewards (write Trajectory, not TrajectoryWithRew)
def test_convert_npz_to_imitation_and_back(tmp_path, capsys, pendulum_demos):
    np.savez(tmp_path / "d.npz", **pendulum_demos)
    code, out, err = run(capsys, "convert", str(tmp_path / "d.npz"), str(tmp_path / "imitation"))
    assert code == 0, err
    assert "rewards: absent" in out.splitlines()
    code, _, err = run(capsys, "convert", str(tmp_path / "imitation"), str(tmp_path / "back.npz"))
    assert code == 0, err
    back = load_demonstrations(str(tmp_path / "back.npz"))
    np.testing.assert_allclose(back.observations, pendulum_demos["obs"])
    np.testing.assert_array_equal(back.episode_starts, np.arange(0, 500, 50))
    assert back.rewards is None


# NEEDS save_demonstrations: the npz writer and reader must keep `dones` (and the reader must expose them)
@pytest.mark.parametrize("via_imitation", [False, True])
def test_convert_keeps_rewards_and_dones(tmp_path, capsys, pendulum_demos, via_imitation):
    rewards = np.linspace(-1, 0, 500, dtype=np.float32)
    np.savez(tmp_path / "d.npz", **pendulum_demos, rewards=rewards)
    source = str(tmp_path / "d.npz")
    if via_imitation:
        assert main(["convert", source, str(tmp_path / "imitation")]) == 0
        source = str(tmp_path / "imitation")
    code, out, err = run(capsys, "convert", source, str(tmp_path / "out.npz"))
    assert code == 0, err
    assert {"rewards: kept", "dones: kept"} <= set(out.splitlines())
    written = load_demonstrations(str(tmp_path / "out.npz"))
    np.testing.assert_allclose(written.rewards, rewards)
    np.testing.assert_array_equal(written.dones, pendulum_demos["dones"])


# NEEDS save_demonstrations: load_demonstrations(save_demonstrations(d)).metadata must hold d.metadata's keys, same values
def test_convert_keeps_metadata(tmp_path, capsys):
    collection = {"env": "Pendulum-v1", "seed": 3, "returns": [1.5, 2.5]}
    source = save_npz(tmp_path / "d.npz", metadata=np.array(json.dumps(collection)))
    before = load_demonstrations(source).metadata
    code, out, err = run(capsys, "convert", source, str(tmp_path / "out.npz"))
    assert code == 0, err
    after = load_demonstrations(str(tmp_path / "out.npz")).metadata
    for key, value in before.items():
        if key not in ("format", "source"):
            assert after[key] == value, key
    assert any(line.startswith("metadata: kept (") for line in out.splitlines())


# NEEDS save_demonstrations: imitation pickles with infos must be read with `infos`, and the npz writer must keep them
def test_convert_keeps_infos(tmp_path, capsys):
    types = pytest.importorskip("imitation.data.types")
    trajectories = [
        types.TrajectoryWithRew(
            obs=np.zeros((4, 2), np.float32),
            acts=np.zeros((3, 1), np.float32),
            infos=np.array([{"step": index} for index in range(3)]),
            terminal=True,
            rews=np.ones(3, np.float32),
        )
    ]
    with open(tmp_path / "trajs.pkl", "wb") as file:
        pickle.dump(trajectories, file)
    code, out, err = run(capsys, "convert", str(tmp_path / "trajs.pkl"), str(tmp_path / "out.npz"))
    assert code == 0, err
    assert "infos: kept" in out.splitlines()
    assert len(load_demonstrations(str(tmp_path / "out.npz")).infos) == 3
