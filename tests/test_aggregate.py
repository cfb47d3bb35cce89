"""scripts/aggregate.py: the aggregate metrics against hand-computed values."""

import csv
import json
import os

import numpy as np
import pytest
from scipy import stats

from scripts.aggregate import (
    aggregate,
    interquartile_mean,
    main,
    normalised_scores,
    paired_steps_ratio,
    probability_of_improvement,
    probability_of_improvement_ci,
    steps_ratio_kind,
    steps_to_threshold,
    stratified_bootstrap_ci,
)


def test_interquartile_mean_by_hand():
    assert interquartile_mean(np.arange(1, 9)) == 4.5  # 8 values: 2 cut from each end, mean of 3, 4, 5, 6
    assert interquartile_mean(np.array([0.0, 0.0, 1.0, 1.0, 100.0])) == pytest.approx(2 / 3)  # 1 cut each end
    assert interquartile_mean(np.array([7.0])) == 7.0 and interquartile_mean(np.array([3.0, 5.0, 1.0])) == 3.0
    values = np.random.default_rng(0).normal(size=(5, 7))
    assert interquartile_mean(values) == pytest.approx(stats.trim_mean(values, 0.25, axis=None))  # rliable's IQM
    with pytest.raises(ValueError, match="at least one value"):
        interquartile_mean(np.array([]))


def test_probability_of_improvement_by_hand():
    # Task 1: pairs (1,0) win, (1,2) loss, (2,0) win, (2,2) tie -> 2.5/4; task 2: (0,1) loss -> 0.
    x, y = [np.array([1.0, 2.0]), np.array([0.0])], [np.array([0.0, 2.0]), np.array([1.0])]
    assert probability_of_improvement(x, y) == pytest.approx((0.625 + 0.0) / 2)
    assert probability_of_improvement(y, x) == pytest.approx((0.375 + 1.0) / 2)  # P(X>Y) + P(Y>X) = 1 per task
    assert probability_of_improvement([np.array([1.0, 1.0])], [np.array([1.0])]) == 0.5
    with pytest.raises(ValueError, match="same non-zero number of tasks"):
        probability_of_improvement(x, y[:1])
    with pytest.raises(ValueError, match="at least one run"):
        probability_of_improvement([np.array([])], [np.array([1.0])])


def test_stratified_bootstrap_resamples_within_tasks():
    # A task with one distinct value keeps it in every resample: constant tasks give a zero-width interval.
    assert stratified_bootstrap_ci([np.array([1.0, 1.0]), np.array([3.0])], np.mean) == (5 / 3, 5 / 3, 5 / 3)
    # Each resample keeps every task's size: the statistic sees 2 + 3 values each time.
    sizes = []
    stratified_bootstrap_ci([np.array([0.0, 1.0]), np.array([5.0, 6.0, 7.0])], lambda v: sizes.append(v.size) or 0.0, 50)
    assert sizes == [5] * 51
    # Resamples stay within each task: task 1's values are 0/1, task 2's 10/11, so the mean of a resample
    # of 2 + 2 runs lies in [5, 6]; the interval brackets the point and is seeded.
    tasks = [np.array([0.0, 1.0]), np.array([10.0, 11.0])]
    point, low, high = stratified_bootstrap_ci(tasks, np.mean, 500, seed=3)
    assert point == 5.5 and 5.0 <= low < point < high <= 6.0
    assert stratified_bootstrap_ci(tasks, np.mean, 500, seed=3) == (point, low, high)
    point, low, high = probability_of_improvement_ci([np.array([1.0, 2.0])], [np.array([0.0, 3.0])], 300)
    assert point == 0.5 and 0.0 <= low <= point <= high <= 1.0


def write_task(folder, metric, runs, config=None):
    """A compare.py folder: runs = {(method, seed): [(timesteps, score), ...]}."""
    os.makedirs(folder)
    with open(folder / "results.csv", "w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(["method", "seed", "timesteps", "eval_return_mean", "eval_return_std", "eval_success_rate"])
        for (method, seed), curve in runs.items():
            for step, score in curve:
                row = [score, 0.0, float("nan")] if metric == "return" else [0.0, 0.0, score]
                writer.writerow([method, seed, step, *row])
    json.dump({"metric": metric, "methods": {}, "config": config or {}}, open(folder / "summary.json", "w"))


def test_normalisation_and_aggregate_by_hand(tmp_path):
    # Task A (returns): BC start 100; rl ends 90 and 110 (mean 100), inril 150 and 250 (mean 200, the best).
    write_task(
        tmp_path / "a",
        "return",
        {
            ("rl", 0): [(0, 100.0), (10, 50.0), (20, 90.0)],
            ("rl", 1): [(0, 100.0), (10, 120.0), (20, 110.0)],
            ("inril", 0): [(0, 100.0), (10, 100.0), (20, 150.0)],
            ("inril", 1): [(0, 100.0), (10, 200.0), (20, 250.0)],
        },
    )
    # Task B (success): starts 0.4 and 0.6 (mean 0.5); rl ends 0.0 and 0.5 (mean 0.25), inril 1.0 and 0.0
    # (mean 0.5): the best mean final equals the start, and the normalisation is undefined.
    write_task(
        tmp_path / "b",
        "success",
        {
            ("rl", 0): [(0, 0.4), (10, 0.0)],
            ("rl", 1): [(0, 0.6), (10, 0.5)],
            ("inril", 0): [(0, 0.4), (10, 1.0)],
            ("inril", 1): [(0, 0.6), (10, 0.0)],
        },
    )
    from scripts.aggregate import read_task

    scores = normalised_scores(read_task(str(tmp_path / "a")))
    assert scores["start"] == 100.0 and scores["best"] == 200.0 and scores["best_method"] == "inril"
    np.testing.assert_allclose(scores["final"]["rl"], [-0.1, 0.1])
    np.testing.assert_allclose(scores["final"]["inril"], [0.5, 1.5])
    np.testing.assert_allclose(scores["lowest"]["rl"], [-0.5, 0.0])
    np.testing.assert_allclose(scores["lowest"]["inril"], [0.0, 0.0])
    with pytest.raises(ValueError, match=r"b: no method's mean final score \(0.5, inril\) is above the BC start"):
        aggregate([str(tmp_path / "a"), str(tmp_path / "b")])
    # Task C: task B with inril's second seed succeeding: best mean final 1.0, scale 0.5.
    write_task(
        tmp_path / "c",
        "success",
        {
            ("rl", 0): [(0, 0.4), (10, 0.0)],
            ("rl", 1): [(0, 0.6), (10, 0.5)],
            ("inril", 0): [(0, 0.4), (10, 1.0)],
            ("inril", 1): [(0, 0.6), (10, 1.0)],
        },
    )
    result = aggregate([str(tmp_path / "a"), str(tmp_path / "c")], n_resamples=200)
    # rl: task a [-0.1, 0.1], task c [(0-0.5)/0.5, (0.5-0.5)/0.5] = [-1, 0]; IQM of 4 cuts one each end.
    assert result["methods"]["rl"]["final_iqm"][0] == pytest.approx(np.mean([-0.1, 0.0]))
    assert result["methods"]["rl"]["final_mean"][0] == pytest.approx(np.mean([-0.1, 0.1, -1.0, 0.0]))
    assert result["methods"]["inril"]["final_mean"][0] == pytest.approx(np.mean([0.5, 1.5, 1.0, 1.0]))
    # P(inril > rl): task a, all 4 pairs won; task c, all 4 won -> 1.
    assert result["probability_of_improvement"]["inril > rl"]["final"][0] == 1.0
    assert result["probability_of_improvement"]["rl > inril"]["final"][0] == 0.0
    assert result["tasks"]["c"]["bc_start"] == pytest.approx(0.5) and result["methods"]["rl"]["runs"] == 4
    # A method on one task only is left out with min_tasks=2, but still sets that task's best final.
    write_task(tmp_path / "d", "return", {("rl", 0): [(0, 0.0), (1, 1.0)], ("solo", 0): [(0, 0.0), (1, 4.0)]})
    result = aggregate([str(tmp_path / p) for p in "acd"], n_resamples=20, min_tasks=2)
    assert sorted(result["methods"]) == ["inril", "rl"] and result["tasks"]["d"]["best_method"] == "solo"
    assert result["methods"]["rl"]["runs"] == 5 and "solo > rl" not in result["probability_of_improvement"]


def test_cli_writes_tables_and_figure(tmp_path):
    write_task(
        tmp_path / "a",
        "return",
        {("rl", s): [(0, 1.0), (5, 1.0 + s)] for s in range(3)} | {("bc_reg", s): [(0, 1.0), (5, 2.0)] for s in range(3)},
    )
    main([str(tmp_path / "a"), "--method", "bc_reg", "--n-resamples", "50", "--out", str(tmp_path / "out")])
    for name in ("aggregate.json", "aggregate.md", "aggregate.png"):
        assert os.path.getsize(tmp_path / "out" / name) > 0
    assert "| rl | 1 |" in open(tmp_path / "out" / "aggregate.md").read()
    with pytest.raises(SystemExit):
        main([str(tmp_path / "a"), "--method", "nope", "--out", str(tmp_path / "out")])
    with pytest.raises(FileNotFoundError, match=r"results\.csv"):
        main([str(tmp_path / "missing")])


def test_the_recipes_bar_by_hand(tmp_path):
    from scripts.aggregate import bar_of_the_recipe, read_task

    # Start 100 on both seeds. rl: lowest 50 and 100 (mean 75), finals 90 and 110 (mean 100).
    # inril: lowest 96 and 100 (mean 98 >= 95), finals 120 and 100: paired differences +30 and -10.
    # late: lowest 94 and 95 (mean 94.5 < 95).
    write_task(
        tmp_path / "a",
        "return",
        {
            ("rl", 0): [(0, 100.0), (10, 50.0), (20, 90.0)],
            ("rl", 1): [(0, 100.0), (10, 120.0), (20, 110.0)],
            ("inril", 0): [(0, 100.0), (10, 96.0), (20, 120.0)],
            ("inril", 1): [(0, 100.0), (10, 105.0), (20, 100.0)],
            ("late", 0): [(0, 100.0), (10, 94.0), (20, 200.0)],
            ("late", 1): [(0, 100.0), (20, 95.0)],
        },
    )
    bar = bar_of_the_recipe(read_task(str(tmp_path / "a")), n_resamples=200)
    assert bar["rl"]["lowest"] == 75.0 and bar["rl"]["floor"] == 95.0 and not bar["rl"]["holds"]
    assert bar["rl"]["final_minus_baseline"] == (0.0, 0.0, 0.0) and bar["rl"]["not_below_baseline"]
    assert bar["inril"]["lowest"] == 98.0 and bar["inril"]["holds"] and bar["inril"]["final"] == 110.0
    mean, low, high = bar["inril"]["final_minus_baseline"]
    assert mean == 10.0 and -10.0 <= low < mean < high <= 30.0 and bar["inril"]["not_below_baseline"]
    assert bar["late"]["lowest"] == 94.5 and not bar["late"]["holds"]
    assert bar["late"]["final_minus_baseline"][0] == pytest.approx(((200 - 90) + (95 - 110)) / 2)
    assert bar_of_the_recipe(read_task(str(tmp_path / "a")), hold=0.9)["late"]["holds"]  # floor 90
    # A negative start: the floor is 5% of its size below it (-210 for -200); without the baseline: None.
    write_task(tmp_path / "b", "return", {("sac", 0): [(0, -200.0), (5, -209.0), (9, -150.0)]})
    bar = bar_of_the_recipe(read_task(str(tmp_path / "b")))
    assert bar["sac"]["floor"] == -210.0 and bar["sac"]["holds"] and bar["sac"]["final_minus_baseline"] is None


def test_the_recipe_stands_for_one_method_per_algorithm(tmp_path):
    from scripts.aggregate import add_recipe, read_task

    runs = {("rl", 0): [(0, 1.0), (5, 1.5)], ("inril_m2", 0): [(0, 1.0), (5, 3.0)], ("rl_warmup", 0): [(0, 1.0), (5, 2.0)]}
    for name, algo in (("ppo_task", "ppo"), ("sac_task", "sac")):
        write_task(tmp_path / name, "return", runs)
        json.dump({"metric": "return", "config": {"algo": algo}}, open(tmp_path / name / "summary.json", "w"))
    recipe = {"ppo": "inril_m2", "sac": "rl_warmup"}
    recipes = {"recipe": recipe, "other": {"ppo": "rl", "sac": "inril_m2"}}
    result = aggregate([str(tmp_path / "ppo_task"), str(tmp_path / "sac_task")], 50, recipes=recipes)
    # On the PPO task the recipe is inril_m2 (normalised 1.0), on the SAC task rl_warmup ((2-1)/(3-1)).
    assert result["methods"]["recipe"]["final_mean"][0] == pytest.approx((1.0 + 0.5) / 2)
    assert result["bar"]["tasks"]["sac_task"]["recipe"]["final"] == 2.0 and result["bar"]["recipes"] == recipes
    assert result["methods"]["other"]["final_mean"][0] == pytest.approx((0.25 + 1.0) / 2)
    task = read_task(str(tmp_path / "ppo_task"))
    with pytest.raises(ValueError, match=r"ppo_task: --recipe expected a method for its algorithm 'ppo'"):
        add_recipe(task, {"sac": "rl_warmup"})
    with pytest.raises(ValueError, match=r"--recipe ppo:inril_m9: expected one of its methods .* found 'inril_m9'"):
        add_recipe(task, {"ppo": "inril_m9"})
    add_recipe(task, recipe)
    with pytest.raises(ValueError, match="already called 'recipe'"):
        add_recipe(task, recipe)
    for bad in (["--recipe", "ppo"], ["--recipe", "ppo:a", "ppo:b"], ["--recipe", "x=ppo:a", "x=ppo:b"], ["--hold", "1.5"]):
        with pytest.raises(SystemExit):
            main([str(tmp_path / "ppo_task"), *bad, "--out", str(tmp_path / "out")])
    main([str(tmp_path / "ppo_task"), str(tmp_path / "sac_task"), "--recipe", "ppo:inril_m2", "sac:rl_warmup", "x=ppo:rl", "x=sac:rl",
          "--method", "recipe", "--n-resamples", "20", "--out", str(tmp_path / "out")])  # fmt: skip
    table = open(tmp_path / "out" / "aggregate.md").read()
    assert "| recipe | 2/2 | 2/2 |" in table and "| rl | 2/2 | 2/2 |" in table  # rl never drops here, ties itself
    assert "| x | 2/2 | 2/2 |" in table


def test_a_final_below_the_baseline_within_noise_is_a_tie(tmp_path):
    # x ends 1 below rl on seed 0 and 0.5 above on seed 1: below on average, but some resamples of the
    # paired differences reach 0 -> "tie", counted in the second column only; y ends 2 below on both.
    runs = {("rl", s): [(0, 10.0), (5, 20.0)] for s in (0, 1)}
    runs |= {("x", 0): [(0, 10.0), (5, 19.0)], ("x", 1): [(0, 10.0), (5, 20.5)]}
    runs |= {("y", s): [(0, 10.0), (5, 18.0)] for s in (0, 1)}
    write_task(tmp_path / "a", "return", runs)
    main([str(tmp_path / "a"), "--n-resamples", "200", "--out", str(tmp_path / "out")])
    table = open(tmp_path / "out" / "aggregate.md").read()
    assert "| x | 0/1 | 1/1 | +0% (yes); -0.25 [-1, +0.5] (tie) |" in table
    assert "| y | 0/1 | 0/1 | +0% (yes); -2 [-2, -2] (no) |" in table


def test_pooled_folders_make_one_task_on_all_their_seeds(tmp_path):
    from scripts.aggregate import read_pooled_task

    setting = {"env": "Hopper-v5", "algo": "ppo", "timesteps": 20}
    # Seeds 0-1 chose the recipe; seeds 2-3 confirm it. "extra" ran on the first seeds only.
    first = {("rl", s): [(0, 100.0), (20, 100.0 + s)] for s in (0, 1)}
    first |= {("inril", s): [(0, 100.0), (20, 150.0)] for s in (0, 1)} | {("extra", 0): [(0, 100.0), (20, 900.0)]}
    write_task(tmp_path / "chose", "return", first, setting | {"seeds": [0, 1], "out": "/x", "command": "a"})
    fresh = {("rl", s): [(0, 100.0), (20, 80.0)] for s in (2, 3)} | {("inril", s): [(0, 100.0), (20, 90.0)] for s in (2, 3)}
    write_task(tmp_path / "fresh", "return", fresh, setting | {"seeds": [2, 3], "out": "/y", "command": "b"})
    task = read_pooled_task(f"hop={tmp_path / 'chose'}+{tmp_path / 'fresh'}")
    assert task["name"] == "hop" and task["dropped_methods"] == ["extra"] and sorted(task["curves"]) == ["inril", "rl"]
    assert sorted(task["curves"]["rl"]) == [0, 1, 2, 3] and task["curves"]["inril"][3] == [(0, 100.0), (20, 90.0)]
    assert read_pooled_task(f"{tmp_path / 'chose'}+{tmp_path / 'fresh'}")["name"] == "chose+fresh"
    # Over the 4 seeds: best mean final inril (150+150+90+90)/4 = 120, start 100; rl's finals normalised
    # (100-100)/20, (101-100)/20, (80-100)/20 twice; "extra" sets nothing.
    result = aggregate([f"hop={tmp_path / 'chose'}+{tmp_path / 'fresh'}"], n_resamples=20)
    assert result["tasks"]["hop"]["best_final"] == 120.0 and result["tasks"]["hop"]["seeds"] == [0, 1, 2, 3]
    assert result["methods"]["rl"]["final_mean"][0] == pytest.approx(np.mean([0.0, 0.05, -1.0, -1.0]))
    assert result["bar"]["tasks"]["hop"]["inril"]["final_minus_baseline"][0] == pytest.approx((50 + 49 + 10 + 10) / 4)
    # Another setting, or a seed in both folders, is refused with the field and both values.
    write_task(tmp_path / "longer", "return", fresh, setting | {"timesteps": 40})
    with pytest.raises(ValueError, match=r"timesteps: expected 20 \(as in .*chose\), found 40 in .*longer"):
        read_pooled_task(f"{tmp_path / 'chose'}+{tmp_path / 'longer'}")
    # A difference the user checked to be of form only (None then meant the zoo entry's -1.0).
    write_task(tmp_path / "old", "return", first, setting | {"pretrain_log_std": None})
    write_task(tmp_path / "new", "return", fresh, setting | {"pretrain_log_std": -1.0})
    with pytest.raises(ValueError, match=r"pretrain_log_std: expected None"):
        read_pooled_task(f"{tmp_path / 'old'}+{tmp_path / 'new'}")
    assert sorted(read_pooled_task(f"{tmp_path / 'old'}+{tmp_path / 'new'}", ["pretrain_log_std"])["curves"]["rl"]) == [
        0,
        1,
        2,
        3,
    ]
    with pytest.raises(ValueError, match=r"timesteps: expected 20"):
        read_pooled_task(f"{tmp_path / 'chose'}+{tmp_path / 'longer'}", ["pretrain_log_std"])
    write_task(tmp_path / "again", "return", {("rl", 1): [(0, 100.0), (20, 5.0)]}, setting)
    with pytest.raises(ValueError, match=r"disjoint seeds; rl seed 1 is in .*again"):
        read_pooled_task(f"{tmp_path / 'chose'}+{tmp_path / 'again'}")
    write_task(tmp_path / "other", "return", {("sac", 5): [(0, 1.0), (20, 5.0)]}, setting)
    with pytest.raises(ValueError, match=r"methods in common, found none"):
        read_pooled_task(f"{tmp_path / 'chose'}+{tmp_path / 'other'}")
    with pytest.raises(ValueError, match=r"expected \[NAME=\]FOLDER\[\+FOLDER...\], found"):
        read_pooled_task(f"{tmp_path / 'chose'}+")


def test_steps_to_threshold_and_censoring():
    assert steps_to_threshold([(20, 0.9), (0, 0.1), (10, 0.5)], 0.5) == (10.0, True)  # in step order, >= counts
    assert steps_to_threshold([(0, 0.6), (10, 0.9)], 0.5) == (0.0, True)  # the start already there
    assert steps_to_threshold([(0, 0.1), (10, 0.4), (30, 0.2)], 0.5) == (30.0, False)  # censored at the budget
    with pytest.raises(ValueError, match="at least one evaluation"):
        steps_to_threshold([], 0.5)


def test_paired_steps_ratio_by_hand():
    # rl reaches 0.5 at 20, 40 and never (censored at 60: its budget); inril at 10, 20 and 30.
    curves = {
        "rl": {0: [(0, 0.1), (20, 0.5), (40, 0.6), (60, 0.7)], 1: [(0, 0.1), (20, 0.3), (40, 0.5), (60, 0.5)],
               2: [(0, 0.1), (20, 0.2), (40, 0.3), (60, 0.4)], 7: [(0, 0.1), (60, 0.9)]},
        "inril": {0: [(0, 0.1), (10, 0.6), (60, 0.6)], 1: [(0, 0.1), (20, 0.5), (60, 0.1)],
                  2: [(0, 0.1), (30, 0.9), (60, 0.9)]},
    }  # fmt: skip
    result = paired_steps_ratio(curves, "inril", 0.5, n_resamples=500)
    assert result["seeds"] == [0, 1, 2]  # seed 7 has no inril run: not paired
    assert result["ratio"][0] == pytest.approx((10 + 20 + 30) / (20 + 40 + 60))
    assert result["reached"] == {"inril": 3, "rl": 2} and result["censored"] == {"inril": 0, "rl": 1}
    assert steps_ratio_kind(result) == "upper bound"  # rl's censored run would take more than its 60 steps
    # The seeds are resampled together: each resample is a ratio of means over the same seeds, so the
    # interval lies within the per-seed ratios' range (0.5 ... 0.5) -> exactly 0.5 here.
    assert result["ratio"][1:] == pytest.approx((0.5, 0.5))
    # Unpaired seeds would spread it: make the per-seed ratios differ and the interval brackets the point.
    curves["inril"][2] = [(0, 0.1), (60, 0.9)]
    point, low, high = paired_steps_ratio(curves, "inril", 0.5, n_resamples=500)["ratio"]
    assert point == pytest.approx(90 / 120) and 0.5 <= low < point < high <= 1.0
    assert paired_steps_ratio(curves, "inril", 0.5, n_resamples=500)["ratio"] == (point, low, high)  # seeded
    assert paired_steps_ratio(curves, "inril", 0.5)["started_there"] == []
    # A seed whose shared start is at the threshold already is left out (every method takes 0 steps there);
    # with no seed left, there is no ratio to take.
    curves["rl"][1] = curves["inril"][1] = [(0, 0.9), (60, 0.9)]
    result = paired_steps_ratio(curves, "inril", 0.5, n_resamples=500)
    assert result["seeds"] == [0, 2] and result["started_there"] == [1]
    assert result["ratio"][0] == pytest.approx((10 + 60) / (20 + 60)) and result["reached"] == {"inril": 2, "rl": 1}
    starts_there = {"rl": {0: [(0, 0.9), (10, 0.9)]}, "inril": {0: [(0, 0.9), (10, 0.9)]}}
    assert np.isnan(paired_steps_ratio(starts_there, "inril", 0.5)["ratio"]).all()
    assert (
        paired_steps_ratio(curves, "bc_reg", 0.5) is None
        and paired_steps_ratio({"rl": {0: []}, "x": {1: []}}, "x", 0.5) is None
    )


@pytest.mark.parametrize(
    "censored, kind",
    [((0, 0), "estimate"), ((1, 0), "lower bound"), ((0, 2), "upper bound"), ((1, 1), "censored both ways"),
     ((3, 3), "neither reached it")],
)  # fmt: skip
def test_steps_ratio_kind(censored, kind):
    ratio = {"seeds": [0, 1, 2], "censored": dict(zip(("inril", "rl"), censored))}
    assert steps_ratio_kind(ratio) == kind
    assert steps_ratio_kind({"seeds": [], "censored": {"inril": 0, "rl": 0}}) == "no seed"
