#!/usr/bin/env bash
# The performance-floor study (issue 29): on each task of the recipe study, from the same BC start per
# seed, plain fine-tuning, the fixed-weight recipes (BC regularisation, IN-RIL) and the same two with
# the floor (PerformanceFloor: their imitation strength by dual ascent, starting at the recipe's
# setting). Every command resumes (finished runs are skipped): rerun this script to go on.
# Usage: OMP_NUM_THREADS=1 bash scripts/floor_study.sh [TASK...]   (tasks: hopper_medium hopper_medium_v2
# pendulum pendulum_v2 lift halfcheetah hopper_expert pickplacecan; default all but pickplacecan, in that order;
# pickplacecan needs its demonstrations file, made by the command recorded in results/pickplacecan_ppo_recipe/demos/*.json)
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python}
SEEDS="0 1 2 3 4 5 6 7 8 9"
PPO_WARMUP="--critic-warmup-steps 3 --critic-warmup-unit train_call --critic-warmup-learning-rate 0.001"
# v2 of a task shares its v1 folder's BC starts and its runs without a floor (same command, no floor in them).
share_v1() {  # share_v1 V1_FOLDER V2_FOLDER METHOD...
  local v1=$1 v2=$2; shift 2
  mkdir -p "$v2/runs" "$v2/pretrained"
  cp -n "$v1"/pretrained/*.pt "$v2/pretrained/" 2>/dev/null || true
  for m in "$@"; do cp -n "$v1/runs/${m}"_s*.json "$v2/runs/" 2>/dev/null || true; done
}
V2="--floor-decay-rate 0.1 --floor-confidence 1.0"
run() {
  case "$1" in
    hopper_medium) $PY scripts/compare.py --env Hopper-v5 --algo ppo --demos medium --seeds $SEEDS --timesteps 30000 \
      --eval-freq 5000 --eval-episodes 10 --il-interval 2 $PPO_WARMUP \
      --methods bc rl bc_reg_logstd-2 inril_m2_logstd-2 bc_reg_floor_logstd-2 inril_floor_logstd-2 \
      --jobs 2 --num-threads 1 --out results/hopper_ppo_medium_floor ;;
    hopper_medium_v2)  # the second floor (slow decay, lower confidence bound); fixed and plain runs shared with v1
      share_v1 results/hopper_ppo_medium_floor results/hopper_ppo_medium_floor_v2 bc rl bc_reg_logstd-2 inril_m2_logstd-2
      $PY scripts/compare.py --env Hopper-v5 --algo ppo --demos medium --seeds $SEEDS --timesteps 30000 \
      --eval-freq 5000 --eval-episodes 10 --il-interval 2 $PPO_WARMUP $V2 \
      --methods bc rl bc_reg_logstd-2 inril_m2_logstd-2 bc_reg_floor_logstd-2 inril_floor_logstd-2 \
      --jobs 2 --num-threads 1 --out results/hopper_ppo_medium_floor_v2 ;;
    pendulum) $PY scripts/compare.py --env Pendulum-v1 --algo sac --demos medium --seeds $SEEDS --timesteps 6000 \
      --eval-freq 1000 --eval-episodes 10 --il-interval 20 --algo-kwargs '{"learning_rate": 0.001}' --critic-warmup-steps 1000 \
      --methods bc rl rl_warmup bc_reg_warmup inril_m20_warmup bc_reg_floor_warmup inril_floor_warmup \
      --jobs 2 --num-threads 1 --out results/pendulum_sac_medium_floor ;;
    pendulum_v2)  # v2 on Pendulum; fixed and plain runs shared with v1
      share_v1 results/pendulum_sac_medium_floor results/pendulum_sac_medium_floor_v2 bc rl rl_warmup bc_reg_warmup inril_m20_warmup
      $PY scripts/compare.py --env Pendulum-v1 --algo sac --demos medium --seeds $SEEDS --timesteps 6000 \
      --eval-freq 1000 --eval-episodes 10 --il-interval 20 --algo-kwargs '{"learning_rate": 0.001}' --critic-warmup-steps 1000 $V2 \
      --methods bc rl rl_warmup bc_reg_warmup inril_m20_warmup bc_reg_floor_warmup inril_floor_warmup \
      --jobs 2 --num-threads 1 --out results/pendulum_sac_medium_floor_v2 ;;
    lift) $PY scripts/compare.py --env robomimic/Lift-v0 --env-kwargs '{"horizon": 100}' --demos scripted --metric success \
      --seeds $SEEDS --timesteps 12000 --eval-freq 4000 --eval-episodes 20 --pretrain-epochs 50 --il-interval 2 $PPO_WARMUP \
      --methods bc rl bc_reg_logstd-2 inril_m2_logstd-2 bc_reg_floor_logstd-2 inril_floor_logstd-2 \
      --jobs 2 --num-threads 1 --out results/lift_ppo_scripted_floor ;;
    halfcheetah) $PY scripts/compare.py --env HalfCheetah-v5 --algo ppo --demos medium --seeds $SEEDS --timesteps 30000 \
      --eval-freq 5000 --eval-episodes 10 --il-interval 2 \
      --methods bc rl bc_reg_logstd-2 inril_m2_logstd-2 bc_reg_floor_logstd-2 inril_floor_logstd-2 \
      --jobs 2 --num-threads 1 --out results/halfcheetah_ppo_medium_floor ;;
    hopper_expert) $PY scripts/compare.py --env Hopper-v5 --algo ppo --demos expert --seeds $SEEDS --timesteps 60000 \
      --eval-freq 5000 --eval-episodes 10 --il-interval 2 \
      --methods bc rl bc_reg_logstd-2 inril_m2_logstd-2 bc_reg_floor_logstd-2 inril_floor_logstd-2 \
      --jobs 2 --num-threads 1 --out results/hopper_ppo_expert_floor ;;
    pickplacecan) $PY scripts/compare.py --env robomimic/PickPlaceCan-v0 --env-kwargs '{"horizon": 250}' \
      --demos results/pickplacecan_ppo_recipe/demos/pickplacecan_v0_scripted50.hdf5 --metric success --seeds 0 1 2 3 4 \
      --timesteps 24000 --eval-freq 12000 --eval-episodes 20 --pretrain-epochs 100 --il-interval 2 \
      --methods bc rl bc_reg_logstd-2 inril_m2_logstd-2 bc_reg_floor_logstd-2 inril_floor_logstd-2 \
      --jobs 2 --num-threads 1 --out results/pickplacecan_ppo_floor ;;
    *) echo "unknown task $1" >&2; exit 2 ;;
  esac
}
for task in "${@:-hopper_medium hopper_medium_v2 pendulum pendulum_v2 lift halfcheetah hopper_expert}"; do
  for t in $task; do run "$t"; done
done
