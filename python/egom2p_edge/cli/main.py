"""Entry point of the ``egom2p`` command."""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

from egom2p_edge._version import __version__
from egom2p_edge.cli.commands import COMMANDS


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="egom2p",
        description=(
            "EgoM2P edge SDK: egocentric gaze and head pose from video, on the device.\n"
            "Run `egom2p <command> --help` for the options of one command."
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"egom2p-edge {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", metavar="<command>")
    for name, cmd in COMMANDS.items():
        sub.add_parser(name, help=cmd.help, add_help=False)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = _build_parser()
    # Parse only the command name here; the command's own parser handles the rest.
    top, rest = parser.parse_known_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if top.verbose else logging.INFO,
        format="%(levelname)s %(name)s: %(message)s",
    )
    if top.command is None:
        parser.print_help()
        return 0
    cmd = COMMANDS[top.command]
    try:
        module = importlib.import_module(cmd.module)
    except ModuleNotFoundError as exc:
        if exc.name and cmd.module.startswith(exc.name):
            print(
                f"egom2p {top.command}: not available in this version of the SDK yet "
                f"({cmd.module} is missing).",
                file=sys.stderr,
            )
            return 2
        raise
    sub = argparse.ArgumentParser(
        prog=f"egom2p {top.command}",
        description=(module.__doc__ or cmd.help).strip(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    module.add_arguments(sub)
    args = sub.parse_args(rest)
    return int(module.run(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
