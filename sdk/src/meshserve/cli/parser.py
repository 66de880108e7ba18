"""The command line: global options and one sub-parser per command group.

Global options may be written before or after the command (``meshserve --json models list`` and
``meshserve models list --json``). The leaf parsers repeat them with ``SUPPRESS`` defaults, so a
value given after the command overrides the one given before and an absent one leaves it alone.
Defaults are read from the environment when the parser is built, never at import time."""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable

from meshserve import __version__, config

Register = Callable[["argparse._SubParsersAction[argparse.ArgumentParser]"], None]


def _options(parser: argparse._ActionsContainer, *, suppress: bool) -> None:
    """Adds the global options; with ``suppress`` their absence sets nothing."""

    def default(value: object) -> object:
        return argparse.SUPPRESS if suppress else value

    env_url = config.base_url_from_env()
    parser.add_argument(
        "--base-url",
        metavar="URL",
        default=default(env_url or config.DEFAULT_BASE_URL),
        help=f"gateway URL (MESHSERVE_BASE_URL; default {config.DEFAULT_BASE_URL})",
    )
    parser.add_argument(
        "--api-key",
        metavar="KEY",
        default=default(config.api_key_from_env()),
        help="API key or access token sent as a Bearer token (MESHSERVE_API_KEY)",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        metavar="SECONDS",
        default=default(float(os.environ.get("MESHSERVE_TIMEOUT") or 120)),
        help="per-request timeout; model loads and uploads allow longer (MESHSERVE_TIMEOUT; default 120)",
    )
    parser.add_argument(
        "--json",
        action="store_true",
        default=default(False),
        help="print the gateway's answer as JSON instead of text",
    )
    parser.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=default(None),
        help="progress bars on stderr (default: when stderr is a terminal)",
    )


def leaf(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser], name: str, help: str, description: str
) -> argparse.ArgumentParser:
    """A command's parser, accepting the global options after the command too."""
    parser = subparsers.add_parser(name, help=help, description=description)
    _options(parser.add_argument_group("global options (also accepted before the command)"), suppress=True)
    return parser


def build(groups: list[Register]) -> argparse.ArgumentParser:
    """The ``meshserve`` parser with every command group registered."""
    parser = argparse.ArgumentParser(
        prog="meshserve",
        description="Command-line client of a meshserve gateway (and the local mesh's launcher).",
        epilog="Run 'meshserve COMMAND --help' for a command's options.",
    )
    parser.add_argument("--version", action="version", version=f"meshserve {__version__}")
    _options(parser, suppress=False)
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    # Handled before parsing (they belong to the server package); listed here for --help.
    subparsers.add_parser("up", help="run the whole mesh locally (needs the server package)", add_help=False)
    subparsers.add_parser("status", help="each local mesh process, its pid and health", add_help=False)
    for register in groups:
        register(subparsers)
    return parser
