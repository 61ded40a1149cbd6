"""No import cycles between the modules of `dse` and `evaluators` (issue 10, item 4).

A module's imports are the `import` statements it runs when it is imported: module level,
including inside `try`/`if` blocks, but not `if TYPE_CHECKING:` blocks and not imports
inside functions (those run later, after every module involved has loaded, which is how
a deliberate back-reference is written). Importing `a.b.c` also imports the packages
`a` and `a.b`, so those count as imports too, except a module's own parent packages
(Python imports those before the module anyway; that is not a cycle).

Two levels are checked:
- modules: no cycle at all (none exists today);
- rooms (each subpackage or top-level module of `dse`, e.g. `dse.core`, `dse.space`, and
  `evaluators` as one): no cycle but the ones in KNOWN_ROOM_CYCLES, each with the issue
  that removes it. A listed cycle must still exist as listed: when a fix removes it, or a
  change drags another room into it, the test fails and the list is brought up to date.

Run it alone with `python -m tests.test_import_cycles`: it prints every cycle and exits 1
if there is one that is not known.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("dse", "evaluators")

# Room cycles that exist today, each with what removes it. Any other cycle fails.
KNOWN_ROOM_CYCLES: dict[frozenset[str], str] = {
    frozenset({"dse.search", "dse.space"}): (
        "issue 10 item 4: dse/space.py moves into dse/search/ (space imports "
        "search.expressions; search.evaluation and search.study import space)"),
    frozenset({"dse.config", "dse.core", "dse.validation", "evaluators"}): (
        "issue 10 item 4: the economics format and loader move to dse/config/ "
        "(core.economics imports config; config.calibration_file imports core.calibration "
        "and validation.splits; validation uses evaluators; evaluators load their files "
        "with config)"),
}


def module_files() -> dict[str, Path]:
    """{dotted module name: file} for every module of PACKAGES."""
    out: dict[str, Path] = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            out[".".join(parts)] = path
    return out


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _load_time_imports(body: list[ast.stmt]) -> Iterator[ast.Import | ast.ImportFrom]:
    """Import statements that run when the module is imported."""
    for node in body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
        elif isinstance(node, ast.If):
            if not _is_type_checking(node.test):
                yield from _load_time_imports(node.body)
            yield from _load_time_imports(node.orelse)
        elif isinstance(node, ast.Try):
            for block in (node.body, node.orelse, node.finalbody,
                          *[h.body for h in node.handlers]):
                yield from _load_time_imports(block)
        elif isinstance(node, (ast.With, ast.For, ast.While)):
            yield from _load_time_imports(node.body)


def import_graph() -> dict[str, set[str]]:
    """{module: the modules of PACKAGES it imports at load time}."""
    modules = module_files()
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        is_package = path.name == "__init__.py"
        for node in _load_time_imports(ast.parse(path.read_text(), str(path)).body):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            else:
                base = node.module or ""
                if node.level:
                    anchor = name.split(".")
                    anchor = anchor[: len(anchor) - node.level + (1 if is_package else 0)]
                    base = ".".join([*anchor, base] if base else anchor)
                targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules
                           else base for alias in node.names]
            for target in targets:
                parts = target.split(".")
                for i in range(1, len(parts) + 1):
                    dotted = ".".join(parts[:i])
                    own_parent = name.startswith(dotted + ".")
                    if dotted in modules and dotted != name and not own_parent:
                        graph[name].add(dotted)
    return graph


def room(module: str) -> str:
    """`dse.core.program` -> `dse.core`; `dse.space` -> `dse.space`; `evaluators.x` ->
    `evaluators`."""
    parts = module.split(".")
    return ".".join(parts[:2]) if parts[0] == "dse" and len(parts) > 1 else parts[0]


def room_graph(graph: dict[str, set[str]]) -> dict[str, set[str]]:
    rooms: dict[str, set[str]] = {room(m): set() for m in graph}
    for module, imported in graph.items():
        rooms[room(module)] |= {room(m) for m in imported} - {room(module)}
    return rooms


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan), sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for succ in sorted(graph[node]):
            if succ not in index:
                visit(succ)
                low[node] = min(low[node], low[succ])
            elif succ in on_stack:
                low[node] = min(low[node], index[succ])
        if low[node] == index[node]:
            component: list[str] = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))
    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(found)


def test_no_import_cycle_between_modules() -> None:
    assert cycles(import_graph()) == []


def test_no_import_cycle_between_rooms_but_the_known_ones() -> None:
    found = {frozenset(c) for c in cycles(room_graph(import_graph()))}
    new = [sorted(c) for c in found if c not in KNOWN_ROOM_CYCLES]
    assert not new, f"import cycles between rooms: {new}"
    gone = [f"{sorted(c)} ({why})" for c, why in KNOWN_ROOM_CYCLES.items() if c not in found]
    assert not gone, f"a known cycle is gone or changed: update KNOWN_ROOM_CYCLES: {gone}"


def test_the_check_sees_a_cycle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": {"e"}}
    assert cycles(graph) == [["a", "b", "c"]]
    real = import_graph()
    assert {"dse.core", "dse.config"} <= real["dse.report"]  # load-time imports are seen
    assert "dse.space_checks" not in real["dse.space"]  # an import in a function is not
    assert "dse.search" in real["dse.space"]  # importing a.b.c imports the package a.b
    assert all(m.startswith(PACKAGES) for targets in real.values() for m in targets)
    assert room_graph({"dse.a.x": {"dse.b.y"}, "dse.b.y": {"dse.a.z"}, "dse.a.z": set()}
                      ) == {"dse.a": {"dse.b"}, "dse.b": {"dse.a"}}


if __name__ == "__main__":
    graph = import_graph()
    module_cycles = cycles(graph)
    room_cycles = cycles(room_graph(graph))
    for cycle in module_cycles:
        print("modules: " + " <-> ".join(cycle))
    for cycle in room_cycles:
        known = KNOWN_ROOM_CYCLES.get(frozenset(cycle))
        print("rooms: " + " <-> ".join(cycle) + (f"  (known: {known})" if known else ""))
    unknown = [c for c in room_cycles if frozenset(c) not in KNOWN_ROOM_CYCLES]
    sys.exit(1 if module_cycles or unknown else 0)
