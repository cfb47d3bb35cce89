"""``python -m sb3_inril.train``: rl_zoo3's training CLI with ``inril_ppo``, ``inril_sac`` and ``inril_tqc``.

Every rl_zoo3 flag works as usual (``--algo``, ``--env``, ``-n``, ``-conf``, ``-params``, ``-i``,
``-tb``, ``--eval-freq``, ``--seed``, ``-optimize``, ``--storage``, ``--study-name``,
``--n-trials``, ``--n-jobs``, ...). See docs/zoo.md.

Threads: rl_zoo3's ``--num-threads`` (its default, -1, leaves torch's default: one thread per core)
follows the project's rule here: when it is not given, ``$OMP_NUM_THREADS`` if set, else 1
(:mod:`sb3_inril.parallel`). The number holds for the training process, for the trials of
``-optimize --n-jobs`` (threads of that process) and reaches ``--vec-env subproc`` workers through
``OMP_NUM_THREADS``.
"""

import argparse
import sys

import rl_zoo3.train

from sb3_inril.parallel import apply_num_threads, resolve_num_threads
from sb3_inril.zoo import register


def with_num_threads(argv: list[str]) -> tuple[list[str], int]:
    """
    ``argv`` with ``--num-threads`` set by the thread rule when it is absent or -1.

    :param argv: rl_zoo3's command line arguments (without the program name)
    :return: the arguments to hand to rl_zoo3, and the number of threads they hold
    """
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--num-threads", type=int, default=-1)
    known, _ = parser.parse_known_args(argv)
    num_threads = resolve_num_threads(known.num_threads)
    if known.num_threads == num_threads:
        return argv, num_threads
    return [*argv, "--num-threads", str(num_threads)], num_threads


def main() -> None:
    argv, num_threads = with_num_threads(sys.argv[1:])
    # This is a program: its process and the ones it starts (SubprocVecEnv workers) take the rule.
    apply_num_threads(num_threads)
    sys.argv = [sys.argv[0], *argv]
    register()
    rl_zoo3.train.train()


if __name__ == "__main__":
    main()
