import json
import os
import subprocess
import sys

import numpy as np
import pytest

from sb3_inril.data import demonstration_metadata, demonstration_path
from sb3_inril.quickstart import METHODS, run_quickstart


def test_shipped_demonstrations_record_how_they_were_made():
    data = np.load(demonstration_path("Hopper-v5", "expert"))
    meta = demonstration_metadata("Hopper-v5", "expert")
    assert data["obs"].shape == (meta["n_transitions"], 11) and data["acts"].shape == (meta["n_transitions"], 3)
    assert {"command", "seed", "return_mean"} <= meta.keys()
    assert np.isclose(data["episode_returns"].mean(), meta["return_mean"], rtol=1e-5)


@pytest.mark.slow
def test_quickstart_tiny_budget(tmp_path):
    results = run_quickstart(
        output_dir=str(tmp_path), timesteps=2048, eval_freq=1024, n_eval_episodes=1, pretrain_epochs=1, n_jobs=2, verbose=False
    )
    assert set(results["runs"]) == set(METHODS)
    for run in results["runs"].values():
        assert [point[0] for point in run["curve"]] == [0, 1024, 2048]
    # Both methods start from the same pre-trained policy and are evaluated on the same episodes.
    starts = {run["bc_start_return"] for run in results["runs"].values()}
    assert len(starts) == 1
    for name in ["results.json", "results.csv", "returns.png", "pretrained_policy.pt", "ppo_final.zip", "inrilppo_final.zip"]:
        assert os.path.getsize(tmp_path / name) > 0, name
    assert sorted(os.listdir(tmp_path / "tensorboard")) == ["InRILPPO_1", "PPO_1"]
    with open(tmp_path / "results.json") as file:
        assert json.load(file)["timesteps"] == 2048


def test_command_line_help():
    output = subprocess.run([sys.executable, "-m", "sb3_inril", "--help"], capture_output=True, text=True, check=True)
    assert "quickstart" in output.stdout
    failed = subprocess.run([sys.executable, "-m", "sb3_inril", "nope"], capture_output=True, text=True)
    assert failed.returncode == 2 and "unknown command 'nope'" in failed.stderr
