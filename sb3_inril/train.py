"""``python -m sb3_inril.train``: rl_zoo3's training CLI with ``inril_ppo``, ``inril_sac`` and ``inril_tqc``.

Every rl_zoo3 flag works as usual (``--algo``, ``--env``, ``-n``, ``-conf``, ``-params``, ``-i``,
``-tb``, ``--eval-freq``, ``--seed``, ``-optimize``, ``--storage``, ``--study-name``,
``--n-trials``, ``--n-jobs``, ...). See docs/zoo.md.
"""

import rl_zoo3.train

from sb3_inril.zoo import register


def main() -> None:
    register()
    rl_zoo3.train.train()


if __name__ == "__main__":
    main()
