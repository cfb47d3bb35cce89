"""Environment steps per second of robomimic Lift with one env against ``SubprocVecEnv`` with several.

One run measures every configuration (the baseline ``DummyVecEnv`` with one env, then
``SubprocVecEnv`` with each ``--n-envs``), interleaved and repeated (1, 2, 4, 1, 2, 4, ...) so that a
busy moment of the machine hits every configuration, and reports the median steps per second of
each and its ratio to the one-env baseline. Actions are uniform random (the simulation's cost does
not depend on the policy); every worker runs with one torch / OpenMP thread.

Example::

    python scripts/benchmark_vec_envs.py --env robomimic/Lift-v0 --n-envs 2 4 --steps 2000 --repeats 3 \
        --out docs/benchmarks/vec_envs.json
"""

import argparse
import json
import os
import platform
import statistics
import time
from typing import Any, cast

import gymnasium as gym
import numpy as np


def _make_env(env_id: str, env_kwargs: dict[str, Any], seed: int) -> Any:
    """A picklable env factory; the worker keeps one thread (robosuite's numba and torch would take every core)."""

    def make() -> gym.Env:
        import torch as th

        th.set_num_threads(1)
        import sb3_inril  # noqa: F401  (registers robomimic/<Task>-v0 in the worker)

        env = gym.make(env_id, **env_kwargs)
        env.reset(seed=seed)
        return env

    return make


def measure(env_id: str, env_kwargs: dict[str, Any], n_envs: int, subproc: bool, steps: int, seed: int) -> float:
    """Env steps per second (summed over the envs) for ``steps`` steps in total, after one warm-up step."""
    from stable_baselines3.common.vec_env import DummyVecEnv, SubprocVecEnv

    fns = [_make_env(env_id, env_kwargs, seed + index) for index in range(n_envs)]
    vec_env = SubprocVecEnv(fns) if subproc else DummyVecEnv(fns)
    try:
        rng = np.random.default_rng(seed)
        space = cast(gym.spaces.Box, vec_env.action_space)  # uniform random actions: a Box action space
        low, high = space.low, space.high
        vec_env.reset()
        vec_env.step(rng.uniform(low, high, (n_envs, *low.shape)).astype(np.float32))  # compiles numba, warms caches
        n_calls = max(1, steps // n_envs)
        actions = rng.uniform(low, high, (n_calls, n_envs, *low.shape)).astype(np.float32)
        start = time.perf_counter()
        for action in actions:
            vec_env.step(action)
        return n_calls * n_envs / (time.perf_counter() - start)
    finally:
        vec_env.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--env", default="robomimic/Lift-v0")
    parser.add_argument("--env-kwargs", default='{"horizon": 100}', help="JSON (default: the zoo's Lift horizon)")
    parser.add_argument("--n-envs", type=int, nargs="*", default=[2, 4], help="SubprocVecEnv sizes to compare")
    parser.add_argument("--steps", type=int, default=2000, help="env steps per measurement (all envs together)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=None, help="write the figures as JSON here")
    args = parser.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", "1")  # inherited by the workers
    env_kwargs = json.loads(args.env_kwargs)
    load_before = os.getloadavg()  # the other jobs on the machine: the figures mean little without it
    configs = [("DummyVecEnv", 1, False)] + [("SubprocVecEnv", n, True) for n in args.n_envs]
    rates: dict[str, list[float]] = {f"{name} n_envs={n}": [] for name, n, _ in configs}
    for repeat in range(args.repeats):
        for name, n_envs, subproc in configs:
            rate = measure(args.env, env_kwargs, n_envs, subproc, args.steps, args.seed + 100 * repeat)
            rates[f"{name} n_envs={n_envs}"].append(rate)
            print(f"repeat {repeat}: {name} n_envs={n_envs}: {rate:.1f} env steps/s", flush=True)
    baseline = statistics.median(rates["DummyVecEnv n_envs=1"])
    print(f"\n{'configuration':<26} {'median steps/s':>15} {'ratio to 1 env':>15}   all")
    results = []
    for label, values in rates.items():
        median = statistics.median(values)
        print(f"{label:<26} {median:>15.1f} {median / baseline:>15.2f}   {', '.join(f'{v:.1f}' for v in values)}")
        results.append(dict(configuration=label, median_steps_per_s=median, ratio=median / baseline, all=values))
    load_after = os.getloadavg()
    print(f"load average (1, 5, 15 min) before: {load_before}, after: {load_after} on {os.cpu_count()} cores")
    if args.out:
        info = dict(
            command="python " + " ".join(__import__("sys").argv),
            machine=platform.machine(),
            cpu_count=os.cpu_count(),
            env=args.env,
            env_kwargs=env_kwargs,
            steps=args.steps,
            repeats=args.repeats,
            load_average_before=load_before,
            load_average_after=load_after,
            results=results,
        )
        os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
        with open(args.out, "w") as file:
            json.dump(info, file, indent=2)
        print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
