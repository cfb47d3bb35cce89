"""Threads and parallel runs for the programs of this project: the quickstart, ``scripts/compare.py``,
the zoo (``python -m sb3_inril.train``) and the benchmarks.

**The thread rule.** Every worker process (and a program that runs one job) uses ``--num-threads N``
when given, else ``$OMP_NUM_THREADS`` when set, else **one** torch thread; the processes it starts
(pool workers, ``SubprocVecEnv`` workers, Ray tasks) get the same number. Why one: the policies here
are small networks, for which torch's intra-op threads gain nothing on a quiet machine, and each
parallel operation waits for its slowest thread, so that with one other busy process on the machine
torch's default (one thread per core) slows BC pre-training by an order of magnitude
(``scripts/benchmark_threads.py``, docs/benchmarks.md). Image policies may gain from more threads:
pass ``--num-threads``.

Importing ``sb3_inril`` or using its model classes never changes torch's global state; only the
programs' entry points call :func:`apply_num_threads`, and the library functions that run workers
(:func:`run_tasks`, :func:`sb3_inril.quickstart.run_quickstart`) put the caller's thread count back.
"""

import argparse
import contextlib
import logging
import multiprocessing
import os
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

import torch as th

THREADS_VARIABLE = "OMP_NUM_THREADS"
NUM_THREADS_HELP = (
    "torch threads of each worker process (default: $OMP_NUM_THREADS if set, else 1: small networks gain nothing "
    "from more, and more threads slow down badly when anything else runs on the machine)"
)


def resolve_num_threads(requested: int | None = None) -> int:
    """
    The thread rule: ``requested`` when given, else ``$OMP_NUM_THREADS`` when set, else 1.

    :param requested: the ``--num-threads`` of a program (``None`` or a value below 1: not given)
    :return: torch threads for each worker process
    """
    if requested is not None and requested >= 1:
        return int(requested)
    value = os.environ.get(THREADS_VARIABLE, "").strip()
    if value:
        if not value.isdigit() or int(value) < 1:
            raise ValueError(f"{THREADS_VARIABLE}={value!r}: expected a positive integer")
        return int(value)
    return 1


def apply_num_threads(num_threads: int) -> None:
    """
    Use ``num_threads`` torch threads in this process and in the processes it starts from now on.

    For programs and worker processes only (their entry points call it); the library never does.
    ``OMP_NUM_THREADS`` is what a new process's torch (and OpenBLAS) reads when it starts: setting it
    here reaches ``SubprocVecEnv`` workers and pools without any code in them.

    :param num_threads: torch intra-op threads
    """
    th.set_num_threads(num_threads)
    os.environ[THREADS_VARIABLE] = str(num_threads)


@contextlib.contextmanager
def num_threads_applied(num_threads: int) -> Iterator[None]:
    """:func:`apply_num_threads` for the duration of a block, then the caller's thread count and
    ``OMP_NUM_THREADS`` back as they were (for library functions that run workers)."""
    previous_threads = th.get_num_threads()
    previous_variable = os.environ.get(THREADS_VARIABLE)
    apply_num_threads(num_threads)
    try:
        yield
    finally:
        th.set_num_threads(previous_threads)
        if previous_variable is None:
            os.environ.pop(THREADS_VARIABLE, None)
        else:
            os.environ[THREADS_VARIABLE] = previous_variable


def add_num_threads_argument(parser: argparse.ArgumentParser) -> None:
    """The ``--num-threads`` option of every program (the zoo's own option has the same name)."""
    parser.add_argument("--num-threads", type=int, default=None, help=NUM_THREADS_HELP)


def add_ray_address_argument(parser: argparse.ArgumentParser) -> None:
    """The ``--ray-address`` option of the sweep programs."""
    parser.add_argument(
        "--ray-address",
        default=None,
        help="run the runs as Ray tasks (one CPU each) on this cluster, e.g. 127.0.0.1:6379 or 'auto' "
        "(needs the 'ray' extra); results are collected here, as in a local run",
    )


def _call(arguments: tuple[Callable[..., Any], int, tuple[Any, ...]]) -> tuple[int, Any]:
    function, index, task = arguments
    return index, function(*task)


def _ray_task(function: Callable[..., Any], num_threads: int, task: tuple[Any, ...]) -> Any:
    # Ray reuses its worker processes across tasks (and sets OMP_NUM_THREADS from num_cpus): apply
    # the driver's rule in every task, so that both paths compute with the same thread count.
    apply_num_threads(num_threads)
    return function(*task)


def _pickle_module_by_value(function: Callable[..., Any]) -> None:
    """A script's functions (compare.py imported as a module, say) are not importable on Ray's workers:
    ship their module by value. ``__main__`` is shipped by value anyway, the package is installed."""
    import ray.cloudpickle

    module = sys.modules.get(function.__module__)
    if module is not None and function.__module__ != "__main__" and not function.__module__.startswith("sb3_inril"):
        ray.cloudpickle.register_pickle_by_value(module)


def _run_on_ray(
    function: Callable[..., Any], tasks: Sequence[tuple[Any, ...]], num_threads: int, ray_address: str, fresh_process: bool
) -> Iterator[tuple[int, Any]]:
    try:
        import ray
    except ImportError as error:
        raise ImportError("--ray-address needs Ray: pip install 'sb3_inril[ray]'") from error
    _pickle_module_by_value(function)
    connected_here = not ray.is_initialized()
    if connected_here:
        ray.init(address=ray_address, logging_level=logging.WARNING)
    try:
        # One CPU per task, as one local worker; max_calls=1 gives each task a fresh process (peak memory).
        remote = ray.remote(num_cpus=1, max_calls=1 if fresh_process else 0)(_ray_task)
        pending = {remote.remote(function, num_threads, task): index for index, task in enumerate(tasks)}
        while pending:
            done, _ = ray.wait(list(pending), num_returns=1)
            index = pending.pop(done[0])
            yield index, ray.get(done[0])
    finally:
        if connected_here:
            ray.shutdown()  # disconnects this driver; the cluster stays up


def run_tasks(
    function: Callable[..., Any],
    tasks: Iterable[tuple[Any, ...]],
    jobs: int = 1,
    num_threads: int = 1,
    ray_address: str | None = None,
    fresh_process: bool = False,
) -> Iterator[tuple[int, Any]]:
    """
    Run ``function(*task)`` for every task, locally or as Ray tasks, with the thread rule in each worker.

    Results come as they finish, so that a caller can save each at once (an interrupted sweep keeps
    what finished). The caller's torch thread count is the same afterwards.

    :param function: a module-level function (pickled to spawned processes or Ray workers)
    :param tasks: the argument tuples
    :param jobs: local worker processes (1: in this process, in order, unless ``fresh_process``)
    :param num_threads: torch threads in each worker (:func:`resolve_num_threads`)
    :param ray_address: a Ray cluster's address: each task becomes a Ray task with one CPU
    :param fresh_process: every task in a process of its own (for peak-memory figures)
    :return: ``(index of the task, result)`` pairs, in the order they finish
    """
    tasks = list(tasks)
    if ray_address is not None:
        yield from _run_on_ray(function, tasks, num_threads, ray_address, fresh_process)
        return
    if (jobs > 1 and len(tasks) > 1) or fresh_process:
        # spawn: a forked child would inherit torch's thread pool and the parent's locks.
        context = multiprocessing.get_context("spawn")
        with num_threads_applied(num_threads):  # OMP_NUM_THREADS for the pool's processes (and theirs)
            pool = context.Pool(
                max(1, min(jobs, len(tasks))),
                initializer=apply_num_threads,
                initargs=(num_threads,),
                maxtasksperchild=1 if fresh_process else None,
            )
            try:
                yield from pool.imap_unordered(_call, [(function, index, task) for index, task in enumerate(tasks)])
                # Let the workers exit by themselves (terminating them leaks the semaphores they made).
                pool.close()
                pool.join()
            finally:
                pool.terminate()
        return
    with num_threads_applied(num_threads):
        for index, task in enumerate(tasks):
            yield index, function(*task)
