"""The thread rule and the task runner of the programs (sb3_inril.parallel)."""

import os

import pytest
import torch as th

from sb3_inril.parallel import (
    THREADS_VARIABLE,
    apply_num_threads,
    num_threads_applied,
    resolve_num_threads,
    run_tasks,
)


def threads_and_variable(tag: str) -> tuple[str, int, str | None]:
    """A task: what the worker's torch and environment say."""
    return tag, th.get_num_threads(), os.environ.get(THREADS_VARIABLE)


def square(value: int) -> int:
    return value * value


def failing(value: int) -> int:
    raise RuntimeError(f"task {value} failed")


@pytest.fixture
def restore_threads(monkeypatch):
    """Tests change the process's threads: put them back (and the variable, via monkeypatch)."""
    before = th.get_num_threads()
    monkeypatch.delenv(THREADS_VARIABLE, raising=False)
    yield monkeypatch
    th.set_num_threads(before)


def test_rule_argument_then_variable_then_one(restore_threads):
    assert resolve_num_threads() == 1
    assert resolve_num_threads(None) == 1 and resolve_num_threads(-1) == 1 and resolve_num_threads(0) == 1
    restore_threads.setenv(THREADS_VARIABLE, "3")
    assert resolve_num_threads() == 3
    assert resolve_num_threads(2) == 2  # the argument wins over the variable
    restore_threads.setenv(THREADS_VARIABLE, " 4 ")
    assert resolve_num_threads() == 4


@pytest.mark.parametrize("value", ["0", "-2", "two", "1.5"])
def test_rule_rejects_a_bad_variable(restore_threads, value):
    restore_threads.setenv(THREADS_VARIABLE, value)
    with pytest.raises(ValueError, match=rf"{THREADS_VARIABLE}='{value}'.*positive integer"):
        resolve_num_threads()
    assert resolve_num_threads(2) == 2  # an explicit number does not read it


def test_importing_the_package_leaves_torch_alone():
    # A fresh interpreter: importing sb3_inril (and building a model) does not set torch's threads.
    import subprocess
    import sys

    code = (
        "import torch as th; before = th.get_num_threads(); import sb3_inril, gymnasium as gym; "
        "sb3_inril.InRILPPO('MlpPolicy', gym.make('Pendulum-v1'), n_steps=64, device='cpu'); "
        "import os; print(before == th.get_num_threads(), os.environ.get('OMP_NUM_THREADS'))"
    )
    env = {k: v for k, v in os.environ.items() if k != THREADS_VARIABLE}
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True).stdout
    assert output.split() == ["True", "None"]


def test_applied_block_restores_the_caller(restore_threads):
    th.set_num_threads(2)
    restore_threads.setenv(THREADS_VARIABLE, "2")
    with num_threads_applied(1):
        assert th.get_num_threads() == 1 and os.environ[THREADS_VARIABLE] == "1"
    assert th.get_num_threads() == 2 and os.environ[THREADS_VARIABLE] == "2"
    restore_threads.delenv(THREADS_VARIABLE)
    with pytest.raises(KeyError):
        with num_threads_applied(1):
            raise KeyError("inside")
    assert th.get_num_threads() == 2 and THREADS_VARIABLE not in os.environ  # restored after an error too


def test_apply_sets_torch_and_the_variable(restore_threads):
    apply_num_threads(1)
    assert th.get_num_threads() == 1 and os.environ[THREADS_VARIABLE] == "1"


def test_run_tasks_in_process(restore_threads):
    th.set_num_threads(2)
    results = list(run_tasks(threads_and_variable, [("a",), ("b",)], jobs=1, num_threads=1))
    assert results == [(0, ("a", 1, "1")), (1, ("b", 1, "1"))]
    assert th.get_num_threads() == 2 and THREADS_VARIABLE not in os.environ
    assert list(run_tasks(square, [])) == []


def test_run_tasks_in_worker_processes(restore_threads):
    th.set_num_threads(2)
    results = dict(run_tasks(threads_and_variable, [("a",), ("b",), ("c",)], jobs=2, num_threads=1))
    assert results == {0: ("a", 1, "1"), 1: ("b", 1, "1"), 2: ("c", 1, "1")}  # every worker took the rule
    assert th.get_num_threads() == 2 and THREADS_VARIABLE not in os.environ
    assert dict(run_tasks(square, [(v,) for v in range(5)], jobs=2)) == {v: v * v for v in range(5)}
    # One fresh process per task (peak-memory figures): same results.
    assert dict(run_tasks(square, [(3,), (4,)], fresh_process=True)) == {0: 9, 1: 16}


def test_run_tasks_raises_a_failing_task(restore_threads):
    with pytest.raises(RuntimeError, match=r"task [12] failed"):
        list(run_tasks(failing, [(1,), (2,)], jobs=2))
    with pytest.raises(RuntimeError, match="task 1 failed"):
        list(run_tasks(failing, [(1,)], jobs=1))


def test_zoo_arguments_take_the_rule(restore_threads):
    from sb3_inril.train import with_num_threads

    argv = ["--algo", "inril_ppo", "--env", "Pendulum-v1"]
    assert with_num_threads(argv) == ([*argv, "--num-threads", "1"], 1)
    assert with_num_threads([*argv, "--num-threads", "-1"]) == ([*argv, "--num-threads", "-1", "--num-threads", "1"], 1)
    assert with_num_threads([*argv, "--num-threads", "3"]) == ([*argv, "--num-threads", "3"], 3)  # given: kept
    restore_threads.setenv(THREADS_VARIABLE, "2")
    assert with_num_threads(argv) == ([*argv, "--num-threads", "2"], 2)
