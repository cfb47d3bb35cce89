#!/usr/bin/env bash
# The lower bounds of install_requires, checked: a venv with the oldest supported SB3 / sb3-contrib /
# gymnasium runs the core tests (the drop-in, algorithm, demonstration and malformed-input modules).
# Usage: bash scripts/check_lower_bounds.sh [VENV_DIR]   (default /tmp/sb3_inril_lower_bounds)
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${1:-/tmp/sb3_inril_lower_bounds}
[ -d "$VENV" ] || python3 -m venv "$VENV"
"$VENV/bin/pip" install -q --upgrade pip
"$VENV/bin/pip" install -q torch==2.13.0
"$VENV/bin/pip" install -q "stable-baselines3==2.6.0" "sb3-contrib==2.6.0" "gymnasium[mujoco]==1.1.1" \
  pytest pytest-timeout h5py tqdm rich matplotlib pyyaml tensorboard minari==0.5.4 datasets jsonpickle
"$VENV/bin/pip" install -q --no-deps imitation==1.0.1
"$VENV/bin/pip" install -q --no-deps -e .
"$VENV/bin/pip" list 2>/dev/null | grep -i -E "^(stable|sb3-contrib|gymnasium|torch|numpy) "
OMP_NUM_THREADS=1 "$VENV/bin/python" -m pytest tests/test_drop_in.py tests/test_inril_ppo.py tests/test_inril_off_policy.py \
  tests/test_demonstrations.py tests/test_malformed_inputs.py tests/test_surgery.py tests/test_residual.py \
  -q -p no:cacheprovider -W ignore::UserWarning
