"""Reference returns for normalising locomotion scores without magnifying evaluation noise: the return
of a uniformly random policy, measured here, and the return of the expert whose demonstrations ship
with the package (recorded in ``sb3_inril/data/<env>_expert.json`` when the file was made).

``scripts/aggregate.py --reference results/reference_returns/reference_returns.json`` then scores a
return-metric task as ``(return - random) / (expert - random)`` (D4RL's normalisation, with these
references) and a success-rate task as the rate itself.

Example::

    python scripts/reference_returns.py --episodes 20 --seed 0 --out results/reference_returns
"""

import argparse
import json
import os
import sys
from typing import Any

import gymnasium as gym
import numpy as np

ENVS = ("Hopper-v5", "HalfCheetah-v5", "Pendulum-v1")


def random_returns(env_id: str, episodes: int, seed: int) -> np.ndarray:
    """Undiscounted returns of uniformly random actions, episode ``i`` reset with ``seed + i``."""
    env = gym.make(env_id)
    env.action_space.seed(seed)
    returns = []
    for episode in range(episodes):
        env.reset(seed=seed + episode)
        total, done = 0.0, False
        while not done:
            _, reward, terminated, truncated, _ = env.step(env.action_space.sample())
            total += float(reward)
            done = terminated or truncated
        returns.append(total)
    env.close()
    return np.array(returns)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--envs", nargs="+", default=list(ENVS))
    parser.add_argument("--episodes", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="results/reference_returns")
    args = parser.parse_args(argv)
    from sb3_inril.data import demonstration_metadata

    result: dict[str, Any] = {
        "command": "python scripts/reference_returns.py " + " ".join(sys.argv[1:] if argv is None else argv),
        "episodes": args.episodes,
        "seed": args.seed,
        "envs": {},
    }
    for env_id in args.envs:
        returns = random_returns(env_id, args.episodes, args.seed)
        meta = demonstration_metadata(env_id, "expert")
        result["envs"][env_id] = {
            "random": float(returns.mean()),
            "random_std": float(returns.std(ddof=1)),
            "expert": float(meta["return_mean"]),
            "expert_source": f"sb3_inril/data/{env_id.lower().replace('-', '_')}_expert.json: return_mean "
            f"({meta['n_episodes']} episodes)",
        }
        print(f"{env_id}: random {returns.mean():.1f} ± {returns.std(ddof=1):.1f}, expert {meta['return_mean']:.1f}")
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "reference_returns.json"), "w") as file:
        json.dump(result, file, indent=2)
    return result


if __name__ == "__main__":
    main()
