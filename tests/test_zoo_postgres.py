"""Distributed hyperparameter search on a real PostgreSQL server: two workers, one study.

The server is started here on a local port with a throw-away data folder and stopped at the end.
.ci/run installs PostgreSQL from Debian's packages; elsewhere the test is skipped when no server
binaries exist (on CI it fails instead, so that a missing install cannot pass unnoticed).
"""

import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile

import numpy as np
import pytest
import yaml

# Subprocess runs of whole programs: `make test` runs them, `make test-fast` leaves them out.
pytestmark = pytest.mark.slow

ENV = dict(os.environ, OMP_NUM_THREADS="1", PYTHONWARNINGS="ignore")


@pytest.fixture
def postgres_url(free_port):
    binaries = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not binaries:
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL server binaries not found: .ci/run must install the 'postgresql' package")
        pytest.skip("PostgreSQL server binaries not installed (apt-get install postgresql)")
    bin_dir = os.path.dirname(binaries[-1])
    # initdb refuses to run as root: run the server as the 'postgres' user, in a folder it owns.
    as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    work = tempfile.mkdtemp(prefix="sb3_inril_pg_")
    if as_user:
        shutil.chown(work, "postgres")
    data, port = os.path.join(work, "data"), free_port
    subprocess.run(
        [*as_user, f"{bin_dir}/initdb", "-D", data, "-U", "postgres", "--auth=trust"], check=True, capture_output=True
    )
    options = f"-p {port} -k {work} -c listen_addresses=127.0.0.1"
    subprocess.run(
        [*as_user, f"{bin_dir}/pg_ctl", "-D", data, "-o", options, "-w", "-l", f"{work}/log", "start"],
        check=True,
        capture_output=True,
    )
    try:
        subprocess.run([f"{bin_dir}/createdb", "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "optuna"], check=True)
        yield f"postgresql://postgres@127.0.0.1:{port}/optuna"
    finally:
        subprocess.run([*as_user, f"{bin_dir}/pg_ctl", "-D", data, "-m", "fast", "-w", "stop"], capture_output=True)
        shutil.rmtree(work, ignore_errors=True)


def test_two_workers_share_one_study(tmp_path, postgres_url, pendulum_demos):
    import optuna

    np.savez(tmp_path / "demos.npz", **pendulum_demos)
    with open(tmp_path / "inril_ppo.yml", "w") as file:
        yaml.safe_dump({"Pendulum-v1": {"policy": "MlpPolicy", "n_timesteps": 128, "demonstrations": "demos.npz"}}, file)
    command = (
        f"{sys.executable} -m sb3_inril.train --algo inril_ppo --env Pendulum-v1 -n 128 -f logs -conf inril_ppo.yml "
        f"-optimize --n-trials 1 --n-jobs 1 --sampler random --pruner none --n-evaluations 1 --eval-episodes 1 "
        f"--storage {postgres_url} --study-name shared -params n_steps:64 batch_size:16"
    ).split()
    # Create the schema and the study once, as in the multi-machine recipe: two processes creating
    # optuna's tables at the same instant on an empty database can collide.
    optuna.create_study(storage=postgres_url, study_name="shared", direction="maximize")
    workers = []
    for seed in (1, 2):
        workers.append(
            subprocess.Popen(
                [*command, "--seed", str(seed)],
                cwd=tmp_path,
                env=ENV,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
        )
    outputs = [worker.communicate(timeout=600)[0] for worker in workers]
    assert all(worker.returncode == 0 for worker in workers), outputs
    finished = [set(map(int, re.findall(r"Trial (\d+) finished", output))) for output in outputs]
    assert all(len(numbers) == 1 for numbers in finished), outputs  # each worker ran its own trial
    assert finished[0] | finished[1] == {0, 1}

    study = optuna.load_study(study_name="shared", storage=postgres_url)
    assert [trial.state for trial in study.trials] == [optuna.trial.TrialState.COMPLETE] * 2
    assert {"il_interval", "il_steps", "gradient_separation"} <= study.best_trial.params.keys()

    # The best trial's parameters load into a model that trains.
    from sb3_inril import InRILPPO
    from sb3_inril.zoo import register

    register()
    from rl_zoo3.hyperparams_opt import HYPERPARAMS_CONVERTER

    params = HYPERPARAMS_CONVERTER["inril_ppo"](study.best_trial.params)
    params.update(n_steps=64, batch_size=16)
    InRILPPO("MlpPolicy", "Pendulum-v1", demonstrations=str(tmp_path / "demos.npz"), **params).learn(64)
    # ... and through the CLI (rl_zoo3 reads --trial-id only when it is not 0).
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "sb3_inril.train",
            "--algo",
            "inril_ppo",
            "--env",
            "Pendulum-v1",
            "-n",
            "64",
            "-f",
            "logs2",
            "-conf",
            "inril_ppo.yml",
            "--storage",
            postgres_url,
            "--study-name",
            "shared",
            "--trial-id",
            "1",
            "-params",
            "n_steps:64",
            "batch_size:16",
        ],
        cwd=tmp_path,
        env=ENV,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Loading from Optuna study..." in result.stdout
