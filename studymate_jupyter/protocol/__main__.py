"""``python -m studymate_jupyter.protocol --schema [-o FILE]``: the protocol's JSON Schema."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .schema import protocol_schema


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m studymate_jupyter.protocol",
        description="Print the JSON Schema of every StudyMate frame and REST record.",
    )
    parser.add_argument("--schema", action="store_true", required=True, help="print the schema")
    parser.add_argument("-o", "--output", type=Path, help="write it to this file instead")
    args = parser.parse_args(argv)
    text = json.dumps(protocol_schema(), indent=2, ensure_ascii=False) + "\n"
    if args.output is None:
        sys.stdout.write(text)
    else:
        args.output.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
