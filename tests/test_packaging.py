"""Installed like a library: a wheel built from the repository, installed into a throwaway target
directory and used from an empty working directory, runs the zoo with the packaged hyperparameter
files and shipped demonstrations, the demonstrations CLI, and enjoys an agent whose
demonstrations file is gone."""

import glob
import os
import subprocess
import sys
import zipfile

import numpy as np
import pytest
import yaml

# Subprocess runs of whole programs: `make test` runs them, `make test-fast` leaves them out.
pytestmark = pytest.mark.slow

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> str:
    root = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", REPO, "--no-deps", "--no-build-isolation", "-q", "-w", str(root / "dist")],
        check=True,
        capture_output=True,
    )
    (wheel,) = glob.glob(str(root / "dist" / "sb3_inril-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    for expected in (
        "sb3_inril/zoo_hyperparams/inril_ppo.yml",
        "sb3_inril/zoo_hyperparams/ppo.yml",
        "sb3_inril/data/pendulum_v1_medium.npz",
        "sb3_inril/data/robomimic/lift_v0_scripted.hdf5",
        "sb3_inril/version.txt",
    ):
        assert expected in names, expected
    target = root / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target), wheel],
        check=True,
        capture_output=True,
    )
    return str(target)


def run(site: str, cwd: str, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    # The installed copy comes first on the path (the editable checkout is only a fallback finder).
    env = dict(os.environ, PYTHONPATH=site, OMP_NUM_THREADS="1", PYTHONWARNINGS="ignore", MPLBACKEND="Agg")
    result = subprocess.run([sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True)
    if check and result.returncode != 0:
        raise AssertionError(f"{args} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return result


def test_the_installed_copy_is_the_one_used(site, tmp_path):
    result = run(site, str(tmp_path), "-c", "import sb3_inril.zoo as z; print(z.__file__); print(z.HYPERPARAMS_DIR)")
    module_file, hyperparams_dir = result.stdout.split()
    assert module_file.startswith(site) and hyperparams_dir == os.path.join(site, "sb3_inril", "zoo_hyperparams")


def test_demos_cli_on_a_shipped_set(site, tmp_path):
    result = run(site, str(tmp_path), "-m", "sb3_inril", "demos", "inspect", "shipped:Pendulum-v1/medium")
    assert "episodes: 20" in result.stdout and os.path.join(site, "sb3_inril", "data") in result.stdout


def test_zoo_from_the_wheel(site, tmp_path):
    cwd = str(tmp_path)
    tiny = ["n_envs:1", "n_steps:64", "batch_size:16", "n_epochs:1", "pretrain_kwargs:dict(n_steps=5)"]
    train = ["-m", "sb3_inril.train", "--algo", "inril_ppo", "--env", "Pendulum-v1", "-n", "448", "-f", "logs"]
    run(site, cwd, *train, "-params", *tiny)
    # rl_zoo3's own plots read the logs (seaborn is part of the set-up).
    plot = ["-m", "rl_zoo3.plots.plot_train", "-a", "inril_ppo", "-e", "Pendulum-v1", "-f", "logs", "-w", "1"]
    assert "Traceback" not in run(site, cwd, *plot).stderr
    config_path = os.path.join(cwd, "logs", "inril_ppo", "Pendulum-v1_1", "Pendulum-v1", "config.yml")
    with open(config_path) as file:
        assert dict(yaml.load(file, Loader=yaml.UnsafeLoader))["demonstrations"] == "shipped:Pendulum-v1/medium"
    # An env without an entry and without demonstrations: our message, no KeyError.
    failed = run(site, cwd, "-m", "sb3_inril.train", "--algo", "inril_ppo", "--env", "CartPole-v1", "-n", "64", check=False)
    assert failed.returncode != 0 and "KeyError" not in failed.stderr and "pass -params demonstrations:" in failed.stderr
    # A user's file, relative to the working directory; the agent is enjoyed after the file is deleted.
    rng = np.random.default_rng(0)
    obs = rng.uniform(-1, 1, (60, 3)).astype(np.float32)
    np.savez(tmp_path / "mine.npz", obs=obs, acts=np.clip(obs[:, :1], -2, 2), dones=np.arange(60) % 20 == 19)
    run(
        site, cwd, "-m", "sb3_inril.train", "--algo", "inril_ppo", "--env", "Pendulum-v1", "-n", "64", "-f", "mine_logs",
        "-params", *tiny, "demonstrations:'mine.npz'",
    )  # fmt: skip
    os.remove(tmp_path / "mine.npz")
    enjoyed = run(site, cwd, "-m", "sb3_inril.enjoy", "--algo", "inril_ppo", "--env", "Pendulum-v1", "-f", "mine_logs",
                  "-n", "50", "--no-render")  # fmt: skip
    assert "Traceback" not in enjoyed.stderr


def test_record_video_knows_the_inril_algorithms(site, tmp_path):
    result = run(site, str(tmp_path), "-m", "sb3_inril.record_video", "--help")
    assert "inril_ppo" in result.stdout  # rl_zoo3's --algo choices, with ours registered


def test_quickstart_from_the_wheel(site, tmp_path):
    run(site, str(tmp_path), "-m", "sb3_inril", "quickstart", "--timesteps", "1024", "--eval-freq", "1024",
        "--n-eval-episodes", "1", "--pretrain-epochs", "1")  # fmt: skip
    assert os.path.getsize(tmp_path / "quickstart_output" / "returns.png") > 0
