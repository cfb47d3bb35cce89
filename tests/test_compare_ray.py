"""compare.py on a Ray cluster (--ray-address): the same files as the local path for the same seeds.

The test starts a Ray head on 127.0.0.1 (a free port, two CPUs, no dashboard) and stops it at the end.
"""

import csv
import json
import os
import shutil
import subprocess
import sys
import tempfile

import pytest
import torch as th

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# Subprocess runs of whole programs: `make test` runs them, `make test-fast` leaves them out.
pytestmark = pytest.mark.slow

ENV = dict(os.environ, OMP_NUM_THREADS="1", PYTHONWARNINGS="ignore")


@pytest.fixture
def ray_head(free_port):
    pytest.importorskip("ray")
    ray_cli = os.path.join(os.path.dirname(sys.executable), "ray")
    # A temp folder of its own (short: Ray's socket paths must fit in 107 characters).
    temp_dir = tempfile.mkdtemp(prefix="ray_", dir="/tmp")
    port = free_port
    env = dict(ENV, RAY_USAGE_STATS_ENABLED="0")
    start = [
        ray_cli, "start", "--head", "--node-ip-address", "127.0.0.1", "--port", str(port), "--num-cpus", "2",
        "--include-dashboard", "false", "--temp-dir", temp_dir, "--disable-usage-stats",
    ]  # fmt: skip
    started = subprocess.run(start, capture_output=True, text=True, env=env)
    try:
        assert started.returncode == 0, started.stdout[-2000:] + started.stderr[-2000:]
        yield f"127.0.0.1:{port}"
    finally:
        subprocess.run([ray_cli, "stop", "--force"], capture_output=True, env=env)
        shutil.rmtree(temp_dir, ignore_errors=True)


def _compare(out, *extra):
    command = [
        sys.executable, os.path.join(ROOT, "scripts", "compare.py"), "--env", "Pendulum-v1", "--algo", "ppo",
        "--demos", "medium", "--methods", "rl", "inril", "--seeds", "2", "--timesteps", "128", "--eval-freq", "64",
        "--eval-episodes", "1", "--pretrain-epochs", "1", "--algo-kwargs",
        '{"n_steps": 64, "batch_size": 16, "n_epochs": 1}', "--out", str(out), *extra,
    ]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, env=ENV, cwd=ROOT)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    return result.stdout


def _curves(out):
    runs = {}
    for name in sorted(os.listdir(out / "runs")):
        run = json.load(open(out / "runs" / name))
        runs[name] = (run["method"], run["seed"], run["curve"])
    return runs


def test_ray_sweep_matches_the_local_sweep(tmp_path, ray_head):
    local, on_ray = tmp_path / "local", tmp_path / "ray"
    _compare(local, "--jobs", "2")
    output = _compare(on_ray, "--ray-address", ray_head)
    assert f"on Ray cluster {ray_head}" in output and "4 runs to do" in output
    # Same runs, same curves, same table, same summary statistics: bit for bit.
    assert _curves(on_ray) == _curves(local)
    assert list(csv.reader(open(on_ray / "results.csv"))) == list(csv.reader(open(local / "results.csv")))
    assert json.load(open(on_ray / "summary.json"))["methods"] == json.load(open(local / "summary.json"))["methods"]
    for seed in (0, 1):  # the BC starts made on the cluster are the ones made locally
        ray_start = th.load(on_ray / "pretrained" / f"seed{seed}.pt")
        local_start = th.load(local / "pretrained" / f"seed{seed}.pt")
        assert ray_start.keys() == local_start.keys()
        assert all(th.equal(ray_start[key], local_start[key]) for key in local_start)
    # Resume on the cluster: only the missing run is redone, and it comes out the same.
    os.remove(on_ray / "runs" / "inril_s1.json")
    again = _compare(on_ray, "--ray-address", ray_head)
    assert "1 runs to do (3 already done)" in again
    assert _curves(on_ray) == _curves(local)
