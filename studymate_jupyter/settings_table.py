"""``python -m studymate_jupyter.settings_table [--check]``: README's tables of settings, made
from the traits' own help so that they cannot drift from the code.

Each table sits in README.md between ``<!-- settings: ClassName -->`` and
``<!-- /settings -->``; this rewrites what is between them (``--check``: only says whether
they are current, for the test suite).
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from traitlets import HasTraits, TraitType

from .app import StudyMate
from .assistant.openai_compat import OpenAIProvider
from .library.hybrid import HybridRetriever

README = Path(__file__).resolve().parent.parent / "README.md"
CLASSES: list[type[HasTraits]] = [StudyMate, OpenAIProvider, HybridRetriever]
BLOCK = re.compile(r"(<!-- settings: (?P<name>\w+) -->\n).*?(<!-- /settings -->)", re.DOTALL)


def table(cls: type[HasTraits]) -> str:
    """A Markdown table of the settings `cls` itself declares, in the order it declares them."""
    own = cls.class_traits(config=True)
    computed = vars(cls).get("_trait_default_generators", {})
    rows = ["| setting | default | meaning |", "|---|---|---|"]
    for name in (name for name in vars(cls) if name in own):
        trait: TraitType[object, object] = own[name]
        default = "computed" if name in computed else f"`{trait.default_value_repr()}`"
        meaning = " ".join(str(trait.help).split()).replace("|", "\\|")
        rows.append(f"| `{name}` | {default} | {meaning} |")
    return "\n".join(rows) + "\n"


def render(text: str) -> str:
    """`text` (README's) with every settings block made from the current traits."""
    by_name = {cls.__name__: cls for cls in CLASSES}

    def fill(match: re.Match[str]) -> str:
        return f"{match[1]}{table(by_name[match['name']])}{match[3]}"

    return BLOCK.sub(fill, text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m studymate_jupyter.settings_table")
    parser.add_argument("--check", action="store_true", help="only say whether README is current")
    args = parser.parse_args(argv)
    current = README.read_text(encoding="utf-8")
    fresh = render(current)
    if args.check:
        if fresh != current:
            print("README.md's settings tables are stale: run python -m " + __spec__.name)
            return 1
        return 0
    README.write_text(fresh, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
