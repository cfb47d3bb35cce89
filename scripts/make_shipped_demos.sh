#!/usr/bin/env bash
# Regenerates the demonstrations shipped in sb3_inril/data/ (experts trained here, seeds fixed).
# Usage: bash scripts/make_shipped_demos.sh [pendulum|halfcheetah|hopper|robomimic]...   (default: all)
# Each expert trains on one core: Pendulum ~5 min, HalfCheetah ~30 min, Hopper ~90 min here;
# the robomimic files come from scripted experts (~2 min, most of it NutAssemblySquare).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
export OMP_NUM_THREADS=1
targets=${*:-pendulum halfcheetah hopper robomimic}
for target in $targets; do
  case $target in
    pendulum)
      $PY scripts/train_expert.py --env Pendulum-v1 --algo sac --steps 12000 --seed 0 --learning-starts 1000 --checkpoint-freq 1000 --out experts/pendulum_sac
      $PY scripts/collect_demos.py --model experts/pendulum_sac/final.zip --algo sac --env Pendulum-v1 --episodes 20 --seed 100 --out sb3_inril/data/pendulum_v1_expert --force
      $PY scripts/collect_demos.py --model experts/pendulum_sac/checkpoints/model_3000_steps.zip --algo sac --env Pendulum-v1 --episodes 20 --seed 200 --noise 0.1 --out sb3_inril/data/pendulum_v1_medium --force
      ;;
    halfcheetah)
      $PY scripts/train_expert.py --env HalfCheetah-v5 --algo sac --steps 60000 --seed 0 --checkpoint-freq 10000 --out experts/halfcheetah_sac
      $PY scripts/collect_demos.py --model experts/halfcheetah_sac/final.zip --algo sac --env HalfCheetah-v5 --episodes 10 --seed 100 --out sb3_inril/data/halfcheetah_v5_expert --force
      $PY scripts/collect_demos.py --model experts/halfcheetah_sac/checkpoints/model_30000_steps.zip --algo sac --env HalfCheetah-v5 --episodes 10 --seed 200 --noise 0.1 --out sb3_inril/data/halfcheetah_v5_medium --force
      ;;
    hopper)
      $PY scripts/train_expert.py --env Hopper-v5 --algo sac --steps 300000 --seed 0 --out experts/hopper_sac
      $PY scripts/collect_demos.py --model experts/hopper_sac/final.zip --algo sac --env Hopper-v5 --episodes 20 --seed 100 --out sb3_inril/data/hopper_v5_expert --force
      $PY scripts/collect_demos.py --model experts/hopper_sac/checkpoints/model_100000_steps.zip --algo sac --env Hopper-v5 --episodes 20 --seed 200 --noise 0.1 --out sb3_inril/data/hopper_v5_medium --force
      ;;
    robomimic)
      $PY scripts/collect_robomimic_demos.py --task Lift --demos 30 --seed 0 --out sb3_inril/data/robomimic/lift_v0_scripted --force
      $PY scripts/collect_robomimic_demos.py --task PickPlaceCan --demos 10 --seed 0 --out sb3_inril/data/robomimic/pickplacecan_v0_scripted --force
      $PY scripts/collect_robomimic_demos.py --task NutAssemblySquare --demos 30 --seed 0 --out sb3_inril/data/robomimic/nutassemblysquare_v0_scripted --force
      ;;
    *) echo "unknown target $target" >&2; exit 2 ;;
  esac
done
