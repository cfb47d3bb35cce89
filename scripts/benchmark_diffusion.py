"""What a diffusion policy costs against a Gaussian MLP policy of the same width, under InRILPPO.

For each policy (Gaussian MLP; diffusion with 5, 10 and 20 DDPM denoising steps, the last half
fine-tuned), in one run and interleaved over repeats so that a change of load hits all alike:

- env steps per second while collecting a rollout (``collect_rollouts``: policy + env);
- PPO update time: one ``train()`` on the full rollout (``n_epochs`` passes; a diffusion policy's
  buffer yields one sample per (env step, fine-tuned denoising step), so it takes K' times as many
  minibatches of the same size);
- memory per stored transition: the rollout buffer's arrays divided by the transitions they hold.

With ``--residual-chunks H...``, also residual PPO over a diffusion base (``ResidualDiffusionPolicy``,
T = the largest of ``--steps``, its default 5 DDIM steps when it acts) planning chunks of H: the base runs
once per H env steps, the residual every step (what amortising the base over the chunk buys).

Ratios are against the Gaussian policy in the same run. On CUDA (``--device cuda``, or ``auto``
where a GPU is present) the same figures; the env always runs on the CPU.

Example::

    OMP_NUM_THREADS=1 python scripts/benchmark_diffusion.py --env Hopper-v5 --repeats 3 \
        --out docs/benchmarks/diffusion_cost.json
"""

import argparse
import json
import os
import platform
import time
from typing import Any

import numpy as np
import torch as th
from tqdm.auto import tqdm

from sb3_inril import InRILPPO
from sb3_inril.parallel import add_num_threads_argument, apply_num_threads, resolve_num_threads


def make_model(policy: str, denoising_steps: int | None, args: argparse.Namespace, chunk: int = 1) -> InRILPPO:
    width = [args.width] * args.depth
    policy_kwargs: dict[str, Any]
    if policy == "gaussian":
        policy_name, policy_kwargs = "MlpPolicy", dict(net_arch=dict(pi=width, vf=width))
    elif policy == "residual":
        policy_name = "ResidualDiffusionPolicy"
        policy_kwargs = dict(
            base_chunk_size=chunk,
            denoising_steps=denoising_steps,
            denoiser_net_arch=width,
            residual_net_arch=width,
            net_arch=dict(pi=[], vf=width),
        )
    else:
        policy_name = "DiffusionPolicy"
        policy_kwargs = dict(denoising_steps=denoising_steps, denoiser_net_arch=width, net_arch=dict(pi=[], vf=width))
    return InRILPPO(
        policy_name,
        args.env,
        n_steps=args.n_steps,
        batch_size=args.batch_size,
        n_epochs=args.n_epochs,
        il_interval=None,
        seed=0,
        device=args.device,
        policy_kwargs=policy_kwargs,
    )


def buffer_bytes_per_transition(model: InRILPPO) -> float:
    buffer = model.rollout_buffer
    arrays = [value for value in vars(buffer).values() if isinstance(value, np.ndarray)]
    observations = buffer.observations
    if isinstance(observations, dict):
        arrays += list(observations.values())
    return sum(array.nbytes for array in arrays) / (buffer.buffer_size * buffer.n_envs)


def measure(model: InRILPPO) -> dict[str, float]:
    _, callback = model._setup_learn(model.n_steps, callback=None)
    callback.on_training_start(locals(), globals())
    start = time.perf_counter()
    assert model.env is not None
    model.collect_rollouts(model.env, callback, model.rollout_buffer, n_rollout_steps=model.n_steps)
    collect = time.perf_counter() - start
    start = time.perf_counter()
    model.train()
    if model.device.type == "cuda":
        th.cuda.synchronize()
    update = time.perf_counter() - start
    return {"env_steps_per_s": model.n_steps * model.n_envs / collect, "update_s": update}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--env", default="Hopper-v5")
    parser.add_argument("--steps", type=int, nargs="+", default=[5, 10, 20], help="denoising steps T to measure")
    parser.add_argument(
        "--residual-chunks", type=int, nargs="*", default=[], help="chunk sizes H of residual PPO over a diffusion base"
    )
    parser.add_argument("--width", type=int, default=256)
    parser.add_argument("--depth", type=int, default=2)
    parser.add_argument("--n-steps", type=int, default=512, help="rollout length")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--n-epochs", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--device", default="cpu")
    add_num_threads_argument(parser)
    parser.add_argument("--out", default=None)
    args = parser.parse_args(argv)
    args.num_threads = resolve_num_threads(args.num_threads)
    apply_num_threads(args.num_threads)
    policies = [("gaussian", None)] + [("diffusion", steps) for steps in args.steps]
    models = {f"{kind}" if steps is None else f"diffusion_T{steps}": make_model(kind, steps, args) for kind, steps in policies}
    for chunk in args.residual_chunks:
        models[f"residual_H{chunk}"] = make_model("residual", max(args.steps), args, chunk)
    samples: dict[str, list[dict[str, float]]] = {name: [] for name in models}
    for _ in tqdm(range(args.repeats), desc="repeats"):
        for name, model in models.items():  # interleaved: load changes hit every policy alike
            samples[name].append(measure(model))
    gaussian = models["gaussian"]
    base = {key: float(np.median([s[key] for s in samples["gaussian"]])) for key in ("env_steps_per_s", "update_s")}
    rows = {}
    for name, model in models.items():
        median = {key: float(np.median([s[key] for s in samples[name]])) for key in ("env_steps_per_s", "update_s")}
        rows[name] = {
            **median,
            "env_steps_per_s_ratio": median["env_steps_per_s"] / base["env_steps_per_s"],
            "update_time_ratio": median["update_s"] / base["update_s"],
            "buffer_bytes_per_transition": buffer_bytes_per_transition(model),
            "buffer_bytes_ratio": buffer_bytes_per_transition(model) / buffer_bytes_per_transition(gaussian),
            "ft_denoising_steps": getattr(model.policy, "ft_denoising_steps", 0),
            "base_chunk_size": getattr(model.policy, "base_chunk_size", None),
        }
    result = {
        "config": {**vars(args), "machine": platform.processor() or platform.machine(), "cpus": os.cpu_count()},
        "device": str(gaussian.device),
        "results": rows,
    }
    print(
        f"{'policy':<16} {'env steps/s':>12} {'ratio':>7} {'update s':>9} {'ratio':>7} {'bytes/transition':>17} {'ratio':>7}"
    )
    for name, row in rows.items():
        print(
            f"{name:<16} {row['env_steps_per_s']:>12.0f} {row['env_steps_per_s_ratio']:>7.3f} {row['update_s']:>9.3f} "
            f"{row['update_time_ratio']:>7.2f} {row['buffer_bytes_per_transition']:>17.0f} {row['buffer_bytes_ratio']:>7.2f}"
        )
    if args.out:
        os.makedirs(os.path.dirname(args.out) or ".", exist_ok=True)
        with open(args.out, "w") as file:
            json.dump(result, file, indent=2)
    return result


if __name__ == "__main__":
    main()
