import subprocess
import sys

import numpy as np

from sb3_inril import load_demonstrations
from sb3_inril.demos_cli import main


def test_inspect_prints_episodes_returns_shapes_and_ranges(tmp_path, capsys):
    obs = np.arange(30, dtype=np.float32).reshape(10, 3)
    np.savez(tmp_path / "d.npz", obs=obs, acts=np.full((10, 1), 0.5), rewards=np.ones(10), episode_starts=np.array([0, 4]))
    assert main(["inspect", str(tmp_path / "d.npz"), "--episodes"]) == 0
    out = capsys.readouterr().out
    assert "episodes: 2   transitions: 10" in out
    assert "episode length: min 4  mean 5.0  max 6" in out
    assert "episode return: mean 5.00  std 1.00  min 4.00  max 6.00" in out
    assert "observations: shape (3,), dtype float32, min 0, max 29" in out
    assert "      1      4       6  6.00" in out


def test_convert_npz_to_imitation_and_back(tmp_path, pendulum_demos):
    np.savez(tmp_path / "d.npz", **pendulum_demos)
    assert main(["convert", str(tmp_path / "d.npz"), str(tmp_path / "imitation")]) == 0
    assert main(["convert", str(tmp_path / "imitation"), str(tmp_path / "back.npz")]) == 0
    back = load_demonstrations(str(tmp_path / "back.npz"))
    np.testing.assert_allclose(back.observations, pendulum_demos["obs"])
    np.testing.assert_array_equal(back.episode_starts, np.arange(0, 500, 50))


def test_errors_exit_non_zero_with_a_message(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "sb3_inril", "demos", "inspect", str(tmp_path / "missing.npz")], capture_output=True, text=True
    )
    assert result.returncode == 1 and "error: demonstrations: file not found" in result.stderr
