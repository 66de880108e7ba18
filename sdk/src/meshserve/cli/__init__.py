"""The ``meshserve`` command.

``up`` and ``status`` run the local mesh (they need the server package: ``pip install .`` at the
repository root). Every other command is a client of a gateway over REST, built on
:class:`meshserve.Client` and nothing more, so it works from ``pip install ./sdk`` alone:

* ``models list|upload|load|unload`` (:mod:`meshserve.cli.models`)
* ``predict``, ``chat`` (:mod:`meshserve.cli.infer`)
* ``speak``, ``transcribe`` (:mod:`meshserve.cli.speech`)

Results go to stdout (``--json`` for machine-readable output); progress bars and errors go to
stderr. Exit codes: 0 success, 1 the gateway refused or failed the request (or could not be
reached), 2 a usage error found before any request (bad arguments, missing file, invalid JSON),
130 interrupted.
"""

from __future__ import annotations

import argparse
import sys

from meshserve.cli import infer, models, output, parser, speech
from meshserve.client import Client
from meshserve.errors import MeshserveError

SERVER_COMMANDS = ("up", "status")


def _launcher(args: list[str]) -> int:
    try:
        from services.launcher.cli import main as launcher_main
    except ImportError:
        print(
            "meshserve: error: 'up' and 'status' need the server package: pip install . (repository root)",
            file=sys.stderr,
        )
        return output.EXIT_USAGE
    return launcher_main(args)


def build_parser() -> argparse.ArgumentParser:
    """The whole command line (``up``/``status`` are listed; the launcher parses their options)."""
    return parser.build([models.register, infer.register, speech.register])


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``meshserve`` console script."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] in SERVER_COMMANDS:
        return _launcher(args)
    options = build_parser().parse_args(args)
    try:
        with Client(options.base_url, api_key=options.api_key or None, timeout=options.timeout) as client:
            return int(options.handler(client, options))
    except (MeshserveError, output.UsageError) as error:
        return output.fail(error)
    except KeyboardInterrupt:
        print(file=sys.stderr)
        return 130
    except BrokenPipeError:  # `meshserve ... | head`: the reader left; nothing more to say
        sys.stderr.close()
        return 0


if __name__ == "__main__":
    sys.exit(main())
