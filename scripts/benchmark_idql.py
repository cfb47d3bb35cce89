"""What IDQL costs against SAC of the same width, and where its time goes.

For SAC and for IDQL with T = 5, 10, 20 DDPM denoising steps (N = 10 candidates per observation),
in one run and interleaved over repeats so that a change of load hits all alike:

- env steps per second while acting and storing (``collect_rollouts`` with no training: policy +
  env + replay buffer): IDQL's policy runs the chain over N candidates and scores them with the
  target critics, SAC's one actor pass;
- time per gradient update (``train(gradient_steps, batch_size)``): SAC's critic + actor +
  entropy step, IDQL's V + twin Q + denoising step;
- memory per stored transition: the replay buffer's arrays divided by its capacity (the same
  layout for both: observations, next observations, actions, rewards, dones);
- the FLOP count's ratio of one action (N x T denoiser passes + N critic passes, against one actor
  pass), to compare the measured ratio with: batching the N candidates into one pass per denoising
  step is what keeps the measured ratio below it.

Ratios are against SAC in the same run. ``--device cuda`` (or ``auto`` where a GPU is present)
measures on the GPU; the env always runs on the CPU.

Example::

    OMP_NUM_THREADS=1 python scripts/benchmark_idql.py --env Hopper-v5 --repeats 3 \
        --out docs/benchmarks/idql_cost.json
"""

import argparse
import json
import os
import platform
import time
from typing import Any

import numpy as np
import torch as th
from stable_baselines3 import SAC
from stable_baselines3.common.off_policy_algorithm import OffPolicyAlgorithm
from stable_baselines3.common.type_aliases import TrainFreq, TrainFrequencyUnit
from tqdm.auto import tqdm

from sb3_inril import IDQL
from sb3_inril.parallel import add_num_threads_argument, apply_num_threads, resolve_num_threads


def make_model(denoising_steps: int | None, args: argparse.Namespace) -> OffPolicyAlgorithm:
    width = [args.width] * args.depth
    common: dict[str, Any] = dict(
        learning_starts=0, batch_size=args.batch_size, buffer_size=args.buffer_size, seed=0, device=args.device
    )
    if denoising_steps is None:
        return SAC("MlpPolicy", args.env, policy_kwargs=dict(net_arch=width), **common)
    policy_kwargs = dict(
        denoising_steps=denoising_steps,
        n_action_samples=args.n_action_samples,
        net_arch=dict(pi=width, qf=width, vf=width),
    )
    return IDQL("MlpPolicy", args.env, policy_kwargs=policy_kwargs, **common)


def linear_flops(module: th.nn.Module) -> int:
    """Multiply-adds of one forward pass of a module's linear layers, per row."""
    return sum(layer.in_features * layer.out_features for layer in module.modules() if isinstance(layer, th.nn.Linear))


def action_flop_ratio(idql: IDQL, sac: SAC, n_action_samples: int) -> float:
    """FLOPs of one IDQL action (N x T denoiser passes, N passes of each target critic, one of V)
    over one SAC action (one actor pass)."""
    denoiser = linear_flops(idql.actor.denoiser)
    critic = linear_flops(idql.critic_target)
    value = linear_flops(idql.value_net)
    steps = idql.actor.denoising_steps
    return (n_action_samples * (steps * denoiser + critic) + value) / linear_flops(sac.actor)


def replay_bytes_per_transition(model: OffPolicyAlgorithm) -> float:
    buffer = model.replay_buffer
    assert buffer is not None
    arrays = [value for value in vars(buffer).values() if isinstance(value, np.ndarray)]
    for name in ("observations", "next_observations"):
        value = getattr(buffer, name, None)
        if isinstance(value, dict):
            arrays += list(value.values())
    return sum(array.nbytes for array in arrays) / (buffer.buffer_size * buffer.n_envs)


def measure(model: OffPolicyAlgorithm, args: argparse.Namespace) -> dict[str, float]:
    _, callback = model._setup_learn(args.collect_steps, callback=None)
    callback.on_training_start(locals(), globals())
    assert model.env is not None and model.replay_buffer is not None
    start = time.perf_counter()
    model.collect_rollouts(
        model.env,
        callback,
        TrainFreq(args.collect_steps, TrainFrequencyUnit.STEP),
        model.replay_buffer,
        learning_starts=0,
    )
    collect = time.perf_counter() - start
    start = time.perf_counter()
    model.train(gradient_steps=args.gradient_steps, batch_size=args.batch_size)
    if model.device.type == "cuda":
        th.cuda.synchronize()
    update = time.perf_counter() - start
    return {"env_steps_per_s": args.collect_steps / collect, "update_ms": 1000 * update / args.gradient_steps}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--env", default="Hopper-v5")
    parser.add_argument("--steps", type=int, nargs="+", default=[5, 10, 20], help="denoising steps T to measure")
    parser.add_argument("--n-action-samples", type=int, default=10, help="N, IDQL's candidates per observation")
    parser.add_argument("--width", type=int, default=256)
    parser.add_argument("--depth", type=int, default=2)
    parser.add_argument("--collect-steps", type=int, default=500, help="env steps acted per measurement")
    parser.add_argument("--gradient-steps", type=int, default=50, help="gradient updates per measurement")
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--buffer-size", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--device", default="cpu")
    add_num_threads_argument(parser)
    parser.add_argument("--out", default=None)
    args = parser.parse_args(argv)
    args.num_threads = resolve_num_threads(args.num_threads)
    apply_num_threads(args.num_threads)
    models: dict[str, OffPolicyAlgorithm] = {"sac": make_model(None, args)}
    models.update({f"idql_T{steps}": make_model(steps, args) for steps in args.steps})
    samples: dict[str, list[dict[str, float]]] = {name: [] for name in models}
    for _ in tqdm(range(args.repeats), desc="repeats"):
        for name, model in models.items():  # interleaved: load changes hit every model alike
            samples[name].append(measure(model, args))
    sac = models["sac"]
    assert isinstance(sac, SAC)
    keys = ("env_steps_per_s", "update_ms")
    base = {key: float(np.median([s[key] for s in samples["sac"]])) for key in keys}
    rows = {}
    for name, model in models.items():
        median = {key: float(np.median([s[key] for s in samples[name]])) for key in keys}
        rows[name] = {
            **median,
            "env_steps_per_s_ratio": median["env_steps_per_s"] / base["env_steps_per_s"],
            "update_time_ratio": median["update_ms"] / base["update_ms"],
            "replay_bytes_per_transition": replay_bytes_per_transition(model),
            "replay_bytes_ratio": replay_bytes_per_transition(model) / replay_bytes_per_transition(sac),
            "action_flop_ratio": action_flop_ratio(model, sac, args.n_action_samples) if isinstance(model, IDQL) else 1.0,
            "denoising_steps": model.actor.denoising_steps if isinstance(model, IDQL) else 0,
        }
    result = {
        "config": {**vars(args), "machine": platform.processor() or platform.machine(), "cpus": os.cpu_count()},
        "device": str(sac.device),
        "results": rows,
    }
    print(f"{'model':<10} {'env steps/s':>12} {'ratio':>7} {'FLOP ratio':>11} {'update ms':>10} {'ratio':>7} {'bytes':>7}")
    for name, row in rows.items():
        print(
            f"{name:<10} {row['env_steps_per_s']:>12.0f} {row['env_steps_per_s_ratio']:>7.3f} "
            f"{1 / row['action_flop_ratio']:>11.3f} {row['update_ms']:>10.2f} {row['update_time_ratio']:>7.2f} "
            f"{row['replay_bytes_per_transition']:>7.0f}"
        )
    if args.out:
        os.makedirs(os.path.dirname(args.out) or ".", exist_ok=True)
        with open(args.out, "w") as file:
            json.dump(result, file, indent=2)
    return result


if __name__ == "__main__":
    main()
