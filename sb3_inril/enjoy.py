"""``python -m sb3_inril.enjoy``: rl_zoo3's enjoy CLI, able to load the IN-RIL algorithms."""

import rl_zoo3.enjoy

from sb3_inril.zoo import register


def main() -> None:
    register()
    rl_zoo3.enjoy.enjoy()


if __name__ == "__main__":
    main()
