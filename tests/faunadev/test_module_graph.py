"""fauna-dev's modules import one another without a cycle, counting every import: top-level, inside a function and
under ``if TYPE_CHECKING:``. Handlers reach the evaluator only through ``forms.Evaluation``, so only the HTTP shell
imports ``evaluator``; outside itself, fauna-dev leans on nothing of gatepass but the rank-0 modules."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = "gatepass.faunadev"
ROOT = Path(__file__).resolve().parents[2] / "src" / "gatepass" / "faunadev"
ALLOWED_OUTSIDE = {"gatepass.errors", "gatepass.untrusted"}


def _module_name(path: Path) -> str:
    return PACKAGE if path.stem == "__init__" else f"{PACKAGE}.{path.stem}"


def _imported(node: ast.Import | ast.ImportFrom, module: str) -> list[str]:
    """The gatepass modules one import statement names (``from package import submodule`` names the submodule)."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names if alias.name.startswith("gatepass")]
    if node.level:  # relative: resolve against this module's package
        base = PACKAGE.split(".")[: len(PACKAGE.split(".")) - node.level + 1]
        target = ".".join([*base, *([node.module] if node.module else [])])
    else:
        target = node.module or ""
    if not target.startswith("gatepass"):
        return []
    if target == PACKAGE:
        return [f"{PACKAGE}.{a.name}" if (ROOT / f"{a.name}.py").exists() else PACKAGE for a in node.names]
    return [target]


def import_graph() -> dict[str, set[str]]:
    """Every fauna-dev module and the gatepass modules it imports, wherever the import statement stands."""
    graph: dict[str, set[str]] = {}
    for path in sorted(ROOT.glob("*.py")):
        module = _module_name(path)
        edges = graph.setdefault(module, set())
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                edges.update(name for name in _imported(node, module) if name != module)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Each import cycle once, as the path that closes it (depth-first search, colours white/grey/black)."""
    found: list[list[str]] = []
    state: dict[str, str] = {}
    stack: list[str] = []

    def visit(module: str) -> None:
        state[module] = "grey"
        stack.append(module)
        for target in sorted(graph.get(module, ())):
            if state.get(target) == "grey":
                found.append([*stack[stack.index(target) :], target])
            elif target in graph and target not in state:
                visit(target)
        stack.pop()
        state[module] = "black"

    for module in sorted(graph):
        if module not in state:
            visit(module)
    return found


def test_the_graph_sees_every_kind_of_import() -> None:
    graph = import_graph()
    assert "gatepass.faunadev.evaluator" in graph["gatepass.faunadev.server"]  # top-level
    assert len(graph) == len(list(ROOT.glob("*.py")))


def test_the_cycle_finder_finds_cycles() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == [["a", "b", "c", "a"]]
    assert cycles({"a": {"a2"}, "a2": set(), "b": {"a"}}) == []


def test_no_import_cycles_among_faunadev_modules() -> None:
    assert cycles(import_graph()) == []


def test_only_the_http_shell_imports_the_evaluator() -> None:
    importers = {module for module, edges in import_graph().items() if f"{PACKAGE}.evaluator" in edges}
    assert importers == {f"{PACKAGE}.server"}


def test_faunadev_imports_nothing_of_gatepass_but_itself_and_rank_zero() -> None:
    outside = {
        f"{module} imports {target}"
        for module, edges in import_graph().items()
        for target in edges
        if not (target == PACKAGE or target.startswith(PACKAGE + ".")) and target not in ALLOWED_OUTSIDE
    }
    assert outside == set()
