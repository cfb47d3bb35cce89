"""BC pre-training throughput, quiet and with one busy process beside it: the thread rule against torch's default.

Each measurement is a fresh process that builds an InRILPPO on the shipped demonstrations and runs
``pretrain(n_steps=--steps)``, timed around ``pretrain`` alone. Four conditions, interleaved in
every round so that a slow moment of the machine hits them alike:

- ``rule``: the thread rule of the entry points (``--num-threads``, else ``$OMP_NUM_THREADS``, else 1;
  ``sb3_inril.parallel``), quiet and loaded;
- ``default``: torch's default threads (``OMP_NUM_THREADS`` removed from the child's environment),
  quiet and loaded;
- ``python``: the floor, a single-threaded pure-Python loop (no torch): the loaded/quiet ratio that
  any one thread gets on this machine; where the machine is shared with work this script cannot see,
  it is above 1 and bounds what a thread rule can reach.

"Loaded" runs one CPU-burning process (a Python busy loop) beside the measured one, started before it
and stopped after it. Reported: the median over rounds of the loaded/quiet time ratio of each mode
(target for the rule: at most 1.5) and the default/rule ratio of the loaded times.

Example::

    python scripts/benchmark_threads.py --env Hopper-v5 --steps 1000 --rounds 3 --out docs/benchmarks/threads.json
"""

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from typing import Any

from tqdm.auto import tqdm

from sb3_inril.parallel import THREADS_VARIABLE, add_num_threads_argument, apply_num_threads, resolve_num_threads

BUSY_LOOP = "while True:\n    pass\n"
MODES = ("rule", "default", "python")
# The floor: a single-threaded pure-Python loop, no torch. Its loaded/quiet ratio is what any one
# thread gets on this machine when one more process competes for the cores.
PYTHON_ITERATIONS = 20_000_000


def child(args: argparse.Namespace) -> None:
    """One measurement, in this (fresh) process; prints a JSON line."""
    if args.mode == "python":
        start = time.perf_counter()
        total = 0
        for i in range(PYTHON_ITERATIONS):
            total += i
        print(json.dumps({"mode": args.mode, "threads": 1, "time_s": time.perf_counter() - start}))
        return
    if args.mode == "rule":
        apply_num_threads(resolve_num_threads(args.num_threads))
    import torch as th

    from sb3_inril import InRILPPO
    from sb3_inril.data import demonstration_path

    model = InRILPPO(
        "MlpPolicy", args.env, demonstrations=demonstration_path(args.env, args.demos), seed=0, device="cpu", verbose=0
    )
    start = time.perf_counter()
    model.pretrain(n_steps=args.steps)
    elapsed = time.perf_counter() - start
    print(json.dumps({"mode": args.mode, "threads": th.get_num_threads(), "time_s": elapsed}))


def measure(args: argparse.Namespace, mode: str, loaded: bool) -> dict[str, Any]:
    """A fresh process for one measurement, with the busy process beside it when ``loaded``."""
    environment = dict(os.environ, PYTHONWARNINGS="ignore")
    if mode == "default":
        environment.pop(THREADS_VARIABLE, None)
    command = [sys.executable, os.path.abspath(__file__), "--child", "--mode", mode, "--env", args.env]
    command += ["--demos", args.demos, "--steps", str(args.steps)]
    if args.num_threads is not None:
        command += ["--num-threads", str(args.num_threads)]
    busy = subprocess.Popen([sys.executable, "-c", BUSY_LOOP]) if loaded else None
    try:
        result = subprocess.run(command, capture_output=True, text=True, env=environment, timeout=args.timeout)
    finally:
        if busy is not None:
            busy.kill()
            busy.wait()
    if result.returncode != 0:
        raise RuntimeError(f"measurement failed ({mode}, loaded={loaded}):\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--env", default="Hopper-v5")
    parser.add_argument("--demos", default="expert", help="shipped flavour of --env")
    parser.add_argument("--steps", type=int, default=1000, help="BC gradient steps per measurement")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--modes", nargs="+", choices=MODES, default=list(MODES), help="which of rule, default, python (all by default)"
    )
    parser.add_argument("--timeout", type=float, default=900, help="seconds before a measurement is given up")
    parser.add_argument("--out", default=None, help="write the results as JSON here")
    add_num_threads_argument(parser)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--mode", choices=MODES, default="rule", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return

    load_before = os.getloadavg()
    modes = [mode for mode in MODES if mode in args.modes]
    times: dict[tuple[str, bool], list[float]] = {(mode, loaded): [] for mode in modes for loaded in (False, True)}
    threads: dict[str, int] = {}
    with tqdm(total=args.rounds * len(times), desc="measurements") as bar:
        for _ in range(args.rounds):
            for mode, loaded in times:
                row = measure(args, mode, loaded)
                times[(mode, loaded)].append(row["time_s"])
                threads[mode] = row["threads"]
                bar.set_postfix(mode=mode, loaded=loaded, seconds=round(row["time_s"], 1))
                bar.update(1)

    def ratios(numerator: tuple[str, bool], denominator: tuple[str, bool]) -> list[float]:
        return [a / b for a, b in zip(times[numerator], times[denominator])]

    results: dict[str, Any] = {}
    for mode in modes:
        loaded_ratios = ratios((mode, True), (mode, False))
        results[mode] = {
            "threads": threads[mode],
            "quiet_s": times[(mode, False)],
            "loaded_s": times[(mode, True)],
            "steps_per_s_quiet_median": args.steps / statistics.median(times[(mode, False)]),
            "steps_per_s_loaded_median": args.steps / statistics.median(times[(mode, True)]),
            "loaded_over_quiet": loaded_ratios,
            "loaded_over_quiet_median": statistics.median(loaded_ratios),
        }
    report = {
        "env": args.env,
        "demos": args.demos,
        "steps": args.steps,
        "rounds": args.rounds,
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, python {platform.python_version()}",
        "load_average_before": load_before,
        "command": "python scripts/benchmark_threads.py " + " ".join(sys.argv[1:]),
        "results": results,
    }
    if "rule" in results and "default" in results:
        report["loaded_default_over_loaded_rule_median"] = statistics.median(ratios(("default", True), ("rule", True)))
    if "rule" in results:
        report["target_met"] = results["rule"]["loaded_over_quiet_median"] <= 1.5
    print(f"\n{'mode':<8} {'threads':>7} {'quiet s':>8} {'loaded s':>9} {'loaded/quiet (median)':>22}  each round")
    for mode in modes:
        row = results[mode]
        print(
            f"{mode:<8} {row['threads']:>7} {statistics.median(row['quiet_s']):>8.2f} "
            f"{statistics.median(row['loaded_s']):>9.2f} {row['loaded_over_quiet_median']:>22.2f}  "
            + ", ".join(f"{value:.2f}" for value in row["loaded_over_quiet"])
        )
    if "loaded_default_over_loaded_rule_median" in report:
        print(f"loaded, default threads / rule: {report['loaded_default_over_loaded_rule_median']:.2f} (median)")
    if "target_met" in report:
        print(f"target (rule, loaded within 1.5x of quiet): {'met' if report['target_met'] else 'NOT met'}")
    if args.out:
        os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
        with open(args.out, "w") as file:
            json.dump(report, file, indent=2)


if __name__ == "__main__":
    main()
