"""Command line: ``python -m sb3_inril COMMAND`` (or ``sb3-inril COMMAND``)."""

import sys

COMMANDS = {
    "quickstart": "BC pre-training on shipped Hopper-v5 demos, then PPO vs InRILPPO fine-tuning",
    "demos": "inspect PATH | convert SRC DST: look at and convert demonstration files",
}


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] in ("-h", "--help") or argv[0] not in COMMANDS:
        print("usage: sb3-inril COMMAND [options]\n\ncommands:")
        for name, text in COMMANDS.items():
            print(f"  {name:<12} {text}")
        if argv and argv[0] not in ("-h", "--help"):
            print(f"\nerror: unknown command {argv[0]!r}", file=sys.stderr)
            sys.exit(2)
        return
    if argv[0] == "quickstart":
        from sb3_inril.quickstart import main as quickstart_main

        quickstart_main(argv[1:])
    elif argv[0] == "demos":
        from sb3_inril.demos_cli import main as demos_main

        sys.exit(demos_main(argv[1:]))


if __name__ == "__main__":
    main()
