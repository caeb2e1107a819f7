"""The rule documents of `rules/`, for `retrylint explain` and SARIF's rule `help`.

The wheel ships them as `retrylint/_rule_docs` (pyproject's force-include); an editable
install or a checkout reads them from `rules/` next to the package.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from retrylint.rules import RULES


def rule_doc(code: str) -> str | None:
    """A rule's Markdown document, or None when this install lacks it."""
    name = f"{code}-{RULES[code].meta.name}.md"
    shipped = resources.files("retrylint").joinpath("_rule_docs").joinpath(name)
    if shipped.is_file():
        return shipped.read_text(encoding="utf-8")
    checkout = Path(__file__).resolve().parents[2] / "rules" / name
    return checkout.read_text(encoding="utf-8") if checkout.is_file() else None
