"""The ``studymate`` command: one subcommand per module.

To add ``studymate NAME``, write a module with ``register(subparsers)`` that adds its parser
and sets ``handler`` (``args -> exit status``), and list it in :data:`COMMANDS`.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

#: Modules that each register one subcommand; imported only when the command line is parsed.
COMMANDS: list[str] = [
    "studymate_jupyter.client.terminal",
    "studymate_jupyter.add_command",
]


def build_parser(commands: Sequence[str] = COMMANDS) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="studymate", description="StudyMate for Jupyter")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in commands:
        importlib.import_module(name).register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    status: int = args.handler(args)
    return status


if __name__ == "__main__":
    sys.exit(main())
