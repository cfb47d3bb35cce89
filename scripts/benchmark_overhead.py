"""Wall-time (and peak-memory) ratio of IN-RIL variants against their plain SB3 algorithm.

Every variant runs the same number of environment steps on the same env and seed; the runs are
interleaved (plain, variant, plain, variant, ...) and repeated, and the median ratio is reported,
so that a slow moment of the machine hits both sides. Each run goes in a fresh process (so that
peaks do not mix) with ``--num-threads`` torch threads (default: ``$OMP_NUM_THREADS`` if set, else 1);
with ``--ray-address`` each run is a Ray task on that cluster instead (one at a time, as locally: a
ratio compares two runs on the same kind of node).

Example::

    python scripts/benchmark_overhead.py --env Hopper-v5 --ppo-steps 20480 --sac-steps 3000 --repeats 3 \
        --out docs/benchmarks/overhead.json
"""

import argparse
import json
import os
import platform
import resource
import statistics
import time
from typing import Any

import gymnasium as gym
import torch as th
from sb3_contrib import TQC
from stable_baselines3 import PPO, SAC
from tqdm.auto import tqdm

from sb3_inril import InRILPPO, InRILSAC, InRILTQC
from sb3_inril.data import SHIPPED_PREFIX
from sb3_inril.parallel import (
    add_num_threads_argument,
    add_ray_address_argument,
    apply_num_threads,
    resolve_num_threads,
    run_tasks,
)

VARIANTS: dict[str, list[tuple[str, dict[str, Any]]]] = {
    "ppo": [
        ("InRILPPO m=10", dict(il_interval=10)),
        ("InRILPPO m=10 + surgery", dict(il_interval=10, gradient_separation="surgery")),
        ("InRILPPO m=10 + residual", dict(il_interval=10, gradient_separation="residual")),
        ("InRILPPO adaptive m", dict(il_interval="adaptive")),
    ],
    "sac": [
        ("InRILSAC m=10", dict(il_interval=10)),
        ("InRILSAC m=10 + surgery", dict(il_interval=10, gradient_separation="surgery")),
        ("InRILSAC m=10 + residual", dict(il_interval=10, gradient_separation="residual")),
        ("InRILSAC adaptive m", dict(il_interval="adaptive")),
    ],
    "tqc": [
        ("InRILTQC m=10", dict(il_interval=10)),
        ("InRILTQC m=10 + surgery", dict(il_interval=10, gradient_separation="surgery")),
    ],
}


def _run_in_child(model_class, kwargs: dict, steps: int) -> tuple[float, float]:
    env_id = kwargs.pop("env_id")
    model = model_class("MlpPolicy", gym.make(env_id), **kwargs)
    start = time.perf_counter()
    model.learn(steps)
    elapsed = time.perf_counter() - start
    return elapsed, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB -> MiB (Linux)


def timed_run(model_class, kwargs: dict, steps: int, num_threads: int, ray_address: str | None = None) -> tuple[float, float]:
    """Wall time of ``learn`` and peak resident memory, in a fresh process (so peaks do not mix)."""
    task = (model_class, kwargs, steps)
    [(_, result)] = run_tasks(_run_in_child, [task], num_threads=num_threads, ray_address=ray_address, fresh_process=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--env", default="Hopper-v5")
    parser.add_argument("--ppo-steps", type=int, default=20_480)
    parser.add_argument("--sac-steps", type=int, default=3_000, help="environment steps for SAC and TQC")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=None, help="write the results as JSON here")
    add_num_threads_argument(parser)
    add_ray_address_argument(parser)
    args = parser.parse_args()
    num_threads = resolve_num_threads(args.num_threads)
    apply_num_threads(num_threads)  # a program: this process and its workers take the rule
    timed = dict(num_threads=num_threads, ray_address=args.ray_address)
    demos = f"{SHIPPED_PREFIX}{args.env}/expert"  # found in the installed package of whichever node runs it
    common = dict(seed=args.seed, device="cpu")
    bases = {
        "ppo": (PPO, InRILPPO, args.ppo_steps, dict(n_steps=2048, batch_size=64)),
        "sac": (SAC, InRILSAC, args.sac_steps, dict(learning_starts=500)),
        "tqc": (TQC, InRILTQC, args.sac_steps, dict(learning_starts=500)),
    }
    results = []
    total = args.repeats * sum(len(v) * 2 for v in VARIANTS.values())
    bar = tqdm(total=total, desc="runs")
    for key, (base_class, inril_class, steps, kwargs) in bases.items():
        for name, inril_kwargs in VARIANTS[key]:
            times, base_times, peaks, base_peaks = [], [], [], []
            for _ in range(args.repeats):
                base_time, base_peak = timed_run(base_class, dict(env_id=args.env, **kwargs, **common), steps, **timed)
                bar.update(1)
                inril_time, inril_peak = timed_run(
                    inril_class,
                    dict(env_id=args.env, demonstrations=demos, **inril_kwargs, **kwargs, **common),
                    steps,
                    **timed,
                )
                bar.update(1)
                times.append(inril_time)
                base_times.append(base_time)
                peaks.append(inril_peak)
                base_peaks.append(base_peak)
            ratios = [t / b for t, b in zip(times, base_times)]
            results.append(
                {
                    "variant": name,
                    "base": base_class.__name__,
                    "env_steps": steps,
                    "time_ratio_median": statistics.median(ratios),
                    "time_ratios": ratios,
                    "base_time_s_median": statistics.median(base_times),
                    "variant_time_s_median": statistics.median(times),
                    "peak_rss_mib_base": max(base_peaks),
                    "peak_rss_mib_variant": max(peaks),
                }
            )
    bar.close()
    report = {
        "env": args.env,
        "repeats": args.repeats,
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, torch {th.__version__}, {num_threads} thread(s)",
        "command": "python scripts/benchmark_overhead.py "
        + " ".join(f"--{k.replace('_', '-')} {v}" for k, v in vars(args).items() if v is not None),
        "results": results,
    }
    print(f"\n{'variant':<28} {'base':<5} {'steps':>7} {'time ratio':>10} {'base s':>8} {'peak RSS MiB (base / variant)':>30}")
    for row in results:
        print(
            f"{row['variant']:<28} {row['base']:<5} {row['env_steps']:>7} {row['time_ratio_median']:>10.3f} "
            f"{row['base_time_s_median']:>8.1f} {row['peak_rss_mib_base']:>17.0f} / {row['peak_rss_mib_variant']:.0f}"
        )
    if args.out:
        os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
        with open(args.out, "w") as file:
            json.dump(report, file, indent=2)


if __name__ == "__main__":
    main()
