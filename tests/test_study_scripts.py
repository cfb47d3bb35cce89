"""The multi-session study scripts (``scripts/*_study.sh``): every compare.py sweep they start passes
compare.py's checks (``--dry-run``), so that a part does not fail after its BC starts, hours into a
session. Each script runs from a copy (their bookkeeping, mkdir and cp, stays out of the repository)
with a stand-in ``python`` that dry-runs compare.py and records the other programs it is given."""

import os
import shutil
import stat
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
#: Each script with every part (or task) it has, and how many compare.py sweeps that is.
STUDIES = [
    ("square_study.sh", ["gaussian diffusion residual idql"], 4),
    ("floor_study.sh", ["hopper_medium hopper_medium_v2 pendulum pendulum_v2 lift halfcheetah hopper_expert pickplacecan"], 8),
]


def run_study(script: str, parts: list[str], tmp_path) -> subprocess.CompletedProcess:
    os.makedirs(tmp_path / "scripts")
    shutil.copy(os.path.join(ROOT, "scripts", script), tmp_path / "scripts" / script)
    stand_in = tmp_path / "python"
    stand_in.write_text(
        "#!/usr/bin/env bash\n"
        f'if [ "$1" = scripts/compare.py ]; then shift; exec "{sys.executable}" "{ROOT}/scripts/compare.py" "$@" --dry-run; fi\n'
        f'echo "$@" >> "{tmp_path}/other_programs.log"\n'
    )
    stand_in.chmod(stand_in.stat().st_mode | stat.S_IEXEC)
    env = dict(os.environ, PYTHON=str(stand_in), OMP_NUM_THREADS="1", PYTHONWARNINGS="ignore")
    return subprocess.run(
        ["bash", str(tmp_path / "scripts" / script), *parts], cwd=tmp_path, env=env, capture_output=True, text=True
    )


@pytest.mark.slow
@pytest.mark.parametrize("script, parts, n_sweeps", STUDIES)
def test_every_sweep_of_a_study_script_passes_compares_checks(script, parts, n_sweeps, tmp_path):
    result = run_study(script, parts, tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    plans = [line for line in result.stdout.splitlines() if line.startswith("dry run: ") and " runs to do in " in line]
    assert len(plans) == n_sweeps, result.stdout[-3000:]
    assert not (tmp_path / "results" / "square_ppo_scripted100" / "runs").exists()  # a dry run writes nothing


def test_square_residual_part_keeps_the_zoo_entrys_network():
    # --algo-kwargs' policy_kwargs update the zoo entry's: the residual part's base_chunk_size must not drop
    # the entry's net_arch (it did before they were merged key by key).
    from scripts.compare import main

    plan = main(
        ["--env", "robomimic/NutAssemblySquare-v0", "--algo", "ppo", "--policy", "ResidualDiffusionPolicy",
         "--algo-kwargs", '{"policy_kwargs": {"base_chunk_size": 4}}', "--methods", "rl", "inril", "--out", "unused",
         "--dry-run"]
    )  # fmt: skip
    assert plan["algo_kwargs"]["policy_kwargs"] == {"net_arch": {"pi": [256, 256], "vf": [256, 256]}, "base_chunk_size": 4}


def test_a_bad_sweep_fails_the_dry_run(tmp_path):
    with pytest.raises(SystemExit):
        from scripts.compare import main

        main(["--env", "Pendulum-v1", "--algo", "ppo", "--methods", "rlpd", "--out", str(tmp_path), "--dry-run"])
