"""rl-zoo integration, modelled on rl_zoo3's own tests/test_train.py: subprocess runs at tiny budgets."""

import glob
import os
import shlex
import subprocess
import sys

import numpy as np
import pytest
import yaml

from sb3_inril.data import resolve_shipped
from sb3_inril.zoo import HYPERPARAMS_DIR, INRIL_ALGOS, constructor_arguments

# Subprocess runs of whole programs: `make test` runs them, `make test-fast` leaves them out.
pytestmark = pytest.mark.slow

ENV = dict(os.environ, OMP_NUM_THREADS="1", PYTHONWARNINGS="ignore")
TINY = {
    "inril_ppo": "n_steps:64 batch_size:16 n_epochs:1",
    "inril_dppo": "n_steps:64 batch_size:64 n_epochs:1",
    "inril_sac": "learning_starts:50 batch_size:16 critic_warmup_steps:10",
    "inril_tqc": "learning_starts:50 batch_size:16 critic_warmup_steps:10",
    "inril_idql": "learning_starts:50 batch_size:16 critic_warmup_steps:10",
}


def run(module: str, args: str, cwd: str, check: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [sys.executable, "-m", module, *shlex.split(args)], cwd=cwd, env=ENV, capture_output=True, text=True
    )
    if check and result.returncode != 0:
        raise AssertionError(f"{module} {args} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return result


@pytest.fixture
def zoo_config(tmp_path, pendulum_demos) -> str:
    np.savez(tmp_path / "demos.npz", **pendulum_demos)
    config = {
        "Pendulum-v1": {
            "policy": "MlpPolicy",
            "n_timesteps": 200,
            "il_interval": 2,
            "demonstrations": "demos.npz",  # relative to this file
            "pretrain_kwargs": {"n_steps": 5},
        }
    }
    for algo in ("inril_ppo", "inril_sac", "inril_tqc"):
        with open(tmp_path / f"{algo}.yml", "w") as file:
            yaml.safe_dump(config, file)
    diffusion = {
        **config["Pendulum-v1"],
        "policy": "DiffusionPolicy",
        "policy_kwargs": "dict(denoising_steps=4, denoiser_net_arch=[32])",
    }
    with open(tmp_path / "inril_dppo.yml", "w") as file:
        yaml.safe_dump({"Pendulum-v1": diffusion}, file)
    idql = {**config["Pendulum-v1"], "policy_kwargs": "dict(denoising_steps=3, n_action_samples=4, net_arch=[16])"}
    with open(tmp_path / "inril_idql.yml", "w") as file:
        yaml.safe_dump({"Pendulum-v1": idql}, file)
    plain = {"Pendulum-v1": {key: value for key, value in config["Pendulum-v1"].items() if key != "il_interval"}}
    with open(tmp_path / "ppo.yml", "w") as file:
        yaml.safe_dump(plain, file)
    with open(tmp_path / "idql.yml", "w") as file:
        yaml.safe_dump({"Pendulum-v1": {key: value for key, value in idql.items() if key != "il_interval"}}, file)
    return str(tmp_path)


@pytest.mark.parametrize("algo", sorted(INRIL_ALGOS))
def test_train_continue_and_enjoy(zoo_config, algo):
    conf = f"-conf {algo}.yml -params {TINY[algo]}"
    run(
        "sb3_inril.train",
        f"--algo {algo} --env Pendulum-v1 -n 200 -f logs {conf} --seed 0 -tb runs --eval-freq 100 --eval-episodes 1",
        zoo_config,
    )
    model_path = os.path.join(zoo_config, "logs", algo, "Pendulum-v1_1", "Pendulum-v1.zip")
    assert os.path.exists(model_path)
    assert glob.glob(os.path.join(zoo_config, "runs", "Pendulum-v1", f"{INRIL_ALGOS[algo].__name__}_*"))
    run("sb3_inril.train", f"--algo {algo} --env Pendulum-v1 -n 100 -f logs {conf} -i {model_path}", zoo_config)
    assert os.path.exists(os.path.join(zoo_config, "logs", algo, "Pendulum-v1_2", "Pendulum-v1.zip"))
    run("sb3_inril.enjoy", f"--algo {algo} --env Pendulum-v1 -f logs -n 50 --no-render", zoo_config)


def test_plain_baseline_gets_the_bc_start(zoo_config):
    result = run(
        "sb3_inril.train",
        "--algo ppo --env Pendulum-v1 -n 128 -f logs -conf ppo.yml -params n_steps:64 batch_size:16",
        zoo_config,
    )
    assert "BC start of ppo: 5 steps, validation loss" in result.stdout
    from stable_baselines3 import PPO

    model = PPO.load(os.path.join(zoo_config, "logs", "ppo", "Pendulum-v1_1", "Pendulum-v1.zip"))
    assert type(model) is PPO  # stays a plain SB3 model


def test_plain_idql_with_the_bc_start_and_its_sampler(zoo_config):
    """IDQL, which rl_zoo3 does not have: trained with the BC start of its IN-RIL twin, and tuned."""
    result = run(
        "sb3_inril.train",
        "--algo idql --env Pendulum-v1 -n 100 -f logs -conf idql.yml -params learning_starts:50 batch_size:16",
        zoo_config,
    )
    assert "BC start of idql: 5 steps, validation loss" in result.stdout
    from sb3_inril import IDQL

    model = IDQL.load(os.path.join(zoo_config, "logs", "idql", "Pendulum-v1_1", "Pendulum-v1.zip"))
    assert type(model) is IDQL and model.policy.n_action_samples == 4
    result = run(
        "sb3_inril.train",
        "--algo inril_idql --env Pendulum-v1 -n 100 -f logs -conf inril_idql.yml -optimize --n-trials 1 --n-jobs 1 "
        "--sampler random --pruner none --n-evaluations 1 --eval-episodes 1 -params learning_starts:50",
        zoo_config,
    )
    assert "Number of finished trials:  1" in result.stdout
    assert "expectile" in result.stdout and "il_interval" in result.stdout


def test_optimize_two_trials(zoo_config):
    result = run(
        "sb3_inril.train",
        "--algo inril_ppo --env Pendulum-v1 -n 128 -f logs -conf inril_ppo.yml -optimize --n-trials 2 --n-jobs 1 "
        "--sampler random --pruner none --n-evaluations 1 --eval-episodes 1 -params n_steps:64 batch_size:16",
        zoo_config,
    )
    assert "Number of finished trials:  2" in result.stdout
    assert "il_interval" in result.stdout and "gradient_separation" in result.stdout


def test_yaml_and_params_mistakes_are_clear_errors(zoo_config):
    result = run(
        "sb3_inril.train",
        "--algo inril_ppo --env Pendulum-v1 -conf inril_ppo.yml -params il_intervall:3",
        zoo_config,
        check=False,
    )
    assert result.returncode != 0
    assert "unknown keys ['il_intervall'] for InRILPPO" in result.stderr
    with open(os.path.join(zoo_config, "inril_sac.yml"), "w") as file:
        yaml.safe_dump({"Pendulum-v1": {"policy": "MlpPolicy", "n_timesteps": 100, "demonstrations": "nope.npz"}}, file)
    result = run("sb3_inril.train", "--algo inril_sac --env Pendulum-v1 -conf inril_sac.yml", zoo_config, check=False)
    assert result.returncode != 0 and "demonstrations file not found" in result.stderr and "nope.npz" in result.stderr
    assert "Traceback" in result.stderr  # raised before any env step: the message is the last line
    assert result.stderr.strip().splitlines()[-1].startswith("FileNotFoundError: hyperparameters")


@pytest.mark.parametrize(
    "params, last_line",
    [
        # A string's "keys" were its characters, a number gave "TypeError: 'int' object is not iterable".
        ("pretrain_kwargs:\"'n_epochs=1'\"", "TypeError: hyperparameters"),
        ("pretrain_kwargs:5", "TypeError: hyperparameters"),
        # Read as the working directory, "neither an imitation dataset nor a Minari dataset".
        ("demonstrations:\"''\"", "ValueError: hyperparameters"),
    ],
)
def test_malformed_bc_keys_are_named_before_anything_is_built(zoo_config, params, last_line):
    result = run(
        "sb3_inril.train", f"--algo inril_ppo --env Pendulum-v1 -conf inril_ppo.yml -params {params}", zoo_config, check=False
    )
    assert result.returncode != 0
    message = result.stderr.strip().splitlines()[-1]
    assert message.startswith(last_line), message
    if "pretrain_kwargs" in params:
        assert "pretrain_kwargs: expected a mapping of pretrain() arguments" in message, message
    else:
        assert "demonstrations: expected a file, a dataset directory or a shipped name, found ''" in message, message


def test_plain_baseline_pretrain_kwargs_values_are_named(zoo_config):
    # The BC start of a plain algorithm: before, "n_epochs: expected ..." (the PPO argument's name) from pretrain().
    result = run(
        "sb3_inril.train",
        "--algo ppo --env Pendulum-v1 -n 64 -f logs -conf ppo.yml -params n_steps:32 \"pretrain_kwargs:dict(n_epochs='x')\"",
        zoo_config,
        check=False,
    )
    assert result.returncode != 0
    assert result.stderr.strip().splitlines()[-1] == (
        "TypeError: pretrain_kwargs: n_epochs: expected a positive int or None, found str 'x'"
    ), result.stderr[-2000:]


def test_shipped_hyperparameter_files_are_valid():
    from rl_zoo3.utils import ALGOS

    from sb3_inril.zoo import BC_KEYS, ZOO_KEYS, register

    register()
    for path in sorted(glob.glob(os.path.join(HYPERPARAMS_DIR, "*.yml"))):
        algo = os.path.basename(path)[:-4]
        with open(path) as file:
            entries = yaml.load(file, Loader=yaml.UnsafeLoader)
        valid = constructor_arguments(ALGOS[algo]) | ZOO_KEYS | BC_KEYS
        for env_id, hyperparams in entries.items():
            assert set(hyperparams) <= valid, (path, env_id, set(hyperparams) - valid)
            if "demonstrations" in hyperparams:  # named, so that the package finds them wherever it is installed
                assert hyperparams["demonstrations"].startswith("shipped:"), (path, env_id)
                assert os.path.exists(resolve_shipped(hyperparams["demonstrations"])), (path, env_id)
        if algo.startswith("inril_"):
            assert "n_timesteps" in entries["default"], path
        tasks = {"Pendulum-v1", "Hopper-v5", "HalfCheetah-v5", "robomimic/Lift-v0", "robomimic/PickPlaceCan-v0"}
        assert tasks | {"robomimic/NutAssemblySquare-v0"} <= set(entries), path


def test_robomimic_task_from_the_shipped_yaml(tmp_path):
    # The shipped entry (scripted Lift demonstrations, BC start) at a tiny budget and horizon.
    params = (
        'n_steps:32 batch_size:16 n_epochs:1 il_interval:2 "env_kwargs:dict(horizon=10)" "pretrain_kwargs:dict(n_epochs=1)"'
    )
    run("sb3_inril.train", f"--algo inril_ppo --env robomimic/Lift-v0 -n 64 -f logs --seed 0 -params {params}", str(tmp_path))
    folder = os.path.join(str(tmp_path), "logs", "inril_ppo", "robomimic-Lift-v0_1")
    assert os.path.exists(os.path.join(folder, "robomimic-Lift-v0.zip"))
    with open(os.path.join(folder, "robomimic-Lift-v0", "config.yml")) as file:
        config = dict(yaml.load(file, Loader=yaml.UnsafeLoader))
    assert config["demonstrations"] == "shipped:robomimic/Lift-v0/scripted"  # recorded by name
    run("sb3_inril.enjoy", "--algo inril_ppo --env robomimic/Lift-v0 -f logs -n 20 --no-render", str(tmp_path))


def test_env_without_an_entry(tmp_path):
    # Without demonstrations: our message, before anything is built (no KeyError from rl_zoo3).
    result = run("sb3_inril.train", "--algo inril_ppo --env CartPole-v1 -n 64 -f logs", str(tmp_path), check=False)
    assert result.returncode != 0 and "KeyError" not in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith("ValueError: hyperparameters")
    assert "pass -params demonstrations:" in result.stderr
    # With demonstrations (a path relative to the working directory): the default entry trains.
    rng = np.random.default_rng(0)
    np.savez(
        tmp_path / "cartpole.npz", obs=rng.normal(size=(40, 4)), acts=rng.integers(0, 2, 40), dones=np.arange(40) % 10 == 9
    )
    run(
        "sb3_inril.train",
        "--algo inril_ppo --env CartPole-v1 -n 64 -f logs -params demonstrations:\"'cartpole.npz'\" n_steps:32 batch_size:16",
        str(tmp_path),
    )
    folder = os.path.join(str(tmp_path), "logs", "inril_ppo", "CartPole-v1_1")
    with open(os.path.join(folder, "CartPole-v1", "config.yml")) as file:
        config = dict(yaml.load(file, Loader=yaml.UnsafeLoader))
    assert config["demonstrations"] == str(tmp_path / "cartpole.npz")  # resolved against the working directory
    # Plain PPO on an env our ppo.yml lacks uses rl_zoo3's own file.
    run("sb3_inril.train", "--algo ppo --env CartPole-v1 -n 64 -f logs -params n_steps:32 batch_size:16", str(tmp_path))
