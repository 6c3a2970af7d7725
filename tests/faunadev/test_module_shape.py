"""fauna-dev's modules stay small enough to read: no module past 500 lines, no function past 60, and a docstring on
every public function, class and method (a line saying what it is, or why)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2] / "src" / "gatepass" / "faunadev"
MAX_MODULE_LINES = 500
MAX_FUNCTION_LINES = 60

Definition = ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef


def _definitions(node: ast.AST, prefix: str = "") -> list[tuple[str, Definition, bool]]:
    """(dotted name, node, public) for every function and class; public means no ``_`` on the way down, and not
    nested inside a function."""
    found: list[tuple[str, Definition, bool]] = []
    for child in ast.iter_child_nodes(node):
        if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            name = prefix + child.name
            public = not any(part.startswith("_") for part in name.split("."))
            found.append((name, child, public and not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))))
            found.extend((n, d, p and isinstance(child, ast.ClassDef)) for n, d, p in _definitions(child, name + "."))
    return found


def _modules() -> list[tuple[str, str]]:
    return [(path.name, path.read_text()) for path in sorted(ROOT.glob("*.py"))]


def test_modules_stay_under_500_lines() -> None:
    long = {name: len(text.splitlines()) for name, text in _modules() if len(text.splitlines()) > MAX_MODULE_LINES}
    assert long == {}


def test_functions_stay_under_60_lines() -> None:
    long = [
        f"{module}:{name} ({node.end_lineno - node.lineno + 1} lines)"
        for module, text in _modules()
        for name, node, _ in _definitions(ast.parse(text))
        if not isinstance(node, ast.ClassDef)
        and node.end_lineno is not None
        and node.end_lineno - node.lineno + 1 > MAX_FUNCTION_LINES
    ]
    assert long == []


def test_public_definitions_have_docstrings() -> None:
    missing = [
        f"{module}:{name}"
        for module, text in _modules()
        for name, node, public in _definitions(ast.parse(text))
        if public and ast.get_docstring(node) is None
    ]
    assert missing == []


def test_the_checks_see_nested_and_private_definitions() -> None:
    tree = ast.parse("class A:\n    def b(self):\n        def c(): pass\n    def _d(self): pass\ndef e(): pass\n")
    seen = {name: public for name, _, public in _definitions(tree)}
    assert seen == {"A": True, "A.b": True, "A.b.c": False, "A._d": False, "e": True}
