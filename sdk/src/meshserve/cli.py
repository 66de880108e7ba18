"""The ``meshserve`` command. ``up`` and ``status`` run the local mesh (needs the server package,
``pip install .`` at the repository root); the other commands talk to a gateway over REST."""

from __future__ import annotations

import sys

SERVER_COMMANDS = ("up", "status")


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``meshserve`` console script."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] in SERVER_COMMANDS:
        try:
            from services.launcher.cli import main as launcher_main
        except ImportError:
            print(
                "meshserve up/status need the server package: pip install . (repository root)",
                file=sys.stderr,
            )
            return 2
        return launcher_main(args)
    print("usage: meshserve up | status", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
