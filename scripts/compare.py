"""Does interleaving prevent the fine-tuning collapse? Multi-seed comparison from one BC start.

For every seed, one BC pre-training; then every method fine-tunes that same pre-trained policy:

- ``bc``: no fine-tuning (the BC policy, evaluated at the same points)
- ``rl``: plain fine-tuning (InRIL with ``il_interval=None``: the base algorithm step for step)
- ``bc_reg``: RL loss + a fixed-weight BC loss at every RL step (``--bc-weight``)
- ``bc_reg_fade``: the same with a weight that fades linearly from ``--bc-weight`` at the start to 0
  at the end of the budget (``BCRegularization(LinearSchedule(w, 0.0, 1.0))``)
- ``rlpd`` (off-policy only: SAC, IDQL): RLPD's symmetric sampling, half of every minibatch from the demonstrations'
  transitions (``sb3_inril.DemonstrationReplayBuffer``), no IL loss
- ``inril``: IN-RIL with ``m = --il-interval``, no separation
- ``inril_surgery``: IN-RIL with gradient surgery
- ``inril_residual``: IN-RIL with a residual policy (its base loaded from the BC policy)
- ``inril_adaptive``: IN-RIL with the adaptive interval (m in [2, 30] from the gradient cosine)
- ``inril_floor``: IN-RIL whose IL rate follows the performance floor (``PerformanceFloor``: dual ascent
  on the training episodes' return against the start's, ``--floor-tolerance``, ``--floor-window``,
  ``--floor-rate``, ``--floor-decay-rate``, ``--floor-confidence``), starting at ``m = --il-interval``
- ``bc_reg_floor``: BC regularisation whose weight follows the same floor, starting at ``--bc-weight``
- ``inril_m<M>``: IN-RIL with ``m = M`` (for an ``m`` sweep; ``rl`` is ``m = inf``)
- ``inril_m<M>_surgery``: IN-RIL with ``m = M`` and gradient surgery
- ``<method>_logstd<X>``: any of these with the Gaussian policy's ``log_std`` set to ``X`` after BC
  (e.g. ``rl_logstd-2``: the exploration std around the BC action; PPO/A2C's state-independent std
  only). The BC start is unchanged (evaluations are deterministic), so it shares the seed's start.
- ``<method>_warmup``: any of these with ``critic_warmup_steps = --critic-warmup-steps`` (counted in
  ``--critic-warmup-unit``, the critic learning at ``--critic-warmup-learning-rate``); after
  ``_logstd<X>`` when both are given (``inril_m2_logstd-2_warmup``)
- ``<method>_guard``: any of these with a ``RollbackGuard`` (last: ``inril_floor_warmup_guard``):
  every ``--eval-freq`` steps it evaluates ``--guard-episodes`` episodes on start states of its own,
  keeps the best policy and goes back to it below the floor (``--floor-tolerance`` under its first
  evaluation) by more than the evaluation's standard error. It runs before the evaluation curve, so
  the curve shows the policy the guard leaves in place; its env steps are in the run's
  ``guard["eval_env_steps"]``, on top of ``--timesteps``

``--metric success`` compares success rates (``info["is_success"]``, e.g. the robomimic tasks)
instead of returns.

Each (method, seed) run writes ``runs/<method>_s<seed>.json`` when it finishes (its evaluation
curve, and the fine-tuning diagnostics of ``FineTuningDiagnostics`` per rollout); an interrupted
comparison resumes by skipping finished runs. Runs go in parallel (``--jobs`` local processes, each
with ``--num-threads`` torch threads: by default ``$OMP_NUM_THREADS`` if set, else 1), or as Ray tasks
on a cluster (``--ray-address``, one CPU each; ``pip install "sb3_inril[ray]"``): the BC pre-training of
each seed and every run are tasks, their results come back to this process, which writes the same
files as a local sweep (resume included). A demonstrations file other than a shipped set must be at
the same path on every node. Outputs: ``results.csv`` (every evaluation), ``summary.json`` / ``summary.md`` (per method:
final score, mean score over the evaluations after the start, lowest score relative to the BC
start, environment steps to reach the threshold, each
with the mean over seeds and a 95% bootstrap confidence interval), ``curves.png``.

Example::

    python scripts/compare.py --env Hopper-v5 --algo ppo --demos medium --seeds 5 --timesteps 100000 \
        --methods bc rl bc_reg inril inril_surgery inril_residual --out results/hopper_ppo
    python scripts/compare.py --env robomimic/Lift-v0 --env-kwargs '{"horizon": 100}' --demos scripted \
        --metric success --methods bc rl inril --out results/lift_ppo_scripted
"""

import argparse
import csv
import io
import json
import os
import platform
import re
import sys
import time
import traceback
from typing import Any, cast

import gymnasium as gym
import numpy as np
import torch as th
from stable_baselines3.common.monitor import Monitor
from stable_baselines3.common.utils import LinearSchedule
from tqdm.auto import tqdm

if __package__ in (None, ""):  # run as `python scripts/<name>.py`: the repository root on the path, for `scripts.*`
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from sb3_inril import DemonstrationReplayBuffer, InRILIDQL, InRILPPO, InRILSAC
from sb3_inril.common.callbacks import BCRegularization, EvalCurve, FineTuningDiagnostics, evaluate_with_success
from sb3_inril.common.floor import PerformanceFloor, RollbackGuard
from sb3_inril.data import SHIPPED_PREFIX
from sb3_inril.demos.chunking import ActionChunkWrapper
from sb3_inril.demos.files import write_atomically  # a reader (or a resumed sweep) never sees half a file
from sb3_inril.hyperparams import read_entry, split_entry
from sb3_inril.parallel import add_num_threads_argument, add_ray_address_argument, resolve_num_threads, run_tasks
from sb3_inril.validation import check_positive_int
from scripts.aggregate import paired_steps_ratio, steps_ratio_kind, steps_to_threshold
from scripts.bootstrap import bootstrap_mean_ci

ALGOS: dict[str, type[InRILPPO] | type[InRILSAC] | type[InRILIDQL]] = {"ppo": InRILPPO, "sac": InRILSAC, "idql": InRILIDQL}
OFF_POLICY_ALGOS = ("sac", "idql")
#: PPO's policies with a state-independent ``log_std`` parameter (what ``_logstd<X>`` sets after the BC start).
LOG_STD_POLICIES = ("MlpPolicy", "ResidualMlpPolicy", "ResidualDiffusionPolicy")
BASE_METHODS = (
    "bc",
    "rl",
    "bc_reg",
    "bc_reg_fade",
    "bc_reg_floor",
    "rlpd",
    "inril",
    "inril_floor",
    "inril_surgery",
    "inril_residual",
    "inril_adaptive",
)
LOG_STD_MODIFIER = re.compile(r"^(?P<base>.+)_logstd(?P<value>-?\d+(?:\.\d+)?)$")


def exploration_log_std(method: str) -> tuple[str, float | None]:
    """The method without its ``_logstd<X>`` and ``_guard`` modifiers (``_warmup`` kept), and ``X`` (None without one)."""
    method = method.removesuffix("_guard")
    warmup = method.endswith("_warmup")
    core = method.removesuffix("_warmup")
    match = LOG_STD_MODIFIER.match(core)
    if match is None or match["base"].endswith("_warmup"):  # one name per run: _warmup comes last
        return method, None
    return match["base"] + ("_warmup" if warmup else ""), float(match["value"])


def method_kwargs(
    method: str,
    il_interval: int,
    critic_warmup_steps: int = 0,
    demos: str | None = None,
    warmup_kwargs: dict[str, Any] | None = None,
) -> dict[str, Any]:
    # _logstd<X> is set on the policy after the BC start is loaded and _guard is a callback: neither is an argument.
    if "_guard" in method.removesuffix("_guard"):
        raise ValueError(f"--methods: unknown method {method!r}: _guard comes last (e.g. rl_warmup_guard)")
    method, _ = exploration_log_std(method)
    if method.endswith("_warmup"):  # any method, with the critic warm-up (its unit and rate in warmup_kwargs)
        return dict(
            method_kwargs(method[: -len("_warmup")], il_interval, demos=demos),
            critic_warmup_steps=critic_warmup_steps,
            **(warmup_kwargs or {}),
        )
    if method in ("bc", "rl", "bc_reg", "bc_reg_fade", "bc_reg_floor"):
        return dict(il_interval=None)
    if method == "rlpd":  # off-policy only: half of every minibatch from the demonstrations' transitions
        return dict(
            il_interval=None,
            replay_buffer_class=DemonstrationReplayBuffer,
            replay_buffer_kwargs=dict(demonstrations=demos, demo_fraction=0.5),
        )
    if method in ("inril", "inril_floor"):
        return dict(il_interval=il_interval)
    if method == "inril_surgery":
        return dict(il_interval=il_interval, gradient_separation="surgery")
    if method == "inril_residual":
        return dict(il_interval=il_interval, gradient_separation="residual")
    if method == "inril_adaptive":
        return dict(il_interval="adaptive")
    if method.startswith("inril_m") and method[7:].isdigit():
        return dict(il_interval=int(method[7:]))
    if method.startswith("inril_m") and method.endswith("_surgery") and method[7 : -len("_surgery")].isdigit():
        return dict(il_interval=int(method[7 : -len("_surgery")]), gradient_separation="surgery")
    raise ValueError(
        f"--methods: unknown method {method!r}, expected one of {BASE_METHODS}, inril_m<M> or inril_m<M>_surgery, "
        "optionally followed by _logstd<X>, then _warmup, then _guard"
    )


def warmup_kwargs(config: dict[str, Any]) -> dict[str, Any]:
    """The critic warm-up's unit and learning rate when given (configs of older sweeps have neither)."""
    kwargs = {"critic_warmup_unit": config.get("critic_warmup_unit", "gradient_step")}
    if config.get("critic_warmup_learning_rate") is not None:
        kwargs["critic_warmup_learning_rate"] = config["critic_warmup_learning_rate"]
    return kwargs


def algo_kwargs(config: dict[str, Any]) -> dict[str, Any]:
    """The base algorithm's settings: the zoo's entry for the env (zoo_hyperparams/inril_<algo>.yml, its
    default: entry for an env without one), then --algo-kwargs; its ``policy_kwargs`` update the entry's
    key by key (``{"policy_kwargs": {"base_chunk_size": 4}}`` keeps the entry's ``net_arch``). The
    methods set the IN-RIL arguments."""
    entry = read_entry(f"inril_{config['algo']}", config["env"])
    algorithm, _, _ = split_entry(entry)
    # compare.py runs one env: an entry's n_steps counts steps per env of its n_envs envs, so the
    # rollout keeps the entry's size (n_steps x n_envs) here.
    if "n_steps" in algorithm and int(entry.get("n_envs", 1)) > 1:
        algorithm["n_steps"] = int(algorithm["n_steps"]) * int(entry["n_envs"])
    settings = {**algorithm, **config["algo_kwargs"]}
    if "policy_kwargs" in config["algo_kwargs"]:
        settings["policy_kwargs"] = {**(algorithm.get("policy_kwargs") or {}), **config["algo_kwargs"]["policy_kwargs"]}
    return settings


def pretrain_kwargs(config: dict[str, Any]) -> dict[str, Any]:
    """BC pre-training settings of the zoo's entry; the number of epochs is --pretrain-epochs, and
    --pretrain-log-std (when given; the command line always gives it) the exploration std set after BC."""
    _, _, pretrain = split_entry(read_entry(f"inril_{config['algo']}", config["env"]))
    settings = {key: value for key, value in pretrain.items() if key not in ("n_epochs", "n_steps")}
    if config.get("pretrain_log_std") is not None:
        settings["log_std"] = config["pretrain_log_std"]
    return settings


def pretrain_epochs_argument(value: str) -> int | None:
    """``--pretrain-epochs``: a positive int, or ``auto`` (None: pretrain() stops when it has converged)."""
    if value == "auto":
        return None
    epochs = int(value)
    if epochs < 1:
        raise argparse.ArgumentTypeError(f"expected a positive int or 'auto', found {value!r}")
    return epochs


def make_env(config: dict[str, Any]) -> gym.Env:
    env = gym.make(config["env"], **config.get("env_kwargs", {}))
    chunk = config.get("action_chunk")
    # A policy step is a chunk of H env actions; per-step demonstrations are chunked when attached.
    return ActionChunkWrapper(env, chunk_size=chunk) if chunk else env


def policy_name(config: dict[str, Any]) -> str:
    return config.get("policy", "MlpPolicy")


def pretrain_start(config: dict[str, Any], seed: int) -> tuple[int, bytes]:
    """BC pre-training of one seed (a task): the policy's state, serialized, made once and shared by every method."""
    model = ALGOS[config["algo"]](
        policy_name(config),
        make_env(config),
        demonstrations=config["demos"],
        seed=seed,
        device="cpu",
        **algo_kwargs(config),
    )
    settings = pretrain_kwargs(config)
    if not isinstance(getattr(model.policy, "log_std", None), th.nn.Parameter):
        settings.pop("log_std", None)  # e.g. a diffusion policy: its exploration is its denoising noise
    model.pretrain(n_epochs=config["pretrain_epochs"], **settings)
    buffer = io.BytesIO()
    th.save(model.policy.state_dict(), buffer)
    return seed, buffer.getvalue()


def pretrained_path(config: dict[str, Any], seed: int) -> str:
    return os.path.join(config["out"], "pretrained", f"seed{seed}.pt")


def run_path(config: dict[str, Any], method: str, seed: int) -> str:
    return os.path.join(config["out"], "runs", f"{method}_s{seed}.json")


def run_one(method: str, seed: int, config: dict[str, Any], pretrained: bytes) -> dict[str, Any]:
    """One (method, seed) fine-tuning run from the seed's BC start (a task); returns its result."""
    start = time.time()
    algo_class = ALGOS[config["algo"]]
    env = Monitor(make_env(config))
    model = algo_class(
        policy_name(config),
        env,
        demonstrations=config["demos"],
        seed=seed,
        device="cpu",
        **method_kwargs(method, config["il_interval"], config["critic_warmup_steps"], config["demos"], warmup_kwargs(config)),
        **algo_kwargs(config),
    )
    state = th.load(io.BytesIO(pretrained), map_location="cpu")
    if model.is_residual:
        # The residual network is new (and starts at zero); SAC's log_std head moved onto it.
        own = model.policy.state_dict()
        state = {key: value for key, value in state.items() if key in own and own[key].shape == value.shape}
    missing, unexpected = model.policy.load_state_dict(state, strict=not model.is_residual)
    assert not unexpected and all("residual" in key or key.startswith("actor.log_std") for key in missing), (
        missing,
        unexpected,
    )
    _, log_std = exploration_log_std(method)
    if log_std is not None:  # the exploration std around the BC action (the deterministic BC start is unchanged)
        with th.no_grad():
            cast(th.Tensor, model.policy.log_std).fill_(log_std)  # PPO's parameter (main() refuses the others)
    model.reset_drift_reference()
    eval_env = Monitor(make_env(config))
    final_episodes = config.get("final_eval_episodes")
    curve_callback = EvalCurve(
        eval_env, config["eval_freq"], config["eval_episodes"], seed=10_000 + seed, final_n_eval_episodes=final_episodes
    )
    # What drives a dip: advantages, the critic's explained variance, KL, std, drift (10 rows per evaluation at most).
    diagnostics = FineTuningDiagnostics(every=max(1, config["eval_freq"] // 10))
    extra: dict[str, Any] = {}
    if exploration_log_std(method)[0] == "bc":  # (bc_warmup would be the same: nothing is trained)
        # Evaluated once (nothing is trained), with the final evaluation's episodes where it has more.
        point = evaluate_with_success(model, eval_env, max(config["eval_episodes"], final_episodes or 0), 10_000 + seed)
        curve = [(step, *point) for step in range(0, config["timesteps"] + 1, config["eval_freq"])]
    else:
        callbacks: list[Any] = [curve_callback, diagnostics]
        guard: RollbackGuard | None = None
        if method.endswith("_guard"):  # first: the curve then evaluates the policy the guard leaves in place
            guard = RollbackGuard(
                Monitor(make_env(config)),
                eval_freq=config["eval_freq"],
                n_eval_episodes=config.get("guard_episodes") or config["eval_episodes"],
                seed=20_000 + seed,  # start states of its own, not the curve's
                tolerance=config.get("floor_tolerance", 0.05),
            )
            callbacks.insert(0, guard)
        base = exploration_log_std(method)[0].removesuffix("_warmup")
        floor: PerformanceFloor | None = None
        if base == "bc_reg_fade":
            callbacks.append(BCRegularization(LinearSchedule(config["bc_weight"], 0.0, 1.0)))
        elif base.startswith("bc_reg"):
            callbacks.append(BCRegularization(config["bc_weight"]))
        if base.endswith("_floor"):
            floor = PerformanceFloor(
                tolerance=config.get("floor_tolerance", 0.05),
                window=config.get("floor_window", 5),
                multiplier_rate=config.get("floor_rate", 1.0),
                decay_rate=config.get("floor_decay_rate"),
                confidence=config.get("floor_confidence", 0.0),
                bc_regularization=callbacks[-1] if base == "bc_reg_floor" else None,
            )
            callbacks.append(floor)
        model.learn(config["timesteps"], callback=callbacks)
        curve = curve_callback.curve
        if floor is not None:
            extra["floor"] = floor.history
        if guard is not None:
            extra["guard"] = dict(
                eval_env_steps=guard.eval_env_steps, n_rollbacks=guard.n_rollbacks, evaluations=guard.evaluations
            )
    result = dict(
        method=method, seed=seed, curve=curve, diagnostics=diagnostics.rows, wall_time_s=time.time() - start, **extra
    )
    # Through JSON and back: the same values whether the run comes from a pool, Ray or a file.
    return json.loads(json.dumps(result))


def run_sweep(
    config: dict[str, Any], todo: list[tuple[str, int]], jobs: int, num_threads: int, ray_address: str | None
) -> None:
    """The BC starts that are missing, then the runs to do; each file is written here as its task finishes."""
    parallel: dict[str, Any] = dict(jobs=jobs, num_threads=num_threads, ray_address=ray_address)
    starts: dict[int, bytes] = {}
    missing = []
    for seed in sorted({s for _, s in todo}):
        if os.path.exists(pretrained_path(config, seed)):
            with open(pretrained_path(config, seed), "rb") as file:
                starts[seed] = file.read()
        else:
            missing.append(seed)
    for _, (seed, state) in tqdm(
        run_tasks(pretrain_start, [(config, seed) for seed in missing], **parallel), total=len(missing), desc="BC starts"
    ):
        write_atomically(pretrained_path(config, seed), state)
        starts[seed] = state
    tasks = [(method, seed, config, starts[seed]) for method, seed in todo]
    failed = []
    for _, result in tqdm(run_tasks(run_one_or_error, tasks, **parallel), total=len(tasks), desc="runs"):
        if "error" in result:  # the other runs go on; the sweep fails at its end, naming this one
            failed.append(f"{result['method']} seed {result['seed']}: {result['error']}")
            continue
        write_atomically(run_path(config, result["method"], result["seed"]), json.dumps(result).encode())
    if failed:
        raise RuntimeError(f"{len(failed)} of {len(tasks)} runs failed (the others are written):\n" + "\n".join(failed))


def run_one_or_error(method: str, seed: int, config: dict[str, Any], pretrained: bytes) -> dict[str, Any]:
    """:func:`run_one`, or where it raises, the run's name and the error's traceback (so one failing run does
    not take the sweep's other runs, finished or under way, with it)."""
    try:
        return run_one(method, seed, config, pretrained)
    except Exception:  # reported by the sweep, with the traceback
        return dict(method=method, seed=seed, error=traceback.format_exc())


def bootstrap_ci(values: np.ndarray, n_resamples: int = 2000, seed: int = 0) -> tuple[float, float, float]:
    """Mean over seeds (non-finite values left out) and its 95% percentile-bootstrap confidence interval."""
    return bootstrap_mean_ci(values, n_resamples, rng=seed)


METRICS = {"return": (1, "evaluation return"), "success": (3, "evaluation success rate")}


def summarize(runs: list[dict[str, Any]], threshold: float | None, metric: str = "return") -> dict[str, Any]:
    def order(method: str) -> tuple:
        base = exploration_log_std(method)[0].removesuffix("_warmup")
        if base in BASE_METHODS:
            return (0, BASE_METHODS.index(base), method)
        digits = base.removeprefix("inril_m")
        return (1, int(digits) if digits.isdigit() else 0, method)

    methods = sorted({run["method"] for run in runs}, key=order)
    column = METRICS[metric][0]
    finals = {m: [run["curve"][-1][column] for run in runs if run["method"] == m] for m in methods}
    if threshold is None:
        # Halfway from the mean BC start to the best method's mean final score.
        start = np.mean([run["curve"][0][column] for run in runs])
        threshold = float(start + 0.5 * (max(np.mean(v) for v in finals.values()) - start))
    summary: dict[str, Any] = {"metric": metric, "threshold": threshold, "methods": {}}
    # Per method and seed, its curve of the metric: what the steps ratio against plain fine-tuning pairs.
    curves = {
        m: {run["seed"]: [(p[0], p[column]) for p in run["curve"]] for run in runs if run["method"] == m} for m in methods
    }
    for method in methods:
        method_runs = [run for run in runs if run["method"] == method]
        final, dip, reach, mean_after_start = [], [], [], []
        for run in method_runs:
            returns = np.array([point[column] for point in run["curve"]])
            final.append(returns[-1])
            # Every evaluation after the start: less noisy than the last point alone.
            mean_after_start.append(returns[1:].mean() if len(returns) > 1 else returns[0])
            dip.append(returns.min() - returns[0])
            steps_to, reached_it = steps_to_threshold(curves[method][run["seed"]], threshold)
            reach.append(steps_to if reached_it else np.inf)
        reached = np.isfinite(reach)
        summary["methods"][method] = {
            "n_seeds": len(method_runs),
            "final": bootstrap_ci(np.array(final)),
            "mean_during_fine_tuning": bootstrap_ci(np.array(mean_after_start)),
            "collapse": bootstrap_ci(np.array(dip)),
            "steps_to_threshold": bootstrap_ci(np.array(reach)),
            "reached_threshold": f"{int(reached.sum())}/{len(reach)}",
        }
        if method not in ("rl", "bc"):  # (bc is not fine-tuned: it never moves towards the threshold)
            ratio = paired_steps_ratio(curves, method, threshold, baseline="rl")
            if ratio is not None:  # the steps to the threshold as a share of rl's, paired by seed
                summary["methods"][method]["steps_ratio_vs_rl"] = ratio
        guarded = [run["guard"] for run in method_runs if "guard" in run]
        if guarded:  # the env steps a rollback guard spent on its evaluations, on top of the budget
            summary["methods"][method]["guard_eval_env_steps"] = bootstrap_ci(
                np.array([g["eval_env_steps"] for g in guarded], dtype=float)
            )
            summary["methods"][method]["guard_rollbacks"] = bootstrap_ci(
                np.array([g["n_rollbacks"] for g in guarded], dtype=float)
            )
    return summary


def write_outputs(runs: list[dict[str, Any]], summary: dict[str, Any], config: dict[str, Any]) -> None:
    out = config["out"]
    with open(os.path.join(out, "results.csv"), "w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(["method", "seed", "timesteps", "eval_return_mean", "eval_return_std", "eval_success_rate"])
        for run in sorted(runs, key=lambda r: (r["method"], r["seed"])):
            for point in run["curve"]:
                # Runs made before success rates were recorded have three columns.
                writer.writerow([run["method"], run["seed"], *point, *([float("nan")] * (4 - len(point)))])
    with open(os.path.join(out, "summary.json"), "w") as file:
        json.dump({"config": config, **summary}, file, indent=2, default=str)

    def cell(stat: tuple[float, float, float], digits: int = 1) -> str:
        mean, low, high = stat
        return "never" if not np.isfinite(mean) else f"{mean:.{digits}f} [{low:.{digits}f}, {high:.{digits}f}]"

    column, label = METRICS[summary["metric"]]
    name = label.removeprefix("evaluation ")
    # With action chunks a "timestep" of the model is one chunk: say so wherever steps are counted.
    chunk_size = config.get("action_chunk")
    steps_name = f"policy steps (chunks of {chunk_size} env steps)" if chunk_size else "env steps"
    digits = 1 if summary["metric"] == "return" else 2
    with_ratio = any("steps_ratio_vs_rl" in stats for stats in summary["methods"].values())

    def ratio_cell(stats: dict[str, Any]) -> str:
        ratio = stats.get("steps_ratio_vs_rl")
        if ratio is None:
            return "-"
        kind = steps_ratio_kind(ratio)
        if kind in ("no seed", "neither reached it"):
            return kind
        never = ", ".join(f"{m} {n}/{len(ratio['seeds'])}" for m, n in ratio["censored"].items())
        return f"{cell(tuple(ratio['ratio']), 2)}" + ("" if kind == "estimate" else f", {kind} (never reached: {never})")

    lines = [
        f"| method | seeds | final {name} | mean {name} over the evaluations after the start | "
        f"lowest {name} minus BC start (collapse) | {steps_name} to reach "
        f"{summary['threshold']:.{digits}f} | reached |"
        + (" steps to reach it as a share of rl's, paired |" if with_ratio else ""),
        "|---|---|---|---|---|---|---|" + ("---|" if with_ratio else ""),
    ]
    for method, stats in summary["methods"].items():
        lines.append(
            f"| {method} | {stats['n_seeds']} | {cell(stats['final'], digits)} | "
            f"{cell(stats['mean_during_fine_tuning'], digits)} | {cell(stats['collapse'], digits)} | "
            f"{cell(stats['steps_to_threshold'], 0)} | {stats['reached_threshold']} |"
            + (f" {ratio_cell(stats)} |" if with_ratio else "")
        )
    table = "\n".join(lines)
    with open(os.path.join(out, "summary.md"), "w") as file:
        file.write(
            table
            + "\n\nMeans over seeds with 95% bootstrap confidence intervals; steps to threshold over the seeds that reached it."
            + (
                " The share of rl's steps is the ratio of the two means over the seeds both ran; a run that never reaches"
                " the threshold counts its budget (censored: the ratio is then a bound, or with censored runs of both"
                " methods neither bound)."
                if with_ratio
                else ""
            )
            + "\n"
        )
    print(table)

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.colors import ListedColormap

    fig, ax = plt.subplots(figsize=(8, 5))
    # tab10 and tab20 are ListedColormaps, their colours a tuple of RGB tuples (the stubs say Colormap).
    palette = cast(ListedColormap, plt.cm.tab10 if len(summary["methods"]) <= 10 else plt.cm.tab20)
    colors = cast(tuple[Any, ...], palette.colors)
    for color, method in zip(colors, summary["methods"]):
        method_runs = [run for run in runs if run["method"] == method]
        length = min(len(run["curve"]) for run in method_runs)
        steps = np.array([point[0] for point in method_runs[0]["curve"][:length]])
        returns = np.array([[point[column] for point in run["curve"][:length]] for run in method_runs])
        bands = np.array([bootstrap_ci(returns[:, i]) for i in range(length)])
        ax.plot(steps, bands[:, 0], label=f"{method} (n={len(method_runs)})", color=color)
        ax.fill_between(steps, bands[:, 1], bands[:, 2], alpha=0.15, color=color)
    ax.axhline(summary["threshold"], color="grey", linestyle=":", linewidth=1)
    ax.set_xlabel(f"{steps_name} of fine-tuning")
    ax.set_ylabel(f"{label} (mean over seeds, 95% bootstrap CI)")
    policy = "" if config.get("policy", "MlpPolicy") == "MlpPolicy" else f" ({config['policy']})"
    chunk = f", chunks of {config['action_chunk']}" if config.get("action_chunk") else ""
    ax.set_title(f"{config['env']}, {config['algo'].upper()}{policy}{chunk}, demos: {os.path.basename(config['demos'])}")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(os.path.join(out, "curves.png"), dpi=120)
    plt.close(fig)


def make_parser() -> argparse.ArgumentParser:
    """The command line of the comparison (its defaults are those of the committed results)."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--env", default="Hopper-v5")
    parser.add_argument("--env-kwargs", type=json.loads, default={}, help="JSON, e.g. '{\"horizon\": 100}', for gym.make")
    parser.add_argument("--metric", choices=sorted(METRICS), default="return", help="what the summary and plot compare")
    parser.add_argument("--algo", choices=sorted(ALGOS), default="ppo")
    parser.add_argument(
        "--policy", default="MlpPolicy", help="e.g. DiffusionPolicy (settings in --algo-kwargs' policy_kwargs)"
    )
    parser.add_argument(
        "--action-chunk", type=int, default=None, help="H: the policy acts in chunks of H env actions (timesteps count chunks)"
    )
    parser.add_argument("--demos", default="medium", help="'expert'/'medium'/'scripted' (shipped for --env) or a path")
    parser.add_argument(
        "--methods",
        nargs="+",
        default=["bc", "rl", "bc_reg", "bc_reg_fade", "rlpd", "inril", "inril_surgery", "inril_residual"],
    )
    parser.add_argument("--seeds", type=int, nargs="+", default=[5], help="a count (one number) or a list of seeds")
    parser.add_argument("--timesteps", type=int, default=100_000)
    parser.add_argument("--eval-freq", type=int, default=10_000)
    parser.add_argument("--eval-episodes", type=int, default=5)
    parser.add_argument(
        "--final-eval-episodes",
        type=int,
        default=None,
        help="episodes of the evaluation at the end of the budget, where final scores are read (default: --eval-episodes)",
    )
    parser.add_argument("--il-interval", type=int, default=10)
    parser.add_argument("--bc-weight", type=float, default=0.1)
    parser.add_argument(
        "--floor-tolerance", type=float, default=0.05, help="the _floor methods: fraction of the start's score"
    )
    parser.add_argument("--floor-window", type=int, default=5, help="the _floor methods: training episodes per measurement")
    parser.add_argument("--floor-rate", type=float, default=1.0, help="the _floor methods: the multiplier's ascent rate")
    parser.add_argument(
        "--floor-decay-rate", type=float, default=None, help="the _floor methods: the multiplier's rate while the floor holds"
    )
    parser.add_argument(
        "--floor-confidence",
        type=float,
        default=0.0,
        help="the _floor methods: check the training score's mean minus this many standard errors",
    )
    parser.add_argument(
        "--guard-episodes",
        type=int,
        default=None,
        help="the _guard methods: episodes per evaluation (--eval-episodes if not given)",
    )
    parser.add_argument("--critic-warmup-steps", type=int, default=1000, help="for the <method>_warmup variants")
    parser.add_argument(
        "--critic-warmup-unit",
        choices=["gradient_step", "train_call"],
        default="gradient_step",
        help="what --critic-warmup-steps counts (train_call: rollouts of PPO)",
    )
    parser.add_argument("--critic-warmup-learning-rate", type=float, default=None, help="the critic's rate during the warm-up")
    parser.add_argument(
        "--pretrain-epochs",
        type=pretrain_epochs_argument,
        default=30,
        help="BC epochs of each seed's start, or 'auto': pretrain()'s default, until the held-out loss stops improving",
    )
    parser.add_argument(
        "--pretrain-log-std",
        type=float,
        default=-1.0,
        help="log_std set after BC in every seed's BC start (-1.0, as in every committed result, whatever the zoo "
        "entry's default; a method's _logstd<X> sets its own)",
    )
    parser.add_argument("--threshold", type=float, default=None)
    parser.add_argument("--jobs", type=int, default=2, help="local worker processes (without --ray-address)")
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="check the arguments, print the runs a sweep would do (a resumed one: those not finished) and the "
        "algorithm's settings, and stop: nothing is trained or written",
    )
    add_num_threads_argument(parser)
    add_ray_address_argument(parser)
    parser.add_argument(
        "--algo-kwargs", type=json.loads, default={}, help="JSON, e.g. '{\"n_steps\": 1024}', over the defaults"
    )
    parser.add_argument("--out", required=True)
    return parser


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = make_parser()
    args = parser.parse_args(argv)
    for method in args.methods:
        method_kwargs(method, args.il_interval, args.critic_warmup_steps)  # unknown names fail here, before any run
        if exploration_log_std(method)[0].removesuffix("_warmup") == "rlpd" and args.algo not in OFF_POLICY_ALGOS:
            parser.error(
                f"--methods: {method} needs an off-policy algorithm (--algo {' or '.join(OFF_POLICY_ALGOS)}), found --algo {args.algo}"
            )
        if exploration_log_std(method)[1] is not None and (args.algo != "ppo" or args.policy not in LOG_STD_POLICIES):
            parser.error(
                f"--methods: {method} sets the state-independent log_std of a Gaussian policy: expected --algo ppo "
                f"--policy one of {', '.join(LOG_STD_POLICIES)}, found --algo {args.algo} --policy {args.policy}"
            )
    try:  # the floor's and the guard's settings fail here, before any BC start is trained
        PerformanceFloor(
            tolerance=args.floor_tolerance,
            window=args.floor_window,
            multiplier_rate=args.floor_rate,
            decay_rate=args.floor_decay_rate,
            confidence=args.floor_confidence,
        )
        check_positive_int("--guard-episodes", args.guard_episodes, allow_none=True)
        check_positive_int("--final-eval-episodes", args.final_eval_episodes, allow_none=True)
    except (TypeError, ValueError) as error:
        parser.error(f"--floor-*/--guard-episodes/--final-eval-episodes: {error}")
    num_threads = resolve_num_threads(args.num_threads)
    seeds = list(range(args.seeds[0])) if len(args.seeds) == 1 else args.seeds
    shipped = args.demos in ("expert", "medium", "scripted")
    # A shipped set by its name: every machine of a cluster finds it in its own installed package.
    demos = f"{SHIPPED_PREFIX}{args.env}/{args.demos}" if shipped else os.path.abspath(args.demos)
    command = sys.argv if argv is None else ["scripts/compare.py", *argv]
    config = dict(
        env=args.env,
        env_kwargs=args.env_kwargs,
        metric=args.metric,
        algo=args.algo,
        policy=args.policy,
        action_chunk=args.action_chunk,
        demos=demos,
        methods=args.methods,
        seeds=seeds,
        timesteps=args.timesteps,
        eval_freq=args.eval_freq,
        eval_episodes=args.eval_episodes,
        final_eval_episodes=args.final_eval_episodes,
        il_interval=args.il_interval,
        bc_weight=args.bc_weight,
        floor_tolerance=args.floor_tolerance,
        floor_window=args.floor_window,
        floor_rate=args.floor_rate,
        floor_decay_rate=args.floor_decay_rate,
        floor_confidence=args.floor_confidence,
        guard_episodes=args.guard_episodes,
        critic_warmup_steps=args.critic_warmup_steps,
        critic_warmup_unit=args.critic_warmup_unit,
        critic_warmup_learning_rate=args.critic_warmup_learning_rate,
        pretrain_epochs=args.pretrain_epochs,
        pretrain_log_std=args.pretrain_log_std,
        algo_kwargs=args.algo_kwargs,
        num_threads=num_threads,
        out=os.path.abspath(args.out),
        command="python " + " ".join(command),
        machine=f"{platform.machine()}, {os.cpu_count()} cores, torch {th.__version__}, python {platform.python_version()}",
    )
    todo = [(m, s) for s in seeds for m in args.methods if not os.path.exists(run_path(config, m, s))]
    if args.dry_run:
        settings = algo_kwargs(config)  # (the methods were checked above)
        print(f"dry run: {len(todo)} of {len(args.methods) * len(seeds)} runs to do in {config['out']}: {todo}")
        print(f"dry run: {args.algo} {args.policy} with {settings}")
        return {"dry_run": True, "todo": todo, "algo_kwargs": settings}
    os.makedirs(os.path.join(config["out"], "runs"), exist_ok=True)
    where = f"Ray cluster {args.ray_address}" if args.ray_address else f"{args.jobs} local processes"
    print(
        f"{len(todo)} runs to do ({len(args.methods) * len(seeds) - len(todo)} already done) in {config['out']}, "
        f"on {where}, {num_threads} torch thread(s) each"
    )
    start = time.time()
    run_sweep(config, todo, args.jobs, num_threads, args.ray_address)
    runs = []
    for method in args.methods:
        for seed in seeds:
            with open(run_path(config, method, seed)) as file:
                runs.append(json.load(file))
    config["wall_time_s_this_invocation"] = round(time.time() - start, 1)
    summary = summarize(runs, args.threshold, args.metric)
    write_outputs(runs, summary, config)
    return summary


if __name__ == "__main__":
    main()
