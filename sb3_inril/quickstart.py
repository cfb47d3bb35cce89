"""The main job: BC pre-training on shipped Hopper-v5 demonstrations, then fine-tuning the same
pre-trained policy with plain PPO and with InRILPPO (same seed, same budget), evaluated side by side.

Run it with ``python -m sb3_inril quickstart`` (``--help`` lists the options). Pre-training and each
fine-tuning run use ``--num-threads`` torch threads (default: ``$OMP_NUM_THREADS`` if set, else 1;
see :mod:`sb3_inril.parallel`).
"""

import argparse
import csv
import json
import os
import time
from typing import Any

import gymnasium as gym
import numpy as np
import torch as th
from stable_baselines3 import PPO
from stable_baselines3.common.monitor import Monitor

from sb3_inril.common.callbacks import EvalCurve
from sb3_inril.data import demonstration_metadata, demonstration_path
from sb3_inril.hyperparams import read_entry, split_entry
from sb3_inril.parallel import add_num_threads_argument, num_threads_applied, resolve_num_threads, run_tasks
from sb3_inril.ppo import InRILPPO

ENV_ID = "Hopper-v5"
METHODS = ("PPO", "InRILPPO")
# The zoo's InRILPPO entry for Hopper-v5 (zoo_hyperparams/inril_ppo.yml): fine-tuning from a BC start
# with a small learning rate and a narrow initial exploration noise. One source for the zoo, this
# quickstart and scripts/compare.py.
PPO_KWARGS, INRIL_KWARGS, PRETRAIN_KWARGS = split_entry(read_entry("inril_ppo", ENV_ID))


def finetune(method: str, policy_state_path: str, config: dict[str, Any]) -> dict[str, Any]:
    """Fine-tune the pre-trained policy with one method; returns its evaluation curve."""
    env = Monitor(gym.make(ENV_ID))
    kwargs = dict(PPO_KWARGS, seed=config["seed"], device="cpu", tensorboard_log=config["tensorboard_log"])
    if method == "PPO":
        model = PPO("MlpPolicy", env, **kwargs)
    else:
        model = InRILPPO("MlpPolicy", env, demonstrations=config["demonstrations"], **INRIL_KWARGS, **kwargs)
    state = th.load(policy_state_path, map_location="cpu")
    model.policy.load_state_dict(state)
    if isinstance(model, InRILPPO):
        model.reset_drift_reference()
    callback = EvalCurve(Monitor(gym.make(ENV_ID)), config["eval_freq"], config["n_eval_episodes"], config["seed"] + 1000)
    start = time.time()
    model.learn(config["timesteps"], callback=callback, tb_log_name=method)
    model.save(os.path.join(config["output_dir"], f"{method.lower()}_final"))
    return {"method": method, "curve": callback.curve, "wall_time_s": time.time() - start}


def run_quickstart(
    output_dir: str = "quickstart_output",
    timesteps: int = 100_000,
    seed: int = 0,
    eval_freq: int = 10_000,
    n_eval_episodes: int = 5,
    pretrain_epochs: int = PRETRAIN_KWARGS["n_epochs"],
    n_jobs: int = 2,
    verbose: bool = True,
    num_threads: int | None = None,
) -> dict[str, Any]:
    """
    Pre-train, fine-tune with PPO and InRILPPO, evaluate, and write a table, a plot and TensorBoard logs.

    :param output_dir: where results, plot, models and TensorBoard logs go
    :param timesteps: environment steps of fine-tuning per method
    :param seed: seed of pre-training, of both fine-tuning runs and of the evaluation episodes
    :param eval_freq: evaluate every this many environment steps
    :param n_eval_episodes: deterministic episodes per evaluation
    :param pretrain_epochs: epochs of BC pre-training
    :param n_jobs: fine-tuning runs in parallel (one per core)
    :param verbose: print progress and the table
    :param num_threads: torch threads of pre-training and of each fine-tuning run (default:
        ``$OMP_NUM_THREADS`` if set, else 1); the caller's thread count is put back afterwards
    :return: the results (also written to ``results.json``)
    """
    start = time.time()
    os.makedirs(output_dir, exist_ok=True)
    demonstrations = demonstration_path(ENV_ID, "expert")
    tensorboard_log = os.path.join(output_dir, "tensorboard")
    if verbose:
        info = demonstration_metadata(ENV_ID, "expert")
        print(f"Demonstrations: {demonstrations} ({info['n_episodes']} episodes, return {info['return_mean']:.0f})")

    # 1. One BC pre-training, shared by both fine-tuning runs.
    threads = resolve_num_threads(num_threads)
    th.manual_seed(seed)
    bc_model = InRILPPO("MlpPolicy", gym.make(ENV_ID), demonstrations=demonstrations, seed=seed, device="cpu", **PPO_KWARGS)
    with num_threads_applied(threads):
        pretrain_stats = bc_model.pretrain(**dict(PRETRAIN_KWARGS, n_epochs=pretrain_epochs), progress_bar=verbose)
    policy_state_path = os.path.join(output_dir, "pretrained_policy.pt")
    th.save(bc_model.policy.state_dict(), policy_state_path)
    if verbose:
        print(f"BC pre-training: {pretrain_stats['n_steps']} steps, validation NLL {pretrain_stats['final_val_loss']:.3f}")

    # 2. Fine-tune with each method from the same start, in parallel.
    config = dict(
        seed=seed,
        timesteps=timesteps,
        eval_freq=eval_freq,
        n_eval_episodes=n_eval_episodes,
        demonstrations=demonstrations,
        tensorboard_log=tensorboard_log,
        output_dir=output_dir,
    )
    if verbose:
        print(
            f"Fine-tuning {', '.join(METHODS)} for {timesteps} steps each ({n_jobs} in parallel, "
            f"{threads} torch thread(s) each) ..."
        )
    finished = dict(run_tasks(finetune, [(method, policy_state_path, config) for method in METHODS], n_jobs, threads))
    runs = [finished[index] for index in range(len(METHODS))]

    # 3. Report.
    runs_by_method: dict[str, Any] = {}
    results = {"env": ENV_ID, "seed": seed, "timesteps": timesteps, "pretrain": pretrain_stats, "runs": runs_by_method}
    for run in runs:
        returns = np.array([point[1] for point in run["curve"]])
        runs_by_method[run["method"]] = {
            "bc_start_return": float(returns[0]),
            "final_return": float(returns[-1]),
            "min_return": float(returns.min()),
            "max_return": float(returns.max()),
            "curve": run["curve"],
            "wall_time_s": run["wall_time_s"],
        }
    results["wall_time_s"] = time.time() - start
    write_outputs(results, output_dir)
    if verbose:
        print_table(results)
        print(f"\nOutputs in {os.path.abspath(output_dir)}:")
        print("  results.json, results.csv   evaluation returns")
        print("  returns.png                 evaluation return against environment steps")
        print(f"  tensorboard/                tensorboard --logdir {tensorboard_log}")
        print(f"Total wall time: {results['wall_time_s']:.0f} s")
    return results


def write_outputs(results: dict[str, Any], output_dir: str) -> None:
    with open(os.path.join(output_dir, "results.json"), "w") as file:
        json.dump(results, file, indent=2)
    with open(os.path.join(output_dir, "results.csv"), "w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(["method", "timesteps", "eval_return_mean", "eval_return_std"])
        for method, run in results["runs"].items():
            for steps, mean, std, *_ in run["curve"]:  # (EvalCurve adds a success rate)
                writer.writerow([method, steps, mean, std])
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5))
    for method, run in results["runs"].items():
        curve = np.array(run["curve"])
        ax.plot(curve[:, 0], curve[:, 1], marker="o", label=method)
        ax.fill_between(curve[:, 0], curve[:, 1] - curve[:, 2], curve[:, 1] + curve[:, 2], alpha=0.2)
    ax.set_xlabel("environment steps of fine-tuning")
    ax.set_ylabel("evaluation return (mean ± std over episodes)")
    ax.set_title(f"{results['env']}: fine-tuning a BC policy, seed {results['seed']}")
    ax.legend()
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(os.path.join(output_dir, "returns.png"), dpi=120)
    plt.close(fig)


def print_table(results: dict[str, Any]) -> None:
    print(f"\n{'method':<10} {'BC start':>10} {'lowest':>10} {'final':>10} {'best':>10} {'time (s)':>9}")
    for method, run in results["runs"].items():
        print(
            f"{method:<10} {run['bc_start_return']:>10.1f} {run['min_return']:>10.1f} "
            f"{run['final_return']:>10.1f} {run['max_return']:>10.1f} {run['wall_time_s']:>9.0f}"
        )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="sb3-inril quickstart", description=__doc__)
    parser.add_argument("--output-dir", default="quickstart_output")
    parser.add_argument("--timesteps", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--eval-freq", type=int, default=10_000)
    parser.add_argument("--n-eval-episodes", type=int, default=5)
    parser.add_argument("--pretrain-epochs", type=int, default=PRETRAIN_KWARGS["n_epochs"])
    parser.add_argument("--n-jobs", type=int, default=2, help="fine-tuning runs in parallel processes")
    add_num_threads_argument(parser)
    args = parser.parse_args(argv)
    run_quickstart(
        output_dir=args.output_dir,
        timesteps=args.timesteps,
        seed=args.seed,
        eval_freq=args.eval_freq,
        n_eval_episodes=args.n_eval_episodes,
        pretrain_epochs=args.pretrain_epochs,
        n_jobs=args.n_jobs,
        num_threads=args.num_threads,
    )
