"""Scripted demonstrations for robomimic's Lift, PickPlaceCan and NutAssemblySquare, written as robomimic HDF5 files.

Prints the expert's success rate (over every episode it attempted) and writes ``<out>.hdf5``
(robomimic's layout: ``data/demo_i/{obs,next_obs,actions,rewards,dones,states}``, ``env_args``,
``mask/train``, ``mask/valid``) and ``<out>.json`` (how it was made). It refuses to overwrite
either (checked before the environment is built) unless ``--force``.

``--remake`` writes a file that is not shipped (too large for the repository) again from its
committed ``.json`` record: the same command plus ``--remake`` checks the arguments against the
record first, keeps the record as it is, and refuses the new file (removing it) if its statistics
differ from the record's.

Example::

    python scripts/collect_robomimic_demos.py --task Lift --demos 50 --seed 0 --out sb3_inril/data/robomimic/lift_v0_scripted
    python scripts/collect_robomimic_demos.py --task NutAssemblySquare --demos 30 --seed 0 --out sb3_inril/data/robomimic/nutassemblysquare_v0_scripted
"""

import argparse
import json
import os
import sys
from typing import Any

from sb3_inril.demos.files import refuse_existing_outputs
from sb3_inril.envs.scripted import SCRIPTED_TASKS, collect_robomimic_demos


def output_paths(out: str) -> list[str]:
    """
    Every file a run writes.

    :param out: the output path without extension
    :return: the ``.hdf5`` file and the ``.json`` beside it
    """
    return [out + ".hdf5", out + ".json"]


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--task", choices=SCRIPTED_TASKS, required=True)
    parser.add_argument("--demos", type=int, default=50, help="demonstrations to write")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--noise", type=float, default=0.05, help="std of the noise on the motion command")
    parser.add_argument("--horizon", type=int, default=None, help="default: robomimic's for the task")
    parser.add_argument("--keep-failures", action="store_true", help="also write unsuccessful episodes")
    parser.add_argument("--model-file", action="store_true", help="store the MuJoCo XML in every demo (40 kB each)")
    parser.add_argument(
        "--cameras", nargs="*", default=[], help="also write these cameras' images, e.g. agentview robot0_eye_in_hand"
    )
    parser.add_argument("--camera-size", type=int, default=84, help="image height and width (robomimic: 84)")
    parser.add_argument("--out", required=True, help="output path without extension")
    parser.add_argument("--force", action="store_true", help="overwrite existing output files")
    parser.add_argument(
        "--remake",
        action="store_true",
        help="write the .hdf5 again from its .json record (kept as it is); refuse it if it differs from the record",
    )
    args = parser.parse_args(argv)
    hdf5_path, record_path = output_paths(args.out)
    record: dict[str, Any] | None = None
    # Before the environment is built or any episode is run.
    try:
        refuse_existing_outputs([hdf5_path] if args.remake else [hdf5_path, record_path], args.force)
    except FileExistsError as error:
        parser.exit(2, f"error: {error}\n")
    if args.remake:
        if not os.path.exists(record_path):
            parser.exit(2, f"error: --remake: expected the record {record_path!r} of the file to make again, found none\n")
        with open(record_path) as file:
            record = json.load(file)
        asked = dict(
            task=args.task, n_demos=args.demos, seed=args.seed, noise_std=args.noise, keep_failures=args.keep_failures
        )
        if args.horizon is not None:
            asked["horizon"] = args.horizon
        for key, value in asked.items():
            if key in record and record[key] != value:
                parser.exit(2, f"error: --remake: {key}: expected {record[key]!r} (as in {record_path}), found {value!r}\n")
    command = "python " + " ".join(sys.argv if argv is None else ["scripts/collect_robomimic_demos.py", *argv])
    stats = collect_robomimic_demos(
        args.task,
        args.demos,
        args.out + ".hdf5",
        seed=args.seed,
        noise_std=args.noise,
        horizon=args.horizon,
        keep_failures=args.keep_failures,
        include_model_file=args.model_file,
        command=command,
        camera_names=args.cameras,
        camera_size=args.camera_size,
    )
    if record is not None:
        with open(record_path) as file:
            made = json.load(file)  # the new statistics as written (compared in the record's own JSON form)
        with open(record_path, "w") as file:
            json.dump(record, file, indent=2)  # the record stays as it was made, command included
        differences = [
            f"{key}: expected {record.get(key)!r}, found {made.get(key)!r}"
            for key in sorted(set(record) | set(made))
            if key != "command" and record.get(key) != made.get(key)
        ]
        if differences:
            os.remove(hdf5_path)
            parser.exit(
                1, f"error: --remake: the new file differs from its record {record_path} (removed): {'; '.join(differences)}\n"
            )
    print(
        f"{args.task}: scripted expert success rate {stats['success_rate']:.3f} "
        f"({stats['n_attempts']} episodes attempted), {stats['n_demos']} demos written, "
        f"{stats['n_transitions']} transitions, length {stats['length_mean']:.1f} -> {args.out}.hdf5"
    )
    return stats


if __name__ == "__main__":
    main()
