"""One SQL statement from parts that several packages own.

A registration writes rows of four concepts (the stall, its onboardings, its consents, its coverage)
in one round trip. Each package keeps the SQL of its own rows as a part: WITH-list entries that
read the rows an earlier entry returned (by CTE name) and take named parameters (`$name`). A
statement joins the parts, and `compose` numbers the names ($1, $2, ...) for asyncpg, the same
name always the same number.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

# $name, not $1 (numbered) and not $$ (dollar quoting).
_NAMED = re.compile(r"\$([a-z_][a-z0-9_]*)")


@dataclass(frozen=True)
class Statement:
    """SQL text with numbered parameters, and the name behind each number."""

    text: str
    names: tuple[str, ...]

    def args(self, values: Mapping[str, Any]) -> list[Any]:
        """The parameters in number order; a name without a value is a bug (KeyError)."""
        return [values[name] for name in self.names]


def compose(text: str) -> Statement:
    """Number the `$name` parameters of a statement in order of first appearance."""
    names: list[str] = []

    def number(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in names:
            names.append(name)
        return f"${names.index(name) + 1}"

    return Statement(_NAMED.sub(number, text), tuple(names))
