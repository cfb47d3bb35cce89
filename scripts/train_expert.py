"""Train an SB3 expert whose rollouts become the project's demonstrations.

Checkpoints are written along the way so that a "medium" (clearly sub-optimal) policy can be
picked from the same run, the way D4RL's medium datasets were made.

Example::

    python scripts/train_expert.py --env Hopper-v5 --algo sac --steps 300000 --seed 0 \
        --out experts/hopper_sac
"""

import argparse
import json
import os
import sys
import time
from typing import Any

import gymnasium as gym
import numpy as np
from sb3_contrib import TQC
from stable_baselines3 import PPO, SAC, TD3
from stable_baselines3.common.callbacks import CheckpointCallback
from stable_baselines3.common.evaluation import evaluate_policy

ALGOS: dict[str, type[SAC] | type[TD3] | type[PPO] | type[TQC]] = {"sac": SAC, "td3": TD3, "ppo": PPO, "tqc": TQC}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--env", default="Hopper-v5")
    parser.add_argument("--algo", choices=sorted(ALGOS), default="sac")
    parser.add_argument("--steps", type=int, default=300_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--checkpoint-freq", type=int, default=25_000)
    parser.add_argument("--learning-starts", type=int, default=10_000)
    parser.add_argument("--out", required=True, help="output folder")
    args = parser.parse_args()

    os.makedirs(args.out, exist_ok=True)
    env = gym.make(args.env)
    kwargs: dict[str, Any] = {} if args.algo == "ppo" else {"learning_starts": args.learning_starts}
    model = ALGOS[args.algo]("MlpPolicy", env, seed=args.seed, verbose=1, device="cpu", **kwargs)
    start = time.time()
    model.learn(
        args.steps,
        callback=CheckpointCallback(args.checkpoint_freq, os.path.join(args.out, "checkpoints"), name_prefix="model"),
        log_interval=10,
        progress_bar=False,
    )
    model.save(os.path.join(args.out, "final"))
    eval_env = gym.make(args.env)
    returns, _ = evaluate_policy(model, eval_env, n_eval_episodes=10, deterministic=True, return_episode_rewards=True)
    info = {
        "command": " ".join([os.path.basename(sys.executable)] + sys.argv),
        "env": args.env,
        "algo": args.algo,
        "steps": args.steps,
        "seed": args.seed,
        "wall_time_s": round(time.time() - start, 1),
        "eval_return_mean": float(np.mean(returns)),
        "eval_return_std": float(np.std(returns)),
    }
    with open(os.path.join(args.out, "expert.json"), "w") as file:
        json.dump(info, file, indent=2)
    print(json.dumps(info, indent=2))


if __name__ == "__main__":
    main()
