"""The percentile bootstrap every program reports its intervals with (one implementation).

:func:`percentile_bootstrap` resamples, within every group, as many values as the group has, with
replacement, groups in order, and takes the percentile interval of a statistic of the resampled
groups: the mean over seeds of one method is the one-group case (:func:`bootstrap_mean_ci`), the
stratified interquartile mean over tasks and the probability of improvement (``aggregate.py``) are
statistics of several groups. The draws for a group of ``n`` values are ``rng.integers(0, n, n)``,
so an interval is the same whether its resamples are drawn in a loop or all at once (the numbers
committed under ``results/`` were made both ways).
"""

from collections.abc import Callable, Sequence

import numpy as np


def percentile_bootstrap(
    groups: Sequence[np.ndarray],
    statistic: Callable[[list[np.ndarray]], float],
    n_resamples: int = 2000,
    confidence: float = 0.95,
    rng: np.random.Generator | int = 0,
) -> tuple[float, float, float]:
    """
    A statistic of groups of values and its percentile-bootstrap interval.

    :param groups: the values, one array per group (tasks, methods, ...); every group non-empty
    :param statistic: of the list of (resampled) groups, in the order given
    :param n_resamples: bootstrap resamples
    :param confidence: of the interval
    :param rng: a generator (its state moves on: several intervals drawn from one stream) or a seed
    :return: the statistic on the data, the interval's low and high ends
    """
    arrays = [np.asarray(group, dtype=float).ravel() for group in groups]
    if not arrays or any(array.size == 0 for array in arrays):
        raise ValueError("percentile_bootstrap: expected at least one value in every group")
    generator = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    point = float(statistic(arrays))
    resampled = [
        float(statistic([array[generator.integers(0, array.size, array.size)] for array in arrays]))
        for _ in range(n_resamples)
    ]
    return (point, *percentile_interval(np.asarray(resampled), confidence))


def percentile_interval(resampled: np.ndarray, confidence: float = 0.95) -> tuple[float, float]:
    """The central ``confidence`` interval of resampled statistics (the percentile bootstrap's)."""
    # Rounded: 100 * (1 - 0.95) / 2 is 2.4999999999999996 in floating point, not the 2.5th percentile.
    tail = round(100 * (1 - confidence) / 2, 9)
    return float(np.percentile(resampled, tail)), float(np.percentile(resampled, 100 - tail))


def bootstrap_mean_ci(
    values: np.ndarray, n_resamples: int = 2000, confidence: float = 0.95, rng: np.random.Generator | int = 0
) -> tuple[float, float, float]:
    """The mean of ``values`` (non-finite ones left out) and its percentile-bootstrap interval; NaNs when none is left."""
    array = np.asarray(values, dtype=float).ravel()
    array = array[np.isfinite(array)]
    if array.size == 0:
        return float("nan"), float("nan"), float("nan")
    generator = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    # All resamples at once: the same draws as percentile_bootstrap's loop over one group, and the
    # row means numpy's (its pairwise sums: what the committed summaries hold, to the last digit).
    means = array[generator.integers(0, array.size, (n_resamples, array.size))].mean(axis=1)
    return (float(array.mean()), *percentile_interval(means, confidence))
