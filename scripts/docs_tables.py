"""Every table of numbers in README.md and docs/, rendered from the committed results under ``results/``.

A page marks a generated table with a pair of comments; everything between them is this script's::

    <!-- table: study results/hopper_ppo_medium_recipe -->
    ...
    <!-- /table -->

``python scripts/docs_tables.py`` rewrites every marked table (and the figures the results page
shows); ``python scripts/docs_tables.py --check`` rewrites nothing and fails, naming the page and
the table, when a page differs from what the committed results give (``tests/test_docs_tables.py``).

Tables (``NAME ARGUMENTS``; ``key=value`` options):

- ``study FOLDER [methods=a,b] [baseline=rl] [steps=1]``: one ``compare.py`` folder, per method:
  seeds, final score, mean over the evaluations after the start, lowest evaluation minus the BC
  start (each a mean over seeds with its 95% bootstrap interval, from ``summary.json``), the final
  minus the baseline's, paired by seed (``scripts/aggregate.py``'s bar), and with ``steps=1`` the
  env steps to reach the folder's threshold (halfway from the BC start to the best final).
- ``per_seed FOLDER methods=a,b``: every evaluation of every seed.
- ``paired method=M baseline=B FOLDER...``: per folder, M's final minus B's, paired by seed.
- ``aggregate FOLDER method=M [methods=a,b]``: IQM of the final and lowest scores and P(M > setting).
- ``bar FOLDER``: the recipe's bar, task by task.
- ``seed_halves``: final means on the seeds that chose the settings and on the fresh ones.
- ``settings``: which setting for which kind of task (the results page's opening table).
- ``noise``: the standard error of one evaluation against each normalisation's scale.
- ``floor_noise FOLDER... [tolerance=0.05]``: per ``compare.py`` folder, what its evaluations resolve
  against a floor ``tolerance`` below the BC start: the standard error of one evaluation, and the
  lowest evaluation that noise alone gives a policy that never changes.
- ``floor_strength FOLDER...``: per ``_floor`` method of each folder, what its multiplier did: the
  training reference against the evaluation start, the strength at the first, middle and last dual
  step (mean over seeds), the share of dual steps at strength 0 and with the constraint violated.
- ``floor_bar FOLDER... [tolerance=0.05] [baseline=rl]``: per method and folder, the floor's bar:
  lowest evaluation (mean over seeds) within ``tolerance`` of the BC start, and the final minus the
  baseline's, paired by seed; the count of folders where both hold.
- ``normalisations``: the aggregate under both normalisations.
- ``square_bc FOLDER...``: the BC start's success rate per folder and the demonstrations it learnt from.
- ``claims``: the paper's claims, one row each, against our nearest measurements (``CLAIMS``).
- ``quickstart``: what ``make quickstart`` printed (``results/quickstart/results.json``).
- ``readme``: the README's numbers.
- ``shipped_robomimic``: the shipped scripted robomimic demonstrations, from their records.
- ``bench_overhead [FILE]`` (default ``docs/benchmarks/overhead.json``), ``bench_images``, ``bench_threads``, ``bench_diffusion [FILE]``, ``bench_idql``, ``bench_vec_envs NAME``:
  the benchmarks page's tables, from the raw figures committed in ``docs/benchmarks/*.json``.
"""

import argparse
import contextlib
import csv
import io
import json
import math
import os
import re
import shutil
import sys
from collections.abc import Callable
from typing import Any

import numpy as np

if __package__ in (None, ""):  # run as `python scripts/<name>.py`: the repository root on the path, for `scripts.*`
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from scripts.aggregate import bar_of_the_recipe, paired_steps_ratio, read_pooled_task, read_task, steps_ratio_kind

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

MARKER = re.compile(r"(<!-- table: (?P<spec>[^>]*?) -->\n)(?P<body>.*?)(<!-- /table -->)", re.DOTALL)
SIX_TASKS = "results/aggregate_six_tasks"
SIX_TASKS_REFERENCE = "results/aggregate_six_tasks_reference"
REFERENCE = "results/reference_returns/reference_returns.json"
TASK_LABELS = {
    "hopper_medium": "Hopper medium",
    "hopper_expert": "Hopper expert",
    "halfcheetah_medium": "HalfCheetah medium",
    "lift": "Lift (success)",
    "pendulum_sac": "Pendulum SAC",
    "pickplacecan": "PickPlaceCan (success)",
}
SETTING_LABELS = {
    "bc": "bc (no fine-tuning)",
    "rl": "rl (plain fine-tuning)",
    "bc_reg_recipe": "BC-reg recipe",
    "inril_recipe": "IN-RIL recipe",
    "lever_only": "the lever alone",
}
#: Figures the docs show, copied from where the results put them.
FIGURES = {
    "results/quickstart/returns.png": "docs/img/quickstart_returns.png",
}


def path(relative: str) -> str:
    return os.path.join(ROOT, relative)


def load_json(relative: str) -> Any:
    with open(path(relative)) as file:
        return json.load(file)


def decimals(metric: str) -> int:
    return 2 if metric == "success" else 1


def number(value: float, digits: int, sign: bool = False) -> str:
    if abs(value) < 0.5 * 10**-digits:
        value = 0.0  # no "-0.00"
    plus = "+" if sign else ""
    if digits <= 1 and abs(value) >= 1000:
        return f"{value:{plus},.0f}"
    return f"{value:{plus}.{digits}f}"


def interval(stat: Any, digits: int, sign: bool = False) -> str:
    mean, low, high = stat
    if digits == 1 and max(abs(mean), abs(low), abs(high)) >= 1000:
        digits = 0  # one precision within an interval
    return f"{number(mean, digits, sign)} [{number(low, digits, sign)}, {number(high, digits, sign)}]"


def table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def options(args: list[str]) -> tuple[list[str], dict[str, str]]:
    positional = [a for a in args if "=" not in a]
    named = dict(a.split("=", 1) for a in args if "=" in a)
    return positional, named


def paired(folder: str, baseline: str = "rl") -> dict[str, dict[str, Any]]:
    return bar_of_the_recipe(read_task(path(folder)), baseline=baseline)


def verdict(row: dict[str, Any]) -> str:
    """Whether a paired difference from the baseline is resolved by its 95% interval."""
    difference = row["final_minus_baseline"]
    if difference is None:
        return ""
    if difference[1] > 0:
        return "above"
    if difference[2] < 0:
        return "below"
    return "not resolved"


# -- tables ---------------------------------------------------------------------------------------


def render_study(args: list[str]) -> str:
    (folder,), named = options(args)
    summary = load_json(f"{folder}/summary.json")
    metric = summary.get("metric", "return")
    digits = decimals(metric)
    methods = named["methods"].split(",") if "methods" in named else list(summary["methods"])
    baseline = named.get("baseline", "rl")
    bar = paired(folder, baseline) if baseline in summary["methods"] else {}
    unit = "success rate" if metric == "success" else "return"
    header = ["method", "seeds", f"final {unit}", "mean over the evaluations after the start", "lowest minus BC start"]
    if bar:
        header.append(f"final minus {baseline}'s, paired by seed")
    steps = named.get("steps") == "1"
    if steps:
        threshold = number(summary["threshold"], digits)
        chunk = summary.get("config", {}).get("action_chunk")
        unit = f"policy steps (chunks of {chunk})" if chunk else "env steps"
        header.append(f"{unit} to reach {threshold} (seeds that did)")
        if bar:
            header.append(f"steps to reach it as a share of {baseline}'s, paired by seed")
            curves = read_task(path(folder))["curves"]
    rows = []
    for method in methods:
        row = summary["methods"][method]
        cells = [
            f"`{method}`",
            str(row["n_seeds"]),
            interval(row["final"], digits),
            interval(row["mean_during_fine_tuning"], digits) if "mean_during_fine_tuning" in row else "not recorded",
            interval(row["collapse"], digits, sign=True),
        ]
        if bar:
            cells.append("-" if method == baseline else interval(bar[method]["final_minus_baseline"], digits, sign=True))
        if steps:
            reached = row["reached_threshold"]
            cells.append(
                f"never ({reached})" if reached.startswith("0/") else f"{interval(row['steps_to_threshold'], 0)} ({reached})"
            )
            if bar:
                no_ratio = method in (baseline, "bc")  # (bc is not fine-tuned: it never moves towards the threshold)
                cells.append("-" if no_ratio else steps_ratio_cell(curves, method, summary["threshold"], baseline))
        rows.append(cells)
    return table(header, rows)


def steps_ratio_cell(curves: dict[str, Any], method: str, threshold: float, baseline: str) -> str:
    """The steps ``method`` takes to the threshold as a share of the baseline's (:func:`paired_steps_ratio`),
    with the runs that never reached it (counted at their budget: the ratio is then a bound)."""
    ratio = paired_steps_ratio(curves, method, threshold, baseline)
    if ratio is None:
        return "-"
    kind = steps_ratio_kind(ratio)
    if kind in ("no seed", "neither reached it"):
        return kind
    never = ", ".join(f"{n}/{len(ratio['seeds'])}" for n in ratio["censored"].values())
    return f"{interval(ratio['ratio'], 2)}" + ("" if kind == "estimate" else f", {kind} (never reached: {never})")


def render_paired(args: list[str]) -> str:
    folders, named = options(args)
    method, baseline = named["method"], named["baseline"]
    rows = []
    for folder in folders:
        summary = load_json(f"{folder}/summary.json")
        digits = decimals(summary.get("metric", "return"))
        bar = paired(folder, baseline)
        rows.append(
            [
                f"`{folder}`",
                str(summary["methods"][method]["n_seeds"]),
                number(bar[baseline]["final"], digits),
                number(bar[method]["final"], digits),
                f"{interval(bar[method]['final_minus_baseline'], digits, sign=True)} ({verdict(bar[method])})",
                f"{number(bar[method]['lowest'] - bar[method]['bc_start'], digits, True)} / "
                f"{number(bar[baseline]['lowest'] - bar[baseline]['bc_start'], digits, True)}",
            ]
        )
    header = [
        "study",
        "seeds",
        f"`{baseline}` final",
        f"`{method}` final",
        f"`{method}` minus `{baseline}`, paired by seed",
        f"lowest minus BC start (mean over seeds): `{method}` / `{baseline}`",
    ]
    return table(header, rows)


def curves(folder: str) -> tuple[str, dict[str, dict[int, list[tuple[int, float]]]]]:
    task = read_task(path(folder))
    return task["metric"], task["curves"]


def render_per_seed(args: list[str]) -> str:
    (folder,), named = options(args)
    metric, runs = curves(folder)
    methods = named["methods"].split(",")
    seeds = sorted(runs[methods[0]])
    steps = [step for step, _ in sorted(runs[methods[0]][seeds[0]])]
    digits = decimals(metric)
    rows = []
    for method in methods:
        rows.append([f"`{method}`"] + [" ".join(number(v, digits) for _, v in sorted(runs[method][s])) for s in seeds])
    header = ["method"] + [f"seed {s}" for s in seeds]
    note = f"Evaluations at {', '.join(f'{s:,}' for s in steps)} steps (the first is the BC start).\n\n"
    return note + table(header, rows)


def render_aggregate(args: list[str]) -> str:
    (folder,), named = options(args)
    result = load_json(f"{folder}/aggregate.json")
    method = named["method"]
    keep = named["methods"].split(",") if "methods" in named else list(result["methods"])
    rows = []
    for name, row in result["methods"].items():
        if name not in keep:
            continue
        p = result["probability_of_improvement"].get(f"{method} > {name}")
        rows.append(
            [
                SETTING_LABELS.get(name, f"`{name}`"),
                str(len(row["tasks"])),
                str(row["runs"]),
                interval(row["final_iqm"], 2),
                interval(row["lowest_iqm"], 2),
                "-" if p is None else interval(p["final"], 2),
            ]
        )
    label = SETTING_LABELS.get(method, method)
    return table(["setting", "tasks", "runs", "final: IQM", "lowest: IQM", f"P({label} > setting), final"], rows)


def bar_cell(row: dict[str, Any], metric: str, baseline: bool) -> str:
    drop = 100 * (row["lowest"] - row["bc_start"]) / abs(row["bc_start"])
    hold = "yes" if row["holds"] else "no"
    difference = row["final_minus_baseline"]
    if difference is None or baseline:
        return f"{drop:+.0f}% ({hold})"
    digits = decimals(metric)
    v = "yes" if difference[0] >= 0 else ("tie" if difference[2] >= 0 else "no")
    return f"{drop:+.0f}% ({hold}); {interval(difference, digits, sign=True)} ({v})"


def render_bar(args: list[str]) -> str:
    (folder,), _ = options(args)
    result = load_json(f"{folder}/aggregate.json")
    tasks = list(result["bar"]["tasks"])
    header = ["setting", "meets the bar on (counting ties)"] + [TASK_LABELS.get(t, t) for t in tasks]
    rows = []
    for method in result["methods"]:
        met = met_or_tie = 0
        cells = []
        for name in tasks:
            row = result["bar"]["tasks"][name][method]
            metric = result["tasks"][name]["metric"]
            cells.append(bar_cell(row, metric, method == result["bar"]["baseline"]))
            not_below = row["not_below_baseline"] is not False
            tie = row["final_minus_baseline"] is not None and not not_below and row["final_minus_baseline"][2] >= 0
            met += int(row["holds"] and not_below)
            met_or_tie += int(row["holds"] and (not_below or tie))
        rows.append([SETTING_LABELS.get(method, method), f"{met}/{len(tasks)} ({met_or_tie}/{len(tasks)})"] + cells)
    return table(header, rows)


def seed_half_means(folder: str, methods: list[str]) -> list[float]:
    summary = load_json(f"{folder}/summary.json")
    return [summary["methods"][m]["final"][0] for m in methods]


def render_seed_halves(args: list[str]) -> str:
    result = load_json(f"{SIX_TASKS}/aggregate.json")
    recipes = result["bar"]["recipes"]
    rows = []
    for name, task in result["tasks"].items():
        if len(task["folders"]) < 2:
            continue
        algo = load_json(f"{task['folders'][0]}/summary.json")["config"]["algo"]
        methods = ["bc", "rl", recipes["lever_only"][algo], recipes["bc_reg_recipe"][algo], recipes["inril_recipe"][algo]]
        digits = 2 if task["metric"] == "success" else 0
        for folder in task["folders"]:
            summary = load_json(f"{folder}/summary.json")
            seeds = summary["config"]["seeds"]
            cells = [f"{summary['methods'][m]['final'][0]:,.{digits}f}" for m in methods]
            rows.append([TASK_LABELS[name], f"{min(seeds)}-{max(seeds)}"] + cells)
    return table(["task", "seeds", "BC start", "plain (`rl`)", "lever alone", "BC-reg recipe", "IN-RIL recipe"], rows)


def evaluations(folder: str, metric: str) -> list[tuple[dict[str, str], float, float]]:
    """Every evaluation of a compare.py folder (``results.csv``): its row, its score, and its standard
    error (the episodes' standard deviation over the root of their number; a success rate's binomial error)."""
    episodes = load_json(f"{folder}/summary.json")["config"]["eval_episodes"]
    found = []
    with open(path(f"{folder}/results.csv")) as file:
        for row in csv.DictReader(file):
            if metric == "success":
                p = float(row["eval_success_rate"])
                found.append((row, p, math.sqrt(p * (1 - p) / episodes)))
            else:
                found.append((row, float(row["eval_return_mean"]), float(row["eval_return_std"]) / math.sqrt(episodes)))
    return found


def task_noise(name: str, task: dict[str, Any]) -> dict[str, float]:
    """The standard error of one evaluation (median over every evaluation of the task's pooled runs:
    the episodes' standard deviation over the root of their number; a success rate's binomial
    error), the spread of the BC start over seeds, and the standard error of a mean final over seeds."""
    errors, starts = [], {}
    for folder in task["folders"]:
        for row, score, error in evaluations(folder, task["metric"]):
            errors.append(error)
            if int(row["timesteps"]) == 0 and row["method"] == "bc":
                starts[int(row["seed"])] = score
    pooled = read_pooled_task(
        "+".join(path(f) for f in task["folders"]) if len(task["folders"]) > 1 else path(task["folders"][0]),
        ["pretrain_log_std"],
    )
    best = [sorted(c)[-1][1] for c in pooled["curves"][task["best_method"]].values()]
    return {
        "one_evaluation": float(np.median(errors)),
        "start_spread": float(np.std(list(starts.values()), ddof=1)),
        "mean_final": float(np.std(best, ddof=1) / math.sqrt(len(best))),
    }


def render_noise(args: list[str]) -> str:
    plain = load_json(f"{SIX_TASKS}/aggregate.json")
    reference = load_json(f"{SIX_TASKS_REFERENCE}/aggregate.json")
    rows = []
    for name, task in plain["tasks"].items():
        noise = task_noise(name, task)
        digits = 2 if task["metric"] == "success" else 0
        scale = task["best_final"] - task["bc_start"]
        ref_scale = reference["tasks"][name]["scale"]
        rows.append(
            [
                TASK_LABELS[name],
                f"{noise['one_evaluation']:,.{digits + 1}f}",
                f"{noise['start_spread']:,.{digits}f}",
                f"{noise['mean_final']:,.{digits}f}",
                f"{scale:,.{digits}f} ({scale / noise['one_evaluation']:.1f}x; {scale / noise['mean_final']:.1f}x)",
                f"{ref_scale:,.{digits}f} ({ref_scale / noise['one_evaluation']:.0f}x; {ref_scale / noise['mean_final']:.0f}x)",
            ]
        )
    header = [
        "task",
        "standard error of one evaluation",
        "BC start, spread over seeds (sd)",
        "standard error of the best setting's mean final",
        "scale: best final - BC start (in SE of one evaluation; of the mean final)",
        "scale: expert - random / success 1 (same)",
    ]
    return table(header, rows)


def expected_lowest_of_noise(n_evaluations: int, n_draws: int = 200_000) -> float:
    """E[min(X_0..X_k-1) - X_0] for k iid standard normal evaluations (a fixed seed: the same every run)."""
    draws = np.random.default_rng(0).standard_normal((n_draws, n_evaluations))
    return float((draws.min(axis=1) - draws[:, 0]).mean())


def evaluation_noise(folder: str) -> dict[str, Any]:
    """A compare.py folder's BC start, its standard error of one evaluation (median over its rows) and its evaluations per run."""
    config = load_json(f"{folder}/summary.json")["config"]
    metric = config["metric"]
    found = evaluations(folder, metric)
    return {
        "metric": metric,
        "episodes": config["eval_episodes"],
        "evaluations": config["timesteps"] // config["eval_freq"] + 1,
        "start": float(np.mean([score for row, score, _ in found if int(row["timesteps"]) == 0])),
        "one_evaluation": float(np.median([error for _, _, error in found])),
        "seeds": len(config["seeds"]),
        "env": config["env"],
    }


def render_floor_noise(args: list[str]) -> str:
    folders, named = options(args)
    tolerance = float(named.get("tolerance", 0.05))
    rows = []
    for folder in folders:
        noise = evaluation_noise(folder)
        digits = 2 if noise["metric"] == "success" else 0
        band = tolerance * abs(noise["start"])
        # The bias of a minimum: averaging over seeds narrows it, it does not shrink it.
        drop = -expected_lowest_of_noise(noise["evaluations"]) * noise["one_evaluation"]
        ratio = drop / band if band > 0 else math.inf
        verdict = "yes" if ratio < 0.5 else ("barely" if ratio < 1 else "no")
        rows.append(
            [
                f"`{os.path.basename(folder)}` ({noise['metric']})",
                f"{noise['evaluations']} x {noise['episodes']}",
                number(noise["start"], digits),
                number(band, digits + 1),
                number(noise["one_evaluation"], digits + 1),
                f"{noise['one_evaluation'] / band:.1f}" if band > 0 else "-",
                f"-{number(drop, digits + 1)} ({ratio:.1f}x the band)",
                verdict,
            ]
        )
    header = [
        "task",
        "evaluations x episodes per run",
        "BC start",
        f"the band: {tolerance:.0%} of the start",
        "standard error of one evaluation",
        "in bands",
        "expected lowest minus start of a policy that never changes (noise alone)",
        "the evaluation resolves the band",
    ]
    return table(header, rows)


def render_floor_strength(args: list[str]) -> str:
    folders, _ = options(args)
    rows = []
    for folder in folders:
        summary = load_json(f"{folder}/summary.json")
        digits = 2 if summary["metric"] == "success" else 0
        for method in summary["methods"]:
            if "_floor" not in method:
                continue
            runs = []
            for seed in summary["config"]["seeds"]:
                run_file = path(f"{folder}/runs/{method}_s{seed}.json")
                if os.path.exists(run_file):
                    with open(run_file) as file:
                        runs.append(json.load(file))
            runs = [run for run in runs if run.get("floor")]  # a run whose floor made no dual step has none
            if not runs:
                continue
            histories = [run["floor"] for run in runs]
            length = min(len(h) for h in histories)
            column = 3 if summary["metric"] == "success" else 1
            gap = np.mean([run["floor"][0]["reference"] - run["curve"][0][column] for run in runs])
            strength = [np.mean([h[i]["strength"] for h in histories]) for i in (0, length // 2, length - 1)]
            steps = [row for h in histories for row in h]
            rows.append(
                [
                    f"`{os.path.basename(folder)}`",
                    f"`{method}`",
                    str(len(histories)),
                    number(float(gap), digits, sign=True),
                    " / ".join(f"{s:.2f}" for s in strength),
                    f"{np.mean([row['strength'] == 0 for row in steps]):.0%}",
                    f"{np.mean([row.get('violation', 0) > 0 for row in steps]):.0%}",
                ]
            )
    header = [
        "study",
        "method",
        "seeds",
        "training reference minus evaluation start (mean)",
        "strength at the first / middle / last dual step (mean over seeds)",
        "dual steps at strength 0",
        "dual steps with the floor violated",
    ]
    return table(header, rows)


def render_floor_bar(args: list[str]) -> str:
    folders, named = options(args)
    tolerance = float(named.get("tolerance", 0.05))
    baseline = named.get("baseline", "rl")
    tasks = [read_task(path(folder)) for folder in folders]
    bars = [bar_of_the_recipe(task, baseline=baseline, hold=1.0 - tolerance) for task in tasks]
    methods = [m for m in bars[0] if all(m in bar for bar in bars)]
    header = ["method", "meets the bar on"] + [f"`{os.path.basename(folder)}`" for folder in folders]
    rows = []
    for method in methods:
        met, cells = 0, []
        for task, bar in zip(tasks, bars):
            row = bar[method]
            metric = task["metric"]
            cells.append(bar_cell(row, metric, method == baseline))
            met += int(row["holds"] and row["not_below_baseline"] is not False)
        rows.append([f"`{method}`", f"{met}/{len(folders)}"] + cells)
    return table(header, rows)


#: The paper's claims (../shared/spec/inril.md, "Reported results") against our nearest measurements.
#: Each evidence item: (what it is, folder, method, baseline); a claim's ``rule`` turns the paired
#: differences into its verdict; ``untestable`` says why the claim itself can not be run here.
CLAIMS: list[dict[str, Any]] = [
    dict(
        claim="Transport (robomimic), IDQL: success 12% with RL-only fine-tuning, 88% with IN-RIL",
        evidence=[
            ("IDQL, Pendulum medium (return), m = 2", "results/pendulum_idql_medium", "inril_m2", "rl"),
            ("IDQL, Pendulum medium (return), m = 10", "results/pendulum_idql_medium", "inril_m10", "rl"),
            ("IDQL, Hopper medium (return), m = 2", "results/hopper_idql_medium", "inril_m2", "rl"),
            ("IDQL, Hopper medium (return), m = 10", "results/hopper_idql_medium", "inril_m10", "rl"),
            ("IDQL, Lift scripted (success), m = 2", "results/lift_idql_scripted", "inril_m2", "rl"),
            ("IDQL, Lift scripted (success), m = 10", "results/lift_idql_scripted", "inril_m10", "rl"),
        ],
        untestable="not testable here: no TwoArmTransport demonstrations (no scripted two-arm expert, no download) "
        "and IDQL acts at ~110 env steps/s on CPU (the paper: 50 envs on a GPU); the direction of the effect is "
        "measured on the IDQL tasks beside it",
    ),
    dict(
        claim="Square (robomimic), DPPO: about 62% fewer env steps to high success with IN-RIL",
        evidence=[
            ("DPPO, Lift scripted (success), m = 10", "results/lift_ppo_scripted_diffusion", "inril", "rl"),
            ("DPPO, Lift scripted (success), m = 2", "results/lift_ppo_scripted_diffusion", "inril_m2", "rl"),
        ],
        steps=True,
        untestable="not tested yet: the Square runs (issue 28) have not been made; on Lift, the nearest task with "
        "DPPO, IN-RIL did not reach the threshold in fewer steps",
    ),
    dict(
        claim="FurnitureBench round_table 0.73 -> 0.93, lamp 0.63 -> 0.98 (residual PPO)",
        evidence=[
            ("residual (Gaussian base), Hopper medium PPO, m = 10", "results/hopper_ppo_medium", "inril_residual", "rl"),
        ],
        untestable="not testable here: FurnitureBench needs Isaac Gym on an NVIDIA GPU and its own demonstrations; "
        "residual PPO over a diffusion base exists (ResidualDiffusionPolicy) but has no result yet",
    ),
    dict(
        claim="Gains are small on Hopper and HalfCheetah",
        evidence=[
            ("IN-RIL recipe, Hopper medium PPO", "results/hopper_ppo_medium_recipe", "inril_m2_logstd-2", "rl_logstd-2"),
            (
                "IN-RIL recipe, HalfCheetah medium PPO",
                "results/halfcheetah_ppo_medium_recipe",
                "inril_m2_logstd-2",
                "rl_logstd-2",
            ),
            ("IN-RIL, Hopper medium DPPO", "results/hopper_ppo_medium_diffusion", "inril", "rl"),
        ],
        rule="small",
    ),
    dict(
        claim="Removing gradient separation hurts Hopper",
        evidence=[
            ("surgery vs none, Hopper medium PPO, m = 10", "results/hopper_ppo_medium", "inril_surgery", "inril"),
            ("residual vs none, Hopper medium PPO, m = 10", "results/hopper_ppo_medium", "inril_residual", "inril"),
            ("surgery vs none, Hopper medium DPPO, m = 10", "results/hopper_ppo_medium_diffusion", "inril_surgery", "inril"),
        ],
        rule="above",
    ),
]
#: "Small": the paired difference's interval contains zero, or its mean is within this share of the BC start.
SMALL_SHARE = 0.05


def claim_evidence(item: tuple[str, str, str, str], steps: bool) -> tuple[str, str | None]:
    """One evidence cell (the paired final difference, and with ``steps`` the env steps to the folder's
    threshold), and its reading against the baseline: above, below, not resolved, small or None (no data)."""
    label, folder, method, baseline = item
    if not os.path.exists(path(f"{folder}/summary.json")):
        return f"{label}: not run", None
    summary = load_json(f"{folder}/summary.json")
    digits = decimals(summary.get("metric", "return"))
    bar = paired(folder, baseline)
    row = bar[method]
    difference = row["final_minus_baseline"]
    cell = (
        f"{label}: `{method}` {number(row['final'], digits)} vs `{baseline}` {number(bar[baseline]['final'], digits)}, "
        f"paired {interval(difference, digits, sign=True)} ({verdict(row)}; {summary['methods'][method]['n_seeds']} seeds; `{folder}`)"
    )
    if steps:
        reached = {m: summary["methods"][m]["reached_threshold"] for m in (method, baseline)}
        to_threshold = {m: number(summary["methods"][m]["steps_to_threshold"][0], 0) for m in (method, baseline)}
        chunk = summary.get("config", {}).get("action_chunk")
        unit = f"policy steps (chunks of {chunk})" if chunk else "env steps"
        cell += (
            f"; {unit} to {number(summary['threshold'], digits)}: `{method}` {to_threshold[method]} ({reached[method]}), "
            f"`{baseline}` {to_threshold[baseline]} ({reached[baseline]})"
        )
        ratio = steps_ratio_cell(read_task(path(folder))["curves"], method, summary["threshold"], baseline)
        if ratio != "-":
            cell += f", steps as a share of `{baseline}`'s: {ratio}"
    reading = verdict(row)
    if reading == "not resolved" or abs(difference[0]) <= SMALL_SHARE * abs(row["bc_start"]):
        reading = f"small/{reading}"
    return cell, reading


def render_claims(args: list[str]) -> str:
    rows = []
    for claim in CLAIMS:
        cells, readings = [], []
        for item in claim["evidence"]:
            cell, reading = claim_evidence(item, claim.get("steps", False))
            cells.append(cell)
            if reading is not None:
                readings.append(reading)
        rule = claim.get("rule")
        if claim.get("untestable"):
            result = claim["untestable"]
        elif rule == "above":
            result = (
                "supported"
                if all(r.endswith("above") for r in readings)
                else "contradicted"
                if all(r.endswith("below") for r in readings)
                else f"partly supported ({sum(r.endswith('above') for r in readings)} of {len(readings)} comparisons above)"
            )
        else:  # "small"
            small = sum(r.startswith("small") for r in readings)
            result = "supported" if small == len(readings) else f"partly supported ({small} of {len(readings)} small)"
        rows.append([claim["claim"], "<br>".join(cells), result])
    note = (
        f"A difference counts as small when its 95% interval contains zero or its mean is within {SMALL_SHARE:.0%} of "
        "the BC start; every number is a mean over seeds, paired by seed with its 95% bootstrap interval.\n\n"
    )
    return note + table(["the paper's claim", "our nearest measurement", "verdict"], rows)


def render_normalisations(args: list[str]) -> str:
    plain = load_json(f"{SIX_TASKS}/aggregate.json")
    reference = load_json(f"{SIX_TASKS_REFERENCE}/aggregate.json")

    def order(result: dict[str, Any]) -> dict[str, int]:
        ranked = sorted(result["methods"], key=lambda m: -result["methods"][m]["final_iqm"][0])
        return {m: i + 1 for i, m in enumerate(ranked)}

    plain_rank, ref_rank = order(plain), order(reference)
    rows = []
    for method in sorted(plain["methods"], key=lambda m: plain_rank[m]):
        p = plain["probability_of_improvement"].get(f"inril_recipe > {method}")
        rows.append(
            [
                SETTING_LABELS.get(method, method),
                f"{interval(plain['methods'][method]['final_iqm'], 2)} ({plain_rank[method]})",
                f"{interval(reference['methods'][method]['final_iqm'], 2)} ({ref_rank[method]})",
                f"{interval(reference['methods'][method]['lowest_iqm'], 2)}",
                "-" if p is None else interval(p["final"], 2),
            ]
        )
    header = [
        "setting",
        "final IQM, 0 = BC start, 1 = best final (rank)",
        "final IQM, 0 = random, 1 = expert; success rate (rank)",
        "lowest IQM, same reference scale",
        "P(IN-RIL recipe > setting), either scale",
    ]
    return table(header, rows)


#: The opening table: per kind of task, the setting to start from and what it measured.
SETTINGS_ROWS = [
    # kind, task label, source ("six:TASK" or a folder), use (method), IN-RIL (method), setting text
    ("PPO, locomotion, good demonstrations", "Hopper expert, 10 seeds, 60k steps", "six:hopper_expert"),
    ("PPO, locomotion, mediocre demonstrations", "Hopper medium, 10 seeds, 30k steps", "six:hopper_medium"),
    ("", "Hopper medium, 5 seeds, 100k steps", "results/hopper_ppo_medium_100k"),
    ("", "HalfCheetah medium, 10 seeds, 30k steps", "six:halfcheetah_medium"),
    ("PPO, sparse-reward manipulation", "Lift, 10 seeds, 12k steps", "six:lift"),
    ("", "Lift, 5 seeds, 120k steps", "results/lift_ppo_scripted_120k"),
    ("", "PickPlaceCan, 5 seeds, 24k steps", "six:pickplacecan"),
    ("SAC", "Pendulum, 10 seeds, 6k steps", "six:pendulum_sac"),
]


def settings_rows() -> list[tuple[str, str, str, dict[str, Any], dict[str, Any], dict[str, Any], str]]:
    six = load_json(f"{SIX_TASKS}/aggregate.json")
    out = []
    for kind, label, source in SETTINGS_ROWS:
        if source.startswith("six:"):
            name = source[4:]
            bar = six["bar"]["tasks"][name]
            metric = six["tasks"][name]["metric"]
            use, inril, plain = bar["bc_reg_recipe"], bar["inril_recipe"], bar["rl"]
            algo = "sac" if name == "pendulum_sac" else "ppo"
        else:
            bar = paired(source)
            metric = load_json(f"{source}/summary.json")["metric"]
            use, inril, plain = bar["bc_reg_logstd-2"], bar["inril_m2_logstd-2"], bar["rl"]
            algo = "ppo"
        out.append((kind, label, algo, use, inril, plain, metric))
    return out


def render_settings(args: list[str]) -> str:
    rows = []
    for kind, label, algo, use, inril, plain, metric in settings_rows():
        digits = decimals(metric)
        start = use["bc_start"]

        def dip(row: dict[str, Any], start: float = start) -> str:
            return f"{100 * (row['lowest'] - start) / abs(start):+.0f}%"

        setting = "BC-reg + `log_std=-2`" if algo == "ppo" else "BC-reg + critic warm-up"
        rows.append(
            [
                kind,
                label,
                setting,
                f"{number(start, digits)} → {number(use['final'], digits)} (plain: {number(plain['final'], digits)})",
                f"{interval(use['final_minus_baseline'], digits, sign=True)} ({verdict(use)})",
                f"{interval(inril['final_minus_baseline'], digits, sign=True)} ({verdict(inril)})",
                f"{dip(use)} / {dip(inril)} / {dip(plain)}",
            ]
        )
    header = [
        "kind of task",
        "measured on",
        "start with",
        "BC start → its final (plain fine-tuning's)",
        "its final minus plain fine-tuning's, paired [95% CI]",
        "IN-RIL recipe instead (`il_interval=2` / SAC `20`), same",
        "lowest evaluation vs BC start: BC-reg / IN-RIL / plain",
    ]
    return table(header, rows)


def render_quickstart(args: list[str]) -> str:
    from sb3_inril.quickstart import print_table

    results = load_json("results/quickstart/results.json")
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        print_table(results)
    return "```\n" + printed.getvalue().strip("\n") + "\n```\n"


def render_shipped_robomimic(args: list[str]) -> str:
    rows = []
    for name in ("lift_v0_scripted", "pickplacecan_v0_scripted", "nutassemblysquare_v0_scripted"):
        record = load_json(f"sb3_inril/data/robomimic/{name}.json")
        size = os.path.getsize(path(f"sb3_inril/data/robomimic/{name}.hdf5")) / 1e6
        rows.append(
            [
                f"`data/robomimic/{name}.hdf5` ({size:.1f} MB)",
                f"`{record['command']}`",
                f"{record['success_rate']:.2f} ({record['n_demos']} of {record['n_attempts']})",
                str(record["n_demos"]),
                str(record["n_transitions"]),
                f"{record['length_mean']:.1f}",
            ]
        )
    return table(["file", "command", "expert success rate", "demos", "transitions", "mean length"], rows)


def demonstrations_record(demos: str) -> dict[str, Any]:
    """The record (command, n_demos, ...) of a compare.py folder's demonstrations: a shipped set's or a file's ``.json``."""
    if demos.startswith("shipped:"):
        from sb3_inril.data import resolve_shipped

        demos = resolve_shipped(demos)
    elif not os.path.exists(demos) and "results/" in demos:  # compare.py records an absolute path: another clone's
        demos = path(demos[demos.index("results/") :])
    with open(os.path.splitext(demos)[0] + ".json") as file:
        return json.load(file)


def render_square_bc(args: list[str]) -> str:
    """``square_bc FOLDER...``: per folder, the BC start's success rate (its ``bc`` runs) and the demonstrations it was trained on."""
    rows = []
    for folder in args:
        if not os.path.exists(path(f"{folder}/summary.json")):
            rows.append(["-", "0", "not run yet", "-", "-", f"`{folder}`"])
            continue
        summary = load_json(f"{folder}/summary.json")
        record = demonstrations_record(summary["config"]["demos"])
        curves = read_task(path(folder))["curves"]["bc"]
        per_seed = [sorted(curve)[-1][1] for _, curve in sorted(curves.items())]
        episodes = max(summary["config"]["eval_episodes"], summary["config"].get("final_eval_episodes") or 0)
        mean = float(np.mean(per_seed))
        rows.append(
            [
                f"{record['n_demos']} (reset seeds from {record['seed']})",
                str(len(per_seed)),
                interval(summary["methods"]["bc"]["final"], 2),
                " ".join(f"{value:.2f}" for value in per_seed),
                f"{math.sqrt(mean * (1 - mean) / episodes):.3f}",
                f"`{folder}`",
            ]
        )
    header = ["demonstrations", "seeds", "BC success rate", "per seed", "standard error of one evaluation", "folder"]
    return table(header, rows)


def render_readme(args: list[str]) -> str:
    lift = paired("results/lift_ppo_scripted_120k")
    six = load_json(f"{SIX_TASKS}/aggregate.json")
    ref = load_json(f"{SIX_TASKS_REFERENCE}/aggregate.json")
    p = six["probability_of_improvement"]["inril_recipe > bc_reg_recipe"]["final"]
    hopper = paired("results/hopper_ppo_medium_100k")
    rows = [
        [
            "robomimic Lift, PPO, 120k steps, 5 seeds (success rate)",
            f"{lift['rl']['bc_start']:.2f} → {lift['rl']['final']:.2f}",
            f"{lift['bc_reg_logstd-2']['final']:.2f}",
            f"{lift['inril_m2_logstd-2']['final']:.2f}",
        ],
        [
            "Hopper medium, PPO, 100k steps, 5 seeds (return)",
            f"{hopper['rl']['bc_start']:.0f} → {hopper['rl']['final']:.0f}",
            f"{hopper['bc_reg_logstd-2']['final']:.0f} ({interval(hopper['bc_reg_logstd-2']['final_minus_baseline'], 0, True)})",
            f"{hopper['inril_m2_logstd-2']['final']:.0f} ({interval(hopper['inril_m2_logstd-2']['final_minus_baseline'], 0, True)})",
        ],
        [
            "6 tasks (5 PPO; SAC on Pendulum: critic warm-up, IN-RIL every 20 steps), 10 seeds (PickPlaceCan 5): "
            "final IQM, 0 = random, 1 = expert (success: the rate)",
            f"{interval(ref['methods']['rl']['final_iqm'], 2)}",
            f"{interval(ref['methods']['bc_reg_recipe']['final_iqm'], 2)}",
            f"{interval(ref['methods']['inril_recipe']['final_iqm'], 2)}; P(> BC-reg) {interval(p, 2)}",
        ],
    ]
    return table(["measured", "plain fine-tuning", "BC-reg (`log_std=-2`)", "IN-RIL (`il_interval=2`, `log_std=-2`)"], rows)


def render_bench_overhead(args: list[str]) -> str:
    result = load_json(args[0] if args else "docs/benchmarks/overhead.json")
    rows = [
        [
            r["variant"],
            r["base"],
            str(r["env_steps"]),
            f"{r['time_ratio_median']:.2f}",
            ", ".join(f"{v:.2f}" for v in r["time_ratios"]),
            f"{r['peak_rss_mib_base']:.0f} / {r['peak_rss_mib_variant']:.0f}",
        ]
        for r in result["results"]
    ]
    header = [
        "variant",
        "base",
        "env steps",
        f"wall-time ratio (median of {result['repeats']})",
        f"the {result['repeats']} ratios",
        "peak RSS MiB, base / variant",
    ]
    return table(header, rows)


def render_bench_images(args: list[str]) -> str:
    result = load_json("docs/benchmarks/images.json")
    mib = 2**20
    labels = {
        "memory": 'in memory (`load_demonstrations(..., observation_format="dict")`)',
        "lazy": "read per minibatch (`lazy=True, cache_bytes={:.0f} MiB`)",
    }
    rows = []
    for r in result["results"]:
        lazy = r["mode"] == "lazy"
        rows.append(
            [
                labels[r["mode"]].format(r.get("cache_bytes", 0) / mib),
                f"{r['peak_rss_bytes'] / mib:.0f} MiB",
                f"{r['rss_before_buffer_bytes'] / mib:.0f} MiB",
                f"{r['image_bytes'] / mib:.0f} MiB",
                f"{r['peak_over_image_bytes']:.2f}",
                f"{r['peak_over_cache_bound']:.2f} (peak - before: {r['peak_above_start_over_cache_bound']:.2f})"
                if lazy
                else "-",
                f"{r['batches_per_s']:.1f}",
                f"{r['samples_per_s']:,.0f}",
            ]
        )
    header = [
        "mode",
        "peak RSS",
        "before the buffer",
        "images (`uint8`)",
        "peak / image bytes",
        "peak / cache bound",
        "minibatches/s",
        "samples/s",
    ]
    return table(header, rows)


def render_bench_threads(args: list[str]) -> str:
    result = load_json("docs/benchmarks/threads.json")["results"]
    labels = {"rule": "the rule", "default": "torch's default", "python": "floor: pure-Python loop"}
    rows = []
    for key, label in labels.items():
        r = result[key]
        rows.append(
            [
                label,
                str(r["threads"]),
                f"{np.median(r['quiet_s']):.2f}",
                f"{np.median(r['loaded_s']):.2f}",
                f"{r['loaded_over_quiet_median']:.2f} ({', '.join(f'{v:.2f}' for v in r['loaded_over_quiet'])})",
            ]
        )
    header = [
        "mode",
        "torch threads",
        "quiet, median s",
        "with one busy process, median s",
        "loaded / quiet (median; each round)",
    ]
    return table(header, rows)


def bench_diffusion_label(key: str, row: dict[str, Any]) -> str:
    if key == "gaussian":
        return "Gaussian MLP"
    if key.startswith("residual_H"):
        return f"residual over a diffusion base, chunks of H = {row['base_chunk_size']}"
    return f"diffusion (DPPO), T = {key.split('_T')[1]}"


def render_bench_diffusion(args: list[str]) -> str:
    """``bench_diffusion [FILE]`` (default ``docs/benchmarks/diffusion_cost.json``)."""
    result = load_json(args[0] if args else "docs/benchmarks/diffusion_cost.json")["results"]
    rows = []
    for key, r in result.items():
        label = bench_diffusion_label(key, r)
        rows.append(
            [
                label,
                str(r["ft_denoising_steps"]) if r["ft_denoising_steps"] else "-",
                f"{r['env_steps_per_s']:.0f}",
                f"{r['env_steps_per_s_ratio']:.2f}",
                f"{r['update_s']:.3f}",
                f"{r['update_time_ratio']:.2f}",
                f"{r['buffer_bytes_per_transition']:.0f}",
                f"{r['buffer_bytes_ratio']:.2f}",
            ]
        )
    header = [
        "policy",
        "fine-tuned steps K'",
        "env steps/s",
        "ratio",
        "PPO update s",
        "ratio",
        "bytes per transition",
        "ratio",
    ]
    return table(header, rows)


def render_bench_idql(args: list[str]) -> str:
    result = load_json("docs/benchmarks/idql_cost.json")["results"]
    rows = []
    for key, r in result.items():
        label = "SAC" if key == "sac" else f"IDQL, T = {r['denoising_steps']}"
        rows.append(
            [
                label,
                f"{r['env_steps_per_s']:.0f}",
                f"{r['env_steps_per_s_ratio']:.3f}",
                "1" if key == "sac" else f"{1 / r['action_flop_ratio']:.4f}",
                f"{r['update_ms']:.1f}",
                f"{r['update_time_ratio']:.2f}",
                f"{r['replay_bytes_per_transition']:.0f}",
            ]
        )
    header = [
        "model",
        "env steps/s",
        "ratio to SAC",
        "ratio the FLOPs of one action predict",
        "ms per gradient update",
        "ratio to SAC",
        "replay bytes per transition",
    ]
    return table(header, rows)


def render_bench_vec_envs(args: list[str]) -> str:
    (name,), _ = options(args)
    result = load_json(f"docs/benchmarks/{name}.json")
    rows = []
    for r in result["results"]:
        kind, n = r["configuration"].split(" n_envs=")
        rows.append(
            [
                f"`{kind}`, {n} env{'s' if n != '1' else ''}",
                f"{r['median_steps_per_s']:.1f}",
                f"{r['ratio']:.2f}",
                ", ".join(f"{v:.1f}" for v in r["all"]),
            ]
        )
    header = ["configuration", "env steps/s (median)", "ratio to one env", f"the {result['repeats']} repeats"]
    return table(header, rows)


RENDERERS: dict[str, Callable[[list[str]], str]] = {
    "floor_noise": render_floor_noise,
    "floor_bar": render_floor_bar,
    "floor_strength": render_floor_strength,
    "bench_overhead": render_bench_overhead,
    "bench_images": render_bench_images,
    "bench_threads": render_bench_threads,
    "bench_diffusion": render_bench_diffusion,
    "bench_idql": render_bench_idql,
    "bench_vec_envs": render_bench_vec_envs,
    "study": render_study,
    "per_seed": render_per_seed,
    "paired": render_paired,
    "aggregate": render_aggregate,
    "bar": render_bar,
    "seed_halves": render_seed_halves,
    "settings": render_settings,
    "noise": render_noise,
    "normalisations": render_normalisations,
    "quickstart": render_quickstart,
    "readme": render_readme,
    "shipped_robomimic": render_shipped_robomimic,
    "claims": render_claims,
    "square_bc": render_square_bc,
}


# -- the figure -----------------------------------------------------------------------------------


def effect_figure(out: str) -> None:
    """Per task, the BC-reg and IN-RIL recipes' final minus plain fine-tuning's (paired, 95% CI), in
    reference units (return tasks: of expert - random; success tasks: success rate)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    reference = load_json(REFERENCE)["envs"]
    rows = settings_rows()
    fig, ax = plt.subplots(figsize=(9, 0.55 * len(rows) + 1.6))
    for index, (_, label, _, use, inril, _, metric) in enumerate(rows):
        if metric == "success":
            scale = 1.0
        else:
            env = "Pendulum-v1" if "Pendulum" in label else ("HalfCheetah-v5" if "HalfCheetah" in label else "Hopper-v5")
            scale = reference[env]["expert"] - reference[env]["random"]
        for offset, row, colour, name in (
            (-0.15, use, "tab:green", "BC-reg recipe"),
            (0.15, inril, "tab:blue", "IN-RIL recipe"),
        ):
            mean, low, high = (v / scale for v in row["final_minus_baseline"])
            ax.plot(
                [low, high],
                [index + offset] * 2,
                color=colour,
                linewidth=5,
                alpha=0.5,
                solid_capstyle="butt",
                label=name if index == 0 else None,
            )
            ax.plot([mean], [index + offset], "|", color="black", markersize=11)
    ax.axvline(0.0, color="grey", linestyle=":", linewidth=1)
    ax.set_yticks(range(len(rows)), [label for _, label, *_ in rows])
    ax.invert_yaxis()
    ax.set_xlabel("returns: in units of (expert - random); success: success rate")
    ax.set_title("Final score minus plain fine-tuning's, paired by seed (95% intervals)")
    ax.legend(loc="lower right")
    ax.grid(alpha=0.3, axis="x")
    fig.tight_layout()
    fig.savefig(out, dpi=110, metadata={"Software": None})
    plt.close(fig)


# -- pages ----------------------------------------------------------------------------------------


def pages() -> list[str]:
    found = [path("README.md")]
    for folder, _, files in os.walk(path("docs")):
        found += [os.path.join(folder, f) for f in sorted(files) if f.endswith(".md")]
    return sorted(found)


def render_page(text: str) -> tuple[str, list[str]]:
    names = []

    def replace(match: re.Match[str]) -> str:
        spec = match.group("spec").split()
        if not spec or spec[0] not in RENDERERS:
            raise ValueError(f"table: expected one of {sorted(RENDERERS)}, found {match.group('spec')!r}")
        names.append(match.group("spec"))
        return match.group(1) + RENDERERS[spec[0]](spec[1:]) + match.group(4)

    return MARKER.sub(replace, text), names


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="change nothing; fail if a page's tables are stale")
    args = parser.parse_args(argv)
    stale = []
    for page in pages():
        with open(page) as file:
            text = file.read()
        new, names = render_page(text)
        if new != text:
            if args.check:
                old_bodies = [m.group("body") for m in MARKER.finditer(text)]
                new_bodies = [m.group("body") for m in MARKER.finditer(new)]
                stale += [
                    f"{os.path.relpath(page, ROOT)}: table '{name}'"
                    for name, a, b in zip(names, old_bodies, new_bodies)
                    if a != b
                ]
            else:
                with open(page, "w") as file:
                    file.write(new)
                print(f"{os.path.relpath(page, ROOT)}: {len(names)} table(s) rewritten")
    if not args.check:
        for source, target in FIGURES.items():
            if os.path.exists(path(source)):
                shutil.copyfile(path(source), path(target))
        effect_figure(path("docs/img/results_effects.png"))
    if stale:
        print("Stale tables (run python scripts/docs_tables.py):\n  " + "\n  ".join(stale))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
