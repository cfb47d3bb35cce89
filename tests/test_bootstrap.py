"""The one percentile bootstrap of the programs (scripts/bootstrap.py)."""

import numpy as np
import pytest

from scripts.bootstrap import bootstrap_mean_ci, percentile_bootstrap, percentile_interval


def test_the_mean_interval_equals_a_hand_made_bootstrap():
    values = np.array([3.0, -1.0, 4.0, 1.0, 5.0, 9.0, 2.0, 6.0, 5.0, 3.0])
    rng = np.random.default_rng(0)
    means = np.array([values[rng.integers(0, 10, 10)].mean() for _ in range(2000)])
    point, low, high = bootstrap_mean_ci(values)
    assert point == values.mean()
    assert low == pytest.approx(np.percentile(means, 2.5), abs=1e-12)
    assert high == pytest.approx(np.percentile(means, 97.5), abs=1e-12)


def test_the_mean_case_is_the_one_group_case_of_the_general_bootstrap():
    values = np.random.default_rng(3).normal(size=7)
    general = percentile_bootstrap([values], lambda groups: groups[0].mean())
    assert bootstrap_mean_ci(values) == pytest.approx(general, abs=1e-12)


def test_non_finite_values_are_left_out_and_nothing_left_gives_nan():
    assert bootstrap_mean_ci(np.array([1.0, np.nan, 3.0, np.inf])) == bootstrap_mean_ci(np.array([1.0, 3.0]))
    assert all(np.isnan(bootstrap_mean_ci(np.array([np.nan]))))


def test_a_shared_generator_moves_on_between_intervals():
    values = np.random.default_rng(1).normal(size=5)
    rng = np.random.default_rng(0)
    first, second = bootstrap_mean_ci(values, rng=rng), bootstrap_mean_ci(values, rng=rng)
    assert first != second and first == bootstrap_mean_ci(values, rng=0)


def test_the_95_percent_interval_is_the_2_5th_and_97_5th_percentiles():
    samples = np.arange(1001.0)
    assert percentile_interval(samples) == (25.0, 975.0)
    assert percentile_interval(samples, 0.9) == (50.0, 950.0)


def test_groups_are_resampled_within_themselves():
    # Two groups of constants: any resample keeps each group's value, so the interval is a point.
    groups = [np.full(4, 1.0), np.full(6, 3.0)]
    assert percentile_bootstrap(groups, lambda g: float(np.concatenate(g).mean())) == (2.2, 2.2, 2.2)
    with pytest.raises(ValueError, match="at least one value in every group"):
        percentile_bootstrap([np.ones(3), np.array([])], lambda g: 0.0)
