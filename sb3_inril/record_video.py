"""``python -m sb3_inril.record_video``: rl_zoo3's ``record_video``, able to load the IN-RIL algorithms.

rl_zoo3 runs its ``record_video`` as a script (its code sits under ``if __name__ == "__main__"``),
so it is run as one here, after the IN-RIL algorithms are added to rl_zoo3's tables.
"""

import runpy

from sb3_inril.zoo import register


def main() -> None:
    register()
    runpy.run_module("rl_zoo3.record_video", run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
