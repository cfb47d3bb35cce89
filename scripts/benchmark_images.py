"""Memory and IL minibatch throughput of image demonstrations: in memory against read per minibatch.

Writes a synthetic robomimic-layout HDF5 file in a temporary directory (``--transitions`` steps of
``agentview_image``, ``--size`` x ``--size`` x 3 ``uint8``, plus the 10-value ``object`` vector and
7-value actions, in demos of ``--demo-length`` steps, uncompressed as robomimic writes by default),
then, each in a fresh process (one torch thread), builds the IN-RIL demonstration buffer

- ``memory``: ``load_demonstrations(..., observation_format="dict")``: every image in memory, as ``uint8``;
- ``lazy``: ``load_demonstrations(..., observation_format="dict", lazy=True, cache_bytes=...)``: images
  read per minibatch from the file through a cache of at most ``--cache-mb``;

and samples ``--batches`` IL minibatches of ``--batch-size`` (after ``--warmup`` ones), as an IL
step does. Reported: the peak resident memory of the process (``ru_maxrss``) against the images'
``uint8`` bytes (memory) or the cache bound (lazy), the process's memory before the buffer was
made (Python, torch, SB3), and minibatches / samples per second.

Example::

    python scripts/benchmark_images.py --transitions 100000 --size 84 --cache-mb 256 --out docs/benchmarks/images.json
"""

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from typing import Any, cast

import numpy as np

IMAGE_KEY = "agentview_image"


def current_rss_bytes() -> int:
    """Resident memory now (Linux: /proc/self/statm)."""
    with open("/proc/self/statm") as file:
        return int(file.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def write_dataset(path: str, transitions: int, size: int, demo_length: int, seed: int) -> int:
    """A robomimic-layout file with random images; returns the images' bytes."""
    import h5py

    rng = np.random.default_rng(seed)
    env_args = {"env_name": "Lift", "type": 1, "env_kwargs": {"camera_heights": size, "camera_widths": size}}
    with h5py.File(path, "w") as file:
        data = file.create_group("data")
        data.attrs["env_args"] = json.dumps(env_args)
        begin, index = 0, 0
        while begin < transitions:
            length = min(demo_length, transitions - begin)
            group = data.create_group(f"demo_{index}")
            group.create_dataset(f"obs/{IMAGE_KEY}", data=rng.integers(0, 256, (length, size, size, 3), dtype=np.uint8))
            group.create_dataset("obs/object", data=rng.normal(size=(length, 10)).astype(np.float32))
            group.create_dataset("actions", data=rng.uniform(-1, 1, (length, 7)))
            group.create_dataset("rewards", data=np.zeros(length))
            dones = np.zeros(length, dtype=np.int64)
            dones[-1] = 1
            group.create_dataset("dones", data=dones)
            group.attrs["num_samples"] = length
            begin, index = begin + length, index + 1
        data.attrs["total"] = transitions
    return transitions * size * size * 3


def child(args: argparse.Namespace) -> dict[str, Any]:
    """One mode, in this (fresh) process."""
    import gymnasium as gym
    import torch as th

    from sb3_inril import load_demonstrations
    from sb3_inril.demos.buffer import DemonstrationBuffer

    th.set_num_threads(1)
    size = args.size
    space = gym.spaces.Dict(
        {
            IMAGE_KEY: gym.spaces.Box(0, 255, (size, size, 3), np.uint8),
            "object": gym.spaces.Box(-np.inf, np.inf, (10,), np.float32),
        }
    )
    action_space = gym.spaces.Box(-1, 1, (7,), np.float32)
    before = current_rss_bytes()
    start = time.perf_counter()
    lazy = args.child == "lazy"
    demonstrations = load_demonstrations(
        args.path,
        obs_keys=[IMAGE_KEY, "object"],
        observation_format="dict",
        lazy=lazy,
        cache_bytes=int(args.cache_mb * 2**20) if lazy else None,
    )
    buffer = DemonstrationBuffer(demonstrations, space, action_space, seed=0)
    del demonstrations
    load_s = time.perf_counter() - start
    for _ in range(args.warmup):
        buffer.sample(args.batch_size)
    start = time.perf_counter()
    for _ in range(args.batches):
        batch = buffer.sample(args.batch_size)
        observations = cast(dict[str, th.Tensor], batch.observations)  # observation_format="dict"
        observations[IMAGE_KEY].float().div_(255.0)  # what the policy's preprocessing does per minibatch
    elapsed = time.perf_counter() - start
    result = dict(
        mode=args.child,
        rss_before_buffer_bytes=before,
        peak_rss_bytes=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,  # KiB on Linux
        load_s=load_s,
        batches_per_s=args.batches / elapsed,
        samples_per_s=args.batches * args.batch_size / elapsed,
    )
    if lazy:
        store = buffer._all_observations[IMAGE_KEY].store  # type: ignore[index, union-attr]
        result.update(
            cache_bytes=store.cache_bytes, cached_bytes=store.cached_bytes, block_reads=store.reads, block_hits=store.hits
        )
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--transitions", type=int, default=100_000)
    parser.add_argument("--size", type=int, default=84, help="image height and width")
    parser.add_argument("--demo-length", type=int, default=200, help="steps per demo")
    parser.add_argument("--batch-size", type=int, default=256, help="IL minibatch size")
    parser.add_argument("--batches", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--cache-mb", type=float, default=256.0, help="the lazy mode's cache bound (MiB)")
    parser.add_argument("--modes", nargs="+", default=["memory", "lazy"], choices=["memory", "lazy"])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=None, help="write the figures as JSON here")
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--path", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args)))
        return
    env = dict(os.environ, OMP_NUM_THREADS="1")
    with tempfile.TemporaryDirectory(prefix="benchmark_images_") as directory:
        path = os.path.join(directory, "images.hdf5")
        start = time.perf_counter()
        image_bytes = write_dataset(path, args.transitions, args.size, args.demo_length, args.seed)
        print(f"wrote {path}: {os.path.getsize(path) / 2**30:.2f} GiB in {time.perf_counter() - start:.0f} s", flush=True)
        results = []
        for mode in args.modes:
            command = [sys.executable, os.path.abspath(__file__), "--child", mode, "--path", path]
            for name in ("size", "batch_size", "batches", "warmup", "cache_mb"):
                command += [f"--{name.replace('_', '-')}", str(getattr(args, name))]
            output = subprocess.run(command, env=env, check=True, capture_output=True, text=True).stdout
            result = json.loads(output.strip().splitlines()[-1])
            result["image_bytes"] = image_bytes
            result["peak_over_image_bytes"] = result["peak_rss_bytes"] / image_bytes
            if mode == "lazy":
                result["peak_over_cache_bound"] = result["peak_rss_bytes"] / result["cache_bytes"]
                result["peak_above_start_over_cache_bound"] = (
                    result["peak_rss_bytes"] - result["rss_before_buffer_bytes"]
                ) / result["cache_bytes"]
            results.append(result)
            mib = 2**20
            print(
                f"{mode:>6}: peak RSS {result['peak_rss_bytes'] / mib:.0f} MiB (before the buffer "
                f"{result['rss_before_buffer_bytes'] / mib:.0f} MiB), images {image_bytes / mib:.0f} MiB uint8, "
                f"peak / image bytes {result['peak_over_image_bytes']:.2f}"
                + (
                    f", cache bound {result['cache_bytes'] / mib:.0f} MiB, peak / bound {result['peak_over_cache_bound']:.2f}, "
                    f"(peak - before) / bound {result['peak_above_start_over_cache_bound']:.2f}"
                    if mode == "lazy"
                    else ""
                )
                + f"; load {result['load_s']:.1f} s; {result['batches_per_s']:.1f} batches/s, "
                f"{result['samples_per_s']:.0f} samples/s",
                flush=True,
            )
    if len(results) == 2:
        ratio = results[1]["samples_per_s"] / results[0]["samples_per_s"]
        print(f"throughput lazy / memory: {ratio:.3f}")
    if args.out:
        info = dict(
            command="python " + " ".join(sys.argv),
            machine=platform.machine(),
            cpu_count=os.cpu_count(),
            load_average=os.getloadavg(),
            transitions=args.transitions,
            size=args.size,
            batch_size=args.batch_size,
            results=results,
        )
        os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
        with open(args.out, "w") as file:
            json.dump(info, file, indent=2)
        print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
