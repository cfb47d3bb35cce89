"""Write sb3_inril/data/README.md from the metadata recorded next to each shipped demonstration file."""

import glob
import json
import os

DATA = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "sb3_inril", "data")


def main() -> None:
    lines = [
        "# Shipped demonstrations",
        "",
        "Made by this project's own scripts from experts it trained itself; regenerate them all with",
        "`bash scripts/make_shipped_demos.sh` (the exact commands are below and in each `.json`).",
        "Nothing here was downloaded. Returns are undiscounted episode returns of the kept episodes.",
        "",
        "| file | env | episodes | transitions | return mean ± std [min, max] | policy rolled out | the training run's final policy, deterministic evaluation |",
        "|---|---|---|---|---|---|---|",
    ]
    commands = []
    for path in sorted(glob.glob(os.path.join(DATA, "*.json"))):
        meta = json.load(open(path))
        name = os.path.basename(path)[:-5] + ".npz"
        expert = meta.get("expert") or {}
        policy = f"{meta['algo'].upper()} `{os.path.relpath(meta['model'])}`" + (
            f", noise {meta['noise']}" if meta.get("noise") else ""
        )
        evaluation = (
            f"final policy {expert['eval_return_mean']:.1f} ({expert['algo'].upper()}, {expert['steps']} steps, seed {expert['seed']})"
            if expert
            else "(expert run not recorded)"
        )
        lines.append(
            f"| `{name}` | {meta['env']} | {meta['n_episodes']} | {meta['n_transitions']} | "
            f"{meta['return_mean']:.1f} ± {meta['return_std']:.1f} [{meta['return_min']:.1f}, {meta['return_max']:.1f}] | {policy} | {evaluation} |"
        )
        commands.append(f"# {name}\n" + (f"{expert['command']}\n" if expert else "") + meta["command"])
    robomimic_rows = []
    for path in sorted(glob.glob(os.path.join(DATA, "robomimic", "*.json"))):
        meta = json.load(open(path))
        name = "robomimic/" + os.path.basename(path)[:-5] + ".hdf5"
        robomimic_rows.append(
            f"| `{name}` | {meta['task']} | {meta['n_demos']} | {meta['n_transitions']} | "
            f"{meta['length_mean']:.1f} [{meta['length_min']}, {meta['length_max']}] | "
            f"{meta['success_rate']:.2f} ({meta['n_attempts']} episodes) | {meta['noise_std']} |"
        )
        commands.append(f"# {name}\n" + meta["command"])
    lines += [
        "",
        '"expert" files roll out the final policy deterministically; "medium" files roll out an early checkpoint',
        "with Gaussian action noise, clearly sub-optimal (like D4RL's medium datasets).",
        "",
        "## Robomimic tasks (robomimic HDF5)",
        "",
        "Written by the scripted experts of `sb3_inril/envs/scripted.py` (see docs/robomimic.md); the",
        "success rate is over every episode the expert attempted, failed ones are not written.",
        "",
        "| file | task | demos | transitions | mean length [min, max] | expert success rate | motion noise |",
        "|---|---|---|---|---|---|---|",
        *robomimic_rows,
        "",
        "## Commands",
        "",
        "```bash",
        *commands,
        "```",
        "",
    ]
    with open(os.path.join(DATA, "README.md"), "w") as file:
        file.write("\n".join(lines))


if __name__ == "__main__":
    main()
