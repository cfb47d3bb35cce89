"""Roll out a trained SB3 policy and save its episodes as demonstrations.

Writes ``OUT.npz`` (keys ``obs``, ``acts``, ``rewards``, ``dones``, ``episode_starts``,
``episode_returns``, ``metadata``) and ``OUT.json`` (how the data was made: model, algorithm,
seed, command, returns). With ``--imitation-dir`` it also writes imitation's format
(``imitation.data.serialize.save``); with ``--train-steps`` it also saves the expert it trains as
``OUT_expert.zip``. It refuses to overwrite any of these (checked before anything is trained or
rolled out) unless ``--force``.

Example::

    python scripts/collect_demos.py --model experts/hopper_sac/final.zip --algo sac \
        --env Hopper-v5 --episodes 20 --seed 100 --out sb3_inril/data/hopper_v5_expert
"""

import argparse
import json
import os
import sys
from typing import Any, cast

import gymnasium as gym
import numpy as np
from tqdm.auto import tqdm

if __package__ in (None, ""):  # run as `python scripts/<name>.py`: the repository root on the path, for `scripts.*`
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from sb3_inril.demos.files import refuse_existing_outputs
from scripts.train_expert import ALGOS


def rollout(
    model, env: gym.Env, n_episodes: int, seed: int, noise: float, min_return: float | None, require_success: bool = False
) -> dict:
    rng = np.random.default_rng(seed)
    episodes: list[tuple[np.ndarray, np.ndarray, np.ndarray, Any]] = []
    kept_returns: list[float] = []
    all_returns: list[float] = []
    bar = tqdm(total=n_episodes, desc="episodes")
    attempt = 0
    while len(episodes) < n_episodes:
        obs, _ = env.reset(seed=seed + attempt)
        attempt += 1
        observations: list[Any] = []
        actions: list[Any] = []
        rewards: list[Any] = []  # as env.step returns them (np.array below keeps their dtype)
        done, success = False, False
        while not done:
            action, _ = model.predict(obs, deterministic=True)
            if noise > 0:
                space = cast(gym.spaces.Box, env.action_space)  # action noise: continuous actions only
                low, high = space.low, space.high
                action = np.clip(action + noise * (high - low) / 2 * rng.standard_normal(action.shape), low, high)
            observations.append(obs)
            actions.append(action)
            obs, reward, terminated, truncated, info = env.step(action)
            success = success or bool(info.get("is_success", False))
            rewards.append(reward)
            done = terminated or truncated
        episode_return = float(np.sum(rewards))
        all_returns.append(episode_return)
        if (min_return is not None and episode_return < min_return) or (require_success and not success):
            continue
        episodes.append((np.array(observations), np.array(actions), np.array(rewards), obs))
        kept_returns.append(episode_return)
        bar.update(1)
        bar.set_postfix(ret=f"{episode_return:.0f}")
    bar.close()
    return {"episodes": episodes, "returns": kept_returns, "all_returns": all_returns}


def output_paths(out: str, imitation_dir: str | None = None, train_steps: int | None = None) -> list[str]:
    """
    Every file or directory a run writes.

    :param out: the output path without extension
    :param imitation_dir: where imitation's format goes, if anywhere
    :param train_steps: set when an expert is trained (and saved as ``OUT_expert.zip``)
    :return: the paths
    """
    paths = [out + ".npz", out + ".json"]
    if train_steps is not None:
        paths.append(out + "_expert.zip")
    if imitation_dir:
        paths.append(imitation_dir)
    return paths


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--model", help="SB3 .zip to roll out")
    source.add_argument("--train-steps", type=int, help="train an expert with --algo for this many steps first")
    parser.add_argument("--algo", choices=sorted(ALGOS), required=True)
    parser.add_argument("--env", required=True)
    parser.add_argument("--episodes", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--noise", type=float, default=0.0, help="Gaussian action noise, fraction of the half range")
    parser.add_argument("--min-return", type=float, default=None, help="keep only episodes above this return")
    parser.add_argument("--require-success", action="store_true", help="keep only episodes with info['is_success']")
    parser.add_argument("--out", required=True, help="output path without extension")
    parser.add_argument("--imitation-dir", default=None, help="also save in imitation's format here")
    parser.add_argument("--force", action="store_true", help="overwrite existing output files")
    args = parser.parse_args(argv)
    # Before anything is loaded, trained or rolled out: an existing output is an error, not a surprise.
    try:
        refuse_existing_outputs(output_paths(args.out, args.imitation_dir, args.train_steps), args.force)
    except FileExistsError as error:
        parser.exit(2, f"error: {error}\n")

    if args.model:
        model = ALGOS[args.algo].load(args.model, device="cpu")
    else:
        model = ALGOS[args.algo]("MlpPolicy", args.env, seed=args.seed, device="cpu")
        model.learn(args.train_steps, progress_bar=True)
        args.model = args.out + "_expert.zip"
        model.save(args.model)
    env = gym.make(args.env)
    result = rollout(model, env, args.episodes, args.seed, args.noise, args.min_return, args.require_success)
    obs = np.concatenate([episode[0] for episode in result["episodes"]]).astype(np.float32)
    acts = np.concatenate([episode[1] for episode in result["episodes"]]).astype(np.float32)
    rewards = np.concatenate([episode[2] for episode in result["episodes"]]).astype(np.float32)
    lengths = [len(episode[1]) for episode in result["episodes"]]
    dones = np.zeros(len(acts), dtype=bool)
    dones[np.cumsum(lengths) - 1] = True
    returns = np.array(result["returns"])
    metadata = {
        "command": " ".join(["python"] + (sys.argv if argv is None else ["scripts/collect_demos.py", *argv])),
        "env": args.env,
        "model": args.model,
        "algo": args.algo,
        "seed": args.seed,
        "noise": args.noise,
        "min_return": args.min_return,
        "require_success": args.require_success,
        "train_steps": args.train_steps,
        "n_episodes": len(lengths),
        "n_transitions": len(acts),
        "return_mean": float(returns.mean()),
        "return_std": float(returns.std()),
        "return_min": float(returns.min()),
        "return_max": float(returns.max()),
        "episodes_rolled_out": len(result["all_returns"]),
    }
    # The expert's training record: next to the model, or one folder up for a checkpoint.
    for folder in (os.path.dirname(args.model), os.path.dirname(os.path.dirname(args.model))):
        expert_info = os.path.join(folder, "expert.json")
        if os.path.exists(expert_info):
            with open(expert_info) as file:
                metadata["expert"] = json.load(file)
            break
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    np.savez_compressed(
        args.out + ".npz",
        obs=obs,
        acts=acts,
        rewards=rewards,
        dones=dones,
        episode_starts=np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64),
        episode_returns=returns.astype(np.float32),
        metadata=np.array(json.dumps(metadata)),
    )
    with open(args.out + ".json", "w") as file:
        json.dump(metadata, file, indent=2)
    if args.imitation_dir:
        from imitation.data import serialize, types

        trajectories = []
        for episode_obs, episode_acts, episode_rewards, last_obs in result["episodes"]:
            trajectories.append(
                types.TrajectoryWithRew(
                    obs=np.concatenate([episode_obs, last_obs[None]]).astype(np.float32),
                    acts=episode_acts.astype(np.float32),
                    rews=episode_rewards.astype(np.float32),
                    infos=None,
                    terminal=True,
                )
            )
        serialize.save(args.imitation_dir, trajectories)
    print(json.dumps(metadata, indent=2))


if __name__ == "__main__":
    main()
