"""scripts/aggregate.py --reference: fixed reference returns (random, expert) for return tasks, the
success rate as it is, against hand-computed values; the probability of improvement does not change."""

import json

import numpy as np
import pytest

from scripts.aggregate import aggregate, main, normalised_scores, read_task
from tests.test_aggregate import write_task

REFERENCE = {"Toy-v0": {"random": -100.0, "expert": 300.0}}


def test_reference_normalisation_by_hand(tmp_path):
    runs = {
        ("rl", 0): [(0, 100.0), (10, 50.0), (20, 90.0)],
        ("rl", 1): [(0, 100.0), (10, 120.0), (20, 110.0)],
        ("inril", 0): [(0, 100.0), (10, 100.0), (20, 150.0)],
        ("inril", 1): [(0, 100.0), (10, 200.0), (20, 250.0)],
    }
    write_task(tmp_path / "a", "return", runs, config={"env": "Toy-v0", "algo": "ppo"})
    scores = normalised_scores(read_task(str(tmp_path / "a")), REFERENCE)
    assert scores["zero"] == -100.0 and scores["scale"] == 400.0 and scores["start"] == 100.0
    np.testing.assert_allclose(scores["final"]["rl"], [190 / 400, 210 / 400])
    np.testing.assert_allclose(scores["lowest"]["rl"], [150 / 400, 200 / 400])
    np.testing.assert_allclose(scores["final"]["inril"], [250 / 400, 350 / 400])
    # A success task keeps its rates: zero 0, scale 1 (no env needed).
    write_task(tmp_path / "b", "success", {("rl", 0): [(0, 0.4), (10, 0.1)], ("inril", 0): [(0, 0.4), (10, 0.9)]})
    scores = normalised_scores(read_task(str(tmp_path / "b")), REFERENCE)
    assert (scores["zero"], scores["scale"]) == (0.0, 1.0)
    np.testing.assert_allclose(scores["final"]["inril"], [0.9])
    # Both normalisations are affine per task: the probability of improvement is the same under either.
    plain = aggregate([str(tmp_path / "a"), str(tmp_path / "b")], n_resamples=50)
    ref = aggregate([str(tmp_path / "a"), str(tmp_path / "b")], n_resamples=50, reference=REFERENCE)
    assert ref["normalisation"] == "reference" and plain["normalisation"] == "bc_start_best_final"
    assert ref["probability_of_improvement"] == plain["probability_of_improvement"]
    assert ref["methods"]["inril"]["final_mean"][0] == pytest.approx(np.mean([250 / 400, 350 / 400, 0.9]))


def test_reference_needs_every_return_tasks_env(tmp_path):
    write_task(tmp_path / "a", "return", {("rl", 0): [(0, 1.0), (1, 2.0)]}, config={"env": "Other-v0"})
    with pytest.raises(ValueError, match=r"--reference expected returns for its env 'Other-v0'"):
        aggregate([str(tmp_path / "a")], n_resamples=10, reference=REFERENCE)


def test_cli_reads_the_reference_file(tmp_path):
    write_task(tmp_path / "a", "return", {("rl", 0): [(0, 100.0), (1, 140.0)]}, config={"env": "Toy-v0"})
    with open(tmp_path / "ref.json", "w") as file:
        json.dump({"envs": REFERENCE}, file)
    result = main(
        [str(tmp_path / "a"), "--reference", str(tmp_path / "ref.json"), "--n-resamples", "10", "--out", str(tmp_path / "out")]
    )
    assert result["methods"]["rl"]["final_mean"][0] == pytest.approx(240 / 400)
    assert "0 = a random policy's return, 1 = the expert's" in (tmp_path / "out" / "aggregate.md").read_text()
