import json
import os
import subprocess
import sys

import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# A compare.py config small enough to run run_one in-process: 4 PPO updates of 32 steps.
TINY_PENDULUM_SWEEP = dict(
    env="Pendulum-v1", algo="ppo", demos="shipped:Pendulum-v1/medium", timesteps=128, eval_freq=64, eval_episodes=1,
    il_interval=2, bc_weight=0.1, critic_warmup_steps=0, pretrain_epochs=1, pretrain_log_std=-1.0,
    algo_kwargs={"n_steps": 32, "batch_size": 16, "n_epochs": 1},
)  # fmt: skip


@pytest.mark.slow
@pytest.mark.parametrize(
    "algo, kwargs",
    [("ppo", '{"n_steps": 64, "batch_size": 16, "n_epochs": 1}'), ("sac", '{"learning_starts": 64, "batch_size": 16}')],
)
def test_compare_end_to_end(tmp_path, algo, kwargs):
    methods = ["rl", "inril"] if algo == "ppo" else ["bc", "inril_residual"]
    command = [
        sys.executable, os.path.join(ROOT, "scripts", "compare.py"), "--env", "Pendulum-v1", "--algo", algo, "--demos", "medium",
        "--methods", *methods, "--seeds", "2", "--timesteps", "256", "--eval-freq", "128", "--eval-episodes", "1",
        "--pretrain-epochs", "1", "--jobs", "2", "--algo-kwargs", kwargs, "--out", str(tmp_path),
    ]  # fmt: skip
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONWARNINGS="ignore")
    result = subprocess.run(command, capture_output=True, text=True, env=env, cwd=ROOT)
    assert result.returncode == 0, result.stderr[-3000:]
    assert sorted(os.listdir(tmp_path / "runs")) == sorted(f"{m}_s{s}.json" for m in methods for s in (0, 1))
    for name in ("results.csv", "summary.json", "summary.md", "curves.png"):
        assert os.path.getsize(tmp_path / name) > 0
    summary = json.load(open(tmp_path / "summary.json"))
    assert set(summary["methods"]) == set(methods) and summary["config"]["seeds"] == [0, 1]
    for stats in summary["methods"].values():
        mean, low, high = stats["final"]
        assert low <= mean <= high and stats["n_seeds"] == 2
    rows = open(tmp_path / "results.csv").read().strip().splitlines()
    assert len(rows) == 1 + 2 * 2 * 3  # header + methods x seeds x evaluations (0, 128, 256)
    # The same BC start for every method of a seed: equal returns at step 0.
    starts = {}
    for run_file in os.listdir(tmp_path / "runs"):
        run = json.load(open(tmp_path / "runs" / run_file))
        starts.setdefault(run["seed"], set()).add(round(run["curve"][0][1], 6))
    assert all(len(values) == 1 for values in starts.values())
    # Every fine-tuning run carries its diagnostics: one row per rollout (PPO) or per 12 steps (SAC).
    for run_file in os.listdir(tmp_path / "runs"):
        run = json.load(open(tmp_path / "runs" / run_file))
        rows = run["diagnostics"]
        if run["method"] == "bc":
            assert rows == []
        elif algo == "ppo":
            assert [row["timesteps"] for row in rows] == [64, 128, 192, 256] and "approx_kl" in rows[0]
        else:
            assert rows[0]["timesteps"] == 1 and len(rows) == 22 and "critic_loss" in rows[-1]
    # Resuming skips finished runs.
    again = subprocess.run(command, capture_output=True, text=True, env=env, cwd=ROOT)
    assert "0 runs to do (4 already done)" in again.stdout


def test_bootstrap_interval():
    from scripts.compare import bootstrap_ci

    mean, low, high = bootstrap_ci(np.array([1.0, 2.0, 3.0, 4.0, 5.0]))
    assert mean == 3.0 and 1.0 < low < 3.0 < high < 5.0
    assert bootstrap_ci(np.array([2.0, 2.0])) == (2.0, 2.0, 2.0)
    assert np.isnan(bootstrap_ci(np.array([np.inf]))[0])


def test_summary_of_success_rates():
    from scripts.compare import summarize

    # (timesteps, mean return, return std, success rate)
    runs = [
        {"method": "rl", "seed": 0, "curve": [(0, 0.5, 0.5, 0.5), (10, 0.1, 0.3, 0.1), (20, 0.2, 0.4, 0.2)]},
        {"method": "rl", "seed": 1, "curve": [(0, 0.7, 0.5, 0.7), (10, 0.3, 0.5, 0.3), (20, 0.0, 0.0, 0.0)]},
    ]
    stats = summarize(runs, threshold=0.6, metric="success")["methods"]["rl"]
    assert stats["final"][0] == pytest.approx(0.1)
    assert stats["mean_during_fine_tuning"][0] == pytest.approx((0.15 + 0.15) / 2)
    assert stats["collapse"][0] == pytest.approx((-0.4 + -0.7) / 2)
    assert stats["reached_threshold"] == "1/2"
    returns = summarize([{**run, "curve": [(t, 10 * r, 0.0, s) for t, r, _, s in run["curve"]]} for run in runs], None)
    assert returns["metric"] == "return" and returns["methods"]["rl"]["final"][0] == pytest.approx(1.0)
    assert "steps_ratio_vs_rl" not in stats  # rl against itself: nothing to pair
    # Another method on the same seeds: its steps to the threshold as a share of rl's. Seed 1 starts at
    # 0.7, above 0.6 (left out); seed 0: rl never reaches it (censored at 20), inril at 10.
    inril = [
        {"method": "inril", "seed": s, "curve": [(0, r[0][3], 0.5, r[0][3]), (10, 0.7, 0.5, 0.7), (20, 0.7, 0.5, 0.7)]}
        for s, r in ((0, runs[0]["curve"]), (1, runs[1]["curve"]))
    ]
    ratio = summarize(runs + inril, threshold=0.6, metric="success")["methods"]["inril"]["steps_ratio_vs_rl"]
    assert ratio["ratio"][0] == pytest.approx(10 / 20) and ratio["censored"] == {"inril": 0, "rl": 1}
    assert ratio["seeds"] == [0] and ratio["started_there"] == [1]
    bc = [{**run, "method": "bc"} for run in inril]
    assert "steps_ratio_vs_rl" not in summarize(runs + bc, threshold=0.6, metric="success")["methods"]["bc"]


@pytest.mark.slow
def test_every_method_of_a_seed_is_evaluated_on_the_same_episodes(tmp_path):
    # Lift (dense reward: the return sees every difference): each process builds its own envs, and
    # robosuite draws the cube's size when it builds one.
    # The evaluations are seeded (the model is rebuilt from the seed), so the step-0 evaluation of
    # the shared BC start is the same for every method of a seed, episode for episode.
    methods = ["bc", "rl", "bc_reg", "inril"]
    command = [
        sys.executable, os.path.join(ROOT, "scripts", "compare.py"), "--env", "robomimic/Lift-v0",
        "--env-kwargs", '{"horizon": 25, "reward_type": "dense"}', "--demos", "scripted", "--metric", "success", "--methods", *methods,
        "--seeds", "2", "--timesteps", "64", "--eval-freq", "64", "--eval-episodes", "4", "--pretrain-epochs", "5",
        "--jobs", "2", "--algo-kwargs", '{"n_steps": 32, "batch_size": 16, "n_epochs": 1}', "--out", str(tmp_path),
    ]  # fmt: skip
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONWARNINGS="ignore", MUJOCO_GL="egl")
    result = subprocess.run(command, capture_output=True, text=True, env=env, cwd=ROOT)
    assert result.returncode == 0, result.stderr[-3000:]
    starts: dict[int, set] = {}
    for method in methods:
        for seed in (0, 1):
            run = json.load(open(tmp_path / "runs" / f"{method}_s{seed}.json"))
            starts.setdefault(seed, set()).add(tuple(run["curve"][0][1:]))  # return mean, std, success rate
    assert all(len(points) == 1 for points in starts.values()), starts


def test_one_env_keeps_the_zoo_entrys_rollout_size():
    from scripts.compare import algo_kwargs, pretrain_kwargs

    # The Lift entry runs 4 envs of 512 steps; compare.py's one env collects the same 2048 per rollout.
    config = {"algo": "ppo", "env": "robomimic/Lift-v0", "algo_kwargs": {}}
    assert algo_kwargs(config)["n_steps"] == 2048 and "n_envs" not in algo_kwargs(config)
    assert algo_kwargs({**config, "algo_kwargs": {"n_steps": 64}})["n_steps"] == 64  # given: as given
    assert algo_kwargs({**config, "env": "Hopper-v5"})["n_steps"] == 2048  # one env in the entry
    # Given policy_kwargs update the entry's key by key (the entry's net_arch stays unless given).
    entry_arch = algo_kwargs(config)["policy_kwargs"]["net_arch"]
    given = algo_kwargs({**config, "algo_kwargs": {"policy_kwargs": {"base_chunk_size": 4}}})["policy_kwargs"]
    assert given == {"net_arch": entry_arch, "base_chunk_size": 4}
    arch = {"pi": [], "vf": [8]}
    assert algo_kwargs({**config, "algo_kwargs": {"policy_kwargs": {"net_arch": arch}}})["policy_kwargs"]["net_arch"] == arch
    assert pretrain_kwargs(config)["log_std"] == -2.0  # the zoo entry's (the recipe) when none is given
    assert pretrain_kwargs({**config, "pretrain_log_std": -1.0})["log_std"] == -1.0
    # The command line always gives one: -1.0, the BC start of every committed result.
    from scripts.compare import make_parser

    assert make_parser().parse_args(["--out", "unused"]).pretrain_log_std == -1.0


def test_method_names_with_an_exploration_std():
    from scripts.compare import exploration_log_std, method_kwargs

    assert exploration_log_std("rl") == ("rl", None)
    assert exploration_log_std("rl_logstd-2") == ("rl", -2.0)
    assert exploration_log_std("inril_m2_logstd-2.5_warmup") == ("inril_m2_warmup", -2.5)
    assert exploration_log_std("bc_reg_logstd0") == ("bc_reg", 0.0)
    assert method_kwargs("inril_m2_logstd-2", 10) == {"il_interval": 2}
    assert method_kwargs("inril_m2_logstd-2_warmup", 10, 3) == {"il_interval": 2, "critic_warmup_steps": 3}
    for bad in ("rl_logstd", "rl_logstdx", "rl_warmup_logstd-2", "_logstd-2"):
        with pytest.raises(ValueError, match="unknown method"):
            method_kwargs(bad, 10)


def test_an_exploration_std_needs_a_state_independent_log_std(capsys):
    from scripts.compare import main

    for extra in (["--algo", "sac"], ["--policy", "DiffusionPolicy"]):
        with pytest.raises(SystemExit):
            main(["--env", "Pendulum-v1", *extra, "--methods", "rl", "rl_logstd-2", "--out", "unused"])
        assert "rl_logstd-2 sets the state-independent log_std" in capsys.readouterr().err


def test_the_exploration_std_modifier_equals_setting_it_after_bc():
    # rl_logstd-2 sets log_std after loading the seed's BC start; the same run from a BC start saved
    # with --pretrain-log-std -2 is identical, step for step (the two ways give one policy).
    from scripts.compare import pretrain_start, run_one

    config = dict(TINY_PENDULUM_SWEEP)
    _, usual = pretrain_start(config, 0)
    _, narrow = pretrain_start({**config, "pretrain_log_std": -2.0}, 0)
    for method in ("rl", "inril_m2"):
        modified = run_one(f"{method}_logstd-2", 0, config, usual)
        saved = run_one(method, 0, config, narrow)
        plain = run_one(method, 0, config, usual)
        assert modified["curve"] == saved["curve"] and modified["curve"][0] == plain["curve"][0]
        assert modified["curve"] != plain["curve"]  # the std changes the rollouts
        assert modified["diagnostics"][0]["std"] == pytest.approx(np.exp(-2.0), rel=0.05)
        assert plain["diagnostics"][0]["std"] == pytest.approx(np.exp(-1.0), rel=0.05)


def test_bc_reg_fade_runs_a_weight_that_fades_to_zero(monkeypatch):
    from scripts import compare
    from scripts.compare import method_kwargs, pretrain_start, run_one

    assert method_kwargs("bc_reg_fade_logstd-2_warmup", 10, 3) == {"il_interval": None, "critic_warmup_steps": 3}
    made = []

    class Recorded(compare.BCRegularization):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            made.append(self)

    monkeypatch.setattr(compare, "BCRegularization", Recorded)
    config = dict(TINY_PENDULUM_SWEEP, bc_weight=0.3)
    _, start = pretrain_start(config, 0)
    fixed, fading = run_one("bc_reg", 0, config, start), run_one("bc_reg_fade", 0, config, start)
    run_one("bc_reg_fade_logstd-2", 0, config, start)  # the modifier keeps the fading weight
    assert made[0].weight == 0.3 and made[0]._last_weight == 0.3
    for callback in made[1:]:
        assert callback.weight(1.0) == pytest.approx(0.3) and callback.weight(0.5) == pytest.approx(0.15)
        assert callback._last_weight == 0.0  # the last update, at the end of the budget, had no BC term
    # Same std, same start: only the weight differs, and it changes the run.
    assert fixed["curve"][0] == fading["curve"][0] and fixed["curve"] != fading["curve"]


def test_the_floor_methods_drive_their_imitation_strength(monkeypatch):
    from scripts import compare
    from scripts.compare import method_kwargs, pretrain_start, run_one

    assert method_kwargs("inril_floor_logstd-2", 2) == {"il_interval": 2}
    assert method_kwargs("bc_reg_floor_warmup", 10, 3) == {"il_interval": None, "critic_warmup_steps": 3}
    made = []

    class Recorded(compare.PerformanceFloor):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            made.append(self)

    monkeypatch.setattr(compare, "PerformanceFloor", Recorded)
    # Episodes of Pendulum last 200 steps: 640 steps finish 3, the first (window 1) is the reference.
    config = dict(TINY_PENDULUM_SWEEP, timesteps=640, eval_freq=320, floor_window=1, floor_tolerance=0.05, floor_rate=2.0)
    _, start = pretrain_start(config, 0)
    inril, bc_reg = run_one("inril_floor", 0, config, start), run_one("bc_reg_floor", 0, config, start)
    assert made[0].bc_regularization is None and isinstance(made[1].bc_regularization, compare.BCRegularization)
    assert made[0].window == 1 and made[0].multiplier_rate == 2.0 and made[0].tolerance == 0.05
    for run, floor in zip((inril, bc_reg), made):
        assert [row["timesteps"] for row in run["floor"]] == [224.0, 416.0, 608.0]  # the rollouts that ended an episode
        assert run["floor"] == json.loads(json.dumps(floor.history))
    # From m = 2 (strength 0.5), one step at the start's own level (violation -0.05): 0.5 - 2.0 * 0.05.
    assert inril["floor"][0]["strength"] == pytest.approx(0.4) and inril["floor"][0]["il_rate"] == 0.5  # m = round(2.5)
    assert bc_reg["floor"][0]["strength"] == pytest.approx(0.1 - 2.0 * 0.05)  # from --bc-weight 0.1


def test_the_guard_modifier_runs_a_rollback_guard_before_the_curve():
    from scripts.compare import exploration_log_std, method_kwargs, pretrain_start, run_one, summarize

    assert exploration_log_std("inril_m2_logstd-2_warmup_guard") == ("inril_m2_warmup", -2.0)
    assert method_kwargs("inril_floor_warmup_guard", 2, 3) == {"il_interval": 2, "critic_warmup_steps": 3}
    with pytest.raises(ValueError, match="unknown method"):
        method_kwargs("rl_guard_warmup", 10)  # _guard comes last
    config = dict(TINY_PENDULUM_SWEEP, timesteps=128, eval_freq=64, guard_episodes=1, floor_tolerance=0.05)
    _, start = pretrain_start(config, 0)
    run = run_one("rl_guard", 0, config, start)
    guard = run["guard"]
    assert [row["timesteps"] for row in guard["evaluations"]] == [0.0, 64.0, 128.0]
    assert guard["eval_env_steps"] == 3 * 200  # three one-episode evaluations of Pendulum's 200 steps
    assert guard["n_rollbacks"] == sum(row["rolled_back"] for row in guard["evaluations"])
    summary = summarize([run], threshold=None)
    assert summary["methods"]["rl_guard"]["guard_eval_env_steps"][0] == 600.0


def test_bad_floor_and_guard_settings_fail_before_any_run(tmp_path, capsys):
    from scripts.compare import main

    for extra, message in (
        (["--floor-tolerance", "1.5"], "tolerance: expected a finite value in [0.0, 1.0], found 1.5"),
        (["--floor-window", "0"], "window: expected a positive int, found 0"),
        (["--floor-decay-rate", "0"], "decay_rate: expected a finite value in (0.0, inf), found 0.0"),
        (["--guard-episodes", "0"], "--guard-episodes: expected a positive int or None, found 0"),
        (["--final-eval-episodes", "-3"], "--final-eval-episodes: expected a positive int or None, found -3"),
    ):
        with pytest.raises(SystemExit):
            main(["--env", "Pendulum-v1", "--methods", "inril_floor", *extra, "--out", str(tmp_path / "out")])
        assert message in capsys.readouterr().err
        assert not (tmp_path / "out").exists()  # nothing was made


def test_a_failing_run_does_not_take_the_sweep_with_it(tmp_path, monkeypatch):
    import scripts.compare as compare

    config = {**TINY_PENDULUM_SWEEP, "out": str(tmp_path)}
    os.makedirs(tmp_path / "runs")
    original = compare.run_one

    def failing_for_rl(method, seed, config, pretrained):
        if method == "rl":
            raise ValueError("a broken run")
        return original(method, seed, config, pretrained)

    monkeypatch.setattr(compare, "run_one", failing_for_rl)
    with pytest.raises(RuntimeError, match=r"1 of 3 runs failed(.|\n)*rl seed 0(.|\n)*ValueError: a broken run"):
        compare.run_sweep(config, [("bc", 0), ("rl", 0), ("inril", 0)], jobs=1, num_threads=1, ray_address=None)
    # The runs before and after the failing one are written (a resumed sweep redoes only the failed one).
    assert sorted(os.listdir(tmp_path / "runs")) == ["bc_s0.json", "inril_s0.json"]
