"""The map in docs/architecture.md, kept true: module sizes, import cycles, which package may
import which, where SQL lives, and what a function-level import may be for.

These are the rules a newcomer relies on to find one concept in one module; each failure names
the module and the rule it breaks.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src"
MAX_LINES = 500

#: Third-party packages that are optional (extras), so imported where they are used, and the
#: packages of src/ that import them at their top.
OPTIONAL = frozenset({"ldap", "pyasn1", "msgraph", "kiota_abstractions", "azure"})
NEEDS_OPTIONAL = ("idsync.connectors.ldap",)

#: Packages whose modules may hold SQL text: the stores (idsync's, clouddir's, and the LDIF
#: file directory's private index, which is the connected directory's storage, not idsync's).
SQL_HOMES = ("idsync.store", "clouddir.storage", "idsync.filedir")

#: Which package may not import which (the layers of docs/architecture.md). A package named
#: on the left may import nothing inside the packages on the right.
FORBIDDEN: dict[str, tuple[str, ...]] = {
    "idsync.store": ("idsync.engine", "idsync.connectors", "idsync.administration",
                     "idsync.cli", "idsync.scheduler", "idsync.largegroups", "idsync.writeback",
                     "idsync.lab", "idsync.filedir", "idsync.expressions", "idsync.rules.edits",
                     "idsync.rules.files", "idsync.rules.outofbox", "idsync.rules.scoping",
                     "idsync.rules.validation"),
    "idsync.rules": ("idsync.store", "idsync.engine", "idsync.connectors", "idsync.administration",
                     "idsync.cli", "idsync.scheduler", "idsync.largegroups", "idsync.writeback"),
    "idsync.expressions": ("idsync.store", "idsync.engine", "idsync.rules", "idsync.connectors",
                           "idsync.administration", "idsync.cli", "idsync.scheduler"),
    "idsync.connectors": ("idsync.store", "idsync.engine", "idsync.rules",
                          "idsync.administration", "idsync.cli", "idsync.scheduler",
                          "idsync.largegroups", "idsync.writeback", "idsync.lab"),
    "idsync.filedir": ("idsync.connectors", "idsync.store", "idsync.engine", "idsync.rules",
                       "idsync.administration", "idsync.cli", "idsync.scheduler", "idsync.lab"),
    # the engine talks to connectors through their contract (connectors.base), never to the
    # LDAP or cloud connector itself
    "idsync.engine": ("idsync.administration", "idsync.cli", "idsync.scheduler",
                      "idsync.largegroups", "idsync.lab", "idsync.demo",
                      "idsync.connectors.ldap", "idsync.connectors.cloud",
                      "idsync.connectors.file"),
    "idsync.writeback": ("idsync.engine", "idsync.administration", "idsync.cli",
                         "idsync.scheduler"),
    "idsync.scheduler": ("idsync.administration", "idsync.cli", "idsync.lab"),
    "idsync.largegroups": ("idsync.administration", "idsync.cli", "idsync.lab"),
    "idsync.administration": ("idsync.cli", "idsync.lab"),
    # the web UI calls the same operations as the command line, never the reverse
    "idsync.web": ("idsync.cli", "idsync.lab", "idsync.demo"),
    # the lab kit stands apart: throwaway servers and data, importing no part of the engine
    "idsync.lab": ("idsync.store", "idsync.engine", "idsync.connectors", "idsync.rules",
                   "idsync.administration", "idsync.cli", "idsync.scheduler"),
}

#: The engine's passes: none imports another; what they share is in the run and batch
#: contexts (core, sync_context) and in neutral modules.
PASSES = frozenset({"idsync.engine.importing", "idsync.engine.join_projection",
                    "idsync.engine.inbound_flow", "idsync.engine.provisioning",
                    "idsync.engine.outbound_flow", "idsync.engine.exporting"})
SQL = re.compile(r"\b(SELECT\s+.+\s+FROM|INSERT\s+INTO|DELETE\s+FROM|UPDATE\s+\w+\s+SET"
                 r"|CREATE\s+(TABLE|INDEX|TRIGGER))\b", re.I | re.S)


@dataclass
class Module:
    name: str
    path: Path
    lines: int
    #: modules of src/ this one imports, anywhere in it
    imports: set[str] = field(default_factory=set)
    #: (line, imported name) of imports inside a function or method
    local_imports: list[tuple[int, str]] = field(default_factory=list)
    #: line numbers of string constants that look like SQL
    sql_lines: list[int] = field(default_factory=list)


def _name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _targets(mod: str, is_package: bool, node: ast.Import | ast.ImportFrom) -> list[str]:
    if isinstance(node, ast.Import):
        return [a.name for a in node.names]
    base = node.module or ""
    if node.level:
        here = mod.split(".") if is_package else mod.split(".")[:-1]
        here = here[: len(here) - (node.level - 1)]
        base = ".".join([*here, base] if base else here)
    return [base] + [f"{base}.{a.name}" for a in node.names]


@cache
def modules() -> dict[str, Module]:
    found = {_name(p): p for p in sorted(SRC.rglob("*.py"))}
    out: dict[str, Module] = {}
    for mod, path in found.items():
        text = path.read_text(encoding="utf-8")
        tree = ast.parse(text)
        m = Module(mod, path, text.count("\n") + 1)
        local: set[int] = set()
        for fn in ast.walk(tree):
            if isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef):
                local |= {id(n) for n in ast.walk(fn) if isinstance(n, ast.Import | ast.ImportFrom)}
        for node in ast.walk(tree):
            if isinstance(node, ast.Import | ast.ImportFrom):
                targets = _targets(mod, path.name == "__init__.py", node)
                if id(node) in local:
                    m.local_imports.append((node.lineno, targets[0]))
                for t in targets:
                    while t and t not in found:
                        t = t.rpartition(".")[0]
                    if t and t != mod and not mod.startswith(t + "."):
                        m.imports.add(t)
            elif (isinstance(node, ast.Constant) and isinstance(node.value, str)
                  and SQL.search(node.value)):
                m.sql_lines.append(node.lineno)
        out[mod] = m
    return out


def _cycles(graph: dict[str, set[str]]) -> Iterator[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iteratively)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            v, edges = work[-1]
            w = next(edges, None)
            if w is not None:
                if w not in index:
                    index[w] = low[w] = len(index)
                    stack.append(w)
                    on_stack.add(w)
                    work.append((w, iter(sorted(graph[w]))))
                elif w in on_stack:
                    low[v] = min(low[v], index[w])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[v])
            if low[v] == index[v]:
                component = []
                while True:
                    w = stack.pop()
                    on_stack.discard(w)
                    component.append(w)
                    if w == v:
                        break
                if len(component) > 1:
                    yield sorted(component)


def _within(mod: str, package: str) -> bool:
    return mod == package or mod.startswith(package + ".")


def test_no_module_is_over_500_lines():
    big = [f"{m.path.relative_to(SRC)}: {m.lines} lines"
           for m in modules().values() if m.lines > MAX_LINES]
    assert not big, "split these by concept: " + "; ".join(big)


def test_no_import_cycles_not_even_inside_functions():
    graph = {name: m.imports for name, m in modules().items()}
    cycles = [" <-> ".join(c) for c in _cycles(graph)]
    assert not cycles, cycles


def test_function_level_imports_only_for_optional_dependencies():
    wrong = [f"{m.path.relative_to(SRC)}:{line} imports {what}"
             for m in modules().values() for line, what in m.local_imports
             if what.split(".")[0] not in OPTIONAL
             and not any(_within(what, p) for p in NEEDS_OPTIONAL)]
    assert not wrong, "import these at the top of the module: " + "; ".join(wrong)


def test_sql_lives_only_in_the_stores():
    wrong = [f"{m.path.relative_to(SRC)}:{line}" for m in modules().values()
             for line in m.sql_lines if not any(_within(m.name, h) for h in SQL_HOMES)]
    assert not wrong, "move this SQL into a store repository: " + "; ".join(wrong)


def test_idsync_and_clouddir_import_nothing_of_each_other():
    crossing = [f"{m.name} imports {t}" for m in modules().values() for t in m.imports
                if (_within(m.name, "idsync") and _within(t, "clouddir"))
                or (_within(m.name, "clouddir") and _within(t, "idsync"))]
    assert not crossing, crossing


def test_each_layer_imports_only_the_layers_below_it():
    wrong = [f"{m.name} imports {t}" for m in modules().values() for t in sorted(m.imports)
             for package, below in FORBIDDEN.items()
             if _within(m.name, package) and any(_within(t, f) for f in below)]
    assert not wrong, wrong


def test_only_the_command_line_imports_the_command_line_and_only_the_demo_the_lab_kit():
    wrong = [f"{m.name} imports {t}" for m in modules().values() for t in sorted(m.imports)
             if (_within(t, "idsync.cli") and not _within(m.name, "idsync.cli")
                 and m.name != "idsync.__main__")
             # the web UI sits beside the command line: only `idsync serve` starts it
             or (_within(t, "idsync.web") and not _within(m.name, "idsync.web")
                 and not _within(m.name, "idsync.cli"))
             or (_within(t, "idsync.lab") and not _within(m.name, "idsync.lab")
                 and m.name != "idsync.demo")]
    assert not wrong, wrong


def test_no_engine_pass_imports_another():
    wrong = [f"{name} imports {t}" for name in PASSES for t in modules()[name].imports
             if t in PASSES]
    assert not wrong, wrong
