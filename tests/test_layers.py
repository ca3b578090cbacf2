"""The packages stack one way, and every package keeps its SQL to itself.

    main.py, web/, ops/          wire the top
    teams/                       community teams, field activity, who is asked to go back
    merchants/                   markets, stalls, holders, accounts, registration, signs
    partners/                    registry, onboardings, events, imports, lookup, stats
    privacy/                     consent, notices, data-subject requests
    coverage/                    levels, counters, the rule, reads, exports, the report
    qr/  admin_units/            VietQR payloads, banks, rendering, signs; the unit directory
    core/                        settings, db, errors, auth, access, crypto, state, types

A module may import its own package and any package on a lower layer, never one above it or
beside it on the same layer. Another package's SQL (its `queries` modules) is never imported:
it is reached through that package's service functions. Project imports sit at the top of a
module, never inside a function, so a cycle cannot hide there.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LAYERS: dict[str, int] = {
    "core": 0,
    "qr": 1,
    "admin_units": 1,
    "coverage": 2,
    "privacy": 3,
    "partners": 4,
    "merchants": 5,
    "teams": 6,  # asks merchants (a stall, a market in scope) for return-visit assignments
    "ops": 7,
    "web": 7,
    "main": 8,
}


def _modules() -> list[Path]:
    found = [ROOT / "main.py"]
    for package in LAYERS:
        folder = ROOT / package
        if folder.is_dir():
            found += sorted(folder.rglob("*.py"))
    return found


def _package(path: Path) -> str:
    rel = path.relative_to(ROOT)
    return rel.parts[0] if len(rel.parts) > 1 else rel.stem


def _imports(tree: ast.AST) -> list[tuple[ast.AST, str, bool]]:
    """(node, imported module, inside a function) for every import of a project package."""
    out: list[tuple[ast.AST, str, bool]] = []

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            inner = in_function or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef)
            if isinstance(child, ast.Import):
                out.extend((child, a.name, in_function) for a in child.names)
            elif isinstance(child, ast.ImportFrom) and child.module and child.level == 0:
                names = [f"{child.module}.{a.name}" for a in child.names]
                out.extend((child, n, in_function) for n in names)
            visit(child, inner)

    visit(tree, False)
    return [(n, m, f) for n, m, f in out if m.split(".")[0] in LAYERS]


def _violations() -> list[str]:
    problems = []
    for path in _modules():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        mine = _package(path)
        where = path.relative_to(ROOT)
        for node, module, in_function in _imports(tree):
            theirs = module.split(".")[0]
            line = getattr(node, "lineno", 0)
            if in_function:
                problems.append(f"{where}:{line} imports {module} inside a function")
            if theirs == mine:
                continue
            if LAYERS[theirs] >= LAYERS[mine]:
                problems.append(f"{where}:{line} imports {module} from the same or a higher layer")
            if ".queries" in module or module.endswith("queries"):
                problems.append(f"{where}:{line} imports another package's SQL ({module})")
    return problems


def test_packages_import_only_downwards_and_never_each_others_sql() -> None:
    assert _violations() == []


def test_the_check_catches_an_upward_import(tmp_path: Path) -> None:
    """The parser sees a violation when there is one (a test that cannot fail is a defect)."""
    tree = ast.parse(
        "from merchants import stalls\n"
        "def f():\n    from partners import queries\n"
        "import coverage.queries.counters\n"
    )
    found = _imports(tree)
    assert [(m, f) for _, m, f in found] == [
        ("merchants.stalls", False),
        ("partners.queries", True),
        ("coverage.queries.counters", False),
    ]
