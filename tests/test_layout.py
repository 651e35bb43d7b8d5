"""The package's layers hold: what each folder may import, no import circles, a pure core.

Every module is found by walking the folders, so a new module is covered the day it is
added; imports inside functions count too (a lazy import is still a dependency)."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parent.parent / "src" / "ketaplan"

#: Standard-library modules the core may not use: they reach files, processes, the
#: network or the terminal. Everything else in the standard library is fair.
IMPURE_STDLIB = {
    "os",
    "sys",
    "io",
    "subprocess",
    "sqlite3",
    "socket",
    "shutil",
    "tempfile",
    "logging",
    "pathlib",
    "threading",
    "multiprocessing",
    "signal",
    "tomllib",
    "json",
    "urllib",
    "http",
    "importlib",
}
#: Third-party packages each layer may import (the CLI may import anything).
THIRD_PARTY = {
    # python-dateutil's parser reads "1 Dec 2026": pure text-to-date, no I/O.
    "core": {"dateutil"},
    # email_validator, phonenumbers: only formats.contact, only when a contact is given
    "formats": {"dateutil", "icalendar", "recurring_ical_events", "x_wr_timezone", "reportlab"}
    | {"email_validator", "phonenumbers"}
    # babel: only formats.i18n, only for a language other than English
    | {"babel"},
    # psycopg: only store.pg_ledger, only when the ledger is a postgresql:// URL
    "store": {"dateutil", "platformdirs", "holidays", "psycopg"},
    # highspy, numpy: only solver.highs; ortools: only solver.cpsat (--solver cpsat); only for --optimize
    "solver": {"highspy", "numpy", "ortools"},
    # caldav: only app.transport, only when a clinic file has [caldav]
    "app": {"dateutil", "caldav"},
}
#: Which of our folders each layer may import.
MAY_IMPORT = {
    "core": {"core"},
    "formats": {"core", "formats"},
    "store": {"core", "formats", "store"},
    "solver": {"core", "solver"},
    "app": {"core", "formats", "store", "solver", "app"},
    "cli": {"core", "formats", "store", "solver", "app", "cli"},
}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PKG.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in PKG.rglob("*.py")}


def imports(path: Path) -> set[str]:
    """Every module `path` imports, resolved: `from ketaplan.core import checks` -> ketaplan.core.checks."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"{path.name}: relative import (write ketaplan.… in full)"
            base = node.module or ""
            for a in node.names:
                found.add(f"{base}.{a.name}" if f"{base}.{a.name}" in MODULES else base)
    return found


def layer(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 2 or (len(parts) == 2 and parts[1] in MAY_IMPORT) else None


def test_every_module_lives_in_a_layer_folder() -> None:
    loose = sorted(
        m for m in MODULES if layer(m) is None and m not in ("ketaplan", "ketaplan.__main__", "ketaplan.data")
    )
    assert not loose, f"modules outside core/, formats/, store/, solver/, app/, cli/: {loose}"


@pytest.mark.parametrize(
    "module", sorted(m for m in MODULES if layer(m) in ("core", "formats", "store", "solver", "app"))
)
def test_each_layer_imports_only_what_it_may(module: str) -> None:
    mine = layer(module)
    assert mine is not None
    for imported in imports(MODULES[module]):
        top = imported.split(".")[0]
        if top == "__future__":
            continue
        if top == "ketaplan":
            theirs = layer(imported)
            assert imported == "ketaplan" or theirs in MAY_IMPORT[mine], f"{module} imports {imported}"
        elif top in sys.stdlib_module_names:
            assert not (mine == "core" and top in IMPURE_STDLIB), f"{module} imports {imported}"
        else:
            assert top in THIRD_PARTY[mine], f"{module} imports {imported} (not allowed in {mine}/)"


#: What storage may know of the core: values, errors, dates and the admission rule's value type.
#: Planning (availability, planner, checks, the optimiser's models) is combined with
#: storage only in the application layer.
STORE_MAY_USE = {"ketaplan.core.model", "ketaplan.core.errors", "ketaplan.core.admission", "ketaplan.core.dates"}


@pytest.mark.parametrize("module", sorted(m for m in MODULES if layer(m) == "store"))
def test_storage_knows_no_planning(module: str) -> None:
    used = {i for i in imports(MODULES[module]) if i.startswith("ketaplan.core")}
    assert used <= STORE_MAY_USE, f"{module} imports {sorted(used - STORE_MAY_USE)}: planning belongs in app/"


def test_no_import_circles() -> None:
    graph = {m: {i for i in imports(p) if i in MODULES and i != m} for m, p in MODULES.items()}
    assert not circles(graph), f"import circles: {circles(graph)}"


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's strongly connected components: any component of two or more is a circle."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


@pytest.mark.parametrize("module", sorted(m for m in MODULES if layer(m) == "core"))
def test_core_is_pure(module: str) -> None:
    """The core neither imports typer/rich nor prints, exits or writes files."""
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            assert node.func.id not in ("print", "exit", "open", "input"), f"{module} calls {node.func.id}()"
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            banned = ("exit", "write_text", "write_bytes", "read_text", "read_bytes", "unlink")
            assert node.func.attr not in banned, f"{module} calls .{node.func.attr}()"


def test_the_checkers_can_fail(tmp_path: Path) -> None:
    """The circle finder finds a circle, and imports() sees lazy and module imports."""
    assert circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert circles({"a": {"b"}, "b": set()}) == []
    src = tmp_path / "a.py"
    src.write_text("def f():\n    from ketaplan.store import ledger\n    import os\n")
    assert imports(src) == {"ketaplan.store.ledger", "os"}
    src.write_text("from ketaplan.core.planner import find_plan\n")  # what storage may not do
    assert not {i for i in imports(src) if i.startswith("ketaplan.core")} <= STORE_MAY_USE
