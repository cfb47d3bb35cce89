"""Aggregate metrics across tasks: normalised scores, interquartile means with stratified bootstrap
intervals, and the probability of improvement (the protocol of Agarwal et al. 2021, "Deep RL at
the Edge of the Statistical Precipice"; the few functions of the archived ``rliable`` package we
need, in numpy).

Input: result folders of ``scripts/compare.py`` (each one task: its ``results.csv`` and
``summary.json``). For every task, a run's score is normalised so that **0 is the task's BC start**
(the mean step-0 score over all its runs: every method of a seed starts from the same BC policy) and
**1 is the best final score** of any method on that task (the highest mean over seeds). Two scores
per run: its final evaluation, and its lowest evaluation (the collapse). Per method, over every
(task, seed) run: the interquartile mean (IQM: the mean of the middle 50% of the runs) and the
mean, each with a 95% stratified bootstrap interval (runs resampled with replacement within each
task); and, against each other method, the probability that a run of one method ends above a run of
the other on the same task, averaged over tasks, with its interval. Methods are compared on the
tasks that both ran.

The recipe's bar (issue #18): on every task, a method's lowest evaluation (mean over seeds) stays at or
above ``--hold`` (0.95) times the BC start (for a negative start: the start minus 5% of its size), and
its final score (mean over seeds) is at or above the baseline's (``--baseline``, plain fine-tuning
``rl``); the difference of the finals, paired by seed (same BC start), comes with its bootstrap interval.
``--recipe ppo:inril_m2_logstd-2 sac:rl_warmup`` names, per algorithm, the method that the virtual method
``recipe`` stands for on the tasks of that algorithm (each folder's ``summary.json`` says its algorithm);
``NAME=ALGO:METHOD`` items make other virtual methods (``bc_reg+=ppo:bc_reg_logstd-2``).

``--reference FILE`` (``scripts/reference_returns.py``'s JSON: per env, a random policy's and the
expert's return) normalises instead by fixed references that do not depend on the runs: a
return-metric task as ``(return - random) / (expert - random)`` (D4RL's normalisation), a
success-rate task as the rate itself. The default scale (best final minus BC start) can be smaller
than the standard error of one evaluation on a task where no method moves far from the BC start,
and then magnifies that task's noise; the reference scale does not. The probability of improvement
compares runs within a task, so it is the same under either normalisation; the IQM and mean are not.

A task may pool sweeps of one setting run on other seeds, ``[NAME=]FOLDER+FOLDER``: e.g. the seeds
on which a recipe was chosen and fresh seeds that confirm it (the folders must agree on every setting
and hold disjoint seeds; the methods that not every folder ran are left out of that task).

Example::

    python scripts/aggregate.py results/hopper_ppo_medium results/lift_ppo_scripted \\
        results/pendulum_sac_medium --method inril_surgery --min-tasks 2 --out results/aggregate_gaussian
    python scripts/aggregate.py results/*_recipe results/pendulum_sac_medium \\
        --recipe ppo:inril_m2_logstd-2 sac:rl_warmup --method recipe --out results/aggregate_recipe
    python scripts/aggregate.py hopper=results/hopper_ppo_medium_recipe+results/hopper_ppo_medium_confirm ...
"""

import argparse
import csv
import json
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

if __package__ in (None, ""):  # run as `python scripts/<name>.py`: the repository root on the path, for `scripts.*`
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from scripts.bootstrap import bootstrap_mean_ci, percentile_bootstrap

COLUMNS = {"return": "eval_return_mean", "success": "eval_success_rate"}


def interquartile_mean(values: np.ndarray) -> float:
    """
    The mean of the middle 50% of ``values`` (25% trimmed from each end, as ``scipy.stats.trim_mean``
    with ``proportiontocut=0.25`` and ``rliable``'s IQM: ``int(0.25 * n)`` values cut from each end).

    :param values: scores (flattened)
    :return: the interquartile mean
    """
    ordered = np.sort(np.asarray(values, dtype=float).ravel())
    if ordered.size == 0:
        raise ValueError("interquartile_mean: expected at least one value, found none")
    cut = int(0.25 * ordered.size)
    return float(ordered[cut : ordered.size - cut].mean())


def stratified_bootstrap_ci(
    scores_per_task: Sequence[np.ndarray],
    statistic: Callable[[np.ndarray], float],
    n_resamples: int = 2000,
    confidence: float = 0.95,
    seed: int = 0,
) -> tuple[float, float, float]:
    """
    A statistic of all runs and its percentile interval over stratified bootstrap resamples: each
    resample draws, within every task, as many runs as the task has, with replacement.

    :param scores_per_task: one array of run scores per task
    :param statistic: of the concatenated runs (e.g. :func:`interquartile_mean`, ``np.mean``)
    :param n_resamples: bootstrap resamples
    :param confidence: of the interval
    :param seed: of the resampling
    :return: the statistic on the data, the interval's low and high ends
    """
    if not scores_per_task or any(np.asarray(scores).size == 0 for scores in scores_per_task):
        raise ValueError("stratified_bootstrap_ci: expected at least one run in every task")
    return percentile_bootstrap(scores_per_task, lambda tasks: statistic(np.concatenate(tasks)), n_resamples, confidence, seed)


def probability_of_improvement(x_per_task: Sequence[np.ndarray], y_per_task: Sequence[np.ndarray]) -> float:
    """
    P(X > Y): on each task, the fraction of (run of X, run of Y) pairs where X scores higher, ties
    counted half (the Mann-Whitney U statistic over the number of pairs); averaged over tasks.

    :param x_per_task: the runs' scores of method X, one array per task
    :param y_per_task: those of method Y on the same tasks, in the same order
    :return: the probability that X improves on Y
    """
    if len(x_per_task) != len(y_per_task) or not x_per_task:
        raise ValueError(
            f"probability_of_improvement: expected the same non-zero number of tasks, found {len(x_per_task)} "
            f"and {len(y_per_task)}"
        )
    per_task = []
    for x, y in zip(x_per_task, y_per_task):
        x, y = np.asarray(x, dtype=float).ravel(), np.asarray(y, dtype=float).ravel()
        if x.size == 0 or y.size == 0:
            raise ValueError("probability_of_improvement: expected at least one run of each method in every task")
        greater = (x[:, None] > y[None, :]).mean()
        ties = (x[:, None] == y[None, :]).mean()
        per_task.append(greater + 0.5 * ties)
    return float(np.mean(per_task))


def probability_of_improvement_ci(
    x_per_task: Sequence[np.ndarray],
    y_per_task: Sequence[np.ndarray],
    n_resamples: int = 2000,
    confidence: float = 0.95,
    seed: int = 0,
) -> tuple[float, float, float]:
    """:func:`probability_of_improvement` and its stratified bootstrap interval (the runs of X and of
    Y resampled independently within each task)."""
    n_tasks = len(x_per_task)
    probability_of_improvement(x_per_task, y_per_task)  # checks the tasks and runs first
    # The runs of X, then those of Y, each resampled within its task (one stream, X's tasks first).
    return percentile_bootstrap(
        [*x_per_task, *y_per_task],
        lambda groups: probability_of_improvement(groups[:n_tasks], groups[n_tasks:]),
        n_resamples,
        confidence,
        seed,
    )


def read_task(folder: str) -> dict[str, Any]:
    """
    One task's runs from a ``compare.py`` folder: per method, each seed's curve of the task's metric.

    :param folder: holds ``results.csv`` and ``summary.json``
    :return: ``{"name", "metric", "algo", "curves": {method: {seed: [(timesteps, score), ...]}}}``
    """
    for name in ("results.csv", "summary.json"):
        if not os.path.exists(os.path.join(folder, name)):
            raise FileNotFoundError(f"{folder}: expected compare.py's {name} there, found none")
    with open(os.path.join(folder, "summary.json")) as file:
        summary = json.load(file)
    metric = summary.get("metric", "return")
    if metric not in COLUMNS:
        raise ValueError(f"{folder}/summary.json: metric expected one of {sorted(COLUMNS)}, found {metric!r}")
    curves: dict[str, dict[int, list[tuple[int, float]]]] = {}
    with open(os.path.join(folder, "results.csv")) as file:
        for row in csv.DictReader(file):
            seed_curves = curves.setdefault(row["method"], {})
            seed_curves.setdefault(int(row["seed"]), []).append((int(row["timesteps"]), float(row[COLUMNS[metric]])))
    if not curves:
        raise ValueError(f"{folder}/results.csv: expected evaluation rows, found none")
    algo = summary.get("config", {}).get("algo")
    env = summary.get("config", {}).get("env")
    return {
        "name": os.path.basename(os.path.normpath(folder)),
        "metric": metric,
        "algo": algo,
        "env": env,
        "curves": curves,
    }


#: The settings of a compare.py sweep that must agree for folders to pool into one task: all but the
#: lists of methods and seeds and where, how and on what it ran.
NOT_SETTINGS = ("methods", "seeds", "out", "command", "machine", "num_threads", "wall_time_s_this_invocation")


def read_pooled_task(spec: str, ignore: Sequence[str] = ()) -> dict[str, Any]:
    """
    One task from one ``compare.py`` folder, or pooled from several sweeps of the same setting on
    other seeds (e.g. the seeds that chose a recipe and fresh seeds that confirm it):
    ``[NAME=]FOLDER[+FOLDER...]``.

    Pooled folders must agree on every setting of the sweep (environment, algorithm, demonstrations,
    budget, evaluation, method options); the pooled task keeps the methods that every folder ran, and
    no (method, seed) may come from two folders.

    :param spec: a folder, or ``NAME=FOLDER+FOLDER``; without ``NAME`` the task is named by its
        folders' names joined by ``+``
    :param ignore: settings whose difference between the folders is known to be one of form only
        (e.g. ``pretrain_log_std``: sweeps before 2026-12-02 18:06 recorded None for the zoo entry's
        -1.0, which later ones record as -1.0)
    :return: as :func:`read_task`, plus ``"folders"`` and ``"dropped_methods"`` (ran by some folders only)
    """
    if os.path.isdir(spec):
        name, folders = "", [spec]
    else:
        name, _, joined = spec.rpartition("=")
        folders = joined.split("+")
        if any(not folder for folder in folders):
            raise ValueError(f"task: expected [NAME=]FOLDER[+FOLDER...], found {spec!r}")
    tasks = [read_task(folder) for folder in folders]
    settings = []
    for folder in folders:
        with open(os.path.join(folder, "summary.json")) as file:
            config = json.load(file).get("config", {})
        settings.append({key: value for key, value in config.items() if key not in (*NOT_SETTINGS, *ignore)})
    for folder, setting in zip(folders[1:], settings[1:]):
        for key in sorted(set(settings[0]) | set(setting)):
            if settings[0].get(key) != setting.get(key):
                raise ValueError(
                    f"{spec}: pooled folders must share every setting; {key}: expected {settings[0].get(key)!r} "
                    f"(as in {folders[0]}), found {setting.get(key)!r} in {folder}"
                )
    shared = set.intersection(*(set(task["curves"]) for task in tasks))
    curves: dict[str, dict[int, list[tuple[int, float]]]] = {}
    for folder, task in zip(folders, tasks):
        for method in sorted(shared):
            for seed_, curve in task["curves"][method].items():
                if seed_ in curves.setdefault(method, {}):
                    raise ValueError(
                        f"{spec}: pooled folders must hold disjoint seeds; {method} seed {seed_} is in {folder} "
                        "and in a folder before it"
                    )
                curves[method][seed_] = curve
    if not curves:
        raise ValueError(f"{spec}: pooled folders expected methods in common, found none")
    return {
        "name": name or "+".join(task["name"] for task in tasks),
        "metric": tasks[0]["metric"],
        "algo": tasks[0]["algo"],
        "env": tasks[0].get("env"),
        "curves": curves,
        "folders": folders,
        "dropped_methods": sorted(set().union(*(task["curves"] for task in tasks)) - shared),
    }


def add_recipe(task: dict[str, Any], recipe: dict[str, str], name: str = "recipe") -> None:
    """
    The virtual method ``name``: a copy of the runs of the method that the recipe names for the
    task's algorithm.

    :param task: from :func:`read_task` (changed in place)
    :param recipe: algorithm (``ppo``, ``sac``, ...) -> method name
    :param name: of the virtual method
    """
    if task["algo"] not in recipe:
        raise ValueError(
            f"{task['name']}: --recipe expected a method for its algorithm {task['algo']!r}, found entries for "
            f"{sorted(recipe)}"
        )
    method = recipe[task["algo"]]
    if method not in task["curves"]:
        raise ValueError(
            f"{task['name']}: --recipe {task['algo']}:{method}: expected one of its methods "
            f"{sorted(task['curves'])}, found {method!r}"
        )
    if name in task["curves"]:
        raise ValueError(f"{task['name']}: a method is already called {name!r}; the recipe needs that name")
    task["curves"][name] = task["curves"][method]


def bar_of_the_recipe(
    task: dict[str, Any], baseline: str = "rl", hold: float = 0.95, n_resamples: int = 2000, seed: int = 0
) -> dict[str, dict[str, Any]]:
    """
    Per method of a task, in the task's own units: does its lowest evaluation (mean over seeds) stay
    at or above ``hold`` times the BC start, and does its final score (mean over seeds) reach the
    baseline's?

    :param task: from :func:`read_task`
    :param baseline: the method to end at or above (plain fine-tuning)
    :param hold: the fraction of the BC start never to drop below (for a negative start ``s``, the
        floor is ``s - (1 - hold) * |s|``)
    :param n_resamples: bootstrap resamples of the seeds for the paired difference's interval
    :param seed: of the resampling
    :return: ``{method: {"bc_start", "floor", "lowest", "holds", "final", "final_minus_baseline"
        (mean, low, high: paired by seed), "not_below_baseline"}}``; without the baseline in the
        task, the last two are None
    """
    curves = task["curves"]
    rng = np.random.default_rng(seed)
    base = curves.get(baseline)
    result = {}
    for method, seeds in curves.items():
        ordered = {s: sorted(curve) for s, curve in seeds.items()}
        start = float(np.mean([curve[0][1] for curve in ordered.values()]))
        floor = start - (1 - hold) * abs(start)
        lowest = float(np.mean([min(score for _, score in curve) for curve in ordered.values()]))
        final = float(np.mean([curve[-1][1] for curve in ordered.values()]))
        row: dict[str, Any] = {
            "bc_start": start,
            "floor": floor,
            "lowest": lowest,
            "holds": bool(lowest >= floor),
            "final": final,
            "final_minus_baseline": None,
            "not_below_baseline": None,
        }
        shared = sorted(set(ordered) & set(base or {}))
        if base is not None and shared:
            differences = np.array([ordered[s][-1][1] - sorted(base[s])[-1][1] for s in shared])
            row["final_minus_baseline"] = bootstrap_mean_ci(differences, n_resamples, rng=rng)
            row["not_below_baseline"] = bool(differences.mean() >= 0)
        result[method] = row
    return result


def steps_to_threshold(curve: Sequence[tuple[float, float]], threshold: float) -> tuple[float, bool]:
    """
    The steps of a run's first evaluation at or above ``threshold``.

    :param curve: the run's evaluations, ``(steps, score)``, in any order
    :param threshold: the score to reach
    :return: ``(steps, True)``; or, where no evaluation reaches it, the last evaluation's steps and
        False (censored at the budget: the run would have needed more)
    """
    ordered = sorted(curve)
    if not ordered:
        raise ValueError("steps_to_threshold: expected at least one evaluation, found none")
    for steps, score in ordered:
        if score >= threshold:
            return float(steps), True
    return float(ordered[-1][0]), False


def steps_ratio_kind(ratio: dict[str, Any]) -> str:
    """
    What a :func:`paired_steps_ratio` is, given its censored runs (those that never reached the
    threshold, counted at their budget, which is at most the steps they would have taken).

    :param ratio: from :func:`paired_steps_ratio`, of ``method`` against ``baseline`` (in that order)
    :return: ``"estimate"`` (no run censored), ``"upper bound"`` (only the baseline's runs censored:
        its true steps can only be more), ``"lower bound"`` (only the method's), ``"censored both ways"``
        (some of each: neither bound holds), ``"neither reached it"``, or ``"no seed"`` (none paired)
    """
    n = len(ratio["seeds"])
    method_censored, baseline_censored = ratio["censored"].values()
    if n == 0:
        return "no seed"
    if method_censored == baseline_censored == n:
        return "neither reached it"
    if method_censored and baseline_censored:
        return "censored both ways"
    return "lower bound" if method_censored else "upper bound" if baseline_censored else "estimate"


def paired_steps_ratio(
    curves: dict[str, dict[int, list[tuple[float, float]]]],
    method: str,
    threshold: float,
    baseline: str = "rl",
    n_resamples: int = 2000,
    seed: int = 0,
) -> dict[str, Any] | None:
    """
    The steps ``method`` takes to reach ``threshold`` as a share of the steps ``baseline`` takes, on
    the seeds both ran (every method of a seed starts from one BC policy): the ratio of the two means
    over seeds, with a percentile-bootstrap interval over the seeds resampled together (paired). A
    claim of "x% fewer steps" is ``1 - ratio``.

    A seed whose baseline run is at the threshold from its first evaluation is left out (counted in
    ``"started_there"``): the methods of a seed share that evaluation, so it says nothing of the steps
    fine-tuning takes, and it would make the ratio's denominator zero. A run that never reaches the
    threshold counts the steps of its last evaluation (its budget): it is censored, and the ratio is
    then a bound, not an estimate (:func:`steps_ratio_kind` says which). The steps are those of the
    evaluations, so their resolution is the evaluation interval.

    :param curves: ``{method: {seed: [(steps, score), ...]}}`` (:func:`read_task`'s ``"curves"``)
    :param method: the method whose steps are the numerator
    :param threshold: the score to reach
    :param baseline: the method whose steps are the denominator (plain fine-tuning)
    :param n_resamples: bootstrap resamples of the seeds
    :param seed: of the resampling
    :return: ``{"ratio": (mean, low, high), "seeds" (those paired), "started_there" (seeds left out),
        "reached": {method: n, baseline: n}, "censored": {method: n, baseline: n}}``; the ratio is NaN
        where no seed is left; None where either method is missing or they share no seed
    """
    if method not in curves or baseline not in curves:
        return None
    shared = sorted(set(curves[method]) & set(curves[baseline]))
    if not shared:
        return None
    started_there = [s for s in shared if steps_to_threshold(curves[baseline][s], threshold) == (0.0, True)]
    paired = [s for s in shared if s not in started_there]
    reached = {m: [steps_to_threshold(curves[m][s], threshold) for s in paired] for m in (method, baseline)}
    result: dict[str, Any] = {
        "ratio": (float("nan"),) * 3,
        "seeds": paired,
        "started_there": started_there,
        "reached": {m: int(sum(ok for _, ok in reached[m])) for m in (method, baseline)},
        "censored": {m: int(sum(not ok for _, ok in reached[m])) for m in (method, baseline)},
    }
    if paired:
        # Every paired baseline run takes more than zero steps: no denominator (nor resample of one) is zero.
        steps = {m: np.array([value for value, _ in reached[m]]) for m in (method, baseline)}
        result["ratio"] = percentile_bootstrap(
            [np.arange(len(paired))],
            lambda groups: float(steps[method][groups[0].astype(int)].mean() / steps[baseline][groups[0].astype(int)].mean()),
            n_resamples,
            rng=seed,
        )
    return result


def normalised_scores(task: dict[str, Any], reference: dict[str, dict[str, float]] | None = None) -> dict[str, Any]:
    """
    A task's final and lowest scores per method and seed, normalised: 0 at the BC start (mean step-0
    score of all its runs), 1 at the best method's mean final score; or, with ``reference``, 0 at a
    random policy's return and 1 at the expert's (return-metric tasks), the success rate as it is
    (success-rate tasks).

    :param task: from :func:`read_task`
    :param reference: env id -> ``{"random": return, "expert": return}`` (``scripts/reference_returns.py``)
    :return: ``{"start", "best", "best_method", "zero", "scale", "final": {method: array},
        "lowest": {method: array}}`` (a score is ``(value - zero) / scale``)
    """
    curves = task["curves"]
    start = float(np.mean([sorted(curve)[0][1] for seeds in curves.values() for curve in seeds.values()]))
    finals = {m: np.array([sorted(c)[-1][1] for _, c in sorted(seeds.items())]) for m, seeds in curves.items()}
    lowests = {m: np.array([min(s for _, s in c) for _, c in sorted(seeds.items())]) for m, seeds in curves.items()}
    best_method = max(finals, key=lambda m: finals[m].mean())
    best = float(finals[best_method].mean())
    if reference is not None:
        if task["metric"] == "success":
            zero, scale = 0.0, 1.0
        else:
            env = task.get("env")
            if env not in reference:
                raise ValueError(
                    f"{task['name']}: --reference expected returns for its env {env!r}, found entries for {sorted(reference)}"
                )
            zero, scale = float(reference[env]["random"]), float(reference[env]["expert"] - reference[env]["random"])
            if scale <= 0:
                raise ValueError(f"{task['name']}: --reference: expected the expert's return above the random one for {env}")
    else:
        zero, scale = start, best - start
        if scale <= 0:
            raise ValueError(
                f"{task['name']}: no method's mean final score ({best:.4g}, {best_method}) is above the BC start "
                f"({start:.4g}): the normalisation (0 = BC start, 1 = best final) is undefined"
            )
    return {
        "start": start,
        "best": best,
        "best_method": best_method,
        "zero": zero,
        "scale": scale,
        "final": {m: (v - zero) / scale for m, v in finals.items()},
        "lowest": {m: (v - zero) / scale for m, v in lowests.items()},
    }


def aggregate(
    folders: Sequence[str],
    n_resamples: int = 2000,
    seed: int = 0,
    min_tasks: int = 1,
    recipes: dict[str, dict[str, str]] | None = None,
    baseline: str = "rl",
    hold: float = 0.95,
    pool_ignore: Sequence[str] = (),
    reference: dict[str, dict[str, float]] | None = None,
) -> dict[str, Any]:
    """
    The aggregate metrics of every method over the tasks it ran (see the module's docstring).

    :param folders: ``compare.py`` result folders, one task each, or folders pooled into one task
        (``[NAME=]FOLDER+FOLDER``, see :func:`read_pooled_task`)
    :param n_resamples: bootstrap resamples
    :param seed: of the resampling
    :param min_tasks: leave out the methods that ran on fewer tasks (they still set a task's best final)
    :param recipes: name -> (algorithm -> method): virtual methods on each task (see :func:`add_recipe`)
    :param baseline: of the recipe's bar (see :func:`bar_of_the_recipe`)
    :param hold: of the recipe's bar
    :param pool_ignore: settings pooled folders may differ in (see :func:`read_pooled_task`)
    :param reference: env id -> ``{"random", "expert"}`` returns: normalise by them instead of by the
        BC start and the best final (see :func:`normalised_scores`)
    :return: per-task normalisations, per-method IQM and mean (final and lowest), pairwise
        probabilities of improvement, and per task and method the recipe's bar
    """
    if not 0 < hold <= 1:
        raise ValueError(f"hold: expected a fraction of the BC start in (0, 1], found {hold}")
    tasks = [read_pooled_task(folder, pool_ignore) for folder in folders]
    names = [task["name"] for task in tasks]
    if len(set(names)) != len(names):
        raise ValueError(f"folders: expected one folder per task with distinct names, found {names}")
    for task in tasks:
        for name, recipe in (recipes or {}).items():
            add_recipe(task, recipe, name)
    normalised = {task["name"]: normalised_scores(task, reference) for task in tasks}
    methods = sorted({m for scores in normalised.values() for m in scores["final"]})
    methods = [m for m in methods if sum(m in scores["final"] for scores in normalised.values()) >= min_tasks]
    result: dict[str, Any] = {
        "normalisation": "reference" if reference is not None else "bc_start_best_final",
        "tasks": {
            name: {
                "metric": task["metric"],
                "bc_start": scores["start"],
                "best_final": scores["best"],
                "best_method": scores["best_method"],
                "zero": scores["zero"],
                "scale": scores["scale"],
                "folders": task["folders"],
                "seeds": sorted({seed_ for seeds in task["curves"].values() for seed_ in seeds}),
                "dropped_methods": task["dropped_methods"],
            }
            for task, (name, scores) in zip(tasks, normalised.items())
        },
        "methods": {},
        "probability_of_improvement": {},
        "bar": {
            "baseline": baseline,
            "hold": hold,
            "recipes": recipes or {},
            "tasks": {task["name"]: bar_of_the_recipe(task, baseline, hold, n_resamples, seed) for task in tasks},
        },
    }
    for method in methods:
        ran = [name for name, scores in normalised.items() if method in scores["final"]]
        row: dict[str, Any] = {"tasks": ran, "runs": int(sum(normalised[n]["final"][method].size for n in ran))}
        for kind in ("final", "lowest"):
            per_task = [normalised[name][kind][method] for name in ran]
            row[f"{kind}_iqm"] = stratified_bootstrap_ci(per_task, interquartile_mean, n_resamples, seed=seed)
            row[f"{kind}_mean"] = stratified_bootstrap_ci(per_task, np.mean, n_resamples, seed=seed)
        result["methods"][method] = row
    for x in methods:
        for y in methods:
            shared = [n for n, s in normalised.items() if x in s["final"] and y in s["final"]]
            if x == y or not shared:
                continue
            result["probability_of_improvement"][f"{x} > {y}"] = {
                "tasks": shared,
                "final": probability_of_improvement_ci(
                    [normalised[n]["final"][x] for n in shared],
                    [normalised[n]["final"][y] for n in shared],
                    n_resamples,
                    seed=seed,
                ),
            }
    return result


def write_outputs(result: dict[str, Any], out: str, method: str | None) -> None:
    """``aggregate.json``, ``aggregate.md`` (tables) and ``aggregate.png`` (IQM intervals, and the
    probabilities of improvement of ``method`` over the others) in ``out``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "aggregate.json"), "w") as file:
        json.dump(result, file, indent=2)

    def cell(stat: Sequence[float]) -> str:
        return f"{stat[0]:.2f} [{stat[1]:.2f}, {stat[2]:.2f}]"

    lines = [
        "| task | metric | seeds | BC start | best final (method) | methods left out (not in every pooled folder) |",
        "|---|---|---|---|---|---|",
        *(
            f"| {name} | {t['metric']} | {len(t['seeds'])} | {t['bc_start']:.3g} | {t['best_final']:.3g} "
            f"({t['best_method']}) | {', '.join(t['dropped_methods']) or '-'} |"
            for name, t in result["tasks"].items()
        ),
        "",
        "| method | tasks | runs | final: IQM | final: mean | lowest: IQM | lowest: mean |",
        "|---|---|---|---|---|---|---|",
        *(
            f"| {m} | {len(r['tasks'])} | {r['runs']} | {cell(r['final_iqm'])} | {cell(r['final_mean'])} | "
            f"{cell(r['lowest_iqm'])} | {cell(r['lowest_mean'])} |"
            for m, r in result["methods"].items()
        ),
    ]
    if method is not None:
        lines += ["", f"| P({method} > other), final | tasks | probability [95% CI] |", "|---|---|---|"]
        for key, value in result["probability_of_improvement"].items():
            if key.startswith(f"{method} > "):
                lines.append(f"| {key.split(' > ')[1]} | {len(value['tasks'])} | {cell(value['final'])} |")
    bar = result["bar"]
    task_names = list(bar["tasks"])
    lines += [
        "",
        f"The bar: lowest evaluation (mean over seeds) at or above {bar['hold']:g}x the BC start, and final score "
        f"(mean over seeds) at or above {bar['baseline']}'s; per task: lowest minus start in % of the start "
        f"(yes/no), final minus {bar['baseline']}'s, paired by seed [95% CI] "
        "(yes/no; tie: below, but the interval of the difference reaches 0).",
        "",
        f"| method | meets the bar on | counting ties | {' | '.join(task_names)} |",
        f"|---|---|---|{'---|' * len(task_names)}",
    ]

    def yes(flag: bool | None) -> str:
        return "-" if flag is None else ("yes" if flag else "no")

    for m in result["methods"]:
        cells, met, met_or_tie, ran = [], 0, 0, 0
        for name in task_names:
            row = bar["tasks"][name].get(m)
            if row is None:
                cells.append("")
                continue
            ran += 1
            drop = 100 * (row["lowest"] - row["bc_start"]) / abs(row["bc_start"]) if row["bc_start"] else float("nan")
            difference = row["final_minus_baseline"]
            final = "-" if difference is None else f"{difference[0]:+.3g} [{difference[1]:+.3g}, {difference[2]:+.3g}]"
            tie = difference is not None and not row["not_below_baseline"] and difference[2] >= 0
            verdict = "tie" if tie else yes(row["not_below_baseline"])
            cells.append(f"{drop:+.0f}% ({yes(row['holds'])}); {final} ({verdict})")
            met += int(row["holds"] and row["not_below_baseline"] is not False)
            met_or_tie += int(row["holds"] and (row["not_below_baseline"] is not False or tie))
        lines.append(f"| {m} | {met}/{ran} | {met_or_tie}/{ran} | {' | '.join(cells)} |")
    reference = result.get("normalisation") == "reference"
    scale_text = (
        "(return tasks: 0 = a random policy's return, 1 = the expert's; success tasks: the success rate)"
        if reference
        else "(0 = BC start, 1 = best mean final score)"
    )
    with open(os.path.join(out, "aggregate.md"), "w") as file:
        file.write("\n".join(lines) + f"\n\nScores normalised per task {scale_text}; 95% stratified bootstrap intervals.\n")
    print("\n".join(lines))

    methods = list(result["methods"])
    panels = 3 if method is not None else 2
    fig, axes = plt.subplots(1, panels, figsize=(5 * panels, 0.45 * len(methods) + 1.8), squeeze=False)
    for ax, kind, title in zip(axes[0], ("final", "lowest"), ("final score (IQM)", "lowest score (IQM)")):
        for row, m in enumerate(methods):
            point, low, high = result["methods"][m][f"{kind}_iqm"]
            ax.plot([low, high], [row, row], color="tab:blue", linewidth=6, alpha=0.4, solid_capstyle="butt")
            ax.plot([point], [row], "|", color="black", markersize=14)
        ax.axvline(0.0, color="grey", linestyle=":", linewidth=1)
        ax.axvline(1.0, color="grey", linestyle=":", linewidth=1)
        ax.set_yticks(range(len(methods)), methods)
        ax.set_xlabel(
            "normalised score (0 = random, 1 = expert; success rate)"
            if reference
            else "normalised score (0 = BC start, 1 = best final)"
        )
        ax.set_title(title)
        ax.grid(alpha=0.3, axis="x")
    if method is not None:
        ax = axes[0][-1]
        others = [k.split(" > ")[1] for k in result["probability_of_improvement"] if k.startswith(f"{method} > ")]
        for row, other in enumerate(others):
            point, low, high = result["probability_of_improvement"][f"{method} > {other}"]["final"]
            ax.plot([low, high], [row, row], color="tab:orange", linewidth=6, alpha=0.5, solid_capstyle="butt")
            ax.plot([point], [row], "|", color="black", markersize=14)
        ax.axvline(0.5, color="grey", linestyle=":", linewidth=1)
        ax.set_xlim(0, 1)
        ax.set_yticks(range(len(others)), others)
        ax.set_xlabel(f"P({method} > other), final score")
        ax.set_title(f"probability of improvement of {method}")
        ax.grid(alpha=0.3, axis="x")
    fig.tight_layout()
    fig.savefig(os.path.join(out, "aggregate.png"), dpi=120)
    plt.close(fig)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "folders",
        nargs="+",
        help="compare.py result folders, one task each; [NAME=]FOLDER+FOLDER pools sweeps of one setting on other seeds",
    )
    parser.add_argument("--method", default=None, help="the method whose probabilities of improvement to tabulate and plot")
    parser.add_argument("--min-tasks", type=int, default=1, help="only the methods that ran on at least this many tasks")
    parser.add_argument("--n-resamples", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--recipe",
        nargs="+",
        default=[],
        metavar="ALGO:METHOD",
        help="[NAME=]ALGO:METHOD: per algorithm, the method that the virtual method NAME (default 'recipe') stands "
        "for (e.g. ppo:inril_m2_logstd-2)",
    )
    parser.add_argument("--baseline", default="rl", help="the recipe's bar: end at or above this method's final score")
    parser.add_argument("--hold", type=float, default=0.95, help="the recipe's bar: never below this fraction of the BC start")
    parser.add_argument(
        "--pool-ignore",
        nargs="+",
        default=[],
        metavar="SETTING",
        help="settings of compare.py's summary.json that pooled folders may differ in (a difference of form you checked)",
    )
    parser.add_argument(
        "--reference",
        default=None,
        metavar="FILE",
        help="scripts/reference_returns.py's JSON: normalise return tasks as (return - random) / (expert - random) and "
        "success tasks as the rate itself, instead of 0 = BC start, 1 = best final",
    )
    parser.add_argument("--out", default="aggregate", help="folder for aggregate.json, aggregate.md, aggregate.png")
    args = parser.parse_args(argv)
    recipes: dict[str, dict[str, str]] = {}
    for item in args.recipe:
        name, _, spec = item.rpartition("=")
        algo, _, method = spec.partition(":")
        recipe = recipes.setdefault(name or "recipe", {})
        if not algo or not method or algo in recipe:
            parser.error(
                f"--recipe: expected [NAME=]ALGO:METHOD once per name and algorithm (e.g. ppo:inril_m2), found {item!r}"
            )
        recipe[algo] = method
    if not 0 < args.hold <= 1:
        parser.error(f"--hold: expected a fraction of the BC start in (0, 1], found {args.hold}")
    reference = None
    if args.reference is not None:
        with open(args.reference) as file:
            reference = json.load(file)["envs"]
    result = aggregate(
        args.folders,
        args.n_resamples,
        args.seed,
        args.min_tasks,
        recipes,
        args.baseline,
        args.hold,
        args.pool_ignore,
        reference,
    )
    if args.method is not None and args.method not in result["methods"]:
        parser.error(f"--method: expected one of {sorted(result['methods'])}, found {args.method!r}")
    write_outputs(result, args.out, args.method)
    return result


if __name__ == "__main__":
    main()
