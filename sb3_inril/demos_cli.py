"""``sb3-inril demos inspect PATH`` and ``sb3-inril demos convert SRC DST``."""

import argparse
import json
import sys

import numpy as np

from sb3_inril.common.loaders import Demonstrations, load_demonstrations, save_demonstrations


def _ranges(name: str, array: np.ndarray, max_dims: int) -> list[str]:
    flat = array.reshape(len(array), -1)
    lines = [f"{name}: shape {array.shape[1:]}, dtype {array.dtype}, min {flat.min():.4g}, max {flat.max():.4g}"]
    for dim in range(min(flat.shape[1], max_dims)):
        column = flat[:, dim]
        lines.append(
            f"  [{dim}] min {column.min():>10.4g}  max {column.max():>10.4g}  mean {column.mean():>10.4g}  std {column.std():>10.4g}"
        )
    if flat.shape[1] > max_dims:
        lines.append(f"  ... {flat.shape[1] - max_dims} more dimensions (--max-dims)")
    return lines


def describe(demos: Demonstrations, list_episodes: bool = False, max_dims: int = 20) -> str:
    """A human-readable summary: episodes, lengths, returns, shapes and ranges, metadata."""
    lengths = demos.episode_lengths
    lines = [
        f"format: {demos.metadata.get('format')}",
        f"source: {demos.metadata.get('source')}",
        f"episodes: {demos.n_episodes}   transitions: {len(demos.actions)}",
        f"episode length: min {lengths.min()}  mean {lengths.mean():.1f}  max {lengths.max()}",
    ]
    returns = demos.episode_returns
    if returns is not None and len(returns):
        lines.append(
            f"episode return: mean {returns.mean():.2f}  std {returns.std():.2f}  min {returns.min():.2f}  max {returns.max():.2f}"
        )
    else:
        lines.append("episode return: (no rewards stored)")
    layout = demos.describe_observation()
    if layout:
        lines.append(f"observation keys: {layout}")
    lines += _ranges("observations", demos.observations, max_dims)
    lines += _ranges("actions", demos.actions, max_dims)
    for key in ("env_args", "collection", "env_id", "filter_key"):
        if demos.metadata.get(key) is not None:
            lines.append(f"{key}: {json.dumps(demos.metadata[key], default=str)}")
    if list_episodes:
        lines.append("episode  start  length  return")
        for index, (start, length) in enumerate(zip(demos.episode_starts, lengths)):
            value = f"{returns[index]:.2f}" if returns is not None else "-"
            lines.append(f"{index:>7}  {start:>5}  {length:>6}  {value}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="sb3-inril demos", description="Inspect and convert demonstration files.")
    sub = parser.add_subparsers(dest="command", required=True)
    inspect = sub.add_parser("inspect", help="episodes, lengths, returns, shapes and ranges")
    inspect.add_argument("path", help=".npz, robomimic .hdf5, imitation directory or .pkl, Minari path or id")
    inspect.add_argument("--episodes", action="store_true", help="list every episode")
    inspect.add_argument("--max-dims", type=int, default=20, help="per-dimension ranges for at most this many dimensions")
    convert = sub.add_parser("convert", help="convert between formats")
    convert.add_argument("source")
    convert.add_argument("destination", help="an .npz path, or a directory for imitation's format")
    convert.add_argument("--to", choices=["npz", "imitation"], default=None, help="default: npz if DESTINATION ends with .npz")
    for command in (inspect, convert):
        command.add_argument("--obs-keys", nargs="+", default=None, help="robomimic: observation keys, in order")
        command.add_argument("--filter-key", default=None, help="robomimic: mask/<filter key>, e.g. train")
    args = parser.parse_args(argv)
    try:
        source = args.path if args.command == "inspect" else args.source
        demos = load_demonstrations(source, obs_keys=args.obs_keys, filter_key=args.filter_key)
        if args.command == "inspect":
            print(describe(demos, list_episodes=args.episodes, max_dims=args.max_dims))
        else:
            target = args.to or ("npz" if args.destination.endswith(".npz") else "imitation")
            save_demonstrations(demos, args.destination, format=target)
            print(f"wrote {demos.n_episodes} episodes, {len(demos.actions)} transitions to {args.destination} ({target})")
    except (ValueError, FileNotFoundError, ImportError, TypeError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0
